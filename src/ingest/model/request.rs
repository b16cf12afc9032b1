//! One received request: what is known about it, which protocol it spoke, and
//! how the receiver answered it.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;

use super::{Forwarded, WriteData};
use crate::capture::Header;

/// Remote-write protocol of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// `prometheus.WriteRequest`, snappy-compressed.
    V1,
    /// `io.prometheus.write.v2.Request`, snappy-compressed.
    V2,
    /// VictoriaMetrics' protocol: `prometheus.WriteRequest` compressed with zstd
    /// (vmagent sends it to receivers that accept it).
    Vm,
}

impl Protocol {
    /// Every protocol, in the order of [`Protocol::index`].
    pub const ALL: [Protocol; 3] = [Protocol::V1, Protocol::V2, Protocol::Vm];

    /// Short name shown to users.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::V1 => "RW1",
            Protocol::V2 => "RW2",
            Protocol::Vm => "VM",
        }
    }

    /// Position in [`Protocol::ALL`], for per-protocol counters.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What is known about a request before and around decoding it.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// When the request arrived.
    pub received_at: SystemTime,
    /// Peer address of the connection.
    pub remote_addr: Option<SocketAddr>,
    /// Request path, e.g. `/api/v1/write`.
    pub path: String,
    /// `User-Agent` header.
    pub user_agent: Option<String>,
    /// Protocol chosen from the Content-Type and Content-Encoding, when recognized.
    pub protocol: Option<Protocol>,
    /// Body size as received.
    pub compressed_bytes: usize,
    /// Body size after decompression (0 when not decompressed).
    pub decoded_bytes: usize,
    /// `Retry-Attempt` header (senders set it on retries).
    pub retry_attempt: Option<String>,
    /// The tenant, in multi-tenant setups: the `X-Scope-OrgID` header (Mimir,
    /// Cortex), `THANOS-TENANT` (Thanos), or the `<tenant>` of a
    /// VictoriaMetrics cluster path (`/insert/<tenant>/prometheus/...`).
    pub tenant: Option<String>,
    /// The request as it arrived, kept for the dashboard to open (see
    /// [`RawRequest`]); `None` in headless mode, which never opens one.
    pub raw: Option<Arc<RawRequest>>,
    /// Whether it stands alone, or is one of a run of repeats (a sender
    /// retrying a TLS handshake that fails the same way every time is one
    /// entry for each while, not thousands).
    pub repeats: Repeats,
}

/// How a request stands with the repeats of it folded together: each repeat
/// is counted as it comes (totals, rates and the header are never behind),
/// and listed once, by the entry its while ends with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Repeats {
    /// A request of its own: counted, listed and printed.
    #[default]
    Alone,
    /// A repeat of one listed already: counted, neither listed nor printed.
    Counted,
    /// The entry a while of repeats ends with: listed and printed as standing
    /// for 1 + `more` of them, counted as none (each was counted as it came).
    Shown { more: u64 },
}

impl RequestInfo {
    /// Requests it counts as in totals and rates.
    pub fn counted(&self) -> u64 {
        match self.repeats {
            Repeats::Alone | Repeats::Counted => 1,
            Repeats::Shown { .. } => 0,
        }
    }

    /// Whether it is listed (the Requests view) and printed (headless output).
    pub fn is_listed(&self) -> bool {
        self.repeats != Repeats::Counted
    }
}

/// A request as it arrived: its head and its body still compressed, which the
/// dashboard keeps for its latest requests and decodes again when one is opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawRequest {
    /// The method.
    pub method: String,
    /// The request target: path and query.
    pub target: String,
    /// The headers in the order received, credentials redacted.
    pub headers: Vec<Header>,
    /// The body as received; what was read of it when `body_complete` is false.
    pub body: Bytes,
    /// Whether the body was read whole.
    pub body_complete: bool,
}

