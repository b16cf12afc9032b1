//! What the backend answers reaches the sender unchanged and is counted: its
//! rejections and 5xx, an answer the sender stopped waiting for, and promscope's
//! own 502 for an unreachable backend and 504 for a slow one.

use super::*;

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
