//! The receiver over real HTTP: status codes, Written headers, what reaches the
//! channel, and that it keeps serving after every kind of bad input.

mod common;
// Topics in http/ (a test crate's root finds modules beside it, not below).
#[path = "http/bad_input.rs"]
mod bad_input;
#[path = "http/compliance.rs"]
mod compliance;
#[path = "http/victoriametrics.rs"]
mod victoriametrics;

use std::time::Duration;

use common::*;
use promscope::ingest::model::{Outcome, Protocol, RejectReason};
use promscope::ingest::server::Limits;
use prost::Message;

#[tokio::test]
async fn rw1_request_is_accepted_and_reaches_the_channel_with_its_facts() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let headers = [
        RW1_HEADERS,
        &[("retry-attempt", "2"), ("x-scope-orgid", "tenant-a")],
    ]
    .concat();
    let reply = r
        .post("/api/v1/write", &headers, rw1_body(&[1.0, 0.0]))
        .await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert!(
        reply
            .headers
            .get("x-prometheus-remote-write-samples-written")
            .is_none()
    );
    let batch = r.next_batch().await;
    assert_eq!(batch.outcome, Outcome::Accepted);
    let info = &batch.info;
    assert_eq!(info.path, "/api/v1/write");
    assert_eq!(info.protocol, Some(Protocol::V1));
    assert_eq!(info.user_agent.as_deref(), Some("test-sender/1.0"));
    assert_eq!(info.retry_attempt.as_deref(), Some("2"));
    assert_eq!(info.tenant.as_deref(), Some("tenant-a"));
    assert!(info.remote_addr.is_some_and(|a| a.ip().is_loopback()));
    assert_eq!(info.compressed_bytes, rw1_body(&[1.0, 0.0]).len());
    assert_eq!(
        info.decoded_bytes,
        rw1_request(&[1.0, 0.0]).encode_to_vec().len()
    );
    let data = &batch.data;
    assert_eq!(data.metric_name(data.series[0].labels.clone()), "up");
    assert_eq!(data.samples.len(), 2);
}

#[tokio::test]
async fn rw2_request_gets_exact_written_headers() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let reply = r.post("/rw2", RW2_HEADERS, rw2_body()).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let header = |name: &str| {
        reply
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        header("x-prometheus-remote-write-samples-written").as_deref(),
        Some("2")
    );
    assert_eq!(
        header("x-prometheus-remote-write-histograms-written").as_deref(),
        Some("1")
    );
    assert_eq!(
        header("x-prometheus-remote-write-exemplars-written").as_deref(),
        Some("1")
    );
    let batch = r.next_batch().await;
    assert_eq!(batch.info.protocol, Some(Protocol::V2));
    assert_eq!(batch.data.series.len(), 2);
}

#[tokio::test]
async fn content_type_with_spaces_around_parameters_is_rw2() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let headers = [
        ("content-encoding", "snappy"),
        (
            "content-type",
            "application/x-protobuf ; proto=io.prometheus.write.v2.Request",
        ),
    ];
    let reply = r.post("/", &headers, rw2_body()).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert_eq!(r.next_batch().await.info.protocol, Some(Protocol::V2));
}

#[tokio::test]
async fn no_content_type_means_rw1() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let reply = r
        .post("/", &[("content-encoding", "snappy")], rw1_body(&[1.0]))
        .await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert_eq!(r.next_batch().await.info.protocol, Some(Protocol::V1));
}

#[tokio::test]
async fn get_is_refused_with_a_hint() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let reply = r.request("GET", "/api/v1/write", &[], vec![]).await;
    assert_eq!(reply.status, 405);
    assert!(reply.body.contains("POST"), "{}", reply.body);
    assert!(matches!(
        r.next_batch().await.outcome,
        Outcome::Rejected {
            reason: RejectReason::MethodNotAllowed,
            ..
        }
    ));
}

