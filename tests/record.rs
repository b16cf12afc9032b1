//! `--record`: a real receiver on an ephemeral port records what senders sent,
//! byte for byte, with promscope's answers; the capture reads back exactly.

mod common;

use std::io::{Read, Write};

use common::temp::TempFile;
use common::*;
use promscope::capture::{CaptureReader, Exchange, RecordLimits, Recorder, header};
use promscope::ingest::server::Limits;

fn read_capture(path: &std::path::Path) -> Vec<Exchange> {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    CaptureReader::new(file)
        .map(|r| r.expect("an undamaged capture"))
        .collect()
}

/// Sends `raw` on a new connection and returns the response's status line.
fn raw_request(addr: std::net::SocketAddr, raw: &[u8]) -> String {
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    tcp.write_all(raw).unwrap();
    let mut response = [0u8; 512];
    let n = tcp.read(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response[..n]).into_owned();
    text.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_are_recorded_as_received_with_their_answers() {
    let file = TempFile::new("as-received.warc");
    let recorder = Recorder::start(&file.0, RecordLimits::default()).unwrap();
    let handle = recorder.handle();
    let mut receiver =
        TestReceiver::start_configured(Limits::default(), 64, |r| r.with_recording(handle)).await;

    let rw2 = rw2_body();
    let reply = receiver
        .post(
            "/api/v1/write",
            &[
                ("content-encoding", "snappy"),
                ("content-type", RW2_CONTENT_TYPE),
                ("user-agent", "test/1"),
                ("authorization", "Bearer secret-token"),
            ],
            rw2.clone(),
        )
        .await;
    assert_eq!(reply.status, 204);
    let rw1 = rw1_body(&[1.0, 2.0]);
    let gzip = receiver
        .post(
            "/push?tenant=a",
            &[("content-encoding", "gzip")],
            rw1.clone(),
        )
        .await;
    assert_eq!(gzip.status, 415);
    let get = receiver.request("GET", "/", &[], vec![]).await;
    assert_eq!(get.status, 405);
    // A chunked body is recorded whole, with the length it came to.
    let mut chunked = b"POST /api/v1/write HTTP/1.1\r\nHost: promscope.test\r\ncontent-encoding: snappy\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_vec();
    let (first, second) = rw1.split_at(rw1.len() / 2);
    for chunk in [first, second] {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let addr = receiver.addr;
    let status = tokio::task::spawn_blocking(move || raw_request(addr, &chunked))
        .await
        .unwrap();
    assert_eq!(status, "HTTP/1.1 204 No Content");
    for _ in 0..4 {
        receiver.next_batch().await;
    }
    let stats = recorder.finish().stats;
    assert_eq!(stats.recorded.load(std::sync::atomic::Ordering::Relaxed), 4);

    let recorded = read_capture(&file.0);
    assert_eq!(recorded.len(), 4);
    let [accepted, refused, get, chunked] = &recorded[..] else {
        unreachable!()
    };
    for e in &recorded {
        assert_eq!(e.peer.unwrap().ip().to_string(), "127.0.0.1");
    }
    assert!(
        recorded
            .windows(2)
            .all(|w| w[0].received_at <= w[1].received_at)
    );

    assert_eq!(accepted.method, "POST");
    assert_eq!(accepted.url, format!("http://{addr}/api/v1/write"));
    assert_eq!(accepted.body, rw2);
    assert!(accepted.body_complete);
    assert_eq!(
        header(&accepted.headers, "user-agent"),
        Some(&b"test/1"[..])
    );
    assert_eq!(
        header(&accepted.headers, "authorization"),
        Some(&b"<redacted by promscope>"[..])
    );
    let answer = accepted.answer.as_ref().unwrap();
    assert_eq!(
        (answer.status, answer.reject_reason.as_deref()),
        (204, None)
    );
    let samples = reply.headers["x-prometheus-remote-write-samples-written"].as_bytes();
    assert_eq!(
        header(&answer.headers, "x-prometheus-remote-write-samples-written"),
        Some(samples)
    );

    assert_eq!(refused.target, "/push?tenant=a");
    // Refused on its headers: the body was not kept.
    assert!(!refused.body_complete);
    let answer = refused.answer.as_ref().unwrap();
    assert_eq!(answer.status, 415);
    assert_eq!(
        answer.reject_reason.as_deref(),
        Some("unsupported_encoding")
    );
    assert_eq!(String::from_utf8_lossy(&answer.body), gzip.body);

    assert_eq!(get.method, "GET");
    assert_eq!(
        get.answer.as_ref().unwrap().reject_reason.as_deref(),
        Some("method_not_allowed")
    );

    assert_eq!(chunked.url, "http://promscope.test/api/v1/write");
    assert_eq!(chunked.body, rw1);
    assert_eq!(header(&chunked.headers, "transfer-encoding"), None);
    assert_eq!(
        header(&chunked.headers, "content-length"),
        Some(rw1.len().to_string().as_bytes())
    );
}

/// The User-Agents of a capture's requests, in file order.
fn senders_in(path: &std::path::Path) -> Vec<String> {
    read_capture(path)
        .iter()
        .map(|e| {
            String::from_utf8_lossy(header(&e.headers, "user-agent").unwrap_or_default())
                .into_owned()
        })
        .collect()
}

/// Sends the head of a request from `agent` and half its body, and returns
/// the connection, to send the rest with [`finish_slow`].
async fn start_slow(addr: std::net::SocketAddr, agent: &str, body: &[u8]) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/write HTTP/1.1\r\nHost: x\r\nUser-Agent: {agent}\r\nContent-Encoding: snappy\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&body[..body.len() / 2]).await.unwrap();
    tcp
}

