//! The native histogram rules: counts and spans, schemas and custom bounds,
//! the bucket limit.

use super::*;

/// An integer histogram that holds together: count 6 = zero 1 + buckets 2, 3.
fn histogram() -> Histogram {
    Histogram {
        count: Some(Count::CountInt(6)),
        zero_count: Some(ZeroCount::ZeroCountInt(1)),
        sum: 10.0,
        schema: 0,
        positive_spans: vec![BucketSpan {
            offset: 0,
            length: 2,
        }],
        positive_deltas: vec![2, 1],
        timestamp: T,
        ..Histogram::default()
    }
}

fn histogram_rules(h: &Histogram, limits: &Thresholds) -> Vec<Rule> {
    let mut found = Found::default();
    check_histogram(h, limits, &mut found);
    found.rules()
}

#[test]
fn histogram_counts_and_spans() {
    let limits = Thresholds::default();
    assert_eq!(histogram_rules(&histogram(), &limits), []);
    let h = Histogram {
        count: Some(Count::CountInt(7)),
        ..histogram()
    };
    assert_eq!(histogram_rules(&h, &limits), [Rule::HistogramCountMismatch]);
    // NaN observations count but fall in no bucket.
    let h = Histogram { sum: f64::NAN, ..h };
    assert_eq!(histogram_rules(&h, &limits), []);
    let h = Histogram {
        count: Some(Count::CountInt(5)),
        sum: f64::NAN,
        ..histogram()
    };
    assert_eq!(histogram_rules(&h, &limits), [Rule::HistogramCountMismatch]);
    let h = Histogram {
        positive_deltas: vec![2, -3],
        count: Some(Count::CountInt(2)),
        ..histogram()
    };
    assert_eq!(histogram_rules(&h, &limits), [Rule::HistogramNegativeCount]);
    let h = Histogram {
        positive_deltas: vec![2, 1, -3],
        ..histogram()
    };
    assert_eq!(histogram_rules(&h, &limits), [Rule::HistogramSpansMismatch]);
    let float = Histogram {
        count: Some(Count::CountFloat(6.0)),
        zero_count: Some(ZeroCount::ZeroCountFloat(1.0)),
        positive_deltas: vec![],
        positive_counts: vec![2.0, 3.0],
        ..histogram()
    };
    assert_eq!(histogram_rules(&float, &limits), []);
    let h = Histogram {
        positive_counts: vec![2.0, -0.5],
        ..float.clone()
    };
    assert_eq!(histogram_rules(&h, &limits), [Rule::HistogramNegativeCount]);
}

#[test]
fn histogram_schemas_and_custom_bounds() {
    let limits = Thresholds::default();
    for schema in [-4, 8] {
        assert_eq!(
            histogram_rules(
                &Histogram {
                    schema,
                    ..histogram()
                },
                &limits
            ),
            []
        );
    }
    for schema in [-5, 9, -52] {
        let h = Histogram {
            schema,
            ..histogram()
        };
        assert_eq!(histogram_rules(&h, &limits), [Rule::HistogramSchemaInvalid]);
    }
    let nhcb = Histogram {
        schema: -53,
        custom_values: vec![0.1, 1.0],
        ..histogram()
    };
    assert_eq!(histogram_rules(&nhcb, &limits), []);
    for bounds in [
        vec![1.0, 1.0],
        vec![1.0, 0.5],
        vec![f64::NAN, 1.0],
        vec![0.0, f64::NAN],
    ] {
        let h = Histogram {
            custom_values: bounds,
            ..nhcb.clone()
        };
        assert_eq!(
            histogram_rules(&h, &limits),
            [Rule::HistogramCustomBoundsInvalid]
        );
    }
    let h = Histogram {
        custom_values: vec![1.0],
        ..histogram()
    };
    assert_eq!(
        histogram_rules(&h, &limits),
        [Rule::HistogramCustomBoundsInvalid]
    );
}

#[test]
fn histogram_buckets_at_their_limit() {
    let limits = Thresholds {
        max_histogram_buckets: 2,
        ..Thresholds::default()
    };
    assert_eq!(histogram_rules(&histogram(), &limits), []);
    let h = Histogram {
        negative_spans: vec![BucketSpan {
            offset: 0,
            length: 1,
        }],
        negative_deltas: vec![1],
        count: Some(Count::CountInt(7)),
        ..histogram()
    };
    assert_eq!(
        histogram_rules(&h, &limits),
        [Rule::HistogramTooManyBuckets]
    );
}
