//! Requests that never reached the handler: a head the HTTP layer refused
//! (a control character in a header, a malformed request line, too many or
//! too large headers, HTTP/2 spoken without TLS), or one that did not arrive
//! whole (the header timeout, the connection ending inside it). hyper answers
//! the first kind with an empty 400 and tells nobody; here the sender gets an
//! answer saying what was wrong, and the request is handed on as rejected
//! (`bad_http`) with the peer's address, for the dashboard and the output.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use hyper::StatusCode;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::conn::{Conn, HEAD_COPY, MAX_HEAD_BYTES, MIN_RATE};
use super::model::{Batch, Outcome, RejectReason, RequestInfo, WriteData};
use super::server::Receiver;
use crate::text::bounded;
use crate::text::escape::{escaped, lossless};

/// The most headers hyper reads in a head (its default).
const MAX_HEADERS: usize = 100;

/// Longest piece of a head quoted in a message.
const QUOTED_BYTES: usize = 120;

/// What is read and dropped after the answer, so that closing with unread
/// bytes does not reset the connection before the sender reads it.
const LINGER_BYTES: usize = 1 << 20;

/// How a connection's HTTP ended.
pub(super) enum Ended {
    /// hyper finished with it, cleanly or not.
    Served(Result<(), hyper::Error>),
    /// Its header or idle timeout passed.
    TimedOut,
    /// It was asked to close (to make room, or at shutdown).
    Closed,
    /// It was closed to make room while its request arrived too slowly.
    Evicted,
}

/// What was wrong, and the status the sender is answered with.
#[derive(Debug, PartialEq)]
struct Failure {
    status: u16,
    message: String,
}

/// Answers and hands on a request the handler never saw, if the connection
/// ended on one; `head` is the start of its head as it arrived.
pub(super) async fn answer<IO>(
    io: IO,
    ended: Ended,
    head: &[u8],
    conn: &Conn,
    remote: SocketAddr,
    receiver: &Receiver,
) where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    // The copy is of the head that failed only if no request was handed on
    // since it began: else the failing head came after another on the
    // connection, its bytes read with that one's (pipelined, or a body
    // longer than its Content-Length said), and the copy is the earlier head.
    let fresh = conn.head_pending() || matches!(ended, Ended::Evicted);
    let copy = if fresh { head } else { &[] };
    let pending = fresh && !head.is_empty();
    let timeout = receiver.limits.header_timeout;
    let refused = conn.refused_status();
    let Some(failure) = failure(&ended, refused, pending, copy, timeout) else {
        return;
    };
    // The sender is the same: its User-Agent is kept, from any head.
    let info = request_info(head, fresh, remote, received_at(conn));
    respond(io, failure, info, conn, receiver).await;
}

/// Answers a connection whose first bytes are not a TLS handshake on a
/// listener that speaks TLS: a sender set up with `http://`. Its head has
/// what is left of the header timeout from the connection's start.
pub(super) async fn not_tls<IO>(mut io: IO, conn: &Conn, remote: SocketAddr, receiver: &Receiver)
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let mut head = Vec::new();
    let left = receiver.limits.header_timeout.saturating_sub(conn.waited());
    let read_head = tokio::time::timeout(left, async {
        let mut buf = [0u8; 1024];
        while head.len() < HEAD_COPY && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n.min(HEAD_COPY - head.len())]),
            }
        }
    });
    // Closed to make room for another connection: no answer, but the
    // request is still shown as what it was.
    let closed = tokio::select! {
        _ = read_head => false,
        _ = conn.asked_to_close() => true,
    };
    let failure = Failure {
        status: 400,
        message: "this listener speaks HTTPS (TLS), and the request came as plain HTTP: \
                  use https:// in the sender's remote-write URL"
            .into(),
    };
    let info = request_info(&head, true, remote, received_at(conn));
    if closed {
        hand_on(failure, info, receiver).await;
    } else {
        respond(io, failure, info, conn, receiver).await;
    }
}

/// When the request began to arrive: its first byte, or its connection's start.
pub(super) fn received_at(conn: &Conn) -> SystemTime {
    SystemTime::now()
        .checked_sub(conn.waited())
        .unwrap_or_else(SystemTime::now)
}

