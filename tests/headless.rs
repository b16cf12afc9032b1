//! The real binary without a terminal: in `--no-tui` mode exact JSON records,
//! text lines, escaped sender text, everything acknowledged and the summary on
//! every termination signal, a quiet exit when stdout is closed; without
//! `--no-tui`, a dashboard that says it needs a terminal.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::*;
use promscope::proto::rw1;
use prost::Message;
use serde_json::{Value, json};

/// The binary listening on an ephemeral port, with piped stdout and stderr.
struct Headless {
    child: Child,
    stdout: Option<BufReader<ChildStdout>>,
    url: String,
}

impl Headless {
    fn start(format: &str) -> Self {
        let args = ["--no-tui", "--format", format, "--listen", "127.0.0.1:0"];
        let binary::Started {
            mut child,
            url,
            stderr,
            ..
        } = binary::start_promscope(&args, Stdio::piped());
        let stdout = child.stdout.take().map(BufReader::new);
        let rest = binary::read_in_background(stderr);
        STDERR.with(|cell| *cell.borrow_mut() = Some(rest));
        Headless { child, stdout, url }
    }

    fn post(&self, headers: &[(&str, &str)], body: Vec<u8>) -> u16 {
        let url = self.url.clone();
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new()
                .unwrap()
                .block_on(async move {
                    let client = hyper_util::client::legacy::Client::builder(
                        hyper_util::rt::TokioExecutor::new(),
                    )
                    .build_http();
                    let mut req = hyper::Request::post(url);
                    for (k, v) in &headers {
                        req = req.header(k, v);
                    }
                    let body = http_body_util::Full::new(bytes::Bytes::from(body));
                    client
                        .request(req.body(body).unwrap())
                        .await
                        .unwrap()
                        .status()
                        .as_u16()
                })
        })
        .join()
        .unwrap()
    }

    fn lines(&mut self, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| {
                let mut line = String::new();
                self.stdout.as_mut().unwrap().read_line(&mut line).unwrap();
                line.trim_end().to_owned()
            })
            .collect()
    }

    /// Sends SIGTERM and returns (exit code, stderr after the first line).
    fn terminate(self) -> (Option<i32>, String) {
        self.signal("TERM")
    }

    /// Sends `signal` (`TERM`, `HUP`, ...) and returns (exit code, stderr after the
    /// first line).
    fn signal(mut self, signal: &str) -> (Option<i32>, String) {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        let status = wait(&mut self.child);
        let stderr = STDERR
            .with(|cell| cell.borrow_mut().take())
            .unwrap()
            .join()
            .unwrap();
        (status, stderr)
    }
}

thread_local! {
    static STDERR: std::cell::RefCell<Option<std::thread::JoinHandle<String>>> = const { std::cell::RefCell::new(None) };
}

fn wait(child: &mut Child) -> Option<i32> {
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("promscope did not exit within 5 s");
}