async fn finish_slow(mut tcp: tokio::net::TcpStream, body: &[u8]) -> String {
    use tokio::io::AsyncWriteExt;
    tcp.write_all(&body[body.len() / 2..]).await.unwrap();
    until_closed(&mut tcp).await
}

/// Two overlapping requests to a recording receiver: "first" arrives, and
/// its body is slow (the rest is sent with [`finish_slow`]); "second" arrives
/// after it and is answered first.
async fn overlapping(
    file: &TempFile,
    reorder_wait: std::time::Duration,
) -> (Recorder, TestReceiver, tokio::net::TcpStream) {
    let limits = RecordLimits {
        reorder_wait,
        ..RecordLimits::default()
    };
    let recorder = Recorder::start(&file.0, limits).unwrap();
    let handle = recorder.handle();
    let mut receiver =
        TestReceiver::start_configured(Limits::default(), 64, |r| r.with_recording(handle)).await;
    let first = start_slow(receiver.addr, "first", &rw1_body(&[1.0])).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let second = receiver
        .post(
            "/api/v1/write",
            &[("user-agent", "second")],
            rw1_body(&[2.0]),
        )
        .await;
    assert_eq!(second.status, 204);
    assert_eq!(
        receiver.next_batch().await.info.user_agent.as_deref(),
        Some("second")
    );
    (recorder, receiver, first)
}

#[tokio::test(flavor = "multi_thread")]
async fn overlapping_requests_are_recorded_in_the_order_they_arrived_not_answered() {
    let file = TempFile::new("overlap.warc");
    let (recorder, mut receiver, first) =
        overlapping(&file, std::time::Duration::from_secs(30)).await;
    let answer = finish_slow(first, &rw1_body(&[1.0])).await;
    assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
    receiver.next_batch().await;
    let stats = recorder.finish().stats;
    assert_eq!(stats.recorded.load(std::sync::atomic::Ordering::Relaxed), 2);
    assert_eq!(senders_in(&file.0), ["first", "second"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_that_takes_long_holds_up_the_records_after_it_for_a_while_only() {
    let file = TempFile::new("overlap-late.warc");
    let (recorder, mut receiver, first) =
        overlapping(&file, std::time::Duration::from_millis(200)).await;
    // Written once it waited long enough, though "first" is still arriving.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while senders_in(&file.0).is_empty() {
        assert!(std::time::Instant::now() < deadline, "nothing written");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(senders_in(&file.0), ["second"]);
    let answer = finish_slow(first, &rw1_body(&[1.0])).await;
    assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
    receiver.next_batch().await;
    recorder.finish();
    assert_eq!(senders_in(&file.0), ["second", "first"]);
}

#[test]
fn the_binary_records_with_record_and_says_so_in_its_summary() {
    let file = TempFile::new("binary.warc");
    let args = [
        "--no-tui".as_ref(),
        "--format".as_ref(),
        "none".as_ref(),
        "--listen".as_ref(),
        "127.0.0.1:0".as_ref(),
        "--record".as_ref(),
        file.0.as_os_str(),
    ];
    let binary::Started {
        mut child,
        url,
        mut stderr,
        ..
    } = binary::start_promscope::<&std::ffi::OsStr>(&args, std::process::Stdio::null());
    let body = rw1_body(&[1.0]);
    assert_eq!(
        post_blocking(&url, &[("content-encoding", "snappy")], body.clone()),
        204
    );
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success());
    assert!(rest.contains("  recorded    1 requests to "), "{rest}");
    let recorded = read_capture(&file.0);
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].body, body);
}