/// Sends `failure` as the answer and hands the request on as rejected.
async fn respond<IO>(
    mut io: IO,
    failure: Failure,
    info: RequestInfo,
    conn: &Conn,
    receiver: &Receiver,
) where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let limits = &receiver.limits;
    let answer = answer_bytes(&failure, receiver);
    // A sender that never reads holds this for the header timeout at most.
    // Not cut short when the connection is asked to close: a connection
    // closed to make room is answered why.
    let wrote = tokio::time::timeout(limits.header_timeout, async {
        io.write_all(&answer).await?;
        io.shutdown().await
    })
    .await;
    hand_on(failure, info, receiver).await;
    if matches!(wrote, Ok(Ok(()))) {
        tokio::select! {
            _ = tokio::time::timeout(limits.header_timeout, linger(&mut io)) => {}
            _ = conn.asked_to_close() => {}
        }
    }
}

/// Hands the request on as rejected with `failure`.
async fn hand_on(failure: Failure, info: RequestInfo, receiver: &Receiver) {
    let batch = Batch {
        info,
        outcome: Outcome::Rejected {
            status: failure.status,
            reason: RejectReason::BadHttp,
            message: failure.message,
        },
        data: WriteData::default(),
    };
    super::handler::hand_on_rejected(receiver, batch).await;
}

/// Reads and drops what the sender still sends, until it closes (or
/// [`LINGER_BYTES`]).
async fn linger<IO: AsyncRead + Unpin>(io: &mut IO) {
    let mut buf = [0u8; 4096];
    let mut seen = 0;
    while seen < LINGER_BYTES {
        match io.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => seen += n,
        }
    }
}

/// The failure a connection ended on, if it ended on a request head: one
/// hyper refused (`refused`: the status of its own answer, held back), or
/// bytes of a head (`pending`) that did not come whole.
fn failure(
    ended: &Ended,
    refused: Option<u16>,
    pending: bool,
    head: &[u8],
    header_timeout: Duration,
) -> Option<Failure> {
    let came = head_size(head);
    let failure = |status, message| Some(Failure { status, message });
    match ended {
        Ended::Served(Err(e)) if e.is_parse_version_h2() || head.starts_with(b"PRI * HTTP/2") => {
            failure(
                505,
                "the sender spoke HTTP/2 without TLS (h2c with prior knowledge); promscope \
                 receives HTTP/1.1 here: set the sender to HTTP/1.1"
                    .into(),
            )
        }
        Ended::Served(Err(e)) if refused.is_some() || e.is_parse() => {
            let status = refused.unwrap_or(400);
            let message = match diagnose(head, status) {
                Some(what) => format!("promscope could not read this request's head ({e}): {what}"),
                None if head.is_empty() => format!(
                    "promscope could not read the head of a request that followed another on \
                     its connection ({e}): if the one before had a body, was it longer than its \
                     Content-Length said?"
                ),
                None => format!("promscope could not read this request's head: {e}"),
            };
            failure(status, message)
        }
        Ended::Served(Err(e)) if pending && e.is_timeout() => timed_out(header_timeout, &came),
        Ended::Served(Err(e)) if pending && e.is_incomplete_message() => failure(
            400,
            format!("the connection was closed after {came} of a request's head, before its end"),
        ),
        Ended::Served(Err(e)) if pending => failure(
            400,
            format!("the connection failed after {came} of a request's head: {e}"),
        ),
        Ended::TimedOut if pending => timed_out(header_timeout, &came),
        Ended::Evicted => failure(
            408,
            format!(
                "closed to make room for other senders: every connection was busy \
                 (--max-connections), and this request arrived at under {MIN_RATE} bytes a second"
            ),
        ),
        _ => None,
    }
}

fn timed_out(header_timeout: Duration, came: &str) -> Option<Failure> {
    Some(Failure {
        status: 408,
        message: format!(
            "the request's head did not arrive whole within {header_timeout:?} \
             (--header-timeout): {came} of it came"
        ),
    })
}

/// "N bytes", or "over N bytes" when the copy is full.
fn head_size(head: &[u8]) -> String {
    if head.len() >= HEAD_COPY {
        format!("over {HEAD_COPY} bytes")
    } else {
        format!("{} bytes", head.len())
    }
}

