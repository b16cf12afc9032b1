//! Churn and cardinality against the real binary: `promscope send --churn-every 1`
//! replaces every series with each request, and `--report cardinality` counts
//! them at exit.

mod common;

use std::process::Command;
use std::time::Duration;

use common::Headless;
use serde_json::Value;

const REQUESTS: u64 = 6;
const METRICS: u64 = 2;
const SERIES_PER_METRIC: u64 = 40;

#[test]
fn a_sender_that_replaces_its_series_every_request_shows_as_churn_in_the_report() {
    let receiver = Headless::start(&["--no-tui", "--format", "json", "--report", "cardinality"]);
    let url = receiver.url.clone();
    let series = (METRICS * SERIES_PER_METRIC).to_string();
    let sent = Command::new(env!("CARGO_BIN_EXE_promscope"))
        .args(["send", "--url", &url, "--concurrency", "1"])
        .args(["--requests", &REQUESTS.to_string(), "--churn-every", "1"])
        .args(["--metrics", &METRICS.to_string()])
        .args(["--series-per-metric", &SERIES_PER_METRIC.to_string()])
        .args(["--samples-per-request", &series])
        .output()
        .expect("send runs");
    assert!(sent.status.success(), "{sent:?}");
    // Everything acknowledged is in; SIGTERM prints the report at exit.
    std::thread::sleep(Duration::from_millis(300));
    let out = receiver.stop();
    let last = out.lines().last().expect("a report line");
    let report: Value = serde_json::from_str(last).expect(last);
    assert_eq!(report["kind"], "cardinality");
    // Each request carried a new cycle of every series.
    let total = REQUESTS * METRICS * SERIES_PER_METRIC;
    assert_eq!(report["created_5m"], total, "{report}");
    assert_eq!(report["active_series"], total, "none is stale yet");
    assert!(report["new_series_per_s"].as_f64().unwrap() > 0.0);
    let metrics = report["metrics"].as_array().expect("metrics");
    assert_eq!(metrics.len() as u64, METRICS);
    for m in metrics {
        assert_eq!(m["active"], REQUESTS * SERIES_PER_METRIC, "{m}");
        let cycle = m["labels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["label"] == "cycle_id")
            .expect("cycle_id tracked");
        assert_eq!(cycle["distinct"], REQUESTS, "{cycle}");
        assert_eq!(cycle["top"][0]["series"], SERIES_PER_METRIC, "{cycle}");
    }
}
