//! What a request's method, headers and body make of it, apart from the
//! connection it came on: the checks, decoding and verdicts that the receiver
//! applies as a request arrives, and that replaying a recorded request applies
//! again, so that both make the same batch of it.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::time::SystemTime;

use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{HeaderMap, Method, StatusCode, Uri};

use super::decode::{self, DecodeError};
use super::model::{
    Batch, MAX_WARNINGS, Outcome, RejectReason, Repeats, RequestInfo, Undecodable, WriteData,
    resent_after,
};
use super::negotiate::{self, Negotiated, Unsupported};
use super::server::Limits;
use crate::text::escape::lossless;

/// Longest tenant kept; longer ones end with `…` (a tenant is sender-chosen
/// text, and it is kept per request, per series and per tenant).
pub const MAX_TENANT_BYTES: usize = 128;

/// The facts of a request known from its headers, received at `received_at`;
/// its tenant is read from `tenant_header` first (`--tenant-header`), then as
/// [`tenant_of`] says.
pub fn request_info(
    headers: &HeaderMap,
    path: &str,
    remote: Option<SocketAddr>,
    received_at: SystemTime,
    tenant_header: Option<&HeaderName>,
) -> RequestInfo {
    // Losslessly, as label values: two User-Agents that differ only in bytes
    // that are not UTF-8 were one sender as U+FFFD.
    let header = |name: &str| headers.get(name).map(|v| lossless(v.as_bytes()));
    RequestInfo {
        received_at,
        remote_addr: remote,
        path: path.to_owned(),
        user_agent: header(header::USER_AGENT.as_str()),
        protocol: None,
        compressed_bytes: 0,
        decoded_bytes: 0,
        retry_attempt: header("retry-attempt"),
        tenant: tenant_of(headers, path, tenant_header),
        raw: None,
        repeats: Repeats::Alone,
    }
}

/// The tenant a request writes as, cut to [`MAX_TENANT_BYTES`]: the header
/// `named` (`--tenant-header`), else `X-Scope-OrgID` (Mimir, Cortex, Loki),
/// else `THANOS-TENANT` (Thanos receive), else the `<accountID>` or
/// `<accountID>:<projectID>` of a VictoriaMetrics cluster path
/// (`/insert/<id>/prometheus/...`). An empty header is no tenant.
pub fn tenant_of(headers: &HeaderMap, path: &str, named: Option<&HeaderName>) -> Option<String> {
    let header = |name: &str| headers.get(name).map(HeaderValue::as_bytes);
    let from_header = named
        .and_then(|n| headers.get(n).map(HeaderValue::as_bytes))
        .or_else(|| header("x-scope-orgid"))
        .or_else(|| header("thanos-tenant"))
        .filter(|v| !v.is_empty());
    // Losslessly: `ten\xff` and `ten\xfe` were one tenant as U+FFFD, and the
    // same series from both a false duplicate.
    let tenant = match from_header {
        Some(value) => lossless(value).into(),
        None => Cow::Borrowed(vm_cluster_tenant(path)?),
    };
    Some(crate::text::bounded(&tenant, MAX_TENANT_BYTES))
}

/// The tenant of a VictoriaMetrics cluster insert path,
/// `/insert/<accountID>[:<projectID>]/prometheus/...`; not vmagent's
/// `/insert/multitenant/...`, whose tenants are in each series' labels.
fn vm_cluster_tenant(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/insert/")?;
    let (tenant, rest) = rest.split_once('/')?;
    let usable = !tenant.is_empty() && tenant != "multitenant";
    (usable && rest.starts_with("prometheus")).then_some(tenant)
}

/// A request that will be answered with an error.
pub(super) struct Rejection {
    pub(super) status: StatusCode,
    pub(super) reason: RejectReason,
    pub(super) message: String,
    /// Headers the answer carries besides the message.
    pub(super) headers: Vec<(HeaderName, HeaderValue)>,
    /// The body was not read whole: the connection cannot carry another request.
    pub(super) close: bool,
}

impl Rejection {
    pub(super) fn new(
        status: StatusCode,
        reason: RejectReason,
        message: impl Into<String>,
    ) -> Self {
        Rejection {
            status,
            reason,
            message: message.into(),
            headers: Vec::new(),
            close: false,
        }
    }

    /// A 503 the sender should retry soon.
    pub(super) fn retry_later(message: impl Into<String>) -> Self {
        let mut r = Rejection::new(
            StatusCode::SERVICE_UNAVAILABLE,
            RejectReason::Overloaded,
            message,
        );
        r.headers
            .push((header::RETRY_AFTER, HeaderValue::from_static("1")));
        r
    }

