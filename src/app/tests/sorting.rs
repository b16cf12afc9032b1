//! How the metrics and series lists sort, and that what is on screen stays
//! sorted by what is on screen between re-sorts.

use super::*;

#[test]
fn metrics_sort_by_series_by_default_then_rate_name_and_reverse() {
    let (mut app, mut store) = setup();
    // The README's sort: most series first.
    assert_eq!(app.metrics.sort(), MetricSort::Series);
    assert_eq!(names(&app, &store), ["http_requests_total", "up", "zeta"]);
    app.apply(Action::CycleSort, &mut store);
    assert_eq!(app.metrics.sort(), MetricSort::Rate);
    app.apply(Action::CycleSort, &mut store);
    assert_eq!(app.metrics.sort(), MetricSort::Name);
    assert_eq!(names(&app, &store), ["http_requests_total", "up", "zeta"]);
    app.apply(Action::ReverseSort, &mut store);
    assert_eq!(names(&app, &store), ["zeta", "up", "http_requests_total"]);
}

#[test]
fn metrics_with_as_many_series_sort_by_name() {
    let mut store = Store::new(StoreLimits::default());
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0);
    // Created in another order than their names'.
    store.ingest(&batch(
        T0,
        &[
            (&[("__name__", "b")], 1.0),
            (&[("__name__", "c"), ("x", "1")], 1.0),
            (&[("__name__", "c"), ("x", "2")], 1.0),
            (&[("__name__", "a")], 1.0),
        ],
    ));
    app.tick(T0 + 1000, &store);
    assert_eq!(app.metrics.sort(), MetricSort::Series);
    assert_eq!(names(&app, &store), ["c", "a", "b"]);
}

#[test]
fn series_sort_by_value_and_label_summary() {
    let (mut app, mut store) = setup();
    app.apply(Action::Enter, &mut store); // http_requests_total
    let summary = app.series.labels.clone();
    assert_eq!(summary.constant, [("job".into(), "a".into())]);
    let codes = |app: &App, store: &Store| -> Vec<String> {
        app.series
            .list
            .rows()
            .iter()
            .map(|row| store.series_text(&store.series(row.id).unwrap().labels))
            .collect()
    };
    assert_eq!(
        codes(&app, &store)[0],
        r#"http_requests_total{code="200", job="a"}"#
    );
    app.apply(Action::CycleSort, &mut store); // rate
    app.apply(Action::CycleSort, &mut store); // value
    assert_eq!(
        codes(&app, &store)[0],
        r#"http_requests_total{code="500", job="a"}"#
    );
}

/// The numbers in the `column`-th column (counted from 0, split at spaces) of
/// the table under the header `first_column`.
fn column_values(lines: &[String], first_column: &str, column: usize) -> Vec<f64> {
    let header = lines
        .iter()
        .position(|l| l.trim_start().starts_with(first_column))
        .expect("a table");
    lines[header + 1..lines.len() - 1]
        .iter()
        .filter_map(|l| l.split_whitespace().nth(column)?.parse().ok())
        .collect()
}

#[test]
fn what_is_on_screen_is_sorted_by_what_is_on_screen_between_re_sorts() {
    let mut store = Store::new(StoreLimits::default());
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0);
    let send = |store: &mut Store, at: i64, values: [f64; 5]| {
        let names = ["a", "b", "c", "d", "e"];
        let labels: Vec<[(&str, &str); 2]> = names
            .iter()
            .map(|n| [("__name__", "temperature"), ("room", *n)])
            .collect();
        let rows: Vec<(&[(&str, &str)], f64)> = labels
            .iter()
            .zip(values)
            .map(|(l, v)| (&l[..], v))
            .collect();
        store.ingest(&batch(at, &rows));
    };
    send(&mut store, T0, [1.0, 2.0, 3.0, 4.0, 5.0]);
    app.tick(T0 + 1000, &store);
    app.apply(Action::Enter, &mut store);
    app.apply(Action::CycleSort, &mut store);
    app.apply(Action::CycleSort, &mut store);
    assert_eq!(app.series.list.sort(), SeriesSort::Value);
    let sorted = draw(&mut app, &store, 120, 24);
    assert_eq!(
        column_values(&sorted, "LABELS", 1),
        [5.0, 4.0, 3.0, 2.0, 1.0]
    );
    // Values change faster than the list is re-sorted (once a second).
    send(&mut store, T0 + 1200, [50.0, 40.0, 30.0, 20.0, 10.0]);
    app.tick(T0 + 1400, &store);
    let between = draw(&mut app, &store, 120, 24);
    assert_eq!(
        column_values(&between, "LABELS", 1),
        [5.0, 4.0, 3.0, 2.0, 1.0]
    );
    app.tick(T0 + 2100, &store);
    let resorted = draw(&mut app, &store, 120, 24);
    assert_eq!(
        column_values(&resorted, "LABELS", 1),
        [50.0, 40.0, 30.0, 20.0, 10.0]
    );
}
