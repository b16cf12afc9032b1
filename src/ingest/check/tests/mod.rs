//! The checker on whole requests: the rules that need a request or a series
//! as a whole (each fired, and not just inside), what is remembered between
//! requests, switches.

mod seen_before;
mod types;
mod unkept;

use super::Checker;
use super::settings::{Action, Settings};
use crate::ingest::model::{
    Exemplar, Histogram, Metadata, MetricType, Protocol, Sample, WriteData,
};
use crate::problems::{Problem, Rule, Subject};

const NOW: i64 = 1_800_000_000_000;

fn sample(timestamp_ms: i64, value: f64) -> Sample {
    Sample {
        value,
        timestamp_ms,
        start_timestamp_ms: 0,
    }
}

fn histogram(timestamp: i64) -> Histogram {
    use crate::proto::rw2::histogram::{Count, ZeroCount};
    Histogram {
        count: Some(Count::CountInt(1)),
        zero_count: Some(ZeroCount::ZeroCountInt(1)),
        timestamp,
        ..Default::default()
    }
}

/// A request of one series `name{job="a"}` with `samples` and `histograms`.
fn one_series(name: &str, samples: &[Sample], histograms: &[Histogram]) -> WriteData {
    let mut data = WriteData::default();
    data.push_series(&[("__name__", name), ("job", "a")], samples, histograms);
    data
}

/// The rules `checker` finds in `data`, sent over `protocol`.
fn rules_with(checker: &Checker, mut data: WriteData, protocol: Protocol) -> Vec<Rule> {
    checker.check(&mut data, Some(protocol), NOW);
    data.problems.iter().map(|p| p.rule).collect()
}

/// The rules a fresh checker finds in `data`, over RW 2.0, apart from
/// `metadata-type-unspecified` (series built here have no metadata).
fn rw2_rules(data: WriteData) -> Vec<Rule> {
    let mut rules = rules_with(&Checker::default(), data, Protocol::V2);
    rules.retain(|&r| r != Rule::MetadataTypeUnspecified);
    rules
}

/// Metadata of metric `family` interned in `data`.
fn metadata_in(
    data: &mut WriteData,
    family: &str,
    metric_type: MetricType,
    help: &str,
) -> Metadata {
    let help = data.intern(help);
    let family = data.intern(family);
    Metadata {
        family,
        metric_type,
        help,
        unit: WriteData::EMPTY,
    }
}

fn with_metadata(mut data: WriteData, metric_type: MetricType, help: &str) -> WriteData {
    data.series[0].metadata = Some(metadata_in(&mut data, "m", metric_type, help));
    data
}

#[test]
fn exemplar_only_series() {
    let mut data = one_series("m", &[], &[]);
    data.exemplars.push(Exemplar {
        labels: 0..0,
        value: 1.0,
        timestamp_ms: NOW,
    });
    data.series[0].exemplars = 0..1;
    assert_eq!(rw2_rules(data.clone()), [Rule::ExemplarOnlySeries]);
    // Just inside: with one sample it is an ordinary series with an exemplar.
    data.samples.push(sample(NOW, 1.0));
    data.series[0].samples = 0..1;
    assert_eq!(rw2_rules(data.clone()), []);
    // RW 1.0 has no such rule.
    data.series[0].samples = 0..0;
    let rules = rules_with(&Checker::default(), data, Protocol::V1);
    assert_eq!(rules, []);
}

