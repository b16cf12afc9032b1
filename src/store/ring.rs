//! The recent samples of one series, in a bounded ring that keeps values as
//! exact `f64`s and timestamps as delta-of-deltas: nothing per sample while a
//! series is scraped at a fixed interval, otherwise a byte per sample (and 8
//! more for each interval that changes by over 127 ms).

use std::collections::VecDeque;

/// A retained sample: timestamp and value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Sample time, milliseconds since the epoch.
    pub timestamp_ms: i64,
    /// Value (for histogram series: the observation count).
    pub value: f64,
}

/// The code of a delta-of-delta that does not fit in a byte; the value itself
/// is queued in [`Irregular::escapes`].
const ESCAPE: u8 = u8::MAX;

/// Up to `capacity` most recent points of a series, oldest first.
///
/// Each point after the oldest has a delta-of-delta: its `delta` (timestamp
/// minus the previous point's) minus the previous point's `delta`. Timestamps
/// are decoded backwards from the newest point's timestamp and delta. While
/// every delta-of-delta is 0 (a fixed interval, as Prometheus aligns its scrape
/// timestamps to) none are stored. Time math wraps, which is exact for any
/// `i64` timestamps.
#[derive(Debug, Clone, Default)]
pub struct Ring {
    /// Values, circular from `head`; slots double as needed up to the capacity,
    /// so a series with a few samples does not pay for all of them.
    values: Box<[f64]>,
    /// The delta-of-deltas, while any retained one is not 0.
    irregular: Option<Box<Irregular>>,
    head: u32,
    len: u32,
    /// The newest point's.
    last: Anchor,
}

/// Delta-of-deltas of a ring whose interval varies.
#[derive(Debug, Clone)]
struct Irregular {
    /// One code per slot, parallel to [`Ring::values`] (the oldest point's is unused).
    codes: Box<[u8]>,
    /// Delta-of-deltas coded [`ESCAPE`], oldest first; absent while there are none.
    #[expect(
        clippy::box_collection,
        reason = "a pointer instead of an empty VecDeque halves this struct"
    )]
    escapes: Option<Box<VecDeque<i64>>>,
    /// Codes other than 0 among the points after the oldest; at 0 this is dropped.
    nonzero: u32,
}

/// A point's timestamp and its delta from the point before it.
#[derive(Debug, Clone, Copy, Default)]
struct Anchor {
    ts: i64,
    delta: i64,
}

impl Anchor {
    /// The anchor of the next point, whose delta-of-delta is `dod`.
    fn next(self, dod: i64) -> Anchor {
        let delta = self.delta.wrapping_add(dod);
        Anchor {
            ts: self.ts.wrapping_add(delta),
            delta,
        }
    }

    /// The anchor of the previous point, given this point's delta-of-delta.
    fn prev(self, dod: i64) -> Anchor {
        Anchor {
            ts: self.ts.wrapping_sub(self.delta),
            delta: self.delta.wrapping_sub(dod),
        }
    }
}

/// Zigzag code of `dod`, when it fits below [`ESCAPE`].
fn encode(dod: i64) -> Option<u8> {
    let zigzag = ((dod << 1) ^ (dod >> 63)) as u64;
    u8::try_from(zigzag).ok().filter(|&c| c != ESCAPE)
}

/// Inverse of [`encode`].
fn decode(code: u8) -> i64 {
    let z = i64::from(code);
    (z >> 1) ^ -(z & 1)
}

impl Ring {
    /// Appends a point, dropping the oldest when `capacity` is reached.
    pub fn push(&mut self, point: Point, capacity: usize) {
        // More than u32::MAX points per series would not fit in memory anyway.
        let capacity = u32::try_from(capacity).unwrap_or(u32::MAX);
        if capacity == 0 {
            return;
        }
        while self.len >= capacity {
            self.pop_front();
        }
        let ts = point.timestamp_ms;
        let dod = if self.len == 0 {
            self.last = Anchor { ts, delta: 0 };
            0
        } else {
            let delta = ts.wrapping_sub(self.last.ts);
            if self.len == 1 {
                // A lone point's own delta is never decoded: pick the one that makes this dod 0.
                self.last.delta = delta;
            }
            let dod = delta.wrapping_sub(self.last.delta);
            self.last = Anchor { ts, delta };
            dod
        };
        if self.len as usize == self.values.len() {
            self.grow(capacity);
        }
        let slot = self.slot(self.len);
        self.values[slot] = point.value;
        self.set_dod(slot, dod);
        self.len += 1;
    }

