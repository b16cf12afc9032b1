//! Decoder tests over bodies built with the prost-generated types, and a
//! differential test of the hand-written decoder against prost on random requests.

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

/// A one-sample series of these label pairs, resolved through `b`.
fn rw2_series(b: &mut Rw2Builder, pairs: &[(&str, &str)], value: f64) -> pb2::TimeSeries {
    pb2::TimeSeries {
        labels_refs: b.refs(pairs),
        samples: vec![pb2::Sample {
            value,
            timestamp: 1,
            start_timestamp: 0,
        }],
        ..Default::default()
    }
}

#[test]
fn rw2_series_that_break_a_rule_are_refused_alone_and_the_rest_kept() {
    let mut b = Rw2Builder::new();
    let good = rw2_series(&mut b, &[("__name__", "up"), ("job", "a")], 1.0);
    let mut bad_ref = rw2_series(&mut b, &[("__name__", "up"), ("job", "b")], 2.0);
    bad_ref.labels_refs[3] = 99;
    let mut odd = rw2_series(&mut b, &[("__name__", "up"), ("job", "c")], 3.0);
    odd.labels_refs.pop();
    let mut bad_help = rw2_series(&mut b, &[("__name__", "up"), ("job", "d")], 4.0);
    bad_help.metadata = Some(pb2::Metadata {
        r#type: 1,
        help_ref: 77,
        unit_ref: 0,
    });
    bad_help.exemplars = vec![pb2::Exemplar {
        labels_refs: b.refs(&[("trace_id", "x")]),
        value: 1.0,
        timestamp: 1,
    }];
    let nameless = rw2_series(&mut b, &[("job", "e")], 5.0);
    let empty_name = rw2_series(&mut b, &[("__name__", ""), ("job", "f")], 6.0);
    let empty_label = rw2_series(&mut b, &[("__name__", "up"), ("", "g")], 7.0);
    let repeated = rw2_series(
        &mut b,
        &[("job", "h"), ("__name__", "up"), ("job", "i")],
        8.0,
    );
    let unsorted = rw2_series(&mut b, &[("job", "j"), ("__name__", "up")], 9.0);
    let mut bad_exemplar = rw2_series(&mut b, &[("__name__", "up"), ("job", "k")], 10.0);
    bad_exemplar.exemplars = vec![
        pb2::Exemplar {
            labels_refs: vec![1, 500],
            value: 1.0,
            timestamp: 1,
        },
        pb2::Exemplar {
            labels_refs: b.refs(&[("trace_id", "ok")]),
            value: 2.0,
            timestamp: 2,
        },
    ];
    let req = pb2::Request {
        symbols: b.symbols.clone(),
        timeseries: vec![
            good,
            bad_ref,
            odd,
            bad_help,
            nameless,
            empty_name,
            empty_label,
            repeated,
            unsorted,
            bad_exemplar,
        ],
    };
    let data = decode(Protocol::V2, req.encode_to_vec()).unwrap();
    let values: Vec<f64> = data.samples.iter().map(|s| s.value).collect();
    assert_eq!(values, [1.0, 9.0, 10.0], "the series kept, and only theirs");
    assert_eq!(data.series.len(), 3);
    assert_eq!(labels_of(&data, 1)[0], ("job".into(), "j".into()));
    assert_eq!(data.exemplars.len(), 1, "the valid exemplar of series 9");
    assert_eq!(
        data.label_pairs(data.exemplars[0].labels.clone())
            .collect::<Vec<_>>(),
        [("trace_id", "ok")]
    );
    assert_eq!(data.refused_count, 8);
    let expected = [
        "timeseries[1].labels_refs[3] refers to symbol 99, but the request has only",
        "timeseries[2].labels_refs has 3 entries",
        "timeseries[3].metadata.help_ref refers to symbol 77",
        "timeseries[4] has no __name__ label",
        "timeseries[5] has no __name__ label (or an empty one)",
        "timeseries[6] has an empty label name",
        "timeseries[7] repeats the label name \"job\"",
        "timeseries[9].exemplars[0].labels_refs[1] refers to symbol 500",
    ];
    for (reason, expected) in data.refused.iter().zip(expected) {
        assert!(reason.contains(expected), "{reason:?} lacks {expected:?}");
    }
    assert!(
        data.refused[..7]
            .iter()
            .all(|r| r.ends_with("series not written"))
    );
    assert!(data.refused[7].ends_with("exemplar not written"));
    assert!(data.warnings.is_empty(), "{:?}", data.warnings);
    // The refusals that are problem rules are problems too, of series not written.
    let rules: Vec<Rule> = data.problems.iter().map(|p| p.rule).collect();
    assert_eq!(
        rules,
        [
            Rule::MetricNameMissing,
            Rule::MetricNameMissing,
            Rule::LabelNameEmpty,
            Rule::LabelNameRepeated
        ]
    );
    assert!(
        data.problems
            .iter()
            .all(|p| matches!(p.subject, Subject::Refused { .. }))
    );
    // Counts are of what was kept: this is what the Written headers say.
    let counts = data.counts();
    assert_eq!((counts.samples, counts.exemplars), (3, 1));
}

#[test]
fn rw2_request_of_refused_series_only_is_not_taken_for_the_other_schema() {
    let mut b = Rw2Builder::new();
    let req = pb2::Request {
        symbols: b.symbols.clone(),
        timeseries: vec![rw2_series(&mut b, &[("job", "x")], 1.0)],
    };
    let req = pb2::Request {
        symbols: b.symbols.clone(),
        ..req
    };
    let data = decode(Protocol::V2, req.encode_to_vec()).unwrap();
    assert_eq!((data.series.len(), data.refused_count), (0, 1));
    assert!(data.warnings.is_empty(), "{:?}", data.warnings);
}

#[test]
fn rw2_first_symbol_not_empty_is_a_problem_of_the_request() {
    let request = |symbols: &[&str]| pb2::Request {
        symbols: symbols.iter().map(|&s| s.into()).collect(),
        timeseries: vec![pb2::TimeSeries {
            labels_refs: vec![1, 2],
            samples: vec![pb2::Sample {
                value: 1.0,
                timestamp: 1,
                start_timestamp: 0,
            }],
            ..Default::default()
        }],
    };
    let data = decode(
        Protocol::V2,
        request(&["x", "__name__", "up"]).encode_to_vec(),
    )
    .unwrap();
    assert!(data.warnings.is_empty(), "{:?}", data.warnings);
    let [problem] = &data.problems[..] else {
        panic!("{:?}", data.problems)
    };
    assert_eq!(problem.rule, Rule::Rw2FirstSymbolNotEmpty);
    assert_eq!(problem.subject, Subject::Request);
    assert_eq!(problem.message, "symbols[0] is \"x\", not the empty string");
    let data = decode(
        Protocol::V2,
        request(&["", "__name__", "up"]).encode_to_vec(),
    )
    .unwrap();
    assert_eq!(data.problems, []);
}

