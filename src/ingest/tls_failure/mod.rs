//! TLS handshakes that fail: a sender without the client certificate the
//! listener requires, with one signed by another CA, with no TLS version or
//! cipher suite in common, one that refuses promscope's certificate, sends
//! bytes that are not TLS, stops or closes mid-handshake. Each is handed on as
//! a rejected request (`bad_tls`, no HTTP status: none was sent) with the
//! peer's address, what failed in words, and the SNI and ALPN the client
//! offered, so that "why does my sender fail?" is answered on the dashboard
//! and in the output, not only by the sender's own log.

mod cause;
mod fold;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use rustls::ServerConfig;
use rustls::server::{Acceptor, ClientHello};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::LazyConfigAcceptor;
use tokio_rustls::server::TlsStream;

use super::conn::Conn;
use super::http_failure::received_at;
use super::model::{Batch, NO_HTTP_STATUS, Outcome, RejectReason, Repeats, RequestInfo, WriteData};
use super::server::Receiver;
use crate::text::bounded;
use crate::text::escape::{escaped, lossless};

pub use cause::TlsVersions;
pub(super) use fold::Folds;

/// Bytes of a connection's start looked at (and quoted) before the handshake.
const OPENING_BYTES: usize = 16;

/// Longest SNI or ALPN protocol quoted; the most ALPN protocols listed.
const QUOTED_NAME: usize = 64;
const LISTED_PROTOCOLS: usize = 4;

/// The first byte of a TLS connection: a handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

/// How a connection to a TLS listener began.
pub(super) enum Opening {
    /// A TLS handshake record.
    Tls(Vec<u8>),
    /// What may be a plain-HTTP request: a method's letters (after any line ends).
    Http,
    /// Neither: the bytes it began with.
    Neither(Vec<u8>),
}

/// How the connection on `tcp` begins, its bytes left to be read; none if
/// it closed before its first byte.
pub(super) async fn opening(tcp: &TcpStream) -> Option<Opening> {
    let mut first = [0u8; OPENING_BYTES];
    let n = match tcp.peek(&mut first).await {
        Ok(n) if n > 0 => n,
        _ => return None,
    };
    let first = &first[..n];
    Some(if first[0] == TLS_HANDSHAKE {
        Opening::Tls(first.to_vec())
    } else if looks_like_http(first) {
        Opening::Http
    } else {
        Opening::Neither(first.to_vec())
    })
}

/// Whether `first` may begin an HTTP request: a method in capitals (HTTP's
/// are), then a space or nothing yet, after any empty lines.
fn looks_like_http(first: &[u8]) -> bool {
    let start = first.iter().position(|&b| b != b'\r' && b != b'\n');
    let Some(start) = start else { return true };
    let rest = &first[start..];
    let method = rest.iter().take_while(|b| b.is_ascii_uppercase()).count();
    method > 0 && rest.get(method).is_none_or(|&b| b == b' ')
}

/// A listener's TLS configuration.
#[derive(Clone)]
pub(super) struct Tls {
    config: Arc<ServerConfig>,
}

impl Tls {
    pub(super) fn new(config: Arc<ServerConfig>) -> Self {
        Tls { config }
    }

    /// A connection that began with neither TLS nor HTTP: closed, and
    /// handed on saying what it began with.
    pub(super) async fn neither(
        &self,
        first: &[u8],
        conn: &Conn,
        remote: SocketAddr,
        receiver: &Arc<Receiver>,
    ) {
        let message = format!(
            "not TLS: the connection began with {}, which is neither a TLS handshake nor an \
             HTTP request; is the sender speaking another protocol to this port?",
            quoted(first)
        );
        self.report(message, conn, remote, receiver).await;
    }

    /// The TLS handshake on `tcp` (which began with `first`), until
    /// `deadline`: the stream once it is done, else `None`, the failure
    /// handed on.
    pub(super) async fn handshake(
        &self,
        tcp: TcpStream,
        first: &[u8],
        deadline: Instant,
        conn: &Conn,
        remote: SocketAddr,
        receiver: &Arc<Receiver>,
    ) -> Option<TlsStream<TcpStream>> {
        let timeout = receiver.limits.header_timeout;
        let versions = receiver.security.tls_versions;
        let acceptor = LazyConfigAcceptor::new(Acceptor::default(), tcp);
        let start = match tokio::time::timeout_at(deadline, acceptor).await {
            Ok(Ok(start)) => start,
            Ok(Err(e)) => {
                let what = cause::failed(&e, None, first, versions);
                self.report(what, conn, remote, receiver).await;
                return None;
            }
            Err(_) => {
                let what = cause::timed_out(timeout, false);
                self.report(what, conn, remote, receiver).await;
                return None;
            }
        };
        let hello = Offered::of(&start.client_hello());
        let handshake = start.into_stream(self.config.clone());
        let failure = match tokio::time::timeout_at(deadline, handshake).await {
            Ok(Ok(stream)) => return Some(stream),
            Ok(Err(e)) => cause::failed(&e, Some(&hello), first, versions),
            Err(_) => cause::timed_out(timeout, true),
        };
        let message = format!("{failure} ({})", hello.said());
        self.report(message, conn, remote, receiver).await;
        None
    }

