use std::time::{Duration, UNIX_EPOCH};

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::*;
use crate::ingest::model::{Batch, Outcome, Repeats, RequestInfo, Sample, WriteData};
use crate::store::StoreLimits;

const T0: i64 = 1_732_000_000_000;

fn batch(arrival_ms: i64, series: &[(&[(&str, &str)], f64)]) -> Batch {
    let mut data = WriteData::default();
    for (labels, v) in series {
        let s = Sample {
            value: *v,
            timestamp_ms: arrival_ms - 500,
            start_timestamp_ms: 0,
        };
        data.push_series(labels, &[s], &[]);
    }
    Batch {
        info: RequestInfo {
            received_at: UNIX_EPOCH + Duration::from_millis(arrival_ms as u64),
            remote_addr: Some("127.0.0.1:5000".parse().unwrap()),
            path: "/api/v1/write".into(),
            user_agent: Some("Prometheus/2.42.0".into()),
            protocol: Some(crate::ingest::model::Protocol::V1),
            compressed_bytes: 10,
            decoded_bytes: 20,
            retry_attempt: None,
            tenant: None,
            raw: None,
            repeats: Repeats::Alone,
        },
        outcome: Outcome::Accepted,
        data,
    }
}

fn setup() -> (App, Store) {
    let mut store = Store::new(StoreLimits::default());
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0);
    store.ingest(&batch(
        T0,
        &[
            (&[("__name__", "up"), ("job", "a")], 1.0),
            (&[("__name__", "up"), ("job", "b")], 0.0),
            (&[("__name__", "zeta"), ("job", "a")], 3.0),
            (
                &[
                    ("__name__", "http_requests_total"),
                    ("code", "200"),
                    ("job", "a"),
                ],
                7.0,
            ),
            (
                &[
                    ("__name__", "http_requests_total"),
                    ("code", "500"),
                    ("job", "a"),
                ],
                9.0,
            ),
            (
                &[
                    ("__name__", "http_requests_total"),
                    ("code", "404"),
                    ("job", "a"),
                ],
                8.0,
            ),
        ],
    ));
    app.tick(T0 + 1000, &store);
    (app, store)
}

fn names(app: &App, store: &Store) -> Vec<String> {
    app.metrics
        .rows()
        .iter()
        .map(|row| store.str(store.metric(row.id).unwrap().name).to_owned())
        .collect()
}

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

#[test]
fn scrolling_stays_in_bounds_and_drilling_works() {
    let (mut app, mut store) = setup();
    app.apply(Action::Up(5), &mut store);
    assert_eq!(app.metrics.cursor.selected, 0);
    app.apply(Action::Down(100), &mut store);
    assert_eq!(app.metrics.cursor.selected, 2);
    app.apply(Action::Top, &mut store);
    app.apply(Action::PageDown, &mut store);
    assert_eq!(app.metrics.cursor.selected, 2);
    app.apply(Action::Enter, &mut store); // zeta
    assert_eq!(app.series.list.rows().len(), 1);
    app.apply(Action::Enter, &mut store);
    assert!(app.current_detail().is_some());
    app.apply(Action::Back, &mut store);
    app.apply(Action::Back, &mut store);
    assert!(app.drill().is_empty());
    app.apply(Action::Back, &mut store);
    assert!(app.drill().is_empty());
}

fn screen(app: &App, store: &Store) -> String {
    let mut terminal = Terminal::new(TestBackend::new(140, 30)).unwrap();
    terminal.draw(|f| crate::ui::render(f, app, store)).unwrap();
    format!("{:?}", terminal.backend().buffer())
}

/// Draws a frame of `width`×`height` as the terminal loop does (the app records
/// the rows the open list had room for); returns the screen's lines.
fn draw(app: &mut App, store: &Store, width: u16, height: u16) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    let mut drawn = None;
    terminal
        .draw(|f| drawn = Some(crate::ui::render_frame(f, app, store)))
        .unwrap();
    app.set_viewport(drawn.unwrap().list_rows, store);
    terminal
        .backend()
        .to_string()
        .lines()
        .map(|l| l.trim_matches('"').trim_end().to_owned())
        .collect()
}

