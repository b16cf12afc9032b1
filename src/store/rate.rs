//! Event rates: per metric and for all traffic, counts in one-second buckets
//! over the last few minutes (current rates and sparklines); per series, two
//! ten-second windows (a rate in 12 bytes, for a million series).

use std::sync::atomic::{AtomicI64, Ordering};

/// Seconds of history kept.
pub const HISTORY_SECS: usize = 180;

/// Counts per wall-clock second, for the last [`HISTORY_SECS`] seconds.
#[derive(Debug, Clone)]
pub struct RateBuckets {
    counts: Box<[u32; HISTORY_SECS]>,
    /// The second (since the epoch) that the newest bucket counts.
    newest: i64,
    /// The first second anything was counted (so a new series is not averaged over time it did not exist).
    first: i64,
    /// Whether what came before `first` is unknown rather than nothing (see
    /// [`RateBuckets::counting_from`]).
    unknown_before_first: bool,
    /// The sender's interval as last worked out, and the second it was for
    /// (see [`RateBuckets::period`]).
    period: PeriodMemo,
}

/// The sender's interval (0: unknown) and the second it was worked out for:
/// a memo that reads take (atomics, as the store is read from several
/// threads while filtering; a race only works it out twice).
#[derive(Debug, Default)]
struct PeriodMemo {
    at: AtomicI64,
    secs: AtomicI64,
}

impl PeriodMemo {
    fn get(&self) -> (i64, Option<i64>) {
        let secs = self.secs.load(Ordering::Relaxed);
        (self.at.load(Ordering::Relaxed), (secs > 0).then_some(secs))
    }

    fn set(&self, (at, secs): (i64, Option<i64>)) {
        self.at.store(at, Ordering::Relaxed);
        self.secs.store(secs.unwrap_or(0), Ordering::Relaxed);
    }
}

impl Clone for PeriodMemo {
    fn clone(&self) -> Self {
        let memo = PeriodMemo::default();
        memo.set(self.get());
        memo
    }
}

impl Default for RateBuckets {
    fn default() -> Self {
        RateBuckets {
            counts: Box::new([0; HISTORY_SECS]),
            newest: i64::MIN,
            first: i64::MIN,
            unknown_before_first: false,
            period: PeriodMemo {
                at: AtomicI64::new(i64::MIN),
                secs: AtomicI64::new(0),
            },
        }
    }
}

impl RateBuckets {
    /// Counts that start at `since_ms`, with what came before unknown (not
    /// zero): rates are averaged from then on, and sparkline columns before
    /// then are NaN. For events counted apart from some moment on.
    pub fn counting_from(since_ms: i64) -> Self {
        let sec = since_ms.div_euclid(1000);
        RateBuckets {
            newest: sec,
            first: sec,
            unknown_before_first: true,
            ..RateBuckets::default()
        }
    }

    /// Counts that start with `recent`, the events of the 10 s window before
    /// that of `now_ms` and of that one (as [`super::arrival::ArrivalRate::recent`] gives them,
    /// summed over series), each spread evenly over its seconds: exact per
    /// window, so a rate is right at once. What came before is unknown.
    pub fn seeded(now_ms: i64, recent: [u64; 2]) -> Self {
        let window_start = now_ms.div_euclid(RATE_WINDOW_MS) * RATE_WINDOW_MS / 1000;
        let previous_start = window_start - RATE_WINDOW_MS / 1000;
        let mut rate = RateBuckets::counting_from(previous_start * 1000);
        rate.spread(previous_start..window_start, recent[0]);
        rate.spread(window_start..now_ms.div_euclid(1000) + 1, recent[1]);
        rate
    }

    /// Adds `n` events spread evenly over the seconds `secs`.
    fn spread(&mut self, secs: std::ops::Range<i64>, n: u64) {
        let count = (secs.end - secs.start).max(1) as u64;
        for (i, sec) in secs.enumerate() {
            let share = n / count + u64::from((i as u64) < n % count);
            self.add(sec * 1000, share);
        }
    }