#[test]
fn a_body_of_the_other_schema_or_of_nothing_is_a_problem_of_the_request() {
    let rw2 = pb2::Request {
        symbols: vec!["".into(), "__name__".into(), "up".into()],
        timeseries: vec![pb2::TimeSeries {
            labels_refs: vec![1, 2],
            ..Default::default()
        }],
    };
    let rules = |protocol, body: Vec<u8>| -> Vec<Rule> {
        let data = decode(protocol, body).unwrap();
        data.problems.iter().map(|p| p.rule).collect()
    };
    assert_eq!(
        rules(Protocol::V1, rw2.encode_to_vec()),
        [Rule::ContentTypeMismatch]
    );
    let rw1 = pb1::WriteRequest {
        timeseries: vec![pb1::TimeSeries {
            labels: vec![pb1::Label {
                name: "__name__".into(),
                value: "up".into(),
            }],
            ..Default::default()
        }],
        metadata: vec![],
    };
    assert_eq!(
        rules(Protocol::V2, rw1.encode_to_vec()),
        [Rule::ContentTypeMismatch]
    );
    // Just inside: each in its own protocol is no problem.
    assert_eq!(rules(Protocol::V2, rw2.encode_to_vec()), []);
    assert_eq!(rules(Protocol::V1, rw1.encode_to_vec()), []);
    // Nothing at all, or fields of neither schema: an empty request.
    assert_eq!(rules(Protocol::V1, Vec::new()), [Rule::EmptyRequest]);
    assert_eq!(rules(Protocol::V2, Vec::new()), [Rule::EmptyRequest]);
    assert_eq!(rules(Protocol::V1, vec![0x50, 0x01]), [Rule::EmptyRequest]);
    let only_symbols = pb2::Request {
        symbols: vec!["".into()],
        timeseries: vec![],
    };
    assert_eq!(
        rules(Protocol::V2, only_symbols.encode_to_vec()),
        [Rule::EmptyRequest]
    );
}

#[test]
fn truncated_and_malformed_protobuf_is_rejected_with_position() {
    let req = pb1::WriteRequest {
        timeseries: vec![pb1::TimeSeries {
            labels: vec![label("__name__", "up")],
            samples: vec![sample(1.0, 2)],
            ..Default::default()
        }],
        metadata: vec![],
    };
    let body = req.encode_to_vec();
    for cut in 1..body.len() {
        let err = decode(Protocol::V1, body[..cut].to_vec()).unwrap_err();
        assert!(
            matches!(err, DecodeError::Protobuf { .. }),
            "cut at {cut}: {err}"
        );
    }
    // A label name that is not UTF-8 is kept (Prometheus decodes it and drops the series).
    let bad = [0x0a, 0x07, 0x0a, 0x05, 0x0a, 0x03, 0xff, 0xfe, 0xfd];
    let data = decode(Protocol::V1, bad.to_vec()).expect("decoded");
    let messages: Vec<String> = data
        .problems
        .iter()
        .map(|p| p.message.to_string())
        .collect();
    assert_eq!(
        messages,
        [r#"has a label name that is not UTF-8: "\xff\xfe\xfd""#]
    );
    // A sample whose value has the wrong wire type.
    let wrong = [0x0a, 0x04, 0x12, 0x02, 0x08, 0x01];
    let err = decode(Protocol::V1, wrong.to_vec()).unwrap_err();
    assert!(
        err.to_string()
            .contains("timeseries[0].samples[0]: field `value` has wire type varint"),
        "{err}"
    );
}

/// Field `field` holding `bytes`, with a length of any size.
fn long_field(field: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![(field << 3) | 2];
    prost::encoding::encode_varint(bytes.len() as u64, &mut out);
    out.extend_from_slice(bytes);
    out
}

#[test]
fn bodies_of_empty_messages_are_refused_before_they_grow_a_hundredfold() {
    // 2 MiB of empty messages, two bytes each: histograms would take 240 MiB,
    // series 80 MiB (and 32 MiB of them, 2 MiB of snappy, 4 GiB and 1.3 GiB).
    let n = 1 << 20;
    let empty = |key: u8| [key, 0].repeat(n);
    let rw1_histograms = long_field(1, &empty(0x22));
    let rw1_series = empty(0x0a);
    let mut rw2_histograms = Vec::new();
    for symbol in ["", "__name__", "up"] {
        rw2_histograms.extend(long_field(4, symbol.as_bytes()));
    }
    let series = [&[0x0a, 0x02, 0x01, 0x02][..], &empty(0x1a)].concat();
    rw2_histograms.extend(long_field(5, &series));
    for (protocol, body) in [
        (Protocol::V1, rw1_histograms),
        (Protocol::V1, rw1_series),
        (Protocol::V2, rw2_histograms),
    ] {
        let len = body.len();
        match decode(protocol, body) {
            Err(DecodeError::Overgrown { body, limit }) => {
                assert_eq!(body, len);
                assert_eq!(limit, GROWTH * len + GROWTH_SLACK);
            }
            other => panic!("{protocol:?}: {:?}", other.map(|d| d.counts())),
        }
    }
    // Empty samples grow twelvefold: within bounds, and all there.
    let samples = long_field(1, &empty(0x12));
    let data = decode(Protocol::V1, samples).expect("within bounds");
    assert_eq!(data.samples.len(), n);
}

#[test]
fn rw2_requests_referring_to_long_symbols_over_and_over_are_refused_before_reading_them() {
    // 20,000 one-sample series whose name is a 256 KiB symbol: 5 GiB of labels
    // from 600 KB (30 KB of snappy), which took 28 s to decode in a debug build.
    let request = |series: usize, help: bool| {
        let mut body = Vec::new();
        for symbol in [String::new(), "__name__".into(), "v".repeat(256 << 10)] {
            body.extend(long_field(4, symbol.as_bytes()));
        }
        let mut one = vec![0x0a, 0x02, 0x01, 0x02];
        one.extend(long_field(
            2,
            &[0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x10, 0x01],
        ));
        if help {
            // Metadata (type counter, help_ref 2): the long symbol as help.
            one.extend(long_field(5, &[0x08, 0x01, 0x18, 0x02]));
        }
        for _ in 0..series {
            body.extend(long_field(5, &one));
        }
        body
    };
    let body = request(20_000, false);
    let len = body.len();
    assert_eq!(
        decode(Protocol::V2, body).map(|d| d.counts()),
        Err(DecodeError::Expanded {
            body: len,
            limit: len * rw2::EXPANSION
        })
    );
    // Help counts too; a few references pass.
    assert!(matches!(
        decode(Protocol::V2, request(20_000, true)),
        Err(DecodeError::Expanded { .. })
    ));
    let few = decode(Protocol::V2, request(50, true)).expect("within bounds");
    assert_eq!(few.series.len(), 50);
}

#[test]
fn snappy_errors_and_limits() {
    assert_eq!(decompress(b"", 100), Err(DecodeError::EmptyBody));
    let framed = {
        let mut w = snap::write::FrameEncoder::new(Vec::new());
        std::io::Write::write_all(&mut w, b"hello").unwrap();
        w.into_inner().unwrap()
    };
    assert_eq!(decompress(&framed, 100), Err(DecodeError::FramedSnappy));
    // Header announcing 4 GiB - 1: refused before allocating.
    let huge = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00];
    assert!(matches!(
        decompress(&huge, 32 << 20),
        Err(DecodeError::TooLarge {
            announced: 4_294_967_295,
            ..
        })
    ));
    let gzip = [0x1f, 0x8b, 0x08, 0x00];
    let err = decompress(&gzip, 100).unwrap_err();
    assert!(err.to_string().contains("gzip"), "{err}");
    let good = snap::raw::Encoder::new()
        .compress_vec(b"0123456789")
        .unwrap();
    assert_eq!(decompress(&good, 100).unwrap(), b"0123456789");
    assert!(matches!(
        decompress(&good, 5),
        Err(DecodeError::TooLarge {
            header: "snappy",
            announced: 10,
            limit: 5
        })
    ));
    assert!(matches!(
        decompress(&good[..good.len() - 2], 100),
        Err(DecodeError::Snappy(..))
    ));
}

