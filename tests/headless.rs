//! The real binary without a terminal: in `--no-tui` mode exact JSON records,
//! text lines, escaped sender text, everything acknowledged and the summary on
//! every termination signal, a quiet exit when stdout is closed; without
//! `--no-tui`, a dashboard that says it needs a terminal.

mod common;
// Topics in headless/ (a test crate's root finds modules beside it, not below).
#[path = "headless/hostile.rs"]
mod hostile;
#[path = "headless/label_problems.rs"]
mod label_problems;
#[path = "headless/output_limits.rs"]
mod output_limits;
#[path = "headless/signals.rs"]
mod signals;

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
    child: binary::Owned,
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
