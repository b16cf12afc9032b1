//! `promscope replay FILE`: the requests of a capture (or of a tcpdump packet
//! capture) again, printed as headless mode printed them live, or re-sent to a
//! receiver, at the recorded pace (times `--speed`) or as fast as possible.
//!
//! ```text
//! file ─▶ capture::open ─▶ requests::unpack ─▶ paced ─┬▶ requests::batch ─▶ channel ─▶ output (headless)
//!        (a thread: read, digests checked, bodies      ├▶ requests::batch ─▶ channel ─▶ tui (dashboard)
//!         decompressed)              (a second thread) └▶ requests::resend_request ─▶ send::post ─▶ SendStats
//! ```
//!
//! The pace, pauses and the dashboard's clock are [`crate::app::replay`]'s.

mod dashboard;
mod options;
pub(crate) mod requests;

pub use options::{Live, Mode, Setup, setup};

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use anyhow::{Context, bail};
use hyper::Uri;
use tokio::sync::{mpsc, watch};

use crate::app::replay::{SharedReplay, epoch_ms};
use crate::capture::{self, Damage, Exchange};
use crate::ingest::model::Protocol;
use crate::ingest::queue::Queued;
use crate::ingest::server::{Limits, ReceiverStats};
use crate::output::cardinality::CardinalityTracker;
use crate::output::{self, Format, HeadlessExit};
use crate::send::{self, Body, SendStats};
use crate::signal::Termination;
use crate::summary::RunSummary;
use requests::Unpacked;

/// Requests read ahead of the one being printed or sent.
const READ_AHEAD: usize = 16;

/// Arguments of `promscope replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// A capture (`promscope --record FILE`) or a packet capture (`tcpdump -w`, pcap or pcapng).
    pub file: PathBuf,

    /// Print the requests' records as `promscope --no-tui` printed them live (without it and --to: the dashboard).
    #[arg(long)]
    pub no_tui: bool,

    /// What --no-tui prints: text lines, JSON lines, or only the summary [default: the top-level --format (or a --config file's), text].
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Re-send the requests, with their headers, to this remote-write URL (http://), reporting statuses as `promscope send` does.
    #[arg(long, value_name = "URL", conflicts_with = "no_tui")]
    pub to: Option<String>,

    /// Pace: N times the recorded pace (the gaps between requests kept, divided by N), or `max` for as fast as possible. Default: max with --no-tui, 1 with --to.
    #[arg(long, value_name = "N|max", value_parser = parse_speed)]
    pub speed: Option<Speed>,

    /// In the dashboard: series kept, as `promscope --max-series`; beyond this the least recently seen are evicted (and counted) [default: the top-level --max-series (or a --config file's), 1000000].
    #[arg(long, value_name = "N", conflicts_with_all = ["no_tui", "to"])]
    pub max_series: Option<usize>,

    /// In the dashboard: bytes the series may hold, as `promscope --max-store-bytes` [default: the top-level one (or a --config file's)].
    #[arg(long, value_name = "BYTES", conflicts_with_all = ["no_tui", "to"])]
    pub max_store_bytes: Option<usize>,

    /// The problem rules are checked as live mode checks them: --rule and
    /// --limit before `replay`, a --config file's, then these.
    #[command(flatten)]
    pub problems: crate::ingest::check::settings::ProblemFlags,
}

pub use crate::app::replay::Speed;

fn parse_speed(text: &str) -> Result<Speed, String> {
    if text.eq_ignore_ascii_case("max") {
        return Ok(Speed::Max);
    }
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 => Ok(Speed::Times(n)),
        _ => Err(format!(
            "{text:?} is not a speed: a positive number (2 = twice the recorded pace) or max"
        )),
    }
}

/// What reading a file came to.
#[derive(Default)]
pub(crate) struct ReadEnd {
    requests: u64,
    damage: Option<Damage>,
    skipped: u64,
    notes: Vec<String>,
}

/// Reads `file` on a thread of its own, each request when `replay` says it
/// is due (paced, not paused), and hands each request, made into whatever
/// `convert` returns, to the channel; stops early when the channel closes.
/// The capture is read through [`capture::open`], as any other reader may,
/// on a second thread ([`read_ahead`]) that also decompresses each body within
/// `limits` ([`requests::unpack`]): reading, checking the records and
/// decompressing take a core while `convert` (decoding and checking the
/// requests: [`requests::batch`]) takes another.
pub(crate) fn read_paced<T: Send + 'static>(
    file: &std::path::Path,
    (replay, limits): (Arc<SharedReplay>, Limits),
    convert: impl Fn(Exchange, Unpacked) -> Option<T> + Send + 'static,
) -> anyhow::Result<(mpsc::Receiver<T>, std::thread::JoinHandle<ReadEnd>)> {
    let (exchanges, source) = read_ahead(capture::open(file)?, limits)?;
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    let reader = std::thread::Builder::new()
        .name("replay-reader".into())
        .spawn(move || {
            let mut end = ReadEnd::default();
            for item in exchanges.iter() {
                let (exchange, unpacked) = match item {
                    Ok(read) => read,
                    Err(damage) => {
                        end.damage = Some(damage);
                        break;
                    }
                };
                if !replay.wait_turn(epoch_ms(exchange.received_at)) {
                    break;
                }
                end.requests += 1;
                match convert(exchange, unpacked) {
                    Some(item) => {
                        if tx.blocking_send(item).is_err() {
                            break;
                        }
                    }
                    None => replay.passed_over(),
                }
            }
            // The source stops at its next record once nobody takes them.
            drop(exchanges);
            // A crash there is this thread's, as when it read the capture itself.
            (end.skipped, end.notes) = source
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            replay.end(end.damage.as_ref().map_or(Ok(()), |d| Err(d.to_string())));
            end
        })?;
    Ok((rx, reader))
}