#[test]
fn json_records_are_exact() {
    let mut p = Headless::start("json");
    let stale = f64::from_bits(0x7ff0_0000_0000_0002);
    let req = rw1::WriteRequest {
        timeseries: vec![rw1::TimeSeries {
            labels: vec![label("__name__", "up"), label("job", "node")],
            // One timestamp each: samples at one timestamp would be problems.
            samples: [1.0, stale, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.1]
                .iter()
                .zip(0..)
                .map(|(&value, i)| rw1::Sample {
                    value,
                    timestamp: 1_732_000_000_000 + i,
                })
                .collect(),
            exemplars: vec![rw1::Exemplar {
                labels: vec![label("trace_id", "abc")],
                value: 0.5,
                timestamp: 1_732_000_000_001,
            }],
            ..Default::default()
        }],
        metadata: vec![rw1::MetricMetadata {
            r#type: 1,
            metric_family_name: "http_requests_total".into(),
            help: "Requests \"served\".".into(),
            unit: "".into(),
        }],
    };
    assert_eq!(p.post(RW1_HEADERS, snappy(&req.encode_to_vec())), 204);
    let lines: Vec<Value> = p
        .lines(8)
        .iter()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect();
    assert_eq!(
        lines[0],
        json!({"kind":"metadata","metric":"http_requests_total","type":"counter","help":"Requests \"served\".","unit":""})
    );
    let values: Vec<&str> = lines[1..7]
        .iter()
        .map(|l| l["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["1", "StaleNaN", "NaN", "+Inf", "-Inf", "0.1"]);
    assert_eq!(
        lines[1],
        json!({"kind":"sample","labels":{"__name__":"up","job":"node"},"timestamp_ms":1_732_000_000_000_i64,"value":"1"})
    );
    assert_eq!(
        lines[7],
        json!({"kind":"exemplar","labels":{"__name__":"up","job":"node"},"exemplar_labels":{"trace_id":"abc"},"timestamp_ms":1_732_000_000_001_i64,"value":"0.5"})
    );

    assert_eq!(p.post(RW2_HEADERS, rw2_body()), 204);
    // Its series have no metadata: an info problem each, before their records.
    let (problems, lines): (Vec<Value>, Vec<Value>) = p
        .lines(6)
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).expect(l))
        .partition(|r| r["kind"] == "problem");
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems
            .iter()
            .all(|p| p["rule"] == "metadata-type-unspecified")
    );
    assert_eq!(lines[0]["kind"], "sample");
    assert_eq!(lines[2]["kind"], "exemplar");
    assert_eq!(
        lines[3],
        json!({"kind":"histogram","labels":{"__name__":"latency_seconds","job":"api"},"timestamp_ms":1_732_000_000_000_i64,
               "count":"3","sum":"1.5","schema":0,"zero_threshold":"0","zero_count":"0",
               "positive_spans":[{"offset":0,"length":1}],"positive_buckets":["3"],
               "negative_spans":[],"negative_buckets":[],"counts":"integer","reset_hint":"unknown"})
    );

    assert_eq!(p.post(&[("content-encoding", "gzip")], vec![1, 2, 3]), 415);
    let rejected: Value = serde_json::from_str(&p.lines(1)[0]).unwrap();
    assert_eq!(rejected["kind"], "rejected");
    assert_eq!(rejected["reason"], "unsupported_encoding");

    let (code, stderr) = p.terminate();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("requests    2 accepted, 1 rejected (unsupported_encoding: 1)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("received    8 samples, 1 histograms, 2 exemplars, 1 metadata"),
        "{stderr}"
    );
    assert!(stderr.contains("series      3 distinct"), "{stderr}");
    assert!(
        stderr.contains("test-sender/1.0 @ 127.0.0.1  RW1  1 accepted, 0 rejected"),
        "{stderr}"
    );
}

