//! `promscope check`: the real binary receives on an ephemeral port (or reads
//! a capture), prints the problems by rule, and its exit code is the verdict:
//! 0 clean, 1 when a rule at --fail-on or worse fired, 2 when it could not run.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::temp::{TempDir, TempFile};
use common::*;
use promscope::capture::{RecordLimits, Recorder};
use promscope::ingest::server::Limits;

const RW1_HEADERS: &[(&str, &str)] = &[
    ("content-encoding", "snappy"),
    ("content-type", "application/x-protobuf"),
];

/// `promscope check ARGS --listen 127.0.0.1:0` running, and its URL.
struct Check {
    child: binary::Owned,
    url: String,
}

impl Check {
    fn start(args: &[&str]) -> Self {
        Check::start_with(&[], args)
    }

    /// With top-level options (before `check`) besides its own.
    fn start_with(top: &[&str], args: &[&str]) -> Self {
        let args = [top, &["check"], args, &["--listen", "127.0.0.1:0"]].concat();
        let started = binary::start_promscope(&args, Stdio::piped());
        binary::read_in_background(started.stderr);
        Check {
            child: started.child,
            url: started.url,
        }
    }

    fn post(&self, body: Vec<u8>) -> u16 {
        post_blocking(&self.url, RW1_HEADERS, body)
    }

    fn post_with(&self, authorization: &str, body: Vec<u8>) -> u16 {
        let headers = [RW1_HEADERS, &[("authorization", authorization)]].concat();
        post_blocking(&self.url, &headers, body)
    }

    /// Its exit code and stdout, once it exits (within 20 s).
    fn finish(mut self) -> (i32, String) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("promscope check did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut out = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        (status.code().unwrap_or(-1), out)
    }
}

const UP: &[(&str, &str)] = &[("__name__", "up"), ("job", "a")];
/// A label name outside the legacy charset: a warning.
const DOTTED: &[(&str, &str)] = &[("__name__", "up"), ("pod.name", "x")];