/// Exchanges read ahead of the one being decoded (each holds its body, and
/// its body decompressed).
const EXCHANGES_AHEAD: usize = 4;

/// What a capture's reader hands over, in order: exchanges (unpacked), then
/// any damage.
type Exchanges = std::sync::mpsc::Receiver<Result<(Exchange, Unpacked), Damage>>;

/// What [`capture::Source`] says once read: records skipped, and notes.
type SourceEnd = std::thread::JoinHandle<(u64, Vec<String>)>;

/// A thread that reads `source` into a channel, each exchange unpacked
/// within `limits`, [`EXCHANGES_AHEAD`] ahead of what is taken from it, until
/// it ends or the receiver is dropped.
fn read_ahead(
    mut source: Box<dyn capture::Source>,
    limits: Limits,
) -> std::io::Result<(Exchanges, SourceEnd)> {
    let (tx, rx) = std::sync::mpsc::sync_channel(EXCHANGES_AHEAD);
    let thread = std::thread::Builder::new()
        .name("replay-source".into())
        .spawn(move || {
            for item in source.by_ref() {
                let item = item.map(|e| {
                    let unpacked = requests::unpack(&e, &limits);
                    (e, unpacked)
                });
                if tx.send(item).is_err() {
                    break;
                }
            }
            (source.skipped(), source.notes())
        })?;
    Ok((rx, thread))
}

/// Runs `promscope replay` as `setup` says (see [`setup`]): requests are
/// decoded and checked within its limits (the receiver's, with every --rule
/// and --limit), as live mode did.
pub async fn main(args: ReplayArgs, setup: Setup) -> anyhow::Result<()> {
    without_huge_pages();
    let termination = Termination::catch().context("cannot catch termination signals")?;
    let limits = setup.limits;
    match setup.mode {
        Mode::Resend(url) => resend(&args, &url, limits, termination).await,
        Mode::Headless(format, report) => {
            headless(&args, (limits, format, report), termination).await
        }
        Mode::Dashboard(dashboard) => dashboard::run(&args, (limits, dashboard), termination).await,
    }
}

/// Turns transparent huge pages off for this process. A replay allocates and
/// frees each request's vectors flat out, and the allocator hands freed memory
/// back to the kernel: as huge pages, each first touch after that had the
/// kernel zero 2 MiB (`clear_page_erms` took a fifth of the decoding thread's
/// time; system CPU 0.06-0.38 s against 0.03-0.06 s without them, and half the
/// resident memory, replaying 2M samples).
fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and changes only how this
    // process's memory is backed; a kernel without it says EINVAL, ignored.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Says how reading ended: an error when the file was damaged.
pub(crate) fn finish(file: &std::path::Path, end: ReadEnd) -> anyhow::Result<()> {
    end.finish(file, ("replay", "replayed"))
}

impl ReadEnd {
    /// How a command (`replay`, `replayed`) that read `file` to this end
    /// says it ended: notes on stderr, an error when the file was damaged.
    pub(crate) fn finish(
        self,
        file: &std::path::Path,
        (command, done): (&str, &str),
    ) -> anyhow::Result<()> {
        if self.skipped > 0 {
            eprintln!(
                "promscope {command}: skipped {} records of {} that hold no remote-write request",
                self.skipped,
                file.display()
            );
        }
        for note in &self.notes {
            eprintln!(
                "promscope {command}: {}: {}",
                file.display(),
                crate::text::escape::escaped(note)
            );
        }
        match self.damage {
            None => Ok(()),
            Some(damage) => bail!(
                "{}: {damage}; the {} requests before it were {done}",
                file.display(),
                self.requests
            ),
        }
    }
}

/// Reads `file` whole on two threads, as a replay at full speed does
/// ([`read_ahead`]), giving each request's batch (none for vmagent's
/// handshake) to `each`; returns how reading ended.
pub(crate) fn read_all(
    file: &std::path::Path,
    limits: Limits,
    mut each: impl FnMut(crate::ingest::model::Batch),
) -> anyhow::Result<ReadEnd> {
    let (exchanges, source) = read_ahead(capture::open(file)?, limits.clone())?;
    let mut end = ReadEnd::default();
    for item in exchanges.iter() {
        match item {
            Ok((exchange, unpacked)) => {
                end.requests += 1;
                if let Some(batch) = requests::batch(unpacked, &exchange, &limits) {
                    each(batch);
                }
            }
            Err(damage) => {
                end.damage = Some(damage);
                break;
            }
        }
    }
    // The source stops at its next record once nobody takes them.
    drop(exchanges);
    (end.skipped, end.notes) = source
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    Ok(end)
}

