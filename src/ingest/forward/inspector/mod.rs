//! Inspection in forward mode, off the forwarding path. While the host has
//! CPU to spare (see `priority`), a thread at idle priority decodes forwarded
//! requests, which the kernel runs only when no other thread wants the core:
//! decoding at the ordinary priority, woken as the backend's answer came in,
//! took a core the sender was about to want, and added 0.5 to 1 ms to
//! forwarding's latency at 100k samples/s on 2 cores (BENCHMARKS.md). On a
//! busy host the inspection thread decodes them itself, within a share of one
//! core ([`INSPECTION_SHARE`]). It alone hands requests to the consumers, in
//! the order they came, whichever thread decoded them. When inspection falls
//! behind (past its share on a busy host, or the consumers are behind), its
//! queue fills, or it skips requests, which are forwarded all the same and
//! counted as not inspected: forwarding never waits for it, and on a busy
//! host forwarding keeps nearly all the CPU. A decoded batch holds its share
//! of the receiver's budget until the consumer takes it; with no room in the
//! budget it is counted as not inspected.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{
    Receiver, RecvTimeoutError, Sender, SyncSender, TryRecvError, TrySendError, channel,
    sync_channel,
};
use std::time::{Duration, Instant};

use super::outcome::{Forwarded, Undecodable, Upstream};
use super::stats::ForwardStats;
use crate::ingest::body::{Budget, Charge, Pieces};
use crate::ingest::content;
use crate::ingest::model::{Batch, Outcome, RequestInfo, WriteData};
use crate::ingest::negotiate::Negotiated;
use crate::ingest::queue::{self, QueueSender, Queued};
use crate::ingest::server::Limits;
use crate::priority::{CpuBudget, Go};
use bytes::Bytes;
use order::{InOrder, Slot};

/// The share of one core inspection may use when the host has no CPU to
/// spare: decoding and checking a request of 2,000 samples takes 0.3 to 1 ms
/// of CPU here (more when the host is busy), so every request is inspected up
/// to 60k to 200k samples/s, and flat out inspection takes no more from
/// forwarding. 8% inspected everything at 100k samples/s on a busy host but
/// cost flat-out throughput (BENCHMARKS.md).
pub const INSPECTION_SHARE: f64 = 0.03;

/// Requests waiting to be inspected, at most.
const QUEUE_REQUESTS: usize = 256;
/// Requests waiting for the spare thread, at most: few, as on a host that
/// turns busy it may get no CPU for a while.
const SPARE_QUEUE_REQUESTS: usize = 4;
/// Requests on their way to the consumers while the spare thread holds
/// some, those included, at most: past it, those decoded (or refused by
/// promscope) meanwhile are counted as not inspected.
const HELD_REQUESTS: usize = 64;
/// Bytes of their bodies waiting, at most.
const QUEUE_BYTES: usize = 64 << 20;

