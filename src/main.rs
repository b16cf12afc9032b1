use std::io::Write;
use std::process::ExitCode;

// Requests allocate and free buffers of up to 32 MiB many times a second; glibc's
// malloc returns them to the kernel each time, mimalloc keeps and reuses them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use promscope::cli::Command;

#[tokio::main]
async fn main() -> ExitCode {
    let mut cli = match promscope::config::cli_from(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = writeln!(std::io::stderr().lock(), "Error: {error}");
            return ExitCode::from(2);
        }
    };
    let ended = match cli.command.take() {
        Some(Command::Send(args)) => promscope::send::main(args).await,
        Some(Command::Replay(args)) => replay(cli, args).await,
        Some(Command::Check(args)) => match check(cli, args).await {
            Ok(verdict) => return verdict,
            Err(error) => {
                let _ = writeln!(std::io::stderr().lock(), "Error: {error:#}");
                return ExitCode::from(promscope::check::EXIT_ERROR);
            }
        },
        None => promscope::inspect::main(cli).await,
    };
    match ended {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The error and its causes on one line, and no stack trace even with
            // RUST_BACKTRACE set (as returning the error would print): these are
            // the user's problems to act on, not the program's.
            let _ = writeln!(std::io::stderr().lock(), "Error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `promscope check`, with the top-level options (receiver limits, --rule and
/// --limit, a --config file's) and its own --rule and --limit after them.
async fn check(
    mut cli: promscope::cli::Cli,
    mut args: promscope::check::CheckArgs,
) -> anyhow::Result<ExitCode> {
    // Its own --listen, else the top-level one (or the --config file's).
    args.listen = args.listen.or(Some(cli.listen));
    let limits = cli
        .limits_with(&args.problems)
        .map_err(anyhow::Error::msg)?;
    // TLS and credentials as the live receiver has them.
    let security = promscope::ingest::server::Security::load(
        cli.web_config_file.as_deref(),
        cli.auth_token_file.as_deref(),
    )
    .map_err(anyhow::Error::msg)?;
    promscope::check::main(limits, security, args).await
}

/// `promscope replay`, checking requests as live mode would with the same
/// options: --rule and --limit before and after `replay`, a --config file's,
/// the decoding limits, the store's and the pause's; and printing records
/// where live mode would (--no-tui, --format, --report, a --config file's).
async fn replay(
    mut cli: promscope::cli::Cli,
    args: promscope::replay::ReplayArgs,
) -> anyhow::Result<()> {
    let setup = cli.replay_setup(&args).map_err(anyhow::Error::msg)?;
    promscope::replay::main(args, setup).await
}
