//! `promscope replay`: a capture recorded by the real binary replays headless
//! exactly as it printed live, re-sends to a second promscope the same data,
//! stops at damage after the good requests, and names files that are not captures.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use common::*;

struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        TempFile(std::env::temp_dir().join(format!(
            "promscope-replay-test-{}-{name}",
            std::process::id()
        )))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `promscope --no-tui --format json` on an ephemeral port, with extra args.
struct Live {
    child: Child,
    url: String,
}

impl Live {
    fn start(extra: &[&std::ffi::OsStr]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_promscope"))
            .args(["--no-tui", "--format", "json", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        stderr.read_line(&mut first).unwrap();
        child.stderr = Some(stderr.into_inner());
        Live {
            url: url_in(&first),
            child,
        }
    }

    /// Stops it with SIGTERM; its stdout and stderr.
    fn stop(self) -> (String, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let output = self.child.wait_with_output().unwrap();
        assert!(output.status.success());
        (
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    }
}

fn replay(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_promscope"))
        .arg("replay")
        .args(args)
        .output()
        .unwrap()
}

fn os(s: &str) -> &std::ffi::OsStr {
    s.as_ref()
}

/// Sends a mix of requests: RW 1.0, RW 2.0, one without Content-Encoding
/// (accepted with a warning), one gzip (refused).
fn send_mix(url: &str) {
    let rw1 = [
        ("content-encoding", "snappy"),
        ("user-agent", "replay-test"),
    ];
    let rw2 = [
        ("content-encoding", "snappy"),
        ("content-type", RW2_CONTENT_TYPE),
    ];
    assert_eq!(post_blocking(url, &rw1, rw1_body(&[1.0, 2.5])), 204);
    assert_eq!(post_blocking(url, &rw2, rw2_body()), 204);
    assert_eq!(post_blocking(url, &[], rw1_body(&[3.0])), 204);
    assert_eq!(
        post_blocking(url, &[("content-encoding", "gzip")], rw1_body(&[4.0])),
        415
    );
    assert_eq!(post_blocking(url, &rw1, rw1_body(&[f64::NAN, 5.0])), 204);
}

fn record(file: &Path) -> String {
    let live = Live::start(&[os("--record"), file.as_os_str()]);
    send_mix(&live.url);
    let (stdout, stderr) = live.stop();
    assert!(stderr.contains("recorded    5 requests"), "{stderr}");
    stdout
}

#[test]
fn a_capture_replays_headless_exactly_as_it_printed_live() {
    let file = TempFile::new("exact.warc");
    let live = record(&file.0);
    assert!(live.lines().count() > 10);
    let replayed = replay(&[
        file.0.as_os_str(),
        os("--no-tui"),
        os("--format"),
        os("json"),
    ]);
    assert!(replayed.status.success());
    assert_eq!(String::from_utf8(replayed.stdout).unwrap(), live);
    let summary = String::from_utf8(replayed.stderr).unwrap();
    assert!(summary.contains("4 accepted, 1 rejected"), "{summary}");
}

/// The records of a JSON output that say what was written (not who sent it).
fn data_records(output: &str) -> Vec<String> {
    output
        .lines()
        .filter(|l| l.starts_with(r#"{"kind":"sample""#) || l.starts_with(r#"{"kind":"metadata""#))
        .map(str::to_owned)
        .collect()
}

#[test]
fn replay_to_resends_the_same_data_to_another_receiver() {
    let file = TempFile::new("resend.warc");
    let live = record(&file.0);
    let second = Live::start(&[]);
    let resent = replay(&[
        file.0.as_os_str(),
        os("--to"),
        os(&second.url),
        os("--speed"),
        os("max"),
    ]);
    let report = String::from_utf8(resent.stderr).unwrap();
    assert!(resent.status.success(), "{report}");
    // The gzip request was refused on its headers: its body was not recorded.
    assert!(report.contains("sent 4 requests"), "{report}");
    assert!(report.contains("1 requests not re-sent"), "{report}");
    let (output, _) = second.stop();
    assert_eq!(data_records(&output), data_records(&live));
}

#[test]
fn a_damaged_capture_replays_what_comes_before_the_damage_and_says_where() {
    let file = TempFile::new("damaged.warc");
    record(&file.0);
    let mut bytes = std::fs::read(&file.0).unwrap();
    // Cut inside the body of the last request.
    let last = bytes
        .windows(b"WARC-Type: request".len())
        .rposition(|w| w == b"WARC-Type: request")
        .unwrap();
    bytes.truncate(last + 400);
    std::fs::write(&file.0, &bytes).unwrap();
    let replayed = replay(&[
        file.0.as_os_str(),
        os("--no-tui"),
        os("--format"),
        os("json"),
    ]);
    assert!(!replayed.status.success());
    let stderr = String::from_utf8(replayed.stderr).unwrap();
    assert!(stderr.contains("3 accepted, 1 rejected"), "{stderr}");
    assert!(stderr.contains("stopped at byte"), "{stderr}");
    assert!(stderr.contains("the file ends inside"), "{stderr}");
    assert!(
        stderr.contains("the 4 requests before it were replayed"),
        "{stderr}"
    );
}

#[test]
fn a_file_that_is_not_a_capture_is_named_for_what_it_looks_like() {
    let file = TempFile::new("output.json");
    std::fs::write(&file.0, "{\"kind\":\"sample\"}\n").unwrap();
    let replayed = replay(&[file.0.as_os_str(), os("--no-tui")]);
    assert!(!replayed.status.success());
    let mut stderr = String::new();
    replayed
        .stderr
        .as_slice()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("is not a capture: it looks like JSON"),
        "{stderr}"
    );
}
