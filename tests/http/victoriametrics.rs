//! VictoriaMetrics' protocol: zstd bodies decoded and shown as VM, and the
//! vmagent handshake answered as a VictoriaMetrics receiver.

use super::*;

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
