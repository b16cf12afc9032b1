//! A native histogram on its own: schema, custom bounds, spans against buckets,
//! negative counts, the count against the buckets, the number of buckets.

use super::{At, Report, Rule, Thresholds};
use crate::proto::rw2::histogram::{Count, ZeroCount};
use crate::proto::rw2::{BucketSpan, Histogram};

/// Schema of native histograms with custom bucket bounds.
const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

fn span_buckets(spans: &[BucketSpan]) -> u64 {
    spans.iter().map(|s| u64::from(s.length)).sum()
}

/// Checks one histogram; `at` is its timestamp, for messages.
pub fn check_histogram(h: &Histogram, limits: &Thresholds, report: &mut impl Report) {
    let ts = At(h.timestamp);
    let float = matches!(h.count, Some(Count::CountFloat(_)));
    let schema = h.schema;
    if !(-4..=8).contains(&schema) && schema != CUSTOM_BUCKETS_SCHEMA {
        let rule = Rule::HistogramSchemaInvalid;
        report.found(rule, &|| format!("histogram at {ts} has schema {schema}"));
    }
    let custom = &h.custom_values;
    if schema == CUSTOM_BUCKETS_SCHEMA {
        if let Some(i) = (1..custom.len())
            .find(|&i| custom[i - 1].partial_cmp(&custom[i]) != Some(std::cmp::Ordering::Less))
        {
            report.found(Rule::HistogramCustomBoundsInvalid, &|| {
                format!(
                    "histogram at {ts} has custom bound {} after {}",
                    custom[i],
                    custom[i - 1]
                )
            });
        } else if custom.first().is_some_and(|b| b.is_nan()) {
            report.found(Rule::HistogramCustomBoundsInvalid, &|| {
                format!("histogram at {ts} has a NaN custom bound")
            });
        }
    } else if !custom.is_empty() {
        report.found(Rule::HistogramCustomBoundsInvalid, &|| {
            format!(
                "histogram at {ts} has {} custom bounds with schema {schema} (not -53)",
                custom.len()
            )
        });
    }
    let sides = [
        (
            "positive",
            &h.positive_spans,
            &h.positive_deltas,
            &h.positive_counts,
        ),
        (
            "negative",
            &h.negative_spans,
            &h.negative_deltas,
            &h.negative_counts,
        ),
    ];
    let mut buckets_total = 0u64;
    let mut bucket_sum = 0u128;
    let mut negative = false;
    for (side, spans, deltas, counts) in sides {
        let have = if float { counts.len() } else { deltas.len() } as u64;
        buckets_total += have;
        let need = span_buckets(spans);
        if need != have {
            report.found(Rule::HistogramSpansMismatch, &|| {
                format!("histogram at {ts}: {side} spans need {need} buckets, have {have}")
            });
        }
        if float {
            negative |= counts.iter().any(|&c| c < 0.0);
        } else {
            let mut running = 0i64;
            for d in deltas.iter() {
                running = running.saturating_add(*d);
                negative |= running < 0;
                bucket_sum += running.max(0) as u128;
            }
        }
    }
    negative |= match (h.count, h.zero_count) {
        (Some(Count::CountFloat(c)), _) if c < 0.0 => true,
        (_, Some(ZeroCount::ZeroCountFloat(z))) => z < 0.0,
        _ => false,
    };
    if negative {
        report.found(Rule::HistogramNegativeCount, &|| {
            format!("histogram at {ts} has a negative bucket, zero or total count")
        });
    }
    if !float && !negative {
        let count = match h.count {
            Some(Count::CountInt(c)) => c,
            _ => 0,
        };
        let zero = match h.zero_count {
            Some(ZeroCount::ZeroCountInt(z)) => z,
            _ => 0,
        };
        let observed = bucket_sum + u128::from(zero);
        // NaN observations count but fall in no bucket (Prometheus's rule).
        let wrong = if h.sum.is_nan() {
            observed > u128::from(count)
        } else {
            observed != u128::from(count)
        };
        if wrong {
            report.found(Rule::HistogramCountMismatch, &|| {
                format!(
                    "histogram at {ts} has count {count}, but its zero count and buckets hold {observed}"
                )
            });
        }
    }
    let limit = limits.max_histogram_buckets as u64;
    if buckets_total > limit {
        report.found(Rule::HistogramTooManyBuckets, &|| {
            format!("histogram at {ts} has {buckets_total} buckets, over {limit}")
        });
    }
}
