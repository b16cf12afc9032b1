//! Forward mode over real HTTP: promscope between a sender (the test) and a
//! backend (a real server started by the test), both on ephemeral ports.

mod common;

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
async fn the_backends_rejections_reach_the_sender_unchanged() {
    let message = "out of order sample for series {__name__=\"up\", job=\"test\"}\n";
    let mut backend = TestBackend::start(
        BackendAnswer::status(400)
            .with_body(message)
            .with_header("content-type", "text/plain; charset=utf-8"),
    )
    .await;
    let mut r = TestReceiver::start_forwarding(Limits::default(), 8, config(backend.url(""))).await;
    let reply = r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body, message);
    assert_eq!(
        reply.headers.get("content-type").unwrap(),
        "text/plain; charset=utf-8"
    );
    let batch = r.next_batch().await;
    let (status, reason, text) = batch.outcome.rejection().unwrap();
    assert_eq!((status, reason), (400, RejectReason::Backend));
    assert_eq!(text, message.trim());
    // The series sent are still shown.
    assert_eq!(batch.data.counts().samples, 1);

    backend.answer_with(
        BackendAnswer::status(429)
            .with_header("retry-after", "30")
            .with_body("ingestion rate limit exceeded"),
    );
    let reply = r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await;
    assert_eq!(reply.status, 429);
    assert_eq!(reply.headers.get("retry-after").unwrap(), "30");
    assert_eq!(reply.body, "ingestion rate limit exceeded");
    let stats = r.stats.forward.get().unwrap().snapshot();
    assert_eq!((stats.ok, stats.rejected, stats.failed), (0, 2, 0));
    let groups: Vec<_> = stats
        .rejections
        .iter()
        .map(|g| (g.status, g.text.as_str()))
        .collect();
    assert!(groups.contains(&(400, "out of order sample for series {…}")));
    assert!(groups.contains(&(429, "ingestion rate limit exceeded")));
    backend.next().await;
}

#[tokio::test]
async fn a_backends_5xx_reaches_the_sender_unchanged_and_is_counted() {
    let mut backend = TestBackend::start(
        BackendAnswer::status(503)
            .with_header("retry-after", "5")
            .with_body("ingester unavailable: TSDB head is being compacted"),
    )
    .await;
    let mut r = TestReceiver::start_forwarding(Limits::default(), 8, config(backend.url(""))).await;
    let reply = r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await;
    // The backend's own answer, not promscope's 502: the sender retries it
    // as it would without promscope.
    assert_eq!(reply.status, 503);
    assert_eq!(reply.headers.get("retry-after").unwrap(), "5");
    assert_eq!(
        reply.body,
        "ingester unavailable: TSDB head is being compacted"
    );
    backend.answer_with(BackendAnswer::status(500).with_body("internal error"));
    let reply = r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[2.0])).await;
    assert_eq!(
        (reply.status.as_u16(), reply.body.as_str()),
        (500, "internal error")
    );
    for want in [503, 500] {
        let batch = r.next_batch().await;
        let (status, reason, _) = batch.outcome.rejection().unwrap();
        assert_eq!((status, reason), (want, RejectReason::Backend));
        assert_eq!(batch.data.counts().samples, 1);
        backend.next().await;
    }
    let stats = r.stats.forward.get().unwrap().snapshot();
    assert_eq!((stats.ok, stats.rejected, stats.failed), (0, 2, 0));
}

#[tokio::test]
async fn a_sender_that_gives_up_waiting_still_has_the_backends_answer_shown() {
    let backend = TestBackend::start(
        BackendAnswer::status(400)
            .with_body("out of bounds")
            .after(Duration::from_millis(800)),
    )
    .await;
    let mut r = TestReceiver::start_forwarding(Limits::default(), 8, config(backend.url(""))).await;
    // The sender's own timeout is shorter than the backend's answer: it
    // closes the connection before the answer comes.
    let body = rw1_body(&[1.0]);
    let mut head = format!("POST /api/v1/write HTTP/1.1\r\nhost: {}\r\n", r.addr);
    for (name, value) in RW1_HEADERS {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut tcp = tokio::net::TcpStream::connect(r.addr).await.unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&body).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(tcp);
    let batch = r.next_batch().await;
    let (status, reason, text) = batch.outcome.rejection().unwrap();
    assert_eq!(
        (status, reason, &*text),
        (400, RejectReason::Backend, "out of bounds")
    );
    let stats = r.stats.forward.get().unwrap().snapshot();
    assert_eq!((stats.ok, stats.rejected, stats.failed), (0, 1, 0));
}

