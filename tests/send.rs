//! `promscope send` against a real receiver on an ephemeral port: what arrives
//! (series, labels, samples, histograms, churn), the Written-header check, the
//! counters, limits and errors, `--write-bodies`, and the binary end to end.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::temp::TempDir;
use common::*;
use promscope::ingest::model::{Batch, HistogramExt, Outcome, Protocol, WriteData};
use promscope::ingest::server::Limits;
use promscope::send::{self, SendConfig, SendError, SendStats, WorkloadConfig};
use tokio::sync::watch;

const METRICS: usize = 3;
const SERIES_PER_METRIC: usize = 4;
const SERIES: usize = METRICS * SERIES_PER_METRIC;

fn config(r: &TestReceiver, protocol: Protocol, requests: u64) -> SendConfig {
    SendConfig {
        workload: WorkloadConfig {
            protocol,
            metrics: METRICS,
            series_per_metric: SERIES_PER_METRIC,
            samples_per_request: SERIES,
            ..WorkloadConfig::default()
        },
        concurrency: 2,
        requests: Some(requests),
        ..SendConfig::new(format!("http://{}/api/v1/write", r.addr))
    }
}

/// Runs `config` to its end and returns the counters.
async fn send(config: &SendConfig) -> Arc<SendStats> {
    let stats = Arc::new(SendStats::default());
    let (_stop, stop_rx) = watch::channel(false);
    send::send_load(config, stats.clone(), stop_rx)
        .await
        .expect("sending starts");
    stats
}

async fn batches(r: &mut TestReceiver, n: usize) -> Vec<Batch> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(r.next_batch().await);
    }
    assert!(r.rx.try_recv().is_err(), "no more than {n} requests");
    out
}

fn label<'a>(labels: &[(&'a str, &'a str)], name: &str) -> &'a str {
    labels
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, v)| v)
}

/// Checks the avalanche layout of every series; returns (metric, series_id, cycle_id) of each.
fn check_series(data: &WriteData) -> Vec<(String, String, String)> {
    let mut expected_names = vec!["__name__", "cycle_id", "series_id"];
    let keys: Vec<String> = (0..10).map(|k| format!("label_key_kkkkk_{k}")).collect();
    expected_names.extend(keys.iter().map(String::as_str));
    expected_names.sort_unstable();
    assert!(data.warnings.is_empty(), "{:?}", data.warnings);
    data.series
        .iter()
        .map(|s| {
            let labels: Vec<_> = data.label_pairs(s.labels.clone()).collect();
            let names: Vec<_> = labels.iter().map(|(n, _)| *n).collect();
            assert_eq!(names, expected_names, "13 labels, sorted by name");
            for k in 0..10 {
                assert_eq!(
                    label(&labels, &format!("label_key_kkkkk_{k}")),
                    format!("label_val_vvvvv_{k}")
                );
            }
            let name = label(&labels, "__name__");
            assert!(name.starts_with("avalanche_metric_mmmmm_0_"), "{name}");
            (
                name.to_owned(),
                label(&labels, "series_id").to_owned(),
                label(&labels, "cycle_id").to_owned(),
            )
        })
        .collect()
}

fn assert_all_ok(stats: &SendStats, requests: u64) {
    let t = stats.snapshot();
    assert_eq!(t.requests, requests);
    assert_eq!(t.ok, requests, "{}", stats.report(Duration::from_secs(1)));
    assert_eq!(t.rejected + t.transport_errors + t.written_mismatches, 0);
}

#[tokio::test]
async fn rw1_requests_carry_every_series_once_with_avalanche_labels() {
    let mut r = TestReceiver::start(Limits::default(), 64).await;
    let stats = send(&config(&r, Protocol::V1, 4)).await;
    assert_all_ok(&stats, 4);
    assert_eq!(stats.snapshot().samples, 4 * SERIES as u64);
    for batch in batches(&mut r, 4).await {
        assert_eq!(batch.outcome, Outcome::Accepted);
        assert_eq!(batch.info.protocol, Some(Protocol::V1));
        let agent = batch.info.user_agent.unwrap_or_default();
        assert!(agent.starts_with("promscope-send/"), "{agent}");
        let data = &batch.data;
        assert_eq!(data.series.len(), SERIES);
        assert_eq!(data.samples.len(), SERIES);
        assert!(data.histograms.is_empty());
        let ids: HashSet<_> = check_series(data).into_iter().collect();
        assert_eq!(ids.len(), SERIES, "each series once");
        let timestamps: HashSet<_> = data.samples.iter().map(|s| s.timestamp_ms).collect();
        assert_eq!(timestamps.len(), 1, "one timestamp per request");
    }
}

