//! One point per series: the templates' float sample or native histogram, and
//! the values each request puts in them (stateless, so that any sending task can
//! compute any series' value at any time).

use std::f64::consts::TAU;

use crate::proto::{rw1, rw2};

/// Native histogram buckets per histogram (schema 0: upper bounds 1, 2, 4, ...).
const HISTOGRAM_BUCKETS: usize = 4;
/// Prometheus's default zero bucket width.
const ZERO_THRESHOLD: f64 = 2.938_735_877_055_719e-39;
/// Period of the gauge wave, so that a dashboard shows movement within a minute.
const WAVE_PERIOD_MS: f64 = 60_000.0;

/// Moves the series at `indices` into `out` with a fresh point each; returns
/// (float samples, histograms).
pub fn take_slice<T: SeriesTemplate>(
    all: &mut [T],
    out: &mut Vec<T>,
    indices: impl Iterator<Item = usize>,
    timestamp_ms: i64,
) -> (u64, u64) {
    let mut counts = (0, 0);
    for i in indices {
        let mut s = std::mem::take(&mut all[i]);
        if s.set_point(i, timestamp_ms) {
            counts.0 += 1;
        } else {
            counts.1 += 1;
        }
        out.push(s);
    }
    counts
}

/// Returns the series taken by [`take_slice`] to their places.
pub fn put_back<T>(all: &mut [T], out: &mut Vec<T>, start: usize) {
    let total = all.len();
    for (i, s) in out.drain(..).enumerate() {
        all[(start + i) % total] = s;
    }
}

/// What a series sends: float samples, or (the last metric name with
/// `--histograms`) native gauge histograms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Float,
    Histogram,
}

/// A series template of either protocol.
pub trait SeriesTemplate: Default {
    /// A series with room for one point of `kind` and no labels.
    fn template(kind: Kind) -> Self;
    /// Sets the single point of series `index`; true for a float sample.
    fn set_point(&mut self, index: usize, timestamp_ms: i64) -> bool;
}

// The RW1 and RW2 types have the same field names for everything touched here.
macro_rules! impl_series_template {
    ($proto:ident) => {
        impl SeriesTemplate for $proto::TimeSeries {
            fn template(kind: Kind) -> Self {
                let mut s = $proto::TimeSeries::default();
                match kind {
                    Kind::Float => s.samples.push(Default::default()),
                    Kind::Histogram => s.histograms.push($proto::Histogram {
                        schema: 0,
                        zero_threshold: ZERO_THRESHOLD,
                        positive_spans: vec![$proto::BucketSpan {
                            offset: 0,
                            length: HISTOGRAM_BUCKETS as u32,
                        }],
                        positive_deltas: vec![0; HISTOGRAM_BUCKETS],
                        reset_hint: $proto::histogram::ResetHint::Gauge.into(),
                        ..Default::default()
                    }),
                }
                s
            }

            fn set_point(&mut self, index: usize, timestamp_ms: i64) -> bool {
                if let Some(sample) = self.samples.first_mut() {
                    sample.value = gauge_value(index, timestamp_ms);
                    sample.timestamp = timestamp_ms;
                    return true;
                }
                if let Some(h) = self.histograms.first_mut() {
                    let shape = HistogramShape::new(index, timestamp_ms);
                    h.count = Some($proto::histogram::Count::CountInt(shape.count()));
                    h.zero_count =
                        Some($proto::histogram::ZeroCount::ZeroCountInt(shape.zero_count));
                    h.sum = shape.sum();
                    h.positive_deltas.clear();
                    h.positive_deltas.extend(shape.deltas());
                    h.timestamp = timestamp_ms;
                }
                false
            }
        }
    };
}

impl_series_template!(rw1);
impl_series_template!(rw2);

/// A pseudo-random, stateless gauge: a slow wave per series plus noise, so any
/// task can compute any series' value and a dashboard shows movement.
fn gauge_value(series: usize, timestamp_ms: i64) -> f64 {
    let phase = unit(mix(series as u64)) * TAU;
    let wave = (timestamp_ms as f64 / WAVE_PERIOD_MS * TAU + phase).sin();
    let noise = unit(mix(series as u64 ^ mix(timestamp_ms as u64))) - 0.5;
    50.0 + 40.0 * wave + 10.0 * noise
}

/// Bucket counts of a gauge histogram, pseudo-random per series and time.
struct HistogramShape {
    zero_count: u64,
    buckets: [u64; HISTOGRAM_BUCKETS],
}

impl HistogramShape {
    fn new(series: usize, timestamp_ms: i64) -> Self {
        let mut h = mix(series as u64 ^ mix(timestamp_ms as u64).rotate_left(17));
        let mut next = || {
            h = mix(h);
            h % 20
        };
        HistogramShape {
            zero_count: next() % 5,
            buckets: std::array::from_fn(|_| next()),
        }
    }

    fn count(&self) -> u64 {
        self.zero_count + self.buckets.iter().sum::<u64>()
    }

    /// Observations placed mid-bucket: bucket `i` of schema 0 is (2^(i-1), 2^i].
    fn sum(&self) -> f64 {
        self.buckets
            .iter()
            .enumerate()
            .map(|(i, c)| *c as f64 * 0.75 * f64::from(1u32 << i))
            .sum()
    }

    /// Bucket counts as the deltas the wire format wants.
    fn deltas(&self) -> impl Iterator<Item = i64> + '_ {
        let mut previous = 0i64;
        self.buckets.iter().map(move |c| {
            let c = *c as i64;
            let d = c - previous;
            previous = c;
            d
        })
    }
}

/// splitmix64's finaliser: a cheap, well-spread hash.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A hash mapped to [0, 1).
fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}
