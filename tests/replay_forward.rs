//! A capture recorded in forward mode (`--forward URL --record FILE`) by the
//! real binary, in front of a real backend, replays headless as live printed
//! it: a `request` record per request with the sender's and the backend's
//! side (what the backend took though promscope could not read it too), and
//! what the sender sent. A capture written before promscope recorded who
//! answered replays the backend's refusals as the backend's: reason
//! `backend` with its status and message, `backend_unavailable` where it was
//! down, never one of promscope's own reasons.

mod common;

use std::process::Command;
use std::time::Duration;

use common::backend::{BackendAnswer, TestBackend};
use common::pty::{Pty, Size};
use common::temp::TempFile;
use common::*;
use prost::Message;
use serde_json::Value;

/// The JSON records of `output`.
fn records(output: &str) -> Vec<Value> {
    output
        .lines()
        .map(|line| serde_json::from_str(line).expect(line))
        .collect()
}

fn of_kind<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["kind"] == kind).collect()
}

/// Forward mode's records of the requests the backend refused or never
/// answered: the status the sender got and the message, as printed live.
fn refused_live(records: &[Value]) -> Vec<(u64, String)> {
    of_kind(records, "request")
        .into_iter()
        .filter(|r| r["status"].as_u64() >= Some(400))
        .map(|r| {
            let message = r["backend"]["message"].as_str().expect("a message");
            (r["status"].as_u64().unwrap(), message.to_owned())
        })
        .collect()
}

/// The rejections of `reason` in a replay's records: status and message.
fn rejected(records: &[Value], reason: &str) -> Vec<(u64, String)> {
    of_kind(records, "rejected")
        .into_iter()
        .filter(|r| r["reason"] == reason)
        .map(|r| {
            let message = r["message"].as_str().expect("a message");
            (r["status"].as_u64().unwrap(), message.to_owned())
        })
        .collect()
}

fn samples(records: &[Value]) -> Vec<&Value> {
    of_kind(records, "sample")
}

/// `promscope --no-tui --format json --forward backend --record file`.
fn recording(backend: &str, file: &TempFile) -> (Headless, String) {
    let path = file.0.to_str().expect("a UTF-8 temporary path");
    let args = ["--no-tui", "--format", "json", "--forward", backend];
    let live = Headless::start(&[&args[..], &["--record", path]].concat());
    let url = format!("{}/api/v1/write", live.url);
    (live, url)
}

/// `promscope replay FILE --no-tui --format json`: the records, and stderr.
fn replay(file: &std::path::Path) -> (Vec<Value>, String) {
    let replayed = Command::new(env!("CARGO_BIN_EXE_promscope"))
        .arg("replay")
        .arg(file)
        .args(["--no-tui", "--format", "json"])
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&replayed.stderr).into_owned();
    assert!(replayed.status.success(), "{summary}");
    (
        records(&String::from_utf8(replayed.stdout).unwrap()),
        summary,
    )
}

/// The capture as promscope wrote it before it recorded who answered: every
/// answer `Promscope-Answer-From: promscope`, without the backend's fields
/// (WARC header fields, outside the digests).
fn without_who_answered(capture: &[u8]) -> Vec<u8> {
    let mut old = Vec::with_capacity(capture.len());
    let mut rest = capture;
    while !rest.is_empty() {
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(rest.len(), |at| at + 2);
        let (line, next) = rest.split_at(end);
        rest = next;
        if line.starts_with(b"Promscope-Answer-From: ") {
            old.extend_from_slice(b"Promscope-Answer-From: promscope\r\n");
        } else if ![
            &b"Promscope-Backend"[..],
            b"Promscope-Latency",
            b"Promscope-Mirrors",
        ]
        .iter()
        .any(|field| line.starts_with(field))
        {
            old.extend_from_slice(line);
        }
    }
    old
}

