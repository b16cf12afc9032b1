//! The cardinality view: its levels, and Enter filtering to a value's series.

use super::*;
use crate::app::cardinality::{CardSort, Level};

/// A store where `http_requests` grows `request_id` without bound beside
/// steady metrics.
fn exploding() -> (App, Store) {
    let mut store = Store::new(StoreLimits::default());
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0);
    for step in 0..20i64 {
        let ids: Vec<String> = (0..10).map(|i| format!("{:06x}", step * 10 + i)).collect();
        let mut series: Vec<(Vec<(&str, &str)>, f64)> = ids
            .iter()
            .map(|id| {
                let labels = vec![
                    ("__name__", "http_requests"),
                    ("job", "api"),
                    ("request_id", id.as_str()),
                ];
                (labels, 1.0)
            })
            .collect();
        series.push((vec![("__name__", "up"), ("job", "api")], 1.0));
        series.push((vec![("__name__", "up"), ("job", "db")], 1.0));
        let refs: Vec<(&[(&str, &str)], f64)> = series.iter().map(|(l, v)| (&l[..], *v)).collect();
        store.ingest(&batch(T0 + step * 1000, &refs));
    }
    app.tick(T0 + 20_000, &store);
    (app, store)
}

#[test]
fn the_view_names_the_metric_and_label_that_explode_and_enter_filters_to_a_value() {
    let (mut app, mut store) = exploding();
    app.apply(Action::GoTab(Tab::Cardinality), &mut store);
    let view = &app.cardinality;
    assert_eq!(view.level, Level::Metrics);
    let names: Vec<&str> = view
        .overview
        .metrics
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(names, ["http_requests", "up"]);
    assert_eq!(view.overview.metrics[0].active, 200);
    let text = screen(&app, &store);
    assert!(text.contains("Cardinality"), "{text}");
    assert!(
        text.contains("request_id"),
        "label names across metrics:\n{text}"
    );
    // Into the metric: request_id first, flagged.
    app.apply(Action::Enter, &mut store);
    assert_eq!(app.cardinality.level, Level::Labels);
    let first = &app.cardinality.metric_labels[0];
    assert_eq!((first.name.as_str(), first.unbounded), ("request_id", true));
    assert!(screen(&app, &store).contains("UNBOUNDED"));
    // Into its values; the second row is a value.
    app.apply(Action::Enter, &mut store);
    assert_eq!(app.cardinality.level, Level::Values);
    app.apply(Action::Down(1), &mut store);
    let value = app.cardinality.selected_label().unwrap().top[0].0.clone();
    app.apply(Action::Enter, &mut store);
    assert_eq!(app.tab, Tab::Metrics);
    let expected = format!("http_requests{{request_id=\"{value}\"}}");
    assert_eq!(store.filter().source(), expected);
    assert_eq!(app.filter.text, expected);
    assert_eq!(app.open_list(), OpenList::Series);
    assert_eq!(app.series.list.rows().len(), 1);
}

