mod active;
mod bounds;
mod parties;
mod problems;
mod rates;
mod upstream;

use std::ops::Range;
use std::time::{Duration, UNIX_EPOCH};

use super::metadata::ORPHAN_METADATA;
use super::*;
use crate::ingest::model::{
    Exemplar, Histogram, LabelRef, MetricType, Outcome, Protocol, RejectReason, Repeats,
    RequestInfo, STALE_NAN_BITS, Sample,
};
use crate::summary::distinct::DistinctCount;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;

const T0: i64 = 1_732_000_000_000;

/// The series in the `n`th slot (slots fill in arrival order until one is freed).
fn nth_series(store: &Store, n: usize) -> Option<&Series> {
    store.series.iter().nth(n).map(|(_, s)| s)
}

fn info(arrival_ms: i64) -> RequestInfo {
    RequestInfo {
        received_at: UNIX_EPOCH + Duration::from_millis(arrival_ms as u64),
        remote_addr: Some("10.0.0.1:40000".parse().unwrap()),
        path: "/api/v1/write".into(),
        user_agent: Some("Prometheus/3.1.0".into()),
        protocol: Some(Protocol::V1),
        compressed_bytes: 100,
        decoded_bytes: 300,
        retry_attempt: None,
        tenant: None,
        raw: None,
        repeats: Repeats::Alone,
    }
}

fn sample(ts: i64, value: f64) -> Sample {
    Sample {
        value,
        timestamp_ms: ts,
        start_timestamp_ms: 0,
    }
}

/// Labels, sample timestamp and value of one series in a test batch.
type TestSeries<'a> = (&'a [(&'a str, &'a str)], i64, f64);

