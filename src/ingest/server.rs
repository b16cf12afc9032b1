//! The HTTP receiver: limits, content negotiation and status codes. Every request,
//! accepted or rejected, is handed to the consumers as a [`Batch`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::decode::{self, DecodeError};
use super::model::{Batch, Outcome, Protocol, RejectReason, RequestInfo, WriteData};

/// Header names of the RW2 success response (Prometheus 3.x requires them).
pub const SAMPLES_WRITTEN: &str = "x-prometheus-remote-write-samples-written";
/// See [`SAMPLES_WRITTEN`].
pub const HISTOGRAMS_WRITTEN: &str = "x-prometheus-remote-write-histograms-written";
/// See [`SAMPLES_WRITTEN`].
pub const EXEMPLARS_WRITTEN: &str = "x-prometheus-remote-write-exemplars-written";

/// Receiver limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted body as received (compressed).
    pub max_compressed_bytes: usize,
    /// Largest accepted decoded body, checked against the snappy header.
    pub max_decoded_bytes: usize,
    /// How long a request may wait for a slow consumer before a 503.
    pub queue_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_compressed_bytes: 32 << 20,
            max_decoded_bytes: 32 << 20,
            queue_timeout: Duration::from_secs(10),
        }
    }
}

/// Counters of what never reached the channel, shared with the consumers.
#[derive(Debug, Default)]
pub struct ReceiverStats {
    /// Requests answered 503 because the consumer fell behind.
    pub dropped_requests: AtomicU64,
    /// Samples and histograms in those requests.
    pub dropped_samples: AtomicU64,
}

struct Receiver {
    tx: mpsc::Sender<Batch>,
    limits: Limits,
    stats: Arc<ReceiverStats>,
}

/// Builds the receiver's router: POST on any path.
pub fn router(tx: mpsc::Sender<Batch>, limits: Limits, stats: Arc<ReceiverStats>) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(Arc::new(Receiver { tx, limits, stats }))
}

/// Serves remote-write on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// A request that will be answered with an error.
struct Rejection {
    status: StatusCode,
    reason: RejectReason,
    message: String,
}

impl Rejection {
    fn new(status: StatusCode, reason: RejectReason, message: impl Into<String>) -> Self {
        Rejection {
            status,
            reason,
            message: message.into(),
        }
    }
}

impl From<DecodeError> for Rejection {
    fn from(e: DecodeError) -> Self {
        let (status, reason) = match e {
            DecodeError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, RejectReason::TooLarge),
            DecodeError::EmptyBody | DecodeError::FramedSnappy | DecodeError::Snappy(..) => {
                (StatusCode::BAD_REQUEST, RejectReason::Snappy)
            }
            DecodeError::Protobuf { .. } => (StatusCode::BAD_REQUEST, RejectReason::Protobuf),
            DecodeError::Invalid(_) => (StatusCode::BAD_REQUEST, RejectReason::Invalid),
        };
        Rejection::new(status, reason, e.to_string())
    }
}

async fn handle(
    State(receiver): State<Arc<Receiver>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut info = RequestInfo {
        received_at: SystemTime::now(),
        remote_addr: Some(remote),
        path: uri.path().to_owned(),
        user_agent: header_text(&headers, header::USER_AGENT.as_str()),
        protocol: None,
        compressed_bytes: 0,
        decoded_bytes: 0,
        retry_attempt: header_text(&headers, "retry-attempt"),
        org_id: header_text(&headers, "x-scope-orgid"),
        remote_write_version: header_text(&headers, "x-prometheus-remote-write-version"),
    };
    match receive(&receiver.limits, &mut info, &method, &headers, body).await {
        Ok(data) => accept(&receiver, info, data).await,
        Err(rejection) => reject(&receiver, info, rejection).await,
    }
}

/// Checks the request and decodes its body.
async fn receive(
    limits: &Limits,
    info: &mut RequestInfo,
    method: &Method,
    headers: &HeaderMap,
    body: Body,
) -> Result<WriteData, Rejection> {
    if method != Method::POST {
        return Err(Rejection::new(
            StatusCode::METHOD_NOT_ALLOWED,
            RejectReason::MethodNotAllowed,
            format!(
                "{method} is not supported: promscope receives Prometheus remote-write requests, sent with POST"
            ),
        ));
    }
    check_encoding(headers)?;
    let protocol = protocol(headers)?;
    info.protocol = Some(protocol);
    let body = read_body(body, limits.max_compressed_bytes, info).await?;
    let decoded = decode::decompress(&body, limits.max_decoded_bytes)?;
    info.decoded_bytes = decoded.len();
    let data = decode::decode(protocol, decoded)?;
    Ok(data)
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

fn check_encoding(headers: &HeaderMap) -> Result<(), Rejection> {
    let unsupported = |what: String| {
        Rejection::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RejectReason::UnsupportedEncoding,
            what,
        )
    };
    match headers.get(header::CONTENT_ENCODING) {
        None => Err(unsupported(
            "missing Content-Encoding: remote write bodies must be snappy-compressed (Content-Encoding: snappy)".into(),
        )),
        Some(v) if v.as_bytes().trim_ascii().eq_ignore_ascii_case(b"snappy") => Ok(()),
        Some(v) => Err(unsupported(format!(
            "Content-Encoding {:?} is not supported: remote write requires snappy (block format)",
            String::from_utf8_lossy(v.as_bytes())
        ))),
    }
}

