//! The dashboard under hostile data and at every terminal size: no view may
//! hang or panic, whatever the values, strings or size, let a sender's escape
//! sequence reach the terminal, or show a number cut.

mod dashboard;

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use promscope::app::{Action, App, OpenList, Tab};
use promscope::store::Store;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use dashboard::hostile::{HOSTILE_HISTOGRAMS, HOSTILE_VALUES, hostile};
use dashboard::request::with_request;
use dashboard::{apply, every_view, open_detail, screen};

/// A piece of rendering work, named for failure messages.
type Job = (String, Box<dyn FnOnce() + Send>);

/// Runs each job on its own thread and fails if one panics or they have not
/// all finished within two minutes (a render that loops must fail the test,
/// not hang the suite).
fn all_finish(jobs: Vec<Job>) {
    let (done, finished) = mpsc::channel();
    let mut waiting = Vec::new();
    for (name, job) in jobs {
        let done = done.clone();
        let id = waiting.len();
        waiting.push(name);
        thread::spawn(move || {
            let ok = panic::catch_unwind(AssertUnwindSafe(job)).is_ok();
            let _ = done.send((id, ok));
        });
    }
    drop(done);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut left = waiting.len();
    while left > 0 {
        match finished.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok((id, true)) => {
                waiting[id].clear();
                left -= 1;
            }
            Ok((id, false)) => panic!("{}: panicked", waiting[id]),
            Err(_) => {
                let pending: Vec<&String> = waiting.iter().filter(|n| !n.is_empty()).collect();
                panic!("still rendering after 120 s: {pending:?}");
            }
        }
    }
}

/// Selectors of every hostile series with a chart.
fn charted_series() -> Vec<String> {
    let mut selectors: Vec<String> = HOSTILE_VALUES
        .iter()
        .map(|(case, _)| format!(r#"{{__name__="hostile_value", case="{case}"}}"#))
        .collect();
    for name in ["extreme_timestamps"].iter().chain(HOSTILE_HISTOGRAMS) {
        selectors.push(format!("{{__name__=\"{name}\"}}"));
    }
    selectors
}

#[test]
fn detail_charts_of_any_value_range_render_promptly() {
    let jobs = charted_series().into_iter().map(|selector| -> Job {
        (
            selector.clone(),
            Box::new(move || {
                let (mut app, mut store) = hostile();
                apply(&mut app, &mut store, &open_detail(&selector));
                assert!(app.current_detail().is_some(), "{selector} opened");
                for (width, height) in [(80, 24), (120, 40), (200, 50)] {
                    let screen = screen(&app, &store, width, height);
                    if selector.contains("zero_to_1e307") {
                        assert!(screen.contains("1e307"), "{screen}");
                    }
                }
            }),
        )
    });
    all_finish(jobs.collect());
}

#[test]
fn every_view_renders_at_every_size_from_1x1_to_100x40() {
    let mut views: Vec<(&str, App, Store)> = every_view()
        .into_iter()
        .map(|(name, actions)| {
            let (mut app, mut store) = hostile();
            apply(&mut app, &mut store, &actions);
            (name, app, store)
        })
        .collect();
    let (app, store) = dashboard::welcome();
    views.push(("welcome", app, store));
    // A request kept as it arrived, opened (Requests, Enter).
    let (mut app, mut store, _) = with_request(None);
    apply(
        &mut app,
        &mut store,
        &[Action::GoTab(Tab::Requests), Action::Enter],
    );
    assert_eq!(app.open_list(), OpenList::Request);
    views.push(("request", app, store));
    let jobs = views.into_iter().map(|(name, app, store)| -> Job {
        (
            name.into(),
            Box::new(move || {
                // One terminal resized through every size: resizes are covered too.
                let mut terminal = Terminal::new(TestBackend::new(1, 1)).unwrap();
                for width in 1..=100 {
                    for height in 1..=40 {
                        terminal.resize(Rect::new(0, 0, width, height)).unwrap();
                        terminal
                            .draw(|f| promscope::ui::render(f, &app, &store))
                            .unwrap_or_else(|e| panic!("{width}x{height}: {e}"));
                        let at = format!("{name} at {width}x{height}");
                        no_control_characters(terminal.backend().buffer(), &at);
                        numbers_whole(terminal.backend().buffer(), &app, &at);
                    }
                }
            }),
        )
    });
    all_finish(jobs.collect());
}

/// No cell holds a control character: the senders' escape sequences (in
/// label values, headers, the request line) are shown escaped, never sent
/// to the terminal.
fn no_control_characters(buffer: &Buffer, at: &str) {
    for cell in &buffer.content {
        assert!(
            !cell.symbol().chars().any(char::is_control),
            "{at}: a control character reached the screen: {:?}",
            cell.symbol()
        );
    }
}

/// Numbers the views show in running text are whole where they show at all:
/// the request's size on the wire, the cardinality title's active series,
/// the request number in the request view's title.
fn numbers_whole(buffer: &Buffer, app: &App, at: &str) {
    let text: String = (0..buffer.area.height)
        .map(|y| {
            let row: String = (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect();
            row + "\n"
        })
        .collect();
    let mut expected = Vec::new();
    if let Some(view) = app
        .request
        .as_ref()
        .filter(|_| app.open_list() == OpenList::Request)
    {
        let wire = view.row.compressed_bytes;
        expected.push((" B on the wire", wire.to_string()));
        expected.push((" ─", format!("Request #{}", view.pos + 1)));
    }
    if app.open_list() == OpenList::Cardinality && app.cardinality.metric.is_none() {
        expected.push((" active (", app.cardinality.overview.active.to_string()));
    }
    // At the largest size each of them shows: the check is not empty.
    let largest = buffer.area.width == 100 && buffer.area.height == 40;
    for (marker, whole) in expected {
        let lines: Vec<&str> = text.lines().filter(|l| l.contains(marker)).collect();
        assert!(!largest || !lines.is_empty(), "{at}: no {marker:?}\n{text}");
        for line in lines {
            let before = line.split(marker).next().unwrap_or_default();
            // Shown only if whole: the digits before the marker are the number.
            let digits: String = before
                .chars()
                .rev()
                .take_while(char::is_ascii_digit)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let want: String = whole.chars().filter(char::is_ascii_digit).collect();
            assert!(
                digits.is_empty() || digits == want,
                "{at}: {digits} shown for {want} in {line:?}"
            );
        }
    }
}
