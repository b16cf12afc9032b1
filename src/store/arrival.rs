//! One series' arrivals, as the usual gap between them and what each brings:
//! how many of its samples came in given seconds (its share of its metric's
//! rate, see [`super::shares`]) and in the last 10 s windows (a filter's
//! rates, seeded). A sender that sends every 5 s brought 0.2/s whenever it is
//! looked at. (Counts in fixed 10 s windows held 2 or 3 arrivals by where the
//! windows fell, and read 0.2 and 0.3 in turn.)

use super::rate::RATE_WINDOW_MS;

/// Weight of the newest arrival in the running means.
const WEIGHT: f32 = 0.3;

/// A silence up to this many usual gaps is a late arrival, not a slower rate.
const LATE_WITHIN_GAPS: f64 = 1.5;

/// Silence after which a series with one arrival, or no longer arriving,
/// counts as sending nothing (on top of twice its usual gap).
const SILENT_AFTER_MS: f64 = 10_000.0;

/// The running means of a series' arrivals: the gap between them and what
/// each brought. 8 bytes; the latest arrival's time is the series'.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ArrivalRate {
    /// Mean milliseconds between arrivals; 0 until a second one.
    gap_ms: f32,
    /// Mean samples an arrival brings; 0 before the first.
    per_arrival: f32,
}

impl ArrivalRate {
    /// Counts `n` samples arriving at `now_ms`, after the series' previous
    /// arrival at `previous_ms` (0: none before).
    pub fn add(&mut self, previous_ms: i64, now_ms: i64, n: u32) {
        if n == 0 {
            return;
        }
        let n = n as f32;
        let gap = now_ms.saturating_sub(previous_ms);
        if previous_ms == 0 || self.per_arrival == 0.0 {
            *self = ArrivalRate {
                gap_ms: 0.0,
                per_arrival: n,
            };
        } else if gap <= 0 {
            // With the one before (same millisecond): it brought more.
            self.per_arrival += WEIGHT * n;
        } else if self.gap_ms == 0.0 {
            *self = ArrivalRate {
                gap_ms: gap as f32,
                per_arrival: n,
            };
        } else {
            self.gap_ms += WEIGHT * (gap as f32 - self.gap_ms);
            self.per_arrival += WEIGHT * (n - self.per_arrival);
        }
    }

    /// Samples per second at `now_ms`, for a series that last arrived at
    /// `last_ms`: what an arrival brings over the usual gap; once the series
    /// is later than [`LATE_WITHIN_GAPS`] gaps, over the silence so far; 0
    /// once silent for twice its gap and [`SILENT_AFTER_MS`]. `None`, not yet
    /// known, after one arrival (until that silence): what it brought over at
    /// least 10 s read 0.1 for a series scraped every 5 s, before the second.
    fn per_second(&self, last_ms: i64, now_ms: i64) -> Option<f64> {
        if self.per_arrival == 0.0 {
            return Some(0.0);
        }
        let silence = now_ms.saturating_sub(last_ms).max(0) as f64;
        let gap = f64::from(self.gap_ms);
        if silence > 2.0 * gap + SILENT_AFTER_MS {
            return Some(0.0);
        }
        let over = if gap == 0.0 {
            return None;
        } else if silence <= LATE_WITHIN_GAPS * gap {
            gap
        } else {
            silence
        };
        Some(f64::from(self.per_arrival) * 1000.0 / over)
    }

    /// About how many of its samples arrived in the seconds `from..to` (since
    /// the epoch), for a series that last arrived at `last_ms` and brought
    /// `total` in all: its arrivals every usual gap back from the latest.
    pub fn samples_in(&self, last_ms: i64, (from, to): (i64, i64), total: u64) -> f64 {
        let (from_ms, to_ms) = (from.saturating_mul(1000), to.saturating_mul(1000));
        if self.per_arrival == 0.0 || last_ms < from_ms || from_ms >= to_ms {
            return 0.0;
        }
        let gap = f64::from(self.gap_ms);
        let arrivals = if gap == 0.0 {
            // One arrival: in those seconds, or after them.
            f64::from(u8::from(last_ms < to_ms))
        } else {
            ((last_ms as f64 + gap).min(to_ms as f64) - from_ms as f64) / gap
        };
        (f64::from(self.per_arrival) * arrivals).min(total as f64)
    }