    /// Hands the failure on, alone or as a repeat of the same failure.
    async fn report(
        &self,
        message: String,
        conn: &Conn,
        remote: SocketAddr,
        receiver: &Arc<Receiver>,
    ) {
        let failure = Failure {
            message,
            remote,
            at: received_at(conn),
        };
        receiver.tls_folds.report(failure, receiver).await;
    }
}

/// What a client's hello offered that a user recognises: the server name it
/// asked for (SNI), its application protocols (ALPN) and cipher suites.
struct Offered {
    sni: Option<String>,
    alpn: Vec<String>,
    /// ALPN protocols past those listed.
    more_alpn: usize,
    suites: Vec<&'static str>,
}

impl Offered {
    fn of(hello: &ClientHello<'_>) -> Self {
        let sni = hello
            .server_name()
            .map(|name| quoted_text(&bounded(name, QUOTED_NAME)));
        let all: Vec<&[u8]> = hello.alpn().map(|p| p.collect()).unwrap_or_default();
        let alpn = all
            .iter()
            .take(LISTED_PROTOCOLS)
            .map(|p| quoted_text(&bounded(&lossless(p), QUOTED_NAME)))
            .collect();
        let suites = hello
            .cipher_suites()
            .iter()
            .filter_map(|s| s.as_str())
            // Signals, not suites (TLS_EMPTY_RENEGOTIATION_INFO_SCSV).
            .filter(|name| !name.ends_with("_SCSV"))
            .collect();
        Offered {
            sni,
            more_alpn: all.len().saturating_sub(LISTED_PROTOCOLS),
            alpn,
            suites,
        }
    }

    /// `client offered SNI "x", ALPN "h2", "http/1.1"`.
    fn said(&self) -> String {
        let sni = match &self.sni {
            Some(name) => format!("SNI {name}"),
            None => "no SNI".into(),
        };
        let alpn = match self.alpn.len() {
            0 => "no ALPN".into(),
            _ if self.more_alpn > 0 => {
                format!("ALPN {} and {} more", self.alpn.join(", "), self.more_alpn)
            }
            _ => format!("ALPN {}", self.alpn.join(", ")),
        };
        format!("client offered {sni}, {alpn}")
    }
}

/// Text from the peer, quoted: control and invisible characters escaped.
fn quoted_text(text: &str) -> String {
    format!("\"{}\"", escaped(text))
}

/// Bytes from the peer, quoted as text, every byte that is not UTF-8 `\xNN`.
fn quoted(bytes: &[u8]) -> String {
    quoted_text(&lossless(bytes))
}

/// A failed handshake: what failed, the peer, and when it began.
struct Failure {
    message: String,
    remote: SocketAddr,
    at: SystemTime,
}

impl Failure {
    /// Hands it on as a rejected request, alone or one of `repeats`;
    /// whether it reached the queue.
    async fn hand_on(self, repeats: Repeats, receiver: &Receiver) -> bool {
        let batch = Batch {
            info: RequestInfo {
                received_at: self.at,
                remote_addr: Some(self.remote),
                repeats,
                ..RequestInfo::default()
            },
            outcome: Outcome::Rejected {
                status: NO_HTTP_STATUS,
                reason: RejectReason::BadTls,
                message: self.message,
            },
            data: WriteData::default(),
        };
        super::handler::hand_on_rejected(receiver, batch).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_methods_are_told_from_other_bytes() {
        for http in [&b"POST /api"[..], b"GET", b"P", b"\r\nPUT /", b"\r\n"] {
            assert!(looks_like_http(http), "{http:?}");
        }
        for other in [
            &b"SSH-2.0-OpenSSH"[..],
            b"\x00\x01\x02",
            b"post /",
            b"HELLO\r\n",
        ] {
            assert!(!looks_like_http(other), "{other:?}");
        }
    }

    #[test]
    fn bytes_from_the_peer_are_quoted_escaped() {
        assert_eq!(quoted(b"\x00\x1b[2J\xff"), "\"\\x00\\x1b[2J\\xff\"");
    }
}