/// Records, in forward mode, requests that a backend took, refused, and
/// could not take (down); returns the live JSON records and the two
/// backends' URLs.
fn record_forward_mode(file: &TempFile) -> (Vec<Value>, [String; 2]) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let backend = runtime.block_on(TestBackend::start(BackendAnswer::status(204)));
    let up = backend.url("/api/v1/write");
    let (live, url) = recording(&up, file);
    let at = now_ms();
    let body = |i| rw1_samples_body(&[("__name__", "up"), ("job", "replay")], &[at + i]);
    // Prometheus ends its message with a newline, which live mode trims.
    let prometheus_400 = format!("{OUT_OF_ORDER}\n");
    let sent = [
        (204, ""),
        (400, prometheus_400.as_str()),
        // Retried by senders; promscope's own would be `overloaded`.
        (429, "too many requests, retry later"),
        (503, "ingester unavailable"),
    ];
    for (i, (status, message)) in (0..).zip(sent) {
        backend.answer_with(BackendAnswer::status(status).with_body(message));
        assert_eq!(post_blocking(&url, RW1_HEADERS, body(i)), status);
    }
    // What promscope cannot read goes on all the same: the backend's 400,
    // not promscope's `bad_snappy`; and the backend's 204.
    backend.answer_with(BackendAnswer::status(400).with_body("snappy: corrupt input"));
    assert_eq!(
        post_blocking(&url, RW1_HEADERS, b"not snappy".to_vec()),
        400
    );
    backend.answer_with(BackendAnswer::status(204));
    assert_eq!(
        post_blocking(&url, RW1_HEADERS, b"not snappy".to_vec()),
        204
    );
    // An RW 2.0 request whose series promscope finds invalid (a label
    // reference past the symbols), which the backend took.
    let mut invalid = rw2_request();
    invalid.timeseries[0].labels_refs = vec![1, 99];
    assert_eq!(
        post_blocking(&url, RW2_HEADERS, snappy(&invalid.encode_to_vec())),
        204
    );
    let mut live_records = records(&live.stop());

    // Appended to the same capture: a backend that is down.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let closed = format!("http://{closed}/api/v1/write");
    let (down, url) = recording(&closed, file);
    assert_eq!(post_blocking(&url, RW1_HEADERS, body(9)), 502);
    live_records.append(&mut records(&down.stop()));
    (live_records, [up, closed])
}

const OUT_OF_ORDER: &str = "out of order sample for series {__name__=\"up\", job=\"replay\"}";

/// What live printed of the requests the backend refused or never answered:
/// the status the sender got and the message.
fn expected_refusals(live: &[Value]) -> Vec<(u64, String)> {
    let expected: Vec<(u64, String)> = [
        (400, OUT_OF_ORDER),
        (429, "too many requests, retry later"),
        (503, "ingester unavailable"),
        (400, "snappy: corrupt input"),
    ]
    .map(|(status, message)| (status, message.to_owned()))
    .into();
    let refused = refused_live(live);
    assert_eq!(refused[..4], expected[..]);
    assert!(refused[4].1.contains("could not connect"), "{refused:?}");
    refused
}

