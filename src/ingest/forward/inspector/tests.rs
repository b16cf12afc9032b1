use super::*;
use crate::ingest::forward::outcome::Upstream;
use crate::ingest::model::RejectReason;
use std::sync::Mutex;
use std::thread::JoinHandle;

fn forwarded() -> Box<Forwarded> {
    forwarded_with(answered(204))
}

/// The backend answered `status`.
fn answered(status: u16) -> Upstream {
    Upstream::Answered {
        status,
        headers: Default::default(),
        body: Bytes::new(),
    }
}

fn forwarded_with(upstream: Upstream) -> Box<Forwarded> {
    Box::new(Forwarded {
        upstream,
        backend_latency: Duration::ZERO,
        total_latency: Duration::ZERO,
        undecodable: None,
        mirrors: Default::default(),
        sender_gave_up: None,
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
    worker.run(queue, || Go::Share);
    let batch = consumer.try_recv().expect("handed on").into_batch();
    assert!(consumer.try_recv().is_err(), "only the one");
    match batch.outcome {
        Outcome::Forwarded(f) => assert!(f.undecodable.is_some()),
        other => panic!("{other:?}"),
    }
    assert_eq!(stats.pending.load(Ordering::Relaxed), 0);
}

/// A worker with a spare thread that the test plays, on a thread of its
/// own, told what the CPU allows by `verdict`; with the consumers' end.
struct Rig {
    inspector: Inspector,
    stats: Arc<ForwardStats>,
    consumer: queue::QueueReceiver,
    verdict: Arc<Mutex<Go>>,
    /// The spare thread's ends.
    handed: Receiver<Job>,
    finished: Sender<Option<Queued>>,
    decoder: Decoder,
    worker: JoinHandle<()>,
}

impl Rig {
    fn start(verdict: Go) -> Self {
        let (tx, consumer) = queue::channel(256);
        let stats = Arc::new(ForwardStats::new("http://backend", false, Vec::new()));
        let (inspector, worker, queue) =
            Inspector::new(tx, Limits::default(), Budget::new(1 << 30), stats.clone());
        let (link, handed, finished) = SpareLink::new();
        let decoder = worker.decoder.clone();
        let verdict = Arc::new(Mutex::new(verdict));
        let go = verdict.clone();
        let worker = std::thread::spawn(move || {
            worker
                .with_spare(link)
                .run(queue, || *go.lock().expect("not poisoned"))
        });
        Rig {
            inspector,
            stats,
            consumer,
            verdict,
            handed,
            finished,
            decoder,
            worker,
        }
    }

    fn allow(&self, go: Go) {
        *self.verdict.lock().expect("not poisoned") = go;
    }

    fn forward(&self, agent: &str) {
        let body = Pieces::from(Bytes::from(vec![1u8; 1_000]));
        self.inspector
            .submit_forwarded(request(agent), unreadable(), &body, forwarded());
    }

    /// Plays the spare thread: decodes the next request handed to it.
    fn spare_decodes_one(&self) {
        let job = self
            .handed
            .recv_timeout(WAIT)
            .expect("a request handed over");
        self.finished
            .send(self.decoder.decoded(job))
            .expect("the worker is there");
    }

    /// What reached the consumers (by user agent), waiting up to [`WAIT`]
    /// for `n` of them.
    fn delivered(&mut self, n: usize) -> Vec<String> {
        let mut agents = Vec::new();
        let deadline = Instant::now() + WAIT;
        while agents.len() < n && Instant::now() < deadline {
            match self.consumer.try_recv() {
                Ok(queued) => agents.extend(queued.into_batch().info.user_agent),
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        agents
    }

    fn counted(&self) -> (u64, u64, usize) {
        (
            self.stats.pending.load(Ordering::Relaxed),
            self.stats.uninspected.load(Ordering::Relaxed),
            self.inspector.queued_bytes.load(Ordering::Relaxed),
        )
    }
}

const WAIT: Duration = Duration::from_secs(10);

fn request(agent: &str) -> RequestInfo {
    RequestInfo {
        user_agent: Some(agent.into()),
        ..RequestInfo::default()
    }
}

fn refused(agent: &str) -> Batch {
    Batch {
        info: request(agent),
        outcome: Outcome::Rejected {
            status: 400,
            reason: RejectReason::UnsupportedContentType,
            message: "refused".into(),
        },
        data: WriteData::default(),
    }
}

/// Polls `done` until it holds, up to [`WAIT`].
fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn requests_reach_the_consumers_in_order_whichever_thread_decoded_them() {
    let mut rig = Rig::start(Go::Spare);
    rig.forward("first");
    // With the spare thread, its body still counts as waiting.
    let job = rig.handed.recv_timeout(WAIT).expect("handed over");
    assert_eq!(rig.counted(), (1, 0, 1_000));
    // The host got busy: the next is decoded within the share, and a
    // request promscope refused follows; both wait behind the first.
    rig.allow(Go::Share);
    rig.forward("second");
    rig.inspector.submit_refused(refused("third"));
    eventually("the second is decoded", || rig.counted() == (3, 0, 1_000));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(rig.delivered(0), Vec::<String>::new(), "overtook the first");
    rig.finished.send(rig.decoder.decoded(job)).expect("worker");
    assert_eq!(rig.delivered(3), ["first", "second", "third"]);
    assert_eq!(rig.counted(), (0, 0, 0));
    drop((rig.inspector, rig.finished));
    rig.worker.join().expect("the worker ends with the queue");
}

#[test]
fn a_spare_thread_that_gets_no_cpu_never_holds_up_the_share() {
    let mut rig = Rig::start(Go::Spare);
    // The spare thread takes none: its queue fills, and one more is waited
    // for briefly, then not inspected.
    for n in 0..=SPARE_QUEUE_REQUESTS {
        rig.forward(&format!("spare {n}"));
    }
    eventually("one is skipped", || rig.counted().1 == 1);
    let spare_bytes = SPARE_QUEUE_REQUESTS * 1_000;
    assert_eq!(rig.counted(), (4, 1, spare_bytes));
    // Within the share, requests are decoded all the same and held behind
    // those, up to a bound: past it, not inspected.
    rig.allow(Go::Share);
    let held = HELD_REQUESTS - SPARE_QUEUE_REQUESTS;
    for n in 0..held + 2 {
        rig.forward(&format!("share {n}"));
    }
    let pending = HELD_REQUESTS as u64;
    eventually("all taken", || rig.counted() == (pending, 3, spare_bytes));
    assert!(rig.inspector.taking.load(Ordering::Relaxed));
    // The spare thread gets CPU again: everything held reaches the consumers.
    for _ in 0..SPARE_QUEUE_REQUESTS {
        rig.spare_decodes_one();
    }
    let delivered = rig.delivered(HELD_REQUESTS);
    let expected: Vec<String> = (0..SPARE_QUEUE_REQUESTS)
        .map(|n| format!("spare {n}"))
        .chain((0..held).map(|n| format!("share {n}")))
        .collect();
    assert_eq!(delivered, expected);
    assert_eq!(rig.counted(), (0, 3, 0));
    drop((rig.inspector, rig.finished));
    rig.worker.join().expect("the worker ends with the queue");
}

#[test]
fn at_exit_what_the_spare_thread_holds_still_reaches_the_consumers() {
    let mut rig = Rig::start(Go::Spare);
    rig.forward("first");
    rig.forward("second");
    // The receiver is gone; then the spare thread gets CPU.
    drop(rig.inspector);
    let (decoder, handed, finished) = (rig.decoder, rig.handed, rig.finished);
    let spare = std::thread::spawn(move || decoder.run_spare(&handed, &finished));
    rig.worker.join().expect("the worker ends");
    spare.join().expect("the spare thread ends");
    let agents: Vec<_> = std::iter::from_fn(|| rig.consumer.try_recv().ok())
        .filter_map(|queued| queued.into_batch().info.user_agent)
        .collect();
    assert_eq!(agents, ["first", "second"]);
    assert_eq!(rig.stats.pending.load(Ordering::Relaxed), 0);
}

/// A snappy RW 1.0 body: `up{job="a"}` with samples at `times`, and a series
/// whose metric name is invalid with one at `times[0]`.
fn rw1_body(times: &[i64]) -> Bytes {
    use crate::proto::rw1;
    use prost::Message;
    let series = |name: &str, times: &[i64]| rw1::TimeSeries {
        labels: [("__name__", name), ("job", "a")]
            .map(|(name, value)| rw1::Label {
                name: name.into(),
                value: value.into(),
            })
            .into(),
        samples: times
            .iter()
            .map(|&timestamp| rw1::Sample {
                value: 1.0,
                timestamp,
            })
            .collect(),
        ..Default::default()
    };
    let request = rw1::WriteRequest {
        timeseries: vec![series("up", times), series("bad-name", &times[..1])],
        metadata: vec![],
    };
    let body = snap::raw::Encoder::new().compress_vec(&request.encode_to_vec());
    Bytes::from(body.expect("compressible"))
}

/// What the backend did not take (5xx, 429, 415, no answer), the sender sends
/// again: it is checked all the same, without keeping its samples, so the
/// resend the backend takes is checked as if it came first. What a backend
/// took, or refused for good (400), is kept.
#[test]
fn what_the_backend_did_not_take_is_checked_without_keeping_its_samples() {
    use crate::ingest::decode::Compression;
    use crate::ingest::model::Protocol;
    use crate::problems::Rule;
    let received_at = std::time::SystemTime::now();
    let now_ms = received_at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let times = [now_ms - 2_000, now_ms - 1_000, now_ms];
    let failed = |status| Upstream::Failed {
        status,
        message: "timed out".into(),
    };
    let not_taken = [
        (answered(503), "the backend answered 503"),
        (answered(429), "the backend answered 429"),
        // vmagent sends it again in snappy (zstd refused).
        (answered(415), "the backend answered 415"),
        (failed(504), "the backend never answered"),
    ];
    for (upstream, says) in not_taken {
        let decoder = Decoder {
            limits: Limits::default(),
            budget: Budget::new(1 << 20),
        };
        let inspect = |upstream| {
            let info = RequestInfo {
                received_at,
                ..RequestInfo::default()
            };
            let readable = Ok(Negotiated {
                protocol: Protocol::V1,
                compression: Compression::Snappy,
                warning: None,
            });
            let batch = decoder.decode(info, readable, rw1_body(&times), forwarded_with(upstream));
            let rules: Vec<Rule> = batch.data.problems.iter().map(|p| p.rule).collect();
            (rules, batch.data.warnings)
        };
        let (rules, warnings) = inspect(upstream);
        assert_eq!(rules, [Rule::MetricNameInvalid], "{says}");
        let kept_none =
            format!("checked without keeping its samples: {says}, the sender sends it again");
        assert_eq!(warnings, [kept_none]);
        let (rules, warnings) = inspect(answered(200));
        assert_eq!(rules, [Rule::MetricNameInvalid], "resent after {says}");
        assert_eq!(warnings, Vec::<String>::new());
        // Taken: sent again, refused for good, it repeats itself.
        let (rules, warnings) = inspect(answered(400));
        assert!(rules.contains(&Rule::DuplicateSample), "{rules:?}");
        assert_eq!(warnings, Vec::<String>::new());
    }
}
