//! The body buffers kept for later bodies count in `--max-bytes-in-flight`
//! while kept (ingest::model::body_buf), and never turn a request away: a
//! request that finds the budget short has them freed first. A test binary
//! of its own: the kept buffers are the process's.

mod common;

use common::*;
use promscope::ingest::queue;
use promscope::ingest::server::Limits;

#[tokio::test]
async fn buffers_kept_within_the_budget_are_freed_for_a_request_that_needs_the_room() {
    let budget = 4 << 20;
    let limits = Limits {
        max_compressed_bytes: 2 << 20,
        max_decoded_bytes: 2 << 20,
        max_bytes_in_flight: budget,
        ..Limits::default()
    };
    let mut r = TestReceiver::start(limits, 16).await;
    // 50,000 samples: 600 KB decoded, 2.1 MB held once decoded.
    let body = rw1_body(&[1.0; 50_000]);
    let mut taken = Vec::new();
    for _ in 0..5 {
        let reply = r.post("/api/v1/write", RW1_HEADERS, body.clone()).await;
        assert_eq!(reply.status, 204, "{}", reply.body);
        // Taken by the consumer (it holds nothing of the budget then), and
        // kept alive for now.
        taken.push(r.next_batch().await);
    }
    let buffers: usize = taken.iter().map(|b| b.data.heap_bytes()).sum();
    assert!(buffers > budget / 2, "{buffers}");
    // Dropped together: their five body buffers (3 MB) are kept, holding
    // most of the budget.
    drop(taken);
    // A request that needs 2.1 MB gets it: the kept buffers make room.
    for _ in 0..3 {
        let reply = r.post("/api/v1/write", RW1_HEADERS, body.clone()).await;
        assert_eq!(reply.status, 204, "{}", reply.body);
        let queued = r.rx.recv().await.expect("channel open");
        assert!(queued.charged_bytes() >= queue::held_bytes(queued.batch()));
    }
}
