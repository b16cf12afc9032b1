//! What a metric name's type (from metadata, or untyped) does across series
//! and requests: rules fire once per name and each time the type changes.

use super::*;

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
        memory.metrics.epoch = super::super::metric_memory::EPOCH_RENEWED_AT - 1;
    }
    assert!(send(NOW + 2, 1.0).is_empty());
    {
        let mut memory = checker.memory.lock().unwrap();
        let kept = memory.series.values_mut().next().unwrap().counter_epoch;
        assert_eq!(
            kept,
            super::super::metric_memory::EPOCH_RENEWED_AT - 1,
            "found out again"
        );
        memory.metrics.epoch = super::super::metric_memory::EPOCH_RENEWED_AT;
    }
    assert!(send(NOW + 3, 0.5).is_empty());
    let mut memory = checker.memory.lock().unwrap();
    assert_eq!(memory.metrics.epoch, 1);
    let kept = memory.series.values_mut().next().unwrap().counter_epoch;
    assert_eq!(kept, 1, "forgotten, then found out again under epoch 1");
}
