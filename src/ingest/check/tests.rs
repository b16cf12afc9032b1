//! The checker on whole requests: the rules that need a request or a series
//! as a whole (each fired, and not just inside), what is remembered between
//! requests, switches.

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

/// A decoded RW 1.0 request of one series with `labels`, in the order given,
/// and one sample at `timestamp_ms`.
fn decoded_rw1(labels: &[(&str, &str)], timestamp_ms: i64) -> WriteData {
    decoded_rw1_at(labels, timestamp_ms, 1.0)
}

/// [`decoded_rw1`] with the sample's `value`.
fn decoded_rw1_at(labels: &[(&str, &str)], timestamp_ms: i64, value: f64) -> WriteData {
    use crate::proto::rw1;
    use prost::Message;
    let series = rw1::TimeSeries {
        labels: labels
            .iter()
            .map(|&(name, value)| rw1::Label {
                name: name.into(),
                value: value.into(),
            })
            .collect(),
        samples: vec![rw1::Sample {
            value,
            timestamp: timestamp_ms,
        }],
        ..Default::default()
    };
    let request = rw1::WriteRequest {
        timeseries: vec![series],
        metadata: vec![],
    };
    crate::ingest::decode::decode(Protocol::V1, request.encode_to_vec()).expect("valid")
}