impl RawRequest {
    /// Heap bytes it holds (the body counted whole, though it may be shared).
    pub fn heap_bytes(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|h| size_of::<Header>() + h.name.len() + h.value.len())
            .sum();
        self.method.len() + self.target.len() + headers + self.body.len()
    }
}

impl Default for RequestInfo {
    /// A request with no facts known, received at the epoch (for data built in memory).
    fn default() -> Self {
        RequestInfo {
            received_at: SystemTime::UNIX_EPOCH,
            remote_addr: None,
            path: String::new(),
            user_agent: None,
            protocol: None,
            compressed_bytes: 0,
            decoded_bytes: 0,
            retry_attempt: None,
            tenant: None,
            raw: None,
            repeats: Repeats::Alone,
        }
    }
}

/// Declares [`RejectReason`] with [`RejectReason::ALL`] and
/// [`RejectReason::name`] from one list, so that no reason can be left out of
/// `ALL` (a capture's reasons are read back through it).
macro_rules! reject_reasons {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// Why a request was rejected; the short name is what the counters are keyed by.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RejectReason {
            $($(#[$doc])* $variant,)*
        }

        impl RejectReason {
            /// Every reason, in declaration order.
            pub const ALL: &[RejectReason] = &[$(RejectReason::$variant),*];

            /// Stable short name used in summaries, JSON, captures and the dashboard.
            pub fn name(self) -> &'static str {
                match self {
                    $(RejectReason::$variant => $name,)*
                }
            }
        }
    };
}

reject_reasons! {
    /// Wrong or missing credentials (basic auth or bearer token).
    Unauthorized = "unauthorized",
    /// Content-Encoding other than snappy (or zstd, for VictoriaMetrics' protocol).
    UnsupportedEncoding = "unsupported_encoding",
    /// Content-Type that is not a remote-write protobuf message.
    UnsupportedContentType = "unsupported_content_type",
    /// Method other than POST.
    MethodNotAllowed = "method_not_allowed",
    /// Compressed body over `--max-compressed-bytes`, or decoded size over `--max-body-bytes`.
    TooLarge = "too_large",
    /// Body could not be read from the connection.
    BodyRead = "body_read",
    /// Body did not arrive in time (`--body-timeout`).
    BodyTimeout = "body_timeout",
    /// Body is not valid snappy block data.
    Snappy = "bad_snappy",
    /// Body is not valid zstd data (VictoriaMetrics' protocol).
    Zstd = "bad_zstd",
    /// Body is not a valid protobuf message of the announced type.
    Protobuf = "bad_protobuf",
    /// Some RW 2.0 series broke a rule (symbol refs, no `__name__`, ...): those
    /// were refused, the rest written.
    Invalid = "invalid_request",
    /// Bodies being received at once were over `--max-bytes-in-flight`, or
    /// credentials were waiting too long to be checked; the sender should retry.
    Overloaded = "overloaded",
    /// Forward mode: the backend answered with an error status.
    Backend = "backend",
    /// The request's head was not HTTP that promscope reads (a control
    /// character in a header, too many headers, HTTP/2 without TLS...), or it
    /// did not arrive whole: refused before it was handled.
    BadHttp = "bad_http",
    /// The TLS handshake failed (no client certificate where one is required,
    /// one from another CA, no version or cipher suite in common, not TLS at
    /// all, closed or stopped mid-handshake): no HTTP answer was sent.
    BadTls = "bad_tls",
    /// Forward mode: the backend could not be reached, failed, or did not
    /// answer in time (promscope answered 502 or 504).
    BackendUnavailable = "backend_unavailable",
}

impl RejectReason {
    /// The reason called `name` (as [`RejectReason::name`] writes it).
    pub fn from_name(name: &str) -> Option<RejectReason> {
        RejectReason::ALL.iter().copied().find(|r| r.name() == name)
    }

    /// Forward mode: whether the request went on to the backend, which
    /// refused it or did not answer, rather than promscope refusing it.
    pub fn is_upstream(self) -> bool {
        matches!(
            self,
            RejectReason::Backend | RejectReason::BackendUnavailable
        )
    }
}

