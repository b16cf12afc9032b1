mod cardinality;
mod filter;
mod header;
mod labels;
mod navigation;
mod problems;
mod receiving;
mod replay;
mod reused_slots;
mod scrollback;
mod sorting;
mod tenants;

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
    // The one still sending is named, though it sent less; the other is counted idle.
    app.tick(T0 + 75_000, &store);
    let line = senders_line(&mut app, &store);
    assert!(
        line.contains("vmagent @ 127.0.0.1 RW1 +1 more, 1 idle"),
        "{line}"
    );
    // Both stopped: the busiest, with how long it has been idle.
    app.tick(T0 + 200_000, &store);
    let line = senders_line(&mut app, &store);
    assert!(
        line.contains("Prometheus/2.42.0 @ 127.0.0.1 RW1 idle 3m18s +1 more, 1 idle"),
        "{line}"
    );
}
