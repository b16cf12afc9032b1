//! Mirrors: each gets every request, their statuses are shown, and a slow one
//! never slows the sender (a full queue is counted).

use super::*;

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
