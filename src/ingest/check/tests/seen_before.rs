//! Label sets and series seen before with nothing wrong take the quick path:
//! it fires every rule the full path would.

use super::*;

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
