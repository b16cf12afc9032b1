//! The counts against brute force over the store's live series.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, UNIX_EPOCH};

use super::values::UNBOUNDED_GROWING_MS;
use super::*;
use crate::ingest::model::{
    Batch, Outcome, Protocol, RequestInfo, STALE_NAN_BITS, Sample, WriteData,
};
use crate::store::{Store, StoreLimits};
use crate::test_rng::Rng;

const T0: i64 = 1_732_000_000_000;

fn batch(arrival_ms: i64, series: &[(Vec<(String, String)>, f64)]) -> Batch {
    let mut data = WriteData::default();
    for (labels, value) in series {
        let pairs: Vec<(&str, &str)> = labels
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let sample = Sample {
            value: *value,
            timestamp_ms: arrival_ms,
            start_timestamp_ms: 0,
        };
        data.push_series(&pairs, &[sample], &[]);
    }
    Batch {
        info: RequestInfo {
            received_at: UNIX_EPOCH + Duration::from_millis(arrival_ms as u64),
            protocol: Some(Protocol::V1),
            ..RequestInfo::default()
        },
        outcome: Outcome::Accepted,
        data,
    }
}

/// A random label set: one of a few metrics, labels of mixed cardinality.
fn random_series(rng: &mut Rng, id_values: u64) -> Vec<(String, String)> {
    let metric = rng.below(4);
    let mut labels = vec![("__name__".to_string(), format!("metric_{metric}"))];
    labels.push(("job".into(), format!("job-{}", rng.below(3))));
    if rng.below(2) == 0 {
        labels.push(("code".into(), format!("{}", 200 + rng.below(5))));
    }
    labels.push(("id".into(), format!("id-{}", rng.below(id_values))));
    labels
}

/// Brute force: per metric, per label name, series per value.
type Truth = HashMap<String, HashMap<String, HashMap<String, u64>>>;

fn brute_force(store: &Store) -> Truth {
    let mut truth: Truth = HashMap::new();
    for (_, m) in store.metrics() {
        let per_label = truth.entry(store.str(m.name).to_owned()).or_default();
        for (_, s) in store.series_of(m) {
            for (n, v) in store.label_pairs(&s.labels).filter(|l| l.0 != "__name__") {
                *per_label
                    .entry(n.into())
                    .or_default()
                    .entry(v.into())
                    .or_default() += 1;
            }
        }
    }
    truth
}

/// The label names across metrics, derived when asked, against brute force:
/// exact while no metric sketched the name.
fn check_across(store: &Store, truth: &Truth) {
    let mut names: HashMap<&str, HashMap<&str, u64>> = HashMap::new();
    for per_label in truth.values() {
        for (name, values) in per_label {
            for (value, n) in values {
                *names.entry(name).or_default().entry(value).or_default() += n;
            }
        }
    }
    let across = store.cardinality.across(&|| false).unwrap();
    assert_eq!(across.len(), names.len());
    for l in &across {
        let name = store.str(l.name);
        let values = &names[name];
        assert_eq!(l.series, values.values().sum::<u64>(), "{name}");
        match l.distinct(&store.strings) {
            Distinct::Exact(n) => {
                assert_eq!(n, values.len() as u64, "{name}");
                let counted: HashMap<&str, u64> =
                    l.values.iter().map(|(&v, &n)| (store.str(v), n)).collect();
                assert_eq!(&counted, values, "{name}");
            }
            Distinct::Estimated(n) => {
                let live = values.len() as f64;
                assert!(n as f64 >= live * LEAST_ESTIMATE, "{name}: {n} < {live}");
                // The heaviest values it kept surely have the series counted.
                for (&v, &n) in &l.values {
                    assert!(n <= values[store.str(v)], "{name}");
                }
            }
        }
    }
}

/// The least share of the live values an estimate may read: about five
/// standard errors (1.04/32) under, as the sketch hashes with this process's
/// random keys (three, as before, failed about one sketch in 700).
const LEAST_ESTIMATE: f64 = 0.85;