/// The status of a rejection that got no HTTP answer: its TLS handshake failed.
pub const NO_HTTP_STATUS: u16 = 0;

/// Whether a sender sends again a request its backend answered `status`
/// (forward mode): 5xx and 429 it retries (Prometheus, vmagent), and after a
/// 415 vmagent sends it again in another encoding (snappy instead of zstd).
/// Other 4xx it drops: refused for good.
pub fn resent_after(status: u16) -> bool {
    status >= 500 || status == 429 || status == 415
}

/// A status as shown: its number, or `TLS` for [`NO_HTTP_STATUS`].
pub fn shown_status(status: u16) -> Cow<'static, str> {
    match status {
        NO_HTTP_STATUS => Cow::Borrowed("TLS"),
        status => Cow::Owned(status.to_string()),
    }
}

/// How the receiver answered a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Answered 2xx.
    Accepted,
    /// Answered with an error status and message. The batch's data is what was
    /// written all the same (RW 2.0 series kept beside refused ones), usually nothing.
    Rejected {
        /// HTTP status sent.
        status: u16,
        /// Category, for counting.
        reason: RejectReason,
        /// The body sent to the sender: what was wrong.
        message: String,
    },
    /// Forward mode: sent on to the backend, whose answer the sender got.
    Forwarded(Box<Forwarded>),
}

impl Outcome {
    /// Whether the sender was told the request was taken (2xx).
    pub fn is_accepted(&self) -> bool {
        match self {
            Outcome::Accepted => true,
            Outcome::Rejected { .. } => false,
            Outcome::Forwarded(f) => f.is_success(),
        }
    }

    /// The status the sender got.
    pub fn status(&self) -> u16 {
        match self {
            Outcome::Accepted => 204,
            Outcome::Rejected { status, .. } => *status,
            Outcome::Forwarded(f) => f.status(),
        }
    }

    /// For a request the sender was refused: the status, the category it is
    /// counted under and the message the sender got.
    pub fn rejection(&self) -> Option<(u16, RejectReason, Cow<'_, str>)> {
        match self {
            Outcome::Accepted => None,
            Outcome::Rejected {
                status,
                reason,
                message,
            } => Some((*status, *reason, Cow::Borrowed(message))),
            Outcome::Forwarded(f) => Some((f.status(), f.reject_reason()?, f.message()?)),
        }
    }
}

/// One received request: its facts, how it was answered, and what it carried.
#[derive(Debug)]
pub struct Batch {
    /// Facts about the request.
    pub info: RequestInfo,
    /// Status sent back.
    pub outcome: Outcome,
    /// Decoded content: what was written (empty for most rejected requests).
    pub data: WriteData,
}

impl Batch {
    /// Heap bytes it holds: what it carried and the request's strings.
    pub fn heap_bytes(&self) -> usize {
        let info = &self.info;
        let strings = [&info.user_agent, &info.retry_attempt, &info.tenant]
            .into_iter()
            .flatten()
            .map(String::capacity)
            .sum::<usize>();
        let message = match &self.outcome {
            Outcome::Accepted => 0,
            Outcome::Rejected { message, .. } => message.capacity(),
            Outcome::Forwarded(f) => size_of::<Forwarded>() + f.heap_bytes(),
        };
        let raw = info.raw.as_ref().map_or(0, |r| r.heap_bytes());
        self.data.heap_bytes() + info.path.capacity() + strings + message + raw
    }
}

#[cfg(test)]
mod tests {
    use super::RejectReason;

    /// Each name is one reason's: a capture's reasons are read back by name.
    #[test]
    fn every_reason_is_found_by_its_name() {
        for reason in RejectReason::ALL {
            assert_eq!(RejectReason::from_name(reason.name()), Some(*reason));
        }
        // Forward mode's, which ALL once left out.
        assert_eq!(
            RejectReason::from_name("backend_unavailable"),
            Some(RejectReason::BackendUnavailable)
        );
    }
}
