//! What the header counts: series active lately (a sample arrived within
//! [`ACTIVE_WINDOW_SECS`]), series kept, distinct series seen, metrics, and
//! how many of them match the filter. A sender that churns series leaves many
//! kept but few active.

use super::Store;
use crate::summary::distinct::DistinctCount;

/// How recent a series' latest sample must be for it to count as active:
/// Prometheus's staleness period.
pub const ACTIVE_WINDOW_SECS: i64 = 300;

/// Width of the time slices series are counted in: the window is exact to this.
const SLICE_MS: i64 = 10_000;

/// Slices that cover the window and the one it starts in.
const SLICES: usize = (ACTIVE_WINDOW_SECS * 1000 / SLICE_MS) as usize + 1;

/// Series by the 10 s slice their latest sample arrived in, for the last
/// [`SLICES`] slices: a series moves to a newer slice when a sample arrives,
/// and out of the count when its slice gets too old or it is evicted.
#[derive(Debug, Clone)]
pub struct ActiveSeries {
    counts: [u32; SLICES],
    /// The newest slice, or `i64::MIN` before the first sample.
    newest: i64,
}

impl Default for ActiveSeries {
    fn default() -> Self {
        ActiveSeries {
            counts: [0; SLICES],
            newest: i64::MIN,
        }
    }
}

fn slice_of(ms: i64) -> i64 {
    ms.div_euclid(SLICE_MS)
}

fn index(slice: i64) -> usize {
    slice.rem_euclid(SLICES as i64) as usize
}

impl ActiveSeries {
    /// Whether `slice` is still counted.
    fn holds(&self, slice: i64) -> bool {
        self.newest != i64::MIN && slice <= self.newest && self.newest - slice < SLICES as i64
    }

    fn advance(&mut self, slice: i64) {
        if self.newest != i64::MIN && slice > self.newest {
            let gap = (slice - self.newest).min(SLICES as i64);
            for s in slice - gap + 1..=slice {
                self.counts[index(s)] = 0;
            }
        }
        self.newest = self.newest.max(slice);
    }

    /// A series whose latest sample had arrived at `before_ms` (0: none) got
    /// one at `now_ms`. A clock that stepped back leaves it where it was.
    pub fn moved(&mut self, before_ms: i64, now_ms: i64) {
        let (from, to) = (slice_of(before_ms), slice_of(now_ms));
        if before_ms != 0 && from >= to {
            return;
        }
        self.advance(to);
        if before_ms != 0 {
            self.gone(before_ms);
        }
        if self.holds(to) {
            self.counts[index(to)] += 1;
        }
    }

    /// A series whose latest sample arrived at `last_ms` (0: none) is no
    /// longer counted (evicted).
    pub fn gone(&mut self, last_ms: i64) {
        let slice = slice_of(last_ms);
        if last_ms != 0 && self.holds(slice) {
            let count = &mut self.counts[index(slice)];
            *count = count.saturating_sub(1);
        }
    }

    /// Series whose latest sample arrived within [`ACTIVE_WINDOW_SECS`]
    /// before `now_ms` (to 10 s: the slice the window starts in counts whole).
    pub fn count(&self, now_ms: i64) -> u64 {
        let oldest = slice_of(now_ms - ACTIVE_WINDOW_SECS * 1000);
        (oldest..=slice_of(now_ms))
            .filter(|&s| self.holds(s))
            .map(|s| u64::from(self.counts[index(s)]))
            .sum()
    }

    /// The same slices, counting no series yet.
    pub fn emptied(&self) -> Self {
        ActiveSeries {
            counts: [0; SLICES],
            newest: self.newest,
        }
    }
}

impl Store {
    /// Series whose latest sample arrived within [`ACTIVE_WINDOW_SECS`]
    /// before `now_ms`, and of those, the ones matching the filter.
    pub fn active_series(&self, now_ms: i64) -> (u64, u64) {
        (self.active.count(now_ms), self.matched_active.count(now_ms))
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

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_732_000_000_000;

    #[test]
    fn a_series_counts_until_its_latest_sample_is_older_than_the_window() {
        let mut active = ActiveSeries::default();
        active.moved(0, T0);
        active.moved(0, T0 + 1000);
        assert_eq!(active.count(T0 + 2000), 2);
        // The first moves on, the second stays behind.
        active.moved(T0, T0 + 200_000);
        assert_eq!(active.count(T0 + 200_000), 2);
        assert_eq!(active.count(T0 + 301_000 + SLICE_MS), 1);
        assert_eq!(active.count(T0 + 200_000 + 310_000), 0);
        // Seen again long after: counted once.
        active.moved(T0 + 1000, T0 + 1_000_000);
        assert_eq!(active.count(T0 + 1_000_000), 1);
    }

    #[test]
    fn eviction_and_a_clock_stepping_back_keep_the_count_right() {
        let mut active = ActiveSeries::default();
        for i in 0..10 {
            active.moved(0, T0 + i * 1000);
        }
        active.moved(T0 + 5000, T0 + 2000);
        assert_eq!(active.count(T0 + 10_000), 10);
        active.gone(T0 + 3000);
        active.gone(T0 - 3_600_000);
        assert_eq!(active.count(T0 + 10_000), 9);
    }
}
