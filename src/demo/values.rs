//! How the demo's values move: counters that increase at wandering rates,
//! gauges that wander around a level, and latencies observed into classic and
//! native histograms and summaries. Deterministic for a given seed.

use std::collections::{BTreeMap, VecDeque};

/// A small deterministic generator (splitmix64): plausible noise, not cryptography.
pub struct Rng(u64);

impl Rng {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform(); // (0, 1]: ln stays finite
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// A level that wanders around `mean` and is pulled back to it
/// (an Ornstein-Uhlenbeck process), kept within `[min, max]`.
#[derive(Debug, Clone)]
pub struct Wander {
    /// Where it is now.
    pub value: f64,
    mean: f64,
    /// How far it strays, as a standard deviation around `mean`.
    spread: f64,
    min: f64,
    max: f64,
}

/// How fast a [`Wander`] returns to its mean, per second: a minute or two to wander off and back.
const PULL_PER_SEC: f64 = 1.0 / 60.0;

impl Wander {
    /// A level starting at `mean`, straying about `spread`, within `[min, max]`.
    pub fn new(mean: f64, spread: f64, min: f64, max: f64) -> Self {
        Wander {
            value: mean,
            mean,
            spread,
            min,
            max,
        }
    }

    /// Moves on by `secs` seconds.
    pub fn step(&mut self, secs: f64, rng: &mut Rng) -> f64 {
        let pull = (PULL_PER_SEC * secs).min(1.0);
        // The noise keeps the long-run spread at `spread` whatever the step.
        let noise = self.spread * (pull * (2.0 - pull)).sqrt() * rng.normal();
        self.value += pull * (self.mean - self.value) + noise;
        self.value = self.value.clamp(self.min, self.max);
        self.value
    }
}

/// Observations per step at `rate` per second over `secs`: the expected
/// number, rounded up or down at random so that fractions add up over time.
pub fn arrivals(rate: f64, secs: f64, rng: &mut Rng) -> u64 {
    let expected = (rate * secs).max(0.0);
    let whole = expected.floor();
    whole as u64 + u64::from(rng.uniform() < expected - whole)
}

/// Latencies around a median with a long tail (log-normal).
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    /// Median in seconds.
    pub median: f64,
    /// Spread of the logarithm: 0.5 is tight, 1.0 a long tail.
    pub sigma: f64,
}

impl Latency {
    /// One latency in seconds.
    pub fn sample(self, rng: &mut Rng) -> f64 {
        self.median * (self.sigma * rng.normal()).exp()
    }
}

/// A classic histogram: cumulative counts per upper bound, sum and count.
#[derive(Debug, Clone)]
pub struct ClassicHistogram {
    /// Upper bounds (`le`), ascending; `+Inf` is implied.
    pub bounds: &'static [f64],
    /// Observations at or below each bound (not cumulative across bounds).
    per_bucket: Vec<u64>,
    /// Observations in all.
    pub count: u64,
    /// Their sum.
    pub sum: f64,
}

impl ClassicHistogram {
    /// An empty histogram with these bounds.
    pub fn new(bounds: &'static [f64]) -> Self {
        ClassicHistogram {
            bounds,
            per_bucket: vec![0; bounds.len()],
            count: 0,
            sum: 0.0,
        }
    }

    /// Counts one observation.
    pub fn observe(&mut self, v: f64) {
        if let Some(i) = self.bounds.iter().position(|&b| v <= b) {
            self.per_bucket[i] += 1;
        }
        self.count += 1;
        self.sum += v;
    }

    /// Cumulative counts per bound, as the `_bucket` series carry them.
    pub fn cumulative(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        self.bounds
            .iter()
            .zip(&self.per_bucket)
            .scan(0, |total, (&bound, &n)| {
                *total += n;
                Some((bound, *total))
            })
    }
}

/// A native histogram with exponential buckets of schema 3 (8 per power of two).
#[derive(Debug, Clone, Default)]
pub struct NativeHistogram {
    /// Observations per bucket index: bucket `i` holds (2^((i-1)/8), 2^(i/8)].
    buckets: BTreeMap<i32, u64>,
    /// Observations in all.
    pub count: u64,
    /// Their sum.
    pub sum: f64,
}

/// The schema of [`NativeHistogram`]: Prometheus's default for new histograms.
pub const NATIVE_SCHEMA: i32 = 3;

