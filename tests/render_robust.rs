//! The dashboard under hostile data and at every terminal size: no view may
//! hang or panic, whatever the values, strings or size.

mod dashboard;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use dashboard::{HOSTILE_HISTOGRAMS, HOSTILE_VALUES, apply, hostile, open_detail, screen};

/// Runs `f` on its own thread and fails if it does not finish within a minute
/// (a render that loops must fail the test, not hang the suite).
fn within_a_minute(what: &str, f: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    thread::spawn(move || {
        f();
        let _ = done.send(());
    });
    match finished.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => {}
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still rendering after 60 s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
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
    for selector in charted_series() {
        let what = selector.clone();
        within_a_minute(&what, move || {
            let (mut app, mut store) = hostile();
            apply(&mut app, &mut store, &open_detail(&selector));
            assert!(app.current_detail().is_some(), "{selector} opened");
            for (width, height) in [(80, 24), (120, 40), (200, 50)] {
                let screen = screen(&app, &store, width, height);
                if selector.contains("zero_to_1e307") {
                    assert!(screen.contains("1e307"), "{screen}");
                }
            }
        });
    }
}
