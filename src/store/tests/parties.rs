//! Tenants and senders: each series counted under the request that created
//! it, and `__tenant__` / `__sender__` in the filter.

use super::*;
use crate::filter::Filter;

/// A batch of `series` from `user_agent` at 10.0.0.`ip`, as `tenant`.
fn from(arrival_ms: i64, tenant: Option<&str>, user_agent: &str, series: &[TestSeries]) -> Batch {
    let mut b = batch(arrival_ms, series);
    b.info.tenant = tenant.map(str::to_owned);
    // As decoding does (see `WriteData::belong_to_tenant`).
    if let Some(tenant) = tenant {
        b.data.belong_to_tenant(tenant);
    }
    b.info.user_agent = Some(user_agent.to_owned());
    b
}

const JOB_C: &[(&str, &str)] = &[("__name__", "up"), ("job", "c")];

fn mixed_store() -> Store {
    let mut store = Store::new(StoreLimits::default());
    store.ingest(&from(
        T0,
        Some("team-a"),
        "Prometheus/3.5.3",
        &[(UP_A, T0, 1.0), (UP_B, T0, 1.0)],
    ));
    store.ingest(&from(
        T0,
        Some("team-b"),
        "vmagent/1.100",
        &[(JOB_C, T0, 1.0), (REQ, T0, 1.0)],
    ));
    // Sent by another tenant too: equal label sets of two tenants are two series.
    store.ingest(&from(
        T0 + 1000,
        Some("team-b"),
        "vmagent/1.100",
        &[(UP_A, T0 + 1000, 2.0)],
    ));
    store.ingest(&from(
        T0 + 1000,
        None,
        "curl/8",
        &[(&[("__name__", "x")], T0, 1.0)],
    ));
    store
}

#[test]
fn each_tenant_and_sender_counts_the_series_it_created_and_the_samples_it_sent() {
    let store = mixed_store();
    let now = T0 + 2000;
    let tenants = store.tenants(now);
    let row = |name: &str| tenants.iter().find(|t| t.name == name).unwrap().clone();
    assert_eq!(tenants.len(), 2, "{tenants:?}");
    assert_eq!((row("team-a").active, row("team-a").kept), (2, 2));
    assert_eq!((row("team-b").active, row("team-b").kept), (3, 3));
    // team-b sent 3 samples, team-a 2, in two seconds: no interval told yet.
    assert_eq!(row("team-b").samples_per_s, None);
    assert!(row("team-a").new_per_s > 0.0);
    let senders = store.senders(now);
    let names: Vec<&str> = senders.iter().map(|s| s.name.as_str()).collect();
    // vmagent has three active series, Prometheus two.
    assert_eq!(
        names,
        [
            "vmagent/1.100 @ 10.0.0.1",
            "Prometheus/3.5.3 @ 10.0.0.1",
            "curl/8 @ 10.0.0.1"
        ]
    );
    assert_eq!(senders[2].kept, 1);
}