fn check(store: &Store, now: i64) {
    assert_eq!(store.cardinality.bytes(), store.cardinality.recount());
    let truth = brute_force(store);
    check_across(store, &truth);
    let overview = store.cardinality_overview(now, 10);
    assert_eq!(overview.metrics.len(), truth.len());
    for row in &overview.metrics {
        let labels = store.metric_labels(row.id, now, 1000).expect("live metric");
        let expected = &truth[&row.name];
        assert_eq!(labels.len(), expected.len(), "{}", row.name);
        for card in labels {
            let values = &expected[&card.name];
            let series: u64 = values.values().sum();
            assert_eq!(card.series, series, "{} {}", row.name, card.name);
            match card.distinct {
                Distinct::Exact(n) => {
                    assert_eq!(n, values.len() as u64, "{} {}", row.name, card.name);
                    let top: HashMap<String, u64> = card.top.into_iter().collect();
                    assert_eq!(&top, values, "{} {}", row.name, card.name);
                }
                Distinct::Estimated(n) => {
                    // Seen since sketched, at least the live ones, within the error.
                    let live = values.len() as f64;
                    assert!(
                        n as f64 >= live * LEAST_ESTIMATE,
                        "{} {}: {n} < {live}",
                        row.name,
                        card.name
                    );
                    assert!(values.len() > METRIC_EXACT_VALUES / 2);
                }
            }
        }
    }
}

#[test]
fn counts_match_brute_force_as_series_come_and_are_evicted() {
    for seed in 1..6 {
        let mut rng = Rng(seed);
        let limits = StoreLimits {
            max_series: 300,
            ..StoreLimits::default()
        };
        let mut store = Store::new(limits);
        for step in 0..60 {
            let now = T0 + step * 1000;
            let id_values = if seed % 2 == 0 { 20 } else { 2_000 };
            let series: Vec<_> = (0..40)
                .map(|_| (random_series(&mut rng, id_values), 1.0))
                .collect();
            store.ingest(&batch(now, &series));
            check(&store, now);
        }
        assert!(store.evictions().total() > 0, "seed {seed} evicted nothing");
    }
}

#[test]
fn an_unbounded_label_is_flagged_first_and_label_names_and_pairs_rank() {
    let mut store = Store::new(StoreLimits::default());
    let mut seen_ids = HashSet::new();
    for step in 0..30i64 {
        let now = T0 + step * 1000;
        let mut series = Vec::new();
        for i in 0..20 {
            let id = step * 20 + i;
            seen_ids.insert(id);
            let labels = vec![
                ("__name__".to_string(), "http_requests".to_string()),
                ("method".into(), ["GET", "POST"][(i % 2) as usize].into()),
                ("request_id".into(), format!("{id:08x}")),
            ];
            series.push((labels, 1.0));
            let steady = vec![
                ("__name__".to_string(), "up".to_string()),
                ("instance".into(), format!("host-{}", i % 5)),
            ];
            series.push((steady, 1.0));
        }
        store.ingest(&batch(now, &series));
    }
    let now = T0 + 30_000;
    let overview = store.cardinality_overview(now, 5);
    assert_eq!(overview.metrics[0].name, "http_requests");
    assert_eq!(overview.metrics[0].active, 600);
    assert_eq!(overview.metrics[1].active, 5);
    let labels = store.metric_labels(overview.metrics[0].id, now, 3).unwrap();
    assert_eq!(labels[0].name, "request_id");
    assert!(labels[0].unbounded);
    assert!(!labels[1].unbounded, "{:?}", labels[1]);
    let estimate = labels[0].distinct.value() as f64;
    assert!((estimate - 600.0).abs() < 60.0, "{estimate}");
    assert_eq!(overview.label_names[0].name, "request_id");
    assert_eq!(overview.label_names[1].name, "instance");
    assert_eq!(
        (overview.pairs[0].name.as_str(), overview.pairs[0].series),
        ("method", 300)
    );
    // New series: 600 + 5 in the first 30 s, a rate over those 30 s (not
    // over a minute that has not passed yet).
    assert_eq!(overview.change.created, 605);
    assert!((overview.new_per_s - 605.0 / 30.0).abs() < 1e-9);
    // Nothing new for a while: no longer growing.
    let later = now + UNBOUNDED_GROWING_MS + 1000;
    let labels = store
        .metric_labels(overview.metrics[0].id, later, 3)
        .unwrap();
    assert!(!labels.iter().any(|l| l.unbounded));
}

