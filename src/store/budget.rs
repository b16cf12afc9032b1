//! Keeping the store within its bounds: at most `max_series` series, and at
//! most `max_bytes` of what senders fill it with (label strings, series with
//! their points, histograms and exemplars, metric entries, metadata). Past
//! either, the least recently seen series go, with the strings only they used
//! and the metrics and metadata left without series.

use super::{SeriesId, Store};

/// Live series at which the store's tables are grown at once for
/// `max_series` (see [`Store::reserve_ahead`]).
pub const RESERVE_AT: usize = 1 << 16;

/// Why series were evicted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evictions {
    /// Over `max_series`.
    pub for_count: u64,
    /// Over `max_bytes`.
    pub for_bytes: u64,
}

impl Evictions {
    /// All evicted series.
    pub fn total(&self) -> u64 {
        self.for_count + self.for_bytes
    }
}

impl Store {
    /// What `max_bytes` bounds: the store's own count of the strings, series,
    /// metrics and metadata it holds, and the requests kept as they arrived
    /// (within a share of it, see [`super::kept::budget`]). Its logs have
    /// bounds of their own; free slots and hash-table room, which follow the
    /// peak series count, are not counted.
    pub fn held_bytes(&self) -> usize {
        self.kept.bytes()
            + self.strings.bytes()
            + self.series.bytes()
            + self.metrics.bytes()
            + self.metadata.bytes()
            + self.problems.bytes()
            + self.offences.bytes()
            + self.fired_sets.bytes()
            + self.cardinality.bytes()
            + self.tenants.bytes()
            + self.senders.bytes()
    }

    /// Bytes of [`Store::held_bytes`] that cardinality tracking holds: label
    /// values and churn, tenants and senders.
    pub fn tracking_bytes(&self) -> usize {
        self.cardinality.bytes() + self.tenants.bytes() + self.senders.bytes()
    }

    /// Series evicted to respect the bounds, by cause.
    pub fn evictions(&self) -> Evictions {
        self.evictions
    }

    /// Evicts the least recently seen series while over a bound; never those
    /// of the request being ingested. In bulk (at least 1% of the live series)
    /// so the O(n) selection is amortized.
    pub(super) fn enforce_bounds(&mut self) {
        self.metadata.trim(&mut self.strings);
        loop {
            let (live, bytes) = (self.series.len(), self.held_bytes());
            let over_count = live.saturating_sub(self.limits.max_series);
            let over_bytes = bytes.saturating_sub(self.limits.max_bytes);
            if over_count == 0 && over_bytes == 0 {
                return;
            }
            // How many series free `over_bytes`, guessed from the average
            // (kept requests are let go by their own budget, not with series).
            let per_series = (bytes.saturating_sub(self.kept.bytes()) / live.max(1)).max(1);
            let count = over_count
                .max(over_bytes.div_ceil(per_series))
                .max(live / 100)
                .min(live);
            let evicted = self.series.least_recent(count, self.seq);
            if evicted.is_empty() {
                return;
            }
            let for_count = if over_bytes == 0 {
                evicted.len()
            } else {
                over_count.min(evicted.len())
            };
            self.evictions.for_count += for_count as u64;
            self.evictions.for_bytes += (evicted.len() - for_count) as u64;
            for id in evicted {
                self.remove_series(id);
            }
            self.metadata.trim(&mut self.strings);
        }
    }

    /// Once the store holds [`RESERVE_AT`] series, makes room for `max_series`
    /// series (and as many strings) in one go. Grown by doubling instead, a
    /// table of half a million series is rehashed whole by the request that
    /// fills it, between two frames (a key took 429 ms then in the soak on a
    /// busy machine); at 64k it takes milliseconds, once. Stores that stay
    /// small (tests, the fuzzer) reserve nothing.
    pub(super) fn reserve_ahead(&mut self) {
        if self.series.len() == RESERVE_AT {
            let total = self.limits.max_series;
            self.series.reserve_for(total);
            self.strings.reserve_for(total);
        }
    }

    /// Removes a series and its place in its metric, releasing its strings.
    pub(super) fn remove_series(&mut self, id: SeriesId) {
        let Some(old) = self.series.remove(id) else {
            return;
        };
        self.fired_sets.forget(id, old.fired);
        self.uncount_active(&old);
        let metric_gone = self
            .metrics
            .get(old.metric)
            .is_none_or(|m| m.series_count() == 1);
        self.track_removed(&old, metric_gone);
        for labels in old.label_sets() {
            self.strings.release_labels(labels);
        }
        self.strings.release(old.tenant());
        // Its metric goes with its last series: its metadata loses a user.
        if let Some(m) = self.metrics.get(old.metric)
            && m.series_count() == 1
        {
            self.metadata
                .metric_gone(&self.strings, self.strings.resolve(m.name));
        }
        let moved = self.metrics.remove_series(
            old.metric,
            old.pos_in_metric,
            old.matched,
            &mut self.strings,
        );
        if let Some(slot) = moved {
            self.series.set_pos_in_metric(slot, old.pos_in_metric);
        }
    }
}