#[tokio::test]
async fn a_stalled_consumer_gets_backpressure_then_503_and_the_drop_is_counted() {
    let limits = Limits {
        queue_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let mut r = TestReceiver::start(limits, 1).await;
    // Fills the one-slot queue.
    assert_eq!(r.post("/", RW1_HEADERS, rw1_body(&[1.0])).await.status, 204);
    // Waits for the consumer, then gives up with a retryable status.
    let reply = r.post("/", RW1_HEADERS, rw1_body(&[1.0, 2.0, 3.0])).await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.headers.get("retry-after").unwrap(), "1");
    let stats = &r.stats;
    assert_eq!(
        stats
            .dropped_requests
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert_eq!(
        stats
            .dropped_samples
            .load(std::sync::atomic::Ordering::Relaxed),
        3
    );
    // Nothing accepted was lost: the first request is still queued.
    assert_eq!(r.next_batch().await.data.samples.len(), 1);
    assert_eq!(r.post("/", RW1_HEADERS, rw1_body(&[1.0])).await.status, 204);
}

#[tokio::test]
async fn a_request_refused_while_promscope_is_behind_is_not_held_against_its_resend() {
    let limits = Limits {
        queue_timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    let mut r = TestReceiver::start(limits, 1).await;
    let up = [("__name__", "up"), ("job", "a")];
    let t = now_ms();
    let first = rw1_samples_body(&up, &[t - 2_000]);
    assert_eq!(r.post("/", RW1_HEADERS, first).await.status, 204);
    // The queue is full: 503, and the sender sends the same again.
    let second = rw1_samples_body(&up, &[t - 1_000]);
    let refused = r.post("/", RW1_HEADERS, second.clone()).await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(r.next_batch().await.data.problems.is_empty());
    assert_eq!(r.post("/", RW1_HEADERS, second).await.status, 204);
    let resent = r.next_batch().await;
    assert_eq!(resent.data.samples.len(), 1);
    // Had the refused one been checked and kept, this would be a duplicate.
    assert!(
        resent.data.problems.is_empty(),
        "{:?}",
        resent.data.problems
    );
}

#[tokio::test]
async fn wrong_schema_decodes_without_error_but_is_a_problem_so_nothing_is_lost() {
    // An RW2 body labelled as RW1 usually decodes to an empty RW1 message.
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let reply = r.post("/", RW1_HEADERS, rw2_body()).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let batch = r.next_batch().await;
    assert!(batch.data.series.is_empty());
    let problem = &batch.data.problems[0];
    assert_eq!(problem.rule, promscope::problems::Rule::ContentTypeMismatch);
    assert!(
        problem
            .message
            .text()
            .contains("io.prometheus.write.v2.Request"),
        "{problem:?}"
    );
}

#[tokio::test]
async fn a_body_without_content_encoding_is_read_as_snappy_with_a_warning() {
    // What the npm `prometheus-remote-write` package sends.
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let reply = r
        .post(
            "/api/v1/write",
            &[("content-type", "application/x-protobuf")],
            rw1_body(&[1.0, 2.0]),
        )
        .await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let batch = r.next_batch().await;
    assert_eq!(batch.outcome, Outcome::Accepted);
    assert_eq!(batch.data.samples.len(), 2);
    assert!(
        batch.data.warnings[0].contains("no Content-Encoding header"),
        "{:?}",
        batch.data.warnings
    );
}

#[tokio::test]
async fn requests_refused_on_their_headers_keep_the_connection_usable() {
    let r = TestReceiver::start(Limits::default(), 64).await;
    let json = [
        ("content-type", "application/json"),
        ("content-encoding", "snappy"),
    ];
    for size in [100, 100_000] {
        let mut conn = OneConnection::open(r.addr).await;
        for i in 0..3 {
            let reply = conn
                .post(&json, vec![b'x'; size])
                .await
                .unwrap_or_else(|e| panic!("{size} bytes, request {i}: {e}"));
            assert_eq!(reply.status, 415);
            assert!(reply.headers.get("connection").is_none());
        }
        let reply = conn
            .post(RW1_HEADERS, rw1_body(&[1.0]))
            .await
            .expect("the same connection carries a good request");
        assert_eq!(reply.status, 204, "{size} bytes: {}", reply.body);
    }
    // A body too large to read through is not read: the answer closes the
    // connection, saying so.
    let mut conn = OneConnection::open(r.addr).await;
    let reply = conn.post(&json, vec![b'x'; 3 << 20]).await.unwrap();
    assert_eq!(reply.status, 415);
    assert_eq!(reply.headers.get("connection").unwrap(), "close");
}

/// Sends `head` on a new connection and returns the first bytes answered.
async fn raw_exchange(addr: std::net::SocketAddr, head: &str) -> (tokio::net::TcpStream, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
        .await
        .expect("an answer without the body")
        .unwrap();
    (tcp, String::from_utf8_lossy(&buf[..n]).into_owned())
}

#[tokio::test]
async fn expect_100_continue_over_the_limit_gets_413_at_once_and_within_it_100() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let limits = Limits {
        max_compressed_bytes: 65_536,
        ..Limits::default()
    };
    let mut r = TestReceiver::start(limits, 8).await;
    let head = |len: usize| {
        format!(
            "POST /api/v1/write HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\nExpect: 100-continue\r\nContent-Length: {len}\r\n\r\n"
        )
    };
    let (_tcp, answer) = raw_exchange(r.addr, &head(1 << 20)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    r.next_batch().await;
    let body = rw1_body(&[1.0]);
    let (mut tcp, answer) = raw_exchange(r.addr, &head(body.len())).await;
    assert!(answer.starts_with("HTTP/1.1 100 Continue"), "{answer}");
    tcp.write_all(&body).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tcp.read(&mut buf).await.unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
    assert_eq!(r.next_batch().await.outcome, Outcome::Accepted);
}

#[tokio::test]
async fn a_receiver_keeping_requests_hands_on_each_as_it_arrived_and_redacts_credentials() {
    let mut r =
        TestReceiver::start_configured(Limits::default(), 8, |r| r.keeping_requests()).await;
    let headers = [RW1_HEADERS, &[("authorization", "Bearer secret")]].concat();
    let body = rw1_body(&[1.0]);
    let reply = r.post("/api/v1/write?x=1", &headers, body.clone()).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let batch = r.next_batch().await;
    let raw = batch.info.raw.as_deref().expect("the request is kept");
    assert_eq!(raw.method, "POST");
    assert_eq!(raw.target, "/api/v1/write?x=1");
    assert_eq!(raw.body.to_vec(), body);
    assert!(raw.body_complete);
    let value = |name: &str| {
        raw.headers
            .iter()
            .find(|h| h.name == name)
            .map(|h| String::from_utf8_lossy(&h.value).into_owned())
    };
    assert_eq!(value("user-agent").as_deref(), Some("test-sender/1.0"));
    assert_eq!(
        value("authorization").as_deref(),
        Some("<redacted by promscope>")
    );
    // Refused on its headers: the head is kept, the body was never read.
    let reply = r
        .post("/api/v1/write", &[("content-type", "text/plain")], body)
        .await;
    assert_eq!(reply.status, 415, "{}", reply.body);
    let batch = r.next_batch().await;
    let raw = batch.info.raw.as_deref().expect("the request is kept");
    assert!(!raw.body_complete && raw.body.is_empty());
    // Without it (headless mode), nothing is kept.
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await;
    assert!(r.next_batch().await.info.raw.is_none());
}