#[test]
fn text_lines_are_readable() {
    let mut p = Headless::start("text");
    assert_eq!(p.post(RW1_HEADERS, rw1_body(&[1.5])), 204);
    assert_eq!(
        p.lines(1),
        [r#"2024-11-19T07:06:40.000Z sample    up{job="test"}  1.5"#]
    );
    let (code, _) = p.terminate();
    assert_eq!(code, Some(0));
}

#[test]
fn closed_stdout_ends_quietly_with_status_zero() {
    let mut p = Headless::start("json");
    drop(p.stdout.take());
    let _ = p.post(RW1_HEADERS, rw1_body(&[1.0; 100]));
    let code = wait(&mut p.child);
    assert_eq!(code, Some(0));
    let stderr = STDERR
        .with(|cell| cell.borrow_mut().take())
        .unwrap()
        .join()
        .unwrap();
    assert!(
        !stderr.contains("summary") && !stderr.to_lowercase().contains("error"),
        "{stderr}"
    );
}

/// Escape sequences that retitle the terminal (OSC 0, OSC 2), clear it (CSI 2J,
/// also as the one-byte C1 CSI), write the clipboard (OSC 52), or reverse the
/// text (U+202E).
const HOSTILE: &[&str] = &[
    "\x1b]0;owned\x07",
    "\x1b]2;owned\x1b\\",
    "\x1b[2J\x1b[H",
    "\x1b]52;c;b3duZWQ=\x07",
    "\u{9b}2J",
    "txt.\u{202e}exe",
];

/// An RW 2.0 request carrying [`HOSTILE`] in every string a sender controls:
/// metric name, label names and values, help, unit and exemplar labels.
fn hostile_request() -> Vec<u8> {
    use promscope::proto::rw2;
    let mut symbols = vec![String::new(), "__name__".into()];
    let mut sym = |s: String| {
        symbols.push(s);
        symbols.len() as u32 - 1
    };
    let mut labels_refs = vec![1, sym(format!("evil{}", HOSTILE[4]))];
    for (i, payload) in HOSTILE.iter().enumerate() {
        labels_refs.extend([sym(format!("l{i}{payload}")), sym(payload.to_string())]);
    }
    let exemplar = vec![sym("trace_id".into()), sym(HOSTILE[3].into())];
    let metadata = rw2::Metadata {
        r#type: rw2::metadata::MetricType::Counter as i32,
        help_ref: sym(format!("help {}", HOSTILE[0])),
        unit_ref: sym(HOSTILE[2].into()),
    };
    let request = rw2::Request {
        symbols,
        timeseries: vec![rw2::TimeSeries {
            labels_refs,
            samples: vec![rw2::Sample {
                value: 1.0,
                timestamp: 1_732_000_000_000,
                start_timestamp: 0,
            }],
            exemplars: vec![rw2::Exemplar {
                labels_refs: exemplar,
                value: 1.0,
                timestamp: 1_732_000_000_000,
            }],
            metadata: Some(metadata),
            ..Default::default()
        }],
    };
    snappy(&request.encode_to_vec())
}

/// POSTs over a plain TCP connection, so that the path and User-Agent can hold
/// bytes an HTTP client would refuse to send; returns the status code.
fn raw_post(url: &str, path: &str, user_agent: &str, body: &[u8]) -> u16 {
    use std::io::Write;
    let addr = url.trim_start_matches("http://").split('/').next().unwrap();
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: {user_agent}\r\nContent-Encoding: snappy\r\n\
         Content-Type: {RW2_CONTENT_TYPE}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    conn.write_all(&request).unwrap();
    let mut response = String::new();
    let _ = conn.read_to_string(&mut response);
    response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {response:?}"))
}

/// Characters that change a terminal when written to it raw: controls (but the
/// line feed ending each record), C1 controls, and the bidi override.
fn has_terminal_control(text: &str) -> bool {
    text.chars()
        .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c))
}

/// The path carries C1 CSI and U+202E as raw UTF-8 bytes (HTTP allows them).
const HOSTILE_PATH: &str = "/api/v1/write\u{9b}2J\u{202e}";
const HOSTILE_AGENT: &str = "evil\u{9b}2J\u{202e}agent";

/// Sends the hostile request and a rejected one, stops the binary, and returns
/// (stdout, stderr).
fn run_hostile(format: &str) -> (String, String) {
    let mut p = Headless::start(format);
    assert_eq!(
        raw_post(&p.url, HOSTILE_PATH, HOSTILE_AGENT, &hostile_request()),
        204
    );
    // Not snappy: rejected, and the rejection names the path.
    assert_eq!(
        raw_post(&p.url, HOSTILE_PATH, HOSTILE_AGENT, b"\x1b[2J"),
        400
    );
    let mut stdout = String::new();
    let mut out = p.stdout.take().unwrap();
    let (code, stderr) = {
        // Records are flushed when the queue is empty; wait for the rejection's.
        let mut line = String::new();
        while out.read_line(&mut line).unwrap() > 0 {
            stdout.push_str(&line);
            if line.contains("REJECTED") || line.contains(r#""kind":"rejected""#) {
                break;
            }
            line.clear();
        }
        p.terminate()
    };
    out.read_to_string(&mut stdout).unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    (stdout, stderr)
}

