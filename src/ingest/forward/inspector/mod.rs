//! Inspection in forward mode, off the forwarding path: a thread of its own
//! decodes forwarded requests and hands them to the consumers, within a share
//! of one core ([`INSPECTION_SHARE`]), and past it, while the host has CPU to
//! spare (see `priority`), hands them to a second thread at idle priority,
//! which the kernel runs only on a core nothing else wants: decoding on spare
//! CPU at the ordinary priority, woken as the backend's answer came in, took
//! a core the sender or the backend was about to want, and added 0.5 to 1 ms
//! to forwarding's latency at 100k samples/s on 2 cores (BENCHMARKS.md). When it falls behind (past its share on a busy host, or the
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
use crate::priority::{CpuBudget, Go};
use bytes::Bytes;

/// The share of one core inspection may use when the host has no CPU to
/// spare: decoding and checking a request of 2,000 samples takes 0.3 to 1 ms
/// of CPU here (more when the host is busy), so every request is inspected up
/// to 60k to 200k samples/s, and flat out inspection takes no more from
/// forwarding. 8% inspected everything at 100k samples/s on a busy host but
/// cost flat-out throughput (BENCHMARKS.md). With half a core or more idle,
/// inspection goes on past it on the spare thread (until under a quarter,
/// `priority::SpareCpu`).
pub const INSPECTION_SHARE: f64 = 0.03;

/// Requests waiting to be inspected, at most.
const QUEUE_REQUESTS: usize = 256;
/// Requests handed to the spare thread and not yet with the consumers, at
/// most: few, as on a host that turns busy it may get no CPU for a while.
const SPARE_QUEUE_REQUESTS: usize = 4;
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
        let (spare, spare_queue) = sync_channel(SPARE_QUEUE_REQUESTS);
        let (decoder, in_flight) = (worker.decoder.clone(), worker.spare.in_flight.clone());
        std::thread::Builder::new()
            .name("inspect-spare".into())
            .spawn(move || decoder.run_spare(&spare_queue, &in_flight))?;
        std::thread::Builder::new()
            .name("inspection".into())
            .spawn(move || worker.with_spare(spare).run(queue))?;
        Ok(inspector)
    }

    /// The queue, and the thread's side of it, to be run (with no spare
    /// thread until [`Worker::with_spare`]).
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
            decoder: Decoder {
                tx,
                limits,
                budget: budget.clone(),
                stats: stats.clone(),
            },
            queued_bytes: queued_bytes.clone(),
            taking: taking.clone(),
            spare: SpareHand::default(),
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

/// The inspection thread: takes requests off the queue in order, decodes
/// them within its share of a core, and hands them to the spare thread while
/// the host has CPU to spare (or while that thread has any, to keep their
/// order for the consumers).
struct Worker {
    decoder: Decoder,
    queued_bytes: Arc<AtomicUsize>,
    taking: Arc<AtomicBool>,
    spare: SpareHand,
}

impl Worker {
    fn with_spare(self, jobs: SyncSender<Job>) -> Self {
        let in_flight = self.spare.in_flight.clone();
        Worker {
            spare: SpareHand {
                jobs: Some(jobs),
                in_flight,
            },
            ..self
        }
    }

