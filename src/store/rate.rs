//! Event rates: per metric and for all traffic, counts in one-second buckets
//! over the last few minutes (current rates and sparklines); per series, two
//! ten-second windows (a rate in 12 bytes, for a million series).

use std::sync::atomic::{AtomicI64, Ordering};

use jittery::{Period, jitter_allowed};

mod jittery;

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

/// The sender's interval (0: unknown, negative: jittery) and the second it
/// was worked out for: a memo that reads take (atomics, as the store is read
/// from several threads while filtering; a race only works it out twice).
#[derive(Debug, Default)]
struct PeriodMemo {
    at: AtomicI64,
    secs: AtomicI64,
}

impl PeriodMemo {
    fn get(&self) -> (i64, Option<Period>) {
        let secs = self.secs.load(Ordering::Relaxed);
        let period = (secs != 0).then(|| Period {
            secs: secs.abs(),
            jittery: secs < 0,
        });
        (self.at.load(Ordering::Relaxed), period)
    }

    fn set(&self, (at, period): (i64, Option<Period>)) {
        let secs = period.map_or(0, |p| if p.jittery { -p.secs } else { p.secs });
        self.at.store(at, Ordering::Relaxed);
        self.secs.store(secs, Ordering::Relaxed);
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
    /// the whole intervals counted. A sender whose requests come early or
    /// late is read between its requests (see [`RateBuckets::jittery_rate`]).
    ///
    /// `None`, not yet known, until a whole interval is counted from the
    /// first whole second (that of the first event is partial: what came in
    /// it before is unknown). Over
    /// the time since the first event instead, a job of 162 series every
    /// 5 s (32.4/s) read 162, then 54, in the seconds after a start.
    pub fn per_second(&self, now_ms: i64, window: i64) -> Option<f64> {
        self.reading(now_ms, window).map(|r| r.per_second)
    }

    /// [`RateBuckets::per_second`], with the seconds it counted.
    pub fn reading(&self, now_ms: i64, window: i64) -> Option<Reading> {
        let now_sec = now_ms.div_euclid(1000);
        if self.newest == i64::MIN {
            // Nothing came, or nothing was counted yet.
            return (!self.unknown_before_first).then_some(Reading {
                per_second: 0.0,
                counted: (now_sec, now_sec),
            });
        }
        // Whole seconds counted, a partial first one left out.
        let counted = now_sec.saturating_sub(self.whole_from);
        let start = match self.period(now_sec) {
            Some(Period {
                secs,
                jittery: true,
            }) => return self.jittery_rate(now_sec, window, secs),
            Some(Period { secs: p, .. }) => {
                let periods = ((window + p - 1) / p).min(counted / p);
                if periods <= 0 {
                    return None;
                }
                now_sec - p * periods
            }
            // Traffic with no interval to tell after a whole history (it
            // stopped, or is that sparse), or silent for longer than any
            // interval looked for (it stopped: a sender of two requests
            // read `…/s`, not yet known, for 3 minutes): what the window
            // holds.
            None if counted >= HISTORY_SECS as i64
                || now_sec - self.newest > MAX_PERIOD_SECS as i64 =>
            {
                now_sec - window.max(1)
            }
            None => return None,
        };
        Some(Reading {
            per_second: self.average(start, now_sec),
            counted: (start, now_sec),
        })
    }

    /// `columns` values, oldest first, one every `secs_per_column` seconds,
    /// ending with the last complete second before `now_ms`: each the
    /// per-second average over a window that holds a whole number of the
    /// sender's intervals (see [`RateBuckets::typical_period`]). Columns as wide
    /// as a window would alias: a healthy 5 s sender drawn in 4 s columns has
    /// every fifth column empty. Where counting started later (see
    /// [`RateBuckets::counting_from`]), a column is averaged over the seconds
    /// counted, and is NaN if there are none. Once the sender's interval is
    /// known, a column whose window reaches back before the first whole
    /// second counted reads the whole intervals counted (see
    /// [`RateBuckets::at_start`]). A sender whose requests come early or late
    /// is read between its requests (see [`RateBuckets::jittery_column`]).
    pub fn series(&self, now_ms: i64, columns: usize, secs_per_column: usize) -> Vec<f64> {
        let end = now_ms.div_euclid(1000); // exclusive
        let step = secs_per_column.max(1) as i64;
        let period = self.period(end);
        let busy = period
            .filter(|p| p.jittery)
            .map(|_| self.busy_seconds(self.newest.saturating_sub(HISTORY_SECS as i64), end));
        let gap = period.map_or(1, |p| p.secs);
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
                // every 5 s and one every 15 s: ▂▃▄▅▆▇█ over 30 s; a sender
                // of 2 requests a second, the first in the second half of a
                // second, `▇███` in 4 s columns). Drawn blank instead, each
                // start left a gap in the line just after it (`▁ ███`, the
                // demo's 5 s jobs in 2 s columns). Traffic with no interval
                // to tell (one burst) is averaged as it came.
                match period {
                    Some(p) if let Some(busy) = &busy => {
                        self.jittery_column((col_end, end), step, p.secs, busy)
                    }
                    Some(p) if col_start < self.whole_from => self.at_start(col_end, end, p.secs),
                    _ => {
                        // Before the first event nothing came (the sender
                        // had not started): the whole column counts.
                        // Averaged over the seconds since the first event
                        // only, a 5 s column ending 2 s after a job's first
                        // scrape read 2.5 times its rate (a real
                        // Prometheus's metrics each drew `█▄▄▄…`). Where
                        // counting began later, what came before is
                        // unknown: over the seconds counted.
                        let col_start = if self.unknown_before_first {
                            col_start.max(self.first)
                        } else {
                            col_start
                        };
                        self.average(col_start, col_end)
                    }
                }
            })
            .collect()
    }

    /// The rate a sparkline column ending at `col_end` (before `end`) reads
    /// where its window reaches back before the first whole second counted
    /// (that of the first event is partial: what came in it before is
    /// unknown): over the whole intervals of `period` seconds counted in it,
    /// or where it holds none, over the first interval counted (NaN until
    /// that has passed).
    fn at_start(&self, col_end: i64, end: i64, period: i64) -> f64 {
        let intervals = (col_end - self.whole_from).div_euclid(period);
        let (from, to) = if intervals > 0 {
            (col_end - intervals * period, col_end)
        } else {
            (self.whole_from, self.whole_from + period)
        };
        if to > end {
            return f64::NAN;
        }
        self.average(from, to)
    }

    /// Events per second over the seconds `from..to`.
    fn average(&self, from: i64, to: i64) -> f64 {
        let sum: u64 = (from..to).map(|s| u64::from(self.count_at(s))).sum();
        sum as f64 / (to - from) as f64
    }

    /// [`RateBuckets::typical_period`], worked out again each second while
    /// the history is short and every [`PERIOD_KEPT_SECS`] after: a list of
    /// ten thousand metrics asks for each one's every frame.
    fn period(&self, end: i64) -> Option<Period> {
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
    /// pauses a whole second, whose gaps are nearly all within its jitter
    /// (see [`jitter_allowed`]) of it, or once every shift up to
    /// [`MAX_PERIOD_SECS`] was tried, and is jittery (see [`Period`]) where
    /// the gaps differ.
    fn typical_period(&self, end: i64) -> Option<Period> {
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
        let many = gaps.len() >= 3;
        let enough = |p: usize| many || p >= SLOW_PERIOD_SECS;
        // Over a short history a few pairs are all there is, and one that
        // differs in five is no repetition: `█▁▁█▁█` (three targets every
        // 5 s, just started) shifted by 2 s.
        let within =
            REPEATS_WITHIN * counts.len().min(MAX_PERIOD_SECS) as u64 / MAX_PERIOD_SECS as u64;
        let middle = gaps.len() / 2;
        let median = *gaps.select_nth_unstable(middle).1;
        // Requests that come a second early or late now and then repeat
        // under no shift (a real Prometheus scraping every 5 s sent 4.0 to
        // 6.1 s apart: its rate read `…` for its first two minutes, and came
        // and went): where nearly every gap is within its jitter of the
        // median, that is the interval, and where some are not the median,
        // the sender is jittery: read between its requests, as windows of
        // whole intervals hold one request more or less at their edges. Not
        // for gaps of 1 or 2 s, which a second either way makes anything.
        let spaced = median >= 3;
        let allowed = jitter_allowed(median as i64) as usize;
        let off = gaps
            .iter()
            .filter(|&&g| g.abs_diff(median) > allowed)
            .count();
        let regular = spaced && off * IRREGULAR_GAPS_IN <= gaps.len();
        let interval = Period {
            secs: median as i64,
            jittery: spaced && gaps.iter().any(|&g| g != median),
        };
        match repeats {
            // Requests now and then in the second before or after, whose
            // counts nearly repeat all the same (one every 5 s, by chance
            // under a shift of 20 s): jittery, if less so.
            Some((mismatch, p)) if mismatch <= within && enough(p) => {
                Some(if interval.jittery && mismatch > 0 {
                    interval
                } else {
                    Period {
                        secs: p as i64,
                        jittery: false,
                    }
                })
            }
            _ if many && (regular || longest <= 1 || counts.len() >= 2 * MAX_PERIOD_SECS) => {
                Some(interval)
            }
            _ => None,
        }
    }
}

/// A rate as read, and the seconds whose counts it is of (`from..to`, since
/// the epoch): a part of the traffic (a series of a metric) read over the
/// same seconds is its share of the rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    pub per_second: f64,
    pub counted: (i64, i64),
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
/// Gaps between busy seconds of which at most one may be more than its
/// jitter (see [`jitter_allowed`]) off the median for it to be the sender's
/// interval all the same.
const IRREGULAR_GAPS_IN: usize = 5;

#[cfg(test)]
mod tests;
