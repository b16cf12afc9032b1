//! The receiver over real HTTP: status codes, Written headers, what reaches the
//! channel, and that it keeps serving after every kind of bad input.

mod common;

use std::time::Duration;

use common::*;
use promscope::ingest::model::{Outcome, Protocol, RejectReason};
use promscope::ingest::server::Limits;
use prost::Message;

#[tokio::test]
async fn rw1_request_is_accepted_and_reaches_the_channel_with_its_facts() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let headers = [
        RW1_HEADERS,
        &[("retry-attempt", "2"), ("x-scope-orgid", "tenant-a")],
    ]
    .concat();
    let reply = r
        .post("/api/v1/write", &headers, rw1_body(&[1.0, 0.0]))
        .await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert!(
        reply
            .headers
            .get("x-prometheus-remote-write-samples-written")
            .is_none()
    );
    let batch = r.next_batch().await;
    assert_eq!(batch.outcome, Outcome::Accepted);
    let info = &batch.info;
    assert_eq!(info.path, "/api/v1/write");
    assert_eq!(info.protocol, Some(Protocol::V1));
    assert_eq!(info.user_agent.as_deref(), Some("test-sender/1.0"));
    assert_eq!(info.retry_attempt.as_deref(), Some("2"));
    assert_eq!(info.tenant.as_deref(), Some("tenant-a"));
    assert!(info.remote_addr.is_some_and(|a| a.ip().is_loopback()));
    assert_eq!(info.compressed_bytes, rw1_body(&[1.0, 0.0]).len());
    assert_eq!(
        info.decoded_bytes,
        rw1_request(&[1.0, 0.0]).encode_to_vec().len()
    );
    let data = &batch.data;
    assert_eq!(data.metric_name(data.series[0].labels.clone()), "up");
    assert_eq!(data.samples.len(), 2);
}

#[tokio::test]
async fn rw2_request_gets_exact_written_headers() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let reply = r.post("/rw2", RW2_HEADERS, rw2_body()).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let header = |name: &str| {
        reply
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        header("x-prometheus-remote-write-samples-written").as_deref(),
        Some("2")
    );
    assert_eq!(
        header("x-prometheus-remote-write-histograms-written").as_deref(),
        Some("1")
    );
    assert_eq!(
        header("x-prometheus-remote-write-exemplars-written").as_deref(),
        Some("1")
    );
    let batch = r.next_batch().await;
    assert_eq!(batch.info.protocol, Some(Protocol::V2));
    assert_eq!(batch.data.series.len(), 2);
}

#[tokio::test]
async fn content_type_with_spaces_around_parameters_is_rw2() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let headers = [
        ("content-encoding", "snappy"),
        (
            "content-type",
            "application/x-protobuf ; proto=io.prometheus.write.v2.Request",
        ),
    ];
    let reply = r.post("/", &headers, rw2_body()).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert_eq!(r.next_batch().await.info.protocol, Some(Protocol::V2));
}

#[tokio::test]
async fn no_content_type_means_rw1() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let reply = r
        .post("/", &[("content-encoding", "snappy")], rw1_body(&[1.0]))
        .await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert_eq!(r.next_batch().await.info.protocol, Some(Protocol::V1));
}

struct BadInput {
    name: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: Vec<u8>,
    status: u16,
    reason: RejectReason,
    message: &'static str,
}

