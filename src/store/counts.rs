//! What the header counts: series active (see [`Store::active_series`]),
//! series kept, distinct series seen, metrics, and how many of them match the
//! filter. A sender that churns series leaves many kept but few active.
//!
//! One definition of active serves the header, the cardinality view (filtered
//! or not), the senders and tenants, and the `--no-tui` cardinality report: a
//! series is active while its latest sample arrived within the staleness
//! window (to a 10 s slice, see [`super::cardinality::churn::active_at`]) and is not a stale
//! marker. A stale marker says the series ended (Prometheus sends one when a
//! target or series goes away): gone at once, not five minutes later.

use super::Store;
use super::cardinality::{self, Churn};
use super::series::Series;
use crate::summary::distinct::DistinctCount;

/// Series by the slice their latest sample arrived in: all of them, and those
/// matching the filter.
#[derive(Debug, Clone)]
pub(super) struct ActiveCounts {
    all: Churn,
    matched: Churn,
}

impl ActiveCounts {
    /// None yet, active for `stale_after_ms`.
    pub fn new(stale_after_ms: i64) -> Self {
        ActiveCounts {
            all: Churn::new(stale_after_ms),
            matched: Churn::new(stale_after_ms),
        }
    }
}

/// A series' latest arrival, or 0 if it has none or ended (its latest
/// sample a stale marker): what the active counts hold it at.
fn counted_at(last_arrival_ms: i64, ended: bool) -> i64 {
    if ended { 0 } else { last_arrival_ms }
}

impl Store {
    /// Series active at `now_ms` (see the module's doc), and of those, the
    /// ones matching the filter.
    pub fn active_series(&self, now_ms: i64) -> (u64, u64) {
        let stale = self.limits.stale_after_ms;
        let active = &self.active;
        (
            active.all.active(now_ms, stale),
            active.matched.active(now_ms, stale),
        )
    }

    /// How long a series stays active without a sample.
    pub fn stale_after_ms(&self) -> i64 {
        self.limits.stale_after_ms
    }

    /// A series' latest arrival went from `times.0` to `times.1`, and whether
    /// its latest sample is a stale marker from `ended.0` to `ended.1`.
    pub(super) fn count_active(&mut self, times: (i64, i64), ended: (bool, bool), matched: bool) {
        if (times.0 == times.1 && ended.0 == ended.1) || ended == (true, true) {
            return;
        }
        let before = counted_at(times.0, ended.0);
        self.active.all.seen(before, times.1, ended.1);
        if matched {
            self.active.matched.seen(before, times.1, ended.1);
        }
    }

    /// Series `old` was evicted.
    pub(super) fn uncount_active(&mut self, old: &Series) {
        let last = counted_at(old.last_arrival_ms, cardinality::ended(old));
        self.active.all.forget(last);
        if old.matched {
            self.active.matched.forget(last);
        }
    }

    /// Nothing counted, for [`add_active`] to count a new filter's series in.
    pub(super) fn no_active(&self) -> Churn {
        Churn::new(self.limits.stale_after_ms)
    }

    /// The active series matching a new filter, counted by [`add_active`]
    /// (`None`: the filter matches all).
    pub(super) fn set_matched_active(&mut self, counts: Option<Churn>) {
        self.active.matched = counts.unwrap_or_else(|| self.active.all.clone());
    }

    /// Series kept (the least recently seen are evicted past the bounds).
    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    /// Series kept that match the filter.
    pub fn matched_series(&self) -> usize {
        self.metrics.matched_series()
    }

    /// Distinct series seen since the start, including evicted ones.
    pub fn distinct_series(&self) -> DistinctCount {
        self.distinct.count()
    }

    /// Metric names with series kept.
    pub fn metric_count(&self) -> usize {
        self.metrics.len()
    }

    /// Metric names with series matching the filter.
    pub fn matched_metrics(&self) -> usize {
        self.metrics.matched_metrics()
    }
}

/// Counts `s` in `counts` if it is active (as [`Store::count_active`] does).
pub(super) fn add_active(counts: &mut Churn, s: &Series) {
    let last = counted_at(s.last_arrival_ms, cardinality::ended(s));
    if last != 0 {
        counts.seen(0, last, false);
    }
}
