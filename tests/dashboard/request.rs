//! A request kept as it arrived, with hostile content, for the request view
//! (Requests, Enter).

use std::sync::Arc;

use bytes::Bytes;
use promscope::app::App;
use promscope::capture::Header;
use promscope::ingest::decode;
use promscope::ingest::model::{Batch, Outcome, Protocol, RawRequest};
use promscope::proto::rw2;
use promscope::store::Store;
use prost::Message;

use super::hostile::{HOSTILE_TEXT, hostile};
use super::{T0, info};

/// Symbols of [`hostile_request`]: the texts, a huge value, and names.
pub fn symbols() -> Vec<String> {
    let mut symbols: Vec<String> = ["", "__name__", "hostile_request_metric", "case", "trace_id"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    symbols.extend(HOSTILE_TEXT.iter().map(|s| s.to_string()));
    symbols.push(format!("huge_{}", "v".repeat(5000)));
    symbols
}

/// An RW 2.0 request of two series holding hostile texts, NaN and extreme
/// values, an exemplar and metadata; its symbols are referred to unevenly.
pub fn hostile_request() -> rw2::Request {
    let text = |i: usize| 5 + i as u32;
    let huge = 5 + HOSTILE_TEXT.len() as u32;
    let samples = [f64::NAN, 1e308, f64::NEG_INFINITY, -0.0]
        .iter()
        .enumerate()
        .map(|(i, &value)| rw2::Sample {
            value,
            timestamp: T0 - 2_000 + i as i64,
            start_timestamp: 0,
        })
        .collect();
    rw2::Request {
        symbols: symbols(),
        timeseries: vec![
            rw2::TimeSeries {
                labels_refs: vec![1, 2, 3, text(1)],
                samples,
                exemplars: vec![rw2::Exemplar {
                    labels_refs: vec![4, text(0)],
                    value: f64::NAN,
                    timestamp: T0 - 2_000,
                }],
                metadata: Some(rw2::Metadata {
                    r#type: rw2::metadata::MetricType::Gauge as i32,
                    help_ref: text(3),
                    unit_ref: text(4),
                }),
                ..Default::default()
            },
            rw2::TimeSeries {
                labels_refs: vec![1, 2, 3, huge],
                samples: vec![rw2::Sample {
                    value: 13.705352776068167,
                    timestamp: T0 - 1_000,
                    start_timestamp: 0,
                }],
                ..Default::default()
            },
        ],
    }
}

fn raw_request(body: Bytes) -> RawRequest {
    let header = |name: &str, value: &str| Header::new(name, value.to_owned());
    RawRequest {
        method: "POST".into(),
        target: format!("/api/v1/write?x={}", HOSTILE_TEXT[1]),
        headers: vec![
            header("host", "127.0.0.1:9201"),
            header(
                "content-type",
                "application/x-protobuf;proto=io.prometheus.write.v2.Request",
            ),
            header("content-encoding", "snappy"),
            header("x-prometheus-remote-write-version", "2.0.0"),
            header("user-agent", HOSTILE_TEXT[1]),
            header("x-long", &"h".repeat(3000)),
            Header::new("x-binary", Bytes::from_static(b"\xff\xfe\x1b[31m")),
            header("authorization", "<redacted by promscope>"),
        ],
        body,
        body_complete: true,
    }
}

/// [`hostile`]'s dashboard after one more request, kept as it arrived.
pub fn with_request(store_bytes: Option<usize>) -> (App, Store, Bytes) {
    let (app, store) = hostile();
    let mut store = match store_bytes {
        Some(bytes) => store.keeping_request_bytes(bytes),
        None => store,
    };
    let body = ingest_request(&mut store, hostile_request().encode_to_vec());
    (app, store, body)
}

/// Adds the RW 2.0 request `encoded` to `store`, kept as it arrived
/// (compressed); returns its body.
pub fn ingest_request(store: &mut Store, encoded: Vec<u8>) -> Bytes {
    let body = Bytes::from(
        snap::raw::Encoder::new()
            .compress_vec(&encoded)
            .expect("compresses"),
    );
    let mut request = info(T0 - 100, Protocol::V2);
    request.compressed_bytes = body.len();
    request.decoded_bytes = encoded.len();
    request.raw = Some(Arc::new(raw_request(body.clone())));
    let data = decode::decode(Protocol::V2, encoded).expect("decodes");
    store.ingest(&Batch {
        info: request,
        outcome: Outcome::Accepted,
        data,
    });
    body
}