#[test]
fn churn_counts_new_stale_and_marked_series() {
    let limits = StoreLimits {
        stale_after_ms: 30_000,
        ..StoreLimits::default()
    };
    let mut store = Store::new(limits);
    let series = |cycle: i64, value: f64| -> Vec<(Vec<(String, String)>, f64)> {
        (0..10)
            .map(|i| {
                let labels = vec![
                    ("__name__".to_string(), "jobs".to_string()),
                    ("cycle".into(), cycle.to_string()),
                    ("i".into(), i.to_string()),
                ];
                (labels, value)
            })
            .collect()
    };
    // A new set of 10 series every 10 s for a minute.
    for cycle in 0..6 {
        store.ingest(&batch(T0 + cycle * 10_000, &series(cycle, 1.0)));
    }
    let now = T0 + 59_000;
    let o = store.cardinality_overview(now, 5);
    assert_eq!(o.change.created, 60);
    // Cycles 0 to 2 are over 30 s old (to a 10 s slice).
    assert_eq!(o.change.gone, 30);
    assert_eq!(o.active, 30);
    assert_eq!(o.metrics[0].active, 30);
    // The latest set marked stale: gone at once, and only once.
    let stale = f64::from_bits(STALE_NAN_BITS);
    store.ingest(&batch(T0 + 60_000, &series(5, stale)));
    store.ingest(&batch(T0 + 61_000, &series(5, stale)));
    let o = store.cardinality_overview(T0 + 61_000, 5);
    assert_eq!(o.active, 10, "cycle 4");
    // Over the slices counted: from T0 + 10 s (the minute's first whole
    // slice) to now, 51 s.
    assert!(
        (o.metrics[0].gone_per_s * 51.0 - 50.0).abs() < 1e-9,
        "cycles 0 to 3 and the marked 5: {}",
        o.metrics[0].gone_per_s
    );
    let rate = store.new_series_rate().per_second(T0 + 61_000, 60);
    assert!((rate.unwrap() - 50.0 / 60.0).abs() < 1e-9, "{rate:?}");
}

#[test]
fn memory_is_counted_and_given_back() {
    let mut store = Store::new(StoreLimits::default());
    let empty = store.cardinality.bytes();
    let mut rng = Rng(3);
    let series: Vec<_> = (0..2_000)
        .map(|_| (random_series(&mut rng, 100_000), 1.0))
        .collect();
    store.ingest(&batch(T0, &series));
    let full = store.cardinality.bytes();
    assert!(full > empty);
    // Sketched ids cost a fixed amount: well under 100 bytes per series.
    assert!(full - empty < 2_000 * 100, "{} bytes", full - empty);
    let ids: Vec<_> = store.series.iter().map(|(id, _)| id).collect();
    for id in ids {
        store.remove_series(id);
    }
    assert_eq!(store.cardinality.metrics.iter().flatten().count(), 0);
    assert!(store.cardinality.across(&|| false).unwrap().is_empty());
    assert!(
        store.strings.len() <= 2,
        "{} strings left",
        store.strings.len()
    );
}

#[test]
fn deriving_the_label_names_across_metrics_gives_way_to_a_key() {
    use crate::store::series::GIVE_WAY_EVERY;
    let mut store = Store::new(StoreLimits::default());
    let series: Vec<_> = (0..GIVE_WAY_EVERY + 1)
        .map(|i| {
            let labels = vec![
                ("__name__".to_string(), format!("metric_{i}")),
                ("job".into(), "a".into()),
            ];
            (labels, 1.0)
        })
        .collect();
    store.ingest(&batch(T0, &series));
    let asked = std::sync::atomic::AtomicUsize::new(0);
    let give_way = || {
        asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        true
    };
    assert!(store.cardinality.across(&give_way).is_err());
    assert!(
        store
            .cardinality_overview_giving_way(T0, 10, &give_way)
            .is_err()
    );
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 2);
    // Not giving way: one name, a value in every metric.
    let across = store.cardinality.across(&|| false).unwrap();
    assert_eq!(across[0].series, GIVE_WAY_EVERY as u64 + 1);
}
