//! The dashboard under hostile data and at every terminal size: no view may
//! hang or panic, whatever the values, strings or size.

mod dashboard;

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use promscope::app::App;
use promscope::store::Store;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use dashboard::{
    HOSTILE_HISTOGRAMS, HOSTILE_VALUES, apply, every_view, hostile, open_detail, screen,
};

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
                    }
                }
            }),
        )
    });
    all_finish(jobs.collect());
}
