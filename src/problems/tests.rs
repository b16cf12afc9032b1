//! Each rule triggered, and not triggered just inside its limit; the catalogue's
//! order; real Prometheus traffic without error or warning problems.

use super::histogram::check_histogram;
use super::labels::{check_labels, is_legacy_label_name, is_legacy_metric_name};
use super::samples::{SampleContext, is_counter};
use super::*;
use crate::proto::rw2::histogram::{Count, ZeroCount};
use crate::proto::rw2::{BucketSpan, Histogram};

#[test]
fn catalogue_rows_follow_the_rules_and_say_everything() {
    assert_eq!(CATALOGUE.len(), Rule::ALL.len());
    for (i, (row, &rule)) in CATALOGUE.iter().zip(Rule::ALL).enumerate() {
        assert_eq!(row.rule, rule, "row {i}");
        assert_eq!(rule as usize, i);
        assert_eq!(Rule::from_id(rule.id()), Some(rule));
        let id = rule.id();
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{id}"
        );
        for text in [row.explanation, row.hint, row.source] {
            assert!(!text.is_empty() && !text.contains('\n'), "{id}: {text:?}");
        }
    }
    assert_eq!(Rule::from_id("no-such-rule"), None);
    let mut set = RuleSet::default();
    set.insert(Rule::ContentTypeMismatch);
    set.insert(Rule::LabelsUnsorted);
    assert_eq!(
        set.iter().collect::<Vec<_>>(),
        [Rule::LabelsUnsorted, Rule::ContentTypeMismatch]
    );
}

fn labels(pairs: &[(&[u8], &[u8])], limits: &Thresholds) -> Vec<Rule> {
    let mut found = Found::default();
    check_labels(pairs.iter().copied(), limits, &mut found);
    found.rules()
}

/// Rules that fire on `extra` labels after a valid `__name__`.
fn with_name(extra: &[(&[u8], &[u8])]) -> Vec<Rule> {
    let mut pairs: Vec<(&[u8], &[u8])> = vec![(b"__name__", b"up")];
    pairs.extend_from_slice(extra);
    labels(&pairs, &Thresholds::default())
}

#[test]
fn label_order_and_repeats() {
    assert_eq!(
        with_name(&[(b"b", b"1"), (b"a", b"1")]),
        [Rule::LabelsUnsorted]
    );
    assert_eq!(with_name(&[(b"a", b"1"), (b"b", b"1")]), []);
    assert_eq!(
        with_name(&[(b"a", b"1"), (b"a", b"2")]),
        [Rule::LabelNameRepeated]
    );
    assert_eq!(with_name(&[(b"a", b"1"), (b"aa", b"2")]), []);
    // A name before __name__ in byte order.
    assert_eq!(
        labels(
            &[(b"A", b"1"), (b"__name__", b"up")],
            &Thresholds::default()
        ),
        []
    );
}

#[test]
fn empty_names_and_values() {
    assert_eq!(
        labels(&[(b"", b"x"), (b"__name__", b"up")], &Thresholds::default()),
        [Rule::LabelNameEmpty]
    );
    assert_eq!(
        labels(
            &[(b"_", b"x"), (b"__name__", b"up")],
            &Thresholds::default()
        ),
        []
    );
    assert_eq!(with_name(&[(b"a", b"")]), [Rule::LabelValueEmpty]);
    assert_eq!(with_name(&[(b"a", b" ")]), []);
}

#[test]
fn metric_name_missing_or_empty() {
    let limits = Thresholds::default();
    assert_eq!(
        labels(&[(b"job", b"x")], &limits),
        [Rule::MetricNameMissing]
    );
    assert_eq!(
        labels(&[(b"__name__", b"")], &limits),
        [Rule::MetricNameMissing]
    );
    assert_eq!(labels(&[], &limits), [Rule::MetricNameMissing]);
    assert_eq!(labels(&[(b"__name__", b"x")], &limits), []);
}