#[tokio::test]
async fn an_unreachable_backend_gives_502_naming_it_and_the_cause() {
    // A port that was free a moment ago: nothing listens there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{closed}/api/v1/write");
    let mut r = TestReceiver::start_forwarding(Limits::default(), 8, config(url.clone())).await;
    let reply = r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await;
    assert_eq!(reply.status, 502);
    assert!(reply.body.contains(&url), "{}", reply.body);
    assert!(reply.body.contains("could not connect"), "{}", reply.body);
    assert!(
        reply.body.to_lowercase().contains("refused"),
        "{}",
        reply.body
    );
    let batch = r.next_batch().await;
    assert!(matches!(
        forwarded(&batch).upstream,
        Upstream::Failed { status: 502, .. }
    ));
    let stats = r.stats.forward.get().unwrap().snapshot();
    assert_eq!((stats.ok, stats.rejected, stats.failed), (0, 0, 1));
}

#[tokio::test]
async fn a_slow_backend_gives_504_after_the_forward_timeout() {
    let backend =
        TestBackend::start(BackendAnswer::status(204).after(Duration::from_secs(5))).await;
    let mut settings = config(backend.url(""));
    settings.timeout = Duration::from_millis(300);
    let r = TestReceiver::start_forwarding(Limits::default(), 8, settings).await;
    let started = Instant::now();
    let reply = r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await;
    assert_eq!(reply.status, 504, "{}", reply.body);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(reply.body.contains(&backend.url("")), "{}", reply.body);
    assert!(reply.body.contains("--forward-timeout"), "{}", reply.body);
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

#[tokio::test]
async fn connections_to_the_backend_are_pooled_and_as_concurrent_as_the_sender() {
    let backend =
        TestBackend::start(BackendAnswer::status(204).after(Duration::from_millis(300))).await;
    let r = std::sync::Arc::new(
        TestReceiver::start_forwarding(Limits::default(), 64, config(backend.url(""))).await,
    );
    for _ in 0..5 {
        let reply = r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await;
        assert_eq!(reply.status, 204);
    }
    assert_eq!(backend.counts.connections.load(Ordering::SeqCst), 1);
    // Eight requests in flight from the sender are eight at the backend.
    let sends: Vec<_> = (0..8)
        .map(|_| {
            let r = r.clone();
            tokio::spawn(
                async move { r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await },
            )
        })
        .collect();
    for send in sends {
        assert_eq!(send.await.unwrap().status, 204);
    }
    assert_eq!(backend.counts.most_in_flight.load(Ordering::SeqCst), 8);
}

/// The mirror statuses of a forwarded batch once none is pending (waiting up to 5 s).
async fn settled(batch: &Batch) -> Vec<MirrorStatus> {
    let statuses = &forwarded(batch).mirrors;
    for _ in 0..100 {
        let now = statuses.get();
        if !now.contains(&MirrorStatus::Pending) {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    statuses.get()
}

#[tokio::test]
async fn mirrors_get_every_request_and_their_statuses_are_shown() {
    let mut backend = TestBackend::start(BackendAnswer::status(204)).await;
    let mut mirror = TestBackend::start(BackendAnswer::status(200)).await;
    let refusing = TestBackend::start(BackendAnswer::status(400).with_body("no")).await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let mut settings = config(backend.url(""));
    settings.mirrors = vec![
        mirror.url("/mirror/write"),
        refusing.url(""),
        format!("http://{closed}"),
    ];
    let mut r = TestReceiver::start_forwarding(Limits::default(), 8, settings).await;
    let headers = [RW1_HEADERS, &[("x-scope-orgid", "team-m")]].concat();
    let reply = r.post("/api/v1/write", &headers, rw1_body(&[1.0])).await;
    // The sender gets the backend's answer, not a mirror's.
    assert_eq!(reply.status, 204);
    let copy = mirror.next().await;
    assert_eq!(copy.body, rw1_body(&[1.0]));
    assert_eq!(copy.uri.path(), "/mirror/write");
    assert_eq!(copy.headers.get("x-scope-orgid").unwrap(), "team-m");
    assert_eq!(backend.next().await.body, rw1_body(&[1.0]));
    let batch = r.next_batch().await;
    assert_eq!(
        settled(&batch).await,
        vec![
            MirrorStatus::Answered(200),
            MirrorStatus::Answered(400),
            MirrorStatus::NoAnswer
        ]
    );
    let stats = r.stats.forward.get().unwrap().snapshot();
    let counts: Vec<_> = stats
        .mirrors
        .iter()
        .map(|m| (m.ok, m.failed, m.overflow))
        .collect();
    assert_eq!(counts, [(1, 0, 0), (0, 1, 0), (0, 1, 0)]);
}

#[tokio::test]
async fn a_slow_mirror_never_slows_the_sender_and_a_full_queue_is_counted() {
    let backend = TestBackend::start(BackendAnswer::status(204)).await;
    let slow = TestBackend::start(BackendAnswer::status(204).after(Duration::from_secs(2))).await;
    let mut settings = config(backend.url(""));
    settings.mirrors = vec![slow.url("")];
    // Room for about two requests at the mirror.
    let body = rw1_body(&(0..2000).map(f64::from).collect::<Vec<_>>());
    settings.mirror_queue_bytes = body.len() * 2 + 1024;
    let mut r = TestReceiver::start_forwarding(Limits::default(), 16, settings).await;
    let started = Instant::now();
    for _ in 0..6 {
        let reply = r.post("/api/v1/write", RW1_HEADERS, body.clone()).await;
        assert_eq!(reply.status, 204);
    }
    // Six answers well within one slow mirror answer.
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(settled(&r.next_batch().await).await);
    }
    let full = statuses
        .iter()
        .filter(|s| **s == [MirrorStatus::QueueFull])
        .count();
    let sent = statuses
        .iter()
        .filter(|s| **s == [MirrorStatus::Answered(204)])
        .count();
    assert_eq!((sent, full), (2, 4), "{statuses:?}");
    let m = &r.stats.forward.get().unwrap().snapshot().mirrors[0];
    assert_eq!((m.ok, m.overflow), (2, 4));
}

#[tokio::test]
async fn a_sender_that_gives_up_waiting_does_not_cancel_the_exchange() {
    let mut backend =
        TestBackend::start(BackendAnswer::status(204).after(Duration::from_millis(800))).await;
    let mut r = TestReceiver::start_forwarding(Limits::default(), 8, config(backend.url(""))).await;
    // The sender stops waiting (its connection closed) before the backend answers.
    let mut sender = OneConnection::open(r.addr).await;
    let gave_up = tokio::time::timeout(
        Duration::from_millis(200),
        sender.post(RW1_HEADERS, rw1_body(&[1.0])),
    )
    .await;
    assert!(gave_up.is_err(), "answered before the backend did");
    drop(sender);
    // The backend got it, and its answer is counted and shown all the same.
    assert_eq!(backend.next().await.body, rw1_body(&[1.0]));
    let batch = r.next_batch().await;
    assert!(matches!(
        forwarded(&batch).upstream,
        Upstream::Answered { status: 204, .. }
    ));
    let stats = r.stats.forward.get().unwrap();
    assert_eq!(stats.ok.load(Ordering::Relaxed), 1);
}

/// A backend that answers one request a connection (204, no `Connection:
/// close`) and then closes it, as a backend whose keep-alive timeout passed
/// does; returns its address and how many connections it took.
async fn backend_closing_after_each_answer() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                // The head, then as many body bytes as it states.
                let mut got = Vec::new();
                let mut buf = [0u8; 4096];
                let (head_end, len) = loop {
                    let n = tcp.read(&mut buf).await.unwrap();
                    assert!(n > 0, "closed before a whole request");
                    got.extend_from_slice(&buf[..n]);
                    if let Some(at) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&got[..at]).to_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                        break (at + 4, len);
                    }
                };
                while got.len() < head_end + len {
                    let n = tcp.read(&mut buf).await.unwrap();
                    assert!(n > 0, "closed before the whole body");
                    got.extend_from_slice(&buf[..n]);
                }
                tcp.write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
                    .await
                    .unwrap();
                // Closed a while after the answer (promscope has put the
                // connection aside by then), with no word of it before.
                tokio::time::sleep(Duration::from_millis(30)).await;
            });
        }
    });
    (addr, connections)
}

