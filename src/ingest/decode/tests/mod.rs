//! Decoder tests over bodies built with the prost-generated types, and a
//! differential test of the hand-written decoder against prost on random requests.

mod differential;
mod labels;
mod not_utf8;
mod refused;

use prost::Message;

use super::*;
use crate::ingest::model::{HistogramExt, MetricType, STALE_NAN_BITS, is_stale_nan};
use crate::problems::Subject;
use crate::proto::{rw1 as pb1, rw2 as pb2};
use crate::test_rng::Rng;

fn label(name: &str, value: &str) -> pb1::Label {
    pb1::Label {
        name: name.into(),
        value: value.into(),
    }
}

fn sample(value: f64, timestamp: i64) -> pb1::Sample {
    pb1::Sample { value, timestamp }
}

fn labels_of(data: &WriteData, i: usize) -> Vec<(String, String)> {
    data.label_pairs(data.series[i].labels.clone())
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The messages of the problems found while decoding, in order.
fn problem_messages(data: &WriteData) -> Vec<String> {
    data.problems
        .iter()
        .map(|p| p.message.to_string())
        .collect()
}

fn int_histogram() -> pb2::Histogram {
    pb2::Histogram {
        count: Some(pb2::histogram::Count::CountInt(12)),
        sum: 18.4,
        schema: 1,
        zero_threshold: 1e-128,
        zero_count: Some(pb2::histogram::ZeroCount::ZeroCountInt(2)),
        negative_spans: vec![pb2::BucketSpan {
            offset: 0,
            length: 2,
        }],
        negative_deltas: vec![1, 1],
        positive_spans: vec![
            pb2::BucketSpan {
                offset: 0,
                length: 2,
            },
            pb2::BucketSpan {
                offset: 1,
                length: 2,
            },
        ],
        positive_deltas: vec![1, 1, -1, 0],
        reset_hint: 2,
        timestamp: 1_732_000_000_000,
        ..Default::default()
    }
}

fn float_custom_histogram() -> pb2::Histogram {
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
        timestamp: 1_732_000_000_500,
        ..Default::default()
    }
}

/// Converts an RW2 histogram to RW1's type (identical fields minus start_timestamp).
fn to_rw1_histogram(h: &pb2::Histogram) -> pb1::Histogram {
    pb1::Histogram::decode(h.encode_to_vec().as_slice())
        .expect("RW1 and RW2 histograms are wire-compatible")
}

#[test]
fn rw1_samples_special_values_and_labels() {
    let req = pb1::WriteRequest {
        timeseries: vec![
            pb1::TimeSeries {
                labels: vec![label("__name__", "up"), label("job", "node")],
                samples: vec![
                    sample(1.0, 1_732_000_000_000),
                    sample(f64::from_bits(STALE_NAN_BITS), 1_732_000_015_000),
                    sample(f64::NAN, 1_732_000_030_000),
                    sample(f64::INFINITY, 1_732_000_045_000),
                    sample(f64::NEG_INFINITY, 1_732_000_060_000),
                ],
                ..Default::default()
            },
            pb1::TimeSeries {
                // Unsorted, unicode and a newline in a value.
                labels: vec![
                    label("zone", "zürich ☃"),
                    label("__name__", "temp"),
                    label("note", "a\nb"),
                ],
                samples: vec![sample(-0.5, -1)],
                ..Default::default()
            },
        ],
        metadata: vec![],
    };
    let data = decode(Protocol::V1, req.encode_to_vec()).unwrap();
    assert_eq!(data.series.len(), 2);
    assert_eq!(
        labels_of(&data, 0),
        [
            ("__name__".into(), "up".into()),
            ("job".into(), "node".into())
        ]
    );
    let samples = data.samples_of(&data.series[0]);
    assert_eq!(samples.len(), 5);
    assert_eq!(samples[0].value, 1.0);
    assert_eq!(samples[0].timestamp_ms, 1_732_000_000_000);
    assert!(is_stale_nan(samples[1].value));
    assert!(samples[2].value.is_nan() && !is_stale_nan(samples[2].value));
    assert_eq!(samples[3].value, f64::INFINITY);
    assert_eq!(samples[4].value, f64::NEG_INFINITY);
    assert_eq!(
        labels_of(&data, 1),
        [
            ("zone".into(), "zürich ☃".into()),
            ("__name__".into(), "temp".into()),
            ("note".into(), "a\nb".into())
        ]
    );
    assert_eq!(data.samples_of(&data.series[1])[0].timestamp_ms, -1);
    // Unsorted labels are the problem rules' to report (labels-unsorted), not
    // the decoder's: it only hashes them in order.
    assert!(data.warnings.is_empty(), "{:?}", data.warnings);
    assert!(data.problems.is_empty(), "{:?}", data.problems);
}