fn bad_inputs() -> Vec<BadInput> {
    let rw1 = RW1_HEADERS.to_vec();
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut h: Vec<_> = RW1_HEADERS
            .iter()
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
            .copied()
            .collect();
        h.extend_from_slice(extra);
        h
    };
    let framed = {
        let mut w = snap::write::FrameEncoder::new(Vec::new());
        std::io::Write::write_all(&mut w, &rw1_request(&[1.0]).encode_to_vec()).unwrap();
        w.into_inner().unwrap()
    };
    let good = rw1_body(&[1.0; 64]);
    let truncated_protobuf = {
        let raw = rw1_request(&[1.0]).encode_to_vec();
        snappy(&raw[..raw.len() - 3])
    };
    let big_decoded = {
        let mut req = rw1_request(&[1.0]);
        req.timeseries[0]
            .labels
            .push(label("padding", &"a".repeat(200_000)));
        snappy(&req.encode_to_vec())
    };
    use RejectReason::*;
    vec![
        BadInput {
            name: "gzip encoding",
            headers: with(&[("content-encoding", "gzip")]),
            body: good.clone(),
            status: 415,
            reason: UnsupportedEncoding,
            message: "Content-Encoding \"gzip\" is not supported",
        },
        BadInput {
            name: "deflate encoding",
            headers: with(&[("content-encoding", "deflate")]),
            body: good.clone(),
            status: 415,
            reason: UnsupportedEncoding,
            message: "Content-Encoding \"deflate\" is not supported",
        },
        BadInput {
            name: "zstd encoding of an RW 2.0 body",
            headers: [RW2_HEADERS, &[("content-encoding", "zstd")]]
                .concat()
                .into_iter()
                .filter(|(k, v)| *k != "content-encoding" || *v == "zstd")
                .collect(),
            body: good.clone(),
            status: 415,
            reason: UnsupportedEncoding,
            message: "VictoriaMetrics' protocol, for prometheus.WriteRequest (RW 1.0) only",
        },
        BadInput {
            name: "PNG content type",
            headers: with(&[("content-type", "image/png")]),
            body: good.clone(),
            status: 415,
            reason: UnsupportedContentType,
            message: "Content-Type \"image/png\" is not supported",
        },
        BadInput {
            name: "zstd encoding of a snappy body",
            headers: with(&[("content-encoding", "zstd")]),
            body: good.clone(),
            status: 400,
            reason: Zstd,
            message: "body is not valid zstd data",
        },
        BadInput {
            name: "framed snappy",
            headers: rw1.clone(),
            body: framed,
            status: 400,
            reason: Snappy,
            message: "snappy framed (stream) format",
        },
        BadInput {
            name: "JSON content type",
            headers: with(&[("content-type", "application/json")]),
            body: good.clone(),
            status: 415,
            reason: UnsupportedContentType,
            message: "Content-Type \"application/json\" is not supported",
        },
        BadInput {
            name: "unknown proto",
            headers: with(&[("content-type", "application/x-protobuf;proto=foo.Bar")]),
            body: good.clone(),
            status: 415,
            reason: UnsupportedContentType,
            message: "proto=\"foo.Bar\" is not supported",
        },
        BadInput {
            name: "garbage body",
            headers: rw1.clone(),
            body: b"\x05hello world, not snappy".to_vec(),
            status: 400,
            reason: Snappy,
            message: "not valid snappy block data",
        },
        BadInput {
            name: "truncated snappy",
            headers: rw1.clone(),
            body: good[..good.len() / 2].to_vec(),
            status: 400,
            reason: Snappy,
            message: "not valid snappy block data",
        },
        BadInput {
            name: "snappy header announcing 4 GiB",
            headers: rw1.clone(),
            body: vec![0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x01],
            status: 413,
            reason: TooLarge,
            message: "announces 4294967295 decoded bytes",
        },
        BadInput {
            name: "truncated protobuf",
            headers: rw1.clone(),
            body: truncated_protobuf,
            status: 400,
            reason: Protobuf,
            message: "invalid prometheus.WriteRequest protobuf: timeseries[0]",
        },
        BadInput {
            name: "empty body",
            headers: rw1.clone(),
            body: vec![],
            status: 400,
            reason: Snappy,
            message: "empty body",
        },
        BadInput {
            name: "compressed body over limit",
            headers: rw1.clone(),
            body: vec![0u8; 70_000],
            status: 413,
            reason: TooLarge,
            message: "compressed body is over the limit of 65536 bytes",
        },
        BadInput {
            name: "decoded body over limit",
            headers: rw1,
            body: big_decoded,
            status: 413,
            reason: TooLarge,
            message: "over the limit of 100000 (--max-body-bytes)",
        },
    ]
}

#[tokio::test]
async fn every_bad_input_gets_its_status_and_message_and_the_receiver_keeps_serving() {
    let limits = Limits {
        max_compressed_bytes: 65_536,
        max_decoded_bytes: 100_000,
        ..Limits::default()
    };
    let mut r = TestReceiver::start(limits, 8).await;
    for bad in bad_inputs() {
        let reply = r.post("/api/v1/write", &bad.headers, bad.body).await;
        assert_eq!(
            reply.status.as_u16(),
            bad.status,
            "{}: {}",
            bad.name,
            reply.body
        );
        assert!(
            reply.body.contains(bad.message),
            "{}: body {:?} lacks {:?}",
            bad.name,
            reply.body,
            bad.message
        );
        let batch = r.next_batch().await;
        match &batch.outcome {
            Outcome::Rejected {
                status,
                reason,
                message,
            } => {
                assert_eq!((*status, *reason), (bad.status, bad.reason), "{}", bad.name);
                assert!(message.contains(bad.message), "{}", bad.name);
            }
            other => panic!(
                "{}: rejected request reached the channel as {other:?}",
                bad.name
            ),
        }
        assert!(batch.data.series.is_empty(), "{}", bad.name);
        let ok = r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await;
        assert_eq!(
            ok.status, 204,
            "good request after {}: {}",
            bad.name, ok.body
        );
        assert_eq!(r.next_batch().await.outcome, Outcome::Accepted);
    }
}

