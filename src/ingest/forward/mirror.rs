//! `--mirror URL`: every forwarded request also goes to other backends, whose
//! answers nobody waits for. Each mirror has a bound on the bytes of requests
//! waiting for or in flight to it; past it a request is not mirrored, and
//! counted. The statuses land in cells that the request's record shares, so
//! they show as the mirrors answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use hyper::http::request::Parts;
use tokio::sync::Semaphore;

use super::client::{self, BackendClient};
use super::outcome::Upstream;
use super::target::{ForwardHeaders, Target};
use crate::ingest::body::Pieces;

/// Bytes of request bodies each mirror may hold waiting or in flight, by default.
pub const MIRROR_QUEUE_BYTES: usize = 64 << 20;
/// What the bound is counted in: a request takes at least one unit.
const UNIT: usize = 1 << 10;

/// What became of a request at one mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MirrorStatus {
    /// Sent, not answered yet.
    Pending,
    /// Not sent: the mirror's queue was full.
    QueueFull,
    /// Sent, and no answer came (unreachable, broken off, too slow).
    NoAnswer,
    /// The mirror's answer.
    Answered(u16),
}

const PENDING: u32 = 0;
const QUEUE_FULL: u32 = 1;
const NO_ANSWER: u32 = 2;

impl MirrorStatus {
    fn of(code: u32) -> Self {
        match code {
            PENDING => MirrorStatus::Pending,
            QUEUE_FULL => MirrorStatus::QueueFull,
            NO_ANSWER => MirrorStatus::NoAnswer,
            status => MirrorStatus::Answered(u16::try_from(status).unwrap_or(u16::MAX)),
        }
    }

    /// Short text: the status, `pending`, `queue full` or `no answer`.
    pub fn text(self) -> String {
        match self {
            MirrorStatus::Pending => "pending".into(),
            MirrorStatus::QueueFull => "queue full".into(),
            MirrorStatus::NoAnswer => "no answer".into(),
            MirrorStatus::Answered(status) => status.to_string(),
        }
    }
}

/// One request's status at each mirror, in `--mirror` order, filled in as
/// they answer (shared with the task sending to each).
#[derive(Debug, Clone, Default)]
pub struct MirrorStatuses(Arc<[AtomicU32]>);

impl std::str::FromStr for MirrorStatus {
    type Err = ();

    /// Reads what [`MirrorStatus::text`] wrote (a capture's).
    fn from_str(text: &str) -> Result<Self, ()> {
        match text {
            "pending" => Ok(MirrorStatus::Pending),
            "queue full" => Ok(MirrorStatus::QueueFull),
            "no answer" => Ok(MirrorStatus::NoAnswer),
            // A status code: three digits.
            status => match status.parse() {
                Ok(code @ 100..=999) => Ok(MirrorStatus::Answered(code)),
                _ => Err(()),
            },
        }
    }
}

impl MirrorStatuses {
    /// The statuses as they are now.
    pub fn get(&self) -> Vec<MirrorStatus> {
        self.0
            .iter()
            .map(|s| MirrorStatus::of(s.load(Ordering::Acquire)))
            .collect()
    }

    /// Whether there are no mirrors.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn set(&self, mirror: usize, code: u32) {
        if let Some(cell) = self.0.get(mirror) {
            cell.store(code, Ordering::Release);
        }
    }
}

impl From<&[MirrorStatus]> for MirrorStatuses {
    /// Statuses already known (a request rebuilt from a record).
    fn from(statuses: &[MirrorStatus]) -> Self {
        let code = |s: &MirrorStatus| match *s {
            MirrorStatus::Pending => PENDING,
            MirrorStatus::QueueFull => QUEUE_FULL,
            MirrorStatus::NoAnswer => NO_ANSWER,
            MirrorStatus::Answered(status) => u32::from(status),
        };
        MirrorStatuses(statuses.iter().map(|s| AtomicU32::new(code(s))).collect())
    }
}

