//! `promscope replay` in a terminal: a capture fills the dashboard, the header
//! says how far in, and the series stay within `--max-series`.

use super::*;

/// A capture of three requests a second apart, recorded a day ago, written
/// by promscope's own recorder.
fn day_old_capture(file: &std::path::Path) {
    day_old_capture_of(file, |_| "a".into());
}

/// A capture of three requests a day old, each of `replayed_up{job=job(i)}`.
fn day_old_capture_of(file: &std::path::Path, job: impl Fn(i64) -> String) {
    use promscope::capture::{Answer, Exchange, Header, RecordLimits, Recorder};
    let t0 = now_ms() - 86_400_000;
    let recorder = Recorder::start(file, RecordLimits::default()).unwrap();
    for i in 0..3 {
        let at = t0 + i * 1000;
        let job = job(i);
        let body = rw1_series_body(&[&[("__name__", "replayed_up"), ("job", &job)]], at);
        recorder.handle().place().record(Exchange {
            received_at: std::time::UNIX_EPOCH + Duration::from_millis(at as u64),
            peer: Some("127.0.0.1:40000".parse().unwrap()),
            url: "http://127.0.0.1:9201/api/v1/write".into(),
            method: "POST".into(),
            target: "/api/v1/write".into(),
            headers: RW1_HEADERS
                .iter()
                .map(|(n, v)| Header::new(*n, v.to_string()))
                .collect(),
            body: body.into(),
            body_complete: true,
            answer: Some(Answer {
                status: 204,
                headers: vec![],
                body: Default::default(),
                reject_reason: None,
                relay: None,
            }),
        });
    }
    recorder.finish();
}

#[test]
fn a_replayed_capture_fills_the_dashboard_and_the_header_says_how_far_in() {
    let capture = TempFile::new("pty-replay.warc");
    let file = &capture.0;
    day_old_capture(file);
    let mut tui = Tui::spawn(SMALL, &["replay", file.to_str().unwrap(), "--speed", "4"]);
    // The header is the replay's: file, recorded time and requests of the totals.
    // (The totals come from a counter at a low priority: on a busy machine, after the end.)
    let screen = tui.wait_for("the end of the capture, counted", |s| {
        s.contains("end of capture") && s.contains("requests 3 of 3")
    });
    let header = screen.lines().next().unwrap_or_default();
    assert!(header.contains(" REPLAY "), "{screen}");
    assert!(header.contains("at 2s of 2s"), "{screen}");
    assert!(header.contains("requests 3 of 3"), "{screen}");
    assert!(!screen.contains("receiving on"), "{screen}");
    assert!(lists(&screen, "replayed_up"), "{screen}");
    // A day after the recording, the sender is not idle: the clock is the capture's.
    assert!(!screen.contains("idle"), "{screen}");
    tui.press(" ");
    tui.wait_for("the pause", |s| s.contains("PAUSED"));
    // Inside a request: its headers and its decoded series.
    tui.press("3");
    tui.wait_for("the Requests view", |s| s.contains("Requests (3 kept)"));
    tui.press("\r");
    let screen = tui.wait_for("the open request", |s| s.contains("Headers ("));
    assert!(screen.contains("POST /api/v1/write"), "{screen}");
    assert!(screen.contains("RW1"), "{screen}");
    tui.press("q");
    // As live mode, a summary after quitting: of the requests replayed.
    let raw = tui.assert_clean_exit();
    assert!(raw.contains("requests    3 accepted"), "{raw}");
}

#[test]
fn a_replay_keeps_the_series_within_max_series() {
    let capture = TempFile::new("pty-replay-max.warc");
    let file = &capture.0;
    day_old_capture_of(file, |i| format!("job-{i}"));
    let args = ["replay", file.to_str().unwrap(), "--max-series", "1"];
    let mut tui = Tui::spawn(SMALL, &args);
    let screen = tui.wait_for("the evictions", |s| s.contains("end of capture"));
    assert!(
        screen.contains("evicted 2 series (--max-series)"),
        "{screen}"
    );
    tui.press("q");
    let raw = tui.assert_clean_exit();
    assert!(raw.contains("series      3 distinct"), "{raw}");
}