#[tokio::test]
async fn get_is_refused_with_a_hint() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let reply = r.request("GET", "/api/v1/write", &[], vec![]).await;
    assert_eq!(reply.status, 405);
    assert!(reply.body.contains("POST"), "{}", reply.body);
    assert!(matches!(
        r.next_batch().await.outcome,
        Outcome::Rejected {
            reason: RejectReason::MethodNotAllowed,
            ..
        }
    ));
}

#[tokio::test]
async fn a_stalled_consumer_gets_backpressure_then_503_and_the_drop_is_counted() {
    let limits = Limits {
        queue_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let mut r = TestReceiver::start(limits, 1).await;
    // Fills the one-slot queue.
    assert_eq!(r.post("/", RW1_HEADERS, rw1_body(&[1.0])).await.status, 204);
    // Waits for the consumer, then gives up with a retryable status.
    let reply = r.post("/", RW1_HEADERS, rw1_body(&[1.0, 2.0, 3.0])).await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.headers.get("retry-after").unwrap(), "1");
    let stats = &r.stats;
    assert_eq!(
        stats
            .dropped_requests
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert_eq!(
        stats
            .dropped_samples
            .load(std::sync::atomic::Ordering::Relaxed),
        3
    );
    // Nothing accepted was lost: the first request is still queued.
    assert_eq!(r.next_batch().await.data.samples.len(), 1);
    assert_eq!(r.post("/", RW1_HEADERS, rw1_body(&[1.0])).await.status, 204);
}

#[tokio::test]
async fn wrong_schema_decodes_without_error_but_is_a_problem_so_nothing_is_lost() {
    // An RW2 body labelled as RW1 usually decodes to an empty RW1 message.
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let reply = r.post("/", RW1_HEADERS, rw2_body()).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let batch = r.next_batch().await;
    assert!(batch.data.series.is_empty());
    let problem = &batch.data.problems[0];
    assert_eq!(problem.rule, promscope::problems::Rule::ContentTypeMismatch);
    assert!(
        problem
            .message
            .text()
            .contains("io.prometheus.write.v2.Request"),
        "{problem:?}"
    );
}

#[tokio::test]
async fn a_body_without_content_encoding_is_read_as_snappy_with_a_warning() {
    // What the npm `prometheus-remote-write` package sends.
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let reply = r
        .post(
            "/api/v1/write",
            &[("content-type", "application/x-protobuf")],
            rw1_body(&[1.0, 2.0]),
        )
        .await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let batch = r.next_batch().await;
    assert_eq!(batch.outcome, Outcome::Accepted);
    assert_eq!(batch.data.samples.len(), 2);
    assert!(
        batch.data.warnings[0].contains("no Content-Encoding header"),
        "{:?}",
        batch.data.warnings
    );
}

/// The official receiver compliance cases (prometheus/compliance, remotewrite).
#[tokio::test]
async fn compliance_names_with_dots_and_spaces_are_accepted() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let rw1 = rw1_series_body(
        &[&[("__name__", "my.metric name"), ("my.label key", "v")]],
        now_ms(),
    );
    let reply = r.post("/", RW1_HEADERS, rw1).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let batch = r.next_batch().await;
    let data = &batch.data;
    assert_eq!(
        data.metric_name(data.series[0].labels.clone()),
        "my.metric name"
    );
    assert!(data.warnings.is_empty(), "{:?}", data.warnings);
    let mut req = rw2_request();
    req.symbols[2] = "requests.total per second".into();
    req.symbols[3] = "job name.x".into();
    let reply = r.post("/", RW2_HEADERS, snappy(&req.encode_to_vec())).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let batch = r.next_batch().await;
    let labels: Vec<_> = batch
        .data
        .label_pairs(batch.data.series[0].labels.clone())
        .collect();
    assert_eq!(
        labels,
        [
            ("__name__", "requests.total per second"),
            ("job name.x", "api")
        ]
    );
}

