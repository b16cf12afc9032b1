//! What a series keeps of its latest native histogram: every count, sum and
//! setting, but at most [`MAX_BUCKETS`] buckets a side (the first ones, by
//! bucket index), so that a sender's histogram with millions of buckets costs
//! kilobytes here. What was cut is counted, for the detail view to say so.

use crate::ingest::model::{BucketSpan, CUSTOM_BUCKETS_SCHEMA, Histogram};

/// Buckets kept per side (positive, negative) of a histogram; for custom
/// bounds (schema -53), also the bounds kept, so only buckets whose index is
/// below this are kept.
pub const MAX_BUCKETS: usize = 1024;

/// A native histogram as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptHistogram {
    /// The histogram with its buckets cut to [`MAX_BUCKETS`] a side.
    pub histogram: Histogram,
    /// Buckets the sender sent beyond those kept.
    pub dropped_buckets: u64,
}

/// One side of a histogram: spans and either deltas or counts, cut.
struct Side {
    spans: Vec<BucketSpan>,
    deltas: Vec<i64>,
    counts: Vec<f64>,
    dropped: u64,
}

/// The first buckets of a side: at most [`MAX_BUCKETS`], and, if
/// `below_index` is given, only those whose index is below it.
fn cut(spans: &[BucketSpan], deltas: &[i64], counts: &[f64], below_index: Option<i64>) -> Side {
    let mut kept_spans = Vec::new();
    let mut kept = 0usize;
    let mut next = 0i64;
    for span in spans {
        let start = next.saturating_add(i64::from(span.offset));
        next = start.saturating_add(i64::from(span.length));
        let room = MAX_BUCKETS - kept;
        let below = below_index.map_or(u64::MAX, |end| end.saturating_sub(start).max(0) as u64);
        let take = u64::from(span.length).min(room as u64).min(below);
        let cut_here = take < u64::from(span.length);
        // An empty span of the sender's still moves the next one's offset.
        if take > 0 || !cut_here {
            kept_spans.push(BucketSpan {
                offset: span.offset,
                length: take as u32,
            });
        }
        kept += take as usize;
        if cut_here {
            break;
        }
    }
    let sent = deltas.len().max(counts.len());
    let keep = |n: usize| kept.min(n);
    Side {
        spans: kept_spans,
        deltas: deltas[..keep(deltas.len())].to_vec(),
        counts: counts[..keep(counts.len())].to_vec(),
        dropped: sent.saturating_sub(kept) as u64,
    }
}

impl KeptHistogram {
    /// What is kept of `h`.
    pub fn of(h: &Histogram) -> Self {
        let custom = h.schema == CUSTOM_BUCKETS_SCHEMA;
        let below_index = custom.then_some(MAX_BUCKETS as i64);
        let positive = cut(
            &h.positive_spans,
            &h.positive_deltas,
            &h.positive_counts,
            below_index,
        );
        let negative = cut(
            &h.negative_spans,
            &h.negative_deltas,
            &h.negative_counts,
            below_index,
        );
        let bounds = h.custom_values.len().min(MAX_BUCKETS);
        let histogram = Histogram {
            count: h.count,
            sum: h.sum,
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            zero_count: h.zero_count,
            negative_spans: negative.spans,
            negative_deltas: negative.deltas,
            negative_counts: negative.counts,
            positive_spans: positive.spans,
            positive_deltas: positive.deltas,
            positive_counts: positive.counts,
            reset_hint: h.reset_hint,
            timestamp: h.timestamp,
            custom_values: h.custom_values[..bounds].to_vec(),
            start_timestamp: h.start_timestamp,
        };
        KeptHistogram {
            histogram,
            dropped_buckets: positive.dropped + negative.dropped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::model::{HistogramExt, histogram_heap_bytes};
    use crate::proto::rw2::histogram::Count;

    fn span(offset: i32, length: u32) -> BucketSpan {
        BucketSpan { offset, length }
    }

    /// The first `n` positive buckets as (lower bound, upper bound, count).
    fn ranges(h: &Histogram, n: usize) -> Vec<(f64, f64, f64)> {
        let bucket = |(i, count)| {
            let (lower, upper) = h.bucket_bounds(i);
            (lower, upper, count)
        };
        h.positive_indexed().take(n).map(bucket).collect()
    }

    #[test]
    fn a_histogram_within_the_bound_is_kept_whole() {
        let h = Histogram {
            count: Some(Count::CountInt(12)),
            sum: 3.5,
            schema: 3,
            positive_spans: vec![span(-2, 2), span(1, 1)],
            positive_deltas: vec![1, 4, 1],
            negative_spans: vec![span(0, 1)],
            negative_counts: vec![2.0],
            timestamp: 7,
            ..Histogram::default()
        };
        assert_eq!(
            KeptHistogram::of(&h),
            KeptHistogram {
                histogram: h,
                dropped_buckets: 0
            }
        );
    }

    #[test]
    fn millions_of_buckets_keep_the_first_and_count_the_rest() {
        const SENT: usize = 3_000_000;
        // Two spans, so the cut falls inside the second.
        let h = Histogram {
            count: Some(Count::CountInt(SENT as u64)),
            schema: 8,
            positive_spans: vec![span(5, 1000), span(10, (SENT - 1000) as u32)],
            positive_deltas: vec![1; SENT],
            negative_spans: vec![span(0, 10)],
            negative_deltas: vec![0; 10],
            ..Histogram::default()
        };
        let kept = KeptHistogram::of(&h);
        assert_eq!(kept.dropped_buckets, (SENT - MAX_BUCKETS) as u64);
        let k = &kept.histogram;
        assert_eq!(k.positive_spans, [span(5, 1000), span(10, 24)]);
        assert_eq!(k.positive_buckets().len(), MAX_BUCKETS);
        assert_eq!(k.negative_buckets().len(), 10);
        assert_eq!(k.total_count(), SENT as f64, "the count stays the sender's");
        // The first buckets keep their bounds and counts.
        assert_eq!(ranges(k, 1000), ranges(&h, 1000));
        assert!(histogram_heap_bytes(k) < 16 * MAX_BUCKETS);
    }

    #[test]
    fn custom_bounds_keep_only_buckets_with_a_kept_bound() {
        let h = Histogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            // A bucket at index 10 and one far beyond the bounds kept.
            positive_spans: vec![span(10, 1), span(5000, 1)],
            positive_counts: vec![1.0, 2.0],
            custom_values: (0..100_000).map(f64::from).collect(),
            ..Histogram::default()
        };
        let kept = KeptHistogram::of(&h);
        assert_eq!(kept.dropped_buckets, 1);
        let k = &kept.histogram;
        assert_eq!(k.custom_values.len(), MAX_BUCKETS);
        assert_eq!(ranges(k, usize::MAX), [(9.0, 10.0, 1.0)]);
    }

    #[test]
    fn spans_that_disagree_with_the_counts_do_not_panic() {
        let h = Histogram {
            positive_spans: vec![span(i32::MIN, u32::MAX), span(i32::MAX, u32::MAX)],
            positive_deltas: vec![1, 2, 3],
            negative_spans: vec![span(0, 2)],
            negative_counts: vec![1.0; 5000],
            ..Histogram::default()
        };
        let kept = KeptHistogram::of(&h);
        assert_eq!(kept.histogram.positive_deltas, [1, 2, 3]);
        assert_eq!(kept.histogram.negative_counts.len(), 2);
        assert_eq!(kept.dropped_buckets, 4998);
    }
}
