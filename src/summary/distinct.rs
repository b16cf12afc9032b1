//! Counting distinct series in bounded memory: exact up to [`EXACT_LIMIT`]
//! label sets, then a HyperLogLog estimate (about 1% error, 16 KiB).

use std::collections::HashSet;

/// Label sets counted exactly (about 1.2 MiB of hashes) before switching to an estimate.
pub const EXACT_LIMIT: usize = 100_000;

/// log2 of the HyperLogLog register count: 2^14 registers, standard error 1.04/128 ≈ 0.8%.
const PRECISION: u32 = 14;

/// A count of distinct label-set hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistinctCount {
    /// Counted exactly.
    Exact(u64),
    /// A HyperLogLog estimate.
    Estimated(u64),
}

impl DistinctCount {
    /// The number, exact or estimated.
    pub fn value(self) -> u64 {
        match self {
            DistinctCount::Exact(n) | DistinctCount::Estimated(n) => n,
        }
    }
}

impl std::fmt::Display for DistinctCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            DistinctCount::Exact(n) => write!(f, "{n}"),
            DistinctCount::Estimated(n) => write!(f, "≈{}", crate::format::count(n as f64)),
        }
    }
}

/// Distinct label-set hashes seen, in bounded memory.
#[derive(Debug)]
pub struct DistinctCounter {
    exact: HashSet<u64>,
    /// The estimate, once the exact set outgrew its limit.
    sketch: Option<Hll>,
    /// Hashes counted exactly, and the sketch's precision past them.
    limit: usize,
    precision: u32,
}

impl Default for DistinctCounter {
    fn default() -> Self {
        DistinctCounter::bounded(EXACT_LIMIT, PRECISION)
    }
}

/// A HyperLogLog sketch of `2^precision` one-byte registers: distinct hashes
/// seen, to a standard error of about `1.04 / sqrt(2^precision)`.
#[derive(Debug, Clone)]
pub struct Hll {
    registers: Box<[u8]>,
}

/// Spreads the bits of a hash (SplitMix64's finalizer), so the estimate does
/// not depend on how well the label-set hash mixes its top bits.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Hll {
    /// An empty sketch of `2^precision` registers (`precision` 4 to 16).
    pub fn new(precision: u32) -> Self {
        Hll {
            registers: vec![0; 1 << precision.clamp(4, 16)].into_boxed_slice(),
        }
    }

    fn precision(&self) -> u32 {
        self.registers.len().trailing_zeros()
    }

    /// Counts `hash`; says whether a register rose (then it was surely new).
    pub fn observe(&mut self, hash: u64) -> bool {
        let p = self.precision();
        let x = mix(hash);
        let register = (x >> (64 - p)) as usize;
        // Position of the first 1 bit in the remaining bits (a sentinel bounds it).
        let rank = ((x << p) | (1 << (p - 1))).leading_zeros() as u8 + 1;
        let r = &mut self.registers[register];
        let rose = rank > *r;
        *r = (*r).max(rank);
        rose
    }

    /// Adds what `other` observed (a sketch of the same precision; of
    /// another, nothing): the sketch of both together.
    pub fn merge(&mut self, other: &Hll) {
        if other.registers.len() == self.registers.len() {
            for (r, &o) in self.registers.iter_mut().zip(&other.registers) {
                *r = (*r).max(o);
            }
        }
    }

    /// The estimated number of distinct hashes observed.
    pub fn estimate(&self) -> u64 {
        let m = self.registers.len() as f64;
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let sum: f64 = self
            .registers
            .iter()
            .map(|&r| 2f64.powi(-i32::from(r)))
            .sum();
        let raw = alpha * m * m / sum;
        let zeros = self.registers.iter().filter(|&&r| r == 0).count();
        // Linear counting is the better estimate while many registers are empty.
        let estimate = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        estimate.round() as u64
    }

    /// Heap bytes.
    pub fn bytes(&self) -> usize {
        self.registers.len()
    }
}

impl DistinctCounter {
    /// Exact up to `limit` hashes, then an estimate of `2^precision` registers.
    pub fn bounded(limit: usize, precision: u32) -> Self {
        DistinctCounter {
            exact: HashSet::new(),
            sketch: None,
            limit,
            precision,
        }
    }

    /// Counts `hash` once, however often it is seen.
    pub fn insert(&mut self, hash: u64) {
        match &mut self.sketch {
            Some(sketch) => {
                sketch.observe(hash);
            }
            None => {
                self.exact.insert(hash);
                if self.exact.len() > self.limit {
                    let mut sketch = Hll::new(self.precision);
                    for h in std::mem::take(&mut self.exact) {
                        sketch.observe(h);
                    }
                    self.sketch = Some(sketch);
                }
            }
        }
    }

    /// The count so far.
    pub fn count(&self) -> DistinctCount {
        match &self.sketch {
            None => DistinctCount::Exact(self.exact.len() as u64),
            Some(sketch) => DistinctCount::Estimated(sketch.estimate()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_exactly_up_to_the_limit() {
        let mut c = DistinctCounter::default();
        for _ in 0..3 {
            for h in 0..EXACT_LIMIT as u64 {
                c.insert(h.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            }
        }
        assert_eq!(c.count(), DistinctCount::Exact(EXACT_LIMIT as u64));
        assert_eq!(c.count().to_string(), "100000");
    }

    #[test]
    fn estimates_two_million_within_two_percent_in_bounded_memory() {
        let mut c = DistinctCounter::default();
        let n = 2_000_000u64;
        for h in 0..n {
            c.insert(h);
            // Repeats do not count again.
            c.insert(h / 2);
        }
        let DistinctCount::Estimated(estimate) = c.count() else {
            panic!("expected an estimate, got {:?}", c.count());
        };
        let error = (estimate as f64 - n as f64).abs() / n as f64;
        assert!(error < 0.02, "estimate {estimate}, error {error:.4}");
        assert_eq!(c.exact.capacity(), 0, "the exact set was dropped");
        assert_eq!(c.sketch.as_ref().map(Hll::bytes), Some(1 << PRECISION));
        assert!(c.count().to_string().starts_with('≈'));
    }

    #[test]
    fn the_estimate_is_close_right_after_switching() {
        let mut c = DistinctCounter::default();
        let n = EXACT_LIMIT as u64 + 1;
        for h in 0..n {
            c.insert(h);
        }
        let DistinctCount::Estimated(estimate) = c.count() else {
            panic!("expected an estimate");
        };
        let error = (estimate as f64 - n as f64).abs() / n as f64;
        assert!(error < 0.03, "estimate {estimate}, error {error:.4}");
    }
}
