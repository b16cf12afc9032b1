//! The header's series counts under churn: active series (a sample within
//! the last 5 minutes), apart from the distinct series seen.

use super::*;

/// One request at `at` with one sample for each series numbered in `ids`.
fn samples_of(at: i64, ids: std::ops::Range<usize>) -> Batch {
    let labels: Vec<[(&str, String); 2]> = ids
        .map(|i| [("__name__", "churn".into()), ("pod", format!("pod-{i}"))])
        .collect();
    let series: Vec<Vec<(&str, &str)>> = labels
        .iter()
        .map(|l| l.iter().map(|(n, v)| (*n, v.as_str())).collect())
        .collect();
    let series: Vec<(&[(&str, &str)], f64)> = series.iter().map(|l| (l.as_slice(), 1.0)).collect();
    batch(at, &series)
}

#[test]
fn the_header_says_active_series_apart_from_those_seen() {
    let mut store = Store::new(StoreLimits {
        max_series: 8_000,
        ..StoreLimits::default()
    });
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0);
    // 10k pods once (2k of them evicted), then only 2k of them every 30 s
    // for six minutes.
    store.ingest(&samples_of(T0, 0..10_000));
    let mut now = T0;
    for _ in 0..12 {
        now += 30_000;
        store.ingest(&samples_of(now, 8_000..10_000));
    }
    app.tick(now + 1000, &store);
    let screen = draw(&mut app, &store, 160, 10);
    assert_eq!(store.series_count(), 8_000);
    assert!(
        screen[1].contains("  ·  series 2.0k active (5m), 10.0k seen  ·  metrics 1"),
        "{screen:#?}"
    );
    // With a filter, the active series that match (pod-9000 to pod-9999;
    // pod-9, pod-9x and pod-9xx sent nothing for six minutes).
    app.apply(Action::FilterSet(r#"{pod=~"pod-9.*"}"#.into()), &mut store);
    let screen = draw(&mut app, &store, 160, 10);
    assert!(
        screen[1].contains("  ·  series 1.0k/2.0k active (5m), 10.0k seen"),
        "{screen:#?}"
    );
    // New samples bring series into the active count, and into the matching
    // one if they match.
    store.ingest(&samples_of(now + 2000, 0..10));
    assert_eq!(store.active_series(now + 3000), (2_010, 1_001));
    // Evicted, they leave both counts: 8k new pods replace all of them.
    for round in 0..4 {
        let ids = 20_000 + round * 2_000..20_000 + (round + 1) * 2_000;
        store.ingest(&samples_of(now + 4000, ids));
    }
    assert_eq!(store.series_count(), 8_000);
    assert_eq!(store.active_series(now + 5000), (8_000, 0));
}

#[test]
fn no_separator_is_left_alone_where_the_senders_do_not_fit() {
    let (mut app, store) = super::problems::with_problems();
    for width in 10..=120 {
        let screen = draw(&mut app, &store, width, 8);
        let line = screen[2].trim_end();
        assert!(!line.ends_with('·'), "{width}: {screen:#?}");
        if line.contains("senders") {
            assert!(line.contains("  ·  senders "), "{width}: {line}");
        }
    }
}

#[test]
fn a_sender_in_the_header_keeps_its_product_and_version_before_its_address() {
    let (mut app, mut store) = super::problems::with_problems();
    // Two more senders, with tenants.
    for (i, (ua, addr, tenant)) in [
        ("Prometheus/3.16.0", "10.20.30.40:5000", "team-a"),
        ("vmagent/v1.151.0", "10.20.30.41:5000", "team-b"),
    ]
    .into_iter()
    .enumerate()
    {
        let series: &[(&str, &str)] = &[("__name__", "up"), ("job", "x")];
        let mut b = batch(T0 + 100 + i as i64, &[(series, 1.0)]);
        b.info.user_agent = Some(ua.into());
        b.info.remote_addr = Some(addr.parse().unwrap());
        b.info.tenant = Some(tenant.into());
        for _ in 0..5 {
            store.ingest(&b);
        }
    }
    app.tick(T0 + 2000, &store);
    let line = |app: &mut App, width| draw(app, &store, width, 8)[2].clone();
    // Cut in the middle, it read `senders Promet…6.0 @ 10.20.30.40 tenant …`.
    assert!(
        line(&mut app, 100).contains("senders Prometheus/3.16.0 @ 10.20.30.40 … RW1 +2 more"),
        "{}",
        line(&mut app, 100)
    );
    assert!(line(&mut app, 110).contains("Prometheus/3.16.0 @ 10.20.30.40 tenant team-a RW1"));
    for width in 40..=200 {
        let shown = line(&mut app, width);
        // Never the version cut (`Prome….16.0`).
        assert!(
            !shown.contains(".16.0 @") || shown.contains("Prometheus/3.16.0 @"),
            "{width}: {shown}"
        );
        assert!(
            !shown.contains("….16.0") && !shown.contains("…6.0"),
            "{width}: {shown}"
        );
        if width >= 60 {
            assert!(
                shown.contains("senders Prometheus/3.16.0 "),
                "{width}: {shown}"
            );
        }
    }
}

#[test]
fn requests_dropped_show_at_80_columns_beside_a_long_sender() {
    let mut store = Store::new(StoreLimits::default());
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0);
    let mut request = batch(T0, &[(&[("__name__", "up")], 1.0)]);
    request.info.user_agent = Some(format!("Prometheus/3.16.0-{}", "x".repeat(60)));
    store.ingest(&request);
    app.dropped_requests = 3;
    app.tick(T0 + 1000, &store);
    let screen = draw(&mut app, &store, 80, 24);
    assert!(
        screen
            .iter()
            .any(|l| l.contains("dropped 3") && l.contains("senders")),
        "{screen:#?}"
    );
}