#[tokio::test]
async fn vm_protocol_requests_are_zstd_and_carry_every_series_once() {
    let mut r = TestReceiver::start(Limits::default(), 64).await;
    let stats = send(&config(&r, Protocol::Vm, 3)).await;
    assert_all_ok(&stats, 3);
    for batch in batches(&mut r, 3).await {
        assert_eq!(batch.outcome, Outcome::Accepted);
        assert_eq!(batch.info.protocol, Some(Protocol::Vm));
        let data = &batch.data;
        assert_eq!(data.series.len(), SERIES);
        assert_eq!(data.samples.len(), SERIES);
        check_series(data);
    }
}

#[tokio::test]
async fn rw2_requests_get_matching_written_headers_and_carry_metadata() {
    let mut r = TestReceiver::start(Limits::default(), 64).await;
    let stats = send(&config(&r, Protocol::V2, 3)).await;
    assert_all_ok(&stats, 3);
    for batch in batches(&mut r, 3).await {
        assert_eq!(batch.info.protocol, Some(Protocol::V2));
        let data = &batch.data;
        assert_eq!(data.series.len(), SERIES);
        assert_eq!(data.samples.len(), SERIES);
        check_series(data);
        for s in &data.series {
            let meta = s.metadata.expect("per-series metadata");
            assert_eq!(meta.metric_type.name(), "gauge");
            assert_eq!(data.str(meta.help), "A tasty metric morsel");
        }
    }
}

#[tokio::test]
async fn histograms_are_valid_native_histograms_in_both_protocols() {
    for protocol in [Protocol::V1, Protocol::V2] {
        let mut r = TestReceiver::start(Limits::default(), 64).await;
        let mut c = config(&r, protocol, 3);
        c.workload.histograms = true;
        let stats = send(&c).await;
        assert_all_ok(&stats, 3);
        let t = stats.snapshot();
        assert_eq!(t.histograms, 3 * SERIES_PER_METRIC as u64);
        assert_eq!(t.samples, 3 * (SERIES - SERIES_PER_METRIC) as u64);
        for batch in batches(&mut r, 3).await {
            let data = &batch.data;
            assert_eq!(data.histograms.len(), SERIES_PER_METRIC);
            for (s, (name, _, _)) in data.series.iter().zip(check_series(data)) {
                let is_histogram = name == send::metric_name(METRICS - 1);
                assert_eq!(data.histograms_of(s).len(), usize::from(is_histogram));
                assert_eq!(data.samples_of(s).len(), usize::from(!is_histogram));
                for h in data.histograms_of(s) {
                    let buckets: f64 = h.positive_buckets().iter().sum();
                    assert!(!h.is_float());
                    assert_eq!(h.total_count(), h.zero_count_value() + buckets);
                    assert!(h.negative_buckets().is_empty());
                    assert_eq!(h.reset_hint_name(), "gauge");
                }
                if protocol == Protocol::V2 && is_histogram {
                    let meta = s.metadata.unwrap();
                    assert_eq!(meta.metric_type.name(), "gaugehistogram");
                }
            }
        }
    }
}

#[tokio::test]
async fn churn_replaces_every_series_each_cycle() {
    let mut r = TestReceiver::start(Limits::default(), 64).await;
    let mut c = config(&r, Protocol::V2, 5);
    c.concurrency = 1;
    c.workload.churn_every = Some(2);
    let stats = send(&c).await;
    assert_all_ok(&stats, 5);
    let cycles: Vec<String> = batches(&mut r, 5)
        .await
        .iter()
        .map(|b| {
            let cycles: HashSet<_> = check_series(&b.data)
                .into_iter()
                .map(|(_, _, c)| c)
                .collect();
            assert_eq!(cycles.len(), 1, "one cycle per request");
            cycles.into_iter().next().unwrap()
        })
        .collect();
    assert_eq!(cycles, ["0", "0", "1", "1", "2"]);
}

