//! A filter over the store: which series match, cached verdicts, the rates of
//! matching series, and a pass over a large store that may give way to keys.

use super::*;

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