impl NativeHistogram {
    /// Counts one positive observation.
    pub fn observe(&mut self, v: f64) {
        let per_octave = f64::from(1 << NATIVE_SCHEMA);
        let index = (v.log2() * per_octave).ceil();
        if index.is_finite() {
            *self.buckets.entry(index as i32).or_default() += 1;
        }
        self.count += 1;
        self.sum += v;
    }

    /// Spans `(offset, length)` and count deltas, as remote-write encodes them:
    /// the first span's offset is its first index, later ones the gap since the
    /// previous span; each delta is a bucket's count minus the previous bucket's.
    pub fn spans_and_deltas(&self) -> (Vec<(i32, u32)>, Vec<i64>) {
        let mut spans: Vec<(i32, u32)> = Vec::new();
        let mut deltas = Vec::with_capacity(self.buckets.len());
        let (mut previous_index, mut previous_count) = (None, 0i64);
        for (&index, &count) in &self.buckets {
            match (previous_index, spans.last_mut()) {
                (Some(p), Some(span)) if index == p + 1 => span.1 += 1,
                (Some(p), _) => spans.push((index - p - 1, 1)),
                (None, _) => spans.push((index, 1)),
            }
            let count = count as i64;
            deltas.push(count - previous_count);
            (previous_index, previous_count) = (Some(index), count);
        }
        (spans, deltas)
    }
}

/// A summary: quantiles over recent observations, with sum and count of all.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    recent: VecDeque<f64>,
    /// Observations in all.
    pub count: u64,
    /// Their sum.
    pub sum: f64,
}

/// Observations a [`Summary`] computes its quantiles over.
const SUMMARY_WINDOW: usize = 500;

impl Summary {
    /// Counts one observation.
    pub fn observe(&mut self, v: f64) {
        if self.recent.len() == SUMMARY_WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back(v);
        self.count += 1;
        self.sum += v;
    }

    /// The `q` quantile of recent observations; NaN before any, as client libraries report.
    pub fn quantile(&self, q: f64) -> f64 {
        let mut sorted: Vec<f64> = self.recent.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let rank = (q * sorted.len() as f64).ceil() as usize;
        sorted
            .get(rank.saturating_sub(1))
            .copied()
            .unwrap_or(f64::NAN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wandering_level_stays_in_bounds_and_moves() {
        let mut rng = Rng::new(1);
        let mut w = Wander::new(50.0, 10.0, 0.0, 100.0);
        let values: Vec<f64> = (0..1000).map(|_| w.step(5.0, &mut rng)).collect();
        assert!(values.iter().all(|v| (0.0..=100.0).contains(v)));
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        assert!((40.0..60.0).contains(&mean), "{mean}");
        assert!(values.windows(2).filter(|w| w[0] != w[1]).count() > 900);
    }

    #[test]
    fn arrivals_add_up_to_the_rate() {
        let mut rng = Rng::new(2);
        let total: u64 = (0..10_000).map(|_| arrivals(0.3, 5.0, &mut rng)).sum();
        assert!((14_000..16_000).contains(&total), "{total}");
    }

    #[test]
    fn native_buckets_hold_their_observations_and_encode_as_remote_write_does() {
        let mut h = NativeHistogram::default();
        // 1.0 is the upper bound of bucket 0; 1.05 is in bucket 1; 1.5 in bucket 5.
        for v in [1.0, 1.05, 1.05, 1.5] {
            h.observe(v);
        }
        assert_eq!((h.count, h.sum), (4, 4.6));
        let (spans, deltas) = h.spans_and_deltas();
        assert_eq!(spans, [(0, 2), (3, 1)]);
        assert_eq!(deltas, [1, 1, -1]);
        let bound = |i: i32| 2f64.powf(f64::from(i) / 8.0);
        assert!(bound(4) < 1.5 && 1.5 <= bound(5));
    }

    #[test]
    fn classic_buckets_are_cumulative() {
        let mut h = ClassicHistogram::new(&[0.1, 0.5, 1.0]);
        for v in [0.05, 0.2, 0.3, 2.0] {
            h.observe(v);
        }
        let buckets: Vec<(f64, u64)> = h.cumulative().collect();
        assert_eq!(buckets, [(0.1, 1), (0.5, 3), (1.0, 3)]);
        assert_eq!(h.count, 4);
    }

    #[test]
    fn summary_quantiles_come_from_recent_observations() {
        let mut s = Summary::default();
        assert!(s.quantile(0.5).is_nan());
        for v in 1..=100 {
            s.observe(f64::from(v));
        }
        assert_eq!(s.quantile(0.5), 50.0);
        assert_eq!(s.quantile(0.99), 99.0);
        assert_eq!(s.count, 100);
    }
}
