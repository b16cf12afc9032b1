//! Wires the receiver to its consumer (the dashboard, or headless output) and
//! ends the run on a termination signal: the receiver stops taking requests,
//! everything it acknowledged is printed (headless: with what it held back,
//! failed TLS handshakes being folded) or counted, the terminal is restored,
//! and the summary goes to stderr.

use std::fmt::Display;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::capture::{RecordLimits, RecordSummary, Recorder};
use crate::cli::Cli;
use crate::ingest::forward::Forwarder;
use crate::ingest::queue::{self, QueueReceiver, QueueSender};
use crate::ingest::server::{self, Access, Receiver, ReceiverStats, Security};
use crate::output;
use crate::output::cardinality::CardinalityTracker;
use crate::signal::Termination;
use crate::summary::RunSummary;
use crate::tui::{self, Dashboard};

/// Batches that may wait between the receiver and the consumer; beyond this the
/// receiver waits (backpressure) and senders see slower responses. What they
/// take is bounded by the receiver's budget too (`--max-bytes-in-flight`).
const QUEUE_BATCHES: usize = 64;
/// Batches between the summary's recorder and the dashboard: few, so that what
/// waits in all stays near [`QUEUE_BATCHES`].
const DASHBOARD_QUEUE: usize = 4;
/// How long the dashboard gets to stop after a signal before the terminal is
/// restored without it.
const DASHBOARD_GRACE: Duration = Duration::from_secs(3);
/// How long, after a signal, forwarded requests still waiting for inspection
/// get to reach the output before the rest is counted as not inspected.
const INSPECTION_GRACE: Duration = Duration::from_secs(5);

/// Runs the inspector until interrupted.
pub async fn main(cli: Cli) -> anyhow::Result<()> {
    if !cli.no_tui {
        tui::check_terminal()?;
    }
    let limits = cli.receiver_limits().map_err(anyhow::Error::msg)?;
    let security = Security::load(
        cli.web_config_file.as_deref(),
        cli.auth_token_file.as_deref(),
    )
    .map_err(anyhow::Error::msg)?;
    let forward = cli.forward_config();
    let forward_threads = forward.as_ref().map(|config| config.threads);
    let forwarder = forward
        .map(|config| Forwarder::new(&config, security.auth.is_some()))
        .transpose()
        .map_err(anyhow::Error::msg)?;
    if cli.demo && (security.tls.is_some() || security.auth.is_some()) {
        anyhow::bail!(
            "--demo sends plain HTTP without credentials: it cannot be combined with --web.config.file or --auth-token-file"
        );
    }
    let access = security.access;
    // Before anything starts, so that no signal finds the default action (death).
    let termination = Termination::catch().context("cannot catch termination signals")?;
    let listener = TcpListener::bind(cli.listen).await.with_context(|| {
        format!(
            "cannot listen on {} (is another promscope or exporter using it? try --listen)",
            cli.listen
        )
    })?;
    let local = listener.local_addr().unwrap_or(cli.listen);
    let (tx, rx) = queue::channel(QUEUE_BATCHES);
    let stats = Arc::new(ReceiverStats::forwarding(
        forwarder.as_ref().map(|f| f.stats.clone()),
    ));
    let mut receiver = Receiver::new(tx, limits, stats.clone()).with_security(security);
    if !cli.no_tui {
        receiver = receiver.keeping_requests();
    }
    let forwarding_to = forwarder.as_ref().map(|f| f.backend().to_owned());
    if let Some(forwarder) = forwarder {
        receiver = receiver
            .with_forward(forwarder)
            .context("cannot start the inspection thread")?;
    }
    let recorder = match &cli.record {
        Some(path) => Some(start_recording(path, cli.record_max_bytes)?),
        None => None,
    };
    if let Some(recorder) = &recorder {
        receiver = receiver.with_recording(recorder.handle());
    }
    let receiver = Arc::new(receiver);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut server_stop = stop_rx.clone();
    let server_stopped = async move {
        let _ = server_stop.changed().await;
    };
    match forward_threads {
        Some(threads) => server::serve_apart(listener, receiver.clone(), server_stopped, threads)
            .context("cannot start the forwarding threads")?,
        None => drop(tokio::spawn(server::serve(
            listener,
            receiver.clone(),
            server_stopped,
        ))),
    }
    if cli.demo {
        crate::demo::start(local, stop_rx.clone());
    }
    let stop = Stop {
        termination,
        tx: stop_tx,
        rx: stop_rx,
    };
    let ended = if cli.no_tui {
        match &forwarding_to {
            None => say(format_args!(
                "promscope: receiving remote-write on {} (Ctrl-C to stop)",
                access.url(local)
            )),
            Some(backend) => say(format_args!(
                "promscope: receiving remote-write on {} and forwarding it to {backend} (Ctrl-C to stop)",
                access.url(local)
            )),
        }
        let report = cli.cardinality_tracker();
        headless((rx, receiver), (cli.format, report), stats, stop).await
    } else {
        dashboard(rx, stats, local, access, cli.dashboard_limits(), stop).await
    };
    if let Some(recorder) = recorder {
        say(recording_summary(&recorder.finish()));
    }
    ended
}

