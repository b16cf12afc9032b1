//! Talking to a backend: opening connections (TLS with rustls for https), a
//! pool of kept-alive connections (the mirrors'), and one exchange: send the
//! request, read the answer whole, within the forward timeout.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{self, HeaderMap, HeaderName};
use hyper::{Request, Response, StatusCode};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::outcome::Upstream;
use crate::ingest::body::Pieces;
use crate::ingest::server::{EXEMPLARS_WRITTEN, HISTOGRAMS_WRITTEN, SAMPLES_WRITTEN};

/// Opens connections to http and https backends.
pub type Connector = HttpsConnector<HttpConnector>;

/// A pooled HTTP/1.1 client for http and https backends.
pub type BackendClient = Client<Connector, Outgoing>;

/// A request body on its way to a backend: the pieces it arrived in, sent
/// as they are (written with one vectored write, not copied together), its
/// length stated.
#[derive(Debug)]
pub struct Outgoing {
    pieces: std::vec::IntoIter<Bytes>,
    left: u64,
}

impl From<Pieces> for Outgoing {
    fn from(body: Pieces) -> Self {
        Outgoing {
            left: body.len() as u64,
            pieces: body.into_vec().into_iter(),
        }
    }
}

impl Body for Outgoing {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let next = self.pieces.next();
        if let Some(piece) = &next {
            self.left -= piece.len() as u64;
        }
        Poll::Ready(next.map(|piece| Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

/// Largest answer body passed on; backends answer remote write with at most
/// a few kilobytes of error text.
pub const MAX_ANSWER_BYTES: usize = 1 << 20;

/// How long an unused connection stays in the pool: senders push every few
/// seconds, so connections are reused across requests.
pub const POOL_IDLE: Duration = Duration::from_secs(90);

/// Answer headers passed to the sender besides the status and body.
const ANSWER_HEADERS: [HeaderName; 5] = [
    header::CONTENT_TYPE,
    header::RETRY_AFTER,
    HeaderName::from_static(SAMPLES_WRITTEN),
    HeaderName::from_static(HISTOGRAMS_WRITTEN),
    HeaderName::from_static(EXEMPLARS_WRITTEN),
];

/// Opens connections, speaking TLS with `tls` to https backends.
pub fn connector(tls: rustls::ClientConfig) -> Connector {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    // The TLS connector on top of it handles https.
    http.enforce_http(false);
    HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http)
}

/// A pooled client opening its connections with `connector` (the mirrors').
pub fn client(connector: Connector) -> BackendClient {
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE)
        .build(connector)
}

/// Sends `request` through the pooled `client` to the backend `shown` and
/// reads its answer, all within `timeout`.
pub async fn exchange(
    client: &BackendClient,
    request: Request<Outgoing>,
    timeout: Duration,
    shown: &str,
) -> (Upstream, Duration) {
    within(timeout, shown, async {
        let response = client
            .request(request)
            .await
            .map_err(|e| failure(shown, e.is_connect(), &e))?;
        read_answer(response, shown).await
    })
    .await
}

/// Runs `exchange` (sending a request to the backend `shown` and reading its
/// answer) within `timeout`; returns the answer, or why there is none as the
/// sender gets it (502, or 504 past the timeout), and how long it took.
pub async fn within(
    timeout: Duration,
    shown: &str,
    exchange: impl Future<Output = Result<Upstream, String>>,
) -> (Upstream, Duration) {
    let started = Instant::now();
    let upstream = match tokio::time::timeout(timeout, exchange).await {
        Ok(Ok(answered)) => answered,
        Ok(Err(message)) => Upstream::Failed {
            status: StatusCode::BAD_GATEWAY.as_u16(),
            message,
        },
        Err(_) => Upstream::Failed {
            status: StatusCode::GATEWAY_TIMEOUT.as_u16(),
            message: format!(
                "the backend {shown} did not answer within {timeout:?} (--forward-timeout)"
            ),
        },
    };
    (upstream, started.elapsed())
}

/// The backend's answer, its body read whole (up to [`MAX_ANSWER_BYTES`]).
pub async fn read_answer(response: Response<Incoming>, shown: &str) -> Result<Upstream, String> {
    let status = response.status();
    let headers = passed_headers(response.headers());
    let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                format!(
                    "the backend {shown} answered {status} with a body over {MAX_ANSWER_BYTES} bytes, more than promscope passes on"
                )
            } else {
                format!(
                    "the backend {shown} answered {status} but its body broke off: {}",
                    causes(e.as_ref())
                )
            }
        })?
        .to_bytes();
    Ok(Upstream::Answered {
        status: status.as_u16(),
        headers,
        body,
    })
}

fn passed_headers(received: &HeaderMap) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for name in &ANSWER_HEADERS {
        for value in received.get_all(name) {
            headers.append(name.clone(), value.clone());
        }
    }
    headers
}

/// The message for a request that got no answer: what failed (`connecting`:
/// the connection could not be opened), with its causes.
pub fn failure(shown: &str, connecting: bool, e: &(dyn std::error::Error + 'static)) -> String {
    if connecting {
        format!(
            "promscope could not connect to the backend {shown}: {}",
            causes(e)
        )
    } else {
        format!(
            "the backend {shown} did not answer (the connection failed): {}",
            causes(e)
        )
    }
}

/// An error and its sources, `outer: inner: innermost`, repeated texts once.
fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(e);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}