#[test]
fn the_first_value_row_filters_to_the_label_and_back_goes_up_a_level() {
    let (mut app, mut store) = exploding();
    app.apply(Action::GoTab(Tab::Cardinality), &mut store);
    app.apply(Action::Enter, &mut store);
    // job: the second label.
    app.apply(Action::Down(1), &mut store);
    app.apply(Action::Enter, &mut store);
    app.apply(Action::CopySelector, &mut store);
    assert_eq!(
        app.copied.shown.as_deref(),
        Some(r#"http_requests{job!=""}"#)
    );
    app.apply(Action::Back, &mut store);
    assert_eq!(app.cardinality.level, Level::Labels);
    app.apply(Action::Back, &mut store);
    assert_eq!(app.cardinality.level, Level::Metrics);
    app.apply(Action::Back, &mut store);
    assert_eq!(app.tab, Tab::Metrics);
}

#[test]
fn shift_c_opens_the_selected_metric_and_s_sorts_by_churn() {
    let (mut app, mut store) = exploding();
    // Metrics sorted by series: http_requests first; then down to up.
    app.apply(Action::Down(1), &mut store);
    app.apply(Action::OpenCardinality, &mut store);
    assert_eq!(app.tab, Tab::Cardinality);
    assert_eq!(app.cardinality.level, Level::Labels);
    assert_eq!(app.cardinality.metric.as_ref().unwrap().1, "up");
    app.apply(Action::Back, &mut store);
    app.apply(Action::CycleSort, &mut store);
    assert_eq!(app.cardinality.sort, CardSort::Churn);
    let first = &app.cardinality.overview.metrics[0];
    assert_eq!(first.name, "http_requests");
    assert!(first.new_per_s > 0.0);
}

#[test]
fn rows_counted_by_a_long_pass_are_rebuilt_less_often() {
    let (mut app, mut store) = exploding();
    app.apply(Action::GoTab(Tab::Cardinality), &mut store);
    let view = &mut app.cardinality;
    view.rebuild(&store, T0 + 20_000, &|| false);
    // As if a filtered pass had counted 100k series: rebuilt every 4 x 2 s.
    view.overview.counted = 100_000;
    view.refresh(&store, T0 + 27_999, &|| false);
    assert_eq!(view.overview.counted, 100_000);
    view.refresh(&store, T0 + 28_000, &|| false);
    assert_eq!(view.overview.counted, 0, "rebuilt from the aggregates");
}

/// A filtered pass over more series than are judged between two looks at
/// the keyboard gives way to a waiting key: no rows of another filter are
/// shown meanwhile, the view says it is counting, and the rows come once
/// the key is handled. A later rebuild that gives way keeps the rows.
#[test]
fn a_filtered_rebuild_gives_way_to_a_waiting_key() {
    use crate::app::cardinality::REBUILD_MS;
    use crate::store::series::GIVE_WAY_EVERY;
    let mut store = Store::new(StoreLimits::default());
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0);
    let ids: Vec<String> = (0..2 * GIVE_WAY_EVERY).map(|i| i.to_string()).collect();
    let series: Vec<(Vec<(&str, &str)>, f64)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let job = ["a", "b"][i % 2];
            (
                vec![("__name__", "jobs"), ("id", id.as_str()), ("job", job)],
                1.0,
            )
        })
        .collect();
    let refs: Vec<(&[(&str, &str)], f64)> = series.iter().map(|(l, v)| (&l[..], *v)).collect();
    store.ingest(&batch(T0, &refs));
    app.tick(T0 + 1000, &store);
    app.apply(Action::GoTab(Tab::Cardinality), &mut store);
    assert_eq!(
        app.cardinality.overview.metrics[0].active,
        2 * GIVE_WAY_EVERY as u64
    );
    // Filtered in Metrics; back to the view with a key waiting.
    app.apply(Action::GoTab(Tab::Metrics), &mut store);
    app.apply(Action::FilterSet(r#"{job="a"}"#.into()), &mut store);
    app.apply(Action::FilterAccept, &mut store);
    assert_eq!(store.filter().source(), r#"{job="a"}"#);
    app.keys_waiting.sent();
    app.apply(Action::GoTab(Tab::Cardinality), &mut store);
    // The rows of all traffic are not shown as the filter's.
    assert!(app.cardinality.counting);
    assert!(app.cardinality.overview.metrics.is_empty());
    let text = screen(&app, &store);
    assert!(text.contains("Counting the filter's series…"), "{text}");
    // The key handled: the next tick counts them.
    app.keys_waiting.taken();
    app.tick(T0 + 1500, &store);
    assert!(!app.cardinality.counting);
    let metric = &app.cardinality.overview.metrics[0];
    assert_eq!(
        (metric.name.as_str(), metric.kept),
        ("jobs", GIVE_WAY_EVERY as u64)
    );
    // Time for a rebuild, but a key waits: the rows stay, and are rebuilt after it.
    app.keys_waiting.sent();
    app.tick(T0 + 1500 + REBUILD_MS, &store);
    assert!(!app.cardinality.counting);
    assert_eq!(app.cardinality.overview.metrics.len(), 1);
    app.keys_waiting.taken();
}