#[tokio::test]
async fn a_backend_connection_the_backend_closed_is_replaced_and_the_request_still_goes() {
    let (addr, connections) = backend_closing_after_each_answer().await;
    let r = TestReceiver::start_forwarding(Limits::default(), 8, config(format!("http://{addr}")))
        .await;
    // One sender connection: each request finds its backend connection closed.
    let mut sender = OneConnection::open(r.addr).await;
    for _ in 0..4 {
        let reply = sender.post(RW1_HEADERS, rw1_body(&[1.0])).await.unwrap();
        assert_eq!(reply.status, 204, "{}", reply.body);
        // Time for the backend's close to arrive before the next request.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(connections.load(Ordering::SeqCst), 4);
    let stats = r.stats.forward.get().unwrap().snapshot();
    assert_eq!((stats.ok, stats.failed), (4, 0));
}

#[tokio::test]
async fn a_sender_connection_that_ends_leaves_its_backend_connection_to_the_next() {
    let backend = TestBackend::start(BackendAnswer::status(204)).await;
    let r = TestReceiver::start_forwarding(Limits::default(), 8, config(backend.url(""))).await;
    // Senders that open a connection a request (and close it) still reuse one
    // backend connection.
    for _ in 0..3 {
        let mut sender = OneConnection::open(r.addr).await;
        let reply = sender.post(RW1_HEADERS, rw1_body(&[1.0])).await.unwrap();
        assert_eq!(reply.status, 204);
        drop(sender);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(backend.counts.connections.load(Ordering::SeqCst), 1);
}
