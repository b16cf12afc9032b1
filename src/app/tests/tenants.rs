//! Tenants in the dashboard: equal label sets of two tenants as two rows of
//! the series list, and Enter on a tenant or sender filtering to its series.

use super::*;
use crate::app::cardinality::Level;

/// `batch` as `tenant`, from `user_agent`, as decoding makes it (see
/// `WriteData::belong_to_tenant`).
fn sent_as(
    arrival_ms: i64,
    tenant: Option<&str>,
    user_agent: &str,
    series: &[(&[(&str, &str)], f64)],
) -> Batch {
    let mut b = batch(arrival_ms, series);
    b.info.user_agent = Some(user_agent.into());
    b.info.tenant = tenant.map(str::to_owned);
    if let Some(t) = tenant {
        b.data.belong_to_tenant(t);
    }
    b
}

const UP_A: &[(&str, &str)] = &[("__name__", "up"), ("job", "a")];
const UP_B: &[(&str, &str)] = &[("__name__", "up"), ("job", "b")];
const REQS: &[(&str, &str)] = &[("__name__", "requests"), ("job", "a")];

/// team-a sends up{job="a"} and up{job="b"} with Prometheus; team-b the same
/// up{job="a"} and requests with vmagent.
fn two_tenants() -> (App, Store) {
    let mut store = Store::new(StoreLimits::default());
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0);
    let a = [(UP_A, 1.0), (UP_B, 2.0)];
    store.ingest(&sent_as(T0, Some("team-a"), "Prometheus/3.5.3", &a));
    let b = [(UP_A, 10.0), (REQS, 3.0)];
    store.ingest(&sent_as(T0, Some("team-b"), "vmagent/1.100", &b));
    app.tick(T0 + 1000, &store);
    (app, store)
}

/// The text of the rows of the screen that hold `needle`.
fn rows_with(text: &str, needle: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains(needle))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn equal_label_sets_of_two_tenants_are_two_rows_of_the_series_list() {
    let (mut app, mut store) = two_tenants();
    assert_eq!(store.series_count(), 4);
    // Metrics by series: up (3) first.
    app.apply(Action::Enter, &mut store);
    assert_eq!(app.open_list(), OpenList::Series);
    assert_eq!(app.series.list.rows().len(), 3);
    assert!(app.series.labels.tenants_vary);
    let text = screen(&app, &store);
    let rows = rows_with(&text, "__tenant__");
    let labels: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.split_whitespace().next())
        .collect();
    assert_eq!(
        labels,
        [r#""{job="a","#, r#""{job="a","#, r#""{job="b","#],
        "{text}"
    );
    for (row, tenant) in rows.iter().zip(["team-a", "team-b", "team-a"]) {
        assert!(
            row.contains(&format!(r#"__tenant__="{tenant}"}}"#)),
            "{row}"
        );
    }
    // One tenant: said once above the list, as the labels the same on every series are.
    app.apply(Action::Back, &mut store);
    app.apply(Action::Down(1), &mut store);
    app.apply(Action::Enter, &mut store);
    assert!(!app.series.labels.tenants_vary);
    let constant = &app.series.labels.constant;
    assert!(
        constant.contains(&("__tenant__".into(), "team-b".into())),
        "{constant:?}"
    );
}

#[test]
fn enter_on_a_tenant_or_a_sender_filters_to_its_series() {
    let (mut app, mut store) = two_tenants();
    app.apply(Action::OpenParties, &mut store);
    assert_eq!(app.tab, Tab::Cardinality);
    assert_eq!(app.cardinality.level, Level::Parties);
    // Tenants first, then senders; each most active series first, then by samples.
    let text = screen(&app, &store);
    assert!(text.contains("Tenants and senders"), "{text}");
    assert_eq!(rows_with(&text, "tenant  team-").len(), 2, "{text}");
    assert_eq!(rows_with(&text, "sender  ").len(), 2, "{text}");
    // team-b: the second row (team-a has as many series and sent fewer samples).
    app.apply(Action::Down(1), &mut store);
    app.apply(Action::CopySelector, &mut store);
    assert_eq!(
        app.copied.shown.as_deref(),
        Some(r#"{__tenant__="team-b"}"#)
    );
    app.apply(Action::Enter, &mut store);
    assert_eq!(app.tab, Tab::Metrics);
    assert_eq!(app.open_list(), OpenList::Metrics);
    assert_eq!(store.filter().source(), r#"{__tenant__="team-b"}"#);
    assert_eq!(app.filter.text, r#"{__tenant__="team-b"}"#);
    assert_eq!(store.matched_series(), 2);
    // Back in, to the first sender: Prometheus's series.
    app.apply(Action::OpenParties, &mut store);
    app.apply(Action::Down(2), &mut store);
    let sender = app.cardinality.selector().unwrap();
    assert!(
        sender.starts_with(r#"{__sender__="Prometheus/3.5.3 @ 127.0.0.1"#),
        "{sender}"
    );
    app.apply(Action::Enter, &mut store);
    assert_eq!(
        store.filter().source(),
        r#"{__sender__="Prometheus/3.5.3 @ 127.0.0.1"}"#
    );
    assert_eq!(store.matched_series(), 2);
    // Back from the list goes to the metrics of the view.
    app.apply(Action::OpenParties, &mut store);
    app.apply(Action::Back, &mut store);
    assert_eq!(app.cardinality.level, Level::Metrics);
}

#[test]
fn the_header_names_the_tenant_with_the_most_active_series() {
    let (mut app, mut store) = two_tenants();
    let line = |app: &mut App, store: &Store| draw(app, store, 160, 10)[2].clone();
    let text = line(&mut app, &store);
    // As many series: the one with more samples (team-b: equal, so by name).
    assert!(
        text.contains("  ·  tenants team-a 2 active +1 more"),
        "{text}"
    );
    store.ingest(&sent_as(
        T0 + 2000,
        Some("team-b"),
        "vmagent/1.100",
        &[(UP_B, 1.0)],
    ));
    app.tick(T0 + 3000, &store);
    let text = line(&mut app, &store);
    assert!(
        text.contains("  ·  tenants team-b 3 active +1 more"),
        "{text}"
    );
    // Without tenants, nothing.
    let (mut app, store) = setup();
    assert!(!line(&mut app, &store).contains("tenant"));
}
