//! `promscope replay`: a capture recorded by the real binary replays headless
//! exactly as it printed live, re-sends to a second promscope the same data,
//! stops at damage after the good requests, and names files that are not captures.

mod common;
// Topics in replay/ (a test crate's root finds modules beside it, not below).
#[path = "replay/pcap.rs"]
mod pcap;

use std::io::{BufReader, Read};
use std::path::Path;
use std::process::{ChildStderr, Command, Output, Stdio};

use common::temp::TempFile;
use common::*;

/// `promscope --no-tui --format json` on an ephemeral port, with extra args.
struct Live {
    child: binary::Owned,
    url: String,
    stderr: BufReader<ChildStderr>,
}

impl Live {
    fn start(extra: &[&std::ffi::OsStr]) -> Self {
        let base = ["--no-tui", "--format", "json", "--listen", "127.0.0.1:0"];
        let args: Vec<&std::ffi::OsStr> = base
            .iter()
            .map(|a| a.as_ref())
            .chain(extra.iter().copied())
            .collect();
        let started = binary::start_promscope(&args, Stdio::piped());
        Live {
            url: started.url,
            child: started.child,
            stderr: started.stderr,
        }
    }

    /// Stops it with SIGTERM; its stdout and stderr.
    fn stop(self) -> (String, String) {
        let stderr = binary::read_in_background(self.stderr);
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let output = self.child.into_inner().wait_with_output().unwrap();
        assert!(output.status.success());
        (
            String::from_utf8(output.stdout).unwrap(),
            stderr.join().unwrap(),
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
    // A --config file's no-tui and format switch replay as the flags do.
    let config = TempFile::new("headless.yml");
    std::fs::write(&config.0, "no-tui: true\nformat: json\n").unwrap();
    let configured = Command::new(env!("CARGO_BIN_EXE_promscope"))
        .arg("--config")
        .arg(&config.0)
        .arg("replay")
        .arg(&file.0)
        .output()
        .unwrap();
    assert!(configured.status.success(), "{configured:?}");
    assert_eq!(String::from_utf8(configured.stdout).unwrap(), live);
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

/// The rules of the problem records of a JSON output, each once.
fn problem_rules(output: &[u8]) -> std::collections::BTreeSet<String> {
    String::from_utf8_lossy(output)
        .lines()
        .filter(|l| l.starts_with(r#"{"kind":"problem""#))
        .map(|l| {
            let record: serde_json::Value = serde_json::from_str(l).expect(l);
            record["rule"].as_str().expect("a rule id").to_owned()
        })
        .collect()
}

#[test]
fn replay_and_check_switch_rules_and_limits_as_live_mode_does() {
    let file = TempFile::new("rules.warc");
    record(&file.0);
    let capture = file.0.to_str().unwrap();
    let json = ["--no-tui", "--format", "json"];
    let run = |before: &[&str], after: &[&str]| -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_promscope"))
            .args(before)
            .args(["replay", capture])
            .args(after)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        out
    };
    // The mix sends `up` back in time: out-of-order fires; two labels are within 30.
    let plain = problem_rules(&run(&[], &json).stdout);
    assert!(plain.contains("out-of-order"), "{plain:?}");
    assert!(!plain.contains("too-many-labels"), "{plain:?}");
    // Switched off before `replay` or after it; a limit at its new threshold.
    for (before, after) in [
        (&["--rule", "out-of-order=off"][..], &[][..]),
        (&[], &["--rule", "out-of-order=off"][..]),
    ] {
        let rules = problem_rules(&run(before, &[&json[..], after].concat()).stdout);
        assert!(
            !rules.contains("out-of-order"),
            "{before:?} {after:?}: {rules:?}"
        );
        assert!(rules.contains("duplicate-timestamp"), "{rules:?}");
    }
    let limited = problem_rules(
        &run(
            &[],
            &[&json[..], &["--limit", "too-many-labels=1"]].concat(),
        )
        .stdout,
    );
    assert!(limited.contains("too-many-labels"), "{limited:?}");
    let at_two = problem_rules(&run(&["--limit", "too-many-labels=2"], &json).stdout);
    assert!(!at_two.contains("too-many-labels"), "{at_two:?}");
    // A flag after `replay` is applied after one before it.
    let both = run(
        &["--limit", "too-many-labels=1"],
        &[&json[..], &["--rule", "too-many-labels=off"]].concat(),
    );
    assert!(!problem_rules(&both.stdout).contains("too-many-labels"));
    // A --config file's rules and limits, before or after `replay`, and for `check`.
    let config = TempFile::new("rules.yml");
    std::fs::write(
        &config.0,
        "rules:\n  out-of-order: off\nlimits:\n  too-many-labels: 1\n",
    )
    .unwrap();
    let config = config.0.to_str().unwrap().to_owned();
    for (before, after) in [
        (vec!["--config", config.as_str()], json.to_vec()),
        (vec![], [&json[..], &["--config", config.as_str()]].concat()),
    ] {
        let rules = problem_rules(&run(&before, &after).stdout);
        assert!(rules.contains("too-many-labels"), "{rules:?}");
        assert!(!rules.contains("out-of-order"), "{rules:?}");
    }
    let checked = Command::new(env!("CARGO_BIN_EXE_promscope"))
        .args(["check", capture, "--format", "json", "--config", &config])
        .output()
        .unwrap();
    let report = String::from_utf8(checked.stdout).unwrap();
    assert!(report.contains("\"too-many-labels\""), "{report}");
    assert!(!report.contains("\"out-of-order\""), "{report}");
    assert_eq!(
        checked.status.code(),
        Some(1),
        "too-many-labels is an error"
    );
}