#[test]
fn rw1_histograms_and_exemplars() {
    let req = pb1::WriteRequest {
        timeseries: vec![pb1::TimeSeries {
            labels: vec![label("__name__", "rpc_duration_seconds")],
            histograms: vec![
                to_rw1_histogram(&int_histogram()),
                to_rw1_histogram(&float_custom_histogram()),
            ],
            exemplars: vec![pb1::Exemplar {
                labels: vec![label("trace_id", "abc123"), label("span_id", "s1")],
                value: 0.25,
                timestamp: 1_732_000_000_100,
            }],
            ..Default::default()
        }],
        metadata: vec![],
    };
    let data = decode(Protocol::V1, req.encode_to_vec()).unwrap();
    let series = &data.series[0];
    let hs = data.histograms_of(series);
    assert_eq!(hs.len(), 2);
    assert_eq!(hs[0], int_histogram());
    assert_eq!(hs[0].total_count(), 12.0);
    assert_eq!(hs[0].positive_buckets(), [1.0, 2.0, 1.0, 1.0]);
    assert_eq!(hs[0].negative_buckets(), [1.0, 2.0]);
    assert_eq!(hs[0].zero_count_value(), 2.0);
    assert!(!hs[0].is_float());
    assert_eq!(hs[1], float_custom_histogram());
    assert!(hs[1].is_float());
    assert_eq!(hs[1].schema, -53);
    assert_eq!(hs[1].custom_values, [0.1, 0.5, 1.0]);
    assert_eq!(hs[1].reset_hint_name(), "gauge");
    let ex = data.exemplars_of(series);
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].value, 0.25);
    assert_eq!(ex[0].timestamp_ms, 1_732_000_000_100);
    let ex_labels: Vec<_> = data.label_pairs(ex[0].labels.clone()).collect();
    assert_eq!(ex_labels, [("trace_id", "abc123"), ("span_id", "s1")]);
    // The series' own labels are unaffected by the exemplar labels.
    assert_eq!(
        labels_of(&data, 0),
        [("__name__".into(), "rpc_duration_seconds".into())]
    );
}

#[test]
fn rw1_metadata_of_every_type() {
    let metadata: Vec<_> = (0..=7)
        .map(|t| pb1::MetricMetadata {
            r#type: t,
            metric_family_name: format!("family_{t}"),
            help: format!("help for {t}"),
            unit: if t == 2 {
                "seconds".into()
            } else {
                String::new()
            },
        })
        .collect();
    let req = pb1::WriteRequest {
        timeseries: vec![],
        metadata,
    };
    let data = decode(Protocol::V1, req.encode_to_vec()).unwrap();
    let types: Vec<_> = data.metadata.iter().map(|m| m.metric_type).collect();
    assert_eq!(
        types,
        [
            MetricType::Unknown,
            MetricType::Counter,
            MetricType::Gauge,
            MetricType::Histogram,
            MetricType::GaugeHistogram,
            MetricType::Summary,
            MetricType::Info,
            MetricType::StateSet
        ]
    );
    assert_eq!(data.str(data.metadata[2].family), "family_2");
    assert_eq!(data.str(data.metadata[2].help), "help for 2");
    assert_eq!(data.str(data.metadata[2].unit), "seconds");
    assert_eq!(data.counts().metadata, 8);
}

/// Builds an RW2 request with a symbol table.
struct Rw2Builder {
    symbols: Vec<String>,
}

impl Rw2Builder {
    fn new() -> Self {
        Rw2Builder {
            symbols: vec![String::new()],
        }
    }

    fn sym(&mut self, s: &str) -> u32 {
        if let Some(i) = self.symbols.iter().position(|x| x == s) {
            return i as u32;
        }
        self.symbols.push(s.into());
        self.symbols.len() as u32 - 1
    }

    fn refs(&mut self, pairs: &[(&str, &str)]) -> Vec<u32> {
        pairs
            .iter()
            .flat_map(|(k, v)| [self.sym(k), self.sym(v)])
            .collect()
    }
}

