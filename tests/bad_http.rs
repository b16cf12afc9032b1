//! Requests the HTTP layer refuses before promscope's handler sees them (a
//! control character in a header, too many headers, HTTP/2 without TLS, a
//! head cut short or late): the sender is told what was wrong, and each is
//! handed on as a rejected request (`bad_http`) with the peer's address, so
//! that the dashboard and the output show it. Talks raw TCP to a real
//! receiver on an ephemeral port.

mod common;

use std::time::Duration;

use common::*;
use promscope::ingest::model::{Batch, Outcome, RejectReason};
use promscope::ingest::server::Limits;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Sends `bytes`, then reads until the receiver closes.
async fn exchange(r: &TestReceiver, bytes: &[u8]) -> (TcpStream, String) {
    let mut tcp = TcpStream::connect(r.addr).await.unwrap();
    tcp.write_all(bytes).await.unwrap();
    let answer = until_closed(&mut tcp).await;
    (tcp, answer)
}

/// The rejection of a batch: status and message; panics unless it is `bad_http`.
fn bad_http(batch: &Batch) -> (u16, &str) {
    match &batch.outcome {
        Outcome::Rejected {
            status,
            reason: RejectReason::BadHttp,
            message,
        } => (*status, message),
        other => panic!("not a bad_http rejection: {other:?}"),
    }
}

const HEAD: &str = "POST /api/v1/write HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\n";

#[tokio::test]
async fn an_escape_in_the_user_agent_is_answered_saying_so_and_shown_as_rejected() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let body = rw1_body(&[1.0]);
    let mut request = format!(
        "{HEAD}User-Agent: evil\x1b[31mred\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let (tcp, answer) = exchange(&r, &request).await;
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(answer.contains("content-type: text/plain"), "{answer}");
    let said = "the header \"User-Agent\" holds \\x1b in its value (byte 5)";
    assert!(answer.contains(said), "{answer}");
    assert!(!answer.contains('\x1b'), "the escape is not sent back raw");
    let batch = r.next_batch().await;
    let (status, message) = bad_http(&batch);
    assert_eq!(status, 400);
    assert!(message.contains(said), "{message}");
    assert_eq!(batch.info.remote_addr, Some(tcp.local_addr().unwrap()));
    assert_eq!(batch.info.path, "/api/v1/write");
    assert_eq!(batch.info.user_agent.as_deref(), Some("evil\x1b[31mred"));
    // Other senders are served as before.
    let reply = r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[2.0])).await;
    assert_eq!(reply.status, 204);
    assert_eq!(r.next_batch().await.outcome, Outcome::Accepted);
}

#[tokio::test]
async fn too_many_headers_get_431_saying_how_many() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let mut request = HEAD.to_owned();
    // More than promscope keeps a copy of: its last line is cut there.
    for i in 0..10_000 {
        request.push_str(&format!("X-Filler-{i}: v\r\n"));
    }
    request.push_str("Content-Length: 0\r\n\r\n");
    let (_, answer) = exchange(&r, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
    assert!(answer.contains("more than 100 headers"), "{answer}");
    let batch = r.next_batch().await;
    assert_eq!(bad_http(&batch).0, 431);
}

#[tokio::test]
async fn a_head_over_64_kib_gets_431_and_holds_no_more() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    // One header of 100 KB: few headers, but more bytes than a head may take
    // (hyper's own bound is ~400 KiB a connection).
    let request = format!(
        "{HEAD}X-Filler: {}\r\nContent-Length: 0\r\n\r\n",
        "v".repeat(100_000)
    );
    let (_, answer) = exchange(&r, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
    assert!(answer.contains("over 64 KiB"), "{answer}");
    assert_eq!(bad_http(&r.next_batch().await).0, 431);
    // A head under the bound is served.
    let reply = r
        .post(
            "/api/v1/write",
            &[RW1_HEADERS, &[("x-filler", &"v".repeat(30_000))]].concat(),
            rw1_body(&[1.0]),
        )
        .await;
    assert_eq!(reply.status, 204, "{}", reply.body);
}

#[tokio::test]
async fn http2_without_tls_is_told_to_speak_http_1_1() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let (_, answer) = exchange(&r, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 505 "), "{answer}");
    assert!(answer.contains("HTTP/2 without TLS"), "{answer}");
    let batch = r.next_batch().await;
    assert_eq!(bad_http(&batch).0, 505);
}

#[tokio::test]
async fn a_head_cut_short_or_late_is_shown_and_a_silent_connection_is_not() {
    let limits = Limits {
        header_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let mut r = TestReceiver::start(limits, 8).await;
    // Stops inside its headers: answered 408 at the header timeout.
    let (_, answer) = {
        let mut tcp = TcpStream::connect(r.addr).await.unwrap();
        let silent = TcpStream::connect(r.addr).await.unwrap();
        tcp.write_all(b"POST /api/v1/write HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let answer = until_closed(&mut tcp).await;
        drop(silent);
        (tcp, answer)
    };
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(answer.contains("--header-timeout"), "{answer}");
    let batch = r.next_batch().await;
    let (status, message) = bad_http(&batch);
    assert_eq!(status, 408);
    assert!(message.contains("38 bytes of it came"), "{message}");
    // Closed inside its headers: shown, though no answer can be read.
    let mut tcp = TcpStream::connect(r.addr).await.unwrap();
    tcp.write_all(b"POST /api/v1/write HTTP/1.1\r\nHo")
        .await
        .unwrap();
    drop(tcp);
    let batch = r.next_batch().await;
    let (_, message) = bad_http(&batch);
    assert!(message.contains("closed after 31 bytes"), "{message}");
    // The silent connection (closed without a byte) handed nothing on.
    let nothing = tokio::time::timeout(Duration::from_millis(500), r.rx.recv()).await;
    assert!(
        nothing.is_err(),
        "a connection that sent nothing is no request"
    );
}

#[tokio::test]
async fn a_body_longer_than_its_content_length_says_is_told_as_such() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let body = rw1_body(&[1.0]);
    let mut request = format!("{HEAD}User-Agent: liar/1\r\nContent-Length: 5\r\n\r\n").into_bytes();
    request.extend_from_slice(&body);
    let (_, answer) = exchange(&r, &request).await;
    // The five bytes are the first request's body; the rest is read as the
    // head of a second one.
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    let said = "was it longer than its Content-Length said?";
    assert!(answer.contains(said), "{answer}");
    let first = r.next_batch().await;
    assert_eq!(first.info.compressed_bytes, 5);
    let second = r.next_batch().await;
    assert!(bad_http(&second).1.contains(said));
    assert_eq!(second.info.user_agent.as_deref(), Some("liar/1"));
    assert_eq!(second.info.path, "", "the path is the first request's");
}

#[tokio::test]
async fn a_chunk_size_past_64_bits_says_what_was_wrong_with_the_body() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let request = format!("{HEAD}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n");
    let (_, answer) = exchange(&r, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    let batch = r.next_batch().await;
    let Outcome::Rejected {
        reason, message, ..
    } = &batch.outcome
    else {
        panic!("{:?}", batch.outcome)
    };
    assert_eq!(*reason, RejectReason::BodyRead);
    assert!(message.contains("chunk size"), "{message}");
}