    /// The newest point.
    pub fn last(&self) -> Option<Point> {
        let newest = self.len.checked_sub(1)?;
        Some(Point {
            timestamp_ms: self.last.ts,
            value: self.values[self.slot(newest)],
        })
    }

    /// Points, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Point> + ExactSizeIterator + Clone + '_ {
        let from_back = Iter {
            ring: self,
            front: 0,
            back: self.len,
            front_at: self.last,
            back_at: self.last,
            escapes_front: 0,
            escapes_back: self.escapes().map_or(0, VecDeque::len),
        };
        // Walk back to the oldest point's anchor, which is not kept.
        let mut walk = from_back.clone();
        while walk.back > 1 {
            walk.next_back();
        }
        Iter {
            front_at: walk.back_at,
            ..from_back
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Heap bytes it holds: its slots, and the codes and escapes of an
    /// irregular interval.
    pub fn heap_bytes(&self) -> usize {
        let irregular = self.irregular.as_deref().map_or(0, |r| {
            let escapes = r.escapes.as_deref().map_or(0, |e| {
                size_of::<VecDeque<i64>>() + e.capacity() * size_of::<i64>()
            });
            size_of::<Irregular>() + r.codes.len() + escapes
        });
        self.values.len() * size_of::<f64>() + irregular
    }

    /// Storage index of the `i`-th oldest point (`i` below the slot count).
    fn slot(&self, i: u32) -> usize {
        let s = self.head as usize + i as usize;
        s.checked_sub(self.values.len()).unwrap_or(s)
    }

    /// The code stored at `slot` (0 while the ring is regular).
    fn code(&self, slot: usize) -> u8 {
        self.irregular.as_ref().map_or(0, |r| r.codes[slot])
    }

    fn escapes(&self) -> Option<&VecDeque<i64>> {
        self.irregular.as_ref()?.escapes.as_deref()
    }

    /// Records the delta-of-delta of the point written at `slot`.
    fn set_dod(&mut self, slot: usize, dod: i64) {
        if dod == 0 {
            if let Some(irregular) = &mut self.irregular {
                irregular.codes[slot] = 0;
            }
            return;
        }
        let slots = self.values.len();
        let irregular = self.irregular.get_or_insert_with(|| {
            Box::new(Irregular {
                codes: vec![0; slots].into_boxed_slice(),
                escapes: None,
                nonzero: 0,
            })
        });
        irregular.nonzero += 1;
        irregular.codes[slot] = encode(dod).unwrap_or_else(|| {
            irregular.escapes.get_or_insert_default().push_back(dod);
            ESCAPE
        });
    }

    /// Forgets the delta-of-delta at `slot`, as the point there becomes the oldest.
    fn forget_dod(&mut self, slot: usize) {
        let Some(irregular) = &mut self.irregular else {
            return;
        };
        match irregular.codes[slot] {
            0 => return,
            ESCAPE => {
                if let Some(escapes) = &mut irregular.escapes {
                    escapes.pop_front();
                    if escapes.is_empty() {
                        irregular.escapes = None;
                    }
                }
            }
            _ => {}
        }
        irregular.nonzero -= 1;
        if irregular.nonzero == 0 {
            self.irregular = None;
        }
    }

    fn pop_front(&mut self) {
        if self.len == 0 {
            return;
        }
        if self.len > 1 {
            self.forget_dod(self.slot(1));
        }
        self.head = self.slot(1) as u32;
        self.len -= 1;
    }

    /// Doubles the slots (at most to `capacity`), moving the points to the start.
    fn grow(&mut self, capacity: u32) {
        let slots = self.values.len().saturating_mul(2);
        let slots = slots.clamp(1, capacity as usize);
        let (head, len) = (self.head as usize, self.len as usize);
        self.values = reordered(&self.values, head, len, slots);
        if let Some(irregular) = &mut self.irregular {
            irregular.codes = reordered(&irregular.codes, head, len, slots);
        }
        self.head = 0;
    }
}

/// The `len` items of the circular `old` that start at `head`, in order, in
/// `slots` slots.
fn reordered<T: Copy + Default>(old: &[T], head: usize, len: usize, slots: usize) -> Box<[T]> {
    let (wrapped, first) = old.split_at(head);
    let mut new = Vec::with_capacity(slots);
    new.extend(first.iter().chain(wrapped).take(len));
    new.resize(slots, T::default());
    new.into_boxed_slice()
}

/// Decodes a [`Ring`] from both ends.
#[derive(Clone)]
struct Iter<'a> {
    ring: &'a Ring,
    /// Next point from the front, and its anchor.
    front: u32,
    front_at: Anchor,
    /// One past the next point from the back, and that point's anchor.
    back: u32,
    back_at: Anchor,
    /// Escapes consumed from either end.
    escapes_front: usize,
    escapes_back: usize,
}

