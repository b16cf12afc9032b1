//! The generated part of the seed corpus: requests of `promscope send`'s
//! workload, requests with everything a schema allows (exemplars, metadata,
//! start timestamps, integer and float histograms, sender text a terminal must
//! not see raw), native histograms, and the pipeline's multi-request inputs,
//! some built from the captured Prometheus requests (see fuzz/README.md).

use std::fs;
use std::path::Path;

use promscope::fuzzing::SEPARATOR;
use promscope::ingest::decode::Compression;
use promscope::ingest::model::Protocol;
use promscope::proto::{rw1 as pb1, rw2 as pb2};
use promscope::send::{Workload, WorkloadConfig};
use prost::Message;

use super::dashboard::hostile::HOSTILE_TEXT;
use super::dashboard::{T0, stale_nan};

/// `promscope send`'s request number `seq`: three metrics of three series, the
/// last metric's series native histograms; as sent.
fn workload_body(protocol: Protocol, seq: u64) -> Vec<u8> {
    let config = WorkloadConfig {
        protocol,
        metrics: 3,
        series_per_metric: 3,
        samples_per_request: 9,
        churn_every: None,
        histograms: true,
    };
    let mut workload = Workload::new(config).expect("a valid workload");
    workload.build(seq, T0 + seq as i64 * 5_000).bytes.to_vec()
}

/// [`workload_body`], decompressed.
fn workload(protocol: Protocol, seq: u64) -> Vec<u8> {
    Compression::of(protocol)
        .decompress(&workload_body(protocol, seq), 1 << 20)
        .expect("a body from our own encoder")
}

/// `body` compressed as vmagent compresses it for VictoriaMetrics' protocol.
fn zstd(body: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(body, ruzstd::encoding::CompressionLevel::Fastest)
}

fn int_histogram(timestamp: i64) -> pb2::Histogram {
    let span = |offset, length| pb2::BucketSpan { offset, length };
    pb2::Histogram {
        count: Some(pb2::histogram::Count::CountInt(14)),
        sum: 18.4,
        schema: 1,
        zero_threshold: 1e-128,
        zero_count: Some(pb2::histogram::ZeroCount::ZeroCountInt(2)),
        negative_spans: vec![span(0, 2)],
        negative_deltas: vec![1, 1],
        positive_spans: vec![span(-2, 2), span(1, 2)],
        positive_deltas: vec![1, 1, -1, 7],
        reset_hint: 2,
        timestamp,
        start_timestamp: timestamp - 60_000,
        ..Default::default()
    }
}

fn float_custom_histogram(timestamp: i64) -> pb2::Histogram {
    pb2::Histogram {
        count: Some(pb2::histogram::Count::CountFloat(5.5)),
        sum: 2.5,
        schema: -53,
        positive_spans: vec![pb2::BucketSpan {
            offset: 0,
            length: 3,
        }],
        positive_counts: vec![1.5, 2.0, 2.0],
        custom_values: vec![0.1, 0.5, 1.0],
        reset_hint: 3,
        timestamp,
        ..Default::default()
    }
}

/// A gauge histogram of float counts, negative buckets and a wide schema.
fn float_gauge_histogram(timestamp: i64) -> pb2::Histogram {
    pb2::Histogram {
        count: Some(pb2::histogram::Count::CountFloat(7.25)),
        sum: -3.5,
        schema: 8,
        zero_threshold: 0.001,
        zero_count: Some(pb2::histogram::ZeroCount::ZeroCountFloat(0.25)),
        negative_spans: vec![pb2::BucketSpan {
            offset: -300,
            length: 2,
        }],
        negative_counts: vec![1.0, 3.0],
        positive_spans: vec![pb2::BucketSpan {
            offset: 100,
            length: 2,
        }],
        positive_counts: vec![2.0, 1.0],
        reset_hint: 3,
        timestamp,
        ..Default::default()
    }
}

fn label(name: &str, value: &str) -> pb1::Label {
    pb1::Label {
        name: name.into(),
        value: value.into(),
    }
}

fn to_rw1(h: &pb2::Histogram) -> pb1::Histogram {
    pb1::Histogram::decode(h.encode_to_vec().as_slice()).expect("wire-compatible histograms")
}

/// An RW 1.0 request with a bit of everything.
fn rich_rw1() -> Vec<u8> {
    let hostile = HOSTILE_TEXT[1];
    let request = pb1::WriteRequest {
        timeseries: vec![
            pb1::TimeSeries {
                labels: vec![
                    label("__name__", "http_requests_total"),
                    label("code", "200"),
                    label("path", HOSTILE_TEXT[0]),
                    // A joiner: the one kind of hidden character a cell can hold.
                    label("zwj", "a\u{200d}b"),
                ],
                samples: vec![
                    pb1::Sample {
                        value: 1027.0,
                        timestamp: T0,
                    },
                    pb1::Sample {
                        value: stale_nan(),
                        timestamp: T0 + 1_000,
                    },
                ],
                exemplars: vec![pb1::Exemplar {
                    labels: vec![label("trace_id", "4bf92f3577b34da6"), label("x", hostile)],
                    value: 0.25,
                    timestamp: T0 - 10,
                }],
                histograms: vec![],
            },
            pb1::TimeSeries {
                labels: vec![
                    label("__name__", "rpc_duration_seconds"),
                    label("job", "ü☃"),
                ],
                histograms: vec![
                    to_rw1(&int_histogram(T0)),
                    to_rw1(&float_custom_histogram(T0 + 1)),
                ],
                ..Default::default()
            },
            pb1::TimeSeries {
                labels: vec![label("__name__", "extremes")],
                samples: vec![
                    pb1::Sample {
                        value: 1e307,
                        timestamp: i64::MIN,
                    },
                    pb1::Sample {
                        value: f64::NEG_INFINITY,
                        timestamp: i64::MAX,
                    },
                ],
                ..Default::default()
            },
        ],
        metadata: vec![pb1::MetricMetadata {
            r#type: 1,
            metric_family_name: "http_requests_total".into(),
            help: format!("Requests {}.", HOSTILE_TEXT[2]),
            unit: "requests".into(),
        }],
    };
    request.encode_to_vec()
}