/// A label set found with nothing wrong is not read again when it comes again
/// in the same order; anything else is read every time: the label rules fire
/// on every request that breaks them, as on the first.
#[test]
fn label_sets_seen_before_fire_as_the_first_time() {
    let checker = Checker::default();
    // Each label set, whether it is in order, and what it breaks.
    type Case<'a> = (&'a [(&'a str, &'a str)], bool, &'a [Rule]);
    let sets: [Case; 5] = [
        (&[("__name__", "m"), ("job", "a")], true, &[]),
        (
            &[("job", "a"), ("__name__", "m")],
            false,
            &[Rule::LabelsUnsorted],
        ),
        (
            &[("__name__", "m"), ("job", "")],
            true,
            &[Rule::LabelValueEmpty],
        ),
        (
            &[("__name__", "m"), ("job.name", "a")],
            true,
            &[Rule::LabelNameInvalid],
        ),
        (
            &[("__name__", "m"), ("job", "a"), ("job", "a")],
            false,
            &[Rule::LabelNameRepeated],
        ),
    ];
    for round in 0..3 {
        for (i, &(set, sorted, expected)) in sets.iter().enumerate() {
            // Later each time: sets 0 and 1 are one series.
            let data = decoded_rw1(set, NOW + (round * 5 + i as i64) * 1000);
            assert_eq!(data.series[0].labels_sorted, sorted, "{set:?}");
            let rules = rules_with(&checker, data, Protocol::V1);
            assert_eq!(rules, expected, "round {round}: {set:?}");
        }
    }
    // The plain set (same identity hash) sent out of order after being seen
    // in order, and in order again.
    let data = decoded_rw1(&[("job", "a"), ("__name__", "m")], NOW + 60_000);
    assert_eq!(
        data.series[0].label_hash,
        decoded_rw1(sets[0].0, NOW).series[0].label_hash
    );
    assert_eq!(
        rules_with(&checker, data, Protocol::V1),
        [Rule::LabelsUnsorted]
    );
    let data = decoded_rw1(sets[0].0, NOW + 75_000);
    assert_eq!(rules_with(&checker, data, Protocol::V1), []);
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

/// Untyped RW 2.0 series whose names interleave: the type remembered for a
/// name is looked up once per request (by its symbol), fires once per name,
/// and a series typed later in the request makes its name a counter for the
/// untyped series after it.
#[test]
fn untyped_names_interleaved_fire_once_and_learn_their_type_mid_request() {
    let checker = Checker::default();
    let mut first = rw2_decoded(
        &[
            ("a", "0", None, 10.0),
            ("b", "0", None, 10.0),
            ("a", "1", None, 10.0),
        ],
        NOW - 15_000,
    );
    checker.check(&mut first, Some(Protocol::V2), NOW);
    let fired: Vec<(Rule, Option<usize>)> = first
        .problems
        .iter()
        .map(|p| (p.rule, p.series()))
        .collect();
    assert_eq!(
        fired,
        [
            (Rule::MetadataTypeUnspecified, Some(0)),
            (Rule::MetadataTypeUnspecified, Some(1))
        ]
    );
    // `a` goes down on both series; it is a counter once series 2 says so.
    let mut second = rw2_decoded(
        &[
            ("a", "0", None, 5.0),
            ("b", "0", None, 5.0),
            ("a", "2", Some(Typed::Counter), 1.0),
            ("a", "1", None, 5.0),
        ],
        NOW,
    );
    checker.check(&mut second, Some(Protocol::V2), NOW);
    let fired: Vec<(Rule, Option<usize>)> = second
        .problems
        .iter()
        .map(|p| (p.rule, p.series()))
        .collect();
    assert_eq!(fired, [(Rule::CounterDecrease, Some(3))]);
}

/// Metadata sent again with a name's series is taken once per request while
/// it stays the same (by symbol); a type that changes back and forth
/// conflicts every time, within a request and across.
#[test]
fn metadata_conflicts_fire_each_time_the_type_changes_within_a_request() {
    let checker = Checker::default();
    let (c, g) = (Some(Typed::Counter), Some(Typed::Gauge));
    let series = [
        ("a", "0", c, 1.0),
        ("a", "1", c, 1.0),
        ("a", "2", g, 1.0),
        ("a", "3", g, 1.0),
        ("a", "4", c, 1.0),
        ("a", "5", c, 1.0),
    ];
    let mut data = rw2_decoded(&series, NOW);
    checker.check(&mut data, Some(Protocol::V2), NOW);
    let conflicts = |data: &WriteData| -> Vec<Option<usize>> {
        data.problems
            .iter()
            .filter(|p| p.rule == Rule::MetadataConflict)
            .map(|p| p.series())
            .collect()
    };
    assert_eq!(conflicts(&data), [Some(2), Some(4)]);
    // Next request: it was a counter last, the gauges conflict first.
    let mut data = rw2_decoded(&series, NOW + 15_000);
    checker.check(&mut data, Some(Protocol::V2), NOW + 15_000);
    assert_eq!(conflicts(&data), [Some(2), Some(4)]);
    let mut same = rw2_decoded(&series[..2], NOW + 30_000);
    checker.check(&mut same, Some(Protocol::V2), NOW + 30_000);
    assert_eq!(conflicts(&same), []);
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

/// A request of series `name{job="a"}` with one sample, and RW 1.0 metadata
/// typing `name` as `typed` if given.
fn rw1_typed(name: &str, ts: i64, value: f64, typed: Option<MetricType>) -> WriteData {
    let mut data = one_series(name, &[sample(ts, value)], &[]);
    if let Some(metric_type) = typed {
        let metadata = metadata_in(&mut data, name, metric_type, "Help.");
        data.metadata.push(metadata);
    }
    data
}

#[test]
fn what_a_series_found_out_of_being_a_counter_holds_until_its_names_type_changes() {
    let checker = Checker::default();
    let rules = |name, ts, value, typed| {
        rules_with(&checker, rw1_typed(name, ts, value, typed), Protocol::V1)
    };
    // Named like no counter: going down is fine, and found out once.
    assert!(rules("temp", NOW, 5.0, None).is_empty());
    assert!(rules("temp", NOW + 1, 3.0, None).is_empty());
    assert!(rules("temp", NOW + 2, 1.0, None).is_empty());
    // Metadata makes it a counter: the next decrease fires.
    assert!(rules("temp", NOW + 3, 2.0, Some(MetricType::Counter)).is_empty());
    assert_eq!(rules("temp", NOW + 4, 1.0, None), [Rule::CounterDecrease]);
    assert_eq!(rules("temp", NOW + 5, 0.5, None), [Rule::CounterDecrease]);
    // And a gauge again (which conflicts with what it was sent as): no more.
    let retyped = rules("temp", NOW + 6, 0.25, Some(MetricType::Gauge));
    assert_eq!(retyped, [Rule::MetadataConflict]);
    assert!(rules("temp", NOW + 7, 0.1, None).is_empty());
    // Named like a counter and never typed: every decrease fires.
    assert!(rules("hits_total", NOW, 5.0, None).is_empty());
    assert_eq!(
        rules("hits_total", NOW + 1, 3.0, None),
        [Rule::CounterDecrease]
    );
    assert_eq!(
        rules("hits_total", NOW + 2, 1.0, None),
        [Rule::CounterDecrease]
    );
    // NaN on a series found out to be no counter fires nothing, and it is taken.
    assert!(rules("temp", NOW + 8, f64::NAN, None).is_empty());
    assert_eq!(
        rules("temp", NOW + 8, 1.0, None),
        [Rule::DuplicateTimestamp]
    );
}

#[test]
fn the_epoch_started_again_forgets_what_series_found_out() {
    let checker = Checker::default();
    let send = |ts, value| rules_with(&checker, rw1_typed("temp", ts, value, None), Protocol::V1);
    assert!(send(NOW, 5.0).is_empty());
    assert!(send(NOW + 1, 3.0).is_empty());
    {
        let mut memory = checker.memory.lock().unwrap();
        // Just short of where it is started again; the series' is older.
        memory.metrics.epoch = super::metric_memory::EPOCH_RENEWED_AT - 1;
    }
    assert!(send(NOW + 2, 1.0).is_empty());
    {
        let mut memory = checker.memory.lock().unwrap();
        let kept = memory.series.values_mut().next().unwrap().counter_epoch;
        assert_eq!(
            kept,
            super::metric_memory::EPOCH_RENEWED_AT - 1,
            "found out again"
        );
        memory.metrics.epoch = super::metric_memory::EPOCH_RENEWED_AT;
    }
    assert!(send(NOW + 3, 0.5).is_empty());
    let mut memory = checker.memory.lock().unwrap();
    assert_eq!(memory.metrics.epoch, 1);
    let kept = memory.series.values_mut().next().unwrap().counter_epoch;
    assert_eq!(kept, 1, "forgotten, then found out again under epoch 1");
}

/// Series that take the quick path (decoded, seen before with nothing wrong)
/// fire every sample rule as the full path does, and move the newest sample
/// of all on for the series after them.
#[test]
fn series_on_the_quick_path_fire_every_sample_rule_as_before() {
    let checker = Checker::default();
    let send = |name: &str, ts: i64, value: f64| {
        let data = decoded_rw1_at(&[("__name__", name), ("job", "a")], ts, value);
        assert!(data.series[0].labels_sorted);
        rules_with(&checker, data, Protocol::V1)
    };
    let t0 = NOW - 60_000;
    assert_eq!(send("temp", t0, 5.0), []);
    assert_eq!(send("temp", t0 + 1, 6.0), []);
    assert_eq!(send("temp", t0 + 2, 3.0), [], "a gauge may go down");
    assert_eq!(send("temp", t0 + 3, 1.0), []);
    assert_eq!(send("temp", t0 + 2, 1.0), [Rule::OutOfOrder]);
    assert_eq!(send("temp", t0 + 3, 1.0), [Rule::DuplicateSample]);
    assert_eq!(send("temp", t0 + 3, 2.0), [Rule::DuplicateTimestamp]);
    assert_eq!(send("temp", NOW + 11 * 60_000, 2.0), [Rule::TooFarInFuture]);
    assert_eq!(send("temp", NOW + 12 * 60_000, 2.0), [Rule::TooFarInFuture]);
    assert_eq!(send("hits_total", t0, 5.0), []);
    assert_eq!(send("hits_total", t0 + 1, 6.0), []);
    assert_eq!(send("hits_total", t0 + 2, 3.0), [Rule::CounterDecrease]);
    assert_eq!(send("hits_total", t0 + 3, f64::NAN), [Rule::NanOnCounter]);
    assert_eq!(send("hits_total", t0 + 4, 7.0), []);
    // The newest of all is t0 + 4 (later ones were too far in the future)
    // until a quick-path sample at NOW moves it on.
    let behind = |ms: i64| NOW - ms;
    assert_eq!(send("late", behind(60 * 60_000 + 30_000), 1.0), []);
    assert_eq!(send("hits_total", NOW, 8.0), []);
    assert_eq!(
        send("late", behind(60 * 60_000 + 29_000), 1.0),
        [Rule::TooOld]
    );
}

/// RW 2.0 series of one typed name: the quick path takes the ones after the
/// first of the name in a request, and a type changing to counter is
/// checked as one from then on.
#[test]
fn rw2_series_on_the_quick_path_follow_their_type() {
    let checker = Checker::default();
    let send = |typed, ts, value| {
        let data = rw2_decoded(&[("g", "0", typed, value), ("g", "1", typed, value)], ts);
        let mut data = data;
        checker.check(&mut data, Some(Protocol::V2), NOW);
        data.problems
            .iter()
            .map(|p| (p.rule, p.subject.clone()))
            .collect::<Vec<_>>()
    };
    let gauge = Some(Typed::Gauge);
    assert_eq!(send(gauge, NOW - 3000, 5.0), []);
    assert_eq!(send(gauge, NOW - 2000, 3.0), []);
    assert_eq!(send(gauge, NOW - 1500, 1.0), []);
    let fired = send(Some(Typed::Counter), NOW - 1000, 0.5);
    let rules: Vec<Rule> = fired.iter().map(|(r, _)| *r).collect();
    assert_eq!(
        rules,
        [
            Rule::MetadataConflict,
            Rule::CounterDecrease,
            Rule::CounterDecrease
        ],
        "{fired:?}"
    );
    assert_eq!(fired[2].1, Subject::Series(1));
    // Sent with no type: the full path, and its name is remembered a counter.
    let untyped = send(None, NOW, 0.25);
    let rules: Vec<Rule> = untyped.iter().map(|(r, _)| *r).collect();
    assert_eq!(rules, [Rule::CounterDecrease; 2], "{untyped:?}");
}
