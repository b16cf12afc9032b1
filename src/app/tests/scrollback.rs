//! Scrolled back holds still: the rows on screen and the highlighted entry stay
//! as they are while entries keep arriving and leave the kept window.

use super::*;
use crate::app::logs::{RecentSamples, Requests, SeriesSamples};

/// A batch of one sample for each of `pods`, valued by pod and `step`.
fn pods_batch(at: i64, pods: std::ops::Range<u32>, step: u32) -> Batch {
    let names: Vec<String> = pods.clone().map(|p| format!("pod-{p}")).collect();
    let labels: Vec<[(&str, &str); 2]> = names
        .iter()
        .map(|n| [("__name__", "work_done"), ("pod", n.as_str())])
        .collect();
    let rows: Vec<(&[(&str, &str)], f64)> = labels
        .iter()
        .zip(pods)
        .map(|(l, p)| (&l[..], f64::from(p * 1000 + step)))
        .collect();
    batch(at, &rows)
}

/// The table rows on screen: the lines below the column header `first_column`,
/// up to the footer.
fn table_body(lines: &[String], first_column: &str) -> Vec<String> {
    let header = lines
        .iter()
        .position(|l| l.trim_start().starts_with(first_column))
        .expect("a table on screen");
    lines[header + 1..lines.len() - 1].to_vec()
}

fn title_line<'a>(lines: &'a [String], title: &str) -> &'a str {
    lines.iter().find(|l| l.contains(title)).expect("a title")
}

fn app_and_store(limits: StoreLimits) -> (App, Store) {
    (
        App::new("127.0.0.1:9201".parse().unwrap(), T0),
        Store::new(limits),
    )
}

#[test]
fn a_scrolled_back_log_holds_still_while_entries_arrive_and_leave_the_kept_window() {
    let (mut app, mut store) = app_and_store(StoreLimits {
        log_len: 30,
        ..StoreLimits::default()
    });
    for step in 0..3 {
        store.ingest(&pods_batch(T0 + i64::from(step) * 1000, 0..10, step));
    }
    app.apply(Action::GoTab(Tab::Log), &mut store);
    app.tick(T0 + 3000, &store);
    let following = draw(&mut app, &store, 120, 24);
    app.apply(Action::Up(5), &mut store);
    let held = draw(&mut app, &store, 120, 24);
    // The screen stays full: rows newer than the highlight stay below it.
    assert_eq!(
        table_body(&held, "ARRIVED"),
        table_body(&following, "ARRIVED")
    );
    let highlighted = log_highlight(&app, &store).unwrap();
    let screen = app.log.screen(&RecentSamples(&store), app.log.viewport());
    let entry = screen.highlighted().unwrap().row.entry;
    let newest_held = screen.rows.last().unwrap().pos;

    // Twice the kept window arrives: every entry on screen leaves it.
    for step in 3..9 {
        store.ingest(&pods_batch(
            T0 + i64::from(step) * 1000,
            10 * step..10 * step + 10,
            step,
        ));
        app.tick(T0 + i64::from(step) * 1000 + 500, &store);
        let now = draw(&mut app, &store, 120, 24);
        assert_eq!(
            table_body(&now, "ARRIVED"),
            table_body(&held, "ARRIVED"),
            "the rows on screen moved after step {step}"
        );
        assert_eq!(log_highlight(&app, &store), Some(highlighted));
    }
    assert!(
        store.log_start() > newest_held,
        "the test needs the window to move past the screen"
    );
    let now = draw(&mut app, &store, 120, 24);
    let title = title_line(&now, "Recent samples (");
    assert!(title.contains("60 newer samples"), "{title}");

    // Enter opens the series of the highlighted entry.
    app.apply(Action::Enter, &mut store);
    assert_eq!(app.current_detail(), Some(entry.series));
}