    fn advance(&mut self, sec: i64) {
        if self.newest == i64::MIN {
            self.newest = sec;
            self.first = sec;
            return;
        }
        if sec <= self.newest {
            return;
        }
        let gap = (sec - self.newest).min(HISTORY_SECS as i64);
        for s in 1..=gap {
            let idx = (self.newest + s).rem_euclid(HISTORY_SECS as i64) as usize;
            self.counts[idx] = 0;
        }
        self.newest = sec;
    }

    /// The start of the first second anything was counted, if any was.
    pub fn first_ms(&self) -> Option<i64> {
        (self.newest != i64::MIN).then(|| self.first.saturating_mul(1000))
    }

    /// Adds `n` events at wall-clock millisecond `now_ms`.
    pub fn add(&mut self, now_ms: i64, n: u64) {
        let sec = now_ms.div_euclid(1000);
        self.advance(sec);
        // A clock that stepped back lands in the newest bucket.
        let sec = sec.min(self.newest);
        if self.newest - sec >= HISTORY_SECS as i64 {
            return;
        }
        let idx = sec.rem_euclid(HISTORY_SECS as i64) as usize;
        self.counts[idx] = self.counts[idx].saturating_add(n.min(u64::from(u32::MAX)) as u32);
    }

    fn count_at(&self, sec: i64) -> u32 {
        if self.newest == i64::MIN
            || sec > self.newest
            || self.newest - sec >= HISTORY_SECS as i64
            || sec < self.first
        {
            return 0;
        }
        self.counts[sec.rem_euclid(HISTORY_SECS as i64) as usize]
    }

    /// Events per second over the `window` seconds before `now_ms` (the current,
    /// partial second excluded), widened to a whole number of the sender's
    /// intervals once they are known (see [`RateBuckets::typical_period`]): a
    /// job scraped every 15 s has one scrape in some 10 s windows and none in
    /// others, and read 0 and 1.5 times its rate in turn. With less history
    /// than that, over the whole intervals since the first event; before the
    /// interval is known, over the time since the first event.
    pub fn per_second(&self, now_ms: i64, window: i64) -> f64 {
        if self.newest == i64::MIN {
            return 0.0;
        }
        let now_sec = now_ms.div_euclid(1000);
        let since_first = now_sec.saturating_sub(self.first);
        let start = match self.period(now_sec) {
            Some(p) if since_first >= p => {
                let periods = (window + p - 1) / p;
                now_sec - p * periods.min(since_first / p)
            }
            _ => (now_sec - window).max(self.first),
        };
        let secs = (now_sec - start).max(1);
        let total: u64 = (start..now_sec).map(|s| u64::from(self.count_at(s))).sum();
        // During the very first second, count the partial second too.
        if now_sec == self.first {
            return f64::from(self.count_at(now_sec));
        }
        total as f64 / secs as f64
    }

