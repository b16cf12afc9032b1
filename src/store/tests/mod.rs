mod active;
mod bounds;
mod churn;
mod filter;
mod metadata;
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
