//! Strings that are not UTF-8 (label values, symbols, exemplar labels,
//! metadata) are kept losslessly and fire a problem on their series.

use super::*;

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
    let messages = problem_messages(&data);
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
