//! Native histograms (the RW 2.0 layout, a superset of RW 1.0's), read whichever
//! way their counts were encoded.

use super::ReceivedSeries;
use super::series::effective_start_ts;
use crate::proto::rw2;

/// Native histogram, in the RW2 layout (a superset of RW1's).
pub type Histogram = rw2::Histogram;
/// Span of native histogram buckets.
pub type BucketSpan = rw2::BucketSpan;

/// Reading a native histogram whichever way its counts were encoded.
pub trait HistogramExt {
    /// Whether counts are floats (`count_float`, `*_counts`) rather than integers.
    fn is_float(&self) -> bool;
    /// Observation count.
    fn total_count(&self) -> f64;
    /// Count in the zero bucket.
    fn zero_count_value(&self) -> f64;
    /// Absolute counts of the positive buckets (integer deltas summed up).
    fn positive_buckets(&self) -> Vec<f64>;
    /// Absolute counts of the negative buckets.
    fn negative_buckets(&self) -> Vec<f64>;
    /// Reset hint name: `unknown`, `yes`, `no`, `gauge`.
    fn reset_hint_name(&self) -> &'static str;
    /// Positive buckets as (bucket index, count), computed as they are read
    /// (a histogram can hold millions; see [`HistogramExt::bucket_bounds`]).
    fn positive_indexed(&self) -> impl Iterator<Item = (i64, f64)> + Clone + '_;
    /// Lower and upper bound of positive bucket `index`, from the schema
    /// (exponential, or custom bounds for schema -53).
    fn bucket_bounds(&self, index: i64) -> (f64, f64);
    /// As [`Sample::effective_start_ts`](super::Sample::effective_start_ts).
    fn effective_start_ts(&self, series: &ReceivedSeries) -> i64;
}

/// Schema of native histograms with custom bucket bounds (`custom_values`).
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

/// Bucket indices of the buckets described by `spans` (offsets are relative to
/// the end of the previous span; the first is absolute).
fn bucket_indices(spans: &[BucketSpan]) -> impl Iterator<Item = i64> + Clone + '_ {
    let mut next = 0i64;
    spans.iter().flat_map(move |span| {
        let start = next.saturating_add(i64::from(span.offset));
        next = start.saturating_add(i64::from(span.length));
        (0..i64::from(span.length)).map(move |i| start.saturating_add(i))
    })
}

fn absolute_counts<'a>(
    deltas: &'a [i64],
    counts: &'a [f64],
) -> impl Iterator<Item = f64> + Clone + 'a {
    let from_deltas = deltas.iter().scan(0i64, |running, d| {
        *running = running.wrapping_add(*d);
        Some(*running as f64)
    });
    // A histogram has deltas (integer counts) or counts (float counts).
    let floats = if deltas.is_empty() { counts } else { &[] };
    from_deltas.chain(floats.iter().copied())
}

impl HistogramExt for Histogram {
    fn effective_start_ts(&self, series: &ReceivedSeries) -> i64 {
        effective_start_ts(self.start_timestamp, series)
    }

    fn is_float(&self) -> bool {
        matches!(self.count, Some(rw2::histogram::Count::CountFloat(_)))
    }

    fn total_count(&self) -> f64 {
        match self.count {
            Some(rw2::histogram::Count::CountInt(n)) => n as f64,
            Some(rw2::histogram::Count::CountFloat(f)) => f,
            None => 0.0,
        }
    }

    fn zero_count_value(&self) -> f64 {
        match self.zero_count {
            Some(rw2::histogram::ZeroCount::ZeroCountInt(n)) => n as f64,
            Some(rw2::histogram::ZeroCount::ZeroCountFloat(f)) => f,
            None => 0.0,
        }
    }

    fn positive_buckets(&self) -> Vec<f64> {
        absolute_counts(&self.positive_deltas, &self.positive_counts).collect()
    }

    fn negative_buckets(&self) -> Vec<f64> {
        absolute_counts(&self.negative_deltas, &self.negative_counts).collect()
    }

    fn positive_indexed(&self) -> impl Iterator<Item = (i64, f64)> + Clone + '_ {
        bucket_indices(&self.positive_spans).zip(absolute_counts(
            &self.positive_deltas,
            &self.positive_counts,
        ))
    }

    fn bucket_bounds(&self, i: i64) -> (f64, f64) {
        if self.schema == CUSTOM_BUCKETS_SCHEMA {
            let bound = |i: i64| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.custom_values.get(i).copied())
                    .unwrap_or(f64::INFINITY)
            };
            let lower = if i == 0 {
                f64::NEG_INFINITY
            } else {
                bound(i - 1)
            };
            (lower, bound(i))
        } else {
            // Bucket i covers (base^(i-1), base^i] with base = 2^(2^-schema).
            let exp = |i: i64| (i as f64 * (-f64::from(self.schema)).exp2()).exp2();
            (exp(i - 1), exp(i))
        }
    }

    fn reset_hint_name(&self) -> &'static str {
        match self.reset_hint {
            1 => "yes",
            2 => "no",
            3 => "gauge",
            _ => "unknown",
        }
    }
}

/// Heap bytes of a histogram's spans, counts and bounds.
pub fn histogram_heap_bytes(h: &Histogram) -> usize {
    (h.negative_spans.capacity() + h.positive_spans.capacity()) * size_of::<BucketSpan>()
        + (h.negative_deltas.capacity() + h.positive_deltas.capacity()) * size_of::<i64>()
        + (h.negative_counts.capacity() + h.positive_counts.capacity() + h.custom_values.capacity())
            * size_of::<f64>()
}
