//! A sender retrying a TLS handshake that fails the same way every time:
//! each failure is counted as it comes (the header and the summary never lag
//! behind), listed once a while by one entry that says how many it stands
//! for, and when promscope stops, the entry of the while under way is printed
//! and counted before the summary. Real receiver on an ephemeral port, and
//! the real binary.

mod common;
mod dashboard;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::pki::{TLS_ONLY, pki, receiver};
use common::*;
use promscope::app::replay::epoch_ms;
use promscope::ingest::model::{Batch, Outcome, RejectReason, Repeats};
use promscope::output::{Format, MetadataDedup, write_batch};
use promscope::store::rate::RateBuckets;
use promscope::store::{Store, StoreLimits};
use promscope::summary::RunSummary;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// What the failing sender sends: not TLS.
const GARBAGE: &[u8] = b"\x00garbage";
const SAID: &str = "not TLS: the connection began with \"\\x00garbage\"";

/// One failed handshake: garbage sent to `r`, until the receiver closes the
/// connection (it handed the failure on first).
async fn fail(r: &TestReceiver) {
    let mut tcp = TcpStream::connect(r.addr).await.unwrap();
    tcp.write_all(GARBAGE).await.unwrap();
    until_closed(&mut tcp).await;
}

/// Every batch waiting in `r`'s queue.
fn queued(r: &mut TestReceiver) -> Vec<Batch> {
    std::iter::from_fn(|| r.rx.try_recv().ok().map(|q| q.into_batch())).collect()
}

/// The message of a rejected batch.
fn message(batch: &Batch) -> &str {
    match &batch.outcome {
        Outcome::Rejected { message, .. } => message,
        other => panic!("not rejected: {other:?}"),
    }
}

/// The JSON records `batches` print.
fn json_records(batches: &[Batch]) -> Vec<Value> {
    let mut out = String::new();
    for batch in batches {
        write_batch(&mut out, Format::Json, batch, &mut MetadataDedup::default());
    }
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The failures the bad_tls records stand for (1 + their `repeats` each).
fn bad_tls_in(records: &[Value]) -> u64 {
    records
        .iter()
        .filter(|r| r["reason"] == "bad_tls")
        .map(|r| 1 + r["repeats"].as_u64().unwrap_or(0))
        .sum()
}

#[tokio::test]
async fn repeats_are_counted_as_they_come_while_their_entry_waits() {
    let pki = pki();
    let mut r = receiver(&pki.dir, TLS_ONLY, None).await;
    let mut store = Store::new(StoreLimits::default());
    let mut summary = RunSummary::new(Arc::default());
    for failed in 1..=12u64 {
        fail(&r).await;
        for batch in queued(&mut r) {
            store.ingest(&batch);
            summary.record(&batch);
        }
        // After each failure, all of them so far (they counted one until the
        // while's end, 10 s later).
        let counted = store.totals().rejected.get(&RejectReason::BadTls);
        assert_eq!(counted, Some(&failed));
        assert_eq!(summary.totals().rejected_total(), failed);
    }
    // Listed once so far: the first.
    assert_eq!(store.requests().len(), 1);
    let now = now_ms();
    let mut app = dashboard::app(now - 60_000);
    app.tick(now, &store);
    let screen = dashboard::screen(&app, &store, 200, 50);
    assert!(screen.contains("rejected 12 (bad_tls: 12)"), "{screen}");
    let summary = summary.to_string();
    assert!(summary.contains("12 rejected (bad_tls: 12)"), "{summary}");
    assert!(summary.contains("0 accepted, 12 rejected"), "{summary}");
}

#[tokio::test]
async fn a_sender_retrying_a_failing_handshake_is_listed_once_a_while_counted_once_each() {
    let pki = pki();
    let mut r = receiver(&pki.dir, TLS_ONLY, None).await;
    let started = Instant::now();
    let mut batches = Vec::new();
    for _ in 0..50 {
        fail(&r).await;
        batches.extend(queued(&mut r));
    }
    // The first alone, the other 49 counted as they came.
    assert_eq!(batches.len(), 50);
    assert_eq!(batches[0].info.repeats, Repeats::Alone);
    assert!(message(&batches[0]).starts_with(SAID), "{:?}", batches[0]);
    assert!(
        batches[1..]
            .iter()
            .all(|b| b.info.repeats == Repeats::Counted)
    );
    // Listed by one entry at the end of the first 10 s.
    let folded = tokio::time::timeout(Duration::from_secs(20), r.rx.recv())
        .await
        .expect("the repeats' entry within 20 s")
        .expect("channel open")
        .into_batch();
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(folded.info.repeats, Repeats::Shown { more: 48 });
    let said = message(&folded);
    assert!(said.starts_with(SAID), "{said}");
    assert!(
        said.ends_with("(×49 from 127.0.0.1 in the last 10s, shown once)"),
        "{said}"
    );
    let nothing = tokio::time::timeout(Duration::from_millis(500), r.rx.recv()).await;
    assert!(nothing.is_err(), "nothing more");
    batches.push(folded);
    // Counted once each: in the summary, the header's totals and the request
    // rate; listed and printed twice.
    let mut summary = RunSummary::new(Arc::default());
    let mut store = Store::new(StoreLimits::default());
    let mut each = RateBuckets::default();
    for batch in &batches {
        summary.record(batch);
        store.ingest(batch);
    }
    for batch in &batches[..50] {
        each.add(epoch_ms(batch.info.received_at), 1);
    }
    let summary = summary.to_string();
    assert!(summary.contains("50 rejected (bad_tls: 50)"), "{summary}");
    let counted = store.totals().rejected.get(&RejectReason::BadTls);
    assert_eq!(counted, Some(&50));
    let now = epoch_ms(batches[50].info.received_at) + 1_000;
    assert_eq!(
        store.request_rate.series(now, 30, 1),
        each.series(now, 30, 1)
    );
    assert_eq!(store.requests().len(), 2);
    let records = json_records(&batches);
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[1]["repeats"], 48, "{records:?}");
    assert_eq!(bad_tls_in(&records), 50);
}

