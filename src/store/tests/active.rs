//! One definition of an active series for every view: the header, the
//! cardinality view (filtered or not), senders, and the `--no-tui` report.

use super::*;
use crate::output::Format;
use crate::output::cardinality::CardinalityTracker;
use crate::store::cardinality::Overview;

/// Every count of active series the views show, at `now_ms`: the header's
/// (all, matching the filter), the cardinality view's (all, metric `up`, its
/// filtered pass), and the sender's.
fn counts(store: &Store, now_ms: i64) -> [u64; 6] {
    let (header, header_matched) = store.active_series(now_ms);
    let o = store.cardinality_overview(now_ms, 5);
    let up = |o: &Overview| o.metrics.iter().find(|m| m.name == "up").map(|m| m.active);
    let filtered = store.filtered_overview(now_ms, 5, &|| false).unwrap();
    let sender = store.senders(now_ms).iter().map(|c| c.active).sum();
    assert_eq!(
        (o.active, header_matched),
        (filtered.active, header),
        "without a filter, matched is all"
    );
    [
        header,
        o.active,
        filtered.active,
        up(&o).unwrap_or(0),
        up(&filtered).unwrap_or(0),
        sender,
    ]
}

fn report_active(tracker: &CardinalityTracker, now_ms: i64) -> u64 {
    let report = tracker.report(Format::Json, now_ms);
    let v: serde_json::Value = serde_json::from_str(&report).expect(&report);
    v["active_series"].as_u64().expect(&report)
}

#[test]
fn a_stale_marker_ends_a_series_in_every_view_at_once() {
    let stale = f64::from_bits(STALE_NAN_BITS);
    let mut store = Store::new(StoreLimits::default());
    let mut tracker = CardinalityTracker::new(1000, StoreLimits::default().stale_after_ms);
    let mut send = |store: &mut Store, b: Batch| {
        tracker.record(&b);
        store.ingest(&b);
    };
    let all = [(UP_A, T0, 1.0), (UP_B, T0, 1.0), (REQ, T0, 5.0)];
    send(&mut store, batch(T0, &all));
    assert_eq!(counts(&store, T0 + 1000), [3, 3, 3, 2, 2, 3]);
    // up{job="a"} ends: Prometheus sends a stale marker when its target goes.
    let ended = [
        (UP_A, T0 + 5000, stale),
        (UP_B, T0 + 5000, 1.0),
        (REQ, T0 + 5000, 5.0),
    ];
    send(&mut store, batch(T0 + 5000, &ended));
    assert_eq!(counts(&store, T0 + 6000), [2, 2, 2, 1, 1, 2]);
    // A second marker changes nothing; the series still kept says it ended.
    send(&mut store, batch(T0 + 5500, &ended[..1]));
    assert_eq!(counts(&store, T0 + 6000), [2, 2, 2, 1, 1, 2]);
    assert_eq!(store.series_count(), 3);
    // Under a filter: the header's matched count and the filtered pass agree.
    store.set_filter(Filter::parse("up").unwrap(), T0 + 6000);
    let (_, matched) = store.active_series(T0 + 6000);
    let filtered = store.filtered_overview(T0 + 6000, 5, &|| false).unwrap();
    assert_eq!((matched, filtered.active), (1, 1));
    store.set_filter(Filter::all(), T0 + 6000);
    // It comes back: active again.
    send(&mut store, batch(T0 + 8000, &all));
    assert_eq!(counts(&store, T0 + 9000), [3, 3, 3, 2, 2, 3]);
    // The report says what the dashboard says.
    let mut tracker2 = CardinalityTracker::new(1000, StoreLimits::default().stale_after_ms);
    tracker2.record(&batch(T0, &all));
    tracker2.record(&batch(T0 + 5000, &ended));
    assert_eq!(report_active(&tracker2, T0 + 6000), 2);
}

#[test]
fn every_view_lets_a_silent_series_go_at_the_same_moment() {
    // Series whose latest sample arrived at every second of a minute: read at
    // every second across the end of the staleness window, all counts agree.
    let mut store = Store::new(StoreLimits::default());
    for i in 0..60 {
        let labels =
            [("__name__", "up"), ("i", &*i.to_string())].map(|(n, v)| (n.to_owned(), v.to_owned()));
        let pairs: Vec<(&str, &str)> = labels
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        store.ingest(&batch(T0 + i * 1000, &[(&pairs, T0, 1.0)]));
    }
    let stale = store.stale_after_ms();
    let mut seen = Vec::new();
    for now in (T0 + stale - 20_000..T0 + stale + 80_000).step_by(500) {
        let c = counts(&store, now);
        assert!(
            c[..5].iter().all(|&n| n == c[0]) && c[5] == c[0],
            "at +{} ms: {c:?}",
            now - T0
        );
        seen.push(c[0]);
    }
    assert_eq!(seen.first(), Some(&60));
    assert_eq!(seen.last(), Some(&0));
}

#[test]
fn a_request_handed_over_late_counts_its_series_once() {
    // Forward mode hands a request over when the backend answers: a stalled
    // one comes after the resend that arrived 10 s later (and the plain
    // receiver can finish a slow upload after a later request). Its series
    // were counted twice from the next request on: 1,108 active of 554 seen.
    let mut store = Store::new(StoreLimits::default());
    let all = [(UP_A, T0, 1.0), (UP_B, T0, 1.0), (REQ, T0, 5.0)];
    store.ingest(&batch(T0 + 20_000, &all));
    store.ingest(&batch(T0, &all));
    assert_eq!(counts(&store, T0 + 21_000), [3, 3, 3, 2, 2, 3]);
    store.ingest(&batch(T0 + 40_000, &all));
    assert_eq!(counts(&store, T0 + 41_000), [3, 3, 3, 2, 2, 3]);
    // Gone at the same moment in every view: a staleness window after the
    // latest arrival, not the late one.
    let stale = store.stale_after_ms();
    assert_eq!(
        counts(&store, T0 + 40_000 + stale - 10_000),
        [3, 3, 3, 2, 2, 3]
    );
    assert_eq!(counts(&store, T0 + 40_000 + stale + 20_000), [0; 6]);
}
