//! Forward mode over real HTTP: promscope between a sender (the test) and a
//! backend (a real server started by the test), both on ephemeral ports.

mod common;
// Topics in forward/ (a test crate's root finds modules beside it, not below).
#[path = "forward/backend_answers.rs"]
mod backend_answers;
#[path = "forward/connections.rs"]
mod connections;
#[path = "forward/mirrors.rs"]
mod mirrors;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use common::backend::{BackendAnswer, TestBackend};
use common::*;
use promscope::ingest::forward::{ForwardConfig, MirrorStatus, Upstream};
use promscope::ingest::model::{Batch, Outcome, Protocol, RejectReason};
use promscope::ingest::server::Limits;

const UP: &[(&str, &str)] = &[("__name__", "up"), ("job", "a")];

fn config(url: String) -> ForwardConfig {
    ForwardConfig {
        timeout: Duration::from_secs(5),
        ..ForwardConfig::to(url)
    }
}

fn forwarded(batch: &Batch) -> &promscope::ingest::forward::Forwarded {
    match &batch.outcome {
        Outcome::Forwarded(f) => f,
        other => panic!("not forwarded: {other:?}"),
    }
}

#[tokio::test]
async fn the_body_goes_on_byte_for_byte_with_the_headers_a_backend_needs() {
    let mut backend = TestBackend::start(
        BackendAnswer::status(204)
            .with_header("x-prometheus-remote-write-samples-written", "2")
            .with_header("x-prometheus-remote-write-histograms-written", "1")
            .with_header("x-prometheus-remote-write-exemplars-written", "0")
            .with_header("x-backend-only", "not passed"),
    )
    .await;
    let mut settings = config(backend.url(""));
    settings.pass_headers = vec!["X-Custom".into()];
    settings.set_headers = vec!["X-Added: by promscope".into()];
    let mut r = TestReceiver::start_forwarding(Limits::default(), 8, settings).await;
    let headers = [
        RW2_HEADERS,
        &[
            ("retry-attempt", "1"),
            ("authorization", "Bearer sender-token"),
            ("x-custom", "passed"),
            ("thanos-tenant", "team-t"),
            ("cookie", "not passed"),
        ],
    ]
    .concat();
    // A VictoriaMetrics cluster path: the backend URL has no path, so it is kept.
    let path = "/insert/42/prometheus/api/v1/write?extra_label=env%3Dtest";
    let reply = r.post(path, &headers, rw2_body()).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    // The Written headers are the backend's, not promscope's count (which would be 2/1/1).
    let header = |name: &str| reply.headers.get(name).map(|v| v.to_str().unwrap());
    assert_eq!(
        header("x-prometheus-remote-write-samples-written"),
        Some("2")
    );
    assert_eq!(
        header("x-prometheus-remote-write-histograms-written"),
        Some("1")
    );
    assert_eq!(
        header("x-prometheus-remote-write-exemplars-written"),
        Some("0")
    );
    assert_eq!(header("x-backend-only"), None);

    let got = backend.next().await;
    assert_eq!(got.method, "POST");
    assert_eq!(got.uri.to_string(), path);
    assert_eq!(got.body, rw2_body());
    let sent = |name: &str| got.headers.get(name).map(|v| v.to_str().unwrap());
    assert_eq!(sent("content-type"), Some(RW2_CONTENT_TYPE));
    assert_eq!(sent("content-encoding"), Some("snappy"));
    assert_eq!(sent("x-prometheus-remote-write-version"), Some("2.0.0"));
    assert_eq!(sent("user-agent"), Some("test-sender/2.0"));
    assert_eq!(sent("retry-attempt"), Some("1"));
    assert_eq!(sent("authorization"), Some("Bearer sender-token"));
    assert_eq!(sent("thanos-tenant"), Some("team-t"));
    assert_eq!(sent("x-custom"), Some("passed"));
    assert_eq!(sent("x-added"), Some("by promscope"));
    assert_eq!(sent("cookie"), None);

    let batch = r.next_batch().await;
    let f = forwarded(&batch);
    assert_eq!(f.status(), 204);
    assert!(f.is_success() && f.undecodable.is_none());
    assert_eq!(batch.info.protocol, Some(Protocol::V2));
    assert_eq!(batch.info.tenant.as_deref(), Some("team-t"));
    // Inspected all the same: what was sent is decoded.
    assert_eq!(batch.data.counts().samples, 2);
    assert_eq!(batch.data.counts().histograms, 1);
}

