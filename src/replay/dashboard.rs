//! `promscope replay FILE` into the dashboard: the capture's requests reach it
//! through the channel live traffic takes, on the replay's clock (see
//! [`crate::app::replay`]); a second reader counts the capture for the header.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;

use super::{ReplayArgs, Speed, finish, read_paced, requests};
use crate::app::replay::{CaptureTotals, SharedReplay, epoch_ms};
use crate::capture::{self, Exchange};
use crate::ingest::queue::Queued;
use crate::ingest::server::{Access, Limits, ReceiverStats};
use crate::signal::Termination;
use crate::summary::RunSummary;
use crate::tui::{self, Dashboard, DashboardExit, DashboardLimits};

/// How long the dashboard has to stop once asked.
const GRACE: Duration = Duration::from_secs(3);

/// Runs the dashboard on the requests of `args.file` until the user quits.
/// Requests are decoded and checked within `limits`; the dashboard keeps
/// series and holds pauses within `dashboard_limits` (see [`super::setup`]).
pub async fn run(
    args: &ReplayArgs,
    (limits, dashboard_limits): (Limits, DashboardLimits),
    mut termination: Termination,
) -> anyhow::Result<()> {
    let speed = args.speed.unwrap_or(Speed::Max);
    let replay = Arc::new(SharedReplay::new(args.file.display().to_string(), speed));
    let stats = Arc::new(ReceiverStats::default());
    // What live mode prints after quitting, of the requests handed over.
    let summary = Arc::new(Mutex::new(RunSummary::new(stats.clone())));
    let recorded = summary.clone();
    let unpacking = limits.clone();
    let counted = stats.clone();
    let convert = move |e: Exchange, unpacked| {
        let mut batch = requests::batch(unpacked, &e, &limits)?;
        requests::count_forwarded(&counted, &e, &batch);
        if let Ok(mut summary) = recorded.lock() {
            summary.record(&batch);
        }
        batch.info.raw = Some(Arc::new(requests::raw_request(e)));
        Some(Queued::from(batch))
    };
    let (rx, reader) = read_paced(&args.file, (replay.clone(), unpacking), convert)?;
    // After opening: a file that is not a capture says so first.
    tui::check_terminal()?;
    count(&args.file, replay.clone());
    // Nobody listens: the address is shown nowhere while replaying.
    let nowhere = (
        std::net::SocketAddr::from(([0, 0, 0, 0], 0)),
        Access::default(),
    );
    let mut dashboard =
        Dashboard::start(rx, stats, nowhere, dashboard_limits, Some(replay.clone()))?;
    let ended = tokio::select! {
        ended = dashboard.finished() => ended,
        _ = termination.recv() => dashboard.stop(GRACE).await,
    };
    replay.cancel();
    match ended {
        // The channel is closed once the dashboard returned: the reader ends.
        DashboardExit::Returned(store) => drop(store?),
        DashboardExit::Panicked => anyhow::bail!("the dashboard crashed (the message is above)"),
        DashboardExit::Wedged => anyhow::bail!(
            "the dashboard stopped responding and did not stop within {}s; the terminal was restored without it",
            GRACE.as_secs()
        ),
    }
    let end = tokio::task::spawn_blocking(move || reader.join())
        .await
        .context("the replay reader's waiter failed")?
        .map_err(|_| anyhow::anyhow!("the replay reader crashed"))?;
    if let Ok(summary) = summary.lock() {
        eprintln!("{summary}");
    }
    finish(&args.file, end)
}

/// Counts the requests of `file` and the time they span, on a thread of its
/// own at a low priority, for the header's "of" figures.
fn count(file: &Path, replay: Arc<SharedReplay>) {
    let Ok(source) = capture::open(file) else {
        return;
    };
    let counting = move || {
        crate::priority::low();
        let (mut requests, mut first, mut last) = (0, None, 0);
        for item in source {
            let Ok(exchange) = item else { break };
            if replay.is_cancelled() {
                return;
            }
            let at = epoch_ms(exchange.received_at);
            requests += 1;
            first.get_or_insert(at);
            last = at;
        }
        replay.set_totals(CaptureTotals {
            requests,
            span_ms: first.map_or(0, |first| last - first),
        });
    };
    // Without the counter the header says less; the replay goes on.
    let _ = std::thread::Builder::new()
        .name("replay-counter".into())
        .spawn(counting);
}