/// One series of a [`Flat`] request: labels, samples, histograms, exemplars.
type FlatSeries = (
    Vec<(String, String)>,
    Vec<(u64, i64, i64)>,
    // Encoded, so that NaN fields compare equal.
    Vec<Vec<u8>>,
    Vec<(Vec<(String, String)>, u64, i64)>,
);

/// A request in a protocol-neutral form, to compare decoders.
#[derive(Debug, PartialEq)]
struct Flat {
    series: Vec<FlatSeries>,
    metadata: Vec<(String, i32, String, String)>,
}

fn flat_from_data(data: &WriteData) -> Flat {
    let pairs = |r: std::ops::Range<u32>| {
        data.label_pairs(r)
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect::<Vec<_>>()
    };
    Flat {
        series: data
            .series
            .iter()
            .map(|s| {
                (
                    pairs(s.labels.clone()),
                    data.samples_of(s)
                        .iter()
                        .map(|x| (x.value.to_bits(), x.timestamp_ms, x.start_timestamp_ms))
                        .collect(),
                    data.histograms_of(s)
                        .iter()
                        .map(Message::encode_to_vec)
                        .collect(),
                    data.exemplars_of(s)
                        .iter()
                        .map(|e| (pairs(e.labels.clone()), e.value.to_bits(), e.timestamp_ms))
                        .collect(),
                )
            })
            .collect(),
        metadata: data
            .metadata
            .iter()
            .map(|m| {
                (
                    data.str(m.family).to_owned(),
                    m.metric_type as i32,
                    data.str(m.help).to_owned(),
                    data.str(m.unit).to_owned(),
                )
            })
            .collect(),
    }
}

