use clap::Parser;
use promscope::cli::Command;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut cli = promscope::cli::Cli::parse();
    match cli.command.take() {
        Some(Command::Send(args)) => promscope::send::run(args).await,
        None => promscope::inspect::run(cli).await,
    }
}
