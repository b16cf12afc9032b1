use clap::Parser;

// Requests allocate and free buffers of up to 32 MiB many times a second; glibc's
// malloc returns them to the kernel each time, mimalloc keeps and reuses them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use promscope::cli::Command;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut cli = promscope::cli::Cli::parse();
    match cli.command.take() {
        Some(Command::Send(args)) => promscope::send::main(args).await,
        None => promscope::inspect::main(cli).await,
    }
}