#[test]
fn text_output_escapes_what_would_control_the_terminal() {
    let (stdout, stderr) = run_hostile("text");
    assert!(!has_terminal_control(&stdout), "{stdout:?}");
    assert!(!has_terminal_control(&stderr), "{stderr:?}");
    // Escaped visibly, in PromQL's string syntax.
    for shown in [
        r#"l0\x1b]0;owned\x07"="\x1b]0;owned\x07""#,
        r#"="\x1b]2;owned\x1b\\""#,
        r#"="\x1b[2J\x1b[H""#,
        r#"="txt.\u202eexe""#,
        r#"{"evil\u009b2J""#,
        r#"{trace_id="\x1b]52;c;b3duZWQ=\x07"}"#,
        r#"metadata  evil\u009b2J counter unit=\x1b[2J\x1b[H "help \x1b]0;owned\x07""#,
        r#"/api/v1/write\u009b2J\u202e: "#,
    ] {
        assert!(stdout.contains(shown), "{shown} not in:\n{stdout}");
    }
    assert!(
        stderr.contains(r"evil\u009b2J\u202eagent @ 127.0.0.1"),
        "{stderr}"
    );
}

#[test]
fn json_output_escapes_what_would_control_the_terminal_and_loses_nothing() {
    let (stdout, stderr) = run_hostile("json");
    assert!(!has_terminal_control(&stdout), "{stdout:?}");
    assert!(!has_terminal_control(&stderr), "{stderr:?}");
    let records: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect();
    let kind = |k: &str| records.iter().find(|r| r["kind"] == k).unwrap();
    let metadata = kind("metadata");
    assert_eq!(metadata["metric"], format!("evil{}", HOSTILE[4]));
    assert_eq!(metadata["help"], format!("help {}", HOSTILE[0]));
    assert_eq!(metadata["unit"], HOSTILE[2]);
    let sample = kind("sample");
    for (i, payload) in HOSTILE.iter().enumerate() {
        assert_eq!(sample["labels"][format!("l{i}{payload}")], *payload);
    }
    assert_eq!(kind("exemplar")["exemplar_labels"]["trace_id"], HOSTILE[3]);
    let rejected = kind("rejected");
    assert_eq!(rejected["path"], HOSTILE_PATH);
    assert_eq!(rejected["user_agent"], HOSTILE_AGENT);
    assert_eq!(rejected["protocol"], "RW2");
    assert!(stdout.contains(r#""path":"/api/v1/write\u009b2J\u202e""#));
}

/// Posts 1,000-sample requests one after another until one is not acknowledged
/// (promscope stopped); returns how many were.
fn post_until_refused(url: String) -> u64 {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        let mut acknowledged = 0;
        loop {
            let mut req = hyper::Request::post(&url);
            for (k, v) in RW1_HEADERS {
                req = req.header(*k, *v);
            }
            let body = http_body_util::Full::new(bytes::Bytes::from(rw1_body(&[1.0; 1000])));
            match client.request(req.body(body).unwrap()).await {
                Ok(resp) if resp.status() == 204 => acknowledged += 1,
                _ => return acknowledged,
            }
        }
    })
}

/// Each termination signal, sent while requests keep arriving: every sample
/// acknowledged is printed, and the summary counts exactly what was printed.
fn prints_everything_acknowledged_on(signal: &str) {
    let mut p = Headless::start("json");
    let mut stdout = p.stdout.take().unwrap();
    let samples = Arc::new(AtomicU64::new(0));
    let counted = samples.clone();
    let reader = std::thread::spawn(move || {
        let mut line = String::new();
        while stdout.read_line(&mut line).unwrap() > 0 {
            if line.starts_with(r#"{"kind":"sample""#) {
                counted.fetch_add(1, Ordering::SeqCst);
            }
            line.clear();
        }
    });
    let url = p.url.clone();
    let poster = std::thread::spawn(move || post_until_refused(url));
    // Signal while requests are arriving, once some have been printed.
    for _ in 0..500 {
        if samples.load(Ordering::SeqCst) >= 5000 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, stderr) = p.signal(signal);
    let acknowledged = poster.join().unwrap();
    reader.join().unwrap();
    let printed = samples.load(Ordering::SeqCst);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(acknowledged > 0, "nothing was sent before SIG{signal}");
    assert!(
        printed >= acknowledged * 1000,
        "SIG{signal}: {printed} samples printed, {acknowledged}k acknowledged"
    );
    assert!(
        stderr.contains(&format!("received    {printed} samples,")),
        "SIG{signal}: {printed} printed; {stderr}"
    );
}

