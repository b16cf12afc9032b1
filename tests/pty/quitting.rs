//! Ctrl-C and each termination signal end the dashboard as `q` does: terminal
//! restored, summary with what it received.

use super::*;

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