#[test]
fn legacy_charsets() {
    for ok in ["a", "_", ":a", "a:b_C9", "up"] {
        assert!(is_legacy_metric_name(ok.as_bytes()), "{ok}");
    }
    for bad in ["", "1a", "a.b", "a-b", "é", "a b"] {
        assert!(!is_legacy_metric_name(bad.as_bytes()), "{bad}");
    }
    for ok in ["a", "_", "__name__", "A_9"] {
        assert!(is_legacy_label_name(ok.as_bytes()), "{ok}");
    }
    for bad in ["", "1a", "a:b", "a.b", "é"] {
        assert!(!is_legacy_label_name(bad.as_bytes()), "{bad}");
    }
    let name = |n: &[u8]| labels(&[(b"__name__", n)], &Thresholds::default());
    assert_eq!(name(b"http.requests"), [Rule::MetricNameInvalid]);
    assert_eq!(name(b"http:requests_total"), []);
    assert_eq!(with_name(&[(b"k8s.pod", b"x")]), [Rule::LabelNameInvalid]);
    assert_eq!(with_name(&[(b"k8s_pod", b"x")]), []);
}

#[test]
fn label_values_must_be_utf8() {
    assert_eq!(with_name(&[(b"a", b"\xff")]), [Rule::LabelValueInvalidUtf8]);
    assert_eq!(with_name(&[(b"a", "é".as_bytes())]), []);
}

#[test]
fn label_count_and_lengths_at_their_limits() {
    let limits = Thresholds::default();
    let names: Vec<String> = (0..limits.max_labels).map(|i| format!("l{i:02}")).collect();
    let set = |n: usize| {
        let mut pairs: Vec<(&[u8], &[u8])> = vec![(b"__name__", b"up")];
        pairs.extend(names[..n].iter().map(|k| (k.as_bytes(), &b"v"[..])));
        labels(&pairs, &limits)
    };
    assert_eq!(set(limits.max_labels - 1), []);
    assert_eq!(set(limits.max_labels), [Rule::TooManyLabels]);

    let long = |n: usize| "a".repeat(n).into_bytes();
    let (at, over) = (
        long(limits.max_label_name_bytes),
        long(limits.max_label_name_bytes + 1),
    );
    assert_eq!(with_name(&[(&at, b"v")]), []);
    assert_eq!(with_name(&[(&over, b"v")]), [Rule::LabelNameTooLong]);
    let (at, over) = (
        long(limits.max_label_value_bytes),
        long(limits.max_label_value_bytes + 1),
    );
    assert_eq!(with_name(&[(b"a", &at)]), []);
    assert_eq!(with_name(&[(b"a", &over)]), [Rule::LabelValueTooLong]);
    let (at, over) = (
        long(limits.max_metric_name_bytes),
        long(limits.max_metric_name_bytes + 1),
    );
    assert_eq!(labels(&[(b"__name__", &at)], &limits), []);
    assert_eq!(
        labels(&[(b"__name__", &over)], &limits),
        [Rule::MetricNameTooLong]
    );
}

