//! What happened lately: the recent-samples log and the request log. Each keeps
//! its latest entries, numbered from the start of the run, so a view can hold a
//! position that stays meaningful while old entries are dropped.

use std::collections::VecDeque;

use super::series::{SeriesId, SeriesKind};
use crate::filter::Filter;
use crate::ingest::forward::MirrorStatuses;
use crate::ingest::model::{
    Batch, Counts, Outcome, Protocol, RejectReason, Upstream, shown_status,
};
use crate::summary::totals::Sender;
use crate::text;

/// One entry of the recent-samples log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogEntry {
    /// When the request arrived (ms since the epoch).
    pub arrival_ms: i64,
    /// Resolves no more once the series is evicted.
    pub series: SeriesId,
    /// Sample time.
    pub timestamp_ms: i64,
    /// For histograms, the observation count.
    pub value: f64,
    pub kind: SeriesKind,
}

/// Longest path and `Retry-Attempt` a request row keeps (real ones are well
/// under 100 bytes; the receiver takes headers and paths of hundreds of KiB).
pub const MAX_REQUEST_TEXT_BYTES: usize = 256;

/// Longest rejection message or warning a request row keeps: room for what a
/// decode error says, while a message quoting a sender's string stays bounded.
pub const MAX_REQUEST_NOTE_BYTES: usize = 1024;

/// Longest backend message a request row keeps: backends name every series
/// they refused, so messages can run long; the Requests view shows them whole
/// up to this.
pub const MAX_BACKEND_NOTE_BYTES: usize = 64 << 10;

/// Forward mode: the backend's side of a request.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendSide {
    /// Whether the backend answered (else promscope answered 502 or 504).
    pub answered: bool,
    /// How long the backend took, or until it failed.
    pub latency: std::time::Duration,
    /// Why promscope could not decode the request it forwarded.
    pub undecodable: Option<String>,
    /// Each mirror's status, as they answer.
    pub mirrors: MirrorStatuses,
    /// When the sender gave up waiting, how long after its request's
    /// headers: it got no answer (see `Forwarded::sender_gave_up`).
    pub sender_gave_up: Option<std::time::Duration>,
}

/// One entry of the request log.
#[derive(Debug, Clone)]
pub struct RequestRow {
    /// Arrival (ms since the epoch): the log is in this order.
    pub arrival_ms: i64,
    /// The request's number in the order the store took them (decoded, or
    /// answered in forward mode): what its kept body is found by.
    pub taken: u64,
    /// `User-Agent @ ip` (the tenant has a field of its own).
    pub sender: String,
    pub path: String,
    /// When recognized.
    pub protocol: Option<Protocol>,
    pub compressed_bytes: usize,
    pub decoded_bytes: usize,
    /// What it carried.
    pub counts: Counts,
    /// HTTP status sent.
    pub status: u16,
    /// Rejection message, or the first warning.
    pub note: Option<String>,
    /// Why it was refused, when it was (then `note` is the refusal's message).
    pub rejected: Option<RejectReason>,
    /// `Retry-Attempt` header.
    pub retry_attempt: Option<String>,
    /// The tenant (`X-Scope-OrgID`, `THANOS-TENANT`, VictoriaMetrics' path).
    pub tenant: Option<String>,
    /// Forward mode: what the backend did; `None` for a request promscope
    /// answered itself.
    pub backend: Option<BackendSide>,
}

impl RequestRow {
    /// The row of a request that arrived at `arrival_ms`.
    pub fn of(batch: &Batch, arrival_ms: i64) -> Self {
        let info = &batch.info;
        let (note, rejected) = match batch.outcome.rejection() {
            None => (
                batch
                    .data
                    .warnings
                    .first()
                    .map(|w| text::bounded(w, MAX_REQUEST_NOTE_BYTES)),
                None,
            ),
            Some((_, reason, message)) => {
                // A backend's, replayed from an older capture too (no
                // `Outcome::Forwarded` then).
                let limit = if reason.is_upstream() {
                    MAX_BACKEND_NOTE_BYTES
                } else {
                    MAX_REQUEST_NOTE_BYTES
                };
                (Some(text::bounded(&message, limit)), Some(reason))
            }
        };
        let backend = match &batch.outcome {
            Outcome::Forwarded(f) => Some(BackendSide {
                answered: matches!(f.upstream, Upstream::Answered { .. }),
                latency: f.backend_latency,
                undecodable: f.undecodable.as_ref().map(|u| {
                    text::bounded(
                        &format!("{}: {}", u.reason.name(), u.message),
                        MAX_REQUEST_NOTE_BYTES,
                    )
                }),
                mirrors: f.mirrors.clone(),
                sender_gave_up: f.sender_gave_up,
            }),
            _ => None,
        };
        let status = batch.outcome.status();
        let sender = Sender::of(info);
        RequestRow {
            arrival_ms,
            taken: 0,
            sender: sender.agent_and_ip(),
            path: text::bounded(&info.path, MAX_REQUEST_TEXT_BYTES),
            protocol: info.protocol,
            compressed_bytes: info.compressed_bytes,
            decoded_bytes: info.decoded_bytes,
            counts: batch.data.counts(),
            status,
            note,
            rejected,
            retry_attempt: info
                .retry_attempt
                .as_deref()
                .map(|r| text::bounded(r, MAX_REQUEST_TEXT_BYTES)),
            tenant: info
                .tenant
                .as_deref()
                .map(|t| text::bounded(t, MAX_REQUEST_TEXT_BYTES)),
            backend,
        }
    }
}

