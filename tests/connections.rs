//! Connections held by hostile or broken senders: the header, body and idle
//! timeouts, running out of file descriptors, and the budget of bytes that
//! bodies being received, and batches waiting for the consumer, take at once.
//! The cap on connections: tests/connection_cap.rs.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::raw::{connect, head};
use common::*;
use promscope::ingest::model::{Outcome, RejectReason};
use promscope::ingest::queue;
use promscope::ingest::server::Limits;
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn half_sent_headers_are_cut_off_at_the_header_timeout() {
    let limits = Limits {
        header_timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    let r = TestReceiver::start(limits, 8).await;
    // A connection that sends nothing, and one that stops inside its headers.
    let mut silent = connect(r.addr).await;
    let mut half = connect(r.addr).await;
    half.write_all(b"POST /api/v1/write HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    assert_eq!(until_closed(&mut silent).await, "");
    // The half-sent head is told why (tests/bad_http.rs has more).
    let answer = until_closed(&mut half).await;
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
}

#[tokio::test]
async fn a_stalled_body_gets_408_at_the_body_timeout_not_204() {
    let limits = Limits {
        body_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let mut r = TestReceiver::start(limits, 8).await;
    let body = rw1_body(&[1.0]);
    let mut tcp = connect(r.addr).await;
    tcp.write_all(head(body.len()).as_bytes()).await.unwrap();
    tcp.write_all(&body[..body.len() / 2]).await.unwrap();
    let answer = until_closed(&mut tcp).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("--body-timeout"), "{answer}");
    assert!(matches!(
        r.next_batch().await.outcome,
        Outcome::Rejected {
            status: 408,
            reason: RejectReason::BodyTimeout,
            ..
        }
    ));
}

#[tokio::test]
async fn keep_alive_connections_close_at_the_idle_timeout_not_the_header_timeout() {
    let limits = Limits {
        header_timeout: Duration::from_millis(100),
        idle_timeout: Duration::from_millis(1500),
        ..Limits::default()
    };
    let r = TestReceiver::start(limits, 8).await;
    let mut conn = OneConnection::open(r.addr).await;
    for _ in 0..2 {
        let reply = conn.post(RW1_HEADERS, rw1_body(&[1.0])).await.unwrap();
        assert_eq!(reply.status, 204);
        // Idle for longer than the header timeout: still open.
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let mut tcp = connect(r.addr).await;
    let body = rw1_body(&[1.0]);
    tcp.write_all(head(body.len()).as_bytes()).await.unwrap();
    tcp.write_all(&body).await.unwrap();
    let answer = until_closed(&mut tcp).await;
    assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
}

#[tokio::test]
async fn bodies_past_the_budget_get_503_with_retry_after_and_the_budget_comes_back() {
    let limits = Limits {
        max_compressed_bytes: 400_000,
        max_decoded_bytes: 400_000,
        max_bytes_in_flight: 1_000_000,
        ..Limits::default()
    };
    let mut r = TestReceiver::start(limits, 8).await;
    // Two bodies of 400 kB on their way hold 800 kB of the budget.
    let mut slow = Vec::new();
    for _ in 0..2 {
        let mut tcp = connect(r.addr).await;
        tcp.write_all(head(400_000).as_bytes()).await.unwrap();
        tcp.write_all(&[0u8; 10]).await.unwrap();
        slow.push(tcp);
    }
    // Until the receiver has taken both, a third may still fit: wait for it.
    let mut refused = None;
    for _ in 0..100 {
        let reply = r
            .post("/api/v1/write", RW1_HEADERS, vec![0u8; 300_000])
            .await;
        if reply.status == 503 {
            refused = Some(reply);
            break;
        }
        r.next_batch().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = refused.expect("503 once the budget is taken");
    assert_eq!(refused.headers.get("retry-after").unwrap(), "1");
    assert!(
        refused.body.contains("--max-bytes-in-flight"),
        "{}",
        refused.body
    );
    assert!(matches!(
        r.next_batch().await.outcome,
        Outcome::Rejected {
            status: 503,
            reason: RejectReason::Overloaded,
            ..
        }
    ));
    // A body without a stated length is charged as it arrives.
    let mut chunked = connect(r.addr).await;
    chunked
        .write_all(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: snappy\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        .await
        .unwrap();
    let chunk = vec![b'x'; 300_000];
    chunked
        .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
        .await
        .unwrap();
    let _ = chunked.write_all(&chunk).await;
    let answer = until_closed(&mut chunked).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    r.next_batch().await;
    // The slow senders give up: their share of the budget comes back.
    drop(slow);
    let mut accepted = false;
    for _ in 0..100 {
        let reply = r
            .post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0; 10_000]))
            .await;
        r.next_batch().await;
        if reply.status == 204 {
            accepted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(accepted, "the budget came back");
}

/// CPU time (user + system) a process has used, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces), from field 3.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[test]
#[cfg(target_os = "linux")]
fn out_of_file_descriptors_the_receiver_neither_spins_nor_locks_senders_out() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    // The real binary with few descriptors, and a cap it cannot reach.
    let mut sh = Command::new("sh");
    sh.args([
        "-c",
        "ulimit -n 48 && exec \"$0\" --no-tui --format none --listen 127.0.0.1:0 --max-connections 1000",
        env!("CARGO_BIN_EXE_promscope"),
    ])
    .stdout(Stdio::null());
    let binary::Started {
        mut child,
        url,
        stderr,
        ..
    } = binary::start(sh);
    // Keep reading, so that its status lines never meet a closed pipe.
    binary::read_in_background(stderr);
    let addr: SocketAddr = url
        .trim_start_matches("http://")
        .trim_end_matches("/api/v1/write")
        .parse()
        .unwrap();
    // Busy connections (a body on its way) cannot be closed to make room: with
    // more of them than descriptors, accepting fails until some end.
    let busy: Vec<std::net::TcpStream> = (0..80)
        .map(|_| {
            let mut tcp = std::net::TcpStream::connect(addr).unwrap();
            let _ = tcp.write_all(head(1000).as_bytes());
            let _ = tcp.write_all(b"x");
            tcp
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let before = cpu_ticks(child.id());
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_ticks(child.id()) - before;
    // Spinning on accept would take the whole 2 s (about 200 ticks).
    eprintln!("used {used}");
    assert!(
        used < 50,
        "{used} ticks of CPU in 2 s while out of descriptors"
    );
    drop(busy);
    // Idle connections are closed to let a sender in.
    let idle: Vec<std::net::TcpStream> = (0..80)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let status = post_blocking(&url, RW1_HEADERS, rw1_body(&[1.0]));
    assert_eq!(status, 204);
    drop(idle);
    let _ = child.kill();
    let _ = child.wait();
}

/// Bodies of at most `body` bytes (compressed and decoded), `budget` bytes in flight.
fn budget_limits(body: usize, budget: usize) -> Limits {
    Limits {
        max_compressed_bytes: body,
        max_decoded_bytes: body,
        max_bytes_in_flight: budget,
        ..Limits::default()
    }
}

#[tokio::test]
async fn batches_waiting_for_the_consumer_hold_their_bytes_of_the_budget() {
    let budget = 8 << 20;
    let limits = budget_limits(2 << 20, budget);
    // Room for 64 batches, and a consumer that takes none: each request of
    // 50,000 samples (600 KB decoded) holds 2.1 MB once decoded. Before, all 64
    // waited: 134 MB (400 MB with what the decoder reserved) beside a budget
    // of 8 MiB.
    let mut r = TestReceiver::start(limits, 64).await;
    let body = rw1_body(&[1.0; 50_000]);
    let mut accepted = 0;
    let refused = loop {
        let reply = r.post("/api/v1/write", RW1_HEADERS, body.clone()).await;
        if reply.status != 204 {
            break reply;
        }
        accepted += 1;
        assert!(accepted < 64, "every batch waits, past the budget");
    };
    assert_eq!(refused.status, 503);
    assert_eq!(refused.headers.get("retry-after").unwrap(), "1");
    assert!(
        refused.body.contains("--max-bytes-in-flight"),
        "{}",
        refused.body
    );
    let mut waiting = 0;
    for _ in 0..=accepted {
        let queued = r.rx.recv().await.expect("channel open");
        let held = queue::held_bytes(queued.batch());
        assert!(queued.charged_bytes() >= held || queued.batch().data.series.is_empty());
        waiting += held;
    }
    assert!(accepted >= 3, "only {accepted} accepted");
    assert!(waiting <= budget, "{waiting} bytes waiting");
    // Taken by the consumer, the bytes are back.
    let reply = r.post("/api/v1/write", RW1_HEADERS, body).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
}

#[tokio::test]
async fn rejected_requests_waiting_for_the_consumer_hold_their_bytes_of_the_budget() {
    let budget = 4 << 20;
    let limits = Limits {
        queue_timeout: Duration::from_millis(200),
        ..budget_limits(1 << 20, budget)
    };
    // The dashboard's receiver keeps each request's body for its request
    // view, rejected ones too; room for many batches and a consumer that
    // takes none. Before, rejected batches held nothing of the budget: 40
    // bodies of 1 MB that are not snappy waited, 40 MB beside a budget of
    // 4 MiB, and a sender that kept sending them grew memory without end.
    const SENT: usize = 40;
    let mut r =
        TestReceiver::start_configured(limits, 1000, |receiver| receiver.keeping_requests()).await;
    let not_snappy = vec![0xff; 1_000_000];
    let mut refused_bad = 0;
    for _ in 0..SENT {
        let reply = r
            .post("/api/v1/write", RW1_HEADERS, not_snappy.clone())
            .await;
        match reply.status.as_u16() {
            400 => refused_bad += 1,
            // The budget is full of the bodies that wait: retry later.
            503 => assert!(
                reply.body.contains("--max-bytes-in-flight"),
                "{}",
                reply.body
            ),
            status => panic!("{status}: {}", reply.body),
        }
    }
    assert!(
        (1..SENT).contains(&refused_bad),
        "{refused_bad} of {SENT} refused as bad snappy"
    );
    let (mut queued, mut waiting, mut with_body) = (0, 0, 0);
    while let Ok(Some(q)) = tokio::time::timeout(Duration::from_millis(500), r.rx.recv()).await {
        let held = queue::held_bytes(q.batch());
        assert!(q.charged_bytes() >= held, "{} < {held}", q.charged_bytes());
        let reason = match &q.batch().outcome {
            Outcome::Rejected { reason, .. } => *reason,
            other => panic!("{other:?}"),
        };
        assert!(matches!(
            reason,
            RejectReason::Snappy | RejectReason::Overloaded
        ));
        waiting += held;
        queued += 1;
        with_body += usize::from(
            q.batch()
                .info
                .raw
                .as_ref()
                .is_some_and(|raw| raw.body.len() == not_snappy.len()),
        );
    }
    let dropped = r
        .stats
        .dropped_requests
        .load(std::sync::atomic::Ordering::Relaxed) as usize;
    assert_eq!(queued + dropped, SENT);
    assert!(waiting <= budget, "{waiting} bytes waiting");
    // While the budget had room the bodies were kept; then the rejections
    // went on without them.
    assert!(
        (1..SENT).contains(&with_body),
        "{with_body} with their body"
    );
    assert_eq!(queued, SENT, "the rejections themselves fit");
    // Taken by the consumer, the bytes are back.
    let reply = r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
}