    /// `columns` values, oldest first, one every `secs_per_column` seconds,
    /// ending with the last complete second before `now_ms`: each the
    /// per-second average over a window that holds a whole number of the
    /// sender's intervals (see [`RateBuckets::typical_period`]). Columns as wide
    /// as a window would alias: a healthy 5 s sender drawn in 4 s columns has
    /// every fifth column empty. Where counting started later (see
    /// [`RateBuckets::counting_from`]), a column is averaged over the seconds
    /// counted, and is NaN if there are none.
    pub fn series(&self, now_ms: i64, columns: usize, secs_per_column: usize) -> Vec<f64> {
        let end = now_ms.div_euclid(1000); // exclusive
        let step = secs_per_column.max(1) as i64;
        let gap = self.period(end).unwrap_or(1);
        let window = gap * ((step + gap - 1) / gap);
        (0..columns as i64)
            .rev()
            .map(|c| {
                let col_end = end - c * step;
                if self.newest == i64::MIN || col_end <= self.first {
                    // Nothing counted yet: nothing came, or unknown.
                    return if self.unknown_before_first {
                        f64::NAN
                    } else {
                        0.0
                    };
                }
                let col_start = col_end - window;
                // A window reaching back before counting began is not a
                // whole number of the sender's intervals: averaged with the
                // nothing before, it drew a ramp over the first window (a job
                // every 5 s and one every 15 s: ▂▃▄▅▆▇█ over 30 s). Unknown,
                // drawn blank, until a whole window is counted.
                if col_start < self.first && window > step {
                    return f64::NAN;
                }
                let col_start = col_start.max(self.first);
                let sum: u64 = (col_start..col_end)
                    .map(|s| u64::from(self.count_at(s)))
                    .sum();
                sum as f64 / (col_end - col_start) as f64
            })
            .collect()
    }

    /// [`RateBuckets::typical_period`], worked out again each second while
    /// the history is short and every [`PERIOD_KEPT_SECS`] after: a list of
    /// ten thousand metrics asks for each one's every frame.
    fn period(&self, end: i64) -> Option<i64> {
        let (at, period) = self.period.get();
        let settled = end.saturating_sub(self.first) >= MAX_PERIOD_SECS as i64;
        let fresh = if settled {
            (at..at.saturating_add(PERIOD_KEPT_SECS)).contains(&end)
        } else {
            at == end
        };
        if fresh {
            return period;
        }
        let period = self.typical_period(end);
        self.period.set((end, period));
        period
    }

    /// The sender's interval before `end`, in seconds: the shortest shift
    /// under which the per-second counts repeat, or failing that the median
    /// gap between seconds with events; `None` until there are enough of
    /// them to tell. The gap alone is not enough: a job of three targets
    /// scraped every 5 s at different offsets has busy seconds 1 to 3 s apart
    /// but repeats every 5 s, and windows of its gap draw a saw-tooth.
    fn typical_period(&self, end: i64) -> Option<i64> {
        let start = (end - HISTORY_SECS as i64).max(self.first);
        let counts: Vec<u64> = (start..end).map(|s| u64::from(self.count_at(s))).collect();
        let busy: Vec<usize> = (0..counts.len()).filter(|&i| counts[i] > 0).collect();
        let mut gaps: Vec<usize> = busy.windows(2).map(|w| w[1] - w[0]).collect();
        if gaps.len() < 3 {
            return None;
        }
        let middle = gaps.len() / 2;
        let gap = *gaps.select_nth_unstable(middle).1;
        // How far the counts shifted by `p` differ from themselves, in
        // thousandths of what they hold (0: they repeat exactly).
        let mismatch = |p: usize| {
            let pairs = counts.iter().skip(p).zip(&counts);
            let (diff, total) =
                pairs.fold((0, 0), |(d, t), (&a, &b)| (d + a.abs_diff(b), t + a + b));
            (total > 0).then(|| diff * 1000 / total)
        };
        let repeats = (1..=(counts.len() / 2).min(MAX_PERIOD_SECS))
            .filter_map(|p| Some((mismatch(p)?, p)))
            .min();
        Some(match repeats {
            Some((mismatch, p)) if mismatch <= REPEATS_WITHIN => p,
            _ => gap,
        } as i64)
    }
}

/// The windows [`RateBuckets::seeded`] is given counts of.
pub const RATE_WINDOW_MS: i64 = 10_000;

/// How long a sender's interval, once the history is long enough, is taken
/// as it was worked out.
const PERIOD_KEPT_SECS: i64 = 5;

