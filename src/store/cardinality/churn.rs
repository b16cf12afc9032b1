//! Series coming and going, per metric and overall: series by the 10 s slice
//! their latest sample arrived in, far enough back that those not seen for the
//! staleness window can be counted as they went; series created and series
//! marked stale (a StaleNaN as their latest sample) by the slice it happened in.

/// Width of the time slices: counts are exact to this.
pub const SLICE_MS: i64 = 10_000;

/// New and gone series per second are averaged over this long.
pub const CHURN_SPAN_MS: i64 = 60_000;

/// How far back changes are counted: "change over the last minutes".
pub const HISTORY_MS: i64 = 300_000;

/// What happened in one slice.
#[derive(Debug, Clone, Copy, Default)]
struct Slice {
    /// Series whose latest sample arrived in it.
    last_seen: u32,
    /// Series first seen in it.
    created: u32,
    /// Series whose latest sample, arrived in it, was a stale marker.
    marked: u32,
}

/// Series by slice, for the staleness window and [`HISTORY_MS`] before it.
#[derive(Debug, Clone)]
pub struct Churn {
    slices: Box<[Slice]>,
    /// The newest slice, or `i64::MIN` before the first event.
    newest: i64,
    /// When the first event arrived (`i64::MAX` before it): rates over a
    /// span that began earlier are over the time since.
    first_ms: i64,
}

fn slice_of(ms: i64) -> i64 {
    ms.div_euclid(SLICE_MS)
}

/// Whether a series whose latest sample arrived at `last_ms` (0: none) is
/// counted active at `now_ms` by [`Churn::active`]: its slice is after the one
/// `stale_after_ms` before `now_ms` and not after `now_ms`'s.
pub fn active_at(last_ms: i64, now_ms: i64, stale_after_ms: i64) -> bool {
    let last = slice_of(last_ms);
    last_ms != 0 && slice_of(now_ms - stale_after_ms) < last && last <= slice_of(now_ms)
}

/// New and gone series over a span.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Turnover {
    /// Series first seen.
    pub created: u64,
    /// Series not seen for the staleness window, or marked stale.
    pub gone: u64,
}

impl Turnover {
    /// Per second over `span_ms`: (created, gone).
    pub fn per_second(self, span_ms: i64) -> (f64, f64) {
        let secs = (span_ms as f64 / 1000.0).max(1.0);
        (self.created as f64 / secs, self.gone as f64 / secs)
    }
}

impl Churn {
    /// Slices enough for a staleness window of `stale_after_ms`.
    pub fn new(stale_after_ms: i64) -> Self {
        let span = stale_after_ms.max(SLICE_MS) + HISTORY_MS;
        // A power of two, so that a slice's place is a mask, not a division.
        let len = ((span / SLICE_MS) as usize + 2).next_power_of_two();
        Churn {
            slices: vec![Slice::default(); len].into_boxed_slice(),
            newest: i64::MIN,
            first_ms: i64::MAX,
        }
    }

    fn index(&self, slice: i64) -> usize {
        // Two's complement: the same as `rem_euclid` for a power of two.
        (slice as u64 & (self.slices.len() as u64 - 1)) as usize
    }

    /// Whether `slice` is still held.
    fn holds(&self, slice: i64) -> bool {
        self.newest != i64::MIN && slice <= self.newest && self.newest - slice < self.len()
    }

    fn len(&self) -> i64 {
        self.slices.len() as i64
    }

    fn at(&mut self, ms: i64) -> Option<&mut Slice> {
        self.first_ms = self.first_ms.min(ms);
        let slice = slice_of(ms);
        if self.newest == i64::MIN || slice > self.newest {
            let gap = if self.newest == i64::MIN {
                self.len()
            } else {
                (slice - self.newest).min(self.len())
            };
            for s in slice - gap + 1..=slice {
                let i = self.index(s);
                self.slices[i] = Slice::default();
            }
            self.newest = slice;
        }
        if !self.holds(slice) {
            return None;
        }
        let i = self.index(slice);
        Some(&mut self.slices[i])
    }

    /// A series was first seen at `now_ms`.
    pub fn created(&mut self, now_ms: i64) {
        if let Some(s) = self.at(now_ms) {
            s.created = s.created.saturating_add(1);
        }
    }