#[test]
fn pause_freezes_the_screen_while_data_keeps_arriving_and_resume_applies_it() {
    let (mut app, mut store) = setup();
    // Forward mode: the backend's counts, and requests dropped, move with
    // each request received (they did while paused: `forwarded ok 11`
    // under `requests 10`).
    let forward = |ok: u64| {
        Some(crate::ingest::forward::ForwardSnapshot {
            backend: "http://127.0.0.1:9090/api/v1/write".into(),
            ok,
            ..Default::default()
        })
    };
    app.set_receiver_counts(0, forward(1));
    app.apply(Action::TogglePause, &mut store);
    let before = screen(&app, &store);
    for i in 1..=5 {
        app.receive(
            batch(T0 + i * 1000, &[(&[("__name__", "new_metric")], i as f64)]),
            &mut store,
        );
        app.set_receiver_counts(i as u64, forward(1 + i as u64));
        app.tick(T0 + i * 1000 + 500, &store);
        let now = screen(&app, &store);
        // Only the PAUSED badge's "+N since" counters move (and with them
        // the styles of its line: "+1 sample" is shorter than "+2 samples").
        let strip = |s: &str| {
            s.lines()
                .filter(|l| !l.contains("PAUSED") && !l.contains(" y: 0, "))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(
            strip(&now),
            strip(&before),
            "screen changed while paused after batch {i}"
        );
    }
    assert_eq!(app.paused.as_ref().unwrap().requests, 5);
    assert_eq!(store.metric_count(), 3);
    app.apply(Action::TogglePause, &mut store);
    assert!(app.paused.is_none());
    app.catch_up(&mut store, Duration::MAX);
    assert_eq!(store.metric_count(), 4);
    app.set_receiver_counts(5, forward(6));
    assert_eq!(
        (app.dropped_requests, app.forward.map(|f| f.ok)),
        (5, Some(6))
    );
}

/// Position of the highlighted Recent samples entry.
fn log_highlight(app: &App, store: &Store) -> Option<u64> {
    let screen = app.log.screen(&RecentSamples(store), app.log.viewport());
    Some(screen.highlighted()?.pos)
}

#[test]
fn log_follows_until_scrolled_up_and_g_follows_again() {
    let (mut app, mut store) = setup();
    app.apply(Action::GoTab(Tab::Log), &mut store);
    let last = store.log_start() + store.log().len() as u64 - 1;
    assert!(app.log.is_following());
    assert_eq!(log_highlight(&app, &store), None);
    app.apply(Action::Up(2), &mut store);
    assert!(!app.log.is_following());
    assert_eq!(log_highlight(&app, &store), Some(last - 2));
    store.ingest(&batch(
        T0 + 2000,
        &[(&[("__name__", "up"), ("job", "a")], 1.0)],
    ));
    assert_eq!(
        log_highlight(&app, &store),
        Some(last - 2),
        "scrolled position stays put as data arrives"
    );
    app.apply(Action::Bottom, &mut store);
    assert!(app.log.is_following());
    // Enter on a log row opens its series.
    app.apply(Action::Enter, &mut store);
    assert_eq!(app.tab, Tab::Log);
    assert!(app.current_detail().is_some());
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

#[test]
fn moves_scroll_the_help_while_it_is_open_not_the_list_under_it() {
    let (mut app, mut store) = setup();
    app.apply(Action::ToggleHelp, &mut store);
    app.apply(Action::Down(2), &mut store);
    assert_eq!(app.help_scroll, 2);
    assert_eq!(app.metrics.cursor.selected, 0);
    app.limit_help_scroll(1);
    assert_eq!(app.help_scroll, 1);
    app.apply(Action::ToggleHelp, &mut store);
    assert!(!app.help);
    assert_eq!(app.help_scroll, 0);
    app.apply(Action::Down(1), &mut store);
    assert_eq!(app.metrics.cursor.selected, 1);
}

mod cardinality;
mod filter;
mod header;
mod labels;
mod navigation;
mod problems;
mod receiving;
mod replay;
mod scrollback;
mod tenants;

#[test]
fn a_sender_that_stopped_sending_shows_its_idle_time() {
    let (mut app, mut store) = setup();
    let senders_line = |app: &mut App, store: &Store| -> String {
        let lines = draw(app, store, 140, 24);
        lines
            .into_iter()
            .find(|l| l.contains(" senders "))
            .expect("the senders line")
    };
    assert!(!senders_line(&mut app, &store).contains("idle"));
    // Another sender keeps sending; the first one stopped at T0.
    let mut other = batch(T0 + 74_000, &[(&[("__name__", "up"), ("job", "c")], 1.0)]);
    other.info.user_agent = Some("vmagent".into());
    store.ingest(&other);
    store.ingest(&batch(T0 + 2_000, &[(&[("__name__", "up")], 1.0)]));
    app.tick(T0 + 75_000, &store);
    let line = senders_line(&mut app, &store);
    assert!(
        line.contains("Prometheus/2.42.0 @ 127.0.0.1 RW1 idle 1m13s +1 more"),
        "{line}"
    );
    app.tick(T0 + 90_000, &store);
    let line = senders_line(&mut app, &store);
    assert!(line.contains("+1 more, 1 idle"), "{line}");
}