/// A batch arriving at `arrival_ms` with one sample per given series.
fn batch(arrival_ms: i64, series: &[TestSeries<'_>]) -> Batch {
    let mut data = WriteData::default();
    for (labels, ts, v) in series {
        data.push_series(labels, &[sample(*ts, *v)], &[]);
    }
    Batch {
        info: info(arrival_ms),
        outcome: Outcome::Accepted,
        data,
    }
}

const UP_A: &[(&str, &str)] = &[("__name__", "up"), ("job", "a")];
const UP_B: &[(&str, &str)] = &[("__name__", "up"), ("job", "b")];
const REQ: &[(&str, &str)] = &[("__name__", "http_requests_total"), ("code", "200")];

#[test]
fn series_are_identified_by_label_set_regardless_of_order() {
    let mut store = Store::new(StoreLimits::default());
    store.ingest(&batch(T0, &[(UP_A, T0, 1.0), (UP_B, T0, 1.0)]));
    store.ingest(&batch(
        T0 + 1000,
        &[(&[("job", "a"), ("__name__", "up")], T0 + 1000, 0.0)],
    ));
    assert_eq!(store.series_count(), 2);
    assert_eq!(store.metric_count(), 1);
    let (_, metric) = store.metrics().next().unwrap();
    assert_eq!(store.str(metric.name), "up");
    let (_, a) = store.series_of(metric).next().unwrap();
    assert_eq!(store.series_text(&a.labels), r#"up{job="a"}"#);
    assert_eq!(a.points.len(), 2);
    assert_eq!(a.points.last().unwrap().value, 0.0);
    assert_eq!(store.log().len(), 3);
    assert_eq!(store.totals().counts.samples, 3);
}

/// A series' flags are the rules the checker found on it (the store no longer
/// judges samples itself); a stale marker is a state, not a flag.
#[test]
fn a_series_carries_the_rules_that_fired_and_stale_is_a_state() {
    use crate::ingest::check::Checker;
    let checker = Checker::default();
    let mut store = Store::new(StoreLimits::default());
    let stale = f64::from_bits(STALE_NAN_BITS);
    let mut ingest = |ts, v| {
        let mut b = batch(T0, &[(UP_A, ts, v)]);
        checker.check(&mut b.data, Some(Protocol::V1), T0);
        store.ingest(&b);
        let s = nth_series(&store, 0).unwrap();
        let id = store.series.iter().next().map(|(id, _)| id).unwrap();
        let fired: Vec<Rule> = store.fired_rules(id).iter().collect();
        (fired, s.is_stale())
    };
    use crate::problems::Rule;
    assert_eq!(ingest(T0, 1.0), (vec![], false));
    assert_eq!(ingest(T0 - 1000, 2.0), (vec![Rule::OutOfOrder], false));
    let (fired, stale_now) = ingest(T0 + 60_000, stale);
    assert_eq!(
        (fired.len(), stale_now),
        (1, true),
        "a stale marker is no problem"
    );
    let (fired, stale_now) = ingest(T0 + 60_000, stale);
    assert_eq!(fired, [Rule::OutOfOrder, Rule::DuplicateSample]);
    assert!(stale_now);
    let (fired, stale_now) = ingest(T0 + 11 * 60_000, 3.0);
    assert_eq!(
        fired,
        [
            Rule::OutOfOrder,
            Rule::DuplicateSample,
            Rule::TooFarInFuture
        ]
    );
    assert!(!stale_now, "a sample after the marker: live again");
    assert_eq!(
        nth_series(&store, 0).unwrap().anomalies(),
        Anomalies::default()
    );
}

#[test]
fn rejected_requests_are_logged_and_counted_but_add_no_series() {
    let mut store = Store::new(StoreLimits::default());
    let rejected = Batch {
        info: info(T0),
        outcome: Outcome::Rejected {
            status: 400,
            reason: RejectReason::Snappy,
            message: "body is not valid snappy block data".into(),
        },
        data: WriteData::default(),
    };
    store.ingest(&rejected);
    assert_eq!(store.series_count(), 0);
    assert!(store.has_data());
    let row = store.requests().back().unwrap();
    assert_eq!(
        (row.status, row.rejected),
        (400, Some(RejectReason::Snappy))
    );
    assert_eq!(row.sender, "Prometheus/3.1.0 @ 10.0.0.1");
    assert_eq!(store.totals().rejected_by_reason(), "bad_snappy: 1");
}

#[test]
fn filter_verdicts_are_cached_and_counted() {
    let mut store = Store::new(StoreLimits::default());
    store.ingest(&batch(
        T0,
        &[(UP_A, T0, 1.0), (UP_B, T0, 1.0), (REQ, T0, 5.0)],
    ));
    store.set_filter(Filter::parse(r#"{job="a"}"#).unwrap(), T0);
    assert_eq!((store.matched_series(), store.matched_metrics()), (1, 1));
    // A new series is judged once, when it appears.
    store.ingest(&batch(
        T0 + 1000,
        &[(&[("__name__", "x"), ("job", "a")], T0, 1.0)],
    ));
    assert_eq!((store.matched_series(), store.matched_metrics()), (2, 2));
    store.set_filter(Filter::parse("!up").unwrap(), T0);
    assert_eq!((store.matched_series(), store.matched_metrics()), (2, 2));
    store.set_filter(Filter::all(), T0);
    assert_eq!((store.matched_series(), store.matched_metrics()), (4, 3));
}

/// Samples per second of the matching series of metric `name` at `now_ms`
/// (NaN: not yet known).
fn matched_rate(store: &Store, name: &str, now_ms: i64) -> Option<f64> {
    let (_, m) = store.metrics().find(|(_, m)| store.str(m.name) == name)?;
    Some(m.matched_rate()?.per_second(now_ms, 10).unwrap_or(f64::NAN))
}

#[test]
fn a_metrics_rate_under_a_filter_is_that_of_its_matching_series() {
    let mut store = Store::new(StoreLimits::default());
    let second = |store: &mut Store, s: i64, series: &[&[(&str, &str)]]| {
        let at = T0 + s * 1000;
        let series: Vec<TestSeries> = series.iter().map(|&l| (l, at, 1.0)).collect();
        store.ingest(&batch(at, &series));
    };
    let (x_a, x_b) = (
        &[("__name__", "x"), ("job", "a")][..],
        &[("__name__", "x"), ("job", "b")][..],
    );
    for s in 0..10 {
        second(&mut store, s, &[UP_A, UP_B, REQ]);
    }
    store.set_filter(Filter::parse(r#"{job="a"}"#).unwrap(), T0 + 10_000);
    for s in 10..20 {
        // x appears: first a series that does not match, then one that does.
        let x: &[&[(&str, &str)]] = if s < 15 { &[x_b] } else { &[x_b, x_a] };
        second(&mut store, s, &[&[UP_A, UP_B, REQ], x].concat());
    }
    let now = T0 + 20_000;
    // Partly matching when the filter was set: counted from then on.
    assert_eq!(matched_rate(&store, "up", now), Some(1.0));
    // Matching nothing: not listed, no rate.
    assert_eq!(matched_rate(&store, "http_requests_total", now), None);
    // Nothing matching from its start until x{job="a"} came, 5 s ago.
    assert_eq!(matched_rate(&store, "x", now), Some(0.5));
    // Each rate counted apart (up's, x's) is in the byte count.
    let buckets = size_of::<[u32; rate::HISTORY_SECS]>();
    let apart = store.metrics.bytes();
    // All of a metric matching, then not: its history so far was theirs.
    store.set_filter(Filter::parse("x").unwrap(), now);
    assert_eq!(apart - store.metrics.bytes(), 2 * buckets);
    // Its own count, from the second after its first sample's: 14 in 9 s.
    assert_eq!(matched_rate(&store, "x", now), Some(14.0 / 9.0));
    let x_c = &[("__name__", "x"), ("job", "c")][..];
    second(&mut store, 20, &[x_a, x_b]);
    store.set_filter(Filter::parse(r#"x{job!="c"}"#).unwrap(), now + 1000);
    second(&mut store, 21, &[x_a, x_b, x_c]);
    second(&mut store, 22, &[x_a, x_b, x_c]);
    assert_eq!(matched_rate(&store, "x", now + 3000), Some(1.8));
    let apart = store.metrics.bytes();
    store.set_filter(Filter::all(), now + 3000);
    assert_eq!(matched_rate(&store, "x", now + 3000), Some(2.0));
    assert_eq!(apart - store.metrics.bytes(), buckets);
}

/// Series of a store large enough for the parallel filter pass.
const LARGE: usize = 60_000;

/// The label sets of [`LARGE`] series: ten metrics, an `id` each.
fn large_labels(ids: &[String]) -> Vec<[(&str, &str); 3]> {
    const NAMES: [&str; 10] = [
        "m_0", "m_1", "m_2", "m_3", "m_4", "m_5", "m_6", "m_7", "m_8", "m_9",
    ];
    ids.iter()
        .enumerate()
        .map(|(i, id)| [("__name__", NAMES[i % 10]), ("id", id), ("job", "a")])
        .collect()
}

fn large_store(labels: &[[(&str, &str); 3]]) -> Store {
    let mut store = Store::new(StoreLimits::default());
    for chunk in labels.chunks(2000) {
        let rows: Vec<TestSeries<'_>> = chunk.iter().map(|l| (&l[..], T0, 1.0)).collect();
        store.ingest(&batch(T0, &rows));
    }
    store
}

#[test]
fn a_regex_filter_over_a_large_store_agrees_with_each_series_text() {
    // Enough series for the parallel pass, and a regex with no literal, so every
    // series goes through the DFA pass (its verdicts keyed by interned ids).
    let ids: Vec<String> = (0..LARGE).map(|i| i.to_string()).collect();
    let labels = large_labels(&ids);
    let mut store = large_store(&labels);
    for (pattern, expected) in [
        (r#"[0-9]{5}""#, 50_000),
        (r#"![0-9]{5}""#, 10_000),
        (r#"m_3\{id="[0-9]*13""#, 600),
    ] {
        let filter = Filter::parse(pattern).unwrap();
        let by_text = labels
            .iter()
            .filter(|l| filter.matches(l.iter().copied(), &mut String::new()))
            .count();
        assert_eq!(by_text, expected, "{pattern}");
        store.set_filter(filter, T0);
        assert_eq!(store.matched_series(), expected, "{pattern}");
    }
}

#[test]
fn a_filter_pass_that_gives_way_changes_nothing() {
    let ids: Vec<String> = (0..LARGE).map(|i| i.to_string()).collect();
    let mut store = large_store(&large_labels(&ids));
    store.set_filter(Filter::parse(r#"{__name__="m_3"}"#).unwrap(), T0);
    let verdicts =
        |store: &Store| -> Vec<bool> { store.series.iter().map(|(_, s)| s.matched).collect() };
    let before = verdicts(&store);
    assert_eq!(store.matched_series(), LARGE / 10);
    let wanted = || Filter::parse("[0-9]{5}").unwrap();
    // How often a whole pass (judging, then counting) looks whether to give way.
    let looks = AtomicUsize::new(0);
    let count_looks = || {
        looks.fetch_add(1, SeqCst);
        false
    };
    let mut other = large_store(&large_labels(&ids));
    assert!(other.try_set_filter(wanted(), T0, &count_looks).is_ok());
    let in_a_pass = looks.swap(0, SeqCst);
    // Gives way at once, once judging is under way (the 6th look, on
    // whichever thread), or while counting (the last looks).
    let looks = &looks;
    let after = |n: usize| move || looks.fetch_add(1, SeqCst) >= n;
    let (under_way, counting) = (after(6), after(in_a_pass - 2));
    let at_once = || true;
    let ways: [GiveWay; 3] = [&at_once, &under_way, &counting];
    for give_way in ways {
        looks.store(0, SeqCst);
        let handed_back = store.try_set_filter(wanted(), T0, give_way).unwrap_err();
        assert_eq!(handed_back.source(), "[0-9]{5}");
        assert_eq!(store.filter().source(), r#"{__name__="m_3"}"#);
        assert_eq!(store.matched_series(), LARGE / 10);
        assert!(verdicts(&store) == before, "a verdict changed");
        assert!(store.active_series(T0).1 == LARGE as u64 / 10);
    }
    assert!(
        looks.load(SeqCst) > in_a_pass - 2,
        "it gave way while counting"
    );
    // Counting gives way too, counting nothing.
    let all = vec![true; LARGE];
    let counting = (T0, true);
    let metrics = &mut store.metrics;
    assert!(!metrics.recount(&store.series, &all, counting, |_| {}, &|| true));
    assert_eq!(store.matched_series(), LARGE / 10);
    assert!(store.try_set_filter(wanted(), T0, &|| false).is_ok());
    assert_eq!(store.matched_series(), 50_000);
    assert_eq!(store.active_series(T0).1, 50_000);
}

#[test]
fn least_recently_seen_series_are_evicted_and_counted() {
    let limits = StoreLimits {
        max_series: 3,
        ..StoreLimits::default()
    };
    let mut store = Store::new(limits);
    let names: Vec<String> = (0..5).map(|i| format!("s{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        let labels = [("__name__", "m"), ("id", name.as_str())];
        store.ingest(&batch(T0 + i as i64, &[(&labels, T0, 1.0)]));
        // s0 keeps being seen, so it survives.
        store.ingest(&batch(
            T0 + i as i64,
            &[(&[("__name__", "m"), ("id", "s0")], T0 + i as i64, 1.0)],
        ));
    }
    assert_eq!(store.series_count(), 3);
    assert_eq!(store.evictions().total(), 2);
    let (_, metric) = store.metrics().next().unwrap();
    let alive: Vec<String> = store
        .series_of(metric)
        .map(|(_, s)| store.series_text(&s.labels))
        .collect();
    let mut alive = alive;
    alive.sort();
    assert_eq!(alive, [r#"m{id="s0"}"#, r#"m{id="s3"}"#, r#"m{id="s4"}"#]);
    // A log entry of an evicted series no longer resolves.
    let first = store.log()[0];
    assert!(store.series(first.series).is_none() || first.series.index() == 0);
}

#[test]
fn retention_is_bounded() {
    let limits = StoreLimits {
        samples_per_series: 4,
        log_len: 10,
        requests_len: 5,
        ..StoreLimits::default()
    };
    let mut store = Store::new(limits);
    for i in 0..20 {
        store.ingest(&batch(T0 + i, &[(UP_A, T0 + i, i as f64)]));
    }
    assert_eq!(nth_series(&store, 0).unwrap().points.len(), 4);
    assert_eq!(store.log().len(), 10);
    assert_eq!(store.log().back().unwrap().value, 19.0);
    assert_eq!(store.requests().len(), 5);
}

#[test]
fn metric_types_come_from_metadata_or_the_name() {
    let mut store = Store::new(StoreLimits::default());
    let mut data = WriteData::default();
    let family = data.intern("rpc_seconds");
    let help = data.intern("RPC latency.");
    data.metadata.push(crate::ingest::model::Metadata {
        family,
        metric_type: MetricType::Summary,
        help,
        unit: WriteData::EMPTY,
    });
    store.ingest(&Batch {
        info: info(T0),
        outcome: Outcome::Accepted,
        data,
    });
    store.ingest(&batch(
        T0,
        &[
            (&[("__name__", "rpc_seconds_count")], T0, 1.0),
            (&[("__name__", "http_requests_total")], T0, 1.0),
            (&[("__name__", "temperature")], T0, 1.0),
        ],
    ));
    let mut native = WriteData::default();
    native.push_series(&[("__name__", "latency")], &[], &[Histogram::default()]);
    store.ingest(&Batch {
        info: info(T0),
        outcome: Outcome::Accepted,
        data: native,
    });
    let type_of = |name: &str| {
        let m = store
            .metrics()
            .find(|(_, m)| store.str(m.name) == name)
            .unwrap()
            .1;
        store.metric_type(m)
    };
    assert_eq!(type_of("rpc_seconds_count"), (MetricType::Summary, false));
    assert_eq!(
        store.str(store.metadata_for("rpc_seconds_sum").unwrap().help),
        "RPC latency."
    );
    assert_eq!(type_of("http_requests_total"), (MetricType::Counter, true));
    assert_eq!(type_of("temperature"), (MetricType::Unknown, true));
    assert_eq!(type_of("latency"), (MetricType::Histogram, true));
}

/// Gives the first series of `data` one exemplar, labelled `trace_id=trace`.
fn trace_exemplar(data: &mut WriteData, trace: &str, value: f64, timestamp_ms: i64) {
    let labels = data.labels.len() as u32;
    let trace = LabelRef {
        name: data.intern("trace_id"),
        value: data.intern(trace),
    };
    data.labels.push(trace);
    let first = data.exemplars.len() as u32;
    data.exemplars.push(Exemplar {
        labels: labels..labels + 1,
        value,
        timestamp_ms,
    });
    data.series[0].exemplars = first..first + 1;
}

#[test]
fn exemplars_keep_the_newest_and_plain_series_allocate_nothing_rare() {
    let mut store = Store::new(StoreLimits::default());
    for i in 0..10 {
        let mut data = WriteData::default();
        data.push_series(UP_A, &[sample(T0 + i, 1.0)], &[]);
        data.push_series(UP_B, &[sample(T0 + i, 1.0)], &[]);
        trace_exemplar(&mut data, &format!("t{i}"), i as f64, T0 + i);
        store.ingest(&Batch {
            info: info(T0 + i),
            outcome: Outcome::Accepted,
            data,
        });
    }
    let with = nth_series(&store, 0).unwrap();
    let values: Vec<_> = with.exemplars().map(|e| e.value).collect();
    assert_eq!(values, [2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
    assert_eq!(
        store.series_text(&with.exemplars().last().unwrap().labels),
        r#"{trace_id="t9"}"#
    );
    let without = nth_series(&store, 1).unwrap();
    assert!(without.rare.is_none());
    assert_eq!(without.exemplars().count(), 0);
    assert!(without.histogram().is_none());
    assert!(!without.anomalies().any());
}

#[test]
fn a_series_stays_small() {
    // Every series pays this on top of its samples and labels (the budget is 1 KiB);
    // 136 until it kept its tenant's name (a series is its tenant and labels).
    assert!(size_of::<Series>() <= 144, "{} bytes", size_of::<Series>());
    // A free slot costs no tag beyond the series' own bytes.
    assert_eq!(size_of::<Option<Series>>(), size_of::<Series>());
}

/// A request carrying `survivors` (seen every time), `fresh` series never seen
/// before (`series_id` and `pod` unique to each), an exemplar with a new trace
/// id on the first survivor, and metadata whose help text changes every time.
fn churn_batch(round: usize, survivors: &[String], fresh: Range<usize>) -> Batch {
    let mut data = WriteData::default();
    for s in survivors {
        data.push_series(
            &[("__name__", "kept"), ("job", "api"), ("series_id", s)],
            &[sample(T0, 1.0)],
            &[],
        );
    }
    trace_exemplar(&mut data, &format!("trace-{round}"), 1.0, T0);
    for n in fresh {
        let (id, pod) = (format!("churn-{n}"), format!("pod-{n}"));
        data.push_series(
            &[("__name__", "churn"), ("pod", &pod), ("series_id", &id)],
            &[sample(T0, n as f64)],
            &[],
        );
    }
    push_metadata(&mut data, "churn", &format!("help {round}"));
    accepted(round, data)
}

/// An accepted request arriving `round` ms after [`T0`].
fn accepted(round: usize, data: WriteData) -> Batch {
    Batch {
        info: info(T0 + round as i64),
        outcome: Outcome::Accepted,
        data,
    }
}

/// A store that keeps at most `max_series` series.
fn store_of(max_series: usize) -> Store {
    Store::new(StoreLimits {
        max_series,
        ..StoreLimits::default()
    })
}

#[test]
fn series_churn_keeps_interned_strings_bounded_and_survivors_resolve() {
    const MAX: usize = 1000;
    const PER_BATCH: usize = 100;
    let mut store = store_of(MAX);
    let survivors: Vec<String> = (0..10).map(|i| format!("survivor-{i}")).collect();
    // 10x max_series distinct series pass through.
    let rounds = 10 * MAX / PER_BATCH;
    let mut most_strings = 0;
    for round in 0..rounds {
        let fresh = round * PER_BATCH..(round + 1) * PER_BATCH;
        store.ingest(&churn_batch(round, &survivors, fresh));
        most_strings = most_strings.max(store.strings.len());
    }
    assert!(store.evictions().total() >= 9 * MAX as u64);
    // Two strings of their own per churning series, plus a few shared ones
    // (names, "kept", "api", survivor ids, the latest trace id and help text).
    let live = store.series_count();
    let own = 2 * live;
    assert!(
        store.strings.len() <= own + 40,
        "{} strings for {live} series",
        store.strings.len()
    );
    // Within a request, before evicting, the store holds up to max_series plus
    // that request's new series.
    let peak = 2 * (MAX + PER_BATCH) + 40;
    assert!(most_strings <= peak, "{most_strings}");
    // Ids are reused, so they stay below that peak instead of growing with churn.
    let highest = store
        .series
        .iter()
        .flat_map(|(_, s)| s.labels.iter().flat_map(|&(n, v)| [n.0, v.0]))
        .max()
        .unwrap_or(0);
    assert!((highest as usize) < peak, "{highest}");

    // Every live series still reads back as what was sent.
    for (_, s) in store.series.iter() {
        let text = store.series_text(&s.labels);
        let label = |name: &str| {
            s.labels
                .iter()
                .find(|l| store.str(l.0) == name)
                .map(|l| store.str(l.1))
        };
        match label("__name__") {
            Some("kept") => {
                let sid = label("series_id").unwrap();
                assert!(survivors.iter().any(|v| v == sid), "{text}");
                assert_eq!(text, format!(r#"kept{{job="api", series_id="{sid}"}}"#));
            }
            Some("churn") => {
                let n = label("series_id").unwrap().strip_prefix("churn-").unwrap();
                assert!(n.parse::<usize>().unwrap() >= rounds * PER_BATCH - MAX);
                assert_eq!(
                    text,
                    format!(r#"churn{{pod="pod-{n}", series_id="churn-{n}"}}"#)
                );
                let value = s.points.last().unwrap().value;
                assert_eq!(value.to_string(), n);
            }
            _ => panic!("unexpected series {text}"),
        }
    }
    let kept = store
        .metrics()
        .find(|(_, m)| store.str(m.name) == "kept")
        .unwrap()
        .1;
    assert_eq!(kept.series_count(), survivors.len());
    let (_, first) = store.series_of(kept).next().unwrap();
    let traces: Vec<String> = first
        .exemplars()
        .map(|e| store.series_text(&e.labels))
        .collect();
    let expected: Vec<String> = (rounds - 8..rounds)
        .map(|r| format!(r#"{{trace_id="trace-{r}"}}"#))
        .collect();
    assert_eq!(traces, expected);
    let help = store.metadata_for("churn").unwrap().help;
    assert_eq!(store.str(help), format!("help {}", rounds - 1));
    assert_eq!(store.sym("help 0"), None, "replaced help texts are freed");
    assert_eq!(
        store.distinct_series(),
        DistinctCount::Exact((rounds * PER_BATCH + survivors.len()) as u64)
    );
}

/// Metadata of `family` with `help`, as RW 1.0 sends it.
fn push_metadata(data: &mut WriteData, family: &str, help: &str) {
    let (family, help) = (data.intern(family), data.intern(help));
    data.metadata.push(crate::ingest::model::Metadata {
        family,
        metric_type: MetricType::Counter,
        help,
        unit: WriteData::EMPTY,
    });
}

/// A request carrying the `kept` counter (seen every time) and one series of each
/// new metric name `churn_{n}_total` for `n` in `fresh`, with metadata for every
/// family (`churn_{n}`, help text unique to it), RW 2.0-style on the series too.
fn name_churn_batch(round: usize, fresh: Range<usize>) -> Batch {
    let mut data = WriteData::default();
    data.push_series(
        &[("__name__", "kept_total"), ("job", "api")],
        &[sample(T0, round as f64)],
        &[],
    );
    push_metadata(&mut data, "kept", "Kept.");
    for n in fresh {
        let (name, family, help) = (
            format!("churn_{n}_total"),
            format!("churn_{n}"),
            format!("help {n}"),
        );
        let i = data.push_series(
            &[("__name__", &name), ("job", "churn")],
            &[sample(T0, n as f64)],
            &[],
        );
        let (family_id, help_id) = (data.intern(&family), data.intern(&help));
        data.series[i].metadata = Some(crate::ingest::model::Metadata {
            family: family_id,
            metric_type: MetricType::Counter,
            help: help_id,
            unit: WriteData::EMPTY,
        });
        push_metadata(&mut data, &family, &help);
    }
    accepted(round, data)
}

#[test]
fn metric_name_churn_keeps_metric_slots_metadata_and_strings_bounded() {
    const MAX: usize = 1000;
    const PER_BATCH: usize = 100;
    const NAMES: usize = 50_000;
    let mut store = store_of(MAX);
    store.ingest(&name_churn_batch(0, 0..PER_BATCH));
    let first = store
        .metrics()
        .find(|(_, m)| store.str(m.name) == "churn_0_total")
        .map(|(id, _)| id)
        .unwrap();
    let (mut most_slots, mut most_strings, mut most_metadata) = (0, 0, 0);
    for round in 1..NAMES / PER_BATCH {
        store.ingest(&name_churn_batch(
            round,
            round * PER_BATCH..(round + 1) * PER_BATCH,
        ));
        most_slots = most_slots.max(store.metrics.slots().0);
        most_strings = most_strings.max(store.strings.len());
        most_metadata = most_metadata.max(store.metadata.len());
    }
    assert!(store.evictions().total() >= (NAMES - MAX) as u64);
    // Within a request the store holds up to max_series plus that request's new series.
    let peak_series = MAX + PER_BATCH + 1;
    assert!(most_slots <= peak_series, "{most_slots} metric slots");
    assert_eq!(store.metrics.names(), store.metric_count());
    let (slots, free) = store.metrics.slots();
    assert_eq!(store.metric_count() + free, slots);
    let peak_metadata = 2 * peak_series + ORPHAN_METADATA + PER_BATCH + 1;
    assert!(most_metadata <= peak_metadata, "{most_metadata} metadata");
    // A name per metric; a family and a help text per metadata entry; a few shared.
    let peak_strings = peak_series + 2 * peak_metadata + 20;
    assert!(most_strings <= peak_strings, "{most_strings} strings");
    assert!(peak_strings < NAMES, "the bound must be below what churned");

    // Every live metric reads back as what was sent, with its own metadata.
    let mut live = 0;
    for (id, m) in store.metrics() {
        live += 1;
        let name = store.str(m.name);
        assert_eq!(store.metrics.named(m.name), Some(id), "{name}");
        assert_eq!(store.series_of(m).count(), m.series_count());
        for (_, s) in store.series_of(m) {
            assert_eq!(s.metric, id);
            let text = store.series_text(&s.labels);
            assert!(text.starts_with(&format!("{name}{{")), "{text} in {name}");
        }
        let help = store.str(store.metadata_for(name).unwrap().help);
        match name
            .strip_prefix("churn_")
            .and_then(|n| n.strip_suffix("_total"))
        {
            Some(n) => {
                assert!(n.parse::<usize>().unwrap() >= NAMES - MAX - PER_BATCH);
                assert_eq!(help, format!("help {n}"));
            }
            None => assert_eq!((name, help), ("kept_total", "Kept.")),
        }
    }
    assert_eq!(live, store.metric_count());
    // The first churned name's slot went to another name: its old id and
    // generation no longer resolve.
    assert!(store.metric(first).is_none());
    assert!(
        store
            .metric_in_slot_of(first)
            .is_none_or(|m| store.str(m.name) != "churn_0_total")
    );
    assert_eq!(store.sym("churn_0_total"), None, "a freed name is released");
    assert!(store.metadata_for("churn_0_total").is_none());
}

#[test]
fn metadata_of_families_without_series_is_bounded_and_the_oldest_goes_first() {
    let mut store = Store::new(StoreLimits::default());
    // Metadata before its series, as RW 1.0 may send it; it is the oldest.
    let mut data = WriteData::default();
    push_metadata(&mut data, "up", "Up.");
    store.ingest(&Batch {
        info: info(T0),
        outcome: Outcome::Accepted,
        data,
    });
    store.ingest(&batch(T0, &[(UP_A, T0, 1.0)]));
    const FAMILIES: usize = 3 * ORPHAN_METADATA;
    const PER_REQUEST: usize = 500;
    for start in (0..FAMILIES).step_by(PER_REQUEST) {
        let mut data = WriteData::default();
        for n in start..start + PER_REQUEST {
            push_metadata(&mut data, &format!("orphan_{n}"), &format!("help {n}"));
        }
        store.ingest(&Batch {
            info: info(T0),
            outcome: Outcome::Accepted,
            data,
        });
        assert!(store.metadata.len() <= 2 + ORPHAN_METADATA + PER_REQUEST);
    }
    assert_eq!(store.str(store.metadata_for("up").unwrap().help), "Up.");
    let last = format!("orphan_{}", FAMILIES - 1);
    assert!(store.metadata_for(&last).is_some(), "the newest are kept");
    assert!(store.metadata_for("orphan_0").is_none());
    assert_eq!(
        store.sym("help 0"),
        None,
        "dropped entries release their strings"
    );
    assert!(store.strings.len() <= 2 * (ORPHAN_METADATA + PER_REQUEST) + 10);
}

#[test]
fn rw2_metadata_on_every_series_ends_as_the_last_series_says() {
    let mut store = Store::new(StoreLimits::default());
    // One family's series, each with its metadata as RW 2.0 sends it (equal
    // texts by the same symbol); the help changes within the request and
    // back in the next.
    let request = |helps: &[&str], metric_type: MetricType| {
        let mut data = WriteData::default();
        let family = data.intern("jobs");
        let texts = [("a", data.intern("a")), ("b", data.intern("b"))];
        for (i, help) in helps.iter().enumerate() {
            let id = i.to_string();
            data.push_series(
                &[("__name__", "jobs"), ("id", &id)],
                &[sample(T0, 1.0)],
                &[],
            );
            let help = texts.iter().find(|(text, _)| text == help).map(|t| t.1);
            if let Some(s) = data.series.last_mut() {
                s.metadata = Some(crate::ingest::model::Metadata {
                    family,
                    metric_type,
                    help: help.unwrap_or(WriteData::EMPTY),
                    unit: WriteData::EMPTY,
                });
            }
        }
        Batch {
            info: info(T0),
            outcome: Outcome::Accepted,
            data,
        }
    };
    let help = |store: &Store| {
        store
            .str(store.metadata_for("jobs").unwrap().help)
            .to_owned()
    };
    store.ingest(&request(&["a", "a", "b", "b"], MetricType::Gauge));
    assert_eq!(help(&store), "b");
    store.ingest(&request(&["b", "a", "a"], MetricType::Gauge));
    assert_eq!(help(&store), "a");
    store.ingest(&request(&["a", "a"], MetricType::Counter));
    let info = store.metadata_for("jobs").unwrap();
    assert_eq!(
        (info.metric_type, store.str(info.help)),
        (MetricType::Counter, "a")
    );
}

#[test]
fn requests_are_listed_in_arrival_order_and_keep_their_bodies() {
    // Two senders: the request that arrived at .798 was decoded first.
    let mut store = Store::new(StoreLimits::default());
    let with_body = |arrival_ms: i64, body: &'static str| {
        let mut b = batch(arrival_ms, &[(UP_A, T0, 1.0)]);
        b.info.raw = Some(std::sync::Arc::new(crate::ingest::model::RawRequest {
            body: bytes::Bytes::from_static(body.as_bytes()),
            ..Default::default()
        }));
        b
    };
    store.ingest(&with_body(T0 + 15_000, "first"));
    store.ingest(&with_body(T0 + 15_798, "late"));
    store.ingest(&with_body(T0 + 15_797, "early"));
    store.ingest(&with_body(T0 + 16_000, "last"));
    let rows: Vec<(i64, &[u8])> = store
        .requests()
        .iter()
        .map(|r| {
            let body = store
                .kept_request(r.taken)
                .map_or(&[][..], |raw| &raw.body[..]);
            (r.arrival_ms - T0, body)
        })
        .collect();
    assert_eq!(
        rows,
        [
            (15_000, &b"first"[..]),
            (15_797, b"early"),
            (15_798, b"late"),
            (16_000, b"last")
        ]
    );
    // Within the log's bound the oldest still go first.
    let mut small = Store::new(StoreLimits {
        requests_len: 2,
        ..StoreLimits::default()
    });
    for at in [T0 + 3, T0 + 1, T0 + 2] {
        small.ingest(&batch(at, &[(UP_A, T0, 1.0)]));
    }
    let kept: Vec<i64> = small.requests().iter().map(|r| r.arrival_ms - T0).collect();
    assert_eq!((kept, small.requests_start()), (vec![2, 3], 1));
}