fn flat_from_rw1(req: &pb1::WriteRequest) -> Flat {
    let pairs = |ls: &[pb1::Label]| {
        ls.iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect::<Vec<_>>()
    };
    Flat {
        series: req
            .timeseries
            .iter()
            .map(|ts| {
                (
                    pairs(&ts.labels),
                    ts.samples
                        .iter()
                        .map(|s| (s.value.to_bits(), s.timestamp, 0))
                        .collect(),
                    ts.histograms
                        .iter()
                        .map(|h| {
                            pb2::Histogram::decode(h.encode_to_vec().as_slice())
                                .unwrap()
                                .encode_to_vec()
                        })
                        .collect(),
                    ts.exemplars
                        .iter()
                        .map(|e| (pairs(&e.labels), e.value.to_bits(), e.timestamp))
                        .collect(),
                )
            })
            .collect(),
        metadata: req
            .metadata
            .iter()
            .map(|m| {
                (
                    m.metric_family_name.clone(),
                    // Type numbers the schema does not define read as unknown.
                    MetricType::from_proto(m.r#type) as i32,
                    m.help.clone(),
                    m.unit.clone(),
                )
            })
            .collect(),
    }
}

/// Random request content.
impl Rng {
    fn text(&mut self) -> String {
        const ALPHABET: [&str; 8] = ["a", "b", "_", "ü", "☃", "\n", "9", "\""];
        // Now and then a long one, so that lengths cross the one-byte varint
        // limit and the fast paths hand over to the general ones.
        let len = if self.below(8) == 0 {
            100 + self.below(60)
        } else {
            self.below(6)
        };
        (0..len).map(|_| ALPHABET[self.below(8) as usize]).collect()
    }

    fn float(&mut self) -> f64 {
        match self.below(6) {
            0 => f64::from_bits(STALE_NAN_BITS),
            1 => f64::INFINITY,
            2 => f64::from_bits(self.next()),
            _ => self.below(1000) as f64 / 8.0,
        }
    }
}

/// Whether Prometheus's receiver writes an RW 2.0 series of these labels: a
/// non-empty `__name__`, no empty and no repeated label name.
fn prometheus_takes(pairs: &[(String, String)]) -> bool {
    let mut names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    let unique = names.windows(2).all(|w| w[0] != w[1]);
    unique && !names.contains(&"") && pairs.iter().any(|(n, v)| n == "__name__" && !v.is_empty())
}

/// Fewer than `max` label pairs of random text.
fn random_pairs(rng: &mut Rng, max: u64) -> Vec<(String, String)> {
    (0..rng.below(max))
        .map(|_| (rng.text(), rng.text()))
        .collect()
}

fn borrowed(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

fn random_rw1(rng: &mut Rng) -> pb1::WriteRequest {
    let labels = |rng: &mut Rng| {
        (0..rng.below(5))
            .map(|_| label(&rng.text(), &rng.text()))
            .collect::<Vec<_>>()
    };
    pb1::WriteRequest {
        timeseries: (0..rng.below(8))
            .map(|_| pb1::TimeSeries {
                labels: labels(rng),
                samples: (0..rng.below(4))
                    .map(|_| sample(rng.float(), rng.next() as i64))
                    .collect(),
                exemplars: (0..rng.below(2))
                    .map(|_| pb1::Exemplar {
                        labels: labels(rng),
                        value: rng.float(),
                        timestamp: rng.next() as i64,
                    })
                    .collect(),
                histograms: (0..rng.below(2))
                    .map(|_| {
                        to_rw1_histogram(&if rng.below(2) == 0 {
                            int_histogram()
                        } else {
                            float_custom_histogram()
                        })
                    })
                    .collect(),
            })
            .collect(),
        metadata: (0..rng.below(3))
            .map(|_| pb1::MetricMetadata {
                r#type: rng.below(8) as i32,
                metric_family_name: rng.text(),
                help: rng.text(),
                unit: rng.text(),
            })
            .collect(),
    }
}

#[test]
fn differential_rw1_random_requests_match_prost() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..2000 {
        let req = random_rw1(&mut rng);
        let body = req.encode_to_vec();
        let ours = decode(Protocol::V1, body.clone()).expect("valid request");
        assert_eq!(flat_from_data(&ours), flat_from_rw1(&req));
        // Any prefix either fails in both decoders or (if it ends on a message
        // boundary) succeeds in both with the same content.
        let cut = rng.below(body.len() as u64 + 1) as usize;
        match (
            decode(Protocol::V1, body[..cut].to_vec()),
            pb1::WriteRequest::decode(&body[..cut]),
        ) {
            (Ok(a), Ok(b)) => assert_eq!(flat_from_data(&a), flat_from_rw1(&b)),
            (Err(_), Err(_)) => {}
            (a, b) => panic!(
                "decoders disagree on a {cut}-byte prefix: ours {:?}, prost {:?}",
                a.err(),
                b.err()
            ),
        }
    }
}

/// Changes one to three bytes of `body`: to tags and lengths the decoders
/// special-case, by a flipped bit, or at random.
fn corrupt(rng: &mut Rng, body: &mut [u8]) {
    const INTERESTING: [u8; 9] = [0x00, 0x01, 0x09, 0x0a, 0x10, 0x12, 0x7f, 0x80, 0xff];
    if body.is_empty() {
        return;
    }
    for _ in 0..=rng.below(3) {
        let at = rng.below(body.len() as u64) as usize;
        body[at] = match rng.below(3) {
            0 => INTERESTING[rng.below(INTERESTING.len() as u64) as usize],
            1 => body[at] ^ (1 << rng.below(8)),
            _ => rng.next() as u8,
        };
    }
}

#[test]
fn differential_rw1_corrupted_requests_agree_with_prost() {
    let mut rng = Rng(0x0ddb_a11c_afef_00d1);
    for round in 0..4000 {
        let mut body = random_rw1(&mut rng).encode_to_vec();
        corrupt(&mut rng, &mut body);
        match (
            decode(Protocol::V1, body.clone()),
            pb1::WriteRequest::decode(body.as_slice()),
        ) {
            (Ok(a), Ok(b)) => assert_eq!(flat_from_data(&a), flat_from_rw1(&b), "round {round}"),
            (Err(_), Err(_)) => {}
            // prost checks that strings are UTF-8; Prometheus's (gogo's)
            // unmarshalling does not, and neither do we: such strings are kept
            // losslessly (label names and values fire a rule).
            (Ok(a), Err(b)) if is_utf8_error(&b) => {
                for &id in a.labels.iter().flat_map(|l| [&l.name, &l.value]) {
                    assert!(std::str::from_utf8(a.bytes(id)).is_ok(), "round {round}");
                }
            }
            (a, b) => panic!(
                "round {round}: decoders disagree on {body:02x?}: ours {:?}, prost {:?}",
                a.err(),
                b.err()
            ),
        }
    }
}

/// Whether prost failed on a `string` field that is not UTF-8.
fn is_utf8_error(e: &prost::DecodeError) -> bool {
    e.to_string().contains("not UTF-8")
}

#[test]
fn corrupted_rw2_requests_fail_exactly_when_prost_fails() {
    let mut rng = Rng(0x5eed_0f2b_0d1e_5eed);
    for round in 0..4000 {
        let mut b = Rw2Builder::new();
        let timeseries = (0..rng.below(4))
            .map(|_| {
                let pairs = random_pairs(&mut rng, 4);
                let exemplar_refs = b.refs(&[("trace_id", "abc")]);
                pb2::TimeSeries {
                    labels_refs: b.refs(&borrowed(&pairs)),
                    samples: (0..rng.below(3))
                        .map(|_| pb2::Sample {
                            value: rng.float(),
                            timestamp: rng.next() as i64,
                            start_timestamp: rng.below(3) as i64,
                        })
                        .collect(),
                    histograms: (0..rng.below(2)).map(|_| int_histogram()).collect(),
                    exemplars: (0..rng.below(2))
                        .map(|_| pb2::Exemplar {
                            labels_refs: exemplar_refs.clone(),
                            value: rng.float(),
                            timestamp: rng.next() as i64,
                        })
                        .collect(),
                    metadata: Some(pb2::Metadata {
                        r#type: rng.below(8) as i32,
                        help_ref: b.sym("help"),
                        unit_ref: b.sym("seconds"),
                    }),
                    ..Default::default()
                }
            })
            .collect();
        let req = pb2::Request {
            symbols: b.symbols.clone(),
            timeseries,
        };
        let mut body = req.encode_to_vec();
        corrupt(&mut rng, &mut body);
        // RW2's own rules (symbol references in range, ...) refuse series
        // but never the request: ours fails exactly when prost does.
        let (ours, theirs) = (
            decode(Protocol::V2, body.clone()),
            pb2::Request::decode(body.as_slice()),
        );
        // Symbols that are not UTF-8 are kept losslessly where prost fails.
        let kept = ours.is_ok() && theirs.as_ref().is_err_and(is_utf8_error);
        assert!(
            ours.is_ok() == theirs.is_ok() || kept,
            "round {round}: {body:02x?}: ours {:?}, prost {:?}",
            ours.err(),
            theirs.err()
        );
    }
}

#[test]
fn differential_rw2_random_requests_match_prost() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..2000 {
        let mut b = Rw2Builder::new();
        let mut expected = Vec::new();
        let mut timeseries = Vec::new();
        let mut refused = 0;
        for _ in 0..rng.below(6) {
            let mut pairs = random_pairs(&mut rng, 5);
            // Most series name their metric, as senders do.
            if rng.below(4) > 0 {
                pairs.insert(0, ("__name__".into(), rng.text()));
            }
            let refs = borrowed(&pairs);
            let samples: Vec<pb2::Sample> = (0..rng.below(4))
                .map(|_| pb2::Sample {
                    value: rng.float(),
                    timestamp: rng.next() as i64,
                    start_timestamp: rng.below(3) as i64,
                })
                .collect();
            timeseries.push(pb2::TimeSeries {
                labels_refs: b.refs(&refs),
                samples: samples.clone(),
                ..Default::default()
            });
            if !prometheus_takes(&pairs) {
                refused += 1;
                continue;
            }
            expected.push((
                pairs.clone(),
                samples
                    .iter()
                    .map(|s| (s.value.to_bits(), s.timestamp, s.start_timestamp))
                    .collect::<Vec<_>>(),
                vec![],
                vec![],
            ));
        }
        let req = pb2::Request {
            symbols: b.symbols.clone(),
            timeseries,
        };
        let body = req.encode_to_vec();
        let ours = decode(Protocol::V2, body.clone()).expect("valid request");
        assert_eq!(ours.refused_count, refused);
        assert_eq!(
            flat_from_data(&ours),
            Flat {
                series: expected,
                metadata: vec![]
            }
        );
        let cut = rng.below(body.len() as u64 + 1) as usize;
        let theirs = pb2::Request::decode(&body[..cut]);
        assert_eq!(
            decode(Protocol::V2, body[..cut].to_vec()).is_ok(),
            theirs.is_ok(),
            "{cut}-byte prefix"
        );
    }
}

