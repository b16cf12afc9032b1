//! The cap on connections (--max-connections): the one idle the longest
//! makes room for a new one; with none idle, a request arriving too slowly (a
//! sender trickling its body) does, but never one read whole that waits on
//! promscope (a stalled consumer, a slow backend).

mod common;

use std::time::Duration;

use common::backend::{BackendAnswer, TestBackend};
use common::raw::{connect, head, sent_whole, status_line};
use common::*;
use promscope::ingest::forward::ForwardConfig;
use promscope::ingest::model::{Outcome, RejectReason};
use promscope::ingest::server::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Long enough for a loaded machine; a hung connection takes longer.
const PATIENCE: Duration = Duration::from_secs(20);

#[tokio::test]
async fn past_the_connection_cap_the_oldest_idle_connection_makes_room() {
    let limits = Limits {
        max_connections: 4,
        ..Limits::default()
    };
    let mut r = TestReceiver::start(limits, 8).await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(connect(r.addr).await);
        // Accepted in this order, so the first is the oldest.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // At the cap, nothing is closed until a new connection needs the room.
    let mut buf = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_millis(300), idle[0].read(&mut buf)).await;
    assert!(
        read.is_err(),
        "an idle connection was closed with no one waiting"
    );
    let reply = tokio::time::timeout(
        PATIENCE,
        r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])),
    )
    .await
    .expect("a sender gets in past idle connections");
    assert_eq!(reply.status, 204);
    assert_eq!(r.next_batch().await.outcome, Outcome::Accepted);
    assert_eq!(until_closed(&mut idle[0]).await, "");
}

#[tokio::test]
async fn at_the_cap_a_request_trickling_its_body_makes_room_for_a_sender() {
    let limits = Limits {
        max_connections: 4,
        ..Limits::default()
    };
    let mut r = TestReceiver::start(limits, 64).await;
    // Six senders of a head and a byte of body: more than the cap, all busy.
    let mut tricklers = Vec::new();
    for _ in 0..6 {
        let mut tcp = connect(r.addr).await;
        tcp.write_all(head(1000).as_bytes()).await.unwrap();
        tcp.write_all(b"\0").await.unwrap();
        tricklers.push(tcp);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Before: the sender waited in the kernel's queue until the body
    // timeout (30 s) closed one.
    let reply = tokio::time::timeout(
        PATIENCE,
        r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])),
    )
    .await
    .expect("a sender gets in past connections trickling their bodies");
    assert_eq!(reply.status, 204);
    // The first trickler (the slowest: the longest at one byte) was told why.
    let answer = until_closed(&mut tricklers[0]).await;
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(answer.contains("closed to make room"), "{answer}");
    let mut evicted = 0;
    loop {
        let batch = r.next_batch().await;
        match batch.outcome {
            Outcome::Accepted => break,
            Outcome::Rejected {
                reason: RejectReason::BadHttp,
                ..
            } => evicted += 1,
            other => panic!("{other:?}"),
        }
    }
    assert!(evicted >= 1);
}

#[tokio::test]
async fn at_the_cap_a_request_read_whole_and_waiting_for_the_consumer_is_no_trickler() {
    let limits = Limits {
        max_connections: 1,
        queue_timeout: PATIENCE,
        ..Limits::default()
    };
    // A one-slot queue, filled: the consumer has stalled.
    let mut r = TestReceiver::start(limits, 1).await;
    assert_eq!(r.post("/", RW1_HEADERS, rw1_body(&[1.0])).await.status, 204);
    // A request read whole in a moment, then waiting for the consumer well
    // past the grace at which a request under 1 KiB a second is a trickler.
    let body = rw1_body(&[2.0]);
    let mut waiting = sent_whole(r.addr, &body).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // Another sender at the cap. Before, the waiting request was closed to
    // make room for it, told it "arrived at under 1024 bytes a second".
    let _other = sent_whole(r.addr, &body).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The consumer takes the first batch: the waiting request gets its place.
    assert_eq!(r.next_batch().await.data.samples[0].value, 1.0);
    assert_eq!(status_line(&mut waiting, PATIENCE).await, "HTTP/1.1 204");
    assert_eq!(r.next_batch().await.data.samples[0].value, 2.0);
}

#[tokio::test]
async fn at_the_cap_a_request_waiting_for_a_slow_backend_is_no_trickler() {
    let backend =
        TestBackend::start(BackendAnswer::status(204).after(Duration::from_millis(3000))).await;
    let limits = Limits {
        max_connections: 1,
        ..Limits::default()
    };
    let r = TestReceiver::start_forwarding(limits, 8, ForwardConfig::to(backend.url(""))).await;
    let body = rw1_body(&[1.0]);
    let mut waiting = sent_whole(r.addr, &body).await;
    // Past the grace, the forwarded request waits on the backend; then
    // another sender at the cap.
    tokio::time::sleep(Duration::from_millis(1800)).await;
    let _other = sent_whole(r.addr, &body).await;
    assert_eq!(status_line(&mut waiting, PATIENCE).await, "HTTP/1.1 204");
}
