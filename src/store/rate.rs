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
    /// The first second counted whole: the one after the first event's (what
    /// came in that second before it is unknown), or the one counting began
    /// at.
    whole_from: i64,
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
            whole_from: i64::MIN,
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
            whole_from: sec + i64::from(since_ms.rem_euclid(1000) > 0),
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
            self.whole_from = sec + 1;
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
    /// intervals (see [`RateBuckets::typical_period`]): a job scraped every
    /// 15 s has one scrape in some 10 s windows and none in others, and read
    /// 0 and 1.5 times its rate in turn. With less history than that, over
    /// the whole intervals counted.
    ///
    /// `None`, not yet known, until a whole interval is counted from the
    /// first whole second (that of the first event is partial: what came in
    /// it before is unknown). Over
    /// the time since the first event instead, a job of 162 series every
    /// 5 s (32.4/s) read 162, then 54, in the seconds after a start.
    pub fn per_second(&self, now_ms: i64, window: i64) -> Option<f64> {
        if self.newest == i64::MIN {
            // Nothing came, or nothing was counted yet.
            return (!self.unknown_before_first).then_some(0.0);
        }
        let now_sec = now_ms.div_euclid(1000);
        // Whole seconds counted, a partial first one left out.
        let counted = now_sec.saturating_sub(self.whole_from);
        let start = match self.period(now_sec) {
            Some(p) => {
                let periods = ((window + p - 1) / p).min(counted / p);
                if periods <= 0 {
                    return None;
                }
                now_sec - p * periods
            }
            // Traffic with no interval to tell after a whole history (it
            // stopped, or is that sparse): what the window holds.
            None if counted >= HISTORY_SECS as i64 => now_sec - window.max(1),
            None => return None,
        };
        let total: u64 = (start..now_sec).map(|s| u64::from(self.count_at(s))).sum();
        Some(total as f64 / (now_sec - start) as f64)
    }

    /// `columns` values, oldest first, one every `secs_per_column` seconds,
    /// ending with the last complete second before `now_ms`: each the
    /// per-second average over a window that holds a whole number of the
    /// sender's intervals (see [`RateBuckets::typical_period`]). Columns as wide
    /// as a window would alias: a healthy 5 s sender drawn in 4 s columns has
    /// every fifth column empty. Where counting started later (see
    /// [`RateBuckets::counting_from`]), a column is averaged over the seconds
    /// counted, and is NaN if there are none. A column whose window reaches
    /// back before the first second counted reads the first whole window
    /// counted (NaN until that has passed).
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
                // every 5 s and one every 15 s: ▂▃▄▅▆▇█ over 30 s). Drawn
                // blank instead, each start left a gap in the line just after
                // it (`▁ ███`, the demo's 5 s jobs in 2 s columns). Such a
                // column's seconds are all counted: it reads the first whole
                // window counted, and is unknown only until that has passed.
                if col_start < self.first && window > step {
                    let first_end = self.first + window;
                    if first_end > end {
                        return f64::NAN;
                    }
                    let sum: u64 = (self.first..first_end)
                        .map(|s| u64::from(self.count_at(s)))
                        .sum();
                    return sum as f64 / window as f64;
                }
                // Before the first event nothing came (the sender had not
                // started): the whole column counts. Averaged over the seconds
                // since the first event only, a 5 s column ending 2 s after a
                // job's first scrape read 2.5 times its rate (a real
                // Prometheus's metrics each drew `█▄▄▄…`). Where counting
                // began later, what came before is unknown: over the seconds
                // counted.
                let col_start = if self.unknown_before_first {
                    col_start.max(self.first)
                } else {
                    col_start
                };
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
    ///
    /// Told only once the history could show it: a shift shorter than half
    /// the longest silence between events is no interval (the counts of a job
    /// of three targets every minute, `███` then 57 s of nothing, nearly
    /// repeat under a shift of 1 s); four busy seconds are needed, or three
    /// for an interval of 10 s or more (a job every minute has three in the
    /// history kept); the median gap is taken only for traffic that never
    /// pauses a whole second, or once every shift up to [`MAX_PERIOD_SECS`]
    /// was tried.
    fn typical_period(&self, end: i64) -> Option<i64> {
        let start = (end - HISTORY_SECS as i64).max(self.first);
        let counts: Vec<u64> = (start..end).map(|s| u64::from(self.count_at(s))).collect();
        let busy: Vec<usize> = (0..counts.len()).filter(|&i| counts[i] > 0).collect();
        let mut gaps: Vec<usize> = busy.windows(2).map(|w| w[1] - w[0]).collect();
        if gaps.len() < 2 {
            return None;
        }
        let longest = gaps.iter().copied().max().unwrap_or(1);
        // How far the counts shifted by `p` differ from themselves, in
        // thousandths of what they hold (0: they repeat exactly).
        let mismatch = |p: usize| {
            let pairs = counts.iter().skip(p).zip(&counts);
            let (diff, total) =
                pairs.fold((0, 0), |(d, t), (&a, &b)| (d + a.abs_diff(b), t + a + b));
            (total > 0).then(|| diff * 1000 / total)
        };
        let repeats = (longest.div_ceil(2).max(1)..=(counts.len() / 2).min(MAX_PERIOD_SECS))
            .filter_map(|p| Some((mismatch(p)?, p)))
            .min();
        let enough = |p: usize| gaps.len() >= 3 || p >= SLOW_PERIOD_SECS;
        // Over a short history a few pairs are all there is, and one that
        // differs in five is no repetition: `█▁▁█▁█` (three targets every
        // 5 s, just started) shifted by 2 s.
        let within =
            REPEATS_WITHIN * counts.len().min(MAX_PERIOD_SECS) as u64 / MAX_PERIOD_SECS as u64;
        match repeats {
            Some((mismatch, p)) if mismatch <= within && enough(p) => Some(p as i64),
            _ if gaps.len() >= 3 && (longest <= 1 || counts.len() >= 2 * MAX_PERIOD_SECS) => {
                let middle = gaps.len() / 2;
                Some(*gaps.select_nth_unstable(middle).1 as i64)
            }
            _ => None,
        }
    }
}

