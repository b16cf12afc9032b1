//! Each rule triggered, and not triggered just inside its limit; the catalogue's
//! order; real Prometheus traffic without error or warning problems.

mod histograms;
mod samples;

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

const STALE: u64 = crate::proto::STALE_NAN_BITS;
