//! Forward mode in the real binary, headless: one `{"kind":"request"}` JSON
//! record per request with the sender's and the backend's side, and the
//! forwarding line of the closing summary.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use common::backend::{BackendAnswer, TestBackend};
use common::*;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// POSTs `body` to `url`; returns the status and body.
async fn post(url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (u16, String) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let mut request = hyper::Request::post(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = client
        .request(request.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// `promscope --no-tui --format json` forwarding to `backend`, with `extra`
/// arguments; its URL with the path `/api/v1/write`.
fn forwarding_json(backend: &TestBackend, extra: &[&str]) -> binary::Started {
    let backend = backend.url("/api/v1/write");
    let base = ["--no-tui", "--format", "json", "--listen", "127.0.0.1:0"];
    let args = [&base[..], &["--forward", &backend], extra].concat();
    binary::start_promscope(&args, Stdio::piped())
}

#[tokio::test(flavor = "multi_thread")]
async fn json_has_one_request_record_with_both_sides() {
    let mut backend = TestBackend::start(BackendAnswer::status(204)).await;
    let mut mirror = TestBackend::start(BackendAnswer::status(204)).await;
    let mirror_url = mirror.url("/api/v1/write");
    let binary::Started {
        mut child,
        url,
        first_line,
        mut stderr,
    } = forwarding_json(&backend, &["--mirror", &mirror_url]);
    assert!(first_line.contains("forwarding it to"), "{first_line}");
    let (lines_tx, mut lines) = mpsc::unbounded_channel();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    // The next `{"kind":"request"}` record.
    let mut next_request = async || loop {
        let line = tokio::time::timeout(Duration::from_secs(5), lines.recv())
            .await
            .expect("a line within 5 s")
            .expect("stdout open");
        let record: Value = serde_json::from_str(&line).expect(&line);
        if record["kind"] == "request" {
            return record;
        }
    };

    let headers = [RW1_HEADERS, &[("x-scope-orgid", "team-a")]].concat();
    let sent_ms = now_ms();
    assert_eq!(post(&url, &headers, rw1_body(&[1.0])).await.0, 204);
    let ok = next_request().await;
    let received_ms = ok["received_ms"].as_i64().expect("received_ms");
    assert!(
        (sent_ms - 1_000..sent_ms + 5_000).contains(&received_ms),
        "{ok}"
    );
    assert_eq!(ok.get("retry_attempt"), None);
    assert_eq!(ok["status"], 204);
    assert_eq!(ok["tenant"], "team-a");
    assert_eq!(ok["protocol"], "RW1");
    assert_eq!(ok["samples"], 1);
    assert_eq!(ok["backend"]["answered"], true);
    assert_eq!(ok["backend"]["status"], 204);
    assert!(ok["backend"]["latency_ms"].as_f64().unwrap() > 0.0);
    assert!(ok["latency_ms"].as_f64().unwrap() >= ok["backend"]["latency_ms"].as_f64().unwrap());
    assert_eq!(ok["backend"].get("message"), None);
    // Mirrors as known when printed: nobody waits for them.
    let mirrored = ok["mirrors"].as_array().unwrap();
    assert!(
        mirrored == &[json!(204)] || mirrored == &[json!("pending")],
        "{mirrored:?}"
    );
    assert_eq!(mirror.next().await.body, rw1_body(&[1.0]));

    let refusal = "out of order sample for series {__name__=\"up\", job=\"test\"}";
    backend.answer_with(BackendAnswer::status(400).with_body(refusal));
    let resent = [RW1_HEADERS, &[("retry-attempt", "2")]].concat();
    let (status, body) = post(&url, &resent, rw1_body(&[1.0])).await;
    assert_eq!((status, body.as_str()), (400, refusal));
    let refused = next_request().await;
    assert_eq!(refused["retry_attempt"], "2");
    assert_eq!(refused["status"], 400);
    assert_eq!(
        refused["backend"],
        json!({"answered": true, "status": 400, "latency_ms": refused["backend"]["latency_ms"], "message": refusal})
    );

    backend.answer_with(BackendAnswer::status(204));
    assert_eq!(post(&url, RW1_HEADERS, b"not snappy".to_vec()).await.0, 204);
    let undecodable = next_request().await;
    assert_eq!(undecodable["undecodable"]["reason"], "bad_snappy");
    assert_eq!(backend.next().await.body, rw1_body(&[1.0]));

    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let mut summary = String::new();
    stderr.read_to_string(&mut summary).unwrap();
    let _ = child.wait();
    assert!(
        summary.contains("1 rejected by the backend") && summary.contains("2 ok"),
        "{summary}"
    );
    // The backend's rejection is the backend's, not promscope's.
    assert!(
        summary.contains("\n  requests    2 accepted, 1 rejected and 0 not answered by the backend, 0 refused by promscope\n"),
        "{summary}"
    );
    assert!(summary.contains("mirrored    to http://"), "{summary}");
}

/// Nobody waits for mirrors: requests still in flight to a slow one at exit
/// are counted as such, so that its counts add up to the requests mirrored.
#[tokio::test(flavor = "multi_thread")]
async fn requests_in_flight_to_a_mirror_at_exit_are_counted_as_pending() {
    let backend = TestBackend::start(BackendAnswer::status(204)).await;
    let slow = BackendAnswer::status(204).after(Duration::from_secs(60));
    let mut mirror = TestBackend::start(slow).await;
    let mirror_url = mirror.url("/api/v1/write");
    let binary::Started {
        mut child,
        url,
        stderr,
        ..
    } = forwarding_json(&backend, &["--mirror", &mirror_url]);
    let stderr = binary::read_in_background(stderr);
    for _ in 0..3 {
        assert_eq!(post(&url, RW1_HEADERS, rw1_body(&[1.0])).await.0, 204);
        // At the mirror, which holds its answer.
        mirror.next().await;
    }
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let summary = stderr.join().unwrap();
    let _ = child.wait();
    let mirrored = format!(
        "\n  mirrored    to {mirror_url}: 0 ok, 0 failed or unanswered, 0 not sent (queue full), 3 still pending at exit\n"
    );
    assert!(summary.contains(&mirrored), "{mirrored}\n{summary}");
}

/// Forwarded requests are answered before they are inspected: at SIGTERM,
/// those still waiting for inspection (stdout was not being read) are printed
/// all the same, not dropped.
#[tokio::test(flavor = "multi_thread")]
async fn forwarded_requests_waiting_for_inspection_are_printed_at_exit() {
    const REQUESTS: usize = 150;
    let backend = TestBackend::start(BackendAnswer::status(204)).await;
    let binary::Started {
        mut child,
        url,
        mut stderr,
        ..
    } = forwarding_json(&backend, &[]);
    // 200 samples a request fill the stdout pipe within a few requests: the
    // output queue fills behind it, then the inspection queue.
    let values: Vec<f64> = (0..200).map(f64::from).collect();
    for _ in 0..REQUESTS {
        assert_eq!(post(&url, RW1_HEADERS, rw1_body(&values)).await.0, 204);
    }
    let (stdout, summary, _) = terminate(&mut child, &mut stderr);
    assert_eq!(request_records(&stdout), REQUESTS, "{summary}");
    assert!(summary.contains(", 0 not inspected"), "{summary}");
}

/// Ends `child` with SIGTERM (as Ctrl-C would): what it printed, its
/// closing summary, and how it exited.
fn terminate(
    child: &mut std::process::Child,
    stderr: &mut impl Read,
) -> (String, String, std::process::ExitStatus) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let mut summary = String::new();
    stderr.read_to_string(&mut summary).unwrap();
    let exit = child.wait().unwrap();
    (stdout, summary, exit)
}

/// How many request records `stdout` holds.
fn request_records(stdout: &str) -> usize {
    stdout
        .lines()
        .filter(|line| line.starts_with(r#"{"kind":"request""#))
        .count()
}

/// How many threads of process `pid` are named `name`, once as many as
/// `expected` have started (they name themselves as they start), or after 5 s.
fn threads_named(pid: u32, name: &str, expected: usize) -> usize {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
        let named = tasks
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .filter(|comm| comm.trim_end() == name)
            .count();
        if named >= expected || std::time::Instant::now() > deadline {
            return named;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn forward_threads_serve_the_senders_and_stop_cleanly() {
    let backend = TestBackend::start(BackendAnswer::status(204)).await;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    for (extra, threads) in [
        (&["--forward-threads", "3"][..], 3),
        (&[][..], cores.div_ceil(4)),
    ] {
        let binary::Started {
            mut child,
            url,
            mut stderr,
            ..
        } = forwarding_json(&backend, extra);
        assert_eq!(threads_named(child.id(), "forward", threads), threads);
        // Nor more a moment later.
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(
            threads_named(child.id(), "forward", 0),
            threads,
            "{extra:?}"
        );
        for value in 0..4 {
            assert_eq!(
                post(&url, RW1_HEADERS, rw1_body(&[value.into()])).await.0,
                204
            );
        }
        let (stdout, summary, exit) = terminate(&mut child, &mut stderr);
        assert!(exit.success(), "{summary}");
        assert_eq!(request_records(&stdout), 4, "{summary}");
    }
}

#[test]
fn forward_threads_must_be_a_count_with_forward() {
    for (args, says) in [
        (
            &["--forward", "http://127.0.0.1:9", "--forward-threads", "0"][..],
            "0 is not in 1..=1024",
        ),
        (&["--forward-threads", "2"][..], "--forward"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_promscope"))
            .args(args)
            .args(["--no-tui"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(says), "{says} in {stderr}");
    }
}

/// What follows a request record of `--format json`: the rules of its
/// problems and the messages of its warnings.
#[derive(Debug, Default)]
struct Findings {
    rules: Vec<String>,
    warnings: Vec<String>,
}

/// The findings of each request record in `stdout`, in order.
fn findings_by_request(stdout: &str) -> Vec<Findings> {
    let mut requests: Vec<Findings> = Vec::new();
    for record in stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
    {
        let text = |field: &str| record[field].as_str().unwrap_or_default().to_owned();
        match (record["kind"].as_str(), requests.last_mut()) {
            (Some("request"), _) => requests.push(Findings::default()),
            (Some("problem"), Some(last)) => last.rules.push(text("rule")),
            (Some("warning"), Some(last)) => last.warnings.push(text("message")),
            _ => {}
        }
    }
    requests
}

/// Three samples of one series whose metric name is invalid: checked twice,
/// a resend would be out of order and duplicate as well.
fn three_samples() -> Vec<u8> {
    let at = now_ms();
    rw1_samples_body(&[("__name__", "bad-name")], &[at - 2_000, at - 1_000, at])
}

/// Sends [`three_samples`] three times: first to `backend` as it answers
/// now (the sender gets `first`; its warning says `says`), then answered 204
/// twice; checks what each request's records say.
async fn resent(backend: TestBackend, extra: &[&str], first: u16, says: &str) {
    let binary::Started {
        mut child,
        url,
        mut stderr,
        ..
    } = forwarding_json(&backend, extra);
    let body = three_samples();
    assert_eq!(post(&url, RW1_HEADERS, body.clone()).await.0, first);
    backend.answer_with(BackendAnswer::status(204));
    assert_eq!(post(&url, RW1_HEADERS, body.clone()).await.0, 204);
    // Taken by the backend, a resend is checked against it.
    assert_eq!(post(&url, RW1_HEADERS, body).await.0, 204);
    let (stdout, summary, _) = terminate(&mut child, &mut stderr);
    let requests = findings_by_request(&stdout);
    assert_eq!(requests.len(), 3, "{stdout}\n{summary}");
    // Checked all the same, the first keeps none of its samples: the first
    // time the backend takes it, only what is wrong with it fires.
    let kept_none =
        format!("checked without keeping its samples: {says}, the sender sends it again");
    assert_eq!(requests[0].warnings, [kept_none], "{stdout}");
    for request in &requests[..2] {
        assert_eq!(request.rules, ["metric-name-invalid"], "{stdout}");
    }
    assert_eq!(requests[1].warnings, Vec::<String>::new(), "{stdout}");
    assert!(
        requests[2].rules.iter().any(|r| r == "duplicate-sample"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_the_backend_never_answered_is_checked_without_keeping_its_samples() {
    let backend =
        TestBackend::start(BackendAnswer::status(204).after(Duration::from_secs(2))).await;
    let extra = ["--forward-timeout", "200ms"];
    resent(backend, &extra, 504, "the backend never answered").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_the_backend_answered_503_is_checked_without_keeping_its_samples() {
    let backend = TestBackend::start(BackendAnswer::status(503)).await;
    resent(backend, &[], 503, "the backend answered 503").await;
}