#[test]
fn label_hash_is_the_same_however_the_label_set_arrives() {
    let long = "x".repeat(300);
    let sets: Vec<Vec<(&str, &str)>> = vec![
        vec![("__name__", "up"), ("job", "node")],
        vec![("__name__", "up"), ("empty", ""), ("long", long.as_str())],
    ];
    for set in sets {
        let mut sorted = set.clone();
        sorted.sort();
        let rw1_of = |pairs: &[(&str, &str)]| {
            let req = pb1::WriteRequest {
                timeseries: vec![pb1::TimeSeries {
                    labels: pairs.iter().map(|(k, v)| label(k, v)).collect(),
                    samples: vec![sample(1.0, 1)],
                    ..Default::default()
                }],
                metadata: vec![],
            };
            decode(Protocol::V1, req.encode_to_vec()).unwrap().series[0].label_hash
        };
        let in_order = rw1_of(&sorted);
        let mut reversed = sorted.clone();
        reversed.reverse();
        assert_eq!(rw1_of(&reversed), in_order, "{set:?} unsorted");
        let mut b = Rw2Builder::new();
        let refs = b.refs(&reversed);
        let rw2 = pb2::Request {
            symbols: b.symbols.clone(),
            timeseries: vec![pb2::TimeSeries {
                labels_refs: refs,
                ..Default::default()
            }],
        };
        assert_eq!(
            decode(Protocol::V2, rw2.encode_to_vec()).unwrap().series[0].label_hash,
            in_order,
            "{set:?} RW2"
        );
        let mut built = WriteData::default();
        built.push_series(&set, &[], &[]);
        assert_eq!(
            built.series[0].label_hash, in_order,
            "{set:?} built in memory"
        );
    }
    let other = {
        let mut d = WriteData::default();
        d.push_series(&[("__name__", "up"), ("job", "nodes")], &[], &[]);
        d.series[0].label_hash
    };
    let mut d = WriteData::default();
    d.push_series(&[("__name__", "up"), ("job", "node")], &[], &[]);
    assert_ne!(d.series[0].label_hash, other);
}

/// Wraps `fields` as length-delimited field `field`.
fn len_field(field: u8, fields: &[u8]) -> Vec<u8> {
    let mut out = vec![(field << 3) | 2, fields.len() as u8];
    out.extend_from_slice(fields);
    out
}

#[test]
fn unknown_groups_are_skipped_and_overflowing_varints_refused_as_prost_does() {
    // Group 9 holding a varint and a nested group 10: unknown everywhere.
    let group: &[u8] = &[0x4b, 0x08, 0x01, 0x53, 0x54, 0x4c];
    let label = [
        len_field(1, b"__name__"),
        len_field(2, b"up"),
        group.to_vec(),
    ]
    .concat();
    let sample = [&[0x09][..], &1.5f64.to_le_bytes(), &[0x10, 0x2a], group].concat();
    let series = [len_field(1, &label), group.to_vec(), len_field(2, &sample)].concat();
    let body = [group.to_vec(), len_field(1, &series), group.to_vec()].concat();
    let ours = decode(Protocol::V1, body.clone()).expect("groups are skipped");
    let theirs = pb1::WriteRequest::decode(body.as_slice()).expect("prost skips them");
    assert_eq!(flat_from_data(&ours), flat_from_rw1(&theirs));
    assert_eq!(ours.samples[0].value, 1.5);
    // The same in RW 2.0.
    let rw2 = [
        len_field(4, b""),
        group.to_vec(),
        len_field(4, b"__name__"),
        len_field(4, b"up"),
        len_field(5, &[&[0x0a, 0x02, 0x01, 0x02][..], group].concat()),
    ]
    .concat();
    let ours = decode(Protocol::V2, rw2.clone()).expect("groups are skipped");
    pb2::Request::decode(rw2.as_slice()).expect("prost skips them");
    assert_eq!(labels_of(&ours, 0), [("__name__".into(), "up".into())]);
    // An end without its start, and a group left open, fail in both.
    for bad in [&[0x4c][..], &[0x4b, 0x08, 0x01]] {
        assert!(decode(Protocol::V1, bad.to_vec()).is_err());
        assert!(pb1::WriteRequest::decode(bad).is_err());
    }
    // A timestamp whose tenth varint byte is above 1, on the fast path and the
    // general one (an unknown field first), fails in both.
    let mut timestamp = vec![0xff; 9];
    timestamp.push(0x02);
    for extra in [&[][..], &[0x18, 0x00]] {
        let sample = [
            &[0x09][..],
            &1.0f64.to_le_bytes(),
            extra,
            &[0x10],
            &timestamp,
        ]
        .concat();
        let series = [len_field(1, &label), len_field(2, &sample)].concat();
        let body = len_field(1, &series);
        assert!(pb1::WriteRequest::decode(body.as_slice()).is_err());
        let err = decode(Protocol::V1, body).unwrap_err();
        assert!(err.to_string().contains("overflows 64 bits"), "{err}");
    }
}