    /// A series whose latest sample had arrived at `before_ms` (0: none, or
    /// it was marked stale) got one at `now_ms`; `marked` if that one is a
    /// stale marker: it is gone now.
    pub fn seen(&mut self, before_ms: i64, now_ms: i64, marked: bool) {
        self.seen_n(before_ms, now_ms, marked, 1);
    }

    /// [`Churn::seen`] of `n` series at once.
    pub fn seen_n(&mut self, before_ms: i64, now_ms: i64, marked: bool, n: u32) {
        if before_ms != 0 && slice_of(before_ms) >= slice_of(now_ms) && !marked {
            return;
        }
        if before_ms != 0 {
            self.forget_n(before_ms, n);
        }
        if let Some(s) = self.at(now_ms) {
            if marked {
                s.marked = s.marked.saturating_add(n);
            } else {
                s.last_seen = s.last_seen.saturating_add(n);
            }
        }
    }

    /// A series whose latest sample arrived at `last_ms` (0: none, or it was
    /// marked stale) is no longer counted (evicted, or marked stale).
    pub fn forget(&mut self, last_ms: i64) {
        self.forget_n(last_ms, 1);
    }

    fn forget_n(&mut self, last_ms: i64, n: u32) {
        let slice = slice_of(last_ms);
        if last_ms != 0 && self.holds(slice) {
            let i = self.index(slice);
            let count = &mut self.slices[i].last_seen;
            *count = count.saturating_sub(n);
        }
    }

    fn count(&self, from_ms: i64, to_ms: i64, field: impl Fn(&Slice) -> u32) -> u64 {
        (slice_of(from_ms) + 1..=slice_of(to_ms))
            .filter(|&s| self.holds(s))
            .map(|s| u64::from(field(&self.slices[self.index(s)])))
            .sum()
    }

    /// Series seen within `stale_after_ms` before `now_ms` (to a slice: those
    /// [`active_at`] says are, the ended ones left out by the caller).
    pub fn active(&self, now_ms: i64, stale_after_ms: i64) -> u64 {
        self.count(now_ms - stale_after_ms, now_ms, |s| s.last_seen)
    }

    /// The time [`Churn::turnover`] over `span_ms` before `now_ms` counts:
    /// from the start of its first whole slice (its last slice is the current,
    /// partial one), or from the first event if later; at least a second.
    /// Dividing by `span_ms` instead read up to a sixth low at every slice
    /// start, and far lower in the first minute.
    pub fn counted_ms(&self, now_ms: i64, span_ms: i64) -> i64 {
        let span_ms = span_ms.clamp(SLICE_MS, HISTORY_MS);
        let from = ((slice_of(now_ms - span_ms) + 1) * SLICE_MS).max(self.first_ms);
        now_ms.saturating_sub(from).max(1000)
    }

    /// The span to say figures over `span_ms` before `now_ms` are over: all of
    /// it once the first event is older, else the whole seconds since that
    /// event (at least one). "(1m)" twenty seconds after the first series
    /// claimed a minute that was not counted.
    pub fn said_span_ms(&self, now_ms: i64, span_ms: i64) -> i64 {
        let since_first = now_ms.saturating_sub(self.first_ms);
        if self.first_ms == i64::MAX || since_first >= span_ms {
            span_ms
        } else {
            (since_first / 1000).max(1) * 1000
        }
    }

    /// Series created, and series gone, within `span_ms` before `now_ms`
    /// (to a slice; `span_ms` at most [`HISTORY_MS`]).
    pub fn turnover(&self, now_ms: i64, span_ms: i64, stale_after_ms: i64) -> Turnover {
        let span_ms = span_ms.clamp(SLICE_MS, HISTORY_MS);
        let since = now_ms - span_ms;
        let went_stale = self.count(since - stale_after_ms, now_ms - stale_after_ms, |s| {
            s.last_seen
        });
        Turnover {
            created: self.count(since, now_ms, |s| s.created),
            gone: went_stale + self.count(since, now_ms, |s| s.marked),
        }
    }

    /// New and gone series per second over the last [`CHURN_SPAN_MS`], over
    /// the time counted ([`Churn::counted_ms`]): the one figure for new series
    /// per second that the header, the cardinality view and the report show.
    pub fn per_second(&self, now_ms: i64, stale_after_ms: i64) -> (f64, f64) {
        self.turnover(now_ms, CHURN_SPAN_MS, stale_after_ms)
            .per_second(self.counted_ms(now_ms, CHURN_SPAN_MS))
    }

