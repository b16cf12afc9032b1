//! Workloads shared by the benchmarks.
#![allow(dead_code)] // each bench binary uses a subset

use std::time::{Duration, UNIX_EPOCH};

use promscope::ingest::decode;
use promscope::ingest::model::{Batch, Outcome, Protocol, Repeats, RequestInfo, Sample, WriteData};
use promscope::proto::rw1;
use promscope::send::{Workload, WorkloadConfig};
use promscope::store::{Store, StoreLimits};
use prost::Message;

/// A fixed "now" so runs are comparable.
pub const T0: i64 = 1_732_000_000_000;

/// Snappy-compressed avalanche request: 2000 series × 13 labels, one sample each.
pub fn avalanche_body(protocol: Protocol) -> Vec<u8> {
    let config = WorkloadConfig {
        protocol,
        ..WorkloadConfig::default()
    };
    let mut workload = Workload::new(config).expect("default workload is valid");
    workload.build(0, T0).bytes.to_vec()
}

/// Snappy-compressed RW1 request with 10k series of 9 labels (like a node
/// exporter fleet: name, instance, job and six more), one sample each.
pub fn ten_k_body() -> Vec<u8> {
    let label = |name: &str, value: String| rw1::Label {
        name: name.into(),
        value,
    };
    let timeseries = (0..10_000)
        .map(|i| rw1::TimeSeries {
            labels: vec![
                label("__name__", format!("node_metric_{}", i % 50)),
                label("cpu", format!("{}", i % 16)),
                label("datacenter", "eu-west-1".into()),
                label("env", "production".into()),
                label("instance", format!("10.0.{}.{}:9100", i / 250, i % 250)),
                label("job", "node".into()),
                label("mode", ["idle", "user", "system", "iowait"][i % 4].into()),
                label("rack", format!("r{}", i % 40)),
                label("team", "infrastructure".into()),
            ],
            samples: vec![rw1::Sample {
                value: i as f64 * 1.5,
                timestamp: T0,
            }],
            ..Default::default()
        })
        .collect();
    let req = rw1::WriteRequest {
        timeseries,
        metadata: vec![],
    };
    snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .expect("compressible")
}

/// Decodes a compressed body into a batch arriving at `arrival_ms`.
pub fn batch(protocol: Protocol, body: &[u8], arrival_ms: i64) -> Batch {
    let raw = decode::decompress(body, 64 << 20).expect("valid snappy");
    Batch {
        info: info(arrival_ms, protocol, body.len(), raw.len()),
        outcome: Outcome::Accepted,
        data: decode::decode(protocol, raw).expect("valid protobuf"),
    }
}

fn info(arrival_ms: i64, protocol: Protocol, compressed: usize, decoded: usize) -> RequestInfo {
    RequestInfo {
        received_at: UNIX_EPOCH + Duration::from_millis(arrival_ms as u64),
        remote_addr: Some("127.0.0.1:40000".parse().expect("valid address")),
        path: "/api/v1/write".into(),
        user_agent: Some("bench".into()),
        protocol: Some(protocol),
        compressed_bytes: compressed,
        decoded_bytes: decoded,
        retry_attempt: None,
        tenant: None,
        raw: None,
        repeats: Repeats::Alone,
    }
}

/// A batch of `data` arriving at `arrival_ms`.
pub fn batch_of(data: WriteData, arrival_ms: i64) -> Batch {
    received(Protocol::V1, data, arrival_ms)
}

/// A batch of `data`, sent in `protocol`, arriving at `arrival_ms`.
pub fn received(protocol: Protocol, data: WriteData, arrival_ms: i64) -> Batch {
    Batch {
        info: info(arrival_ms, protocol, 0, 0),
        outcome: Outcome::Accepted,
        data,
    }
}

/// A batch of `n` avalanche-like series numbered from `first`, one sample each.
pub fn series_batch(first: usize, n: usize, arrival_ms: i64, samples: usize) -> Batch {
    let mut data = WriteData::default();
    let keys: Vec<(String, String)> = (0..10)
        .map(|k| {
            (
                format!("label_key_kkkkk_{k}"),
                format!("label_val_vvvvv_{k}"),
            )
        })
        .collect();
    for i in first..first + n {
        let name = format!("avalanche_metric_mmmmm_0_{}", i % 100);
        let id = i.to_string();
        let mut labels: Vec<(&str, &str)> = vec![("__name__", &name), ("cycle_id", "0")];
        labels.extend(keys.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        labels.push(("series_id", &id));
        let points: Vec<Sample> = (0..samples)
            .map(|s| Sample {
                value: (i + s) as f64,
                timestamp_ms: arrival_ms - 1000 * (samples - s) as i64,
                start_timestamp_ms: 0,
            })
            .collect();
        data.push_series(&labels, &points, &[]);
    }
    batch_of(data, arrival_ms)
}

/// A store holding `series` series (100 metric names) with `samples` samples each.
pub fn store_with(series: usize, samples: usize) -> Store {
    let mut store = Store::new(StoreLimits {
        max_series: series.max(1),
        ..StoreLimits::default()
    });
    const CHUNK: usize = 10_000;
    for start in (0..series).step_by(CHUNK) {
        store.ingest(&series_batch(start, CHUNK.min(series - start), T0, samples));
    }
    store
}

/// A store of a million series in 10k metrics of 100 series, each with 20
/// labels: a few constant, some of a few values, one per series (`pod`), as
/// the cardinality benchmark asks; with cardinality tracking on or
/// off (`tracking`).
pub fn ten_k_metrics(tracking: bool) -> Store {
    const MILLION: usize = 1_000_000;
    let mut store = Store::new(StoreLimits {
        max_series: MILLION,
        track_cardinality: tracking,
        ..StoreLimits::default()
    });
    let names: Vec<String> = (0..20).map(|k| format!("label_{k:02}")).collect();
    for chunk in 0..100 {
        let mut data = WriteData::default();
        for i in chunk * 10_000..(chunk + 1) * 10_000 {
            let metric = format!("metric_{:05}", i / 100);
            let values: Vec<String> = (0..20)
                .map(|k| match k {
                    0..=4 => format!("constant_{k}"),
                    5..=14 => format!("v{}", i % (k * 3)),
                    15..=18 => format!("v{}", i % (k * 5)),
                    _ => format!("pod-{i:07}"),
                })
                .collect();
            let mut labels: Vec<(&str, &str)> = vec![("__name__", metric.as_str())];
            labels.extend(
                names
                    .iter()
                    .zip(&values)
                    .map(|(n, v)| (n.as_str(), v.as_str())),
            );
            let sample = Sample {
                value: 1.0,
                timestamp_ms: T0,
                start_timestamp_ms: 0,
            };
            data.push_series(&labels, &[sample], &[]);
        }
        store.ingest(&batch_of(data, T0));
    }
    store
}