/// Handshakes that fail `n` times against a headless promscope, which is
/// stopped (SIGTERM) before the while of the repeats ends: its stdout (JSON)
/// and stderr (the summary).
fn headless_run_stopped_mid_while(n: usize) -> (String, String) {
    let pki = pki();
    let config = pki.dir.join("web.yml");
    std::fs::write(&config, TLS_ONLY).unwrap();
    let config = config.to_str().unwrap();
    let args = [
        "--no-tui",
        "--format",
        "json",
        "--listen",
        "127.0.0.1:0",
        "--web.config.file",
        config,
    ];
    let binary::Started {
        mut child,
        url,
        stderr,
        ..
    } = binary::start_promscope(&args, Stdio::piped());
    let stderr = binary::read_in_background(stderr);
    let mut stdout = child.stdout.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let addr = url
        .trim_start_matches("https://")
        .split('/')
        .next()
        .unwrap();
    for _ in 0..n {
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        tcp.write_all(GARBAGE).unwrap();
        // Closed (or reset) once the failure was handed on.
        let read = tcp.read_to_end(&mut Vec::new());
        let open = matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
        assert!(!open, "not closed: {read:?}");
    }
    let pid = child.id().to_string();
    Command::new("kill")
        .args(["-TERM", pid.as_str()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("promscope did not exit within 10 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (stdout.join().unwrap(), stderr.join().unwrap())
}

#[test]
fn a_headless_run_stopped_mid_while_prints_and_counts_every_failure() {
    let (stdout, stderr) = headless_run_stopped_mid_while(20);
    // Every failure counted, the repeats listed by the entry the stop ended
    // their while with (before 37f386f: 1 counted, 1 record).
    assert!(stderr.contains("20 rejected (bad_tls: 20)"), "{stderr}");
    let records: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2, "{stdout}");
    assert_eq!(bad_tls_in(&records), 20, "{stdout}");
    let said = records[1]["message"].as_str().unwrap_or_default();
    assert!(said.contains("(×19 from 127.0.0.1 in the last "), "{said}");
}