#[test]
fn each_label_rule_fires_once_per_set_and_messages_name_the_label() {
    let mut found = Found::default();
    let pairs: [(&[u8], &[u8]); 4] = [
        (b"__name__", b"up"),
        (b"a", b""),
        (b"b", b""),
        (b"a.b", b"x"),
    ];
    check_labels(pairs, &Thresholds::default(), &mut found);
    assert_eq!(
        found.rules(),
        [
            Rule::LabelValueEmpty,
            Rule::LabelsUnsorted,
            Rule::LabelNameInvalid
        ]
    );
    assert_eq!(found.0[0].1, r#"has label "a" with an empty value"#);
    assert_eq!(
        found.0[1].1,
        r#"has labels that are not sorted by name ("a.b" after "b")"#
    );
}

const T: i64 = 1_700_000_000_000;

/// Rules that fire on each of `samples` of a series, in turn; floats are counters.
fn samples(counter: bool, samples: &[(i64, f64)]) -> Vec<Vec<Rule>> {
    let limits = Thresholds::default();
    let mut state = SeriesState::default();
    let mut newest_of_all = i64::MIN;
    samples
        .iter()
        .map(|&(timestamp_ms, value)| {
            let mut found = Found::default();
            let context = SampleContext {
                arrival_ms: T,
                newest_of_all_ms: newest_of_all,
                counter,
            };
            let sample = SampleIn {
                timestamp_ms,
                value,
                start_ms: 0,
                stale: false,
            };
            state.check(sample, &context, &limits, &mut found);
            newest_of_all = newest_of_all.max(timestamp_ms);
            found.rules()
        })
        .collect()
}

#[test]
fn out_of_order_and_duplicates() {
    let none: Vec<Rule> = vec![];
    assert_eq!(
        samples(false, &[(T, 1.0), (T - 1, 1.0), (T + 1, 1.0)]),
        [none.clone(), vec![Rule::OutOfOrder], none.clone()]
    );
    assert_eq!(
        samples(false, &[(T, 1.0), (T, 2.0), (T, 1.0), (T + 1, 1.0)]),
        [
            none.clone(),
            vec![Rule::DuplicateTimestamp],
            vec![Rule::DuplicateSample],
            none.clone()
        ]
    );
    // NaN equals itself bit for bit, as Prometheus compares.
    assert_eq!(
        samples(false, &[(T, f64::NAN), (T, f64::NAN)])[1],
        [Rule::DuplicateSample]
    );
    let mut found = Found::default();
    let mut state = SeriesState::default();
    let context = SampleContext {
        arrival_ms: T,
        newest_of_all_ms: T,
        counter: false,
    };
    for value in [1.5, 2.0] {
        let sample = SampleIn {
            timestamp_ms: T,
            value,
            start_ms: 0,
            stale: false,
        };
        state.check(sample, &context, &Thresholds::default(), &mut found);
    }
    assert_eq!(
        found.0[0].1,
        "sample at 2023-11-14T22:13:20.000Z sent with value 1.5, then 2"
    );
}

/// Short enough for the 80 bytes a series keeps of an offence's message.
#[test]
fn messages_give_times_as_dates_and_gaps_with_units() {
    let mut state = SeriesState::default();
    let context = SampleContext {
        arrival_ms: T,
        newest_of_all_ms: T,
        counter: false,
    };
    let mut found = Found::default();
    for ts in [T, T - 12_345] {
        let sample = SampleIn {
            timestamp_ms: ts,
            value: 1.0,
            start_ms: 0,
            stale: false,
        };
        state.check(sample, &context, &Thresholds::default(), &mut found);
    }
    assert_eq!(
        found.0,
        [(
            Rule::OutOfOrder,
            "sample at 2023-11-14T22:13:07.655Z is 12.345 s older than the series' newest"
                .to_owned()
        )]
    );
    let mut found = Found::default();
    let future = SampleIn {
        timestamp_ms: T + 3_600_000,
        value: 1.0,
        start_ms: 0,
        stale: false,
    };
    SeriesState::default().check(future, &context, &Thresholds::default(), &mut found);
    assert_eq!(
        found.0[0].1,
        "sample at 2023-11-14T23:13:20.000Z is 1 h 0 min 0 s past its arrival"
    );
    let limit = crate::store::problems::SERIES_MESSAGE_BYTES;
    assert!(found.0[0].1.len() <= limit);
}

#[test]
fn too_old_and_too_far_in_future_at_their_limits() {
    let limits = Thresholds::default();
    let old = T - limits.too_old_ms;
    // Another series' sample at T, then this one's.
    let check = |timestamp_ms| {
        let mut found = Found::default();
        let context = SampleContext {
            arrival_ms: T,
            newest_of_all_ms: T,
            counter: false,
        };
        let sample = SampleIn {
            timestamp_ms,
            value: 1.0,
            start_ms: 0,
            stale: false,
        };
        SeriesState::default().check(sample, &context, &limits, &mut found);
        found.rules()
    };
    assert_eq!(check(old), []);
    assert_eq!(check(old - 1), [Rule::TooOld]);
    assert_eq!(check(T + limits.future_ms), []);
    assert_eq!(check(T + limits.future_ms + 1), [Rule::TooFarInFuture]);
    // The first sample of all is never too old.
    assert_eq!(samples(false, &[(0, 1.0)]), [Vec::<Rule>::new()]);
}

#[test]
fn counters_going_down_or_nan() {
    let none: Vec<Rule> = vec![];
    assert_eq!(
        samples(true, &[(T, 5.0), (T + 1, 5.0), (T + 2, 4.0), (T + 3, 4.5)]),
        [
            none.clone(),
            none.clone(),
            vec![Rule::CounterDecrease],
            none.clone()
        ]
    );
    // Not a counter: a gauge may go down.
    assert_eq!(
        samples(false, &[(T, 5.0), (T + 1, 4.0)]),
        [none.clone(), none.clone()]
    );
    assert_eq!(samples(true, &[(T, f64::NAN)]), [vec![Rule::NanOnCounter]]);
    assert_eq!(samples(false, &[(T, f64::NAN)]), [Vec::<Rule>::new()]);
    // A staleness marker is no NaN value, and hides no reset after it.
    let limits = Thresholds::default();
    let mut state = SeriesState::default();
    let mut found = Found::default();
    let context = SampleContext {
        arrival_ms: T,
        newest_of_all_ms: T,
        counter: true,
    };
    let stale = f64::from_bits(0x7ff0_0000_0000_0002);
    for (i, (value, is_stale)) in [(5.0, false), (stale, true), (1.0, false)]
        .into_iter()
        .enumerate()
    {
        let sample = SampleIn {
            timestamp_ms: T + i as i64,
            value,
            start_ms: 0,
            stale: is_stale,
        };
        state.check(sample, &context, &limits, &mut found);
    }
    assert_eq!(found.rules(), []);
    // A later start timestamp says the counter was reset on purpose.
    let mut state = SeriesState::default();
    for (i, (value, start_ms)) in [(5.0, T - 10), (1.0, T)].into_iter().enumerate() {
        let sample = SampleIn {
            timestamp_ms: T + i as i64,
            value,
            start_ms,
            stale: false,
        };
        state.check(sample, &context, &limits, &mut found);
    }
    assert_eq!(found.rules(), []);
    assert!(is_counter("http_requests_total", false) && is_counter("x_bucket", false));
    assert!(is_counter("x", true) && !is_counter("temperature", false));
}

#[test]
fn series_state_stays_small() {
    assert!(size_of::<SeriesState>() <= 24);
}

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

#[test]
fn exemplar_timestamps_and_label_length() {
    use super::exemplars::check_exemplar;
    let limits = Thresholds::default();
    let check = |pairs: &[(&[u8], &[u8])], ts, rw2| {
        let mut found = Found::default();
        check_exemplar(pairs.iter().copied(), ts, rw2, &limits, &mut found);
        found.rules()
    };
    assert_eq!(check(&[], 0, true), [Rule::ExemplarWithoutTimestamp]);
    assert_eq!(check(&[], 0, false), []);
    assert_eq!(check(&[], T, true), []);
    // 8 + 120 characters, two bytes each past the ASCII name.
    let value = "é".repeat(120);
    assert_eq!(check(&[(b"trace_id", value.as_bytes())], T, true), []);
    let value = "é".repeat(121);
    assert_eq!(
        check(&[(b"trace_id", value.as_bytes())], T, true),
        [Rule::ExemplarLabelsTooLong]
    );
}

/// Every check over the requests Prometheus 2.42 sent (captured, in the fuzz
/// seed corpus): nothing at `error` or `warning` may fire on real traffic.
#[test]
fn real_prometheus_traffic_has_no_errors_or_warnings() {
    use crate::ingest::decode::decode;
    use crate::ingest::model::{MetricType, Protocol, is_stale_nan};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/decode_rw1");
    let limits = Thresholds::default();
    let mut found = Found::default();
    let mut checked = 0;
    for file in ["prometheus-2.42-series.pb", "prometheus-2.42-metadata.pb"] {
        let body = std::fs::read(dir.join(file)).expect("the captured request");
        let data = decode(Protocol::V1, body).expect("a request Prometheus sent");
        let mut newest_of_all = i64::MIN;
        for series in &data.series {
            let bytes = |r: std::ops::Range<u32>| {
                data.labels[r.start as usize..r.end as usize]
                    .iter()
                    .map(|l| (data.bytes(l.name), data.bytes(l.value)))
                    .collect::<Vec<_>>()
            };
            check_labels(bytes(series.labels.clone()), &limits, &mut found);
            let typed = series
                .metadata
                .is_some_and(|m| m.metric_type == MetricType::Counter);
            let counter = is_counter(data.metric_name(series.labels.clone()), typed);
            let mut state = SeriesState::default();
            for s in data.samples_of(series) {
                let context = SampleContext {
                    arrival_ms: s.timestamp_ms,
                    newest_of_all_ms: newest_of_all,
                    counter,
                };
                let sample = SampleIn {
                    timestamp_ms: s.timestamp_ms,
                    value: s.value,
                    start_ms: s.start_timestamp_ms,
                    stale: is_stale_nan(s.value),
                };
                state.check(sample, &context, &limits, &mut found);
                newest_of_all = newest_of_all.max(s.timestamp_ms);
                checked += 1;
            }
            for h in data.histograms_of(series) {
                check_histogram(h, &limits, &mut found);
            }
            for e in data.exemplars_of(series) {
                super::exemplars::check_exemplar(
                    bytes(e.labels.clone()),
                    e.timestamp_ms,
                    false,
                    &limits,
                    &mut found,
                );
            }
        }
    }
    assert!(checked > 10, "{checked} samples");
    let serious: Vec<_> = found
        .0
        .iter()
        .filter(|(r, _)| r.severity() > Severity::Info)
        .collect();
    assert!(serious.is_empty(), "{serious:?}");
}

/// `take_plain` is the common case of `check`: when it takes a sample, `check`
/// would have fired nothing and taken it the same way, counter or not; when it
/// does not, it changed nothing. Random samples around a series' newest, with
/// NaN, stale markers, start timestamps and the time windows' edges.
#[test]
fn take_plain_agrees_with_check() {
    let limits = Thresholds::default();
    let mut rng = crate::test_rng::Rng(0x5eed_0f7a);
    let values = [
        0.0,
        -0.0,
        1.0,
        2.0,
        -1.0,
        f64::NAN,
        f64::from_bits(STALE),
        1e300,
    ];
    let (mut taken, mut declined, mut unconcerned) = (0, 0, 0);
    for _ in 0..20_000 {
        let mut state = SeriesState::default();
        for _ in 0..rng.below(4) {
            let context = SampleContext {
                arrival_ms: 1_000_000,
                newest_of_all_ms: i64::MIN,
                counter: false,
            };
            let sample = SampleIn {
                timestamp_ms: 1_000_000 - rng.below(3) as i64 * 1000,
                value: values[rng.index(values.len())],
                start_ms: rng.below(3) as i64 * 10,
                stale: false,
            };
            state.check(sample, &context, &limits, &mut Found::default());
        }
        let arrival_ms = 1_000_000 + rng.below(3) as i64 * 1000 - 1000;
        let newest_of_all_ms = [i64::MIN, 1_000_000, 1_000_000 + limits.too_old_ms][rng.index(3)];
        let value = values[rng.index(values.len())];
        let edges = [
            -1000,
            0,
            1000,
            limits.future_ms,
            limits.future_ms + 1,
            -limits.too_old_ms,
        ];
        let sample = SampleIn {
            timestamp_ms: 1_000_000 + edges[rng.index(edges.len())],
            value,
            start_ms: rng.below(3) as i64 * 10,
            stale: value.to_bits() == STALE,
        };
        let horizon = arrival_ms.saturating_add(limits.future_ms);
        let floor = newest_of_all_ms.saturating_sub(limits.too_old_ms);
        // The full check, counter or not: the state after (as text, where a
        // NaN value equals itself) and what fired.
        let full = |counter| {
            let context = SampleContext {
                arrival_ms,
                newest_of_all_ms,
                counter,
            };
            let (mut full, mut found) = (state, Found::default());
            full.check(sample, &context, &limits, &mut found);
            (format!("{full:?}"), found)
        };
        let mut plain = state;
        if plain.take_plain(sample, horizon, floor) {
            taken += 1;
            for counter in [false, true] {
                let (after, found) = full(counter);
                assert_eq!(found, Found::default(), "{state:?} {sample:?} {counter}");
                assert_eq!(after, format!("{plain:?}"), "{sample:?} {counter}");
            }
        } else {
            declined += 1;
            assert_eq!(
                format!("{plain:?}"),
                format!("{state:?}"),
                "declined: {sample:?}"
            );
            if !state.counter_matters(sample) {
                // Counter or not, the same findings and the same state.
                let checked = [false, true].map(full);
                assert_eq!(checked[0], checked[1], "{state:?} {sample:?}");
                unconcerned += 1;
            }
        }
    }
    assert!(
        taken > 1000 && declined > 1000 && unconcerned > 1000,
        "{taken} taken, {declined} declined, {unconcerned} not concerning counters"
    );
}

const STALE: u64 = crate::proto::STALE_NAN_BITS;
