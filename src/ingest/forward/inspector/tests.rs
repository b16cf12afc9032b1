use super::*;
use crate::ingest::forward::outcome::Upstream;
use crate::ingest::model::RejectReason;

fn forwarded() -> Box<Forwarded> {
    Box::new(Forwarded {
        upstream: Upstream::Answered {
            status: 204,
            headers: Default::default(),
            body: Bytes::new(),
        },
        backend_latency: Duration::ZERO,
        total_latency: Duration::ZERO,
        undecodable: None,
        mirrors: Default::default(),
    })
}

fn unreadable() -> Result<Negotiated, Undecodable> {
    Err(Undecodable {
        reason: RejectReason::UnsupportedContentType,
        message: "not remote write".into(),
    })
}

#[test]
fn a_waiting_body_holds_a_buffer_of_its_own_and_is_counted_as_that() {
    let (tx, mut consumer) = queue::channel(8);
    let stats = Arc::new(ForwardStats::new("http://backend", false, Vec::new()));
    let (inspector, worker, queue) =
        Inspector::new(tx, Limits::default(), Budget::new(1 << 20), stats.clone());
    // A body read as two views of a connection's 1 MiB read buffer.
    let buffer = Bytes::from(vec![7u8; 1 << 20]);
    let body: Pieces = [buffer.slice(..1_000), buffer.slice(4_096..5_096)]
        .into_iter()
        .collect();
    inspector.submit_forwarded(RequestInfo::default(), unreadable(), &body, forwarded());
    // Waiting, it holds its 2,000 bytes, not the read buffer.
    drop(body);
    assert!(buffer.is_unique(), "the read buffer is kept by the queue");
    assert_eq!(inspector.queued_bytes.load(Ordering::Relaxed), 2_000);
    assert_eq!(stats.pending.load(Ordering::Relaxed), 1);
    // While the thread takes none, a request is counted, not queued.
    inspector.taking.store(false, Ordering::Relaxed);
    let body = Pieces::from(buffer.slice(..1_000));
    inspector.submit_forwarded(RequestInfo::default(), unreadable(), &body, forwarded());
    assert_eq!(stats.uninspected.load(Ordering::Relaxed), 1);
    // The thread hands the waiting one on, and ends with the queue.
    drop(inspector);
    worker.run(queue);
    let batch = consumer.try_recv().expect("handed on").into_batch();
    assert!(consumer.try_recv().is_err(), "only the one");
    match batch.outcome {
        Outcome::Forwarded(f) => assert!(f.undecodable.is_some()),
        other => panic!("{other:?}"),
    }
    assert_eq!(stats.pending.load(Ordering::Relaxed), 0);
}

#[test]
fn while_the_spare_thread_holds_requests_later_ones_go_after_them() {
    let (tx, mut consumer) = queue::channel(8);
    let stats = Arc::new(ForwardStats::new("http://backend", false, Vec::new()));
    let (inspector, worker, queue) =
        Inspector::new(tx, Limits::default(), Budget::new(1 << 20), stats.clone());
    let (spare, handed) = sync_channel(SPARE_QUEUE_REQUESTS);
    let worker = worker.with_spare(spare);
    let (decoder, in_flight) = (worker.decoder.clone(), worker.spare.in_flight.clone());
    let request = |agent: &str| RequestInfo {
        user_agent: Some(agent.into()),
        ..RequestInfo::default()
    };
    let body = Pieces::from(Bytes::from_static(b"not a body"));
    // The first request went to the spare thread (on spare CPU), which
    // has not got to it yet.
    let first = Job::Decode {
        info: request("first"),
        readable: unreadable(),
        body: body.copied(),
        forwarded: forwarded(),
    };
    assert!(worker.spare.hand(first).is_ok());
    stats.pending.fetch_add(1, Ordering::Relaxed);
    // The second is within the share, yet goes after the first.
    inspector.submit_forwarded(request("second"), unreadable(), &body, forwarded());
    drop(inspector);
    worker.run(queue);
    assert!(consumer.try_recv().is_err(), "decoded ahead of the first");
    decoder.inspect_handed(&handed, &in_flight);
    let agents: Vec<_> = std::iter::from_fn(|| consumer.try_recv().ok())
        .map(|queued| queued.into_batch().info.user_agent)
        .collect();
    assert_eq!(agents, [Some("first".into()), Some("second".into())]);
    assert_eq!(in_flight.load(Ordering::Relaxed), 0);
    assert_eq!(stats.pending.load(Ordering::Relaxed), 0);
    assert_eq!(stats.uninspected.load(Ordering::Relaxed), 0);
}