#[test]
fn clean_traffic_passes_and_an_error_fails_with_the_rule_named() {
    let now = now_ms();
    let check = Check::start(&["--requests", "2"]);
    assert_eq!(check.post(rw1_samples_body(UP, &[now - 1000])), 204);
    assert_eq!(check.post(rw1_samples_body(UP, &[now])), 204);
    let port = check
        .url
        .rsplit(':')
        .next()
        .unwrap_or("")
        .split('/')
        .next()
        .unwrap_or("")
        .to_owned();
    let (code, out) = check.finish();
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("2 requests") && out.contains("no problems found"),
        "{out}"
    );
    // The report names where it listened: the port chosen for :0.
    assert!(
        out.contains(&format!("from 127.0.0.1:{port}")),
        "{port}: {out}"
    );

    let check = Check::start(&["--requests", "1"]);
    // Out of order within the series: an error.
    assert_eq!(check.post(rw1_samples_body(UP, &[now, now - 5000])), 204);
    let (code, out) = check.finish();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error    out-of-order"), "{out}");
    assert!(out.contains(r#"up{job="a"}"#), "{out}");
    assert!(
        out.contains("FAIL: 1 rules at error or worse fired"),
        "{out}"
    );
}

#[test]
fn a_warning_fails_only_with_fail_on_warning_and_json_says_so() {
    let now = now_ms();
    let check = Check::start(&["--requests", "1"]);
    check.post(rw1_samples_body(DOTTED, &[now]));
    let (code, out) = check.finish();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("warning  label-name-invalid"), "{out}");

    let check = Check::start(&[
        "--requests",
        "1",
        "--fail-on",
        "warning",
        "--format",
        "json",
    ]);
    check.post(rw1_samples_body(DOTTED, &[now]));
    let (code, out) = check.finish();
    assert_eq!(code, 1, "{out}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(report["kind"], "check");
    assert_eq!(report["failed"], true);
    assert_eq!(report["requests"], 1);
    let rule = &report["rules"][0];
    assert_eq!(rule["rule"], "label-name-invalid");
    assert_eq!(rule["severity"], "warning");
    assert_eq!(rule["series"], 1);
    assert_eq!(rule["example"]["series"], r#"up{"pod.name"="x"}"#);

    // Switched off, it is not checked at all.
    let check = Check::start(&[
        "--requests",
        "1",
        "--fail-on",
        "warning",
        "--rule",
        "label-name-invalid=off",
    ]);
    check.post(rw1_samples_body(DOTTED, &[now]));
    let (code, out) = check.finish();
    assert_eq!(code, 0, "{out}");
}

#[test]
fn the_check_receiver_asks_for_credentials_as_the_live_one_does() {
    let dir = TempDir::new("check-auth");
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    let config = dir.write("web.yml", &format!("basic_auth_users:\n  prom: {hash}\n"));
    let token = dir.write("token", "tok-1\n");
    let (config, token) = (config.to_str().unwrap(), token.to_str().unwrap());
    let top = ["--web.config.file", config, "--auth-token-file", token];
    let check = Check::start_with(&top, &["--requests", "4"]);
    let now = now_ms();
    assert_eq!(check.post(rw1_samples_body(UP, &[now - 3000])), 401);
    assert_eq!(
        check.post_with("Bearer tok-2", rw1_samples_body(UP, &[now - 2000])),
        401
    );
    // prom:s3cret
    let basic = "Basic cHJvbTpzM2NyZXQ=";
    assert_eq!(
        check.post_with(basic, rw1_samples_body(UP, &[now - 1000])),
        204
    );
    assert_eq!(
        check.post_with("Bearer tok-1", rw1_samples_body(UP, &[now])),
        204
    );
    let (code, out) = check.finish();
    // A sender whose credentials are refused does not get its data in.
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("4 requests"), "{out}");
    assert!(out.contains("2 refused"), "{out}");
    assert!(
        out.contains("error    unauthorized: refused — 2 requests"),
        "{out}"
    );
}

#[test]
fn requests_nobody_can_read_fail_the_check() {
    let check = Check::start(&["--requests", "3", "--format", "json"]);
    for _ in 0..2 {
        assert_eq!(check.post(b"not snappy".to_vec()), 400);
    }
    assert_eq!(check.post(rw1_samples_body(UP, &[now_ms()])), 204);
    let (code, out) = check.finish();
    assert_eq!(code, 1, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["failed"], true, "{out}");
    assert_eq!(report["refusals"][0]["reason"], "bad_snappy", "{out}");
    assert_eq!(report["refusals"][0]["requests"], 2, "{out}");
    assert!(
        report["refusals"][0]["example"]
            .as_str()
            .unwrap()
            .contains("snappy"),
        "{out}"
    );
    assert_eq!(report["rules"], serde_json::json!([]), "{out}");
}

#[test]
fn the_check_receiver_speaks_tls_with_the_web_config() {
    let dir = TempDir::new("check-tls");
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    dir.write("server.pem", &cert.cert.pem());
    dir.write("server-key.pem", &cert.signing_key.serialize_pem());
    let config = dir.write(
        "web.yml",
        "tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n",
    );
    // After `check` as well as before it.
    let check = Check::start(&[
        "--web.config.file",
        config.to_str().unwrap(),
        "--duration",
        "300ms",
    ]);
    assert!(check.url.starts_with("https://127.0.0.1:"), "{}", check.url);
    let (code, out) = check.finish();
    assert_eq!(code, 0, "{out}");
}

#[test]
fn duration_ends_a_check_without_requests() {
    let started = Instant::now();
    let check = Check::start(&["--duration", "300ms"]);
    let (code, out) = check.finish();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 requests"), "{out}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn without_an_end_or_with_a_missing_file_it_cannot_run() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_promscope"))
            .arg("check")
            .args(args)
            .output()
            .expect("binary runs")
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--duration, --requests or a capture FILE")
    );
    let out = run(&["/nonexistent/capture.warc"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/capture.warc"));
}

/// `promscope check FILE ARGS`, once it exits.
async fn check_file(path: &std::path::Path, args: &[&str]) -> std::process::Output {
    let path = path.to_owned();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let run = move || {
        Command::new(env!("CARGO_BIN_EXE_promscope"))
            .arg("check")
            .arg(&path)
            .args(&args)
            .output()
            .expect("binary runs")
    };
    tokio::task::spawn_blocking(run).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_capture_is_checked_as_it_was_received() {
    let capture = TempFile::new("check.warc");
    let path = &capture.0;
    let recorder = Recorder::start(path, RecordLimits::default()).unwrap();
    let handle = recorder.handle();
    let receiver =
        TestReceiver::start_configured(Limits::default(), 64, |r| r.with_recording(handle)).await;
    let now = now_ms();
    for body in [
        rw1_samples_body(UP, &[now]),
        rw1_samples_body(UP, &[now - 60_000]),
    ] {
        let reply = receiver.post("/api/v1/write", RW1_HEADERS, body).await;
        assert_eq!(reply.status, 204);
    }
    drop(receiver);
    recorder.finish();
    let out = check_file(path, &[]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("2 requests"), "{stdout}");
    // Across requests: the second is older than the first.
    assert!(stdout.contains("error    out-of-order"), "{stdout}");
    // Taken when recorded, refused under a stricter limit now: the flag's
    // point (8026941 had them taken, with a warning).
    let out = check_file(path, &["--max-body-bytes", "10"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("2 refused"), "{stdout}");
    // Cut inside its last record, the capture is damaged: said with how far it was checked.
    let len = std::fs::metadata(path).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.set_len(len - 40).unwrap();
    let out = check_file(path, &[]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let name = path.to_string_lossy();
    let said = [
        &*name,
        "the file ends inside",
        "requests before it were checked",
    ];
    assert!(said.iter().all(|part| stderr.contains(part)), "{stderr}");
}