#[test]
fn sigint_prints_everything_acknowledged_and_the_summary() {
    prints_everything_acknowledged_on("INT");
}

#[test]
fn sighup_prints_everything_acknowledged_and_the_summary() {
    prints_everything_acknowledged_on("HUP");
}

#[test]
fn sigquit_prints_everything_acknowledged_and_the_summary() {
    prints_everything_acknowledged_on("QUIT");
}

#[test]
fn the_dashboard_without_a_terminal_says_what_to_do() {
    let out = Command::new(env!("CARGO_BIN_EXE_promscope"))
        .args(["--listen", "127.0.0.1:0"])
        // A user's mistake, not a bug: no stack trace even where they are asked for.
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr,
        "Error: the dashboard needs a terminal, and standard output is not one; \
         run with --no-tui to print what arrives instead (--format text|json|none)\n"
    );
    assert!(out.stdout.is_empty(), "{:?}", out.stdout);
}

#[test]
fn repeated_label_names_reach_jq_without_loss_and_with_a_problem() {
    let mut p = Headless::start("json");
    // What OpenTelemetry's exporter sends for attributes `a.b` and `a_b`.
    let body = rw1_series_body(&[&[("__name__", "m"), ("a_b", "x"), ("a_b", "y")]], 1);
    assert_eq!(p.post(RW1_HEADERS, body), 204);
    let line = &p.lines(1)[0];
    let problem: Value = serde_json::from_str(line).expect(line);
    assert_eq!(problem["kind"], "problem", "{problem}");
    assert_eq!(problem["rule"], "label-name-repeated");
    assert_eq!(
        problem["message"], "repeats label name \"a_b\"",
        "the decoder's own warning is gone: one mechanism"
    );
    let sample = &p.lines(1)[0];
    let sample: Value = serde_json::from_str(sample).expect(sample);
    assert_eq!(sample["kind"], "sample");
    assert_eq!(
        sample["labels"],
        json!({"__name__": "m", "a_b": ["x", "y"]})
    );
    let (code, _) = p.terminate();
    assert_eq!(code, Some(0));
}

/// Peak resident memory of process `pid` (`VmHWM`), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib << 10
}

#[test]
fn what_one_request_prints_is_written_as_it_is_formatted_not_held_whole() {
    // One series with a 32 KiB label and 2,000 samples: a body of 70 KB (a
    // few KB of snappy) prints 64 MiB of text, a line per sample. Held whole
    // before writing, twice that took 225 MiB of RSS; written as it is
    // formatted, 35 MiB (what promscope takes idle, in a debug build).
    const SAMPLES: usize = 2_000;
    for format in ["text", "json"] {
        let mut p = Headless::start(format);
        let value = "v".repeat(32 << 10);
        let series = rw1::TimeSeries {
            labels: vec![label("__name__", "wide"), label("blob", &value)],
            samples: (0..SAMPLES)
                .map(|i| rw1::Sample {
                    value: i as f64,
                    timestamp: 1_732_000_000_000 + i as i64,
                })
                .collect(),
            ..Default::default()
        };
        let request = rw1::WriteRequest {
            timeseries: vec![series],
            metadata: vec![],
        };
        assert_eq!(p.post(RW1_HEADERS, snappy(&request.encode_to_vec())), 204);
        let mut stdout = p.stdout.take().unwrap();
        let (mut lines, mut line) = (0, Vec::new());
        while lines < SAMPLES {
            line.clear();
            assert!(stdout.read_until(b'\n', &mut line).unwrap() > value.len());
            lines += 1;
        }
        let peak = peak_rss(p.child.id());
        assert!(peak < 64 << 20, "{format}: peak RSS {} MiB", peak >> 20);
        let (code, _) = p.terminate();
        assert_eq!(code, Some(0));
    }
}