#[test]
fn metadata_type_unspecified() {
    let data = one_series("m", &[sample(NOW, 1.0)], &[]);
    let fresh = || Checker::default();
    assert_eq!(
        rules_with(&fresh(), data.clone(), Protocol::V2),
        [Rule::MetadataTypeUnspecified]
    );
    let unknown = with_metadata(data.clone(), MetricType::Unknown, "Help.");
    assert_eq!(
        rules_with(&fresh(), unknown, Protocol::V2),
        [Rule::MetadataTypeUnspecified]
    );
    let gauge = with_metadata(data.clone(), MetricType::Gauge, "Help.");
    assert_eq!(rules_with(&fresh(), gauge, Protocol::V2), []);
    assert_eq!(rules_with(&fresh(), data, Protocol::V1), []);
    // The name quoted as PromQL writes it: `\x1b`, not Rust's `\u{1b}`.
    let mut hostile = one_series("m\x1b[2J\u{e0041}", &[sample(NOW, 1.0)], &[]);
    fresh().check(&mut hostile, Some(Protocol::V2), NOW);
    let untyped = hostile
        .problems
        .iter()
        .find(|p| p.rule == Rule::MetadataTypeUnspecified);
    let message = untyped.expect("fired").message.text();
    assert!(
        message.starts_with(r#"metric "m\x1b[2J\U000e0041" is sent with no type"#),
        "{message}"
    );
}

/// Prometheus 3.x without `metadata-wal-records` sends every series untyped:
/// the rule fires once per metric name, not per series and request.
#[test]
fn metadata_type_unspecified_once_per_metric_name() {
    let checker = Checker::default();
    let request = |names: &[&str], jobs: usize| {
        let mut data = WriteData::default();
        for name in names {
            for job in 0..jobs {
                let job = job.to_string();
                data.push_series(
                    &[("__name__", name), ("job", &job)],
                    &[sample(NOW, 1.0)],
                    &[],
                );
            }
        }
        data
    };
    let mut data = request(&["a", "b"], 50);
    checker.check(&mut data, Some(Protocol::V2), NOW);
    let fired: Vec<(Rule, Option<usize>, u32)> = data
        .problems
        .iter()
        .map(|p| (p.rule, p.series(), p.count))
        .collect();
    assert_eq!(
        fired,
        [
            (Rule::MetadataTypeUnspecified, Some(0), 1),
            (Rule::MetadataTypeUnspecified, Some(50), 1)
        ]
    );
    assert_eq!(data.problem_counts().total(), 2);
    assert!(
        data.problems[0]
            .message
            .text()
            .contains("--enable-feature=metadata-wal-records"),
        "{}",
        data.problems[0].message
    );
    // The next requests: only a new name fires.
    let mut data = request(&["b", "a", "c"], 50);
    checker.check(&mut data, Some(Protocol::V2), NOW + 1);
    let fired: Vec<Option<usize>> = data
        .problems
        .iter()
        .filter(|p| p.rule == Rule::MetadataTypeUnspecified)
        .map(Problem::series)
        .collect();
    assert_eq!(fired, [Some(100)]);
    // A name whose type is known from a typed series does not fire.
    let checker = Checker::default();
    let typed = with_metadata(
        one_series("m", &[sample(NOW, 1.0)], &[]),
        MetricType::Gauge,
        "",
    );
    assert_eq!(rules_with(&checker, typed, Protocol::V2), []);
    let untyped = one_series("m", &[sample(NOW + 1, 1.0)], &[]);
    assert_eq!(rules_with(&checker, untyped, Protocol::V2), []);
}

#[test]
fn metadata_conflict_across_series_and_requests() {
    let checker = Checker::default();
    let at = |t: i64| one_series("m", &[sample(NOW + t, 1.0)], &[]);
    let gauge = with_metadata(at(0), MetricType::Gauge, "Help.");
    assert_eq!(rules_with(&checker, gauge, Protocol::V2), []);
    // Just inside: the same again, or with no type or help, conflicts with nothing.
    let same = with_metadata(at(1), MetricType::Gauge, "Help.");
    assert_eq!(rules_with(&checker, same, Protocol::V2), []);
    let blank = with_metadata(at(2), MetricType::Gauge, "");
    assert_eq!(rules_with(&checker, blank, Protocol::V2), []);
    let counter = with_metadata(at(3), MetricType::Counter, "Help.");
    assert_eq!(
        rules_with(&checker, counter, Protocol::V2),
        [Rule::MetadataConflict]
    );
    let other_help = with_metadata(at(4), MetricType::Counter, "Other help.");
    assert_eq!(
        rules_with(&checker, other_help, Protocol::V2),
        [Rule::MetadataConflict]
    );
    // RW 1.0 metadata entries, about the request.
    let mut rw1 = WriteData::default();
    for (metric_type, help) in [
        (MetricType::Counter, "Other help."),
        (MetricType::Gauge, "x"),
    ] {
        let entry = Metadata {
            family: rw1.intern("m"),
            metric_type,
            help: rw1.intern(help),
            unit: WriteData::EMPTY,
        };
        rw1.metadata.push(entry);
    }
    checker.check(&mut rw1, Some(Protocol::V1), NOW);
    let [problem] = &rw1.problems[..] else {
        panic!("{:?}", rw1.problems)
    };
    assert_eq!(problem.rule, Rule::MetadataConflict);
    assert_eq!(problem.subject, Subject::Request);
    assert_eq!(
        problem.message,
        "metric \"m\" was sent as a counter, now as a gauge"
    );
}

#[test]
fn samples_and_histograms_mixed() {
    let mixed = one_series("m", &[sample(NOW, 1.0)], &[histogram(NOW + 1000)]);
    assert_eq!(rw2_rules(mixed), [Rule::SamplesAndHistogramsMixed]);
    assert_eq!(rw2_rules(one_series("m", &[], &[histogram(NOW)])), []);
    assert_eq!(rw2_rules(one_series("m", &[sample(NOW, 1.0)], &[])), []);
}

#[test]
fn rw2_created_timestamp_legacy() {
    let mut data = one_series("m", &[sample(NOW, 1.0)], &[]);
    data.series[0].created_timestamp_ms = NOW - 60_000;
    assert_eq!(rw2_rules(data.clone()), [Rule::Rw2CreatedTimestampLegacy]);
    // Just inside: the start timestamp on the sample, the rc.4 layout.
    data.series[0].created_timestamp_ms = 0;
    data.samples[0].start_timestamp_ms = NOW - 60_000;
    assert_eq!(rw2_rules(data), []);
}

#[test]
fn samples_are_checked_against_what_earlier_requests_sent() {
    let checker = Checker::default();
    let rules =
        |samples: &[Sample]| rules_with(&checker, one_series("up", samples, &[]), Protocol::V1);
    assert_eq!(rules(&[sample(NOW, 1.0), sample(NOW + 1000, 1.0)]), []);
    assert_eq!(rules(&[sample(NOW + 1000, 1.0)]), [Rule::DuplicateSample]);
    assert_eq!(
        rules(&[sample(NOW + 1000, 2.0)]),
        [Rule::DuplicateTimestamp]
    );
    assert_eq!(rules(&[sample(NOW + 500, 2.0)]), [Rule::OutOfOrder]);
    // Too old: behind the newest sample of all (of any series) by over an hour.
    let other = one_series("other", &[sample(NOW - 3_600_001, 1.0)], &[]);
    assert_eq!(rules_with(&checker, other, Protocol::V1), [Rule::TooOld]);
    let other = one_series("other2", &[sample(NOW + 1000 - 3_600_000, 1.0)], &[]);
    assert_eq!(rules_with(&checker, other, Protocol::V1), []);
    // A sample far in the future is reported, and does not make the rest too old.
    let future = one_series("f", &[sample(NOW + 3 * 3_600_000, 1.0)], &[]);
    assert_eq!(
        rules_with(&checker, future, Protocol::V1),
        [Rule::TooFarInFuture]
    );
    assert_eq!(rules(&[sample(NOW + 2000, 1.0)]), []);
}

#[test]
fn each_rule_is_one_problem_per_series_with_a_count() {
    let checker = Checker::default();
    let mut data = one_series(
        "up",
        &[sample(NOW, 1.0), sample(NOW - 1, 1.0), sample(NOW - 2, 1.0)],
        &[],
    );
    checker.check(&mut data, Some(Protocol::V1), NOW);
    let [problem] = &data.problems[..] else {
        panic!("{:?}", data.problems)
    };
    assert_eq!((problem.rule, problem.count), (Rule::OutOfOrder, 2));
    assert_eq!(problem.timestamp_ms, Some(NOW - 1), "the first offence's");
    assert_eq!(data.problem_counts().get(Rule::OutOfOrder), 2);
}

#[test]
fn rules_switched_off_cost_nothing_and_report_nothing() {
    let mut settings = Settings::default();
    for &rule in Rule::ALL {
        settings.set(rule, Action::Off);
    }
    let checker = Checker::new(settings);
    let mut data = one_series("", &[sample(NOW, 1.0), sample(NOW, 2.0)], &[]);
    data.problems
        .push(Problem::of_request(Rule::EmptyRequest, String::new()));
    checker.check(&mut data, Some(Protocol::V2), NOW);
    assert_eq!(data.problems, []);
    assert_eq!(data.problem_counts().total(), 0);
    assert_eq!(checker.remembered().0, 0, "no series state kept");
}

#[test]
fn series_state_is_bounded() {
    let checker = Checker::with_capacity(Settings::default(), 100);
    for i in 0..1000 {
        let mut data = one_series(&format!("m{i}"), &[sample(NOW, 1.0)], &[]);
        checker.check(&mut data, Some(Protocol::V1), NOW);
    }
    let (series, bytes) = checker.remembered();
    assert!(series <= 200, "{series}");
    assert!(bytes <= 200 * 2 * 40, "{bytes}");
}

#[derive(Clone, Copy)]
enum Typed {
    Counter,
    Gauge,
}

/// An RW 2.0 request as decoded (its series share their names' symbols):
/// `(name, job, type, value)` per series (no type, a counter or a gauge),
/// each sample at `ts`.
fn rw2_decoded(series: &[(&str, &str, Option<Typed>, f64)], ts: i64) -> WriteData {
    use crate::proto::{Symbols, rw2};
    use prost::Message as _;
    let mut symbols = Symbols::default();
    let timeseries = series
        .iter()
        .map(|&(name, job, typed, value)| rw2::TimeSeries {
            labels_refs: ["__name__", name, "job", job]
                .map(|s| symbols.intern(s))
                .to_vec(),
            samples: vec![rw2::Sample {
                value,
                timestamp: ts,
                start_timestamp: 0,
            }],
            metadata: typed.map(|typed| rw2::Metadata {
                r#type: match typed {
                    Typed::Counter => rw2::metadata::MetricType::Counter,
                    Typed::Gauge => rw2::metadata::MetricType::Gauge,
                } as i32,
                help_ref: 0,
                unit_ref: 0,
            }),
            ..Default::default()
        })
        .collect();
    let request = rw2::Request {
        symbols: symbols.into_strings(),
        timeseries,
    };
    crate::ingest::decode::decode(Protocol::V2, request.encode_to_vec()).expect("decodes")
}