    /// Inspects requests until the receiver is gone, or the consumers are.
    fn run(self, queue: JobReceiver<Job>) {
        let stats = &self.decoder.stats;
        let mut cpu = CpuBudget::new(INSPECTION_SHARE);
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
                        self.taking.store(cpu.go().allows(), Ordering::Relaxed);
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            };
            self.queued_bytes.fetch_sub(job.bytes(), Ordering::AcqRel);
            if let Job::Decode { .. } = job {
                let go = cpu.go();
                self.taking.store(go.allows(), Ordering::Relaxed);
                // Decoded here within the share while the spare thread holds
                // none, else after what it holds, by it: the consumers get
                // them in order either way.
                if go != Go::Share || self.spare.busy() {
                    let handed = match go {
                        Go::No => Err(SpareGone::No),
                        Go::Share | Go::Spare => self.spare.hand(job),
                    };
                    let Err(gone) = handed else {
                        continue;
                    };
                    // Pending until counted: the summary counts what is pending.
                    let _decided = Decided(stats);
                    stats.uninspected.fetch_add(1, Ordering::Relaxed);
                    match gone {
                        SpareGone::No => continue,
                        SpareGone::Yes => return,
                    }
                }
            }
            // Pending until it reaches the consumers or is counted as not
            // inspected: at exit, the summary counts what is still pending.
            let _decided = Decided(stats);
            let consumers_left = self.decoder.inspect(job);
            // Past its share now, it takes no more at once: else the
            // requests forwarded until the next one is taken out would each
            // be copied and queued for nothing.
            self.taking.store(cpu.go().allows(), Ordering::Relaxed);
            if !consumers_left {
                return;
            }
        }
    }
}

/// The way to the spare thread, and the requests it holds.
#[derive(Default)]
struct SpareHand {
    /// None until the thread is started (and in tests without one).
    jobs: Option<SyncSender<Job>>,
    in_flight: Arc<AtomicUsize>,
}

impl SpareHand {
    /// Whether the spare thread holds requests not yet with the consumers.
    fn busy(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) > 0
    }

    /// Hands a job to the spare thread, waiting for room: it has CPU (the
    /// host has some to spare), or holds only a few requests from before the
    /// host got busy. Without a spare thread, or with the thread gone (the
    /// consumers are), the job is not inspected.
    fn hand(&self, job: Job) -> Result<(), SpareGone> {
        let Some(jobs) = &self.jobs else {
            return Err(SpareGone::No);
        };
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        jobs.send(job).map_err(|_| {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            SpareGone::Yes
        })
    }
}

/// Why a request was not handed to the spare thread: none to hand it to
/// (`No`: not inspected), or the thread is gone with the consumers (`Yes`).
enum SpareGone {
    No,
    Yes,
}

/// Decodes requests and hands them to the consumers: what both inspection
/// threads do.
#[derive(Clone)]
struct Decoder {
    tx: QueueSender,
    limits: Limits,
    budget: Budget,
    stats: Arc<ForwardStats>,
}

impl Decoder {
    /// The spare thread: at idle priority, inspects what the inspection
    /// thread hands it, in order, until that thread is gone or the
    /// consumers are.
    fn run_spare(self, jobs: &JobReceiver<Job>, in_flight: &AtomicUsize) {
        crate::priority::idle();
        self.inspect_handed(jobs, in_flight);
    }

    /// Inspects what is handed on `jobs`, in order, until the sender is gone
    /// or the consumers are.
    fn inspect_handed(&self, jobs: &JobReceiver<Job>, in_flight: &AtomicUsize) {
        while let Ok(job) = jobs.recv() {
            let decided = Decided(&self.stats);
            let consumers_left = self.inspect(job);
            drop(decided);
            in_flight.fetch_sub(1, Ordering::AcqRel);
            if !consumers_left {
                return;
            }
        }
    }

    /// Decodes a request (a batch is passed as it is) and hands it to the
    /// consumers; false once they are gone. With no room in the receiver's
    /// budget it is counted as not inspected.
    fn inspect(&self, job: Job) -> bool {
        let queued = match job {
            Job::Ready(queued) => queued,
            Job::Decode {
                info,
                readable,
                body,
                forwarded,
            } => {
                let mut batch = self.decode(info, readable, body, forwarded);
                batch.data.shrink_to_fit();
                match queue::charged(&self.budget, batch, Charge::default()) {
                    Ok(queued) => queued,
                    Err(_) => {
                        self.stats.uninspected.fetch_add(1, Ordering::Relaxed);
                        return true;
                    }
                }
            }
        };
        // Waiting here holds up inspection only; the queue absorbs it.
        if self.tx.blocking_send(queued).is_err() {
            self.stats.uninspected.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
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
mod tests;