    /// What the consumers are told of it.
    pub(super) fn outcome(&self) -> Outcome {
        Outcome::Rejected {
            status: self.status.as_u16(),
            reason: self.reason,
            message: self.message.clone(),
        }
    }
}

impl From<DecodeError> for Rejection {
    fn from(e: DecodeError) -> Self {
        let (status, reason) = match e {
            DecodeError::TooLarge { .. }
            | DecodeError::DecodedTooLarge { .. }
            | DecodeError::WindowTooLarge { .. }
            | DecodeError::Overgrown { .. }
            | DecodeError::Expanded { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, RejectReason::TooLarge)
            }
            DecodeError::EmptyBody | DecodeError::FramedSnappy | DecodeError::Snappy(..) => {
                (StatusCode::BAD_REQUEST, RejectReason::Snappy)
            }
            DecodeError::Zstd(_) => (StatusCode::BAD_REQUEST, RejectReason::Zstd),
            DecodeError::Protobuf { .. } => (StatusCode::BAD_REQUEST, RejectReason::Protobuf),
        };
        Rejection::new(status, reason, e.to_string())
    }
}

pub(super) fn too_large(limit: usize) -> Rejection {
    Rejection::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        RejectReason::TooLarge,
        format!("compressed body is over the limit of {limit} bytes (--max-compressed-bytes)"),
    )
}

/// Whether the request is the handshake vmagent releases before v1.116 send
/// to a remote-write URL (`?get_vm_proto_version=1`, any method) to learn
/// whether it speaks VictoriaMetrics' protocol; VictoriaMetrics answers `1`
/// and so does promscope. Newer releases skip it: they start in that protocol
/// and fall back to Prometheus's on a 400 or 415.
pub(super) fn is_vm_handshake(uri: &Uri) -> bool {
    uri.query().is_some_and(|query| {
        query.split('&').any(|pair| {
            pair.split_once('=')
                .is_some_and(|(key, value)| key == "get_vm_proto_version" && !value.is_empty())
        })
    })
}

/// The checks of a request's method, content type and encoding, and stated
/// length, which need no body.
pub(super) fn check_content(
    method: &Method,
    headers: &HeaderMap,
    stated_len: Option<u64>,
    limits: &Limits,
) -> Result<Negotiated, Rejection> {
    if method != Method::POST {
        return Err(Rejection::new(
            StatusCode::METHOD_NOT_ALLOWED,
            RejectReason::MethodNotAllowed,
            format!(
                "{method} is not supported: promscope receives Prometheus remote-write requests, sent with POST"
            ),
        ));
    }
    let negotiated = negotiate::negotiate(headers).map_err(|e| match e {
        Unsupported::ContentType(m) => Rejection::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RejectReason::UnsupportedContentType,
            m,
        ),
        Unsupported::Encoding(m) => Rejection::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RejectReason::UnsupportedEncoding,
            m,
        ),
    })?;
    let limit = limits.max_compressed_bytes;
    if stated_len.is_some_and(|len| len > limit as u64) {
        return Err(too_large(limit));
    }
    Ok(negotiated)
}

/// How a decoded request is checked against the problem rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checks {
    /// Checked, its samples kept as its series' state: every request
    /// promscope answers, and those a backend took or refused for good.
    Run,
    /// Checked without keeping its samples ([`Checker::check_unkept`]):
    /// forward mode's backend did not take it (`backend`: its 5xx or 429;
    /// `None`: it never answered, promscope's 502 or 504), so the sender
    /// sends it again. Kept, the resend would look like its series going
    /// back in time (out-of-order, duplicate samples) where the backend saw
    /// nothing wrong.
    ///
    /// [`Checker::check_unkept`]: super::check::Checker::check_unkept
    Unkept { backend: Option<u16> },
}

impl Checks {
    /// How a request forward mode sent on is checked, given its backend's
    /// status (`None`: no answer). What senders send again (see
    /// [`resent_after`]) is not kept; other 4xx they drop, and a backend
    /// writes the valid rest of a 400'd request.
    pub fn of_backend(backend: Option<u16>) -> Checks {
        match backend {
            Some(status) if !resent_after(status) => Checks::Run,
            backend => Checks::Unkept { backend },
        }
    }

