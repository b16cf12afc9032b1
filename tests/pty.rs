//! The real binary in a pseudo-terminal: the welcome screen, data arriving,
//! the filter, pause, drilling in and out, and a restored terminal and a summary
//! after `q`, Ctrl-C, SIGTERM, SIGINT, SIGHUP or SIGQUIT. The pty output is
//! parsed into a screen by `vt100`.

mod common;
// Topics in pty/ (a test crate's root finds modules beside it, not below).
#[path = "pty/cardinality.rs"]
mod cardinality;
#[path = "pty/quitting.rs"]
mod quitting;
#[path = "pty/replay.rs"]
mod replay;
#[path = "pty/resizing.rs"]
mod resizing;

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
