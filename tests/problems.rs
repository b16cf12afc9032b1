//! Problem rules in the receiver: checked as requests arrive, carried with the
//! batch, switched off, and at `reject` answered as a strict receiver answers
//! (400 naming the rule and the series; RW 2.0 with Written headers counting
//! what was kept).

mod common;

use std::sync::Arc;

use common::*;
use promscope::ingest::check::{Checker, Settings};
use promscope::ingest::model::RejectReason;
use promscope::ingest::server::Limits;
use promscope::problems::{Rule, Subject};
use promscope::proto::{rw1, rw2};
use prost::Message;

fn limits_with(flags: &[&str]) -> Limits {
    let mut settings = Settings::default();
    for flag in flags {
        settings.apply_rule_flag(flag).unwrap();
    }
    Limits {
        problems: Arc::new(Checker::new(settings)),
        ..Limits::default()
    }
}

/// Asserts `reply` is a 400 whose message says each of `parts`.
fn refused_saying(reply: &Reply, parts: &[&str]) {
    assert_eq!(reply.status, 400, "{}", reply.body);
    for part in parts {
        assert!(reply.body.contains(part), "{part:?} in {}", reply.body);
    }
}

/// An RW2 request of three series of `http_requests_total` (counter
/// metadata), two samples each; series 1's `path` value is 3000 bytes long.
fn rw2_with_a_long_value() -> Vec<u8> {
    let long = "p".repeat(3000);
    let symbols = [
        "",
        "__name__",
        "http_requests_total",
        "path",
        "/a",
        &long,
        "/c",
        "Requests.",
    ]
    .map(String::from)
    .to_vec();
    let now = now_ms();
    let series = |path: u32| rw2::TimeSeries {
        labels_refs: vec![1, 2, 3, path],
        samples: (0..2)
            .map(|i| rw2::Sample {
                value: i as f64,
                timestamp: now - 1000 + i,
                start_timestamp: 0,
            })
            .collect(),
        metadata: Some(rw2::Metadata {
            r#type: rw2::metadata::MetricType::Counter as i32,
            help_ref: 7,
            unit_ref: 0,
        }),
        ..Default::default()
    };
    let req = rw2::Request {
        symbols,
        timeseries: vec![series(4), series(5), series(6)],
    };
    snappy(&req.encode_to_vec())
}

#[tokio::test]
async fn a_rule_at_reject_refuses_its_series_and_written_counts_the_rest() {
    let mut r = TestReceiver::start(limits_with(&["label-value-too-long=reject"]), 8).await;
    let reply = r.post("/", RW2_HEADERS, rw2_with_a_long_value()).await;
    refused_saying(
        &reply,
        &[
            "label-value-too-long",
            "http_requests_total{path=\"ppp",
            "3000 bytes, over 2048",
        ],
    );
    assert_eq!(written(&reply), [4, 0, 0]);
    let batch = r.next_batch().await;
    let (status, reason, _) = batch.outcome.rejection().unwrap();
    assert_eq!((status, reason), (400, RejectReason::Invalid));
    let data = &batch.data;
    assert_eq!(data.series.len(), 2);
    let paths: Vec<&str> = data
        .series
        .iter()
        .map(|s| data.label_pairs(s.labels.clone()).last().unwrap().1)
        .collect();
    assert_eq!(paths, ["/a", "/c"]);
    assert_eq!(data.counts().samples, 4);
    // The problem stays, about the refused series, whose labels are kept.
    let [problem] = &data.problems[..] else {
        panic!("{:?}", data.problems)
    };
    assert_eq!(problem.rule, Rule::LabelValueTooLong);
    let Subject::Refused { labels, .. } = &problem.subject else {
        panic!("{problem:?}")
    };
    assert_eq!(
        data.label_pairs(labels.clone()).last().unwrap().1.len(),
        3000
    );
    assert_eq!(data.problem_counts().get(Rule::LabelValueTooLong), 1);
}

#[tokio::test]
async fn at_warn_the_same_request_is_written_whole_and_its_problem_reported() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let reply = r.post("/", RW2_HEADERS, rw2_with_a_long_value()).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert_eq!(written(&reply), [6, 0, 0]);
    let batch = r.next_batch().await;
    assert_eq!(batch.data.series.len(), 3);
    let [problem] = &batch.data.problems[..] else {
        panic!("{:?}", batch.data.problems)
    };
    assert_eq!(problem.rule, Rule::LabelValueTooLong);
    assert_eq!(problem.subject, Subject::Series(1));
}

