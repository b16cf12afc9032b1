//! `promscope send`: a remote-write load generator for demos, tests and benchmarks.
//!
//! ```text
//! workload (pure: templates ─▶ prost ─▶ snappy) ─▶ client (N tasks, HTTP) ─▶ stats (atomics)
//! ```
//!
//! In-process use (e.g. a demo feeding the dashboard): build a [`SendConfig`],
//! share an `Arc<SendStats>`, and drive [`send_load`] with a `watch` stop signal;
//! read [`SendStats::snapshot`] while it runs.
//!
//! `--write-bodies DIR --count N` writes `DIR/body-0000.bin` … `DIR/body-{N-1}.bin`
//! (snappy-compressed protobuf, numbers zero-padded to 4 digits, wider past 9999)
//! and `DIR/headers.txt`, one `Name: value` header line per request header, for
//! replay by an external load tool.

mod client;
mod config;
mod stats;
mod workload;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use tokio::sync::watch;

use crate::signal::Termination;

pub use client::{Clock, HttpClient, http_client, post, send_load};
pub use config::{DEFAULT_URL, SendConfig, SendError};
pub use stats::{Delivery, Report, SendStats, Snapshot, progress_line};
pub use workload::{
    Body, LABELS_PER_SERIES, Workload, WorkloadConfig, WorkloadError, headers, metric_name,
    series_labels,
};

/// How often the progress line is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// Arguments of `promscope send`.
#[derive(Debug, clap::Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub config: SendConfig,

    /// Instead of sending, write --count bodies to DIR as body-0000.bin, ... plus
    /// headers.txt (one `Name: value` line per header), for replay by another tool.
    #[arg(long, value_name = "DIR")]
    pub write_bodies: Option<PathBuf>,

    /// Bodies written by --write-bodies.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 16,
        requires = "write_bodies"
    )]
    pub count: usize,
}

/// Runs `promscope send`: progress on stderr every few seconds, a summary at the
/// end; fails when no request succeeded.
pub async fn main(args: SendArgs) -> anyhow::Result<()> {
    let config = args.config;
    if let Some(dir) = &args.write_bodies {
        let bytes = write_bodies(dir, config.workload, args.count)?;
        eprintln!(
            "promscope send: wrote {} bodies ({}) and headers.txt to {}",
            args.count,
            crate::format::bytes(bytes as f64),
            dir.display()
        );
        return Ok(());
    }
    let stats = Arc::new(SendStats::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut termination = Termination::catch()?;
    tokio::spawn(async move {
        termination.recv().await;
        let _ = stop_tx.send(true);
    });
    let w = &config.workload;
    eprintln!(
        "promscope send: {} to {}: {} series, {} samples per request, {} in flight{} (Ctrl-C to stop)",
        w.protocol.name(),
        config.url,
        w.series(),
        w.series_per_request(),
        config.concurrency,
        if config.precompute.is_some() {
            ", precomputed bodies"
        } else {
            ""
        },
    );
    let sending = send_load(&config, stats.clone(), stop_rx);
    with_progress("promscope send", &stats, sending).await?;
    if stats.snapshot().ok == 0 {
        bail!("no request succeeded");
    }
    Ok(())
}

/// Runs `sending` while printing `who: <progress>` on stderr every few
/// seconds, then, if it succeeded, the report of `stats`.
pub async fn with_progress<T, E>(
    who: &str,
    stats: &SendStats,
    sending: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let started = Instant::now();
    tokio::pin!(sending);
    let mut ticker =
        tokio::time::interval_at(tokio::time::Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
    let mut last = (Instant::now(), stats.snapshot());
    let result = loop {
        tokio::select! {
            result = &mut sending => break result,
            _ = ticker.tick() => {
                let now = (Instant::now(), stats.snapshot());
                let secs = now.0.duration_since(last.0).as_secs_f64();
                eprintln!("{who}: {}", progress_line(&last.1, &now.1, secs));
                last = now;
            }
        }
    };
    if result.is_ok() {
        eprintln!("{}", stats.report(started.elapsed()));
    }
    result
}

/// Writes `count` bodies as `dir/body-0000.bin`, ... and the request headers as
/// `dir/headers.txt` (`Name: value` lines); returns the bytes of bodies written.
pub fn write_bodies(
    dir: &std::path::Path,
    workload: WorkloadConfig,
    count: usize,
) -> Result<u64, SendError> {
    let failed = |path: &std::path::Path, e: std::io::Error| SendError::WriteBodies {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let protocol = workload.protocol;
    let mut w = Workload::new(workload)?;
    std::fs::create_dir_all(dir).map_err(|e| failed(dir, e))?;
    let clock = Clock::default();
    let mut written = 0;
    for seq in 0..count {
        let body = w.build(seq as u64, clock.next());
        let path = dir.join(format!("body-{seq:04}.bin"));
        std::fs::write(&path, &body.bytes).map_err(|e| failed(&path, e))?;
        written += body.bytes.len() as u64;
    }
    let headers: String = workload::headers(protocol)
        .iter()
        .map(|(name, value)| format!("{name}: {value}\n"))
        .collect();
    let path = dir.join("headers.txt");
    std::fs::write(&path, headers).map_err(|e| failed(&path, e))?;
    Ok(written)
}