#[tokio::test]
async fn compliance_rw2_series_without_name_is_refused_and_the_others_counted_as_written() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    // Series 0 (two samples, an exemplar) loses its __name__; series 1 (a
    // histogram) is fine.
    let mut req = rw2_request();
    req.timeseries[0].labels_refs.drain(..2);
    let reply = r.post("/", RW2_HEADERS, snappy(&req.encode_to_vec())).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(
        reply.body.contains("timeseries[0] has no __name__ label"),
        "{}",
        reply.body
    );
    assert_eq!(written(&reply), [0, 1, 0]);
    let batch = r.next_batch().await;
    assert!(matches!(
        batch.outcome,
        Outcome::Rejected {
            status: 400,
            reason: RejectReason::Invalid,
            ..
        }
    ));
    // What was written reaches the consumers.
    assert_eq!(batch.data.series.len(), 1);
    assert_eq!(batch.data.histograms.len(), 1);
    // A symbol out of range refuses its series alone too.
    let mut req = rw2_request();
    req.timeseries[1].labels_refs[3] = 99;
    let reply = r.post("/", RW2_HEADERS, snappy(&req.encode_to_vec())).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(
        reply.body.contains(
            "timeseries[1].labels_refs[3] refers to symbol 99, but the request has only 8 symbols"
        ),
        "{}",
        reply.body
    );
    assert_eq!(written(&reply), [2, 0, 1]);
    assert_eq!(r.next_batch().await.data.samples.len(), 2);
}

/// zstd as VictoriaMetrics' encoder writes it: ruzstd here.
fn zstd(raw: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(raw, ruzstd::encoding::CompressionLevel::Fastest)
}

/// Headers vmagent sends in VictoriaMetrics' protocol.
const VM_HEADERS: &[(&str, &str)] = &[
    ("content-encoding", "zstd"),
    ("content-type", "application/x-protobuf"),
    ("user-agent", "vmagent"),
    ("x-victoriametrics-remote-write-version", "1"),
];

#[tokio::test]
async fn victoriametrics_protocol_zstd_bodies_are_decoded_and_shown_as_vm() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let raw = rw1_request(&[1.0, 2.0, 3.0]).encode_to_vec();
    let reply = r
        .post("/insert/7/prometheus/api/v1/write", VM_HEADERS, zstd(&raw))
        .await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let batch = r.next_batch().await;
    assert_eq!(batch.outcome, Outcome::Accepted);
    assert_eq!(batch.info.protocol, Some(Protocol::Vm));
    assert_eq!(batch.info.protocol.map(Protocol::name), Some("VM"));
    assert_eq!(batch.info.tenant.as_deref(), Some("7"));
    assert_eq!(batch.info.decoded_bytes, raw.len());
    assert_eq!(batch.data.samples.len(), 3);
    // Not zstd after all, and zstd that decodes to too much.
    let reply = r.post("/", VM_HEADERS, rw1_body(&[1.0])).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("not valid zstd data"), "{}", reply.body);
    r.next_batch().await;
    let limits = Limits {
        max_decoded_bytes: 1000,
        ..Limits::default()
    };
    let mut small = TestReceiver::start(limits, 8).await;
    let big = zstd(&rw1_request(&[1.0; 200]).encode_to_vec());
    let reply = small.post("/", VM_HEADERS, big).await;
    assert_eq!(reply.status, 413, "{}", reply.body);
    assert!(
        reply.body.contains("more than the limit of 1000 bytes"),
        "{}",
        reply.body
    );
    assert!(matches!(
        small.next_batch().await.outcome,
        Outcome::Rejected {
            reason: RejectReason::TooLarge,
            ..
        }
    ));
}

#[tokio::test]
async fn the_vmagent_handshake_is_answered_as_a_victoriametrics_receiver() {
    // What vmagent releases before v1.116 ask, by any method, before choosing
    // VictoriaMetrics' protocol: the answer `1` says it is spoken.
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    for (method, path) in [
        ("GET", "/api/v1/write?get_vm_proto_version=1"),
        (
            "POST",
            "/insert/0/prometheus/api/v1/write?x=y&get_vm_proto_version=1",
        ),
    ] {
        let reply = r.request(method, path, &[], vec![]).await;
        assert_eq!(
            (reply.status.as_u16(), reply.body.as_str()),
            (200, "1"),
            "{method} {path}"
        );
    }
    // Not a handshake: an empty value, or another name.
    for path in [
        "/api/v1/write?get_vm_proto_version=",
        "/api/v1/write?get_vm_proto_version_x=1",
    ] {
        let reply = r.request("GET", path, &[], vec![]).await;
        assert_eq!(reply.status, 405, "{path}");
    }
    // Neither handshake is a request to show: the next batch is the first 405.
    assert!(matches!(
        r.next_batch().await.outcome,
        Outcome::Rejected { status: 405, .. }
    ));
}

