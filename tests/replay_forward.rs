//! A capture recorded in forward mode (`--forward URL --record FILE`) by the
//! real binary, in front of a real backend, replays headless with the
//! backend's refusals as the backend's: reason `backend` with its status and
//! message, `backend_unavailable` where it was down, never one of promscope's
//! own reasons; with what the sender sent, as live.

mod common;

use std::process::Command;

use common::backend::{BackendAnswer, TestBackend};
use common::temp::TempFile;
use common::*;
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

#[test]
fn a_capture_of_forward_mode_replays_the_backends_refusals_as_the_backends() {
    let file = TempFile::new("forward.warc");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let backend = runtime.block_on(TestBackend::start(BackendAnswer::status(204)));
    let (live, url) = recording(&backend.url("/api/v1/write"), &file);
    let at = now_ms();
    let body = |i| rw1_samples_body(&[("__name__", "up"), ("job", "replay")], &[at + i]);
    let out_of_order = "out of order sample for series {__name__=\"up\", job=\"replay\"}";
    // Prometheus ends its message with a newline, which live mode trims.
    let prometheus_400 = format!("{out_of_order}\n");
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
    let mut live_records = records(&live.stop());

    // Appended to the same capture: a backend that is down.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (down, url) = recording(&format!("http://{closed}/api/v1/write"), &file);
    assert_eq!(post_blocking(&url, RW1_HEADERS, body(9)), 502);
    let mut down_records = records(&down.stop());
    let unreachable = refused_live(&down_records);
    assert!(
        unreachable[0].1.contains("could not connect"),
        "{unreachable:?}"
    );
    live_records.append(&mut down_records);

    let replayed = Command::new(env!("CARGO_BIN_EXE_promscope"))
        .arg("replay")
        .arg(&file.0)
        .args(["--no-tui", "--format", "json"])
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&replayed.stderr);
    assert!(replayed.status.success(), "{summary}");
    let replayed = records(&String::from_utf8(replayed.stdout).unwrap());
    let backends = rejected(&replayed, "backend");
    let expected: Vec<(u64, String)> = [
        (400, out_of_order),
        (429, "too many requests, retry later"),
        (503, "ingester unavailable"),
        (400, "snappy: corrupt input"),
    ]
    .map(|(status, message)| (status, message.to_owned()))
    .into();
    assert_eq!(backends, expected);
    assert_eq!(rejected(&replayed, "backend_unavailable"), unreachable);
    assert_eq!(
        of_kind(&replayed, "rejected").len(),
        5,
        "none of promscope's own reasons: {replayed:?}"
    );
    assert_eq!(
        refused_live(&live_records),
        [expected, unreachable].concat()
    );
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
    assert_eq!(samples(&replayed).len(), 5);
    assert_eq!(samples(&replayed), samples(&live_records));
    assert!(
        summary.contains("2 accepted, 5 rejected (backend: 4, backend_unavailable: 1)"),
        "{summary}"
    );
}