    /// What a request checked so says of itself, beside it.
    fn warning(self) -> Option<String> {
        let Checks::Unkept { backend } = self else {
            return None;
        };
        let answer = backend.map_or("never answered".to_owned(), |s| format!("answered {s}"));
        Some(format!(
            "checked without keeping its samples: the backend {answer}, the sender sends it again"
        ))
    }
}

/// Decompresses and decodes a whole body as negotiated, unchecked: what
/// [`check`] takes once the request is sure to be handed on.
pub(super) fn decode_body(
    negotiated: &Negotiated,
    compressed: &[u8],
    limits: &Limits,
    info: &mut RequestInfo,
) -> Result<WriteData, Rejection> {
    let decoded = negotiated
        .compression
        .decompress(compressed, limits.max_decoded_bytes)?;
    info.decoded_bytes = decoded.len();
    decode_decompressed(negotiated, decoded, info)
}

/// Decodes a body decompressed as negotiated, unchecked.
fn decode_decompressed(
    negotiated: &Negotiated,
    decoded: Vec<u8>,
    info: &RequestInfo,
) -> Result<WriteData, Rejection> {
    let mut data = decode::decode(negotiated.protocol, decoded)?;
    if let Some(warning) = negotiated.warning {
        data.warnings.truncate(MAX_WARNINGS - 1);
        data.warnings.insert(0, warning.to_owned());
    }
    if let Some(tenant) = &info.tenant {
        data.belong_to_tenant(tenant);
    }
    Ok(data)
}

/// Checks a decoded request against the problem rules, as `checks` says.
/// Kept, its samples are its series' state from then on: so a request is
/// checked once it is sure to be handed on, as one refused after (promscope
/// behind, 503) comes again and would look like its series going back in time.
pub(super) fn check(data: &mut WriteData, info: &RequestInfo, limits: &Limits, checks: Checks) {
    // First, so that it is the one shown beside the request.
    if let Some(warning) = checks.warning() {
        data.warnings.truncate(MAX_WARNINGS - 1);
        data.warnings.insert(0, warning);
    }
    let arrival_ms = info
        .received_at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let (checker, tenant) = (&limits.problems, info.tenant.as_deref());
    match checks {
        Checks::Run => checker.check_as(data, info.protocol, arrival_ms, tenant),
        Checks::Unkept { .. } => checker.check_unkept(data, info.protocol, arrival_ms, tenant),
    }
}

/// The message of a request some of whose RW 2.0 series were refused.
pub(super) fn refusal(data: &WriteData) -> Option<String> {
    if data.refused_count == 0 {
        return None;
    }
    let more = data.refused_count - data.refused.len();
    let more = if more > 0 {
        format!("; and {more} more")
    } else {
        String::new()
    };
    Some(format!(
        "invalid remote-write request: {}{more} (the rest was written; RW 2.0: see the Written headers)",
        data.refused.join("; ")
    ))
}

/// How a decoded request is answered: accepted, or 400 for RW 2.0 series
/// refused alone (the rest still reaches the consumers).
pub(super) fn verdict(data: &WriteData) -> Result<(), Rejection> {
    match refusal(data) {
        None => Ok(()),
        Some(message) => Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            RejectReason::Invalid,
            message,
        )),
    }
}

/// The batch the receiver makes of a whole request that has arrived
/// (credentials, the byte budget and timeouts aside), or none for vmagent's
/// handshake: how a recorded request is replayed.
pub fn whole_request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    info: RequestInfo,
    limits: &Limits,
) -> Option<Batch> {
    let unpacked = unpack_whole(method, uri, headers, body, info, limits)?;
    Some(decode_unpacked(unpacked, limits))
}

/// A whole request taken as far as its decompressed body, which
/// [`decode_unpacked`] decodes and checks: [`whole_request`] in two steps, so
/// that a replay decompresses one request while it decodes the one before.
pub struct Unpacked {
    info: RequestInfo,
    body: Result<(Negotiated, Vec<u8>), Rejection>,
}

/// The first step of [`whole_request`]: the headers' checks, and the body
/// decompressed; none for vmagent's handshake.
pub fn unpack_whole(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    mut info: RequestInfo,
    limits: &Limits,
) -> Option<Unpacked> {
    if is_vm_handshake(uri) {
        return None;
    }
    info.compressed_bytes = body.len();
    let body =
        check_content(method, headers, Some(body.len() as u64), limits).and_then(|negotiated| {
            info.protocol = Some(negotiated.protocol);
            let decoded = negotiated
                .compression
                .decompress(body, limits.max_decoded_bytes)?;
            info.decoded_bytes = decoded.len();
            Ok((negotiated, decoded))
        });
    Some(Unpacked { info, body })
}

