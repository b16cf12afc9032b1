use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = promscope::cli::Cli::parse();
    promscope::inspect::run(cli).await
}