/// Bytes of a head quoted for a message: as text, cut, control characters escaped.
fn quoted(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(QUOTED_BYTES * 4)];
    format!("\"{}\"", escaped(&bounded(&lossless(cut), QUOTED_BYTES)))
}

/// One byte, as a message shows it.
fn shown(b: u8) -> String {
    if b == b' ' {
        return "a space".into();
    }
    escaped(&lossless(&[b])).into_owned()
}

/// The whole lines of a head up to its end (or the end of the copy, where
/// the last line may be cut), without their line ends.
fn head_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    let whole = match head.iter().rposition(|&b| b == b'\n') {
        Some(end) => &head[..end],
        None => &[][..],
    };
    whole
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .take_while(|line| !line.is_empty())
}

/// A byte HTTP allows in a token (a method or a header name).
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// What is wrong in a head hyper refused, as far as its copied start shows.
fn diagnose(head: &[u8], status: u16) -> Option<String> {
    let mut lines = head_lines(head);
    let request_line = lines.next()?;
    if let Some(what) = bad_request_line(request_line) {
        return Some(what);
    }
    let mut count = 0;
    for line in lines {
        count += 1;
        if let Some(what) = bad_header(line) {
            return Some(what);
        }
    }
    if count > MAX_HEADERS {
        return Some(format!(
            "it has more than {MAX_HEADERS} headers ({count} in its first {})",
            head_size(head)
        ));
    }
    (status == 431 && head.len() >= HEAD_COPY).then(|| {
        format!(
            "its headers are too large (over {} KiB; no end of the head in its first {HEAD_COPY} bytes)",
            MAX_HEAD_BYTES >> 10
        )
    })
}

/// What is wrong with a request line, if anything: `METHOD TARGET HTTP/1.x`.
fn bad_request_line(line: &[u8]) -> Option<String> {
    let mut parts = line.split(|&b| b == b' ');
    let (method, target, version) = (parts.next()?, parts.next(), parts.next());
    let complaint = if method.is_empty() || !method.iter().all(|&b| is_token(b)) {
        "its method is not a token"
    } else if target.is_none_or(|t| t.is_empty() || t.iter().any(|&b| b <= b' ' || b == 0x7f)) {
        "its target is missing or holds a control character"
    } else if !matches!(version, Some(b"HTTP/1.1" | b"HTTP/1.0")) || parts.next().is_some() {
        "it does not end in HTTP/1.1 or HTTP/1.0"
    } else {
        return None;
    };
    Some(format!(
        "the request line {} is not METHOD TARGET HTTP/1.1: {complaint}",
        quoted(line)
    ))
}

/// What is wrong with a header line, if anything.
fn bad_header(line: &[u8]) -> Option<String> {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return Some(format!(
            "the line {} is not a header (no colon)",
            quoted(line)
        ));
    };
    let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii_start());
    if let Some(&b) = name.iter().find(|&&b| !is_token(b)) {
        return Some(format!(
            "the header name {} holds {}, which a header name may not hold",
            quoted(name),
            shown(b)
        ));
    }
    if name.is_empty() {
        return Some(format!("the line {} has no header name", quoted(line)));
    }
    let at = value
        .iter()
        .position(|&b| (b < b' ' && b != b'\t') || b == 0x7f)?;
    Some(format!(
        "the header {} holds {} in its value (byte {}): a header value may hold visible \
         characters, spaces and tabs only",
        quoted(name),
        shown(value[at]),
        at + 1
    ))
}

/// The facts of a request the handler never saw, as far as its head shows.
/// `own`: the head is the request's own, not the one before it on its
/// connection (which tells the sender, not the path).
fn request_info(
    head: &[u8],
    own: bool,
    remote: SocketAddr,
    received_at: SystemTime,
) -> RequestInfo {
    let mut lines = head_lines(head);
    let target = lines
        .next()
        .filter(|_| own)
        .and_then(|line| line.split(|&b| b == b' ').nth(1))
        .unwrap_or_default();
    let user_agent = lines.find_map(|line| {
        let colon = line.iter().position(|&b| b == b':')?;
        line[..colon]
            .eq_ignore_ascii_case(b"user-agent")
            .then(|| bounded(&lossless(line[colon + 1..].trim_ascii()), QUOTED_BYTES))
    });
    RequestInfo {
        received_at,
        remote_addr: Some(remote),
        path: bounded(&lossless(target), QUOTED_BYTES),
        user_agent,
        ..RequestInfo::default()
    }
}