    /// Heap bytes.
    pub fn bytes(&self) -> usize {
        size_of_val(&*self.slices)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_732_000_000_000;
    const STALE: i64 = 300_000;

    #[test]
    fn series_not_seen_for_the_window_count_as_gone_once() {
        let mut churn = Churn::new(STALE);
        for i in 0..10 {
            churn.created(T0);
            churn.seen(0, T0 + i, false);
        }
        // Half keep sending every 10 s.
        for t in (1..34).map(|k| T0 + k * SLICE_MS) {
            for _ in 0..5 {
                churn.seen(t - SLICE_MS, t, false);
            }
        }
        let now = T0 + 33 * SLICE_MS;
        assert_eq!(churn.active(now, STALE), 5);
        let last_minute = churn.turnover(now, 60_000, STALE);
        assert_eq!(
            last_minute,
            Turnover {
                created: 0,
                gone: 5
            }
        );
        let five_minutes = churn.turnover(T0 + 299_000, HISTORY_MS, STALE);
        assert_eq!(five_minutes.created, 10);
        assert_eq!(five_minutes.gone, 0, "not yet stale");
    }

    #[test]
    fn a_stale_marker_ends_a_series_at_once_and_eviction_forgets_it() {
        let mut churn = Churn::new(STALE);
        churn.created(T0);
        churn.seen(0, T0, false);
        churn.created(T0);
        churn.seen(0, T0, false);
        churn.seen(T0, T0 + 20_000, true);
        assert_eq!(churn.active(T0 + 20_000, STALE), 1);
        assert_eq!(churn.turnover(T0 + 20_000, 60_000, STALE).gone, 1);
        // The ended series returns: active again (marked stays counted).
        churn.seen(0, T0 + 30_000, false);
        assert_eq!(churn.active(T0 + 30_000, STALE), 2);
        churn.forget(T0);
        assert_eq!(churn.active(T0 + 30_000, STALE), 1);
        // Long after, the one still there went stale; nothing is held from before.
        let later = T0 + 30_000 + STALE + 30_000;
        assert_eq!(churn.turnover(later, 60_000, STALE).gone, 1);
        assert_eq!(churn.active(T0 + 100 * STALE, STALE), 0);
    }

    #[test]
    fn rates_are_over_the_time_counted() {
        let mut churn = Churn::new(STALE);
        // One new series a second from T0 (a slice start) for 65 s.
        for k in 0..65 {
            churn.created(T0 + k * 1000);
        }
        let now = T0 + 65_000;
        let counted = churn.counted_ms(now, 60_000);
        assert_eq!(counted, 55_000, "slices from T0 + 10 s to now");
        let (new, gone) = churn.turnover(now, 60_000, STALE).per_second(counted);
        assert_eq!((new, gone), (1.0, 0.0));
        // Sixteen seconds in, 16 series are 1/s, not 16/60.
        let mut young = Churn::new(STALE);
        for k in 0..16 {
            young.created(T0 + 3_000 + k * 1000);
        }
        let now = T0 + 19_000;
        let rate = young
            .turnover(now, 60_000, STALE)
            .per_second(young.counted_ms(now, 60_000));
        assert_eq!(rate.0, 1.0);
        // And said to be over the 16 s counted, not over a minute.
        assert_eq!(young.said_span_ms(now, 60_000), 16_000);
        assert_eq!(churn.said_span_ms(T0 + 65_000, 60_000), 60_000);
        assert_eq!(churn.said_span_ms(T0 + 65_000, 300_000), 65_000);
        assert_eq!(Churn::new(STALE).said_span_ms(now, 60_000), 60_000);
    }

    #[test]
    fn a_shorter_window_is_honoured() {
        let mut churn = Churn::new(30_000);
        churn.seen(0, T0, false);
        assert_eq!(churn.active(T0 + 20_000, 30_000), 1);
        assert_eq!(churn.active(T0 + 50_000, 30_000), 0);
        assert_eq!(churn.turnover(T0 + 50_000, 60_000, 30_000).gone, 1);
        assert!(churn.bytes() <= 64 * 12);
    }
}