#[tokio::test]
async fn a_rule_switched_off_is_not_reported() {
    let mut r = TestReceiver::start(limits_with(&["label-value-too-long=off"]), 8).await;
    let reply = r.post("/", RW2_HEADERS, rw2_with_a_long_value()).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let batch = r.next_batch().await;
    assert_eq!(batch.data.problems, []);
    assert_eq!(batch.data.problem_counts().total(), 0);
}

fn rw1_up(timestamps: &[i64]) -> Vec<u8> {
    rw1_samples_body(&[("__name__", "up"), ("job", "a")], timestamps)
}

#[tokio::test]
async fn samples_are_checked_against_earlier_requests() {
    let mut r = TestReceiver::start(limits_with(&["out-of-order=reject"]), 8).await;
    let now = now_ms();
    let reply = r.post("/", RW1_HEADERS, rw1_up(&[now - 2000, now])).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert_eq!(r.next_batch().await.data.problems, []);
    // A resend: duplicate samples (info), written.
    let reply = r.post("/", RW1_HEADERS, rw1_up(&[now])).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let batch = r.next_batch().await;
    assert_eq!(batch.data.problems[0].rule, Rule::DuplicateSample);
    // Older than the series' newest, in a later request: refused.
    let reply = r.post("/", RW1_HEADERS, rw1_up(&[now - 1000])).await;
    refused_saying(
        &reply,
        &[
            "out-of-order",
            "up{job=\"a\"}",
            "is 1 s older than the series' newest",
        ],
    );
    let batch = r.next_batch().await;
    assert_eq!(batch.data.series.len(), 0);
    assert_eq!(batch.data.counts().samples, 0);
    // A request-level rule at reject refuses everything.
    let mut r = TestReceiver::start(limits_with(&["empty-request=reject"]), 8).await;
    let empty = snappy(&rw1::WriteRequest::default().encode_to_vec());
    let reply = r.post("/", RW1_HEADERS, empty).await;
    refused_saying(&reply, &["empty-request"]);
    assert_eq!(
        r.next_batch().await.data.problems[0].rule,
        Rule::EmptyRequest
    );
}

/// An RW1 request of `up{b="a\xffb"}` and `up{b="c"}`, a sample each: the first
/// label value is not UTF-8 (a protobuf `string` it breaks, which Prometheus's
/// receiver decodes and then refuses the series for).
fn rw1_with_a_value_not_utf8() -> Vec<u8> {
    let now = now_ms();
    let series = |value: &str| rw1::TimeSeries {
        labels: [("__name__", "up"), ("b", value)]
            .map(|(name, value)| rw1::Label {
                name: name.into(),
                value: value.into(),
            })
            .to_vec(),
        samples: vec![rw1::Sample {
            value: 1.0,
            timestamp: now,
        }],
        ..Default::default()
    };
    let req = rw1::WriteRequest {
        timeseries: vec![series("a?b"), series("c")],
        ..Default::default()
    };
    let mut body = req.encode_to_vec();
    let at = body.windows(3).position(|w| w == b"a?b").unwrap();
    body[at + 1] = 0xff;
    snappy(&body)
}

