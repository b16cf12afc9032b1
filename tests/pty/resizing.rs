//! Quitting after the terminal grew leaves the screen as it was before the
//! dashboard started. tmux (3.3a) reflows the alternate screen to the size it
//! had when entered before it restores the main screen, and rows wider than that
//! wrap into the pane's history and come back above the shell prompt; so the
//! dashboard blanks the alternate screen before it leaves it.

use super::*;

/// What the binary left on the alternate screen when it switched back to the
/// main one, parsed at `size` from everything it wrote before.
fn alternate_screen_when_left(raw: &str, size: Size) -> String {
    let left = raw
        .rfind("\x1b[?1049l")
        .expect("the alternate screen was left");
    let mut parser = vt100::Parser::new(nonzero(size.rows), nonzero(size.cols), 0);
    parser.process(&raw.as_bytes()[..left]);
    assert!(
        parser.screen().alternate_screen(),
        "never on the alternate screen"
    );
    parser.screen().contents()
}

#[test]
fn the_alternate_screen_is_blank_when_left_after_the_terminal_grew() {
    let mut tui = Tui::start(SMALL);
    tui.post(&[UP_A, HTTP]);
    tui.wait_for("the posted metrics", |s| lists(s, "http_requests_total"));
    tui.pty
        .master
        .resize(PtySize {
            rows: LARGE.rows,
            cols: LARGE.cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("the pty resizes");
    // A frame at the new size: something drawn on its last row (the parser
    // keeps the old size, so the raw bytes tell).
    let last_row = format!("\x1b[{};", LARGE.rows);
    let deadline = Instant::now() + WAIT;
    while !String::from_utf8_lossy(tui.pty.output().raw.as_deref().unwrap_or_default())
        .contains(&last_row)
    {
        assert!(Instant::now() < deadline, "no frame at the new size");
        std::thread::sleep(Duration::from_millis(20));
    }
    tui.press("q");
    let raw = tui.assert_clean_exit();
    let left = alternate_screen_when_left(&raw, LARGE);
    assert!(
        left.trim().is_empty(),
        "the dashboard was still on the alternate screen when it was left:\n{left}"
    );
}

/// A tmux server of its own (its own socket, no config), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// Runs tmux with `args` on this server; its standard output, or `None`
    /// if it could not run or failed.
    fn run(&self, args: &[&str]) -> Option<String> {
        let out = std::process::Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The pane's history and screen.
    fn capture(&self) -> String {
        self.run(&["capture-pane", "-p", "-S", "-", "-t", "rz"])
            .expect("tmux capture-pane")
    }

    /// Waits up to [`WAIT`] for `ready` to hold on what the pane shows.
    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self.capture();
            if ready(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // tmux leaves the socket file behind.
        let socket = self.run(&["display-message", "-p", "#{socket_path}"]);
        let _ = self.run(&["kill-server"]);
        if let Some(path) = socket {
            let _ = std::fs::remove_file(path.trim());
        }
    }
}

/// The tester's steps: the dashboard in an 80×24 tmux pane, the window grown
/// to 120×40, `q`. Skipped where tmux is not installed.
#[test]
fn quitting_in_tmux_after_the_window_grew_leaves_only_what_was_there() {
    if std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_err()
    {
        eprintln!("tmux not installed: skipped");
        return;
    }
    let tmux = Tmux {
        socket: format!("promscope-test-{}", std::process::id()),
    };
    // The pane stays after the binary exits, so its screen can be read.
    let started = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "rz",
        "-x",
        "80",
        "-y",
        "24",
        "sh",
        "-c",
        r#"echo BEFORE; exec "$0" --demo --listen 127.0.0.1:0"#,
        env!("CARGO_BIN_EXE_promscope"),
        ";",
        "set-option",
        "-g",
        "remain-on-exit",
        "on",
    ]);
    assert!(started.is_some(), "tmux did not start");
    tmux.wait_for("the demo's metrics", |s| lists(s, "up"));
    assert!(
        tmux.run(&["resize-window", "-t", "rz", "-x", "120", "-y", "40"])
            .is_some()
    );
    // Rows wider than the pane was: the ones that wrap when tmux restores it.
    // (Well over 80: right after the resize the old frame may look a little wider.)
    let wide = |s: &str| s.lines().any(|l| l.trim_end().chars().count() > 100);
    let first = tmux.wait_for("a frame at 120 columns", wide);
    // And a later frame (the uptime moved): the first one after a resize ends
    // with the footer on the last row, which leaves the cursor where tmux
    // drops the rows above it instead of wrapping them.
    let uptime = |s: &str| s.lines().next().unwrap_or_default().to_owned();
    tmux.wait_for("a later frame", |s| wide(s) && uptime(s) != uptime(&first));
    assert!(tmux.run(&["send-keys", "-t", "rz", "q"]).is_some());
    let after = tmux.wait_for("the summary", |s| s.contains("promscope summary after"));
    let before_summary: Vec<&str> = after
        .lines()
        .take_while(|l| !l.starts_with("promscope summary after"))
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(
        before_summary,
        ["BEFORE"],
        "the pane after quitting:\n{after}"
    );
}