async fn headless(
    args: &ReplayArgs,
    (limits, format, report): (Limits, Format, Option<Box<CardinalityTracker>>),
    mut termination: Termination,
) -> anyhow::Result<()> {
    let speed = args.speed.unwrap_or(Speed::Max);
    // The report's "now": the latest request's arrival, as it was live.
    let latest_ms = Arc::new(AtomicI64::new(i64::MIN));
    let latest = latest_ms.clone();
    // Read from a file at the pace the output takes it: no budget to hold.
    let unpacking = limits.clone();
    let stats = Arc::new(ReceiverStats::default());
    let counted = stats.clone();
    let convert = move |e: Exchange, unpacked| {
        latest.fetch_max(epoch_ms(e.received_at), Ordering::Relaxed);
        let batch = requests::batch(unpacked, &e, &limits)?;
        requests::count_forwarded(&counted, &e, &batch);
        Some(Queued::from(batch))
    };
    let replay = Arc::new(SharedReplay::new(args.file.display().to_string(), speed));
    let (rx, reader) = read_paced(&args.file, (replay, unpacking), convert)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let summary = RunSummary::new(stats);
    let printing = output::print_batches(rx, format, (summary, report), stop_rx);
    tokio::pin!(printing);
    let exit = tokio::select! {
        exit = &mut printing => exit,
        _ = termination.recv() => {
            let _ = stop_tx.send(true);
            printing.await
        }
    }?;
    let end = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the replay reader crashed"))?;
    match exit {
        HeadlessExit::Shutdown(summary, report) => {
            if let Some(report) = report {
                let now = latest_ms.load(Ordering::Relaxed);
                // A closed stdout is no reason to fail (nor to panic, as print! would).
                let text = report.report(format, now);
                let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
            }
            eprintln!("{summary}")
        }
        HeadlessExit::PipeClosed => return Ok(()),
    }
    finish(&args.file, end)
}

/// A request to re-send and what it carried (for the Written check).
struct Resend {
    request: hyper::Request<http_body_util::Full<bytes::Bytes>>,
    protocol: Protocol,
    body: Body,
}

async fn resend(
    args: &ReplayArgs,
    url: &str,
    limits: Limits,
    mut termination: Termination,
) -> anyhow::Result<()> {
    let to: Uri = url
        .parse()
        .ok()
        .filter(|u: &Uri| u.scheme_str() == Some("http") && u.host().is_some())
        .with_context(|| format!("--to {url:?} is not an http:// URL"))?;
    let target = to.clone();
    let unsendable = Arc::new(AtomicU64::new(0));
    let not_sent = unsendable.clone();
    let unpacking = limits.clone();
    let convert = move |e: Exchange, unpacked| {
        // A body not recorded whole cannot be sent again as it was.
        if !e.body_complete {
            not_sent.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let batch = requests::batch(unpacked, &e, &limits)?;
        let counts = batch.data.counts();
        Some(Resend {
            request: requests::resend_request(&e, &target),
            protocol: batch.info.protocol.unwrap_or(Protocol::V1),
            body: Body {
                bytes: e.body.clone(),
                samples: counts.samples,
                histograms: counts.histograms,
            },
        })
    };
    let speed = args.speed.unwrap_or(Speed::Times(1.0));
    let replay = Arc::new(SharedReplay::new(args.file.display().to_string(), speed));
    let (mut rx, reader) = read_paced(&args.file, (replay, unpacking), convert)?;
    eprintln!(
        "promscope replay: re-sending the requests of {} to {url} (Ctrl-C to stop)",
        args.file.display()
    );
    let stats = Arc::new(SendStats::default());
    let client = send::http_client(1);
    let sending = async {
        // One at a time, in recorded order: receivers judge samples by their order.
        loop {
            let r = tokio::select! {
                r = rx.recv() => match r {
                    Some(r) => r,
                    None => break,
                },
                _ = termination.recv() => break,
            };
            let delivery = send::post(&client, r.request, r.protocol, &r.body).await;
            stats.record(r.body.bytes.len() as u64, delivery);
        }
        Ok::<(), std::convert::Infallible>(())
    };
    let Ok(()) = send::with_progress("promscope replay", &stats, sending).await;
    drop(rx);
    let end = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the replay reader crashed"))?;
    let unsendable = unsendable.load(Ordering::Relaxed);
    if unsendable > 0 {
        eprintln!(
            "promscope replay: {unsendable} requests not re-sent: promscope refused them before reading their bodies whole, so their bodies were not recorded"
        );
    }
    finish(&args.file, end)?;
    if stats.snapshot().requests > 0 && stats.snapshot().ok == 0 {
        bail!("no request succeeded");
    }
    Ok(())
}
