//! Forward mode's counters, kept by the receiver for every forwarded request
//! (also those the dashboard had no time to inspect): requests by what the
//! backend did, its latency over the last minute, and its rejections grouped
//! by status and message.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::mirror::MirrorCounts;
use super::outcome::Forwarded;
use super::waiting::Waiting;
use crate::ingest::model::Sender;

/// Seconds of latency kept for the percentiles.
const WINDOW_SECS: usize = 60;
/// Latency buckets per doubling: each bucket spans 9%, the percentiles' error.
const PER_OCTAVE: f64 = 8.0;
/// Buckets from 1 µs up to 2^28 µs (about 4.5 minutes, past any timeout).
const BUCKETS: usize = 28 * PER_OCTAVE as usize;
/// Rejection groups kept; beyond, rejections are counted as "other".
const MAX_GROUPS: usize = 32;
/// Longest list of backends shown (a replay of several runs); the rest is `…`.
const MAX_BACKENDS_TEXT: usize = 512;
/// Longest message text a group keeps.
const GROUP_TEXT_BYTES: usize = 160;

/// What forwarding has done so far, shared by the receiver and its consumers.
#[derive(Debug)]
pub struct ForwardStats {
    /// The backend's URL as given (a replayed capture: every backend its
    /// requests went to, see [`ForwardStats::also_to`]).
    backend: Mutex<String>,
    /// Whether the backend's certificate goes unchecked (`--forward-insecure-skip-verify`).
    pub insecure: bool,
    /// Requests the backend took (2xx).
    pub ok: AtomicU64,
    /// Requests the backend refused (any other status).
    pub rejected: AtomicU64,
    /// Requests that got no answer (promscope answered 502 or 504).
    pub failed: AtomicU64,
    /// Requests forwarded while the dashboard or output was behind: not
    /// decoded, not shown, still answered.
    pub uninspected: AtomicU64,
    /// Requests queued for inspection whose fate (shown or not inspected) is
    /// not decided yet: at exit, those the inspection did not reach.
    pub pending: AtomicU64,
    started: Instant,
    latency: Mutex<LatencyWindow>,
    rejections: Mutex<Vec<RejectionGroup>>,
    other_rejections: AtomicU64,
    mirrors: Vec<Arc<MirrorCounts>>,
    /// Requests sent to the backend and not answered yet, by sender.
    pub waiting: Arc<Waiting>,
}

/// Rejections with one status and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectionGroup {
    /// The status the sender got.
    pub status: u16,
    /// Whether the backend answered it; false for promscope's own 502 or 504
    /// when it could not reach the backend or had no answer in time.
    pub answered: bool,
    /// The backend's message's first line, label sets and numbers blanked (see
    /// [`group_text`]); promscope's own message's first line as it is.
    pub text: String,
    /// How many.
    pub count: u64,
}

/// What the header shows, taken at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForwardSnapshot {
    /// The backend's URL as given.
    pub backend: String,
    /// See [`ForwardStats::insecure`].
    pub insecure: bool,
    /// See [`ForwardStats::ok`].
    pub ok: u64,
    /// See [`ForwardStats::rejected`].
    pub rejected: u64,
    /// See [`ForwardStats::failed`].
    pub failed: u64,
    /// See [`ForwardStats::uninspected`].
    pub uninspected: u64,
    /// See [`ForwardStats::pending`].
    pub pending: u64,
    /// Backend latency p50 and p99 over the last minute, of the requests it
    /// answered, when it answered any.
    pub latency: Option<(Duration, Duration)>,
    /// Rejections by status and message, the most frequent first.
    pub rejections: Vec<RejectionGroup>,
    /// Rejections beyond the groups kept.
    pub other_rejections: u64,
    /// What each `--mirror` did.
    pub mirrors: Vec<MirrorSnapshot>,
    /// Senders with requests waiting on the backend, and for how long
    /// without a break.
    pub waiting: Vec<(Sender, Duration)>,
}

impl ForwardSnapshot {
    /// How long `sender` has had requests waiting on the backend, if it has.
    pub fn waiting_for(&self, sender: &Sender) -> Option<Duration> {
        self.waiting
            .iter()
            .find(|(s, _)| s == sender)
            .map(|&(_, since)| since)
    }
}

/// What one mirror did, taken at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MirrorSnapshot {
    /// Its URL as given.
    pub url: String,
    /// Requests it answered 2xx.
    pub ok: u64,
    /// Requests it answered otherwise, or not at all.
    pub failed: u64,
    /// Requests not sent to it: its queue was full.
    pub overflow: u64,
    /// Requests sent to it and not answered yet (at exit: never).
    pub pending: u64,
}