#[tokio::test]
async fn smaller_requests_walk_through_all_series() {
    let mut r = TestReceiver::start(Limits::default(), 64).await;
    let mut c = config(&r, Protocol::V1, 12);
    c.workload.samples_per_request = 5;
    c.concurrency = 3;
    let stats = send(&c).await;
    assert_all_ok(&stats, 12);
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for batch in batches(&mut r, 12).await {
        assert_eq!(batch.data.series.len(), 5);
        for (name, id, _) in check_series(&batch.data) {
            *seen.entry((name, id)).or_default() += 1;
        }
    }
    assert_eq!(seen.len(), SERIES);
    assert!(seen.values().all(|n| *n == 5), "{seen:?}");
}

#[tokio::test]
async fn precomputed_bodies_are_sent_in_rotation() {
    let mut r = TestReceiver::start(Limits::default(), 64).await;
    let mut c = config(&r, Protocol::V2, 6);
    c.workload.samples_per_request = 6;
    c.precompute = Some(2);
    let stats = send(&c).await;
    assert_all_ok(&stats, 6);
    let timestamps: HashSet<i64> = batches(&mut r, 6)
        .await
        .iter()
        .map(|b| b.data.samples[0].timestamp_ms)
        .collect();
    assert_eq!(timestamps.len(), 2, "two bodies reused");
}

#[tokio::test]
async fn rate_paces_requests() {
    let mut r = TestReceiver::start(Limits::default(), 64).await;
    let mut c = config(&r, Protocol::V1, 3);
    // 10 requests/s: the third starts 200 ms after the first.
    c.rate = Some(10.0 * SERIES as f64);
    let started = Instant::now();
    let stats = send(&c).await;
    assert!(started.elapsed() >= Duration::from_millis(190));
    assert_all_ok(&stats, 3);
    batches(&mut r, 3).await;
}

#[tokio::test]
async fn duration_and_stop_end_an_unlimited_run() {
    let mut r = TestReceiver::start(Limits::default(), 1024).await;
    let mut c = config(&r, Protocol::V1, 0);
    c.requests = None;
    c.rate = Some(50.0 * SERIES as f64);
    c.duration = Some(Duration::from_millis(300));
    let started = Instant::now();
    let stats = send(&c).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    let sent = stats.snapshot().ok;
    assert!(
        (5..=16).contains(&sent),
        "{sent} requests in 300 ms at 50/s"
    );

    c.duration = None;
    let stats = Arc::new(SendStats::default());
    let (stop, stop_rx) = watch::channel(false);
    let run = tokio::spawn({
        let (c, stats) = (c.clone(), stats.clone());
        async move { send::send_load(&c, stats, stop_rx).await }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(3), run)
        .await
        .expect("stops promptly")
        .unwrap()
        .unwrap();
    assert!(stats.snapshot().ok > 0);
    while r.rx.try_recv().is_ok() {}
}

#[tokio::test]
async fn rejections_are_grouped_by_status_with_the_first_body() {
    let limits = Limits {
        max_decoded_bytes: 100,
        ..Limits::default()
    };
    let mut r = TestReceiver::start(limits, 64).await;
    let stats = send(&config(&r, Protocol::V2, 3)).await;
    let t = stats.snapshot();
    assert_eq!((t.requests, t.ok, t.rejected, t.samples), (3, 0, 3, 0));
    let statuses = stats.statuses();
    assert_eq!(statuses.len(), 1);
    let (status, n, body) = &statuses[0];
    assert_eq!((*status, *n), (413, 3));
    assert!(body.contains("--max-body-bytes"), "{body}");
    let summary = stats.report(Duration::from_secs(1)).to_string();
    assert!(summary.contains("413 × 3: "), "{summary}");
    batches(&mut r, 3).await;
}

#[tokio::test]
async fn an_unreachable_receiver_is_one_clear_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = SendConfig::new(format!("http://{addr}/api/v1/write"));
    let (_stop, stop_rx) = watch::channel(false);
    let err = send::send_load(&c, Arc::new(SendStats::default()), stop_rx)
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Unreachable { .. }));
    let text = err.to_string();
    assert!(text.contains(&format!(
        "receiver at http://{addr}/api/v1/write is not reachable"
    )));
    assert!(
        text.contains(&format!("promscope --listen {addr}")),
        "{text}"
    );
    assert!(!text.contains('\n'));
}