/// While inspection takes no requests (past its share on a busy host), how
/// often it looks again whether it may; and how long it waits for room at
/// the spare thread before it counts a request as not inspected.
const RECHECK: Duration = Duration::from_millis(100);
/// While the spare thread holds requests, how often the inspection thread
/// looks for those it has done.
const COLLECT: Duration = Duration::from_millis(10);

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
    /// Starts the thread, which hands batches to `tx`, and the spare one.
    pub fn start(
        tx: QueueSender,
        limits: Limits,
        budget: Budget,
        stats: Arc<ForwardStats>,
    ) -> std::io::Result<Self> {
        let (inspector, worker, queue) = Self::new(tx, limits, budget, stats);
        let (link, jobs, done) = SpareLink::new();
        let decoder = worker.decoder.clone();
        std::thread::Builder::new()
            .name("inspect-spare".into())
            .spawn(move || decoder.run_spare(&jobs, &done))?;
        std::thread::Builder::new()
            .name("inspection".into())
            .spawn(move || {
                let mut cpu = CpuBudget::new(INSPECTION_SHARE);
                worker.with_spare(link).run(queue, || cpu.go());
            })?;
        Ok(inspector)
    }

    /// The queue, and the thread's side of it, to be run (with no spare
    /// thread until [`Worker::with_spare`]).
    fn new(
        tx: QueueSender,
        limits: Limits,
        budget: Budget,
        stats: Arc<ForwardStats>,
    ) -> (Self, Worker, Receiver<Job>) {
        let (jobs, queue) = sync_channel(QUEUE_REQUESTS);
        let queued_bytes = Arc::new(AtomicUsize::new(0));
        let taking = Arc::new(AtomicBool::new(true));
        let worker = Worker {
            decoder: Decoder {
                limits,
                budget: budget.clone(),
            },
            taking: taking.clone(),
            spare: None,
            order: InOrder {
                slots: VecDeque::new(),
                tx,
                queued_bytes: queued_bytes.clone(),
                stats: stats.clone(),
            },
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

/// The inspection thread: takes requests off the queue in order, hands them
/// to the spare thread while the host has CPU to spare, else decodes them
/// within its share, and hands them all on to the consumers in order.
struct Worker {
    decoder: Decoder,
    taking: Arc<AtomicBool>,
    /// None until the spare thread is started (and in tests without one).
    spare: Option<SpareLink>,
    order: InOrder,
}

impl Worker {
    fn with_spare(self, spare: SpareLink) -> Self {
        Worker {
            spare: Some(spare),
            ..self
        }
    }

    /// Inspects requests until the receiver is gone, or the consumers are;
    /// `go` says what the CPU allows now (a [`CpuBudget`]'s verdict).
    fn run(mut self, queue: Receiver<Job>, mut go: impl FnMut() -> Go) {
        loop {
            if !self.collect() {
                return;
            }
            let taking = self.taking.load(Ordering::Relaxed);
            let wait = if self.order.waits_for_spare() {
                Some(COLLECT)
            } else if taking {
                None
            } else {
                Some(RECHECK)
            };
            let job = match wait {
                None => queue.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(wait) => queue.recv_timeout(wait),
            };
            let consumers_left = match job {
                Ok(job) => self.take(job, &mut go),
                Err(RecvTimeoutError::Timeout) => {
                    self.taking.store(go().allows(), Ordering::Relaxed);
                    true
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.finish();
                    return;
                }
            };
            if !consumers_left {
                return;
            }
        }
    }

    /// Takes one request off the queue; false once the consumers are gone.
    fn take(&mut self, job: Job, go: &mut impl FnMut() -> Go) -> bool {
        let bytes = job.bytes();
        if let Job::Ready(queued) = job {
            return self.order.push(Some(queued));
        }
        let allowed = go();
        self.taking.store(allowed.allows(), Ordering::Relaxed);
        match allowed {
            // At idle priority on the spare thread, which may not keep up:
            // past a short wait for room, not inspected.
            Go::Spare => {
                if !self.hand(job) {
                    return self.order.skip(bytes);
                }
                self.order.slots.push_back(Slot::Spare { bytes });
                true
            }
            Go::No => self.order.skip(bytes),
            Go::Share => {
                self.order.queued_bytes.fetch_sub(bytes, Ordering::AcqRel);
                let decoded = self.decoder.decoded(job);
                // Past its share now, it takes no more at once: else the
                // requests forwarded until the next one is taken out would
                // each be copied and queued for nothing.
                self.taking.store(go().allows(), Ordering::Relaxed);
                self.order.push(decoded)
            }
        }
    }

    /// Hands a job to the spare thread, waiting up to [`RECHECK`] for room
    /// while it makes some; false (the job dropped) when there is none, or
    /// no thread.
    fn hand(&mut self, mut job: Job) -> bool {
        let Some(spare) = &self.spare else {
            return false;
        };
        let deadline = Instant::now() + RECHECK;
        loop {
            job = match spare.jobs.try_send(job) {
                Ok(()) => return true,
                Err(TrySendError::Full(job)) => job,
                Err(TrySendError::Disconnected(_)) => return false,
            };
            let wait = deadline.saturating_duration_since(Instant::now());
            let Ok(decoded) = spare.done.recv_timeout(wait) else {
                return false;
            };
            if !self.order.spare_done(decoded) {
                return false;
            }
        }
    }

    /// Takes what the spare thread has done and hands on what is ready;
    /// false once the consumers are gone.
    fn collect(&mut self) -> bool {
        while let Some(spare) = &self.spare {
            match spare.done.try_recv() {
                Ok(decoded) => {
                    if !self.order.spare_done(decoded) {
                        return false;
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    // Gone (it cannot be while this thread holds its queue;
                    // after a panic): what it held is not inspected.
                    self.spare = None;
                    self.order.spare_gone();
                }
            }
        }
        true
    }

    /// With the receiver gone: waits for what the spare thread holds, and
    /// hands it on.
    fn finish(mut self) {
        let Some(SpareLink { jobs, done }) = self.spare.take() else {
            return;
        };
        drop(jobs);
        for decoded in done.iter() {
            if !self.order.spare_done(decoded) {
                return;
            }
        }
        self.order.spare_gone();
    }
}

/// The way to the spare thread and back.
struct SpareLink {
    jobs: SyncSender<Job>,
    /// What it did with each job, in order: `None` for one not inspected.
    done: Receiver<Option<Queued>>,
}

impl SpareLink {
    /// A link, and the spare thread's ends of it.
    fn new() -> (Self, Receiver<Job>, Sender<Option<Queued>>) {
        let (jobs, handed) = sync_channel(SPARE_QUEUE_REQUESTS);
        let (finished, done) = channel();
        (SpareLink { jobs, done }, handed, finished)
    }
}

/// Decodes requests: what both inspection threads do.
#[derive(Clone)]
struct Decoder {
    limits: Limits,
    budget: Budget,
}

impl Decoder {
    /// The spare thread: at idle priority, decodes what the inspection thread
    /// hands it, in order, and hands it back, until that thread is gone.
    fn run_spare(self, jobs: &Receiver<Job>, done: &Sender<Option<Queued>>) {
        crate::priority::idle();
        while let Ok(job) = jobs.recv() {
            if done.send(self.decoded(job)).is_err() {
                return;
            }
        }
    }

    /// A request decoded (a batch is passed as it is) and charged to the
    /// receiver's budget; `None` with no room in it (not inspected).
    fn decoded(&self, job: Job) -> Option<Queued> {
        match job {
            Job::Ready(queued) => Some(queued),
            Job::Decode {
                info,
                readable,
                body,
                forwarded,
            } => {
                let mut batch = self.decode(info, readable, body, forwarded);
                batch.data.shrink_to_fit();
                queue::charged(&self.budget, batch, Charge::default()).ok()
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
        let checks = content::Checks::of_backend(match forwarded.upstream {
            Upstream::Answered { status, .. } => Some(status),
            Upstream::Failed { .. } => None,
        });
        let decoded = readable.and_then(|negotiated| {
            let decoded = content::decode_body(&negotiated, &body, &self.limits, &mut info);
            let mut data = decoded.map_err(|r| Undecodable {
                reason: r.reason,
                message: r.message,
            })?;
            content::check(&mut data, &info, &self.limits, checks);
            Ok(data)
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

mod order;
#[cfg(test)]
mod tests;