/// Posts `bodies` (RW1) to a fresh `--format format` run, stops it, and returns
/// all of stdout and the summary on stderr.
fn run_rw1(format: &str, bodies: Vec<Vec<u8>>) -> (String, String) {
    let mut p = Headless::start(format);
    for body in bodies {
        assert_eq!(p.post(RW1_HEADERS, body), 204);
    }
    let mut out = p.stdout.take().unwrap();
    let (code, stderr) = p.terminate();
    assert_eq!(code, Some(0), "{stderr}");
    let mut stdout = String::new();
    out.read_to_string(&mut stdout).unwrap();
    (stdout, stderr)
}

fn problem_records(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect(l))
        .filter(|r| r["kind"] == "problem")
        .collect()
}

#[test]
fn label_problems_print_as_json_records_and_count_in_the_summary() {
    let long = "v".repeat(2049);
    let body = rw1_series_body(
        &[
            &[("job", "a"), ("__name__", "m")],
            &[("__name__", "m"), ("empty", ""), ("job", "b")],
            &[("__name__", "m"), ("long", &long)],
            &[("__name__", "m"), ("job", "fine")],
        ],
        1_732_000_000_000,
    );
    let (stdout, stderr) = run_rw1("json", vec![body]);
    let problems = problem_records(&stdout);
    assert_eq!(problems.len(), 3, "{stdout}");
    assert_eq!(
        problems[0],
        json!({"kind":"problem","rule":"labels-unsorted","severity":"error",
               "labels":{"job":"a","__name__":"m"},"timestamp_ms":1_732_000_000_000_i64,
               "count":1,"refused":false,"message":"has labels that are not sorted by name (\"__name__\" after \"job\")"})
    );
    assert_eq!(
        problems[1],
        json!({"kind":"problem","rule":"label-value-empty","severity":"warning",
               "labels":{"__name__":"m","empty":"","job":"b"},"timestamp_ms":1_732_000_000_000_i64,
               "count":1,"refused":false,"message":"has label \"empty\" with an empty value"})
    );
    assert_eq!(problems[2]["rule"], "label-value-too-long");
    assert_eq!(problems[2]["severity"], "error");
    assert_eq!(problems[2]["labels"]["long"], long.as_str());
    assert_eq!(
        problems[2]["message"],
        "has label \"long\" with a value of 2049 bytes, over 2048"
    );
    // The series themselves are printed as ever.
    assert_eq!(stdout.matches(r#""kind":"sample""#).count(), 4, "{stdout}");
    assert!(
        stderr.contains(
            "problems    3 (labels-unsorted: 1, label-value-empty: 1, label-value-too-long: 1)"
        ),
        "{stderr}"
    );
}

#[test]
fn label_problems_print_as_readable_text_lines() {
    let body = rw1_series_body(&[&[("__name__", "m"), ("e", "")]], 1_732_000_000_000);
    let (stdout, stderr) = run_rw1("text", vec![body]);
    assert!(
        stdout.contains(
            r#"2024-11-19T07:06:40.000Z problem   warning label-value-empty m{e=""} has label "e" with an empty value"#
        ),
        "{stdout}"
    );
    assert!(
        stderr.contains("problems    1 (label-value-empty: 1)"),
        "{stderr}"
    );
}

#[test]
fn clean_requests_print_no_problem_records() {
    let (stdout, stderr) = run_rw1("json", vec![rw1_body(&[1.0, 2.0]), several_labels_body()]);
    assert_eq!(stdout.matches(r#""kind":"sample""#).count(), 3, "{stdout}");
    assert_eq!(problem_records(&stdout), Vec::<Value>::new(), "{stdout}");
    assert!(!stderr.contains("problems"), "{stderr}");
}

/// A second clean request, of several series with more labels.
fn several_labels_body() -> Vec<u8> {
    rw1_series_body(
        &[&[
            ("__name__", "http_requests_total"),
            ("code", "200"),
            ("instance", "localhost:9090"),
            ("job", "prometheus"),
        ]],
        1_732_000_000_000,
    )
}

/// A 32 MiB RW 1.0 body: one series with a 16 MiB label and a million samples.
/// Printed whole, each sample's line repeats the label: 16 TiB of output.
fn label_times_a_million() -> (Vec<u8>, usize) {
    const SAMPLES: usize = 1_000_000;
    let blob = "v".repeat(16 << 20);
    let request = rw1::WriteRequest {
        timeseries: vec![rw1::TimeSeries {
            labels: vec![label("__name__", "wide"), label("blob", &blob)],
            samples: (0..SAMPLES)
                .map(|i| rw1::Sample {
                    value: 1.0,
                    timestamp: 1 + i as i64,
                })
                .collect(),
            ..Default::default()
        }],
        metadata: vec![],
    };
    let raw = request.encode_to_vec();
    assert!(raw.len() <= 32 << 20, "{} bytes", raw.len());
    (snappy(&raw), SAMPLES)
}

#[test]
fn what_one_request_prints_stops_at_its_limit_and_says_what_was_left_out() {
    // Before the limit, this request kept the output busy for hours (a
    // 16 MiB line per sample) while every other sender got 503s. Released,
    // two such requests print in 2-3 s; this debug build takes ~40 s for one.
    // (The text format's line: src/output's unit tests.)
    let (hostile, samples) = label_times_a_million();
    let mut p = Headless::start("json");
    assert_eq!(p.post(RW1_HEADERS, hostile), 204);
    // A sender after it is taken, and printed right after it.
    assert_eq!(p.post(RW1_HEADERS, rw1_body(&[7.0])), 204);
    let mut stdout = p.stdout.take().unwrap();
    let (mut printed_samples, mut printed_bytes, mut line) = (0, 0usize, Vec::new());
    let omitted = loop {
        line.clear();
        assert!(stdout.read_until(b'\n', &mut line).unwrap() > 0, "EOF");
        printed_bytes += line.len();
        assert!(printed_bytes < 1 << 30, "a GiB printed and no end in sight");
        let text = String::from_utf8_lossy(&line);
        if text.starts_with(r#"{"kind":"problem""#) {
            continue; // the label's length: one record
        }
        if text.starts_with(r#"{"kind":"sample""#) {
            // Whole lines only, each with the whole label.
            assert!(line.len() > 16 << 20);
            assert!(
                text.starts_with(r#"{"kind":"sample","labels":{"__name__":"wide","blob":"vvvv"#)
            );
            assert!(text.ends_with("\"value\":\"1\"}\n"));
            printed_samples += 1;
            continue;
        }
        break serde_json::from_str::<Value>(&text).expect(&text);
    };
    assert!(printed_samples >= 1);
    assert_eq!(omitted["kind"], "omitted", "{omitted}");
    assert_eq!(omitted["reason"], "output_limit");
    assert_eq!(
        omitted["samples"],
        (samples - printed_samples) as u64,
        "{omitted}"
    );
    assert_eq!(omitted["series"], 1);
    assert_eq!(omitted["histograms"], 0);
    assert_eq!(omitted["problems"], 0);
    assert_eq!(omitted["user_agent"], "test-sender/1.0");
    let limit = omitted["limit_bytes"].as_u64().unwrap() as usize;
    assert!((64 << 20..=512 << 20).contains(&limit), "{limit}");
    // The limit is passed by one record at most.
    assert!(
        printed_bytes <= limit + (17 << 20),
        "{printed_bytes} of {limit}"
    );
    line.clear();
    stdout.read_until(b'\n', &mut line).unwrap();
    let next: Value = serde_json::from_slice(&line).unwrap();
    assert_eq!(next["labels"], json!({"__name__": "up", "job": "test"}));
    assert_eq!(next["value"], "7");
    let (code, stderr) = p.terminate();
    assert_eq!(code, Some(0));
    let left = samples - printed_samples;
    assert!(
        stderr.contains(&format!(
            "  output      1 request printed up to its output limit: {left} records not printed"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("received    1000001 samples"), "{stderr}");
}