#[tokio::test]
async fn requests_refused_on_their_headers_keep_the_connection_usable() {
    let r = TestReceiver::start(Limits::default(), 64).await;
    let json = [
        ("content-type", "application/json"),
        ("content-encoding", "snappy"),
    ];
    for size in [100, 100_000] {
        let mut conn = OneConnection::open(r.addr).await;
        for i in 0..3 {
            let reply = conn
                .post(&json, vec![b'x'; size])
                .await
                .unwrap_or_else(|e| panic!("{size} bytes, request {i}: {e}"));
            assert_eq!(reply.status, 415);
            assert!(reply.headers.get("connection").is_none());
        }
        let reply = conn
            .post(RW1_HEADERS, rw1_body(&[1.0]))
            .await
            .expect("the same connection carries a good request");
        assert_eq!(reply.status, 204, "{size} bytes: {}", reply.body);
    }
    // A body too large to read through is not read: the answer closes the
    // connection, saying so.
    let mut conn = OneConnection::open(r.addr).await;
    let reply = conn.post(&json, vec![b'x'; 3 << 20]).await.unwrap();
    assert_eq!(reply.status, 415);
    assert_eq!(reply.headers.get("connection").unwrap(), "close");
}

/// Sends `head` on a new connection and returns the first bytes answered.
async fn raw_exchange(addr: std::net::SocketAddr, head: &str) -> (tokio::net::TcpStream, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
        .await
        .expect("an answer without the body")
        .unwrap();
    (tcp, String::from_utf8_lossy(&buf[..n]).into_owned())
}

#[tokio::test]
async fn expect_100_continue_over_the_limit_gets_413_at_once_and_within_it_100() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let limits = Limits {
        max_compressed_bytes: 65_536,
        ..Limits::default()
    };
    let mut r = TestReceiver::start(limits, 8).await;
    let head = |len: usize| {
        format!(
            "POST /api/v1/write HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\nExpect: 100-continue\r\nContent-Length: {len}\r\n\r\n"
        )
    };
    let (_tcp, answer) = raw_exchange(r.addr, &head(1 << 20)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    r.next_batch().await;
    let body = rw1_body(&[1.0]);
    let (mut tcp, answer) = raw_exchange(r.addr, &head(body.len())).await;
    assert!(answer.starts_with("HTTP/1.1 100 Continue"), "{answer}");
    tcp.write_all(&body).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tcp.read(&mut buf).await.unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
    assert_eq!(r.next_batch().await.outcome, Outcome::Accepted);
}

#[tokio::test]
async fn a_receiver_keeping_requests_hands_on_each_as_it_arrived_and_redacts_credentials() {
    let mut r =
        TestReceiver::start_configured(Limits::default(), 8, |r| r.keeping_requests()).await;
    let headers = [RW1_HEADERS, &[("authorization", "Bearer secret")]].concat();
    let body = rw1_body(&[1.0]);
    let reply = r.post("/api/v1/write?x=1", &headers, body.clone()).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let batch = r.next_batch().await;
    let raw = batch.info.raw.as_deref().expect("the request is kept");
    assert_eq!(raw.method, "POST");
    assert_eq!(raw.target, "/api/v1/write?x=1");
    assert_eq!(raw.body.to_vec(), body);
    assert!(raw.body_complete);
    let value = |name: &str| {
        raw.headers
            .iter()
            .find(|h| h.name == name)
            .map(|h| String::from_utf8_lossy(&h.value).into_owned())
    };
    assert_eq!(value("user-agent").as_deref(), Some("test-sender/1.0"));
    assert_eq!(
        value("authorization").as_deref(),
        Some("<redacted by promscope>")
    );
    // Refused on its headers: the head is kept, the body was never read.
    let reply = r
        .post("/api/v1/write", &[("content-type", "text/plain")], body)
        .await;
    assert_eq!(reply.status, 415, "{}", reply.body);
    let batch = r.next_batch().await;
    let raw = batch.info.raw.as_deref().expect("the request is kept");
    assert!(!raw.body_complete && raw.body.is_empty());
    // Without it (headless mode), nothing is kept.
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await;
    assert!(r.next_batch().await.info.raw.is_none());
}
