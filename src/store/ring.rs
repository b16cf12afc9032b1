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
mod tests;