#[test]
fn moving_further_back_than_the_kept_window_says_where_it_now_starts() {
    let (mut app, mut store) = app_and_store(StoreLimits {
        log_len: 30,
        ..StoreLimits::default()
    });
    for step in 0..3 {
        store.ingest(&pods_batch(T0 + i64::from(step) * 1000, 0..10, step));
    }
    app.apply(Action::GoTab(Tab::Log), &mut store);
    draw(&mut app, &store, 120, 24);
    app.apply(Action::Up(1), &mut store);
    let held = draw(&mut app, &store, 120, 24);
    store.ingest(&pods_batch(T0 + 10_000, 0..30, 9));
    app.apply(Action::PageUp, &mut store);
    let now = draw(&mut app, &store, 120, 24);
    assert_eq!(table_body(&now, "ARRIVED"), table_body(&held, "ARRIVED"));
    let title = title_line(&now, "Recent samples (");
    let starts = crate::format::time_of_day(T0 + 10_000);
    assert!(
        title.contains(&format!("kept samples now start at {starts}")),
        "{title}"
    );
}

#[test]
fn a_filter_applied_while_scrolled_back_keeps_the_highlighted_entry() {
    let (mut app, mut store) = app_and_store(StoreLimits::default());
    for step in 0..4 {
        store.ingest(&pods_batch(T0 + i64::from(step) * 1000, 0..10, step));
    }
    app.apply(Action::GoTab(Tab::Log), &mut store);
    draw(&mut app, &store, 120, 24);
    // The newest entry is pod-9's; five up is pod-4's.
    app.apply(Action::Up(5), &mut store);
    let highlighted = log_highlight(&app, &store).unwrap();
    app.apply(Action::FilterEdit, &mut store);
    app.apply(Action::FilterSet(r#"pod="pod-[3-5]""#.into()), &mut store);
    app.apply(Action::FilterAccept, &mut store);
    app.tick(T0 + 5000, &store);
    let now = draw(&mut app, &store, 120, 24);
    let body = table_body(&now, "ARRIVED");
    let shown: Vec<&String> = body.iter().filter(|l| l.contains("work_done")).collect();
    assert!(shown.len() >= 3, "{now:#?}");
    assert!(
        shown
            .iter()
            .all(|l| ["pod-3", "pod-4", "pod-5"].iter().any(|p| l.contains(p))),
        "{now:#?}"
    );
    assert!(!app.log.is_following());
    assert_eq!(log_highlight(&app, &store), Some(highlighted));
}

#[test]
fn a_held_samples_table_holds_still_while_the_series_receives_more() {
    let (mut app, mut store) = app_and_store(StoreLimits {
        samples_per_series: 16,
        ..StoreLimits::default()
    });
    for step in 0..16 {
        store.ingest(&pods_batch(T0 + i64::from(step) * 1000, 0..1, step));
    }
    app.tick(T0 + 16_000, &store);
    app.apply(Action::Enter, &mut store);
    app.apply(Action::Enter, &mut store);
    let id = app.current_detail().unwrap();
    let following = draw(&mut app, &store, 120, 40);
    // Newest first: Down goes back in time.
    app.apply(Action::Down(2), &mut store);
    let held = draw(&mut app, &store, 120, 40);
    let body = |lines: &[String]| -> Vec<String> {
        table_body(lines, "TIMESTAMP")
            .iter()
            .map(|l| l.chars().take(60).collect())
            .collect()
    };
    assert_eq!(body(&held), body(&following));
    let highlighted = |app: &App, store: &Store| {
        let s = store.series(id).unwrap();
        let screen = app
            .samples
            .screen(&SeriesSamples(s), app.samples.viewport());
        screen.highlighted().unwrap().clone()
    };
    let before = highlighted(&app, &store);
    // All retained samples are replaced.
    for step in 16..40 {
        store.ingest(&pods_batch(T0 + i64::from(step) * 1000, 0..1, step));
        app.tick(T0 + i64::from(step) * 1000, &store);
        let now = draw(&mut app, &store, 120, 40);
        assert_eq!(body(&now), body(&held), "the table moved after step {step}");
        assert_eq!(highlighted(&app, &store), before);
    }
    let now = draw(&mut app, &store, 120, 40);
    assert!(title_line(&now, "Samples, newest first").contains("24 newer samples"));
    // g follows again: the newest sample on top.
    app.apply(Action::Top, &mut store);
    assert!(app.samples.is_following());
}

#[test]
fn a_selected_request_holds_still_while_requests_arrive() {
    let (mut app, mut store) = app_and_store(StoreLimits {
        requests_len: 20,
        ..StoreLimits::default()
    });
    for step in 0..20 {
        store.ingest(&pods_batch(T0 + i64::from(step) * 1000, 0..step + 1, step));
    }
    app.apply(Action::GoTab(Tab::Requests), &mut store);
    let following = draw(&mut app, &store, 140, 30);
    app.apply(Action::Up(3), &mut store);
    let held = draw(&mut app, &store, 140, 30);
    let body = |lines: &[String]| -> Vec<String> {
        let b = table_body(lines, "TIME");
        b[..b.len() - 5].to_vec()
    };
    assert_eq!(body(&held), body(&following));
    let pos = |app: &App, store: &Store| {
        let screen = app
            .requests
            .screen(&Requests(store), app.requests.viewport());
        screen.highlighted().unwrap().pos
    };
    let selected = pos(&app, &store);
    for step in 20..50 {
        store.ingest(&pods_batch(T0 + i64::from(step) * 1000, 0..1, step));
        let now = draw(&mut app, &store, 140, 30);
        assert_eq!(
            body(&now),
            body(&held),
            "the list moved after request {step}"
        );
        assert_eq!(pos(&app, &store), selected);
    }
    assert!(store.requests_start() > selected);
    let now = draw(&mut app, &store, 140, 30);
    let title = title_line(&now, "Requests (");
    assert!(title.contains("30 newer requests"), "{title}");
}

#[test]
fn page_down_moves_by_the_rows_the_list_has_on_screen() {
    let (mut app, mut store) = app_and_store(StoreLimits::default());
    store.ingest(&pods_batch(T0, 0..100, 0));
    app.tick(T0 + 1000, &store);
    app.apply(Action::Enter, &mut store);
    // Labels sort naturally: pod-0, pod-1, ..., pod-9, pod-10.
    let first = draw(&mut app, &store, 120, 24);
    let body = table_body(&first, "LABELS");
    assert!(body[0].contains(r#"pod="pod-0""#), "{first:#?}");
    assert!(body[10].contains(r#"pod="pod-10""#), "{first:#?}");
    let last_visible = body
        .iter()
        .rev()
        .find(|l| l.contains("pod="))
        .unwrap()
        .clone();
    app.apply(Action::PageDown, &mut store);
    let paged = draw(&mut app, &store, 120, 24);
    // The last row seen before stays on screen: no row was skipped.
    assert!(
        table_body(&paged, "LABELS").contains(&last_visible),
        "{last_visible} went off screen: {paged:#?}"
    );
    assert_eq!(
        app.series.list.cursor.selected,
        app.series.list.viewport() - 1
    );
}

#[test]
fn one_newer_entry_is_said_in_the_singular() {
    let (mut app, mut store) = app_and_store(StoreLimits::default());
    store.ingest(&pods_batch(T0, 0..10, 0));
    app.apply(Action::GoTab(Tab::Log), &mut store);
    draw(&mut app, &store, 120, 24);
    app.apply(Action::Up(1), &mut store);
    store.ingest(&pods_batch(T0 + 1000, 0..1, 1));
    app.tick(T0 + 1500, &store);
    let now = draw(&mut app, &store, 120, 24);
    let title = title_line(&now, "Recent samples (");
    assert!(title.contains("· 1 newer sample ─"), "{title}");
    store.ingest(&pods_batch(T0 + 2000, 0..1, 2));
    app.tick(T0 + 2500, &store);
    let now = draw(&mut app, &store, 120, 24);
    assert!(title_line(&now, "Recent samples (").contains("2 newer samples"));
}

#[test]
fn a_bigger_metric_sorting_in_above_the_selection_is_shown_not_scrolled_off() {
    let mut store = Store::new(StoreLimits::default());
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0);
    store.ingest(&batch(
        T0,
        &[
            (&[("__name__", "small"), ("job", "a")], 1.0),
            (&[("__name__", "small"), ("job", "b")], 1.0),
        ],
    ));
    app.tick(T0 + 100, &store);
    assert_eq!(names(&app, &store), ["small"]);
    let _ = draw(&mut app, &store, 80, 24);
    // The demo's first seconds: the biggest metric arrives after the first draw.
    let big: Vec<String> = (0..5).map(|i| format!("i{i}")).collect();
    let labels: Vec<[(&str, &str); 2]> = big
        .iter()
        .map(|i| [("__name__", "big"), ("instance", i.as_str())])
        .collect();
    let rows: Vec<(&[(&str, &str)], f64)> = labels.iter().map(|l| (&l[..], 1.0)).collect();
    store.ingest(&batch(T0 + 1000, &rows));
    app.tick(T0 + 1100, &store);
    let lines = draw(&mut app, &store, 80, 24);
    // Names shorter than the heading do not cut it to `METRI`.
    assert!(lines.iter().any(|l| l.starts_with("METRIC ")), "{lines:#?}");
    let body = table_body(&lines, "METRIC");
    assert!(body[0].starts_with("big "), "{body:#?}");
    assert!(body[1].starts_with("small "), "{body:#?}");
    // Not moved by the user, the selection stays on the first row.
    assert_eq!(app.metrics.cursor.selected, 0);
    // Chosen, it stays on its entry while others sort in above.
    app.apply(Action::Down(1), &mut store);
    let more: Vec<String> = (0..9).map(|i| format!("j{i}")).collect();
    let labels: Vec<[(&str, &str); 2]> = more
        .iter()
        .map(|i| [("__name__", "bigger"), ("instance", i.as_str())])
        .collect();
    let rows: Vec<(&[(&str, &str)], f64)> = labels.iter().map(|l| (&l[..], 1.0)).collect();
    store.ingest(&batch(T0 + 2000, &rows));
    app.tick(T0 + 2100, &store);
    assert_eq!(names(&app, &store), ["bigger", "big", "small"]);
    assert_eq!(app.metrics.cursor.selected, 2);
}

#[test]
fn an_untouched_list_filling_up_opens_at_its_top() {
    let mut store = Store::new(StoreLimits::default());
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0);
    // A first request with one metric, then the sender's whole set: the
    // first metric sorts in far below the screen.
    store.ingest(&batch(T0, &[(&[("__name__", "zz_one")], 1.0)]));
    app.tick(T0 + 100, &store);
    let _ = draw(&mut app, &store, 80, 24);
    let labels: Vec<Vec<(String, String)>> = (0..60)
        .flat_map(|m| {
            (0..2).map(move |i| {
                vec![
                    ("__name__".to_owned(), format!("metric_{m:02}")),
                    ("instance".to_owned(), format!("i{i}")),
                ]
            })
        })
        .collect();
    let labels: Vec<Vec<(&str, &str)>> = labels
        .iter()
        .map(|l| l.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect())
        .collect();
    let rows: Vec<(&[(&str, &str)], f64)> = labels.iter().map(|l| (&l[..], 1.0)).collect();
    store.ingest(&batch(T0 + 1000, &rows));
    app.tick(T0 + 1100, &store);
    let lines = draw(&mut app, &store, 80, 24);
    let body = table_body(&lines, "METRIC");
    assert!(body[0].starts_with("metric_00 "), "{body:#?}");
    assert_eq!(app.metrics.cursor.selected, 0);
}