/// Symbols of an RW 2.0 request under construction.
struct Symbols(Vec<String>);

impl Symbols {
    fn of(&mut self, s: &str) -> u32 {
        let at = self.0.iter().position(|x| x == s).unwrap_or_else(|| {
            self.0.push(s.into());
            self.0.len() - 1
        });
        at as u32
    }

    fn refs(&mut self, pairs: &[(&str, &str)]) -> Vec<u32> {
        pairs
            .iter()
            .flat_map(|(k, v)| [self.of(k), self.of(v)])
            .collect()
    }
}

/// An RW 2.0 request with a bit of everything.
fn rich_rw2() -> Vec<u8> {
    let mut symbols = Symbols(vec![String::new()]);
    let counter = pb2::TimeSeries {
        labels_refs: symbols.refs(&[
            ("__name__", "http_requests_total"),
            ("code", "200"),
            ("path", HOSTILE_TEXT[3]),
        ]),
        samples: vec![pb2::Sample {
            value: 1027.0,
            timestamp: T0,
            start_timestamp: T0 - 3_600_000,
        }],
        exemplars: vec![pb2::Exemplar {
            labels_refs: symbols.refs(&[("trace_id", "4bf92f3577b34da6")]),
            value: 0.25,
            timestamp: T0 - 10,
        }],
        metadata: Some(pb2::Metadata {
            r#type: 1,
            help_ref: symbols.of(HOSTILE_TEXT[4]),
            unit_ref: symbols.of("requests"),
        }),
        created_timestamp: T0 - 7_200_000,
        ..Default::default()
    };
    let histograms = pb2::TimeSeries {
        labels_refs: symbols.refs(&[
            ("__name__", "rpc_duration_seconds"),
            ("宽", HOSTILE_TEXT[5]),
        ]),
        histograms: vec![
            int_histogram(T0),
            float_custom_histogram(T0 + 1),
            float_gauge_histogram(T0 + 2),
        ],
        metadata: Some(pb2::Metadata {
            r#type: 3,
            help_ref: symbols.of("RPC latency."),
            unit_ref: symbols.of("seconds"),
        }),
        ..Default::default()
    };
    pb2::Request {
        symbols: symbols.0,
        timeseries: vec![counter, histograms],
    }
    .encode_to_vec()
}

/// Parts joined by [`SEPARATOR`] after a flags byte.
fn joined(flags: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut input = vec![flags];
    for (i, part) in parts.iter().enumerate() {
        assert!(
            !part.windows(SEPARATOR.len()).any(|w| w == SEPARATOR),
            "a part holds the separator"
        );
        if i > 0 {
            input.extend_from_slice(SEPARATOR);
        }
        input.extend_from_slice(part);
    }
    input
}

/// Writes the generated seeds into `corpus` (one directory per target).
pub fn write(corpus: &Path) {
    let captured =
        |name: &str| fs::read(corpus.join("decode_rw1").join(name)).expect("a captured request");
    let series = captured("prometheus-2.42-series.pb");
    let metadata = captured("prometheus-2.42-metadata.pb");
    let (rw1, rw2) = (rich_rw1(), rich_rw2());
    let workload_rw1 = [0, 1].map(|seq| workload(Protocol::V1, seq));
    let workload_rw2 = [0, 1].map(|seq| workload(Protocol::V2, seq));
    let histograms = [
        int_histogram(T0),
        float_custom_histogram(T0),
        float_gauge_histogram(T0),
    ]
    .map(|h| h.encode_to_vec());
    let seeds: Vec<(&str, &str, Vec<u8>)> = vec![
        ("decode_rw1", "workload.pb", workload_rw1[0].clone()),
        ("decode_rw1", "rich.pb", rw1.clone()),
        ("decode_rw2", "workload.pb", workload_rw2[0].clone()),
        ("decode_vm", "workload.zst", workload_body(Protocol::Vm, 0)),
        ("decode_vm", "rich.zst", zstd(&rw1)),
        (
            "decode_vm",
            "prometheus-2.42-two-frames.zst",
            [zstd(&metadata), zstd(&series)].concat(),
        ),
        ("decode_rw2", "rich.pb", rw2.clone()),
        (
            "histogram",
            "rw1-integer-twice",
            joined(0, &[&histograms[0], &histograms[0]]),
        ),
        (
            "histogram",
            "rw2-each",
            joined(1, &histograms.each_ref().map(Vec::as_slice)),
        ),
        (
            "pipeline",
            "rw1-workload-twice",
            joined(0, &[&workload_rw1[0], &workload_rw1[1]]),
        ),
        (
            "pipeline",
            "rw1-prometheus-2.42",
            joined(0b0000_0100, &[&metadata, &series]),
        ),
        ("pipeline", "rw1-rich", joined(0b0000_0100, &[&rw1])),
        (
            "pipeline",
            "rw2-workload-twice-paused",
            joined(0b0000_1011, &[&workload_rw2[0], &workload_rw2[1]]),
        ),
        ("pipeline", "rw2-rich", joined(1, &[&rw2, b"\x0a"])),
    ];
    for (target, name, bytes) in seeds {
        let dir = corpus.join(target);
        fs::create_dir_all(&dir).expect("a writable corpus");
        fs::write(dir.join(name), bytes).expect("a writable corpus");
    }
}