/// Prometheus 2.42's captured series (`fuzz/corpus`) as Prometheus 3 sends them
/// in RW 2.0, from `instances` instances: each series with its family's
/// metadata. Returns the body and the bytes of labels, help and units its
/// series refer to.
fn captured_as_rw2(instances: usize) -> (Vec<u8>, usize) {
    let corpus = |bytes: &[u8]| pb1::WriteRequest::decode(bytes).expect("a captured request");
    let series = corpus(include_bytes!(
        "../../../fuzz/corpus/decode_rw1/prometheus-2.42-series.pb"
    ));
    let metadata = corpus(include_bytes!(
        "../../../fuzz/corpus/decode_rw1/prometheus-2.42-metadata.pb"
    ));
    let mut symbols = crate::proto::Symbols::default();
    let (mut timeseries, mut referred) = (Vec::new(), 0);
    for instance in 0..instances {
        for s in &series.timeseries {
            let mut refs = Vec::new();
            for l in &s.labels {
                let mut value = l.value.clone();
                if l.name == "instance" {
                    value.push_str(&format!("-{instance}"));
                }
                referred += l.name.len() + value.len();
                refs.extend([symbols.intern(&l.name), symbols.intern(&value)]);
            }
            let name = &s.labels[0].value;
            let family = ["_bucket", "_sum", "_count", "_total", "_created"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .unwrap_or(name);
            let metadata = metadata
                .metadata
                .iter()
                .find(|m| m.metric_family_name == family || m.metric_family_name == *name)
                .map(|m| {
                    referred += m.help.len() + m.unit.len();
                    pb2::Metadata {
                        r#type: m.r#type,
                        help_ref: symbols.intern(&m.help),
                        unit_ref: symbols.intern(&m.unit),
                    }
                });
            let samples = s.samples.iter().map(|s| pb2::Sample {
                value: s.value,
                timestamp: s.timestamp,
                ..Default::default()
            });
            timeseries.push(pb2::TimeSeries {
                labels_refs: refs,
                samples: samples.collect(),
                metadata,
                ..Default::default()
            });
        }
    }
    let symbols = symbols.into_strings();
    let body = pb2::Request {
        symbols,
        timeseries,
    }
    .encode_to_vec();
    (body, referred)
}

#[test]
fn real_traffic_refers_to_labels_far_below_the_rw2_expansion_bound() {
    // Measured: 1.9 label bytes per body byte for the 27 captured series, 3.5
    // for the same from 100 instances (2,700 series, a request's worth).
    for instances in [1, 100] {
        let (body, referred) = captured_as_rw2(instances);
        let ratio = referred as f64 / body.len() as f64;
        assert!(ratio < 4.0, "{instances} instances: {ratio:.2} per byte");
        let data = decode(Protocol::V2, body).expect("within bounds");
        assert_eq!(data.series.len(), 27 * instances);
    }
    // kube_pod_labels-like: 2,000 series of 40 labels with 40-byte values, all
    // but one shared: 23.5 per byte, a fifth of the bound.
    let mut symbols = crate::proto::Symbols::default();
    let mut referred = 0;
    let timeseries = (0..2_000)
        .map(|i| {
            let mut pairs = vec![("__name__".to_owned(), "kube_pod_labels".to_owned())];
            pairs.extend((0..39).map(|l| {
                (
                    format!("label_app_kubernetes_io_{l:02}"),
                    format!("{l:040}"),
                )
            }));
            pairs.push(("pod".into(), format!("pod-{i}")));
            let labels_refs = pairs
                .iter()
                .flat_map(|(name, value)| {
                    referred += name.len() + value.len();
                    [symbols.intern(name), symbols.intern(value)]
                })
                .collect();
            pb2::TimeSeries {
                labels_refs,
                samples: vec![pb2::Sample {
                    value: 1.0,
                    timestamp: 1,
                    ..Default::default()
                }],
                ..Default::default()
            }
        })
        .collect();
    let body = pb2::Request {
        symbols: symbols.into_strings(),
        timeseries,
    }
    .encode_to_vec();
    let ratio = referred as f64 / body.len() as f64;
    assert!(ratio * 4.0 < rw2::EXPANSION as f64, "{ratio:.2} per byte");
    let data = decode(Protocol::V2, body).expect("within bounds");
    assert_eq!(data.series.len(), 2_000);
}

/// Key of an RW2 `TimeSeries.labels_refs` reference sent unpacked.
const LABELS_REFS_VARINT: u8 = 0x08;

/// An RW2 request of one series whose label references are written by
/// `refs_field` (each encoding a sender may use), then a sample.
fn rw2_body_with_refs(symbols: &[String], refs_field: &[u8]) -> Vec<u8> {
    let mut series = refs_field.to_vec();
    let sample = pb2::Sample {
        value: 1.0,
        timestamp: 2,
        start_timestamp: 0,
    };
    series.extend(long_field(2, &sample.encode_to_vec()));
    let mut body = pb2::Request {
        symbols: symbols.to_vec(),
        timeseries: vec![],
    }
    .encode_to_vec();
    body.extend(long_field(5, &series));
    body
}

/// `refs` as one packed field, as two, or one unpacked field per reference.
fn refs_fields(refs: &[u32], layout: u64) -> Vec<u8> {
    let varints = |refs: &[u32]| {
        let mut out = Vec::new();
        for &r in refs {
            prost::encoding::encode_varint(u64::from(r), &mut out);
        }
        out
    };
    match layout {
        0 => long_field(1, &varints(refs)),
        1 => {
            let (a, b) = refs.split_at(refs.len() / 2);
            [long_field(1, &varints(a)), long_field(1, &varints(b))].concat()
        }
        _ => refs
            .iter()
            .flat_map(|&r| [vec![LABELS_REFS_VARINT], varints(&[r])].concat())
            .collect(),
    }
}

#[test]
fn rw2_labels_and_hashes_match_rw1_whatever_the_reference_encoding() {
    let mut rng = Rng(0x0dd_ba11_5eed_2222);
    for round in 0..600 {
        // Lengths on both sides of the 32 bytes a symbol keeps at hand and
        // of the one-byte varint, ASCII and not.
        let text = |rng: &mut Rng| {
            let len = match rng.below(4) {
                0 => rng.below(4),
                1 => 28 + rng.below(8),
                2 => 60 + rng.below(10),
                _ => 120 + rng.below(16),
            };
            let alphabet = ["a", "b", "_", "ü", "9"];
            (0..len)
                .map(|_| alphabet[rng.below(5) as usize])
                .collect::<String>()
        };
        let mut pairs: Vec<(String, String)> = (0..rng.below(5))
            .map(|_| (text(&mut rng), text(&mut rng)))
            .collect();
        if rng.below(4) > 0 {
            let at = rng.below(pairs.len() as u64 + 1) as usize;
            pairs.insert(at, ("__name__".into(), text(&mut rng)));
        }
        // References of one, two or three bytes.
        let fillers = [0, 300, 17_000][rng.below(3) as usize];
        let mut b = Rw2Builder::new();
        b.symbols.extend((0..fillers).map(|i| format!("filler{i}")));
        let refs = b.refs(&borrowed(&pairs));
        let layout = rng.below(3);
        let body = rw2_body_with_refs(&b.symbols, &refs_fields(&refs, layout));
        let ours = decode(Protocol::V2, body).expect("valid request");
        let context = format!("round {round}, layout {layout}, fillers {fillers}: {pairs:?}");
        if !prometheus_takes(&pairs) {
            assert_eq!(ours.refused_count, 1, "{context}");
            continue;
        }
        let rw1 = pb1::WriteRequest {
            timeseries: vec![pb1::TimeSeries {
                labels: pairs.iter().map(|(k, v)| label(k, v)).collect(),
                samples: vec![sample(1.0, 2)],
                ..Default::default()
            }],
            metadata: vec![],
        };
        let theirs = decode(Protocol::V1, rw1.encode_to_vec()).expect("valid request");
        assert_eq!(labels_of(&ours, 0), pairs, "{context}");
        assert_eq!(
            ours.series[0].label_hash, theirs.series[0].label_hash,
            "{context}"
        );
        let ascending = pairs.windows(2).all(|w| w[0].0 < w[1].0);
        assert_eq!(ours.series[0].labels_sorted, ascending, "{context}");
    }
}

#[test]
fn rw2_malformed_label_references_fail_the_request_as_when_read_on_the_spot() {
    let symbols: Vec<String> = ["", "__name__", "up"].map(String::from).to_vec();
    // A varint over 64 bits, in a packed field that ends like a whole one.
    let overflowing = [[0xff; 11].as_slice(), &[0x01]].concat();
    // An out-of-range reference first: the series is not merely refused.
    let out_of_range = [[1, 2, 9].as_slice(), &overflowing].concat();
    for refs in [overflowing.clone(), out_of_range] {
        let body = rw2_body_with_refs(&symbols, &long_field(1, &refs));
        let err = decode(Protocol::V2, body).unwrap_err();
        assert!(err.to_string().contains("overflows 64 bits"), "{err}");
    }
    // Followed by a malformed field: the references fail first, as before.
    let mut series = long_field(1, &overflowing);
    series.extend([0x12, 0x02, 0x08, 0x01]);
    let mut body = pb2::Request {
        symbols,
        timeseries: vec![],
    }
    .encode_to_vec();
    body.extend(long_field(5, &series));
    let err = decode(Protocol::V2, body).unwrap_err();
    assert!(
        err.to_string()
            .contains("timeseries[0]: varint at byte 0 overflows 64 bits"),
        "{err}"
    );
}

#[test]
fn rw1_label_values_that_are_not_utf8_are_kept_losslessly_and_fire() {
    use crate::problems::{Rule, Subject};
    // up{a="ok", b=<61 ff 62>} with a sample, then up{c="ok"}: Prometheus
    // decodes both and refuses the first when it validates its labels.
    let bad_value = [0x61, 0xff, 0x62];
    let mut body = Vec::new();
    let mut series = raw_labels(&[(b"__name__", b"up"), (b"b", &bad_value)]);
    let s = pb1::Sample {
        value: 1.0,
        timestamp: 1000,
    }
    .encode_to_vec();
    series.extend_from_slice(&[0x12, s.len() as u8]);
    series.extend_from_slice(&s);
    body.extend_from_slice(&[0x0a, series.len() as u8]);
    body.extend_from_slice(&series);
    let good = pb1::WriteRequest {
        timeseries: vec![pb1::TimeSeries {
            labels: vec![label("__name__", "up"), label("c", "ok")],
            ..Default::default()
        }],
        metadata: vec![],
    };
    body.extend_from_slice(&good.encode_to_vec());
    let data = decode(Protocol::V1, body.clone()).expect("decoded");
    assert_eq!(data.series.len(), 2);
    let pairs: Vec<(&str, &str)> = data.label_pairs(data.series[0].labels.clone()).collect();
    assert_eq!(pairs, [("__name__", "up"), ("b", "a\u{10ffff}b")]);
    let [problem] = &data.problems[..] else {
        panic!("{:?}", data.problems)
    };
    assert_eq!(problem.rule, Rule::LabelValueInvalidUtf8);
    assert_eq!(problem.subject, Subject::Series(0));
    assert_eq!(problem.timestamp_ms, Some(1000));
    assert_eq!(
        problem.message,
        r#"has label "b" with a value that is not UTF-8: "a\xffb""#
    );
    // Its identity is the bytes sent: another byte is another series.
    let mut other = body;
    let at = other.iter().position(|&b| b == 0xff).expect("the byte");
    other[at] = 0xfe;
    let again = decode(Protocol::V1, other).expect("decoded");
    assert_ne!(again.series[0].label_hash, data.series[0].label_hash);
    assert_eq!(again.series[1].label_hash, data.series[1].label_hash);
}

#[test]
fn rw1_every_value_that_is_not_utf8_is_kept_losslessly_with_one_problem_per_series() {
    // up{a=<ff>, b=<fe>}: both values are rewritten (the fuzzer found the second one
    // left as raw bytes once the rule had fired on the series), the rule fires once.
    let series = raw_labels(&[(b"__name__", b"up"), (b"a", &[0xff]), (b"b", &[0xfe])]);
    let mut body = vec![0x0a, series.len() as u8];
    body.extend_from_slice(&series);
    let data = decode(Protocol::V1, body).expect("decoded");
    for label in &data.labels {
        assert!(std::str::from_utf8(data.bytes(label.value)).is_ok());
    }
    let pairs: Vec<(&str, &str)> = data.label_pairs(data.series[0].labels.clone()).collect();
    assert_eq!(
        pairs,
        [("__name__", "up"), ("a", "\u{10ffff}"), ("b", "\u{10fffe}")]
    );
    assert_eq!(data.problems.len(), 1, "{:?}", data.problems);
}

/// The label fields of an RW 1.0 TimeSeries, their bytes as given (UTF-8 or not).
fn raw_labels(labels: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut series = Vec::new();
    for (name, value) in labels {
        let mut l = vec![0x0a, name.len() as u8];
        l.extend_from_slice(name);
        l.extend_from_slice(&[0x12, value.len() as u8]);
        l.extend_from_slice(value);
        series.extend_from_slice(&[0x0a, l.len() as u8]);
        series.extend_from_slice(&l);
    }
    series
}

/// `body` with every occurrence of `from` replaced by `to` (as long): strings
/// that are not UTF-8 put where prost's types only take `String`s.
fn with_bytes(mut body: Vec<u8>, from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut at = 0;
    while let Some(i) = body[at..].windows(from.len()).position(|w| w == from) {
        body[at + i..at + i + from.len()].copy_from_slice(to);
        at += i + from.len();
    }
    body
}

#[test]
fn rw2_symbols_that_are_not_utf8_are_kept_losslessly_and_fire_on_their_series_alone() {
    use crate::problems::{Rule, Subject};
    let mut b = Rw2Builder::new();
    let sample = |t| pb2::Sample {
        value: 1.0,
        timestamp: t,
        start_timestamp: 0,
    };
    let series = |labels_refs, exemplars| pb2::TimeSeries {
        labels_refs,
        samples: vec![sample(1000)],
        exemplars,
        ..Default::default()
    };
    let exemplar = pb2::Exemplar {
        labels_refs: b.refs(&[("trace_id", "EXEMPLAR")]),
        value: 1.0,
        timestamp: 1000,
    };
    let metadata = pb2::Metadata {
        r#type: 1,
        help_ref: b.sym("HELPTEXT"),
        unit_ref: 0,
    };
    let timeseries = vec![
        // A value, a name, an exemplar's value, help: each a symbol with 0xff in it.
        series(b.refs(&[("__name__", "up"), ("b", "VALUEXXX")]), vec![]),
        series(b.refs(&[("__name__", "up"), ("NAMEXXXX", "v")]), vec![]),
        series(b.refs(&[("__name__", "ok")]), vec![exemplar]),
        pb2::TimeSeries {
            metadata: Some(metadata),
            ..series(b.refs(&[("__name__", "help")]), vec![])
        },
    ];
    let req = pb2::Request {
        symbols: b.symbols.clone(),
        timeseries,
    };
    let mut body = req.encode_to_vec();
    for from in ["VALUEXXX", "NAMEXXXX", "EXEMPLAR", "HELPTEXT"] {
        let mut to = from.as_bytes().to_vec();
        to[1] = 0xff;
        body = with_bytes(body, from.as_bytes(), &to);
    }
    assert!(
        pb2::Request::decode(body.as_slice()).is_err(),
        "prost refuses it"
    );
    let data = decode(Protocol::V2, body.clone()).expect("decoded");
    assert_eq!(
        data.series.len(),
        4,
        "every series kept: {:?}",
        data.refused
    );
    let pairs = |i: usize| -> Vec<(&str, &str)> {
        data.label_pairs(data.series[i].labels.clone()).collect()
    };
    assert_eq!(pairs(0), [("__name__", "up"), ("b", "V\u{10ffff}LUEXXX")]);
    assert_eq!(pairs(1), [("__name__", "up"), ("N\u{10ffff}MEXXXX", "v")]);
    let e = &data.exemplars[data.series[2].exemplars.start as usize];
    let exemplar_pairs: Vec<(&str, &str)> = data.label_pairs(e.labels.clone()).collect();
    assert_eq!(exemplar_pairs, [("trace_id", "E\u{10ffff}EMPLAR")]);
    let help = data.series[3].metadata.as_ref().expect("metadata").help;
    assert_eq!(data.str(help), "H\u{10ffff}LPTEXT");
    let found: Vec<(Rule, Subject)> = data
        .problems
        .iter()
        .map(|p| (p.rule, p.subject.clone()))
        .collect();
    assert_eq!(
        found,
        [
            (Rule::LabelValueInvalidUtf8, Subject::Series(0)),
            (Rule::LabelNameInvalidUtf8, Subject::Series(1)),
            (Rule::LabelValueInvalidUtf8, Subject::Series(2)),
        ]
    );
    let messages: Vec<String> = data
        .problems
        .iter()
        .map(|p| p.message.to_string())
        .collect();
    assert_eq!(
        messages,
        [
            r#"has label "b" with a value that is not UTF-8: "V\xffLUEXXX""#,
            r#"has a label name that is not UTF-8: "N\xffMEXXXX""#,
            r#"has exemplar label "trace_id" with a value that is not UTF-8: "E\xffEMPLAR""#,
        ]
    );
    // The identity is the bytes sent, as for RW 1.0: another byte, another series.
    let other = decode(Protocol::V2, with_bytes(body, b"V\xffLUE", b"V\xfeLUE")).expect("decoded");
    assert_ne!(other.series[0].label_hash, data.series[0].label_hash);
    assert_eq!(other.series[1].label_hash, data.series[1].label_hash);
}

#[test]
fn rw1_exemplar_labels_and_metadata_that_are_not_utf8_are_kept_losslessly() {
    use crate::problems::Rule;
    let req = pb1::WriteRequest {
        timeseries: vec![pb1::TimeSeries {
            labels: vec![label("__name__", "up")],
            exemplars: vec![pb1::Exemplar {
                labels: vec![label("NAMEXXXX", "v")],
                value: 1.0,
                timestamp: 1000,
            }],
            ..Default::default()
        }],
        metadata: vec![pb1::MetricMetadata {
            metric_family_name: "up".into(),
            help: "HELPTEXT".into(),
            ..Default::default()
        }],
    };
    let mut body = req.encode_to_vec();
    body = with_bytes(body, b"NAMEXXXX", b"N\xffMEXXXX");
    body = with_bytes(body, b"HELPTEXT", b"H\xffLPTEXT");
    let data = decode(Protocol::V1, body).expect("decoded");
    let e = &data.exemplars[0];
    let pairs: Vec<(&str, &str)> = data.label_pairs(e.labels.clone()).collect();
    assert_eq!(pairs, [("N\u{10ffff}MEXXXX", "v")]);
    assert_eq!(data.str(data.metadata[0].help), "H\u{10ffff}LPTEXT");
    let [problem] = &data.problems[..] else {
        panic!("{:?}", data.problems)
    };
    assert_eq!(problem.rule, Rule::LabelNameInvalidUtf8);
    assert_eq!(
        problem.message,
        r#"has an exemplar label name that is not UTF-8: "N\xffMEXXXX""#
    );
}