    /// Samples in the 10 s window before that of `now_ms` and in that one, as
    /// the rate at `now_ms` has them (see [`super::rate::RateBuckets::seeded`]).
    pub fn recent(&self, last_ms: i64, now_ms: i64) -> [u64; 2] {
        let Some(rate) = self.per_second(last_ms, now_ms) else {
            // One arrival: what it brought, in the window it came in.
            let n = self.per_arrival.round() as u64;
            let window = |ms: i64| ms.div_euclid(RATE_WINDOW_MS);
            return match window(now_ms) - window(last_ms) {
                0 => [0, n],
                1 => [n, 0],
                _ => [0, 0],
            };
        };
        let into = now_ms.rem_euclid(RATE_WINDOW_MS) as f64 / 1000.0;
        let window = RATE_WINDOW_MS as f64 / 1000.0;
        [(rate * window).round() as u64, (rate * into).round() as u64]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_732_000_000_000;

    /// A series arriving every `gap_ms` from `T0 + offset_ms` (with `jitter`
    /// ms late now and then), `n` samples each: the rate shown every 100 ms
    /// over three minutes, after the first two arrivals.
    fn shown(offset_ms: i64, gap_ms: i64, n: u32, jitter: i64) -> Vec<String> {
        let mut rate = ArrivalRate::default();
        let mut last = 0;
        let mut next = T0 + offset_ms;
        let mut arrivals = 0;
        let mut shown = Vec::new();
        for now in (T0..T0 + 180_000).step_by(100) {
            while next <= now {
                rate.add(last, next, n);
                last = next;
                arrivals += 1;
                next = T0 + offset_ms + arrivals * gap_ms + jitter * (arrivals % 3);
            }
            if arrivals >= 2 {
                shown.push(crate::format::count_or_unknown(rate.per_second(last, now)));
            }
        }
        shown
    }

    #[test]
    fn a_steady_sender_shows_a_steady_rate_across_window_boundaries() {
        // Every 5 s at offsets in and across the old 10 s windows, exact and
        // a few ms late now and then; and every 15 s, 10 s, 1 s (10 at once).
        for (offset, gap, n, jitter, expected) in [
            (0, 5_000, 1, 0, "0.2"),
            (4_999, 5_000, 1, 0, "0.2"),
            (9_950, 5_000, 1, 3, "0.2"),
            (1_234, 15_000, 1, 7, "0.1"),
            (7_000, 10_000, 1, 0, "0.1"),
            (300, 1_000, 10, 0, "10"),
        ] {
            let shown = shown(offset, gap, n, jitter);
            assert!(!shown.is_empty());
            assert!(
                shown.iter().all(|s| s == expected),
                "every {gap} ms from {offset}: {:?}",
                shown
                    .iter()
                    .filter(|s| *s != expected)
                    .take(5)
                    .collect::<Vec<_>>()
            );
        }
        // Exactly, not only as shown.
        let mut rate = ArrivalRate::default();
        rate.add(0, T0, 1);
        rate.add(T0, T0 + 5_000, 1);
        rate.add(T0 + 5_000, T0 + 10_000, 1);
        for now in [T0 + 10_000, T0 + 12_500, T0 + 15_000] {
            assert_eq!(rate.per_second(T0 + 10_000, now), Some(0.2));
        }
    }

    /// The old fixed windows read a steady 5 s sender as 0.2 and 0.3 in turn.
    #[test]
    fn the_rate_between_arrivals_does_not_depend_on_window_edges() {
        let mut rate = ArrivalRate::default();
        let mut last = 0;
        for i in 0..20 {
            let at = T0 + 7_300 + i * 5_000;
            rate.add(last, at, 1);
            last = at;
        }
        let readings: Vec<Option<f64>> = (0..50)
            .map(|i| rate.per_second(last, last + i * 100))
            .collect();
        assert!(readings.iter().all(|&r| r == Some(0.2)), "{readings:?}");
    }

    #[test]
    fn a_sender_that_stops_fades_to_nothing() {
        let mut rate = ArrivalRate::default();
        let mut last = 0;
        for i in 0..10 {
            rate.add(last, T0 + i * 5_000, 2);
            last = T0 + i * 5_000;
        }
        assert_eq!(rate.per_second(last, last + 7_000), Some(0.4));
        // Later than one and a half gaps: over the silence so far.
        assert_eq!(rate.per_second(last, last + 10_000), Some(0.2));
        assert_eq!(rate.per_second(last, last + 20_000), Some(0.1));
        assert_eq!(rate.per_second(last, last + 20_001), Some(0.0));
        // One arrival: not yet known (it read 0.5, for 5 samples, whatever
        // the series' interval), then nothing once silent.
        let mut once = ArrivalRate::default();
        once.add(0, T0, 5);
        assert_eq!(once.per_second(T0, T0 + 1_000), None);
        assert_eq!(once.per_second(T0, T0 + 10_001), Some(0.0));
        assert_eq!(ArrivalRate::default().per_second(0, T0), Some(0.0));
        // Its samples are in the window they came in.
        assert_eq!(once.recent(T0, T0 + 1_000), [0, 5]);
        assert_eq!(once.recent(T0, T0 + 10_000), [5, 0]);
    }

    #[test]
    fn arrivals_in_the_same_millisecond_bring_more_at_once() {
        let mut rate = ArrivalRate::default();
        rate.add(0, T0, 1);
        rate.add(T0, T0 + 1_000, 1);
        rate.add(T0 + 1_000, T0 + 1_000, 1);
        assert!(rate.per_second(T0 + 1_000, T0 + 1_000) > Some(1.0));
        // Time going back (a replay's clock) counts like the same moment.
        rate.add(T0 + 1_000, T0, 1);
        assert!(
            rate.per_second(T0 + 1_000, T0 + 1_000)
                .is_some_and(f64::is_finite)
        );
    }

    #[test]
    fn recent_windows_hold_what_the_rate_says() {
        let mut rate = ArrivalRate::default();
        let mut last = 0;
        for s in 0..60 {
            rate.add(last, 1_000_000 + s * 1000, 100);
            last = 1_000_000 + s * 1000;
        }
        assert_eq!(rate.recent(last, 1_060_000), [1000, 0]);
        assert_eq!(rate.recent(last, 1_060_500), [1000, 50]);
        // Stopped: what the fading rate says.
        assert_eq!(rate.recent(last, 1_063_500), [222, 78]);
    }
}
