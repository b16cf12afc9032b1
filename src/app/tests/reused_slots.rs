//! Lists and drills that hold a series or metric whose slot was evicted and
//! reused never show the newcomer in its place.

use super::*;

#[test]
fn a_large_series_list_between_rebuilds_never_shows_a_series_that_took_an_evicted_slot() {
    let mut store = Store::new(StoreLimits {
        max_series: 21_000,
        ..StoreLimits::default()
    });
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0);
    let send =
        |store: &mut Store, at: i64, name: &str, label: &str, ids: std::ops::Range<usize>| {
            let values: Vec<String> = ids.map(|i| format!("{i:05}")).collect();
            let labels: Vec<[(&str, &str); 2]> = values
                .iter()
                .map(|v| [("__name__", name), (label, v.as_str())])
                .collect();
            let rows: Vec<(&[(&str, &str)], f64)> = labels.iter().map(|l| (&l[..], 1.0)).collect();
            store.ingest(&batch(at, &rows));
        };
    fn metric_of(store: &Store, s: Option<&crate::store::Series>) -> Option<String> {
        Some(store.str(store.metric(s?.metric)?.name).to_owned())
    }
    // The first 500 rows of "big" (sorted by label) are its least recently seen.
    send(&mut store, T0, "big", "id", 0..500);
    send(&mut store, T0 + 100, "big", "id", 500..20_500);
    app.tick(T0 + 1000, &store);
    app.apply(Action::Enter, &mut store);
    assert_eq!(app.series.list.rows().len(), 20_500);
    // Over the limit: those 500 are evicted, then their slots go to "other" (and
    // 500 more of "big" are evicted for it).
    send(&mut store, T0 + 1200, "pad", "pod", 0..1000);
    send(&mut store, T0 + 1400, "other", "pod", 0..500);
    app.tick(T0 + 1600, &store); // too soon to rebuild a list this long
    let slots_taken = app.series.list.rows()[..500]
        .iter()
        .filter(|row| {
            metric_of(&store, store.series_in_slot_of(row.id)).as_deref() == Some("other")
        })
        .count();
    assert!(slots_taken > 0, "the test needs a reused slot in the list");
    let shown: Vec<String> = app
        .series
        .list
        .rows()
        .iter()
        .filter_map(|row| metric_of(&store, store.series(row.id)))
        .collect();
    // 500 evicted for "pad", 500 more for "other".
    assert_eq!(shown.len(), 19_500);
    assert!(shown.iter().all(|name| name == "big"));
    let screen = screen(&app, &store);
    // A row of another metric's series would show its missing `id` as "".
    assert!(
        screen.contains("(evicted: over --max-series or --max-store-bytes)"),
        "{screen}"
    );
    assert!(
        !screen.contains("id=\"\""),
        "a row shows another series: {screen}"
    );
    // Enter on the top row (evicted) must not open the series now in its slot.
    app.apply(Action::Enter, &mut store);
    if let Some(id) = app.current_detail() {
        assert!(store.series(id).is_some());
        assert_eq!(metric_of(&store, store.series(id)).as_deref(), Some("big"));
    }
}

#[test]
fn a_metrics_list_or_drill_holding_a_metric_whose_slot_was_reused_never_shows_the_new_metric() {
    let mut store = Store::new(StoreLimits {
        max_series: 21_000,
        ..StoreLimits::default()
    });
    let send = |store: &mut Store, at: i64, prefix: &str, ids: std::ops::Range<usize>| {
        let names: Vec<String> = ids.map(|i| format!("{prefix}{i:05}")).collect();
        let labels: Vec<[(&str, &str); 2]> = names
            .iter()
            .map(|n| [("__name__", n.as_str()), ("job", "a")])
            .collect();
        let rows: Vec<(&[(&str, &str)], f64)> = labels.iter().map(|l| (&l[..], 1.0)).collect();
        store.ingest(&batch(at, &rows));
    };
    let name_of =
        |store: &Store, m: Option<&crate::store::Metric>| m.map(|m| store.str(m.name).to_owned());
    // One series per name; the first 500 (by name) are the least recently seen.
    send(&mut store, T0, "m", 0..500);
    send(&mut store, T0 + 100, "m", 500..20_500);
    let mut list = App::new("127.0.0.1:9201".parse().unwrap(), T0);
    list.tick(T0 + 1000, &store);
    assert_eq!(list.metrics.rows().len(), 20_500);
    let mut drilled = App::new("127.0.0.1:9201".parse().unwrap(), T0);
    drilled.tick(T0 + 1000, &store);
    drilled.apply(Action::Enter, &mut store);
    let top = drilled.current_metric().unwrap();
    assert_eq!(
        name_of(&store, store.metric(top)).as_deref(),
        Some("m00000")
    );
    // Over the limit: m00000..m00499 are evicted with their metrics, and new
    // names take the freed slots.
    send(&mut store, T0 + 1200, "pad", 0..1000);
    send(&mut store, T0 + 1400, "other", 0..500);
    list.tick(T0 + 1600, &store); // too soon to rebuild a list this long
    drilled.tick(T0 + 1600, &store);
    let slots_taken = list.metrics.rows()[..500]
        .iter()
        .filter(|row| {
            name_of(&store, store.metric_in_slot_of(row.id)).is_some_and(|n| n.starts_with("other"))
        })
        .count();
    assert!(slots_taken > 0, "the test needs a reused slot in the list");
    assert!(name_of(&store, store.metric_in_slot_of(top)).is_some_and(|n| n.starts_with("other")));

    let screen_list = screen(&list, &store);
    assert!(
        screen_list.contains("(evicted: over --max-series or --max-store-bytes)"),
        "{screen_list}"
    );
    assert!(
        !screen_list.contains("other"),
        "a row shows another metric: {screen_list}"
    );
    // Enter on the top row (evicted) must not open the metric now in its slot.
    list.apply(Action::Enter, &mut store);
    if let Some(id) = list.current_metric() {
        assert!(store.metric(id).is_some());
        assert!(name_of(&store, store.metric(id)).is_some_and(|n| n.starts_with('m')));
    }

    // The drilled-in metric is gone: its series view says so, lists nothing,
    // and Enter opens nothing.
    assert!(drilled.series.list.rows().is_empty());
    let screen_drilled = screen(&drilled, &store);
    assert!(
        screen_drilled.contains("All series of this metric were evicted"),
        "{screen_drilled}"
    );
    assert!(!screen_drilled.contains("other"), "{screen_drilled}");
    drilled.apply(Action::Enter, &mut store);
    assert_eq!(drilled.current_detail(), None);
    drilled.apply(Action::Back, &mut store);
    assert!(drilled.drill().is_empty());
}
