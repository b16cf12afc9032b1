//! The real binary in a pseudo-terminal: the welcome screen, data arriving,
//! the filter, pause, drilling in and out, and a restored terminal and a summary
//! after `q`, Ctrl-C, SIGTERM, SIGINT, SIGHUP or SIGQUIT. The pty output is
//! parsed into a screen by `vt100`.

mod common;

use std::io::Read;
use std::num::NonZeroU16;
use std::time::{Duration, Instant};

use common::pty::{Pty, Size, welcome_url};
use common::temp::TempFile;
use common::*;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

/// Terminal sizes the dashboard is driven at: a roomy one and the classic
/// 80×24, where columns drop and names are shortened.
const LARGE: Size = Size {
    rows: 40,
    cols: 140,
};
const SMALL: Size = Size { rows: 24, cols: 80 };
/// Upper bound for anything to show up; generous because CI machines are slow.
const WAIT: Duration = Duration::from_secs(10);
/// A frame is written in several chunks; a screen counts as complete once no
/// output arrived for this long.
const QUIET: Duration = Duration::from_millis(150);

fn nonzero(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).expect("terminal size is not zero")
}

/// promscope running in a pty.
struct Tui {
    pty: Pty,
    /// The remote-write URL from the welcome screen.
    url: String,
}

impl Tui {
    /// Starts the binary on an ephemeral port in a terminal of `size` and
    /// waits for the welcome screen.
    fn start(size: Size) -> Self {
        let mut tui = Tui::spawn(size, &["--listen", "127.0.0.1:0"]);
        let welcome = tui.wait_for("the welcome screen", |s| {
            s.contains("Waiting for remote-write requests on http://127.0.0.1:")
        });
        tui.url = welcome_url(&welcome);
        tui
    }

    /// Starts the binary with `args` in a terminal of `size`.
    fn spawn(size: Size, args: &[&str]) -> Self {
        Tui {
            pty: Pty::spawn(env!("CARGO_BIN_EXE_promscope"), args, size, true),
            url: String::new(),
        }
    }