/// The points of every series of `labels`, by tenant.
fn points_by_tenant(store: &Store, labels: &str) -> Vec<(String, Vec<(i64, f64)>)> {
    let mut found: Vec<(String, Vec<(i64, f64)>)> = store
        .metrics()
        .flat_map(|(_, m)| store.series_of(m))
        .filter(|(_, s)| store.series_text(&s.labels) == labels)
        .map(|(_, s)| {
            let [(_, tenant), _] = store.origin_names(s.origin);
            let points = s.points.iter().map(|p| (p.timestamp_ms, p.value)).collect();
            (tenant.to_owned(), points)
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

#[test]
fn equal_label_sets_of_two_tenants_are_two_series_with_their_own_samples() {
    let mut store = Store::new(StoreLimits::default());
    // Interleaved: each tenant's own timestamps go forward, the two together do not.
    for (i, (tenant, ts, v)) in [
        ("team-a", T0 + 10_000, 1.0),
        ("team-b", T0, 100.0),
        ("team-a", T0 + 20_000, 2.0),
        ("team-b", T0 + 5_000, 200.0),
    ]
    .into_iter()
    .enumerate()
    {
        let at = T0 + 30_000 + i as i64 * 1000;
        store.ingest(&from(
            at,
            Some(tenant),
            "Prometheus/3.5.3",
            &[(UP_A, ts, v)],
        ));
    }
    // And once without a tenant: a third series.
    store.ingest(&batch(T0 + 40_000, &[(UP_A, T0 + 1, 7.0)]));
    assert_eq!(store.series_count(), 3);
    assert_eq!(
        points_by_tenant(&store, r#"up{job="a"}"#),
        [
            ("".to_owned(), vec![(T0 + 1, 7.0)]),
            (
                "team-a".to_owned(),
                vec![(T0 + 10_000, 1.0), (T0 + 20_000, 2.0)]
            ),
            ("team-b".to_owned(), vec![(T0, 100.0), (T0 + 5_000, 200.0)]),
        ]
    );
    let tenants = store.tenants(T0 + 41_000);
    let mut kept: Vec<(&str, u64)> = tenants.iter().map(|t| (t.name.as_str(), t.kept)).collect();
    kept.sort();
    assert_eq!(kept, [("team-a", 1), ("team-b", 1)]);
    assert_eq!(store.metrics().count(), 1);
}

/// [`from`], its series' hashes replaced by `hash`: as if its tenant's
/// mixed hashes collided with another tenant's.
fn colliding(arrival_ms: i64, tenant: Option<&str>, hash: u64, ts: i64, v: f64) -> Batch {
    let mut b = from(arrival_ms, tenant, "Prometheus/3.5.3", &[(UP_A, ts, v)]);
    for s in &mut b.data.series {
        s.label_hash = hash;
    }
    b
}

#[test]
fn equal_label_sets_of_two_tenants_stay_two_series_when_their_hashes_collide() {
    let mut store = Store::new(StoreLimits::default());
    let hash = from(T0, Some("team-a"), "x", &[(UP_A, T0, 0.0)])
        .data
        .series[0]
        .label_hash;
    store.ingest(&colliding(T0, Some("team-a"), hash, T0, 1.0));
    store.ingest(&colliding(T0 + 1000, Some("team-b"), hash, T0, 100.0));
    store.ingest(&colliding(T0 + 2000, None, hash, T0, 7.0));
    store.ingest(&colliding(T0 + 3000, Some("team-a"), hash, T0 + 1000, 2.0));
    assert_eq!(store.series_count(), 3);
    assert_eq!(
        points_by_tenant(&store, r#"up{job="a"}"#),
        [
            ("".to_owned(), vec![(T0, 7.0)]),
            ("team-a".to_owned(), vec![(T0, 1.0), (T0 + 1000, 2.0)]),
            ("team-b".to_owned(), vec![(T0, 100.0)]),
        ]
    );
    // The request view finds each request's own.
    let b = colliding(T0 + 4000, Some("team-b"), hash, T0, 0.0);
    let found = store.find_series(&b.data, &b.data.series[0]).unwrap();
    let [(_, tenant), _] = store.origin_names(store.series(found).unwrap().origin);
    assert_eq!(tenant, "team-b");
}

#[test]
fn a_series_holds_its_tenant_name_until_it_is_evicted() {
    let mut store = Store::new(StoreLimits {
        max_series: 1,
        ..StoreLimits::default()
    });
    store.ingest(&from(T0, Some("team-a"), "x", &[(UP_A, T0, 1.0)]));
    assert!(store.strings.get("team-a").is_some());
    store.ingest(&from(T0 + 1000, Some("team-b"), "x", &[(UP_B, T0, 1.0)]));
    assert_eq!(store.series_count(), 1);
    assert!(store.strings.get("team-a").is_none());
    assert!(store.strings.get("team-b").is_some());
}

fn matched_names(store: &Store) -> Vec<String> {
    let mut names: Vec<String> = store
        .metrics()
        .flat_map(|(_, m)| store.series_of(m))
        .filter(|(_, s)| s.matched)
        .map(|(_, s)| store.series_text(&s.labels))
        .collect();
    names.sort();
    names
}

#[test]
fn the_filter_matches_tenant_and_sender_as_labels_of_the_series() {
    let mut store = mixed_store();
    let set = |store: &mut Store, text: &str| {
        store.set_filter(Filter::parse(text).unwrap(), T0 + 2000);
        matched_names(store)
    };
    assert_eq!(
        set(&mut store, r#"{__tenant__="team-a"}"#),
        [r#"up{job="a"}"#, r#"up{job="b"}"#]
    );
    assert_eq!(
        set(&mut store, r#"{__sender__=~"vmagent/.*"}"#),
        [
            r#"http_requests_total{code="200"}"#,
            r#"up{job="a"}"#,
            r#"up{job="c"}"#
        ]
    );
    assert_eq!(
        set(&mut store, r#"up{__tenant__!="team-a"}"#),
        [r#"up{job="a"}"#, r#"up{job="c"}"#]
    );
    // No tenant is the empty value, as a missing label is.
    assert_eq!(set(&mut store, r#"{__tenant__=""}"#), ["x"]);
    // A regex searches the series' own text only.
    assert!(set(&mut store, "team-a").is_empty());
    assert_eq!(store.matched_series(), 0);
    // New series are judged with who sent them, too.
    store.set_filter(
        Filter::parse(r#"{__tenant__="team-c"}"#).unwrap(),
        T0 + 2000,
    );
    store.ingest(&from(
        T0 + 3000,
        Some("team-c"),
        "Prometheus/3.5.3",
        &[(&[("__name__", "new")], T0, 1.0)],
    ));
    store.ingest(&from(
        T0 + 3000,
        Some("team-a"),
        "Prometheus/3.5.3",
        &[(&[("__name__", "other")], T0, 1.0)],
    ));
    assert_eq!(matched_names(&store), ["new"]);
    assert_eq!(store.matched_series(), 1);
}

#[test]
fn tenants_and_senders_are_forgotten_with_their_series_and_counted_in_held_bytes() {
    let mut store = Store::new(StoreLimits {
        max_series: 10,
        ..StoreLimits::default()
    });
    for i in 0..2000 {
        let tenant = format!("tenant-{i}-{}", "t".repeat(100));
        let agent = format!("agent-{i}-{}", "a".repeat(200));
        let name = format!("m{i}");
        store.ingest(&from(
            T0 + i,
            Some(&tenant),
            &agent,
            &[(&[("__name__", &name)], T0, 1.0)],
        ));
    }
    let now = T0 + 2000;
    let kept: u64 = store.tenants(now).iter().map(|t| t.kept).sum();
    assert_eq!(kept as usize, store.series_count());
    assert!(store.tenants(now).len() <= crate::store::parties::MAX_PARTIES + 1);
    assert!(store.held_bytes() < 8 << 20, "{}", store.held_bytes());
}

#[test]
fn the_cardinality_rows_under_a_filter_count_only_its_series() {
    let mut store = mixed_store();
    let now = T0 + 2000;
    let all = store.cardinality_overview(now, 10);
    assert_eq!(all.active, 6);
    store.set_filter(Filter::parse(r#"{__tenant__="team-a"}"#).unwrap(), now);
    let o = store.filtered_overview(now, 10, &|| false).unwrap();
    assert_eq!(o.active, 2);
    // Its churn columns are the whole metrics', over the same spans (the
    // CHANGE header read "CHANGE 0MS" under a filter).
    assert!(o.change_span_ms > 0);
    assert_eq!(
        (o.change_span_ms, o.rate_span_ms),
        (all.change_span_ms, all.rate_span_ms)
    );
    let metrics: Vec<(&str, u64, u64)> = o
        .metrics
        .iter()
        .map(|m| (m.name.as_str(), m.active, m.kept))
        .collect();
    assert_eq!(metrics, [("up", 2, 2)]);
    let names: Vec<(&str, u64)> = o
        .label_names
        .iter()
        .map(|l| (l.name.as_str(), l.distinct.value()))
        .collect();
    assert_eq!(names, [("job", 2)]);
    let pairs: Vec<String> = o
        .pairs
        .iter()
        .map(|p| format!("{}={} {}", p.name, p.value, p.series))
        .collect();
    assert_eq!(pairs, ["job=a 1", "job=b 1"]);
    let up = o.metrics[0].id;
    let labels = store
        .filtered_metric_labels(up, now, 5, &|| false)
        .unwrap()
        .unwrap();
    assert_eq!(labels.len(), 1);
    assert_eq!(labels[0].top, [("a".to_owned(), 1), ("b".to_owned(), 1)]);
    // The whole traffic's `up` has job=c too.
    let whole = store.metric_labels(up, now, 5).unwrap();
    assert_eq!(whole[0].distinct.value(), 3);
    // Long after, nothing is active, though kept.
    assert_eq!(
        store
            .filtered_overview(T0 + 3_600_000, 10, &|| false)
            .unwrap()
            .active,
        0
    );
}

#[test]
fn the_requests_of_a_tenant_pass_the_same_filter_as_its_series() {
    let store = mixed_store();
    let passing = |text: &str| -> Vec<Option<String>> {
        let filter = Filter::parse(text).unwrap();
        store
            .requests()
            .iter()
            .filter(|r| r.passes(&filter, &mut String::new()))
            .map(|r| r.tenant.clone())
            .collect()
    };
    let b = Some("team-b".to_owned());
    assert_eq!(passing(r#"{__tenant__="team-b"}"#), [b.clone(), b.clone()]);
    assert_eq!(passing(r#"{tenant="team-b"}"#), [b.clone(), b]);
    assert_eq!(passing(r#"{__sender__=~"curl.*"}"#), [None]);
    // A regex does not see the pseudo-labels twice over, nor as labels of their own.
    assert!(passing("__tenant__").is_empty());
}