#[tokio::test]
async fn a_label_value_not_utf8_is_decoded_escaped_and_fires() {
    use promscope::output::{Format, MetadataDedup, write_batch};
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let reply = r.post("/", RW1_HEADERS, rw1_with_a_value_not_utf8()).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let batch = r.next_batch().await;
    let data = &batch.data;
    assert_eq!(data.series.len(), 2);
    let [problem] = &data.problems[..] else {
        panic!("{:?}", data.problems)
    };
    assert_eq!(problem.rule, Rule::LabelValueInvalidUtf8);
    assert_eq!(problem.rule.info().severity.name(), "error");
    assert_eq!(problem.subject, Subject::Series(0));
    assert!(
        problem.message.text().ends_with(r#""a\xffb""#),
        "{}",
        problem.message
    );
    // Every output shows the byte escaped, never raw or replaced.
    let (_, value) = data
        .label_pairs(data.series[0].labels.clone())
        .nth(1)
        .unwrap();
    assert_eq!(promscope::text::escape::escaped(value), r"a\xffb");
    let mut dedup = MetadataDedup::default();
    let mut json = String::new();
    write_batch(&mut json, Format::Json, &batch, &mut dedup);
    assert!(
        json.contains(r#""labels":{"__name__":"up","b":"a\\xffb"}"#),
        "{json}"
    );
    let mut text = String::new();
    write_batch(
        &mut text,
        Format::Text,
        &batch,
        &mut MetadataDedup::default(),
    );
    assert!(text.contains(r#"up{b="a\xffb"}"#), "{text}");
    for out in [&json, &text] {
        assert!(
            !out.contains('\u{fffd}') && !out.contains('\u{10ffff}'),
            "{out}"
        );
    }
}

#[tokio::test]
async fn a_label_value_not_utf8_at_reject_refuses_its_series_only() {
    let mut r = TestReceiver::start(limits_with(&["label-value-invalid-utf8=reject"]), 8).await;
    let reply = r.post("/", RW1_HEADERS, rw1_with_a_value_not_utf8()).await;
    refused_saying(&reply, &["label-value-invalid-utf8", r#"up{b="a\xffb"}"#]);
    let batch = r.next_batch().await;
    let data = &batch.data;
    assert_eq!(data.series.len(), 1);
    let (_, value) = data
        .label_pairs(data.series[0].labels.clone())
        .nth(1)
        .unwrap();
    assert_eq!(value, "c");
    // Switched off, it is not reported (the series is written as sent).
    let mut r = TestReceiver::start(limits_with(&["label-value-invalid-utf8=off"]), 8).await;
    let reply = r.post("/", RW1_HEADERS, rw1_with_a_value_not_utf8()).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let batch = r.next_batch().await;
    assert_eq!((batch.data.problems.len(), batch.data.series.len()), (0, 2));
}

/// An RW2 request of three series: the middle one's `path` label name is a
/// symbol that is not UTF-8 (`p\xffth`).
fn rw2_with_a_name_not_utf8() -> Vec<u8> {
    let symbols = ["", "__name__", "up", "path", "p?th", "/a"]
        .map(String::from)
        .to_vec();
    let series = |name: u32| rw2::TimeSeries {
        labels_refs: vec![1, 2, name, 5],
        samples: vec![rw2::Sample {
            value: 1.0,
            timestamp: now_ms(),
            start_timestamp: 0,
        }],
        ..Default::default()
    };
    let req = rw2::Request {
        symbols,
        timeseries: vec![series(3), series(4), series(3)],
    };
    let mut body = req.encode_to_vec();
    let at = body.windows(4).position(|w| w == b"p?th").unwrap();
    body[at + 1] = 0xff;
    snappy(&body)
}

#[tokio::test]
async fn an_rw2_symbol_not_utf8_fires_on_its_series_and_at_reject_refuses_it_alone() {
    // At the default (warn) every series is written, the name shown escaped.
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let reply = r.post("/", RW2_HEADERS, rw2_with_a_name_not_utf8()).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert_eq!(written(&reply), [3, 0, 0]);
    let batch = r.next_batch().await;
    let data = &batch.data;
    assert_eq!(data.series.len(), 3);
    assert_eq!(data.problem_counts().get(Rule::LabelNameInvalidUtf8), 1);
    let (name, _) = data
        .label_pairs(data.series[1].labels.clone())
        .nth(1)
        .unwrap();
    assert_eq!(promscope::text::escape::escaped(name), r"p\xffth");
    // At reject: 400 naming the rule and the series, Written counting the other two.
    let mut r = TestReceiver::start(limits_with(&["label-name-invalid-utf8=reject"]), 8).await;
    let reply = r.post("/", RW2_HEADERS, rw2_with_a_name_not_utf8()).await;
    refused_saying(
        &reply,
        &["label-name-invalid-utf8", r#"up{"p\xffth"="/a"}"#],
    );
    assert_eq!(written(&reply), [2, 0, 0]);
    let batch = r.next_batch().await;
    assert_eq!(batch.data.series.len(), 2);
}