/// The answer, whole: status, the message, every response's configured headers.
fn answer_bytes(failure: &Failure, receiver: &Receiver) -> Vec<u8> {
    let reason = StatusCode::from_u16(failure.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let body = format!("{}\n", failure.message);
    let mut out = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n",
        failure.status,
        body.len()
    )
    .into_bytes();
    for (name, value) in &receiver.security.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "POST /api/v1/write HTTP/1.1\r\nHost: x\r\n";

    fn diagnosed(rest: &[u8]) -> String {
        let mut head = HEAD.as_bytes().to_vec();
        head.extend_from_slice(rest);
        diagnose(&head, 400).unwrap_or_default()
    }

    #[test]
    fn a_control_character_in_a_header_value_is_named_with_its_header() {
        let what = diagnosed(b"User-Agent: evil\x1b[31m\r\n\r\n");
        assert_eq!(
            what,
            "the header \"User-Agent\" holds \\x1b in its value (byte 5): a header value may \
             hold visible characters, spaces and tabs only"
        );
        assert!(diagnosed(b"X-A: tab\tand \xc3\xa9 ok\r\n\r\n").is_empty());
    }

    #[test]
    fn bad_names_lines_and_request_lines_are_named() {
        assert!(
            diagnosed(b"Bad Name: x\r\n\r\n").contains("header name \"Bad Name\" holds a space")
        );
        assert!(diagnosed(b"no colon here\r\n\r\n").contains("is not a header (no colon)"));
        let line = diagnose(b"GET /a b HTTP/1.1\r\n\r\n", 400).unwrap_or_default();
        assert!(line.contains("does not end in HTTP/1.1"), "{line}");
        let method = diagnose(b"G\x00T / HTTP/1.1\r\n\r\n", 400).unwrap_or_default();
        assert!(method.contains("\"G\\x00T / HTTP/1.1\""), "{method}");
        assert!(method.contains("its method is not a token"), "{method}");
    }

    #[test]
    fn too_many_headers_are_counted() {
        let mut head = HEAD.to_owned();
        for i in 0..150 {
            head.push_str(&format!("X-{i}: v\r\n"));
        }
        let what = diagnose(head.as_bytes(), 431).unwrap_or_default();
        assert!(
            what.starts_with("it has more than 100 headers (151 in its first"),
            "{what}"
        );
    }

    #[test]
    fn a_head_cut_short_or_late_is_a_failure_only_with_bytes_pending() {
        let timeout = Duration::from_secs(10);
        let head = HEAD.as_bytes();
        let late = failure(&Ended::TimedOut, None, true, head, timeout);
        assert_eq!(late.as_ref().map(|f| f.status), Some(408));
        assert!(late.is_some_and(|f| f.message.contains("--header-timeout")));
        assert_eq!(failure(&Ended::TimedOut, None, false, b"", timeout), None);
        assert_eq!(failure(&Ended::Closed, None, true, head, timeout), None);
        assert_eq!(
            failure(&Ended::Served(Ok(())), None, true, head, timeout),
            None
        );
    }

    #[test]
    fn the_facts_of_a_refused_head_are_read_as_far_as_they_go() {
        let remote: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let head = b"POST /api/v1/write HTTP/1.1\r\nUser-Agent: evil\x1b]52;c;x\x07\r\n";
        let info = request_info(head, true, remote, SystemTime::UNIX_EPOCH);
        assert_eq!(info.path, "/api/v1/write");
        assert_eq!(info.user_agent.as_deref(), Some("evil\x1b]52;c;x\x07"));
        assert_eq!(info.remote_addr, Some(remote));
        let nothing = request_info(b"\x16\x03\x01", true, remote, SystemTime::UNIX_EPOCH);
        assert_eq!(nothing.path, "");
        let before = request_info(head, false, remote, SystemTime::UNIX_EPOCH);
        assert_eq!(
            (before.path.as_str(), before.user_agent.is_some()),
            ("", true)
        );
        assert_eq!((nothing.path.as_str(), nothing.user_agent), ("", None));
    }
}