/// The windows [`RateBuckets::seeded`] is given counts of.
pub const RATE_WINDOW_MS: i64 = 10_000;

/// How long a sender's interval, once the history is long enough, is taken
/// as it was worked out.
const PERIOD_KEPT_SECS: i64 = 5;

/// Longest sender interval [`RateBuckets::typical_period`] looks for.
const MAX_PERIOD_SECS: usize = 60;
/// An interval from which three busy seconds are enough to tell it.
const SLOW_PERIOD_SECS: usize = 10;
/// Counts that differ by at most this share (in thousandths) from themselves
/// shifted by a period repeat with it: a sample landing a second late now and
/// then does not hide the sender's interval. Over a history shorter than
/// [`MAX_PERIOD_SECS`], that much less.
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
        // 10 seconds of 100/s (the first, where counting began, left out).
        assert_eq!(r.per_second(1_010_000, 5), Some(100.0));
        assert_eq!(r.per_second(1_010_000, 60), Some(100.0));
        // 20 s of silence after 9 counted seconds of 100/s.
        assert_eq!(r.per_second(1_030_000, 40), Some(900.0 / 29.0));
        assert_eq!(r.series(1_010_000, 3, 2), [100.0, 100.0, 100.0]);
        assert_eq!(r.series(1_012_000, 2, 2), [100.0, 0.0]);
        // A column with fewer events than seconds is not rounded down to nothing.
        let mut sparse = RateBuckets::default();
        sparse.add(1_000_500, 3);
        assert_eq!(sparse.series(1_004_000, 1, 4), [0.75]);
        // Old buckets are cleared when the ring wraps.
        r.add(1_000_000 + 400_000, 7);
        assert_eq!(r.per_second(1_401_000, 5), Some(7.0 / 5.0));
    }

    #[test]
    fn counting_from_a_moment_leaves_what_came_before_unknown() {
        let mut r = RateBuckets::counting_from(1_010_500);
        for s in 10..20 {
            r.add(1_000_000 + s * 1000, 50);
        }
        // Averaged over the 9 whole seconds counted, not the 20 s window.
        assert_eq!(r.per_second(1_020_000, 20), Some(50.0));
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
        assert_eq!(seeded.per_second(now + 3500, 10), Some(70.0));
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
        for sec in 0..360 {
            if sec % interval == 0 {
                r.add(start + sec * 1000, n);
            }
            let rate = r.per_second(start + sec * 1000 + 500, 10);
            if sec > 3 * interval {
                read.push(rate.unwrap_or(f64::NAN));
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
        assert_eq!(r.per_second(start + 17_000, 30), Some(10.0));
    }

    #[test]
    fn the_first_columns_after_a_start_show_no_ramp_and_no_gap() {
        // A job every 5 s (50 events) and one every 15 s (30 events): 12/s,
        // repeating every 15 s. Drawn 90 s in at 5 s a column, windows of 15 s
        // reaching back before the first batch read 5.3 and 8.7 before 12 (a
        // real Prometheus with such jobs drew ▂▃▄▅▆▇█ over its first 30 s);
        // drawn blank instead, they left a gap after the start (`▁ ███`).
        let mut r = RateBuckets::default();
        let start = 1_000_000_400;
        for i in 0..18 {
            r.add(start + i * 5_000, 50);
            if i % 3 == 0 {
                r.add(start + i * 5_000 + 2_000, 30);
            }
        }
        let now = start + 90_000;
        for secs_per_column in [1, 2, 3, 5] {
            let columns = r.series(now, 90 / secs_per_column + 4, secs_per_column);
            let first = columns.iter().position(|&c| c != 0.0).expect("the start");
            assert!(
                columns[first..].iter().all(|&c| c == 12.0),
                "{secs_per_column} s columns: nothing, then 12/s in every column: {columns:?}"
            );
            assert!(first >= 4, "{columns:?}");
        }
        // The demo's jobs: 40 series every 5 s, in 2 s columns, read at every
        // second once the interval is known: nothing, then 8/s, no gap.
        let mut r = RateBuckets::default();
        for sec in 0..60 {
            if sec % 5 == 0 {
                r.add(start + sec * 1000, 40);
            }
            let columns = r.series(start + sec * 1000 + 500, 40, 2);
            if r.period(start.div_euclid(1000) + sec).is_some() {
                let first = columns.iter().position(|&c| c != 0.0).expect("the start");
                assert!(
                    columns[first..].iter().all(|&c| c == 8.0),
                    "{sec} s in: {columns:?}"
                );
            }
        }
    }

    #[test]
    fn the_column_of_a_start_is_not_higher_than_the_rate() {
        // 54 events every 5 s (10.8/s), drawn in 5 s columns (as wide as the
        // interval) at every phase: the column holding the first batch read
        // 54 over the 1 to 4 s since it, up to 54/s.
        for phase in 0..5_000 {
            let mut r = RateBuckets::default();
            let first = 1_000_000_700 + phase;
            for i in 0..12 {
                r.add(first + i * 5_000, 54);
            }
            let columns = r.series(first + 58_000, 20, 5);
            assert!(
                columns.iter().all(|&c| c.is_nan() || c <= 10.8),
                "phase {phase}: {columns:?}"
            );
            assert_eq!(columns[19], 10.8);
        }
    }

    /// The rates read every 100 ms for two minutes from the first batch of
    /// `n` events from each of `offsets_ms`, every 5 s.
    fn read_after_a_start(offsets_ms: &[i64], n: u64) -> Vec<Option<f64>> {
        let mut r = RateBuckets::default();
        let start = 1_000_000_700;
        let mut read = Vec::new();
        for at in (start..start + 120_000).step_by(100) {
            for offset in offsets_ms {
                if (at - start - offset).rem_euclid(5_000) == 0 {
                    r.add(at, n);
                }
            }
            read.push(r.per_second(at, 10));
        }
        read
    }

    #[test]
    fn after_a_start_a_rate_is_unknown_until_a_whole_interval_is_counted() {
        // 162 series every 5 s: 32.4/s. Over the time since the first batch
        // it read 162, then 54; a job of three targets at different offsets
        // (54 each) read 54, 81, then 36.
        for (offsets, n) in [(&[0][..], 162), (&[0, 1_200, 2_400][..], 54)] {
            let read = read_after_a_start(offsets, n);
            let wrong: Vec<_> = read.iter().flatten().filter(|&&r| r != 32.4).collect();
            assert!(wrong.is_empty(), "{offsets:?}: {wrong:?}");
            let known = read
                .iter()
                .position(Option::is_some)
                .expect("known at last");
            assert!(read[known..].iter().all(Option::is_some));
            // Known within a few intervals (10 to 16 s in).
            assert!(known <= 160, "{offsets:?}: unknown for {known} reads");
        }
        // Nothing came at all: nothing, known.
        assert_eq!(RateBuckets::default().per_second(5_000, 10), Some(0.0));
        // Counting only began: unknown.
        assert_eq!(
            RateBuckets::counting_from(5_000).per_second(5_500, 10),
            None
        );
    }

    #[test]
    fn a_job_every_minute_reads_its_rate_and_a_stopped_one_zero() {
        // Three targets 1 s apart every minute, 60 events each: 3/s. Their
        // counts shifted by 1 s nearly repeat (`███` then 57 s of nothing).
        let mut r = RateBuckets::default();
        let start = 1_000_000_000;
        for sec in 0..300 {
            if sec % 60 < 3 {
                r.add(start + sec * 1000, 60);
            }
            let rate = r.per_second(start + sec * 1000 + 500, 10);
            assert!(rate.is_none() || rate == Some(3.0), "{sec} s in: {rate:?}");
            if sec > 125 {
                assert_eq!(rate, Some(3.0), "{sec} s in");
            }
        }
        // Stopped: 0 once the interval has passed and the history holds it.
        assert_eq!(r.per_second(start + 500_000, 10), Some(0.0));
        assert_eq!(r.per_second(start + 900_000, 10), Some(0.0));
    }
}
