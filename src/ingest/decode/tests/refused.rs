//! What the decoders refuse, and how much of a request goes with it: series
//! that break a rule, bodies of the other schema or of nothing, truncated
//! protobuf, bodies that would grow past their bound, and snappy limits.

use super::*;

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
    let messages = problem_messages(&data);
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