/// Longest sender interval [`RateBuckets::typical_period`] looks for.
const MAX_PERIOD_SECS: usize = 60;
/// Counts that differ by at most this share (in thousandths) from themselves
/// shifted by a period repeat with it: a sample landing a second late now and
/// then does not hide the sender's interval.
const REPEATS_WITHIN: u64 = 200;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::arrival::ArrivalRate;

    #[test]
    fn rates_and_series() {
        let mut r = RateBuckets::default();
        for s in 0..10 {
            r.add(1_000_000 + s * 1000, 100);
        }
        // 10 complete seconds of 100/s.
        assert_eq!(r.per_second(1_010_000, 5), 100.0);
        assert_eq!(r.per_second(1_010_000, 60), 100.0);
        // 20 s of silence halves a 40 s window.
        assert_eq!(r.per_second(1_030_000, 40), 1000.0 / 30.0);
        assert_eq!(r.series(1_010_000, 3, 2), [100.0, 100.0, 100.0]);
        assert_eq!(r.series(1_012_000, 2, 2), [100.0, 0.0]);
        // A column with fewer events than seconds is not rounded down to nothing.
        let mut sparse = RateBuckets::default();
        sparse.add(1_000_500, 3);
        assert_eq!(sparse.series(1_004_000, 1, 4), [0.75]);
        // Old buckets are cleared when the ring wraps.
        r.add(1_000_000 + 400_000, 7);
        assert_eq!(r.per_second(1_401_000, 5), 7.0 / 5.0);
    }

    #[test]
    fn counting_from_a_moment_leaves_what_came_before_unknown() {
        let mut r = RateBuckets::counting_from(1_010_500);
        for s in 10..20 {
            r.add(1_000_000 + s * 1000, 50);
        }
        // Averaged over the 10 s counted, not the 20 s window.
        assert_eq!(r.per_second(1_020_000, 20), 50.0);
        let columns = r.series(1_020_000, 4, 5);
        assert!(columns[0].is_nan() && columns[1].is_nan(), "{columns:?}");
        assert_eq!(columns[2..], [50.0, 50.0]);
        // The first column has 2 of its 5 seconds counted: averaged over those;
        // the last has 3 busy seconds of 5.
        assert_eq!(r.series(1_022_000, 3, 5), [50.0, 50.0, 30.0]);
    }

    #[test]
    fn seeded_from_the_last_two_windows_a_rate_is_right_at_once() {
        // 100 events a second for a minute, per series windows and all in one.
        let (mut series, mut all) = (ArrivalRate::default(), RateBuckets::default());
        let mut last = 0;
        for s in 0..60 {
            series.add(last, 1_000_000 + s * 1000, 100);
            last = 1_000_000 + s * 1000;
            all.add(1_000_000 + s * 1000, 100);
        }
        let now = 1_060_000;
        let seeded = RateBuckets::seeded(now, series.recent(last, now));
        assert_eq!(series.recent(last, now), [1000, 0]);
        assert_eq!(seeded.per_second(now, 10), all.per_second(now, 10));
        assert_eq!(seeded.per_second(now + 3500, 10), 70.0);
        let columns = seeded.series(now, 6, 5);
        assert!(columns[..4].iter().all(|c| c.is_nan()), "{columns:?}");
        assert_eq!(columns[4..], [100.0, 100.0]);
    }

    /// Three minutes of batches of 10 every 5 s from targets `offsets_ms`
    /// into each interval, drawn in columns of 1 to 7 s: every column alike.
    fn assert_steady_whatever_the_column_width(offsets_ms: &[i64]) {
        let mut r = RateBuckets::default();
        let start = 1_000_000_300;
        for i in 0..36 {
            for offset in offsets_ms {
                r.add(start + i * 5_000 + offset, 10);
            }
        }
        let now = start + 36 * 5_000;
        for secs_per_column in [1, 2, 3, 4, 6, 7] {
            let columns = r.series(now, 20, secs_per_column);
            assert!(
                columns.iter().all(|&c| c == columns[0] && c > 0.0),
                "{secs_per_column} s columns: {columns:?}"
            );
        }
    }

    #[test]
    fn a_steady_sender_draws_a_steady_line_whatever_the_column_width() {
        assert_steady_whatever_the_column_width(&[0]);
    }

    #[test]
    fn targets_scraped_at_different_offsets_draw_a_steady_line() {
        // Three targets of one job, 0, 1.2 and 2.4 s apart: busy seconds 1 to
        // 3 s apart, repeating every 5 s.
        assert_steady_whatever_the_column_width(&[0, 1_200, 2_400]);
    }

    /// Batches of `n` every `interval` s for three minutes: the rate read at
    /// every second once the interval is known (four batches in, the last in a
    /// complete second).
    fn rates_read_each_second(interval: i64, n: u64) -> Vec<f64> {
        let mut r = RateBuckets::default();
        let start = 1_000_000_400;
        let mut read = Vec::new();
        for sec in 0..180 {
            if sec % interval == 0 {
                r.add(start + sec * 1000, n);
            }
            let rate = r.per_second(start + sec * 1000 + 500, 10);
            if sec > 3 * interval {
                read.push(rate);
            }
        }
        read
    }

    #[test]
    fn a_sender_slower_than_the_window_reads_its_rate_at_every_second() {
        // 15 s and 60 s scrape intervals: 10 s windows held one scrape or none,
        // and read 15 and 0 (or 10 and 0) in turn.
        for (interval, n, rate) in [
            (15, 150, 10.0),
            (60, 600, 10.0),
            (5, 50, 10.0),
            (1, 10, 10.0),
        ] {
            let read = rates_read_each_second(interval, n);
            assert!(
                read.iter().all(|&r| (r - rate).abs() < 1e-9),
                "every {interval} s: {read:?}"
            );
        }
    }

    #[test]
    fn before_a_window_has_passed_the_rate_is_over_whole_intervals() {
        // Every 5 s, 50 events: 10/s. 17 s after the first batch (four of them,
        // the interval known), three whole intervals: 150 events in 15 s.
        let mut r = RateBuckets::default();
        let start = 1_000_000_400;
        for i in 0..4 {
            r.add(start + i * 5_000, 50);
        }
        assert_eq!(r.per_second(start + 17_000, 30), 10.0);
    }

    #[test]
    fn the_first_columns_after_a_start_show_no_ramp() {
        // A job every 5 s (50 events) and one every 15 s (30 events): 12/s,
        // repeating every 15 s. Drawn 90 s in at 5 s a column, windows of 15 s
        // reaching back before the first batch read 5.3 and 8.7 before 12 (a
        // real Prometheus with such jobs drew ▂▃▄▅▆▇█ over its first 30 s).
        let mut r = RateBuckets::default();
        let start = 1_000_000_400;
        for i in 0..18 {
            r.add(start + i * 5_000, 50);
            if i % 3 == 0 {
                r.add(start + i * 5_000 + 2_000, 30);
            }
        }
        let now = start + 90_000;
        let columns = r.series(now, 24, 5);
        assert!(
            columns.iter().all(|&c| c.is_nan() || c == 0.0 || c == 12.0),
            "nothing between nothing and 12/s: {columns:?}"
        );
        let unknown = columns.iter().filter(|c| c.is_nan()).count();
        let first = columns.iter().position(|c| c.is_nan()).expect("the start");
        assert!(columns[..first].iter().all(|&c| c == 0.0), "{columns:?}");
        assert!(
            unknown <= 2,
            "at most a window's columns unknown: {columns:?}"
        );
        assert!(
            columns[first + unknown..].iter().all(|&c| c == 12.0),
            "from a whole window on, every column 12/s: {columns:?}"
        );
    }

    #[test]
    fn first_second_shows_what_arrived() {
        let mut r = RateBuckets::default();
        r.add(5_500, 42);
        assert_eq!(r.per_second(5_900, 10), 42.0);
    }
}
