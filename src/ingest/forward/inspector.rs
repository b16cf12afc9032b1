//! Inspection in forward mode, off the forwarding path: a thread of its own
//! decodes forwarded requests and hands them to the consumers, within a share
//! of one core ([`INSPECTION_SHARE`]) or on the host's spare CPU (see
//! `priority`). When it falls behind (past its share on a busy host, or the
//! consumers are behind), its queue fills, or it skips requests, which are
//! forwarded all the same and counted as not inspected: forwarding never
//! waits for it, and on a busy host forwarding keeps nearly all the CPU. A
//! decoded batch holds its share of the receiver's budget until the consumer
//! takes it; with no room in the budget it is counted as not inspected.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{
    Receiver as JobReceiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel,
};
use std::time::Duration;

use super::outcome::{Forwarded, Undecodable};
use super::stats::ForwardStats;
use crate::ingest::body::{Budget, Charge, Pieces};
use crate::ingest::content;
use crate::ingest::model::{Batch, Outcome, RequestInfo, WriteData};
use crate::ingest::negotiate::Negotiated;
use crate::ingest::queue::{self, QueueSender, Queued};
use crate::ingest::server::Limits;
use bytes::Bytes;

/// The share of one core inspection may use when the host has no CPU to
/// spare: decoding and checking a request of 2,000 samples takes 0.3 to 1 ms
/// of CPU here (more when the host is busy), so every request is inspected up
/// to 60k to 200k samples/s, and flat out inspection takes no more from
/// forwarding. 8% inspected everything at 100k samples/s on a busy host but
/// cost flat-out throughput (BENCHMARKS.md). With half a core or more idle,
/// inspection goes on past it (until under a quarter, `priority::SpareCpu`).
pub const INSPECTION_SHARE: f64 = 0.03;

/// Requests waiting to be inspected, at most.
const QUEUE_REQUESTS: usize = 256;
/// Bytes of their bodies waiting, at most.
const QUEUE_BYTES: usize = 64 << 20;

/// While inspection takes no requests (past its share on a busy host), how
/// often it looks again whether it may.
const RECHECK: Duration = Duration::from_millis(100);

/// A request for the consumers. At most [`QUEUE_REQUESTS`] wait: a `Ready`
/// batch holds its bytes of the receiver's budget already.
#[allow(clippy::large_enum_variant)]
enum Job {
    /// A batch as it is (a request promscope refused itself).
    Ready(Queued),
    /// A forwarded request, to decode first.
    Decode {
        /// What its headers said.
        info: RequestInfo,
        /// How its body is read, or why it cannot be.
        readable: Result<Negotiated, Undecodable>,
        /// The body as received, in one buffer of its own.
        body: Bytes,
        /// What the backend did with it.
        forwarded: Box<Forwarded>,
    },
}

impl Job {
    fn bytes(&self) -> usize {
        match self {
            Job::Ready(_) => 0,
            Job::Decode { body, .. } => body.len(),
        }
    }
}

/// The inspection thread's queue.
pub struct Inspector {
    jobs: SyncSender<Job>,
    budget: Budget,
    /// Bytes of the bodies waiting: what they hold.
    queued_bytes: Arc<AtomicUsize>,
    /// Whether the thread takes forwarded requests now: false while it is past
    /// its share on a busy host (it looks again every [`RECHECK`]).
    taking: Arc<AtomicBool>,
    stats: Arc<ForwardStats>,
}

impl Inspector {
    /// Starts the thread, which hands batches to `tx`.
    pub fn start(
        tx: QueueSender,
        limits: Limits,
        budget: Budget,
        stats: Arc<ForwardStats>,
    ) -> std::io::Result<Self> {
        let (inspector, worker, queue) = Self::new(tx, limits, budget, stats);
        std::thread::Builder::new()
            .name("inspection".into())
            .spawn(move || worker.run(queue))?;
        Ok(inspector)
    }

    /// The queue, and the thread's side of it, to be run.
    fn new(
        tx: QueueSender,
        limits: Limits,
        budget: Budget,
        stats: Arc<ForwardStats>,
    ) -> (Self, Worker, JobReceiver<Job>) {
        let (jobs, queue) = sync_channel(QUEUE_REQUESTS);
        let queued_bytes = Arc::new(AtomicUsize::new(0));
        let taking = Arc::new(AtomicBool::new(true));
        let worker = Worker {
            tx,
            limits,
            budget: budget.clone(),
            queued_bytes: queued_bytes.clone(),
            taking: taking.clone(),
            stats: stats.clone(),
        };
        let inspector = Inspector {
            jobs,
            budget,
            queued_bytes,
            taking,
            stats,
        };
        (inspector, worker, queue)
    }

