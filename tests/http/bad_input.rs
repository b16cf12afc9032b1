//! Every kind of bad input gets its status and message, and the receiver keeps
//! serving after each.

use super::*;

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