/// One sender with a 60-character User-Agent whose requests were rejected
/// (2, bad snappy), whose series were evicted (3, `--max-series 2`) and
/// whose exemplars were not kept (3, labels over 1 KiB).
fn long_sender_in_trouble() -> (App, Store) {
    use crate::ingest::model::{Exemplar, LabelRef, RejectReason};
    let mut store = Store::new(StoreLimits {
        max_series: 2,
        ..StoreLimits::default()
    });
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0);
    let agent = format!("Prometheus/3.16.0-{}", "x".repeat(42));
    assert_eq!(agent.len(), 60);
    for i in 0..5 {
        let job = format!("job-{i}");
        let mut request = batch(T0 + i, &[(&[("__name__", "up"), ("job", &job)], 1.0)]);
        request.info.user_agent = Some(agent.clone());
        if i < 3 {
            let data = &mut request.data;
            let labels = data.labels.len() as u32;
            let trace = LabelRef {
                name: data.intern("trace_id"),
                value: data.intern(&"t".repeat(2000)),
            };
            data.labels.push(trace);
            data.exemplars.push(Exemplar {
                labels: labels..labels + 1,
                value: 1.0,
                timestamp_ms: T0,
            });
            data.series[0].exemplars = 0..1;
        }
        store.ingest(&request);
    }
    for i in 0..2 {
        let mut request = batch(T0 + 10 + i, &[]);
        request.info.user_agent = Some(agent.clone());
        request.outcome = Outcome::Rejected {
            status: 400,
            reason: RejectReason::Snappy,
            message: "snappy: corrupt input".into(),
        };
        store.ingest(&request);
    }
    app.tick(T0 + 1000, &store);
    (app, store)
}

#[test]
fn every_trouble_shows_at_80_columns_beside_a_long_sender() {
    let (mut app, store) = long_sender_in_trouble();
    assert_eq!(store.evictions().total(), 3);
    assert_eq!(store.oversized_exemplars(), 3);
    let line = |app: &mut App, width| draw(app, &store, width, 24)[2].clone();
    // Wide enough for all of it: as it always was, the sender first.
    let wide = line(&mut app, 250);
    assert!(
        wide.ends_with(&format!(
            " senders Prometheus/3.16.0-{} @ 127.0.0.1 RW1  ·  rejected 2 (bad_snappy: 2)  ·  \
             evicted 3 series (--max-series)  ·  3 exemplars not kept (labels over 1024 bytes)",
            "x".repeat(42)
        )),
        "{wide}"
    );
    // At 80 columns, every count, the sender's name cut for them (a count
    // was left out for it).
    let narrow = line(&mut app, 80);
    assert_eq!(
        narrow,
        " senders Prometheus/3… RW1  ·  rejected 2  ·  evicted 3  ·  3 exemplars not kept"
    );
    for shown in [
        "senders Prometheus",
        " RW1",
        "rejected 2",
        "evicted 3",
        "3 exemplars",
    ] {
        assert!(narrow.contains(shown), "{shown}: {narrow}");
    }
    // Never a number cut, nor a panic, at any width; from 80 columns every
    // count.
    for width in 1..=250 {
        let shown = line(&mut app, width);
        assert!(
            !shown.contains("rejected …") && !shown.contains("evicted …"),
            "{width}: {shown}"
        );
        if width >= 80 {
            for count in ["rejected 2", "evicted 3", "3 exemplars"] {
                assert!(shown.contains(count), "{width}: {count}: {shown}");
            }
        }
    }
}
