//! One request, from its headers to its answer: authentication, content
//! negotiation and limits (before the body is read), the body within its
//! limits, deadline and the shared budget, decoding, and the status codes.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::mpsc;

use super::auth::Denied;
use super::body::{self, BodyError, Charge};
use super::decode::{self, DecodeError, decoded_size_bound};
use super::model::{Batch, MAX_WARNINGS, Outcome, Protocol, RejectReason, RequestInfo, WriteData};
use super::negotiate::{self, Negotiated, Unsupported};
use super::server::{EXEMPLARS_WRITTEN, HISTOGRAMS_WRITTEN, Receiver, SAMPLES_WRITTEN};

/// Largest body of a request refused on its headers that is read and dropped
/// to keep the connection; a larger one closes it.
const DISCARD_LIMIT: usize = 1 << 20;

/// The answer a request gets.
pub type HttpResponse = Response<Full<Bytes>>;

/// Handles one request from `remote`.
pub async fn handle(
    receiver: &Receiver,
    remote: SocketAddr,
    request: Request<Incoming>,
) -> HttpResponse {
    let (parts, body) = request.into_parts();
    let mut info = request_info(&parts, remote);
    let mut answer = match receive(receiver, &mut info, &parts, body).await {
        Ok(Received::Write(data, charge)) => accept(receiver, info, *data, charge).await,
        Ok(Received::VmHandshake) => Response::new(Full::new(Bytes::from_static(b"1"))),
        Err(rejection) => reject(receiver, info, rejection).await,
    };
    for (name, value) in &receiver.security.headers {
        answer.headers_mut().insert(name.clone(), value.clone());
    }
    answer
}

fn request_info(parts: &Parts, remote: SocketAddr) -> RequestInfo {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let path = parts.uri.path();
    RequestInfo {
        received_at: SystemTime::now(),
        remote_addr: Some(remote),
        path: path.to_owned(),
        user_agent: header(header::USER_AGENT.as_str()),
        protocol: None,
        compressed_bytes: 0,
        decoded_bytes: 0,
        retry_attempt: header("retry-attempt"),
        tenant: header("x-scope-orgid")
            .or_else(|| header("thanos-tenant"))
            .or_else(|| vm_cluster_tenant(path).map(str::to_owned)),
    }
}

/// The tenant of a VictoriaMetrics cluster insert path,
/// `/insert/<tenant>/prometheus/...`.
fn vm_cluster_tenant(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/insert/")?;
    let (tenant, rest) = rest.split_once('/')?;
    (!tenant.is_empty() && rest.starts_with("prometheus")).then_some(tenant)
}

/// A request that will be answered with an error.
struct Rejection {
    status: StatusCode,
    reason: RejectReason,
    message: String,
    /// Headers the answer carries besides the message.
    headers: Vec<(HeaderName, HeaderValue)>,
    /// The body was not read whole: the connection cannot carry another request.
    close: bool,
}

impl Rejection {
    fn new(status: StatusCode, reason: RejectReason, message: impl Into<String>) -> Self {
        Rejection {
            status,
            reason,
            message: message.into(),
            headers: Vec::new(),
            close: false,
        }
    }

    /// A 503 the sender should retry soon.
    fn retry_later(message: impl Into<String>) -> Self {
        let mut r = Rejection::new(
            StatusCode::SERVICE_UNAVAILABLE,
            RejectReason::Overloaded,
            message,
        );
        r.headers
            .push((header::RETRY_AFTER, HeaderValue::from_static("1")));
        r
    }
}

