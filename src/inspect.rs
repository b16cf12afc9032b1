//! Wires the receiver to its consumer (the dashboard, or headless output) and
//! handles shutdown.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::cli::Cli;
use crate::ingest::server::{self, Limits, ReceiverStats};
use crate::output::{self, Ended, Summary};
use crate::send;
use crate::tui;

/// Batches that may wait between the receiver and the consumer; beyond this the
/// receiver waits (backpressure) and senders see slower responses.
const QUEUE_BATCHES: usize = 64;

/// Runs the inspector until interrupted.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let listener = TcpListener::bind(cli.listen).await.with_context(|| {
        format!(
            "cannot listen on {} (is another promscope or exporter using it? try --listen)",
            cli.listen
        )
    })?;
    let local = listener.local_addr().unwrap_or(cli.listen);
    let (tx, rx) = mpsc::channel(QUEUE_BATCHES);
    let stats = Arc::new(ReceiverStats::default());
    let limits = Limits {
        max_compressed_bytes: cli.max_compressed_bytes,
        max_decoded_bytes: cli.max_body_bytes,
        ..Limits::default()
    };
    let router = server::router(tx, limits, stats.clone());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut server_stop = stop_rx.clone();
    tokio::spawn(server::serve(listener, router, async move {
        let _ = server_stop.changed().await;
    }));
    if cli.demo {
        start_demo(local, stop_rx.clone());
    }
    if !cli.no_tui {
        let started = Instant::now();
        let store = tui::run(
            rx,
            stats.clone(),
            local,
            cli.store_limits(),
            shutdown_signal(),
        )
        .await?;
        let _ = stop_tx.send(true);
        eprintln!(
            "{}",
            Summary::new(
                store.totals().clone(),
                store.distinct_series(),
                started,
                stats
            )
        );
        return Ok(());
    }
    eprintln!("promscope: receiving remote-write on http://{local}/api/v1/write (Ctrl-C to stop)");
    let consumer = tokio::spawn(output::run(rx, cli.format, stats, stop_rx));
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    match consumer.await.context("output task failed")?? {
        Ended::Shutdown(summary) => {
            eprintln!("{summary}");
            Ok(())
        }
        Ended::PipeClosed => Ok(()),
    }
}

/// Samples per second of the demo traffic: lively, yet light on a laptop.
const DEMO_RATE: f64 = 4_000.0;

/// Sends built-in traffic to our own receiver until `stop` turns true: ten
/// metrics of 200 series, the last one native histograms, over RW2.
fn start_demo(listen: std::net::SocketAddr, stop: watch::Receiver<bool>) {
    let mut config = send::SendConfig::new(format!("http://{}/api/v1/write", demo_target(listen)));
    config.workload.protocol = crate::ingest::model::Protocol::V2;
    config.workload.histograms = true;
    config.workload.samples_per_request = 500;
    config.rate = Some(DEMO_RATE);
    config.concurrency = 2;
    tokio::spawn(async move {
        // Failures show up where everything else does: as requests in the dashboard.
        let _ = send::run_to(&config, Arc::new(send::SendStats::default()), stop).await;
    });
}

/// Where the demo sender connects: the listen address, or loopback when
/// listening on all interfaces.
fn demo_target(listen: std::net::SocketAddr) -> std::net::SocketAddr {
    let mut target = listen;
    if listen.ip().is_unspecified() {
        target.set_ip(if listen.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    target
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
