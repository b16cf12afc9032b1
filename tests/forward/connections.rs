//! Connections to the backend: pooled and as concurrent as the sender, an
//! exchange kept when the sender gives up, a connection the backend closed
//! replaced, and one a sender left handed on to the next.

use super::*;

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