/// Opens the capture file of `--record`, saying so if its end had to be cut off.
fn start_recording(path: &std::path::Path, max_bytes: Option<u64>) -> anyhow::Result<Recorder> {
    let limits = RecordLimits {
        max_file_bytes: max_bytes,
        ..RecordLimits::default()
    };
    let recorder = Recorder::start(path, limits)
        .with_context(|| format!("cannot record to {}", path.display()))?;
    if let Some(damage) = recorder.repaired() {
        say(format_args!(
            "promscope: {} ended in a damaged record, cut off before recording after it: {damage}",
            path.display()
        ));
    }
    Ok(recorder)
}

/// The summary's line about `--record`: what was written, dropped, or not
/// recorded after recording stopped.
fn recording_summary(summary: &RecordSummary) -> String {
    let s = &summary.stats;
    let mut line = format!(
        "  recorded    {} requests to {} ({})",
        s.recorded.load(Ordering::Relaxed),
        summary.path.display(),
        crate::format::bytes(s.file_bytes.load(Ordering::Relaxed) as f64),
    );
    let dropped = s.dropped.load(Ordering::Relaxed);
    if dropped > 0 {
        line += &format!("; {dropped} dropped (the disk was too slow)");
    }
    if let Some(reason) = s.stop_reason() {
        let not_recorded = s.not_recorded.load(Ordering::Relaxed);
        line += &format!("; stopped: {reason}, {not_recorded} not recorded after");
    }
    line
}

/// What ends a run: termination signals, and the stop it sends to every part.
struct Stop {
    termination: Termination,
    tx: watch::Sender<bool>,
    rx: watch::Receiver<bool>,
}

/// Writes a line to stderr; a closed stderr is no reason to fail.
fn say(text: impl Display) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Prints what `receiver` hands on to `rx` until a termination signal, then
/// what it acknowledged and held back, and the summary.
async fn headless(
    (rx, receiver): (QueueReceiver, Arc<Receiver>),
    (format, report): (output::Format, Option<Box<CardinalityTracker>>),
    stats: Arc<ReceiverStats>,
    mut stop: Stop,
) -> anyhow::Result<()> {
    let (consumer_stop, consumer_stopped) = watch::channel(false);
    let mut consumer = tokio::spawn(output::print_batches(
        rx,
        format,
        (RunSummary::new(stats.clone()), report),
        consumer_stopped,
    ));
    let ended = tokio::select! {
        ended = &mut consumer => ended,
        _ = stop.termination.recv() => {
            let _ = stop.tx.send(true);
            let drained = async {
                inspection_drained(&stats, INSPECTION_GRACE).await;
                // Printed: the consumer takes batches meanwhile.
                receiver.stop_holding_back().await;
                let _ = consumer_stop.send(true);
                consumer.await
            };
            tokio::select! {
                ended = drained => ended,
                // Printing the rest can block on a reader that stopped reading.
                name = stop.termination.recv() => {
                    say(format_args!("promscope: {name} again: exiting without printing the rest"));
                    std::process::exit(1);
                }
            }
        }
    };
    match ended.context("output task failed")?? {
        output::HeadlessExit::Shutdown(summary, report) => {
            if let Some(report) = report {
                let now = crate::app::replay::epoch_ms(std::time::SystemTime::now());
                let text = report.report(format, now);
                let _ = std::io::stdout().lock().write_all(text.as_bytes());
            }
            say(summary)
        }
        output::HeadlessExit::PipeClosed => {}
    }
    Ok(())
}