#[test]
fn a_capture_of_forward_mode_replays_the_request_records_live_printed() {
    let file = TempFile::new("forward.warc");
    let (live, [up, down]) = record_forward_mode(&file);
    expected_refusals(&live);
    let (replayed, summary) = replay(&file.0);
    let requests = of_kind(&replayed, "request");
    assert_eq!(requests.len(), 8, "{replayed:?}");
    // Both sides, latencies included, as printed live.
    assert_eq!(requests, of_kind(&live, "request"));
    // The backend took what promscope could not read; the RW 2.0 series
    // promscope finds invalid are the backend's to judge, as live.
    let undecodable: Vec<(u64, &str)> = requests
        .iter()
        .filter(|r| !r["undecodable"].is_null())
        .map(|r| {
            (
                r["status"].as_u64().unwrap(),
                r["undecodable"]["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(undecodable, [(400, "bad_snappy"), (204, "bad_snappy")]);
    assert_eq!(of_kind(&replayed, "rejected"), Vec::<&Value>::new());
    assert_eq!(of_kind(&replayed, "warning"), of_kind(&live, "warning"));
    // What the backend did not take is checked without keeping its samples,
    // by its recorded status, as live.
    let kept_none: Vec<&str> = of_kind(&replayed, "warning")
        .iter()
        .filter_map(|w| w["message"].as_str())
        .filter_map(|m| m.strip_prefix("checked without keeping its samples: the backend "))
        .collect();
    let again = ", the sender sends it again";
    assert_eq!(
        kept_none,
        ["answered 429", "answered 503", "never answered"].map(|s| format!("{s}{again}"))
    );
    assert_eq!(of_kind(&replayed, "problem"), of_kind(&live, "problem"));
    assert_eq!(samples(&replayed).len(), 5);
    assert_eq!(samples(&replayed), samples(&live));
    assert!(
        summary.contains(
            "requests    3 accepted, 4 rejected and 1 not answered by the backend, 0 refused by promscope\n"
        ),
        "{summary}"
    );
    // The backends the capture's requests went to, as live named them.
    let forwarded = format!(
        "forwarded   to {up}, {down}: 3 ok, 4 rejected by the backend, 1 without an answer (502/504), 0 not inspected; latency p50"
    );
    assert!(summary.contains(&forwarded), "{forwarded}\n{summary}");
}

#[test]
fn a_capture_written_before_who_answered_was_recorded_replays_the_backends_refusals_as_the_backends()
 {
    let file = TempFile::new("forward-new.warc");
    let (live, _) = record_forward_mode(&file);
    let refused = expected_refusals(&live);
    let old = TempFile::new("forward-old.warc");
    std::fs::write(
        &old.0,
        without_who_answered(&std::fs::read(&file.0).unwrap()),
    )
    .unwrap();
    let (replayed, _) = replay(&old.0);
    assert_eq!(of_kind(&replayed, "request"), Vec::<&Value>::new());
    assert_eq!(rejected(&replayed, "backend"), refused[..4]);
    assert_eq!(rejected(&replayed, "backend_unavailable"), refused[4..]);
    // Taken by the backend though promscope could not read it: taken.
    let warnings = of_kind(&replayed, "warning");
    assert!(
        warnings.iter().any(|w| {
            let text = w["message"].as_str().unwrap_or_default();
            text.contains("answered 204 when recorded") && text.contains("bad_snappy")
        }),
        "{warnings:?}"
    );
    // What the sender sent, refused or not, as printed live.
    assert_eq!(samples(&replayed), samples(&live));
}

#[test]
fn a_replay_of_forward_mode_in_the_dashboard_shows_the_backends_side() {
    let file = TempFile::new("forward-dashboard.warc");
    let (_, [up, _]) = record_forward_mode(&file);
    let path = file.0.to_str().expect("a UTF-8 temporary path");
    let size = Size {
        rows: 40,
        cols: 200,
    };
    let mut tui = Pty::spawn(
        env!("CARGO_BIN_EXE_promscope"),
        &["replay", path],
        size,
        false,
    );
    let (wait, quiet) = (Duration::from_secs(10), Duration::from_millis(150));
    let screen = tui
        .wait_screen("the end of the capture", wait, quiet, |s| {
            s.contains("end of capture")
        })
        .contents();
    // The header's backend line, as live.
    let line = screen.lines().find(|l| l.contains("forwarded ok"));
    let line = line.unwrap_or_else(|| panic!("no backend line:\n{screen}"));
    assert!(line.contains("forwarded ok 3"), "{line}");
    assert!(line.contains("rejected 4"), "{line}");
    assert!(line.contains("failed 1"), "{line}");
    assert!(line.contains(&up), "{line}");
    // The Requests view's backend column: a latency, or no answer.
    tui.press("3");
    let screen = tui
        .wait_screen("the Requests view", wait, quiet, |s| s.contains("BACKEND"))
        .contents();
    assert!(screen.contains("no answer"), "{screen}");
    tui.press("q");
}

#[test]
fn check_fails_a_forward_capture_on_what_did_not_get_in() {
    let file = TempFile::new("check-forward.warc");
    let _ = record_forward_mode(&file);
    let check = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_promscope"))
            .arg("check")
            .arg(&file.0)
            .args(args)
            .output()
            .unwrap()
    };
    let json = check(&["--format", "json"]);
    assert_eq!(json.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    let refusals: Vec<(&str, &str, u64, bool)> = report["refusals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["reason"].as_str().unwrap(),
                r["severity"].as_str().unwrap(),
                r["requests"].as_u64().unwrap(),
                r["taken_by_backend"].as_bool().unwrap(),
            )
        })
        .collect();
    // The backend's 400, 429 and 503 and its 400 for the bad snappy; what
    // promscope cannot read or refuses, which the backend took; the backend
    // down: the sender retries, a warning.
    assert_eq!(
        refusals,
        [
            ("backend", "error", 4, false),
            ("bad_snappy", "error", 1, true),
            ("invalid_request", "error", 1, true),
            ("backend_unavailable", "warning", 1, false),
        ]
    );
    assert_eq!(report["refused"], 5);
    let text = check(&[]);
    let text = String::from_utf8_lossy(&text.stdout);
    for said in [
        "error    backend: refused by the backend — 4 requests",
        "e.g. out of order sample for series",
        "error    bad_snappy: taken by the backend, not by promscope — 1 requests",
        "warning  backend_unavailable: no answer from the backend — 1 requests",
        "requests refused: backend ×4, bad_snappy ×1, invalid_request ×1 (--fail-on error)",
    ] {
        assert!(text.contains(said), "{said:?} in\n{text}");
    }
    assert!(!text.contains("no problems found"), "{text}");
}

/// A sender that gives up waiting (Prometheus after its `remote_timeout`)
/// does not stop the exchange: the backend may still take the request, and
/// the capture keeps it with the backend's answer, as live shows it. It was
/// left out, its place in the capture given up with the sender's connection.
#[test]
fn a_request_the_sender_gave_up_on_is_recorded_with_the_backends_answer() {
    use std::io::Write;
    let file = TempFile::new("gave-up.warc");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let backend = runtime.block_on(TestBackend::start(
        BackendAnswer::status(204).after(Duration::from_millis(1_500)),
    ));
    let (live, _) = recording(&backend.url("/api/v1/write"), &file);
    let addr = live.url.trim_start_matches("http://");
    let addr = addr.split('/').next().unwrap().to_owned();
    let body = rw1_samples_body(&[("__name__", "up"), ("job", "gave-up")], &[now_ms()]);
    let mut sender = std::net::TcpStream::connect(&addr).unwrap();
    sender.write_all(raw::head(body.len()).as_bytes()).unwrap();
    sender.write_all(&body).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    drop(sender);
    // The backend answers a second later; the record is written then.
    std::thread::sleep(Duration::from_millis(2_500));
    let live = records(&live.stop());
    let requests = of_kind(&live, "request");
    assert_eq!(requests.len(), 1, "{live:?}");
    // The sender got nothing, after about 300 ms; the backend took it.
    let request = requests[0];
    assert_eq!(request["gave_up"], true, "{request}");
    assert!(request["status"].is_null(), "{request}");
    let waited = request["latency_ms"].as_f64().unwrap();
    assert!((250.0..1_400.0).contains(&waited), "{request}");
    assert_eq!(request["backend"]["status"], 204, "{request}");
    let (replayed, summary) = replay(&file.0);
    assert_eq!(of_kind(&replayed, "request"), requests, "{summary}");
    assert_eq!(samples(&replayed).len(), 1);
}