/// A request written over `tcp` as a sender that sends its body in `chunks`
/// pieces, a few milliseconds apart (so that promscope reads it in pieces):
/// with its length stated, or chunked when `length` is false. The status.
async fn post_in_pieces(
    tcp: &mut tokio::net::TcpStream,
    body: &[u8],
    chunks: usize,
    length: bool,
) -> u16 {
    use tokio::io::AsyncReadExt;
    let mut head = "POST /api/v1/write HTTP/1.1\r\nhost: promscope\r\n".to_owned();
    for (name, value) in RW1_HEADERS {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if length {
        head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    } else {
        head.push_str("transfer-encoding: chunked\r\n\r\n");
    }
    tcp.write_all(head.as_bytes()).await.unwrap();
    for piece in body.chunks(body.len().div_ceil(chunks)) {
        if length {
            tcp.write_all(piece).await.unwrap();
        } else {
            let framed = [format!("{:x}\r\n", piece.len()).as_bytes(), piece, b"\r\n"].concat();
            tcp.write_all(&framed).await.unwrap();
        }
        tcp.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    if !length {
        tcp.write_all(b"0\r\n\r\n").await.unwrap();
    }
    // The answer: a 204 has no body, so its head is all of it.
    let mut answer = Vec::new();
    while !answer.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8];
        assert_eq!(tcp.read(&mut byte).await.unwrap(), 1, "answer cut");
        answer.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_body_that_arrives_in_pieces_goes_on_byte_for_byte_and_is_inspected_whole() {
    let mut backend = TestBackend::start(BackendAnswer::status(204)).await;
    let forwarder = promscope::ingest::forward::Forwarder::new(&config(backend.url("")), false)
        .expect("a valid forward configuration");
    // The request view keeps each body: it gets the whole body too.
    let mut r = TestReceiver::start_configured(Limits::default(), 8, |r| {
        r.keeping_requests().with_forward(forwarder).unwrap()
    })
    .await;
    let now = now_ms();
    let timestamps: Vec<i64> = (0..20_000).map(|i| now - 20_000 + i).collect();
    let body = rw1_samples_body(UP, &timestamps);
    assert!(
        body.len() > 64 << 10,
        "large enough to arrive in pieces: {}",
        body.len()
    );
    let mut tcp = tokio::net::TcpStream::connect(r.addr).await.unwrap();
    // Length stated, then chunked, on one kept-alive connection.
    for length in [true, false] {
        assert_eq!(post_in_pieces(&mut tcp, &body, 7, length).await, 204);
        let got = backend.next().await;
        assert_eq!(got.body, body, "length stated: {length}");
        let batch = r.next_batch().await;
        assert!(forwarded(&batch).is_success());
        assert_eq!(batch.data.counts().samples, 20_000);
        let raw = batch.info.raw.as_ref().expect("kept for the request view");
        assert!(raw.body_complete);
        assert_eq!(raw.body, body);
    }
}

#[tokio::test]
async fn a_url_with_a_path_of_its_own_replaces_the_request_path() {
    let mut backend = TestBackend::start(BackendAnswer::status(200)).await;
    let r =
        TestReceiver::start_forwarding(Limits::default(), 8, config(backend.url("/api/v1/push")))
            .await;
    let reply = r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await;
    assert_eq!(reply.status, 200);
    assert_eq!(backend.next().await.uri.to_string(), "/api/v1/push");
}

#[tokio::test]
async fn what_promscope_cannot_decode_is_forwarded_unchanged_and_shown_undecodable() {
    let mut backend =
        TestBackend::start(BackendAnswer::status(400).with_body("snappy: corrupt input")).await;
    let mut r = TestReceiver::start_forwarding(Limits::default(), 8, config(backend.url(""))).await;
    let garbage = b"\xff\xff\xff\x0fnot snappy at all".to_vec();
    let reply = r.post("/api/v1/write", RW1_HEADERS, garbage.clone()).await;
    assert_eq!(
        (reply.status.as_u16(), reply.body.as_str()),
        (400, "snappy: corrupt input")
    );
    assert_eq!(backend.next().await.body, garbage);
    let batch = r.next_batch().await;
    let undecodable = forwarded(&batch).undecodable.as_ref().unwrap();
    assert_eq!(undecodable.reason, RejectReason::Snappy);

    // A content type promscope does not read: the backend decides.
    backend.answer_with(BackendAnswer::status(204));
    let reply = r
        .post(
            "/api/v1/write",
            &[("content-type", "application/json")],
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(reply.status, 204);
    assert_eq!(backend.next().await.body, &b"{}"[..]);
    let batch = r.next_batch().await;
    let undecodable = forwarded(&batch).undecodable.as_ref().unwrap();
    assert_eq!(undecodable.reason, RejectReason::UnsupportedContentType);
}

#[tokio::test]
async fn promscopes_own_size_limits_answer_413_before_forwarding() {
    let mut backend = TestBackend::start(BackendAnswer::status(204)).await;
    let limits = Limits {
        max_compressed_bytes: 64,
        max_decoded_bytes: 1000,
        ..Limits::default()
    };
    let mut r = TestReceiver::start_forwarding(limits, 8, config(backend.url(""))).await;
    let big = rw1_body(&[1.0; 100]);
    assert!(big.len() > 64);
    let reply = r.post("/api/v1/write", RW1_HEADERS, big).await;
    assert_eq!(reply.status, 413);
    assert!(
        reply.body.contains("--max-compressed-bytes"),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("not forwarded"), "{}", reply.body);
    let batch = r.next_batch().await;
    assert_eq!(batch.outcome.rejection().unwrap().1, RejectReason::TooLarge);
    // A small body whose snappy header announces more than --max-body-bytes.
    let lying = vec![0xe9, 0x0f, 0x00]; // varint 2025, then nothing
    let reply = r.post("/api/v1/write", RW1_HEADERS, lying).await;
    assert_eq!(reply.status, 413, "{}", reply.body);
    assert!(reply.body.contains("--max-body-bytes"), "{}", reply.body);
    // Neither reached the backend: the next request it gets is this one.
    let reply = r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await;
    assert_eq!(reply.status, 204);
    assert_eq!(backend.next().await.body, rw1_body(&[1.0]));
}

#[tokio::test]
async fn forwarding_never_waits_for_inspection() {
    let backend = TestBackend::start(BackendAnswer::status(204)).await;
    // A consumer that takes nothing: its queue is full after one request,
    // inspection's own queue (256 requests) soon after.
    let r = TestReceiver::start_forwarding(Limits::default(), 1, config(backend.url(""))).await;
    let mut slowest = Duration::ZERO;
    for _ in 0..300 {
        let started = Instant::now();
        let reply = r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await;
        assert_eq!(reply.status, 204);
        slowest = slowest.max(started.elapsed());
    }
    // No request waited for the receiver's own queue timeout (10 s). Timed per
    // request: the 300 together take seconds on a loaded machine.
    assert!(slowest < Duration::from_secs(5), "{slowest:?}");
    let stats = r.stats.forward.get().unwrap().snapshot();
    assert_eq!(stats.ok, 300);
    // Inspection's queue holds 256; the consumer's one more and the
    // inspection thread one waiting to go there, if that thread (at nice 19)
    // ran at all yet.
    assert!(
        (42..=44).contains(&stats.uninspected),
        "{}",
        stats.uninspected
    );
    // Each request is either in the consumer's queue (one), counted as not
    // inspected, or still pending: what the summary counts at exit.
    assert_eq!(stats.uninspected + stats.pending, 299);
}