async fn dashboard(
    rx: QueueReceiver,
    stats: Arc<ReceiverStats>,
    listen: std::net::SocketAddr,
    access: Access,
    limits: crate::tui::DashboardLimits,
    mut stop: Stop,
) -> anyhow::Result<()> {
    let (ui_tx, ui_rx) = queue::channel(DASHBOARD_QUEUE);
    let summary = RunSummary::new(stats.clone());
    let recorder = tokio::spawn(record_and_forward(rx, ui_tx, summary, stop.rx));
    let mut dashboard = Dashboard::start(ui_rx, stats, (listen, access), limits, None)?;
    let quit = tokio::select! {
        ended = dashboard.finished() => Some(ended),
        _ = stop.termination.recv() => None,
    };
    let ended = match quit {
        Some(ended) => ended,
        None => dashboard.stop(DASHBOARD_GRACE).await,
    };
    let _ = stop.tx.send(true);
    let summary = recorder.await.context("the summary's recorder failed")?;
    say(summary);
    match ended {
        tui::DashboardExit::Returned(store) => {
            // Freed after the summary is out: a large store takes a while.
            drop(store?);
            Ok(())
        }
        tui::DashboardExit::Panicked => {
            anyhow::bail!("the dashboard crashed (the message is above)")
        }
        tui::DashboardExit::Wedged => anyhow::bail!(
            "the dashboard stopped responding and did not stop within {}s; the terminal was restored without it",
            DASHBOARD_GRACE.as_secs()
        ),
    }
}

/// Waits, at most `grace`, until no forwarded request waits for inspection:
/// the backend has answered them, so they were acknowledged and are shown or
/// printed; what is left after `grace` the summary counts as not inspected.
async fn inspection_drained(stats: &ReceiverStats, grace: Duration) {
    let Some(forward) = stats.forward.get() else {
        return;
    };
    let deadline = tokio::time::Instant::now() + grace;
    while forward.pending.load(Ordering::Relaxed) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Records every batch in the summary and passes it on to the dashboard (with
/// its share of the receiver's budget, held until the dashboard takes it); once
/// `stop` turns true, stops taking requests, records what was already
/// acknowledged, and returns the summary. The dashboard may be gone or stuck:
/// nothing here waits for it after `stop`.
async fn record_and_forward(
    mut rx: QueueReceiver,
    dashboard: QueueSender,
    mut summary: RunSummary,
    mut stop: watch::Receiver<bool>,
) -> RunSummary {
    let mut forward = Some(dashboard);
    let mut stopping = false;
    loop {
        let batch = tokio::select! {
            biased;
            _ = stop.changed(), if !stopping => {
                stopping = true;
                rx.close();
                forward = None;
                continue;
            }
            batch = rx.recv() => match batch {
                Some(batch) => batch,
                None => break,
            },
        };
        summary.record(batch.batch());
        let Some(dashboard) = &forward else { continue };
        tokio::select! {
            sent = dashboard.send(batch) => {
                // The dashboard has ended (the user quit): `stop` comes next.
                if sent.is_err() {
                    forward = None;
                }
            }
            _ = stop.changed() => {
                stopping = true;
                rx.close();
                forward = None;
            }
        }
    }
    summary
}