#[tokio::test]
async fn bad_settings_are_rejected_before_sending() {
    let mut c = SendConfig::new("https://example.com/api/v1/write");
    let (_stop, stop_rx) = watch::channel(false);
    let stats = Arc::new(SendStats::default());
    let err = send::send_load(&c, stats.clone(), stop_rx.clone()).await;
    assert!(matches!(err, Err(SendError::InvalidUrl { .. })), "{err:?}");
    c.url = send::DEFAULT_URL.into();
    c.workload.metrics = 0;
    let err = send::send_load(&c, stats, stop_rx).await.unwrap_err();
    assert_eq!(err.to_string(), "--metrics must be at least 1");
}

#[tokio::test]
async fn written_bodies_replay_with_the_written_headers() {
    let dir = TempDir::new("send-bodies");
    let workload = WorkloadConfig {
        protocol: Protocol::V2,
        metrics: METRICS,
        series_per_metric: SERIES_PER_METRIC,
        histograms: true,
        ..WorkloadConfig::default()
    };
    send::write_bodies(&dir, workload, 3).unwrap();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "body-0000.bin",
            "body-0001.bin",
            "body-0002.bin",
            "headers.txt"
        ]
    );
    let header_text = std::fs::read_to_string(dir.join("headers.txt")).unwrap();
    let headers: Vec<(&str, &str)> = header_text
        .lines()
        .map(|l| l.split_once(": ").unwrap())
        .collect();
    assert_eq!(headers[0], ("Content-Encoding", "snappy"));
    assert_eq!(headers[1], ("Content-Type", RW2_CONTENT_TYPE));
    let body = std::fs::read(dir.join("body-0001.bin")).unwrap();

    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let reply = r.post("/api/v1/write", &headers, body).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let written = |name: &str| reply.headers[name].to_str().unwrap().to_owned();
    assert_eq!(
        written("x-prometheus-remote-write-samples-written"),
        (SERIES - SERIES_PER_METRIC).to_string()
    );
    assert_eq!(
        written("x-prometheus-remote-write-histograms-written"),
        SERIES_PER_METRIC.to_string()
    );
    assert_eq!(r.next_batch().await.data.series.len(), SERIES);
}

/// Runs the binary with `args`; returns (success, stderr).
async fn promscope(args: Vec<String>) -> (bool, String) {
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_promscope"))
            .args(&args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_sends_and_summarises() {
    let mut r = TestReceiver::start(Limits::default(), 64).await;
    let args = format!(
        "send --url http://{}/x --protocol rw2 --metrics 2 --series-per-metric 5 --requests 3",
        r.addr
    );
    let (ok, stderr) = promscope(args.split(' ').map(String::from).collect()).await;
    assert!(ok, "{stderr}");
    assert!(stderr.contains("sent 3 requests in"), "{stderr}");
    assert!(
        stderr.contains("2xx 3, non-2xx 0, transport errors 0"),
        "{stderr}"
    );
    assert!(stderr.contains("accepted 30 samples"), "{stderr}");
    for batch in batches(&mut r, 3).await {
        assert_eq!(batch.data.series.len(), 10);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_fails_with_one_line_when_nothing_listens() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let args = ["send", "--url", &format!("http://{addr}/api/v1/write")];
    let (ok, stderr) = promscope(args.map(String::from).to_vec()).await;
    assert!(!ok);
    assert!(stderr.contains("is not reachable"), "{stderr}");
    assert!(
        stderr.contains(&format!("promscope --listen {addr}")),
        "{stderr}"
    );
    assert_eq!(
        stderr.trim().lines().count(),
        2,
        "banner and error: {stderr}"
    );
}