/// The protocol named by the Content-Type header (absent means RW 1.0).
pub fn protocol_of(content_type: Option<&[u8]>) -> Result<Protocol, String> {
    let Some(raw) = content_type else {
        return Ok(Protocol::V1);
    };
    let text = String::from_utf8_lossy(raw);
    let mut parts = text.split(';').map(str::trim);
    let media = parts.next().unwrap_or_default();
    if !media.eq_ignore_ascii_case("application/x-protobuf") {
        return Err(format!(
            "Content-Type {text:?} is not supported: remote write sends application/x-protobuf"
        ));
    }
    let mut protocol = Protocol::V1;
    for param in parts {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("proto") {
            continue;
        }
        protocol = match value.trim().trim_matches('"') {
            "prometheus.WriteRequest" => Protocol::V1,
            "io.prometheus.write.v2.Request" => Protocol::V2,
            other => {
                return Err(format!(
                    "proto={other:?} is not supported: promscope accepts prometheus.WriteRequest (RW 1.0) and io.prometheus.write.v2.Request (RW 2.0)"
                ));
            }
        };
    }
    Ok(protocol)
}

fn protocol(headers: &HeaderMap) -> Result<Protocol, Rejection> {
    protocol_of(headers.get(header::CONTENT_TYPE).map(HeaderValue::as_bytes)).map_err(|message| {
        Rejection::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RejectReason::UnsupportedContentType,
            message,
        )
    })
}

async fn read_body(
    body: Body,
    limit: usize,
    info: &mut RequestInfo,
) -> Result<bytes::Bytes, Rejection> {
    let too_large = || {
        Rejection::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            RejectReason::TooLarge,
            format!("compressed body is over the limit of {limit} bytes (--max-compressed-bytes)"),
        )
    };
    match Limited::new(body, limit).collect().await {
        Ok(collected) => {
            let bytes = collected.to_bytes();
            info.compressed_bytes = bytes.len();
            Ok(bytes)
        }
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            info.compressed_bytes = limit;
            Err(too_large())
        }
        Err(e) => Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            RejectReason::BodyRead,
            format!("could not read the request body: {e}"),
        )),
    }
}

async fn accept(receiver: &Receiver, info: RequestInfo, data: WriteData) -> Response {
    let counts = data.counts();
    let protocol = info.protocol;
    let batch = Batch {
        info,
        outcome: Outcome::Accepted,
        data,
    };
    match receiver
        .tx
        .send_timeout(batch, receiver.limits.queue_timeout)
        .await
    {
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
            return unavailable(
                "promscope is falling behind and did not take this request; retry later",
            );
        }
        Err(mpsc::error::SendTimeoutError::Closed(_)) => {
            return unavailable("promscope is shutting down");
        }
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    if protocol == Some(Protocol::V2) {
        let h = response.headers_mut();
        h.insert(SAMPLES_WRITTEN, HeaderValue::from(counts.samples));
        h.insert(HISTOGRAMS_WRITTEN, HeaderValue::from(counts.histograms));
        h.insert(EXEMPLARS_WRITTEN, HeaderValue::from(counts.exemplars));
    }
    response
}

fn unavailable(message: &'static str) -> Response {
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, format!("{message}\n")).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

async fn reject(receiver: &Receiver, info: RequestInfo, rejection: Rejection) -> Response {
    let Rejection {
        status,
        reason,
        message,
    } = rejection;
    let batch = Batch {
        info,
        outcome: Outcome::Rejected {
            status: status.as_u16(),
            reason,
            message: message.clone(),
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
    (status, format!("{message}\n")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_negotiation() {
        let v2 = "io.prometheus.write.v2.Request";
        assert_eq!(protocol_of(None), Ok(Protocol::V1));
        assert_eq!(
            protocol_of(Some(b"application/x-protobuf")),
            Ok(Protocol::V1)
        );
        assert_eq!(
            protocol_of(Some(
                b"application/x-protobuf;proto=prometheus.WriteRequest"
            )),
            Ok(Protocol::V1)
        );
        assert_eq!(
            protocol_of(Some(
                format!("application/x-protobuf;proto={v2}").as_bytes()
            )),
            Ok(Protocol::V2)
        );
        assert_eq!(
            protocol_of(Some(
                format!("application/x-protobuf ; proto = {v2} ").as_bytes()
            )),
            Ok(Protocol::V2)
        );
        assert!(protocol_of(Some(b"application/json")).is_err());
        assert!(
            protocol_of(Some(b"application/x-protobuf;proto=foo.Bar"))
                .unwrap_err()
                .contains("foo.Bar")
        );
    }
}