#[test]
fn series_past_the_problems_carried_are_named_and_renumbered_when_some_are_refused() {
    use crate::problems::{MAX_PROBLEMS, RuleSet, Uncarried};
    let mut settings = Settings::default();
    settings.set(Rule::DuplicateTimestamp, Action::Reject);
    let checker = Checker::new(settings);
    let mut data = WriteData::default();
    let n = MAX_PROBLEMS + 3;
    for i in 0..n {
        let job = format!("j{i}");
        // A resend within the request (duplicate-sample) on every series; the
        // second past the cap also sends another value (refused).
        let second = if i == MAX_PROBLEMS + 1 { 2.0 } else { 1.0 };
        let samples = [sample(NOW, 1.0), sample(NOW, second)];
        data.push_series(&[("__name__", "up"), ("job", &job)], &samples, &[]);
    }
    checker.check(&mut data, Some(Protocol::V1), NOW);
    assert_eq!(data.problems.len(), MAX_PROBLEMS);
    assert_eq!(data.series.len(), n - 1);
    let dup = RuleSet::of(&[Rule::DuplicateSample]);
    let uncarried = |series| Uncarried { series, rules: dup };
    // The refused one is gone; the one after it took its place.
    let [a, b] = [MAX_PROBLEMS as u32, MAX_PROBLEMS as u32 + 1];
    assert_eq!(data.uncarried, [uncarried(a), uncarried(b)]);
    assert_eq!(
        data.problem_counts().get(Rule::DuplicateSample),
        n as u64 - 1
    );
    assert_eq!(data.problem_counts().get(Rule::DuplicateTimestamp), 1);
}