#[test]
fn rw2_samples_histograms_exemplars_metadata_and_both_created_timestamp_layouts() {
    let mut b = Rw2Builder::new();
    let old_style = pb2::TimeSeries {
        labels_refs: b.refs(&[("__name__", "http_requests_total"), ("code", "200")]),
        samples: vec![pb2::Sample {
            value: 42.0,
            timestamp: 1_732_000_000_000,
            start_timestamp: 0,
        }],
        exemplars: vec![pb2::Exemplar {
            labels_refs: b.refs(&[("trace_id", "t-1")]),
            value: 1.0,
            timestamp: 1_732_000_000_001,
        }],
        metadata: Some(pb2::Metadata {
            r#type: 1,
            help_ref: b.sym("Requests served."),
            unit_ref: 0,
        }),
        created_timestamp: 1_731_999_000_000,
        ..Default::default()
    };
    let new_style = pb2::TimeSeries {
        labels_refs: b.refs(&[("__name__", "latency_seconds"), ("le.path", "/ü")]),
        histograms: vec![pb2::Histogram {
            start_timestamp: 1_731_000_000_000,
            ..int_histogram()
        }],
        metadata: Some(pb2::Metadata {
            r#type: 3,
            help_ref: b.sym("Latency."),
            unit_ref: b.sym("seconds"),
        }),
        ..Default::default()
    };
    let started = pb2::TimeSeries {
        labels_refs: b.refs(&[("__name__", "jobs_total")]),
        samples: vec![pb2::Sample {
            value: 3.0,
            timestamp: 1_732_000_000_000,
            start_timestamp: 1_731_500_000_000,
        }],
        ..Default::default()
    };
    let req = pb2::Request {
        symbols: b.symbols.clone(),
        timeseries: vec![old_style, new_style, started],
    };
    let data = decode(Protocol::V2, req.encode_to_vec()).unwrap();
    assert!(data.warnings.is_empty(), "{:?}", data.warnings);
    assert_eq!(data.series.len(), 3);
    let s0 = &data.series[0];
    assert_eq!(
        labels_of(&data, 0),
        [
            ("__name__".into(), "http_requests_total".into()),
            ("code".into(), "200".into())
        ]
    );
    assert_eq!(s0.created_timestamp_ms, 1_731_999_000_000);
    assert_eq!(data.samples_of(s0)[0].value, 42.0);
    let ex = &data.exemplars_of(s0)[0];
    assert_eq!(
        data.label_pairs(ex.labels.clone()).collect::<Vec<_>>(),
        [("trace_id", "t-1")]
    );
    let m0 = s0.metadata.unwrap();
    assert_eq!(
        (data.str(m0.family), m0.metric_type, data.str(m0.help)),
        (
            "http_requests_total",
            MetricType::Counter,
            "Requests served."
        )
    );
    let s1 = &data.series[1];
    assert_eq!(labels_of(&data, 1)[1], ("le.path".into(), "/ü".into()));
    assert_eq!(data.histograms_of(s1)[0].start_timestamp, 1_731_000_000_000);
    assert_eq!(
        data.histograms_of(s1)[0].positive_buckets(),
        [1.0, 2.0, 1.0, 1.0]
    );
    let m1 = s1.metadata.unwrap();
    assert_eq!(
        (m1.metric_type, data.str(m1.unit)),
        (MetricType::Histogram, "seconds")
    );
    assert_eq!(
        data.samples_of(&data.series[2])[0].start_timestamp_ms,
        1_731_500_000_000
    );
    let counts = data.counts();
    assert_eq!(
        (
            counts.samples,
            counts.histograms,
            counts.exemplars,
            counts.metadata
        ),
        (2, 1, 1, 2)
    );
}

/// Field `field` holding `bytes`, with a length of any size.
fn long_field(field: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![(field << 3) | 2];
    prost::encoding::encode_varint(bytes.len() as u64, &mut out);
    out.extend_from_slice(bytes);
    out
}

/// Whether Prometheus's receiver writes an RW 2.0 series of these labels: a
/// non-empty `__name__`, no empty and no repeated label name.
fn prometheus_takes(pairs: &[(String, String)]) -> bool {
    let mut names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    let unique = names.windows(2).all(|w| w[0] != w[1]);
    unique && !names.contains(&"") && pairs.iter().any(|(n, v)| n == "__name__" && !v.is_empty())
}

fn borrowed(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}