/// The second step of [`whole_request`]: the body decoded and checked, and
/// the verdict.
pub fn decode_unpacked(unpacked: Unpacked, limits: &Limits) -> Batch {
    let (info, decoded) = decode_unjudged(unpacked, limits, Checks::Run);
    let (outcome, data) = match decoded {
        Ok(data) => match verdict(&data) {
            Ok(()) => (Outcome::Accepted, data),
            Err(refused) => (refused.outcome(), data),
        },
        Err(rejection) => (rejection.outcome(), WriteData::default()),
    };
    Batch {
        info,
        outcome,
        data,
    }
}

fn decode_unjudged(
    unpacked: Unpacked,
    limits: &Limits,
    checks: Checks,
) -> (RequestInfo, Result<WriteData, Rejection>) {
    let Unpacked { info, body } = unpacked;
    let decoded = body.and_then(|(negotiated, decoded)| {
        let mut data = decode_decompressed(&negotiated, decoded, &info)?;
        check(&mut data, &info, limits, checks);
        Ok(data)
    });
    (info, decoded)
}

/// [`decode_unpacked`] without the verdict, as forward mode's inspection
/// decodes a request whose answer was the backend's: what it carried, or
/// why promscope cannot read it.
pub fn decode_forwarded(
    unpacked: Unpacked,
    limits: &Limits,
    checks: Checks,
) -> (RequestInfo, Result<WriteData, Undecodable>) {
    let (info, decoded) = decode_unjudged(unpacked, limits, checks);
    let decoded = decoded.map_err(|r| Undecodable {
        reason: r.reason,
        message: r.message,
    });
    (info, decoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::escape::escaped;

    #[test]
    fn tenant_of_a_victoriametrics_cluster_path() {
        assert_eq!(
            vm_cluster_tenant("/insert/42/prometheus/api/v1/write"),
            Some("42")
        );
        assert_eq!(vm_cluster_tenant("/insert/1:2/prometheus"), Some("1:2"));
        assert_eq!(vm_cluster_tenant("/api/v1/write"), None);
        assert_eq!(vm_cluster_tenant("/insert//prometheus"), None);
        assert_eq!(vm_cluster_tenant("/insert/0/influx/write"), None);
        assert_eq!(vm_cluster_tenant("/insert/multitenant/prometheus"), None);
    }

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            let value = HeaderValue::from_bytes(value).expect("test header value");
            map.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                value,
            );
        }
        map
    }

    #[test]
    fn the_tenant_comes_from_the_named_header_then_the_known_ones_then_the_path() {
        let named = HeaderName::from_static("x-tenant");
        let all = headers(&[
            ("x-tenant", b"named"),
            ("x-scope-orgid", b"mimir"),
            ("thanos-tenant", b"thanos"),
        ]);
        let vm = "/insert/7:3/prometheus/api/v1/write";
        assert_eq!(tenant_of(&all, vm, Some(&named)).as_deref(), Some("named"));
        assert_eq!(tenant_of(&all, vm, None).as_deref(), Some("mimir"));
        let thanos = headers(&[("thanos-tenant", b"thanos")]);
        assert_eq!(
            tenant_of(&thanos, vm, Some(&named)).as_deref(),
            Some("thanos")
        );
        assert_eq!(
            tenant_of(&HeaderMap::new(), vm, None).as_deref(),
            Some("7:3")
        );
        let empty = headers(&[("x-scope-orgid", b"")]);
        assert_eq!(tenant_of(&empty, "/api/v1/write", None), None);
    }

    #[test]
    fn a_long_or_binary_tenant_is_cut_and_kept_as_text() {
        let long = headers(&[("x-scope-orgid", "é".repeat(5000).as_bytes())]);
        let tenant = tenant_of(&long, "/", None).expect("a tenant");
        assert!(
            tenant.len() <= MAX_TENANT_BYTES && tenant.ends_with('…'),
            "{tenant}"
        );
        // Byte for byte, as label values: three tenants, not one `a\u{fffd}b`.
        let tenants: Vec<String> = [&b"a\xffb"[..], b"a\xfeb", "a\u{fffd}b".as_bytes()]
            .into_iter()
            .map(|t| tenant_of(&headers(&[("x-scope-orgid", t)]), "/", None).expect("a tenant"))
            .collect();
        let shown: Vec<String> = tenants.iter().map(|t| escaped(t).into_owned()).collect();
        assert_eq!(shown, [r"a\xffb", r"a\xfeb", "a\u{fffd}b"]);
    }
}