impl From<DecodeError> for Rejection {
    fn from(e: DecodeError) -> Self {
        let (status, reason) = match e {
            DecodeError::TooLarge { .. }
            | DecodeError::DecodedTooLarge { .. }
            | DecodeError::WindowTooLarge { .. } => {
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

/// What a request that passed its checks carries.
enum Received {
    /// Written data; the charge holds the budget until the batch is handed on.
    Write(Box<WriteData>, Charge),
    /// The question older vmagent releases ask before choosing a protocol.
    VmHandshake,
}

/// Checks the request and decodes its body.
async fn receive(
    receiver: &Receiver,
    info: &mut RequestInfo,
    parts: &Parts,
    body: Incoming,
) -> Result<Received, Rejection> {
    let limits = &receiver.limits;
    let stated_len = stated_len(parts);
    let negotiated = match check_headers(receiver, parts, stated_len).await {
        Ok(Headers::Write(negotiated)) => negotiated,
        other => {
            // The body is of no use: drop it so that the connection can go on.
            let expects_continue = parts
                .headers
                .get(header::EXPECT)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
            let drained = body::discard(
                body,
                stated_len,
                expects_continue,
                DISCARD_LIMIT,
                limits.body_timeout,
            )
            .await;
            return match other {
                Ok(_) => Ok(Received::VmHandshake),
                Err(mut rejection) => {
                    rejection.close = !drained;
                    Err(rejection)
                }
            };
        }
    };
    info.protocol = Some(negotiated.protocol);
    let mut charge = Charge::default();
    let read = body::read(
        body,
        stated_len,
        limits.max_compressed_bytes,
        &receiver.budget,
        limits.body_timeout,
        &mut charge,
        &mut info.compressed_bytes,
    )
    .await;
    let compressed = read.map_err(|e| body_rejection(e, receiver))?;
    let bound = decoded_size_bound(
        negotiated.compression,
        &compressed,
        limits.max_decoded_bytes,
    );
    if !receiver.budget.take(&mut charge, bound) {
        return Err(over_budget(receiver));
    }
    let decoded = negotiated
        .compression
        .decompress(&compressed, limits.max_decoded_bytes)?;
    drop(compressed);
    info.decoded_bytes = decoded.len();
    let mut data = decode::decode(negotiated.protocol, decoded)?;
    if let Some(warning) = negotiated.warning {
        // First, so that it is the one shown beside the request.
        data.warnings.truncate(MAX_WARNINGS - 1);
        data.warnings.insert(0, warning.to_owned());
    }
    Ok(Received::Write(Box::new(data), charge))
}

fn stated_len(parts: &Parts) -> Option<u64> {
    parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// What the headers of a request that passed their checks ask for.
enum Headers {
    /// A write, in this protocol.
    Write(Negotiated),
    /// vmagent's question whether VictoriaMetrics' protocol is spoken.
    VmHandshake,
}

/// What can be refused before the body is read: credentials, method,
/// content type and encoding, and a stated length over the limit (so that an
/// `Expect: 100-continue` sender is told at once, without sending the body).
async fn check_headers(
    receiver: &Receiver,
    parts: &Parts,
    stated_len: Option<u64>,
) -> Result<Headers, Rejection> {
    if let Some(auth) = &receiver.security.auth
        && let Err(denied) = auth.check(&parts.headers).await
    {
        let message = match denied {
            Denied::Busy => {
                return Err(Rejection::retry_later(
                    "promscope is busy checking credentials; retry later",
                ));
            }
            Denied::Missing => "missing credentials: this receiver requires basic auth or a bearer token (Authorization header)".to_owned(),
            Denied::Wrong(what) => format!("wrong credentials: {what}"),
        };
        let mut rejection = Rejection::new(
            StatusCode::UNAUTHORIZED,
            RejectReason::Unauthorized,
            message,
        );
        for challenge in auth.challenges() {
            rejection.headers.push((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            ));
        }
        return Err(rejection);
    }
    if is_vm_handshake(parts) {
        return Ok(Headers::VmHandshake);
    }
    if parts.method != Method::POST {
        return Err(Rejection::new(
            StatusCode::METHOD_NOT_ALLOWED,
            RejectReason::MethodNotAllowed,
            format!(
                "{} is not supported: promscope receives Prometheus remote-write requests, sent with POST",
                parts.method
            ),
        ));
    }
    let negotiated = negotiate::negotiate(&parts.headers).map_err(|e| match e {
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
    let limit = receiver.limits.max_compressed_bytes;
    if stated_len.is_some_and(|len| len > limit as u64) {
        return Err(too_large(limit));
    }
    Ok(Headers::Write(negotiated))
}

/// Whether the request is the handshake vmagent releases before v1.116 send
/// to a remote-write URL (`?get_vm_proto_version=1`, any method) to learn
/// whether it speaks VictoriaMetrics' protocol; VictoriaMetrics answers `1`
/// and so does promscope. Newer releases skip it: they start in that protocol
/// and fall back to Prometheus's on a 400 or 415.
fn is_vm_handshake(parts: &Parts) -> bool {
    parts.uri.query().is_some_and(|query| {
        query.split('&').any(|pair| {
            pair.split_once('=')
                .is_some_and(|(key, value)| key == "get_vm_proto_version" && !value.is_empty())
        })
    })
}

fn too_large(limit: usize) -> Rejection {
    Rejection::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        RejectReason::TooLarge,
        format!("compressed body is over the limit of {limit} bytes (--max-compressed-bytes)"),
    )
}

fn over_budget(receiver: &Receiver) -> Rejection {
    Rejection::retry_later(format!(
        "promscope is receiving too many bodies at once (over --max-bytes-in-flight, {} bytes); retry later",
        receiver.limits.max_bytes_in_flight
    ))
}

fn body_rejection(e: BodyError, receiver: &Receiver) -> Rejection {
    let mut rejection = match e {
        BodyError::TooLarge => too_large(receiver.limits.max_compressed_bytes),
        BodyError::OverBudget => over_budget(receiver),
        BodyError::TimedOut => Rejection::new(
            StatusCode::REQUEST_TIMEOUT,
            RejectReason::BodyTimeout,
            format!(
                "the body did not arrive within {:?} (--body-timeout)",
                receiver.limits.body_timeout
            ),
        ),
        BodyError::Read(e) => Rejection::new(
            StatusCode::BAD_REQUEST,
            RejectReason::BodyRead,
            format!("could not read the request body: {e}"),
        ),
    };
    rejection.close = true;
    rejection
}

/// The message of a request some of whose RW 2.0 series were refused.
fn refusal(data: &WriteData) -> Option<String> {
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
        "invalid remote-write 2.0 request: {}{more} (the rest was written: see the Written headers)",
        data.refused.join("; ")
    ))
}

async fn accept(
    receiver: &Receiver,
    info: RequestInfo,
    data: WriteData,
    charge: Charge,
) -> HttpResponse {
    let counts = data.counts();
    let protocol = info.protocol;
    let refused = refusal(&data);
    let outcome = match &refused {
        None => Outcome::Accepted,
        Some(message) => Outcome::Rejected {
            status: StatusCode::BAD_REQUEST.as_u16(),
            reason: RejectReason::Invalid,
            message: message.clone(),
        },
    };
    let batch = Batch {
        info,
        outcome,
        data,
    };
    let sent = receiver
        .tx
        .send_timeout(batch, receiver.limits.queue_timeout)
        .await;
    drop(charge);
    match sent {
        Ok(()) => {}
        Err(mpsc::error::SendTimeoutError::Timeout(_)) => {
            receiver
                .stats
                .dropped_requests
                .fetch_add(1, Ordering::Relaxed);
            receiver
                .stats
                .dropped_samples
                .fetch_add(counts.samples + counts.histograms, Ordering::Relaxed);
            return answer(Rejection::retry_later(
                "promscope is falling behind and did not take this request; retry later",
            ));
        }
        Err(mpsc::error::SendTimeoutError::Closed(_)) => {
            return answer(Rejection::retry_later("promscope is shutting down"));
        }
    }
    let mut response = match refused {
        None => {
            let mut ok = Response::new(Full::default());
            *ok.status_mut() = StatusCode::NO_CONTENT;
            ok
        }
        Some(message) => answer(Rejection::new(
            StatusCode::BAD_REQUEST,
            RejectReason::Invalid,
            message,
        )),
    };
    if protocol == Some(Protocol::V2) {
        let h = response.headers_mut();
        h.insert(SAMPLES_WRITTEN, HeaderValue::from(counts.samples));
        h.insert(HISTOGRAMS_WRITTEN, HeaderValue::from(counts.histograms));
        h.insert(EXEMPLARS_WRITTEN, HeaderValue::from(counts.exemplars));
    }
    response
}

async fn reject(receiver: &Receiver, info: RequestInfo, rejection: Rejection) -> HttpResponse {
    let batch = Batch {
        info,
        outcome: Outcome::Rejected {
            status: rejection.status.as_u16(),
            reason: rejection.reason,
            message: rejection.message.clone(),
        },
        data: WriteData::default(),
    };
    // A rejected request is small; if the consumer is stuck it is counted as dropped.
    if receiver
        .tx
        .send_timeout(batch, receiver.limits.queue_timeout)
        .await
        .is_err()
    {
        receiver
            .stats
            .dropped_requests
            .fetch_add(1, Ordering::Relaxed);
    }
    answer(rejection)
}

/// The response for a rejection: its status, message and headers.
fn answer(rejection: Rejection) -> HttpResponse {
    let mut response = Response::new(Full::new(Bytes::from(format!("{}\n", rejection.message))));
    *response.status_mut() = rejection.status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    for (name, value) in rejection.headers {
        h.append(name, value);
    }
    if rejection.close {
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