impl RequestRow {
    /// Whether the request passes `filter`, its fields taken as labels:
    /// `tenant`, `sender`, `path`, `status`, `protocol` and `message` (the
    /// rejection or the backend's error), those it has (a missing one is
    /// `""` to a selector). A regex searches `{sender="…", …}`. The tenant
    /// and sender are also `__tenant__` and `__sender__`, as series have them
    /// (see [`crate::filter::PSEUDO_LABELS`]), so one filter shows a tenant's
    /// series and requests.
    pub fn passes(&self, filter: &Filter, scratch: &mut String) -> bool {
        let status = shown_status(self.status);
        let labels = self.filter_labels(&status, filter.uses_pseudo_labels());
        filter.matches(labels.into_iter().filter(|(_, v)| !v.is_empty()), scratch)
    }

    /// Its fields as a filter sees them (see [`RequestRow::passes`]), empty
    /// ones included; the pseudo-labels only when `pseudo`. `status` is
    /// [`shown_status`] of it.
    pub fn filter_labels<'a>(
        &'a self,
        status: &'a str,
        pseudo: bool,
    ) -> [(&'static str, &'a str); 8] {
        let tenant = self.tenant.as_deref().unwrap_or_default();
        let pseudo = if pseudo {
            [tenant, self.sender.as_str()]
        } else {
            ["", ""]
        };
        [
            ("tenant", tenant),
            ("sender", self.sender.as_str()),
            ("__tenant__", pseudo[0]),
            ("__sender__", pseudo[1]),
            ("path", self.path.as_str()),
            ("status", status),
            ("protocol", self.protocol.map_or("", |p| p.name())),
            ("message", self.note.as_deref().unwrap_or_default()),
        ]
    }
}

/// How far back an entry taken late is put in order: far more than
/// concurrent requests overtake each other by, bounded where a clock that
/// stepped back makes every entry sort before all the others.
const REORDER_SPAN: usize = 256;

/// The latest `capacity` entries, oldest first, and the position of the oldest
/// among all entries ever added.
#[derive(Debug)]
pub struct Log<T> {
    entries: VecDeque<T>,
    /// Entries ever dropped from the front.
    start: u64,
    capacity: usize,
}

impl<T> Log<T> {
    pub fn new(capacity: usize) -> Self {
        Log {
            entries: VecDeque::new(),
            start: 0,
            capacity,
        }
    }

    /// Adds the newest entry, dropping the oldest when full.
    pub fn push(&mut self, entry: T) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() >= self.capacity {
            self.entries.pop_front();
            self.start += 1;
        }
        self.entries.push_back(entry);
    }

    /// Adds an entry in order of `key` (arrival): after the newest unless
    /// it sorts before some of the latest [`REORDER_SPAN`] entries (requests
    /// decoded in another order than they arrived: two senders, or a large
    /// body and a small one). Entries after it move one position on.
    pub fn push_in_order(&mut self, entry: T, key: impl Fn(&T) -> i64) {
        let k = key(&entry);
        let len = self.entries.len();
        let at = (len.saturating_sub(REORDER_SPAN)..len)
            .rev()
            .take_while(|&i| key(&self.entries[i]) > k)
            .last()
            .unwrap_or(len);
        if at == len {
            self.push(entry);
            return;
        }
        self.entries.insert(at, entry);
        if self.entries.len() > self.capacity {
            self.entries.pop_front();
            self.start += 1;
        }
    }

    /// Oldest first.
    pub fn entries(&self) -> &VecDeque<T> {
        &self.entries
    }

    /// Absolute position of `entries()[0]`.
    pub fn start(&self) -> u64 {
        self.start
    }
}