    /// Queues a request promscope refused itself, holding its bytes of the
    /// budget until taken: without room, it is counted as not inspected.
    pub fn submit_refused(&self, batch: Batch) {
        match queue::charged(&self.budget, batch, Charge::default()) {
            Ok(queued) => self.submit(Job::Ready(queued)),
            Err(_) => {
                self.stats.uninspected.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Queues a forwarded request for inspection, without waiting: while
    /// inspection takes none (past its share on a busy host), or its queue is
    /// full, it is counted as not inspected. The body waits in one buffer of
    /// its own, a copy: the pieces it arrived in are views of the connection's
    /// read buffers and would keep them whole (up to about twice the body),
    /// so what waits is what [`QUEUE_BYTES`] counts.
    pub fn submit_forwarded(
        &self,
        info: RequestInfo,
        readable: Result<Negotiated, Undecodable>,
        body: &Pieces,
        forwarded: Box<Forwarded>,
    ) {
        if !self.taking.load(Ordering::Relaxed) {
            self.stats.uninspected.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.submit(Job::Decode {
            info,
            readable,
            body: body.copied(),
            forwarded,
        });
    }

    /// Queues a request for inspection, without waiting: when the queue is
    /// full it is counted as not inspected.
    fn submit(&self, job: Job) {
        let bytes = job.bytes();
        let queued = self.queued_bytes.fetch_add(bytes, Ordering::AcqRel);
        let refused = if queued + bytes > QUEUE_BYTES {
            true
        } else {
            match self.jobs.try_send(job) {
                Ok(()) => false,
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => true,
            }
        };
        if refused {
            self.queued_bytes.fetch_sub(bytes, Ordering::AcqRel);
            self.stats.uninspected.fetch_add(1, Ordering::Relaxed);
        } else {
            self.stats.pending.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Takes one request off the pending count when dropped: once it has reached
/// the consumers or been counted as not inspected.
struct Decided<'a>(&'a ForwardStats);

impl Drop for Decided<'_> {
    fn drop(&mut self) {
        self.0.pending.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Worker {
    tx: QueueSender,
    limits: Limits,
    budget: Budget,
    queued_bytes: Arc<AtomicUsize>,
    taking: Arc<AtomicBool>,
    stats: Arc<ForwardStats>,
}

impl Worker {
    /// Inspects requests until the receiver is gone, or the consumers are.
    fn run(self, queue: JobReceiver<Job>) {
        let mut cpu = crate::priority::CpuBudget::new(INSPECTION_SHARE);
        loop {
            let job = if self.taking.load(Ordering::Relaxed) {
                match queue.recv() {
                    Ok(job) => job,
                    Err(_) => return,
                }
            } else {
                match queue.recv_timeout(RECHECK) {
                    Ok(job) => job,
                    Err(RecvTimeoutError::Timeout) => {
                        self.taking.store(cpu.allows(), Ordering::Relaxed);
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            };
            self.queued_bytes.fetch_sub(job.bytes(), Ordering::AcqRel);
            // Pending until it reaches the consumers or is counted as not
            // inspected: at exit, the summary counts what is still pending.
            let _decided = Decided(&self.stats);
            let queued = match job {
                Job::Ready(queued) => queued,
                Job::Decode {
                    info,
                    readable,
                    body,
                    forwarded,
                } => {
                    let allowed = cpu.allows();
                    self.taking.store(allowed, Ordering::Relaxed);
                    if !allowed {
                        self.stats.uninspected.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let mut batch = self.decode(info, readable, body, forwarded);
                    batch.data.shrink_to_fit();
                    // Past its share now, it takes no more at once: else the
                    // requests forwarded until the next one is taken out
                    // would each be copied and queued for nothing.
                    self.taking.store(cpu.allows(), Ordering::Relaxed);
                    match queue::charged(&self.budget, batch, Charge::default()) {
                        Ok(queued) => queued,
                        Err(_) => {
                            self.stats.uninspected.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                    }
                }
            };
            // Waiting here holds up inspection only; the queue absorbs it.
            if self.tx.blocking_send(queued).is_err() {
                self.stats.uninspected.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    }

    fn decode(
        &self,
        mut info: RequestInfo,
        readable: Result<Negotiated, Undecodable>,
        body: Bytes,
        mut forwarded: Box<Forwarded>,
    ) -> Batch {
        crate::ingest::handler::keep_raw_body(&mut info, &body);
        let decoded = readable.and_then(|negotiated| {
            content::decode_body(&negotiated, &body, &self.limits, &mut info).map_err(|r| {
                Undecodable {
                    reason: r.reason,
                    message: r.message,
                }
            })
        });
        let data = match decoded {
            Ok(data) => data,
            Err(undecodable) => {
                forwarded.undecodable = Some(undecodable);
                WriteData::default()
            }
        };
        Batch {
            info,
            outcome: Outcome::Forwarded(forwarded),
            data,
        }
    }
}

#[cfg(test)]
mod tests {
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
}
