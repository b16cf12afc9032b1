//! `promscope check`: the problem rules as a CI step. Receives remote-write
//! for `--duration` or until `--requests N` (or reads a capture), then prints
//! the problems found grouped by rule, and exits 1 if a rule at `--fail-on`
//! severity or worse fired (errors by default).
//!
//! ```text
//! receiver (or capture file) ─▶ Checker (as live) ─▶ report::Tally ─▶ text | JSON, exit code
//! ```

mod refusals;
pub mod report;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::ingest::queue;
use crate::ingest::server::{self, Limits, Receiver, ReceiverStats, Security};
use crate::problems::Severity;
use crate::signal::Termination;
use report::Tally;

/// Exit status when a rule at `--fail-on` or worse fired.
pub const EXIT_FAILED: u8 = 1;
/// Exit status when the check could not run (a file unreadable, a port taken).
pub const EXIT_ERROR: u8 = 2;

/// Arguments of `promscope check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// A capture (promscope --record FILE) or packet capture (tcpdump -w) to check, instead of receiving.
    pub file: Option<PathBuf>,

    /// Address to receive remote-write on [default: the top-level --listen
    /// (or a --config file's `listen`), 127.0.0.1:9201].
    #[arg(long, value_name = "ADDR", conflicts_with = "file")]
    pub listen: Option<std::net::SocketAddr>,

    /// Receive for this long, then report (e.g. 30s, 2m).
    #[arg(long, value_parser = crate::format::parse_duration, value_name = "DURATION", conflicts_with = "file")]
    pub duration: Option<Duration>,

    /// Report once this many requests arrived (with --duration: whichever comes first).
    #[arg(long, value_name = "N", conflicts_with = "file")]
    pub requests: Option<u64>,

    /// The least severity that fails the check (exit 1).
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,

    /// text for people, json for machines (one object).
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,

    #[command(flatten)]
    pub problems: crate::ingest::check::settings::ProblemFlags,
}

impl CheckArgs {
    /// Where to receive: `--listen`, else 127.0.0.1:9201.
    pub fn address(&self) -> std::net::SocketAddr {
        self.listen
            .unwrap_or(std::net::SocketAddr::from(([127, 0, 0, 1], 9201)))
    }
}

/// `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

impl FailOn {
    fn severity(self) -> Severity {
        match self {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Info => Severity::Info,
        }
    }
}

/// `--format` of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

/// Runs `promscope check` with the receiver's `limits` (its problem checker
/// switched by every --rule and --limit) and `security` (TLS and credentials
/// of --web.config.file and --auth-token-file, as the live receiver has them);
/// the exit code says the verdict.
pub async fn main(limits: Limits, security: Security, args: CheckArgs) -> anyhow::Result<ExitCode> {
    let (tally, source) = match &args.file {
        Some(file) => (read_file(file, limits).await?, file.display().to_string()),
        None => {
            if args.duration.is_none() && args.requests.is_none() {
                bail!(
                    "promscope check needs --duration, --requests or a capture FILE to know when to report"
                );
            }
            let (tally, local) = receive(&args, limits, security).await?;
            (tally, local.to_string())
        }
    };
    let fail_on = args.fail_on.severity();
    let report = match args.format {
        CheckFormat::Text => tally.text(fail_on, &source),
        CheckFormat::Json => tally.json(fail_on) + "\n",
    };
    print!("{report}");
    Ok(if tally.fails(fail_on) {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Checks every request of a capture, as the receiver checked it live (read
/// on two threads as a replay reads it).
async fn read_file(file: &std::path::Path, limits: Limits) -> anyhow::Result<Tally> {
    let path = file.to_owned();
    let read = tokio::task::spawn_blocking(move || {
        let mut tally = Tally::new();
        let end = crate::replay::read_all(&path, limits, |batch| tally.add(&batch))?;
        end.finish(&path, ("check", "checked"))?;
        Ok::<Tally, anyhow::Error>(tally)
    });
    read.await.context("the capture reader crashed")?
}

/// Receives until the duration is up, the requests are in, or a signal;
/// gives what it received and where it listened (the port chosen for `:0`).
async fn receive(
    args: &CheckArgs,
    limits: Limits,
    security: Security,
) -> anyhow::Result<(Tally, std::net::SocketAddr)> {
    let mut termination = Termination::catch().context("cannot catch termination signals")?;
    let address = args.address();
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address} (try --listen)"))?;
    let local = listener.local_addr().unwrap_or(address);
    let until = match (args.duration, args.requests) {
        (Some(d), Some(n)) => format!(
            "for {} or until {n} requests",
            crate::format::duration_secs(d.as_secs_f64())
        ),
        (Some(d), None) => format!("for {}", crate::format::duration_secs(d.as_secs_f64())),
        (None, Some(n)) => format!("until {n} requests"),
        (None, None) => String::new(),
    };
    eprintln!(
        "promscope check: receiving remote-write on {} {until} (Ctrl-C to report now)",
        security.access.url(local)
    );
    let (tx, mut rx) = queue::channel(64);
    let stats = Arc::new(ReceiverStats::default());
    let receiver = Receiver::new(tx, limits, stats.clone()).with_security(security);
    let (stop_tx, mut stop_rx) = watch::channel(false);
    let server = tokio::spawn(server::serve(listener, receiver, async move {
        let _ = stop_rx.changed().await;
    }));
    let deadline = args.duration.map(|d| tokio::time::Instant::now() + d);
    let mut tally = Tally::new();
    loop {
        let timeout = server::sleep_until(deadline);
        tokio::select! {
            queued = rx.recv() => match queued {
                Some(queued) => tally.add(queued.batch()),
                None => break,
            },
            () = timeout => break,
            _ = termination.recv() => break,
        }
        if args.requests.is_some_and(|n| tally.requests >= n) {
            break;
        }
    }
    let _ = stop_tx.send(true);
    // What was acknowledged before the stop is counted too.
    while let Ok(queued) = rx.try_recv() {
        tally.add(queued.batch());
    }
    drop(rx);
    let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
    tally.not_checked = stats.dropped_requests.load(Ordering::Relaxed);
    Ok((tally, local))
}
