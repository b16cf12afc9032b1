//! One reading of samples per second for the header, each metric and each
//! series: a metric's rate is the sum of its series', the header's the sum of
//! the metrics', at every second, while a sender sends and after it stops.

use super::*;
use crate::test_rng::Rng;

const WINDOW: i64 = 10;

/// `per_metric` series of each of metrics `a` and `b`, of jobs `x` and `y`
/// in turn.
fn labels(per_metric: usize) -> Vec<[(String, String); 3]> {
    let pair = |n: &str, v: String| (n.to_owned(), v);
    ["a", "b"]
        .iter()
        .flat_map(|m| {
            (0..per_metric).map(move |i| {
                let job = if i % 2 == 0 { "x" } else { "y" };
                [
                    pair("__name__", m.to_string()),
                    pair("id", i.to_string()),
                    pair("job", job.to_owned()),
                ]
            })
        })
        .collect()
}

/// A request at `at_ms` with one sample of each of `series`.
fn send(store: &mut Store, at_ms: i64, series: &[&[(String, String); 3]]) {
    let owned: Vec<Vec<(&str, &str)>> = series
        .iter()
        .map(|l| l.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect())
        .collect();
    let rows: Vec<TestSeries<'_>> = owned.iter().map(|l| (&l[..], at_ms, 1.0)).collect();
    store.ingest(&batch(at_ms, &rows));
}

/// A metric's rate and the sum of its series'.
type MetricReading = (Option<f64>, Option<f64>);

/// The header's rate and, per metric, its rate and the sum of its series'.
fn readings(store: &Store, now_ms: i64) -> (Option<f64>, Vec<MetricReading>) {
    let header = store.sample_rate.per_second(now_ms, WINDOW);
    let metrics = store
        .metrics()
        .map(|(_, m)| {
            let series: Option<Vec<f64>> = store
                .series_of(m)
                .map(|(_, s)| store.series_per_second(s, now_ms, WINDOW))
                .collect();
            (
                m.rate.per_second(now_ms, WINDOW),
                series.map(|s| s.iter().sum()),
            )
        })
        .collect();
    (header, metrics)
}

fn same(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
        (a, b) => a.is_none() && b.is_none(),
    }
}

/// At `now_ms`: each metric's rate is its series' sum, and the header's
/// the metrics' sum; returns the header's.
fn assert_one_reading(store: &Store, now_ms: i64, when: &str) -> Option<f64> {
    let (header, metrics) = readings(store, now_ms);
    for &(metric, series) in &metrics {
        assert!(
            same(metric, series),
            "{when}: metric {metric:?}, its series {series:?}"
        );
    }
    let sum: Option<f64> = metrics.iter().map(|m| m.0).sum();
    assert!(
        same(header, sum),
        "{when}: header {header:?}, metrics {sum:?}"
    );
    header
}

#[test]
fn series_metrics_and_header_read_one_rate_while_sending_and_after_a_stop() {
    // `promscope send --rate 1000` to 500 series: a request of all of them
    // every 500 ms (here 2 × 250), for a minute, then nothing. 4 s after the
    // stop the series read 0.6/s each, their metric 1.8/s a series.
    let labels = labels(250);
    let all: Vec<_> = labels.iter().collect();
    let mut store = Store::new(StoreLimits::default());
    let start = T0 + 300;
    for i in 0..120 {
        send(&mut store, start + i * 500, &all);
    }
    let stop = start + 119 * 500;
    for sec in 1..90 {
        let now = start + sec * 1000 + 200;
        let header = assert_one_reading(&store, now, &format!("{sec} s in"));
        if (15..60).contains(&sec) {
            assert_eq!(header, Some(1000.0), "{sec} s in");
        }
    }
    assert_eq!(readings(&store, stop + 30_000).0, Some(0.0));
}

#[test]
fn series_metrics_and_header_read_one_rate_for_a_sender_a_second_early_or_late() {
    // Every 5 s, each request up to a second off its schedule, for 5
    // minutes, then nothing (read between its requests).
    let labels = labels(40);
    let all: Vec<_> = labels.iter().collect();
    let mut store = Store::new(StoreLimits::default());
    let mut rng = Rng(0x5eed_0105);
    let start = T0 + 1_000;
    let arrivals: Vec<i64> = (0..60)
        .map(|i| start + i * 5_000 + rng.below(2_001) as i64 - 1_000)
        .collect();
    let mut next = arrivals.iter().peekable();
    for sec in 0..400 {
        let now = start + sec * 1000 + 500;
        while let Some(&at) = next.next_if(|&&at| at <= now) {
            send(&mut store, at, &all);
        }
        let header = assert_one_reading(&store, now, &format!("{sec} s in"));
        if (60..290).contains(&sec) {
            let rate = header.unwrap_or(f64::NAN);
            assert!((rate / 16.0 - 1.0).abs() <= 0.1, "{sec} s in: {rate}");
        }
    }
}

#[test]
fn the_series_still_sending_read_their_own_rate_while_others_stop() {
    // Job `x` (half the series of each metric) stops; job `y` goes on at 2
    // samples a second a series. Each series of `y` reads that at every
    // second after, while its metric falls to half over its window, and
    // the series of `x` read the rest.
    let labels = labels(100);
    let all: Vec<_> = labels.iter().collect();
    let job_y: Vec<_> = labels.iter().filter(|l| l[2].1 == "y").collect();
    let mut store = Store::new(StoreLimits::default());
    let start = T0 + 300;
    for i in 0..120 {
        send(&mut store, start + i * 500, &all);
    }
    for i in 120..240 {
        send(&mut store, start + i * 500, &job_y);
    }
    for sec in 55..120 {
        let now = start + sec * 1000 + 200;
        assert_one_reading(&store, now, &format!("{sec} s in"));
        for (_, s) in store.series.iter() {
            let rate = store.series_per_second(s, now, WINDOW);
            let y = store.label_pairs(&s.labels).any(|l| l == ("job", "y"));
            if y {
                let rate = rate.unwrap_or(f64::NAN);
                assert!((rate / 2.0 - 1.0).abs() <= 0.1, "{sec} s in: {rate}");
            } else if sec >= 72 {
                assert_eq!(rate, Some(0.0), "{sec} s in");
            }
        }
    }
}

#[test]
fn a_filter_over_part_of_a_metric_leaves_its_series_rates_known() {
    // Every 5 s for two minutes, then a filter for job `x` (half the series
    // of each metric), then 30 s more: the matching series' own rate,
    // counted apart from the filter on, is not yet known; each series reads
    // its share of its metric's, 0.2/s, at every second all the same.
    let labels = labels(4);
    let all: Vec<_> = labels.iter().collect();
    let mut store = Store::new(StoreLimits::default());
    let start = T0 + 300;
    for i in 0..24 {
        send(&mut store, start + i * 5_000, &all);
    }
    let filtered = start + 23 * 5_000 + 2_000;
    store.set_filter(Filter::parse(r#"{job="x"}"#).unwrap(), filtered);
    for i in 24..30 {
        let at = start + i * 5_000;
        for now in (at - 5_000..at).step_by(1_000).filter(|&t| t >= filtered) {
            for (_, s) in store.series.iter() {
                let rate = store.series_per_second(s, now, WINDOW);
                assert_eq!(rate, Some(0.2), "{} ms after the filter", now - filtered);
            }
        }
        send(&mut store, at, &all);
    }
    assert!(store.series.iter().any(|(_, s)| s.matched));
}