impl ForwardStats {
    /// Counters for forwarding to `backend`, with `mirrors`' own.
    pub fn new(backend: &str, insecure: bool, mirrors: Vec<Arc<MirrorCounts>>) -> Self {
        ForwardStats {
            backend: Mutex::new(backend.to_owned()),
            insecure,
            ok: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            uninspected: AtomicU64::new(0),
            pending: AtomicU64::new(0),
            started: Instant::now(),
            latency: Mutex::new(LatencyWindow::default()),
            rejections: Mutex::new(Vec::new()),
            other_rejections: AtomicU64::new(0),
            mirrors,
            waiting: Arc::default(),
        }
    }

    /// Names `backend` too, if it is another: a replayed capture of runs
    /// that forwarded to several backends counts them all together.
    pub fn also_to(&self, backend: &str) {
        let mut shown = lock(&self.backend);
        if shown.ends_with('…') || shown.split(", ").any(|b| b == backend) {
            return;
        }
        let next = if shown.len() + backend.len() > MAX_BACKENDS_TEXT {
            "…"
        } else {
            backend
        };
        shown.push_str(", ");
        shown.push_str(next);
    }

    /// Counts one forwarded request.
    pub fn record(&self, forwarded: &Forwarded) {
        let counter = match (&forwarded.upstream, forwarded.is_success()) {
            (_, true) => &self.ok,
            (super::outcome::Upstream::Answered { .. }, false) => &self.rejected,
            (super::outcome::Upstream::Failed { .. }, false) => &self.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let answered = matches!(
            forwarded.upstream,
            super::outcome::Upstream::Answered { .. }
        );
        // How long the backend takes to answer: a connection refused at once
        // or a timeout is no answer, and would read as a fast or slow backend.
        if answered {
            let second = self.started.elapsed().as_secs();
            lock(&self.latency).record(second, forwarded.backend_latency);
        }
        if let Some(message) = forwarded.message() {
            self.group(forwarded.status(), answered, &message);
        }
    }

    fn group(&self, status: u16, answered: bool, message: &str) {
        // promscope's own messages name the backend's address and the cause:
        // few of them, and their numbers are not a series' or a timestamp.
        let text = if answered {
            group_text(message)
        } else {
            crate::text::bounded(crate::text::first_line(message), GROUP_TEXT_BYTES)
        };
        let mut groups = lock(&self.rejections);
        if let Some(group) = groups
            .iter_mut()
            .find(|g| g.status == status && g.answered == answered && g.text == text)
        {
            group.count += 1;
        } else if groups.len() < MAX_GROUPS {
            groups.push(RejectionGroup {
                status,
                answered,
                text,
                count: 1,
            });
        } else {
            self.other_rejections.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The numbers as they are now.
    pub fn snapshot(&self) -> ForwardSnapshot {
        let second = self.started.elapsed().as_secs();
        let mut rejections = lock(&self.rejections).clone();
        rejections.sort_by(|a, b| b.count.cmp(&a.count).then(a.status.cmp(&b.status)));
        ForwardSnapshot {
            backend: lock(&self.backend).clone(),
            insecure: self.insecure,
            ok: self.ok.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            uninspected: self.uninspected.load(Ordering::Relaxed),
            pending: self.pending.load(Ordering::Relaxed),
            latency: lock(&self.latency).percentiles(second, 0.5, 0.99),
            rejections,
            other_rejections: self.other_rejections.load(Ordering::Relaxed),
            mirrors: self
                .mirrors
                .iter()
                .map(|m| MirrorSnapshot {
                    url: m.url.clone(),
                    ok: m.ok.load(Ordering::Relaxed),
                    failed: m.failed.load(Ordering::Relaxed),
                    overflow: m.overflow.load(Ordering::Relaxed),
                    pending: m.pending(),
                })
                .collect(),
            waiting: self.waiting.now(),
        }
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A message's group: its first line, with label sets (`{…}`) and runs of
/// digits (`N`) blanked, so that the same error about other series or
/// timestamps falls in one group; cut to [`GROUP_TEXT_BYTES`].
pub fn group_text(message: &str) -> String {
    let line = crate::text::first_line(message);
    let mut text = String::with_capacity(line.len().min(GROUP_TEXT_BYTES));
    let mut depth = 0usize;
    let mut in_number = false;
    for c in line.chars() {
        match c {
            '{' => {
                if depth == 0 {
                    text.push_str("{…}");
                }
                depth += 1;
            }
            '}' if depth > 0 => depth -= 1,
            _ if depth > 0 => {}
            // A digit in a word is part of the word (`s2: corrupt input`,
            // Go's s2 decoder; `/api/v1/write`), not a number.
            '0'..='9' if in_number || !text.ends_with(|p: char| p.is_ascii_alphanumeric()) => {
                if !in_number {
                    text.push('N');
                }
                in_number = true;
                continue;
            }
            c => text.push(c),
        }
        in_number = false;
        if text.len() >= GROUP_TEXT_BYTES {
            let cut = text.floor_char_boundary(GROUP_TEXT_BYTES - '…'.len_utf8());
            text.truncate(cut);
            text.push('…');
            break;
        }
    }
    text
}

/// Latencies of the last [`WINDOW_SECS`] seconds, one histogram per second.
#[derive(Debug)]
struct LatencyWindow {
    /// Slot `s % WINDOW_SECS` holds second `s`, when its `second` says so.
    slots: Vec<(u64, [u32; BUCKETS])>,
}

impl Default for LatencyWindow {
    fn default() -> Self {
        LatencyWindow {
            slots: vec![(u64::MAX, [0; BUCKETS]); WINDOW_SECS],
        }
    }
}

impl LatencyWindow {
    fn record(&mut self, second: u64, latency: Duration) {
        let slot = &mut self.slots[second as usize % WINDOW_SECS];
        if slot.0 != second {
            *slot = (second, [0; BUCKETS]);
        }
        let bucket = &mut slot.1[bucket_of(latency)];
        *bucket = bucket.saturating_add(1);
    }

    /// The latencies at quantiles `a` and `b` over the seconds up to `now`.
    fn percentiles(&self, now: u64, a: f64, b: f64) -> Option<(Duration, Duration)> {
        let mut counts = [0u64; BUCKETS];
        for (second, slot) in &self.slots {
            if *second <= now && now - second < WINDOW_SECS as u64 {
                for (sum, n) in counts.iter_mut().zip(slot) {
                    *sum += u64::from(*n);
                }
            }
        }
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let at = |q: f64| {
            let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
            let mut seen = 0;
            let bucket = counts
                .iter()
                .position(|n| {
                    seen += n;
                    seen >= rank
                })
                .unwrap_or(BUCKETS - 1);
            bucket_middle(bucket)
        };
        Some((at(a), at(b)))
    }
}

fn bucket_of(latency: Duration) -> usize {
    let micros = latency.as_secs_f64() * 1e6;
    if micros <= 1.0 {
        return 0;
    }
    ((micros.log2() * PER_OCTAVE) as usize).min(BUCKETS - 1)
}

/// The latency in the middle of a bucket (geometrically).
fn bucket_middle(bucket: usize) -> Duration {
    Duration::from_secs_f64(((bucket as f64 + 0.5) / PER_OCTAVE).exp2() / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_blank_what_differs_between_series_and_times() {
        assert_eq!(
            group_text(
                "out of order sample for series {__name__=\"up\", job=\"a{b}\"}\nout of order sample for series {__name__=\"x\"}"
            ),
            "out of order sample for series {…}"
        );
        assert_eq!(
            group_text("err-mimir-sample-timestamp-too-old: timestamp 1700000000000 is too old"),
            "err-mimir-sample-timestamp-too-old: timestamp N is too old"
        );
        // Digits within words stay: `sN: corrupt input` read as a typo.
        assert_eq!(
            group_text("s2: corrupt input (os error 111) at /api/v1/write, x264"),
            "s2: corrupt input (os error N) at /api/v1/write, x264"
        );
        assert!(group_text(&"é".repeat(500)).len() <= GROUP_TEXT_BYTES);
        assert_eq!(group_text(""), "");
    }

    #[test]
    fn every_backend_is_named_once_up_to_a_bound() {
        let stats = ForwardStats::new("http://a", false, Vec::new());
        for backend in ["http://a", "http://b", "http://a", "http://b"] {
            stats.also_to(backend);
        }
        assert_eq!(stats.snapshot().backend, "http://a, http://b");
        let long = "x".repeat(MAX_BACKENDS_TEXT);
        stats.also_to(&long);
        stats.also_to("http://c");
        assert_eq!(stats.snapshot().backend, "http://a, http://b, …");
    }

    #[test]
    fn percentiles_over_the_last_minute() {
        let mut window = LatencyWindow::default();
        assert_eq!(window.percentiles(0, 0.5, 0.99), None);
        for i in 0..100u64 {
            // 99 fast answers and one slow one, over ten seconds.
            let latency = if i == 50 {
                Duration::from_millis(200)
            } else {
                Duration::from_micros(800)
            };
            window.record(i / 10, latency);
        }
        let (p50, p99) = window.percentiles(9, 0.5, 0.99).unwrap();
        let near = |d: Duration, want: f64| (d.as_secs_f64() / want - 1.0).abs() < 0.05;
        assert!(near(p50, 800e-6), "{p50:?}");
        assert!(near(p99, 800e-6), "{p99:?}");
        let (_, max) = window.percentiles(9, 0.5, 1.0).unwrap();
        assert!(near(max, 0.2), "{max:?}");
        // A minute later the old seconds no longer count.
        window.record(70, Duration::from_secs(3));
        let (p50, _) = window.percentiles(70, 0.5, 0.99).unwrap();
        assert!(near(p50, 3.0), "{p50:?}");
        assert_eq!(window.percentiles(200, 0.5, 0.99), None);
        // Beyond the last bucket, and zero, still land in one.
        window.record(200, Duration::from_secs(100_000));
        window.record(200, Duration::ZERO);
        assert!(window.percentiles(200, 0.0, 1.0).is_some());
    }
}