impl PartialEq for MirrorStatuses {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

/// What one mirror did, all requests together.
#[derive(Debug)]
pub struct MirrorCounts {
    /// Its URL as given.
    pub url: String,
    /// Requests it answered 2xx.
    pub ok: AtomicU64,
    /// Requests it answered otherwise, or not at all.
    pub failed: AtomicU64,
    /// Requests not sent to it: its queue was full.
    pub overflow: AtomicU64,
    /// Requests sent to it (answered or not yet): less `ok` and `failed`,
    /// those still in flight.
    pub sent: AtomicU64,
}

impl MirrorCounts {
    /// Counters of a mirror at `url`, all 0.
    pub fn new(url: &str) -> Self {
        MirrorCounts {
            url: url.to_owned(),
            ok: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            overflow: AtomicU64::new(0),
            sent: AtomicU64::new(0),
        }
    }

    /// Requests sent and not answered (nor given up on) yet.
    pub fn pending(&self) -> u64 {
        // Answers first: one landing between the loads then counts as
        // pending, never as neither (`sent` grows before a send's answer).
        let answered = self.ok.load(Ordering::Acquire) + self.failed.load(Ordering::Acquire);
        self.sent.load(Ordering::Acquire).saturating_sub(answered)
    }
}

/// The mirrors of a forwarder.
pub struct Mirrors {
    mirrors: Vec<Mirror>,
}

struct Mirror {
    target: Target,
    room: Arc<Semaphore>,
    counts: Arc<MirrorCounts>,
}

impl Mirrors {
    /// Mirrors to `targets`, each holding at most `queue_bytes` of bodies.
    pub fn new(targets: Vec<Target>, queue_bytes: usize) -> Self {
        let units = (queue_bytes / UNIT).clamp(1, Semaphore::MAX_PERMITS);
        let mirrors = targets
            .into_iter()
            .map(|target| Mirror {
                counts: Arc::new(MirrorCounts::new(target.shown())),
                room: Arc::new(Semaphore::new(units)),
                target,
            })
            .collect();
        Mirrors { mirrors }
    }

    /// Each mirror's counters.
    pub fn counts(&self) -> Vec<Arc<MirrorCounts>> {
        self.mirrors.iter().map(|m| m.counts.clone()).collect()
    }

    /// Sends a request received with `parts` and `body` to every mirror that
    /// has room for it, without waiting for any.
    pub fn send(
        &self,
        client: &BackendClient,
        headers: &ForwardHeaders,
        timeout: Duration,
        parts: &Parts,
        body: &Pieces,
    ) -> MirrorStatuses {
        let statuses = MirrorStatuses(
            self.mirrors
                .iter()
                .map(|_| AtomicU32::new(PENDING))
                .collect(),
        );
        let units = u32::try_from(body.len().div_ceil(UNIT).max(1)).unwrap_or(u32::MAX);
        for (i, mirror) in self.mirrors.iter().enumerate() {
            let Ok(permit) = mirror.room.clone().try_acquire_many_owned(units) else {
                statuses.set(i, QUEUE_FULL);
                mirror.counts.overflow.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            let mut request = headers.request(&mirror.target, parts, body.clone());
            *request.uri_mut() = mirror.target.uri_for(&parts.uri);
            mirror.counts.sent.fetch_add(1, Ordering::Release);
            let (client, statuses, counts) =
                (client.clone(), statuses.clone(), mirror.counts.clone());
            tokio::spawn(async move {
                let (upstream, _) = client::exchange(&client, request, timeout, &counts.url).await;
                drop(permit);
                let code = match upstream {
                    Upstream::Answered { status, .. } => u32::from(status),
                    Upstream::Failed { .. } => NO_ANSWER,
                };
                let ok = (200..300).contains(&code);
                let counter = if ok { &counts.ok } else { &counts.failed };
                counter.fetch_add(1, Ordering::Release);
                statuses.set(i, code);
            });
        }
        statuses
    }
}