    /// The screen text once `ready` holds on a complete frame; panics after [`WAIT`].
    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        self.wait_screen(what, ready).contents()
    }

    /// The screen's rows once no output arrived for [`QUIET`].
    fn settled_rows(&self) -> Vec<String> {
        let screen = self.wait_screen("a complete frame", |_| true);
        let rows = screen.rows(0, self.pty.size.cols);
        rows.map(|row| row.trim_end().to_owned()).collect()
    }

    /// The screen once `ready` holds on its text with no output for [`QUIET`].
    fn wait_screen(&self, what: &str, ready: impl Fn(&str) -> bool) -> vt100::Screen {
        self.pty.wait_screen(what, WAIT, QUIET, ready)
    }

    fn press(&mut self, keys: &str) {
        self.pty.press(keys);
    }

    fn post(&self, series: &[&[(&str, &str)]]) {
        let status = post_blocking(&self.url, RW1_HEADERS, rw1_series_body(series, now_ms()));
        assert_eq!(status, 204, "remote-write status");
    }

    /// Whether the terminal is in canonical (cooked) mode, as a shell expects.
    fn canonical_mode(&self) -> bool {
        let termios = self.pty.master.get_termios().expect("termios of the pty");
        format!("{:?}", termios.local_flags)
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|flag| flag == "ICANON")
    }

    /// [`Tui::assert_restored`], and the summary printed after the dashboard.
    fn assert_clean_exit(self) -> String {
        let raw = self.assert_restored();
        let summary = raw
            .find("promscope summary after")
            .expect("summary printed");
        assert!(
            summary > raw.rfind("\x1b[?1049l").unwrap_or(usize::MAX),
            "summary printed on the alternate screen"
        );
        raw
    }

    /// Waits for the binary to exit with status 0 and its output to end, then
    /// checks the terminal is back to normal. Returns everything it wrote.
    fn assert_restored(mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        let status = loop {
            if let Some(status) = self.pty.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "promscope still running after 5 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "exit status: {status}");
        while !self.pty.output().eof {
            assert!(Instant::now() < deadline, "pty output did not end");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(self.canonical_mode(), "raw mode left on");
        let out = self.pty.output();
        let raw = String::from_utf8_lossy(out.raw.as_deref().unwrap_or_default()).into_owned();
        let screen = out.parser.screen();
        assert!(!screen.alternate_screen(), "still on the alternate screen");
        assert_eq!(
            screen.mouse_protocol_mode(),
            vt100::MouseProtocolMode::None,
            "mouse capture left on"
        );
        assert!(!screen.hide_cursor(), "cursor left hidden");
        // The exact sequences crossterm emits, each after the one that enabled it.
        for (on, off) in [
            ("\x1b[?1049h", "\x1b[?1049l"),
            ("\x1b[?1000h", "\x1b[?1000l"),
        ] {
            let enabled = raw.rfind(on).unwrap_or_else(|| panic!("{on:?} never sent"));
            let disabled = raw
                .rfind(off)
                .unwrap_or_else(|| panic!("{off:?} never sent"));
            assert!(enabled < disabled, "{on:?} sent after {off:?}");
        }
        raw
    }
}

/// Whether the metrics list has a row for `metric`.
fn lists(screen: &str, metric: &str) -> bool {
    screen
        .lines()
        .any(|line| line.split_whitespace().next() == Some(metric))
}

const UP_A: &[(&str, &str)] = &[("__name__", "up"), ("job", "a")];
const UP_B: &[(&str, &str)] = &[("__name__", "up"), ("job", "b")];
const HTTP: &[(&str, &str)] = &[("__name__", "http_requests_total"), ("code", "200")];
const CPU: &[(&str, &str)] = &[("__name__", "node_cpu_seconds_total"), ("cpu", "0")];
const NEW_A: &[(&str, &str)] = &[("__name__", "arrived_while_paused"), ("job", "a")];

#[test]
fn filter_pause_drill_and_quit() {
    filter_pause_drill_and_quit_at(LARGE);
}

#[test]
fn filter_pause_drill_and_quit_at_80x24() {
    filter_pause_drill_and_quit_at(SMALL);
}

fn filter_pause_drill_and_quit_at(size: Size) {
    let mut tui = Tui::start(size);
    assert!(!tui.canonical_mode(), "the dashboard runs in raw mode");

    tui.post(&[UP_A, UP_B, HTTP, CPU]);
    tui.wait_for("the posted metrics", |s| {
        ["up", "http_requests_total", "node_cpu_seconds_total"]
            .iter()
            .all(|m| lists(s, m))
            && s.contains("series 4 active")
            && s.contains("metrics 3")
    });

    // The list follows the filter while it is typed.
    tui.press("/");
    tui.wait_for("the filter line", |s| s.contains("filter: █"));
    tui.press(r#"{job="a"}"#);
    let only_a = |s: &str| {
        lists(s, "up")
            && !lists(s, "http_requests_total")
            && !lists(s, "node_cpu_seconds_total")
            && s.contains("series 1/4 active")
            && s.contains("metrics 1/3")
    };
    tui.wait_for("the list filtered while typing", |s| {
        only_a(s) && s.contains(r#"filter: {job="a"}█"#)
    });
    tui.press("\r");
    tui.wait_for("the filter kept", |s| {
        only_a(s) && s.contains(r#"filter: {job="a"}"#) && !s.contains(r#"{job="a"}█"#)
    });

    // Paused: data is counted in the badge but the screen stays as it was.
    tui.press(" ");
    tui.wait_for("the PAUSED badge", |s| s.contains(" PAUSED "));
    let frozen = tui.settled_rows();
    tui.post(&[NEW_A]);
    tui.post(&[NEW_A]);
    // The frame showing the second request comes after the first one's frame
    // was complete.
    tui.wait_for("the pause counters", |s| {
        s.contains("+2 samples, +2 requests since")
    });
    let now = tui.settled_rows();
    let badge = |row: &str| row.split(" PAUSED ").next().unwrap_or_default().to_owned();
    assert_eq!(
        badge(&now[0]),
        badge(&frozen[0]),
        "header moved while paused"
    );
    assert_eq!(now[1..], frozen[1..], "screen changed while paused");
    assert!(!lists(&now.join("\n"), "arrived_while_paused"));

    // Resumed: what arrived meanwhile is applied.
    tui.press(" ");
    tui.wait_for("the new metric after resuming", |s| {
        !s.contains("PAUSED")
            && lists(s, "arrived_while_paused")
            && lists(s, "up")
            && s.contains("series 2/5 active")
            && s.contains("metrics 2/4")
    });

    // Into `up` (second: one matching series each, then by name): only its
    // series matching the filter.
    tui.press("j");
    tui.press("\r");
    let series = tui.wait_for("the series view of up", |s| {
        s.contains(" up · 1 of 2 series match the filter sorted by labels")
    });
    assert!(series.contains(r#"job="a""#), "{series}");
    assert!(!series.contains(r#"job="b""#), "{series}");
    // Esc alone, so it is not read as Alt plus the next key.
    tui.press("\x1b");
    tui.wait_for("the metrics list again", |s| {
        s.contains(" Metrics (2) sorted by series") && !s.contains("series sorted by")
    });

    tui.press("q");
    let raw = tui.assert_clean_exit();
    assert!(raw.contains("requests    3 accepted, 0 rejected"), "{raw}");
}

/// The row below the header row that starts with `first_column` (a table's
/// first row), trimmed.
fn first_row(screen: &str, first_column: &str) -> String {
    let mut lines = screen.lines();
    lines
        .find(|l| l.trim_start().starts_with(first_column))
        .and_then(|_| lines.next())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// A sender that grows `request_id` without bound among stable labels, beside
/// a metric with more series at first that stays put: the cardinality view
/// names the growing metric first, and its `request_id` first, flagged; Enter
/// on one of its values filters to that one series.
#[test]
fn the_cardinality_view_names_the_metric_and_label_that_grow_without_bound() {
    let mut tui = Tui::start(LARGE);
    let cpus: Vec<String> = (0..60).map(|c| c.to_string()).collect();
    let steady: Vec<Vec<(&str, &str)>> = cpus
        .iter()
        .map(|c| {
            vec![
                ("__name__", "node_cpu_seconds_total"),
                ("cpu", c.as_str()),
                ("job", "node"),
            ]
        })
        .collect();
    for round in 0..8 {
        let ids: Vec<String> = (0..20).map(|i| format!("{:08x}", round * 20 + i)).collect();
        let mut series: Vec<Vec<(&str, &str)>> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                vec![
                    ("__name__", "http_requests_total"),
                    ("job", "api"),
                    ("method", ["GET", "POST"][i % 2]),
                    ("request_id", id.as_str()),
                ]
            })
            .collect();
        series.extend(steady.iter().cloned());
        let refs: Vec<&[(&str, &str)]> = series.iter().map(|s| &s[..]).collect();
        tui.post(&refs);
    }
    tui.wait_for("the posted metrics", |s| s.contains("series 220 active"));
    tui.press("5");
    let screen = tui.wait_for("the cardinality view", |s| {
        s.contains(" Cardinality · 220 active")
    });
    let first = first_row(&screen, "METRIC");
    assert!(
        first.starts_with("http_requests_total"),
        "{first}\n{screen}"
    );
    assert!(first.contains(" 160 "), "{first}");
    // Beside it, the label names across metrics: request_id first.
    let across = first.split_whitespace().nth(6).unwrap_or_default();
    assert_eq!(across, "request_id", "{first}");
    tui.press("\r");
    let screen = tui.wait_for("the labels of http_requests_total", |s| {
        s.contains("Labels of http_requests_total")
    });
    let first = first_row(&screen, "LABEL");
    assert!(first.starts_with("request_id"), "{first}\n{screen}");
    assert!(first.contains("UNBOUNDED"), "{first}");
    // Its values: the second row is one value; Enter filters to its series.
    tui.press("\r");
    tui.wait_for("the values of request_id", |s| {
        s.contains("Values of request_id")
    });
    tui.press("j");
    tui.press("\r");
    let screen = tui.wait_for("the one series of that value", |s| {
        s.contains("filter: http_requests_total{request_id=") && s.contains("series 1/220 active")
    });
    assert!(screen.contains("http_requests_total"), "{screen}");
    tui.press("q");
    tui.assert_clean_exit();
}

type Labels<'a> = &'a [(&'a str, &'a str)];

/// Two tenants (`X-Scope-OrgID`) from two senders, one label set sent by
/// both: `t` in the cardinality view lists the tenants and the senders, and
/// Enter on a tenant filters the dashboard to exactly that tenant's series.
#[test]
fn enter_on_a_tenant_filters_the_dashboard_to_its_series() {
    let mut tui = Tui::start(LARGE);
    const A_ONLY: &[(&str, &str)] = &[("__name__", "only_team_a"), ("x", "1")];
    const B_ONLY: &[(&str, &str)] = &[("__name__", "only_team_b"), ("x", "1")];
    let sends: [(&str, &str, &[Labels]); 2] = [
        ("team-a", "sender-a/1.0", &[UP_A, UP_B, A_ONLY]),
        ("team-b", "sender-b/2.0", &[UP_A, B_ONLY]),
    ];
    for (tenant, agent, series) in sends {
        let mut headers: Vec<(&str, &str)> = RW1_HEADERS
            .iter()
            .filter(|(name, _)| *name != "user-agent")
            .copied()
            .collect();
        headers.extend([("user-agent", agent), ("X-Scope-OrgID", tenant)]);
        let status = post_blocking(&tui.url, &headers, rw1_series_body(series, now_ms()));
        assert_eq!(status, 204, "remote-write status");
    }
    // up{job="a"} of each tenant is a series of its own.
    tui.wait_for("the posted series", |s| {
        s.contains("series 5 active") && s.contains("metrics 3")
    });
    tui.press("5");
    tui.wait_for("the cardinality view", |s| {
        s.contains(" Cardinality · 5 active")
    });
    tui.press("t");
    let screen = tui.wait_for("the tenants and senders", |s| {
        s.contains("Tenants and senders")
    });
    // WHO, then ACTIVE, SAMPLES/S and NEW/S.
    let rows: Vec<(String, &str)> = screen
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| w.len() > 4 && ["tenant", "sender"].contains(&w[0]))
        .map(|w| (w[..w.len() - 3].join(" "), w[w.len() - 3]))
        .collect();
    let expected = [
        ("tenant team-a", "3"),
        ("tenant team-b", "2"),
        ("sender sender-a/1.0 @ 127.0.0.1", "3"),
        ("sender sender-b/2.0 @ 127.0.0.1", "2"),
    ];
    let expected: Vec<(String, &str)> = expected.map(|(w, n)| (w.to_owned(), n)).to_vec();
    assert_eq!(rows, expected, "{screen}");
    // team-b, the second row.
    tui.press("j");
    tui.press("\r");
    let screen = tui.wait_for("the dashboard filtered to team-b", |s| {
        s.contains(r#"filter: {__tenant__="team-b"}"#)
            && s.contains("series 2/5 active")
            && s.contains("metrics 2/3")
    });
    assert!(lists(&screen, "up"), "{screen}");
    assert!(lists(&screen, "only_team_b"), "{screen}");
    assert!(!lists(&screen, "only_team_a"), "{screen}");
    tui.press("q");
    tui.assert_clean_exit();
}

/// Output to a terminal, but no keyboard: stdin elsewhere and no controlling
/// terminal (a script started detached, a service), where reading keys fails
/// with ENXIO.
#[test]
fn a_terminal_without_a_keyboard_says_what_to_do() {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 200,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new("/bin/sh");
    cmd.args([
        "-c",
        r#"exec "$0" --listen 127.0.0.1:0 </dev/null"#,
        env!("CARGO_BIN_EXE_promscope"),
    ]);
    cmd.set_controlling_tty(false);
    cmd.env("TERM", "xterm-256color");
    cmd.env("RUST_BACKTRACE", "1");
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let mut raw = Vec::new();
    // Linux reports EIO once the slave is closed: the binary has exited.
    let _ = reader.read_to_end(&mut raw);
    let status = child.wait().unwrap();
    let mut screen = vt100::Parser::new(nonzero(24), nonzero(200), 0);
    screen.process(&raw);
    let text = screen.screen().contents();
    assert_eq!(status.exit_code(), 1, "{text}");
    assert!(
        text.contains("Error: the dashboard needs a terminal and could not set it up")
            && text.contains("run with --no-tui"),
        "{text}"
    );
    assert!(!text.contains("backtrace"), "{text}");
}

#[test]
fn ctrl_c_quits_cleanly() {
    let mut tui = Tui::start(LARGE);
    // In raw mode Ctrl-C arrives as a key, not as SIGINT.
    tui.press("\x03");
    tui.assert_clean_exit();
}

/// Sends `signal` to the binary while it shows data, and checks that it ends as
/// after `q`: terminal restored, summary with what it received.
fn quits_cleanly_on(signal: &str) {
    let tui = Tui::start(LARGE);
    tui.post(&[UP_A]);
    tui.wait_for("the posted metric", |s| lists(s, "up"));
    let pid = tui.pty.child.process_id().expect("child pid").to_string();
    let killed = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let raw = tui.assert_clean_exit();
    assert!(raw.contains("requests    1 accepted, 0 rejected"), "{raw}");
}

#[test]
fn sigterm_quits_cleanly() {
    quits_cleanly_on("TERM");
}

#[test]
fn sigint_quits_cleanly() {
    quits_cleanly_on("INT");
}

#[test]
fn sighup_quits_cleanly() {
    quits_cleanly_on("HUP");
}

#[test]
fn sigquit_quits_cleanly() {
    quits_cleanly_on("QUIT");
}

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
