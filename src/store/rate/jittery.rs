//! Rates of a sender whose requests come a second early or late: over the
//! time between its requests, not over windows of whole intervals.
//!
//! A window of whole intervals holds one request an interval only when the
//! requests keep time: a real Prometheus scraping every 5 s sent its RW2
//! requests 4.0 to 6.1 s apart, and windows of two intervals (10 s) held 1, 2
//! or 3 of them, reading 0.5, 1 and 1.5 times its rate in turn (about one
//! second in fourteen), the sparkline swinging with it.

use super::{HISTORY_SECS, RateBuckets, Reading};

/// A sender's interval, as [`RateBuckets::typical_period`] tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Period {
    /// Seconds from one request (or repeat of its counts) to the next.
    pub secs: i64,
    /// The median of gaps that differ: its rates are taken between its
    /// requests (see [`RateBuckets::between_requests`]).
    pub jittery: bool,
}

/// Seconds a request may come early or late for the sender to keep its
/// interval: a second, and a fifth of longer intervals (requests a second
/// early or late make gaps of 3 to 7 s around 5 s; within a second only,
/// one gap in five off the median, the interval of such a sender was known
/// and unknown in turn).
pub(super) fn jitter_allowed(interval: i64) -> i64 {
    1 + interval / 5
}

/// Seconds a jittery sender's rate is read over: its time from first to last
/// request is off by its jitter at both ends and a second of counting in
/// whole seconds (3 s of 40: under a tenth); four intervals, for the slow.
const JITTERY_WINDOW_SECS: i64 = 40;
const JITTERY_INTERVALS: i64 = 4;

/// The seconds a jittery sender of `interval` is read over for a `window`.
fn jittery_span(window: i64, interval: i64) -> i64 {
    window
        .max(JITTERY_WINDOW_SECS)
        .max(JITTERY_INTERVALS.saturating_mul(interval))
        .min(HISTORY_SECS as i64)
}

/// The seconds with events in a stretch of history, with the events counted
/// up to each: windows of it are read without counting their seconds again
/// (a sparkline of 100 columns, each read over 40 s, counted 4000 seconds a
/// row every frame).
pub(super) struct BusySeconds {
    secs: Vec<i64>,
    /// Events in the busy seconds before each (one more than `secs`).
    events_before: Vec<u64>,
}

impl BusySeconds {
    /// The first and last busy second in `from..to`, and the events of
    /// those after the first and of all.
    fn within(&self, from: i64, to: i64) -> Option<(i64, i64, u64, u64)> {
        let lo = self.secs.partition_point(|&s| s < from);
        let hi = self.secs.partition_point(|&s| s < to);
        if lo >= hi {
            return None;
        }
        let (first, last, upto) = (self.secs[lo], self.secs[hi - 1], self.events_before[hi]);
        Some((
            first,
            last,
            upto - self.events_before[lo + 1],
            upto - self.events_before[lo],
        ))
    }
}

impl RateBuckets {
    /// The busy seconds of `from..to`.
    pub(super) fn busy_seconds(&self, from: i64, to: i64) -> BusySeconds {
        let mut busy = BusySeconds {
            secs: Vec::new(),
            events_before: vec![0],
        };
        // Nothing is counted before the first second or after the newest.
        for sec in from.max(self.first)..to.min(self.newest.saturating_add(1)) {
            let n = self.count_at(sec);
            if n > 0 {
                busy.secs.push(sec);
                let before = busy.events_before.last().copied().unwrap_or(0);
                busy.events_before.push(before + u64::from(n));
            }
        }
        busy
    }

    /// The rate of a jittery sender of `interval` at `end`, read over at
    /// least `window` seconds; `None` until three quarters of that are
    /// counted (over fewer, the first requests' jitter is more than a tenth
    /// of the time between them).
    pub(super) fn jittery_rate(&self, end: i64, window: i64, interval: i64) -> Option<Reading> {
        let span = jittery_span(window, interval);
        (end >= self.whole_from.saturating_add(span * 3 / 4)).then(|| {
            let busy = self.busy_seconds(end - span, end);
            self.between_requests(end - span, end, interval, &busy)
        })
    }

    /// A sparkline column of a jittery sender ending at `col_end` (before
    /// `end`), with `busy` the seconds of history before `end`: its rate
    /// then, or where it was not yet known, the first rate known (NaN until
    /// then), so that a start draws no ramp and no gap.
    pub(super) fn jittery_column(
        &self,
        (col_end, end): (i64, i64),
        window: i64,
        interval: i64,
        busy: &BusySeconds,
    ) -> f64 {
        let span = jittery_span(window, interval);
        let at = col_end.max(self.whole_from.saturating_add(span * 3 / 4));
        if at > end {
            return f64::NAN;
        }
        self.between_requests(at - span, at, interval, busy)
            .per_second
    }

    /// Events per second between the first and the last request in the
    /// seconds `from..to` (of those `busy` holds): those of the requests
    /// after the first, over the time from the first to the last (each
    /// interval between them carries the request at its end), however early
    /// or late the requests at the window's edges came. Once the next
    /// request is later than an `interval` and its jitter, the time since
    /// counts too: a sender that stopped falls to 0 (nothing after the first
    /// request left).
    fn between_requests(&self, from: i64, to: i64, interval: i64, busy: &BusySeconds) -> Reading {
        let from = from.max(self.first);
        let Some((first, last, after_first, all)) = busy.within(from, to) else {
            return Reading {
                per_second: 0.0,
                counted: (from, to),
            };
        };
        let overdue = (to - last - interval - jitter_allowed(interval)).max(0);
        let time = last - first + overdue;
        if time == 0 {
            // One request, the next not yet due: no time between requests.
            return Reading {
                per_second: all as f64 / (to - from) as f64,
                counted: (from, to),
            };
        }
        Reading {
            per_second: after_first as f64 / time as f64,
            counted: (first + 1, last + 1),
        }
    }
}