impl Iter<'_> {
    /// The code of the `i`-th point.
    fn code(&self, i: u32) -> u8 {
        self.ring.code(self.ring.slot(i))
    }

    /// The `n`-th escaped delta-of-delta.
    fn escape(&self, n: usize) -> i64 {
        let escapes = self.ring.escapes();
        escapes.and_then(|e| e.get(n)).copied().unwrap_or_default()
    }
}

impl Iterator for Iter<'_> {
    type Item = Point;

    fn next(&mut self) -> Option<Point> {
        if self.front == self.back {
            return None;
        }
        let value = self.ring.values[self.ring.slot(self.front)];
        let timestamp_ms = self.front_at.ts;
        self.front += 1;
        if self.front < self.back {
            let dod = match self.code(self.front) {
                ESCAPE => {
                    self.escapes_front += 1;
                    self.escape(self.escapes_front - 1)
                }
                code => decode(code),
            };
            self.front_at = self.front_at.next(dod);
        }
        Some(Point {
            timestamp_ms,
            value,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.back - self.front) as usize;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Point> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        let value = self.ring.values[self.ring.slot(self.back)];
        let timestamp_ms = self.back_at.ts;
        if self.front < self.back {
            // The dod of the point just yielded leads to the one before it.
            let dod = match self.code(self.back) {
                ESCAPE => {
                    self.escapes_back -= 1;
                    self.escape(self.escapes_back)
                }
                code => decode(code),
            };
            self.back_at = self.back_at.prev(dod);
        }
        Some(Point {
            timestamp_ms,
            value,
        })
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(timestamp_ms: i64, value: f64) -> Point {
        Point {
            timestamp_ms,
            value,
        }
    }

    /// Points as (timestamp, value bits), so NaN payloads compare exactly.
    fn bits(points: impl Iterator<Item = Point>) -> Vec<(i64, u64)> {
        points
            .map(|p| (p.timestamp_ms, p.value.to_bits()))
            .collect()
    }

    /// Pushes `points` into a ring and a plain queue, checking after every push
    /// that the ring reads back the same from the front, the back and both ends.
    fn check_against_queue(points: &[Point], capacity: usize) -> Ring {
        let mut ring = Ring::default();
        let mut queue = VecDeque::new();
        for &p in points {
            ring.push(p, capacity);
            if capacity > 0 {
                if queue.len() == capacity {
                    queue.pop_front();
                }
                queue.push_back(p);
            }
            let want = bits(queue.iter().copied());
            assert_eq!(bits(ring.iter()), want, "capacity {capacity}");
            assert_eq!(ring.len(), want.len());
            assert_eq!(ring.iter().len(), want.len());
            let mut reversed = bits(ring.iter().rev());
            reversed.reverse();
            assert_eq!(reversed, want);
            // Alternate ends so the two cursors meet in the middle.
            let mut it = ring.iter();
            let (mut front, mut back) = (Vec::new(), Vec::new());
            while let Some(p) = it.next() {
                front.push(p);
                back.extend(it.next_back());
                assert_eq!(it.len(), want.len() - front.len() - back.len());
            }
            back.reverse();
            assert_eq!(bits(front.into_iter().chain(back)), want);
            assert_eq!(
                ring.last().map(|p| (p.timestamp_ms, p.value.to_bits())),
                want.last().copied()
            );
        }
        ring
    }

    fn random(seed: u64) -> impl Iterator<Item = u64> {
        let mut rng = crate::test_rng::Rng(seed);
        std::iter::repeat_with(move || rng.next())
    }

    #[test]
    fn keeps_the_newest_up_to_capacity() {
        let points: Vec<_> = (0..10).map(|i| point(i, i as f64)).collect();
        let r = check_against_queue(&points, 4);
        assert_eq!(
            r.iter().map(|p| p.timestamp_ms).collect::<Vec<_>>(),
            [6, 7, 8, 9]
        );
    }

    #[test]
    fn capacity_zero_keeps_nothing_and_one_keeps_the_newest() {
        let points: Vec<_> = (0..5).map(|i| point(1000 * i, i as f64)).collect();
        assert!(check_against_queue(&points, 0).is_empty());
        assert_eq!(check_against_queue(&points, 1).last(), Some(points[4]));
    }

    #[test]
    fn steady_scrapes_store_no_timestamps_and_fill_slots_gradually() {
        let mut r = Ring::default();
        r.push(point(1_732_000_000_000, 1.0), 64);
        r.push(point(1_732_000_015_000, 2.0), 64);
        assert_eq!(r.values.len(), 2, "two samples must not reserve 64");
        let steady: Vec<_> = (0..200)
            .map(|i| point(1_732_000_000_000 + 15_000 * i, i as f64))
            .collect();
        let r = check_against_queue(&steady, 64);
        assert!(r.irregular.is_none());
        assert_eq!(r.values.len(), 64);
    }

    #[test]
    fn jitter_codes_in_a_byte_per_sample() {
        let jittered: Vec<_> = (0..200)
            .map(|i| point(1_732_000_000_000 + 15_000 * i + (i * 7919) % 100, i as f64))
            .collect();
        let r = check_against_queue(&jittered, 64);
        let irregular = r.irregular.as_deref().expect("jitter is stored");
        assert!(
            irregular.escapes.is_none(),
            "changes under 127 ms fit a code"
        );
        assert_eq!(irregular.codes.len(), 64);
    }

    #[test]
    fn escapes_round_trip_and_everything_irregular_is_freed_once_gone() {
        let mut points: Vec<_> = (0..10).map(|i| point(1000 * i, 0.5)).collect();
        // Interval changes on either side of what a code holds.
        let mut t = 9000;
        for change in [127, -127, 128, -128, 129, -129] {
            for delta in [1000 + change, 1000] {
                t += delta;
                points.push(point(t, 0.75));
            }
        }
        // A restarted sender: back in time, then out of order and a new interval.
        points.extend((0..10).map(|i| point(-5_000_000 + 1_000 * (i % 3), 0.25)));
        points.extend((0..10).map(|i| point(60_000 * i, 0.0)));
        let r = check_against_queue(&points, 30);
        assert!(r.escapes().is_some());
        let r = check_against_queue(&points, 8);
        assert!(
            r.irregular.is_none(),
            "the last 8 are a steady minute apart"
        );
    }

    #[test]
    fn any_i64_timestamps_round_trip_without_overflow() {
        let extremes = [i64::MIN, i64::MAX, 0, -1, 1, i64::MIN + 1, i64::MAX - 1];
        let mut points: Vec<_> = extremes
            .iter()
            .chain(extremes.iter().rev())
            .enumerate()
            .map(|(i, &t)| point(t, i as f64))
            .collect();
        points.extend(
            random(7)
                .take(300)
                .map(|x| point(x as i64, f64::from_bits(x))),
        );
        for capacity in [1, 2, 3, 5, 16, 64, 1000] {
            check_against_queue(&points, capacity);
        }
    }

    #[test]
    fn values_keep_their_exact_bits() {
        const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;
        let values = [
            f64::from_bits(STALE_NAN),
            f64::NAN,
            -f64::NAN,
            f64::from_bits(0x7ff8_dead_beef_0001),
            -0.0,
            f64::INFINITY,
            f64::MIN_POSITIVE / 2.0,
        ];
        let points: Vec<_> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| point(1000 * i as i64, v))
            .collect();
        let r = check_against_queue(&points, 8);
        let want: Vec<_> = values.iter().map(|v| v.to_bits()).collect();
        assert_eq!(
            r.iter().map(|p| p.value.to_bits()).collect::<Vec<_>>(),
            want
        );
        check_against_queue(&points, 3);
    }

    #[test]
    fn codes_cover_exactly_what_fits_in_a_byte() {
        for dod in -130..=130 {
            match encode(dod) {
                Some(code) => {
                    assert_ne!(code, ESCAPE);
                    assert_eq!(decode(code), dod);
                }
                None => assert!(!(-127..=127).contains(&dod), "{dod} should fit"),
            }
        }
        assert_eq!(encode(i64::MIN), None);
        assert_eq!(encode(i64::MAX), None);
    }
}
