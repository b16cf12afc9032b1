//! What `--record` keeps of a request and its answer: the request as it
//! arrived (headers, and the body still compressed) and the answer as sent.

use std::net::SocketAddr;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::SystemTime;

use bytes::Bytes;
use hyper::HeaderMap;
use hyper::body::Body;
use hyper::header;
use hyper::http::request::Parts;

use super::handler::HttpResponse;
use super::model::{RawRequest, RejectReason};
use crate::capture::{self, Exchange, Header, Place};

/// Headers whose values are credentials: a capture is made to be shown to
/// others, so they are kept as this, not as sent.
const REDACTED: &str = "<redacted by promscope>";

/// A request as the handler saw it.
pub(super) struct Received<'a> {
    pub parts: &'a Parts,
    pub remote: SocketAddr,
    pub received_at: SystemTime,
    /// The body, when it was read whole.
    pub body: Option<Bytes>,
    /// Whether it came over TLS.
    pub tls: bool,
}

impl Received<'_> {
    /// The exchange to record, with `answer` (whose rejection reason, if
    /// any, is `refused`; `relay`, in forward mode, says who answered).
    pub fn exchange(
        self,
        answer: &HttpResponse,
        (refused, relay): (Option<RejectReason>, Option<capture::Relay>),
    ) -> Exchange {
        let mut exchange = self.head();
        exchange.answer = Some(answer_of(answer, refused, relay));
        exchange
    }

    /// The record in `place` that waits for its answer: in forward mode the
    /// backend's may come after the sender gave up waiting, and the exchange
    /// goes on without the handler (see `forward::relay`).
    pub fn awaiting_answer(self, place: Place) -> AwaitingAnswer {
        AwaitingAnswer {
            place,
            exchange: self.head(),
        }
    }

    /// The request's side of its exchange.
    fn head(self) -> Exchange {
        let parts = self.parts;
        let body_complete = self.body.is_some();
        let body = self.body.unwrap_or_default();
        let mut headers = request_headers(&parts.headers);
        // The body is stored whole, whatever framing it came in.
        if body_complete && capture::header(&headers, "content-length").is_none() {
            headers.push(Header::new("content-length", body.len().to_string()));
        }
        let host = parts
            .headers
            .get(header::HOST)
            .map_or("unknown".into(), |h| {
                String::from_utf8_lossy(h.as_bytes()).into_owned()
            });
        let target = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let scheme = if self.tls { "https" } else { "http" };
        Exchange {
            received_at: self.received_at,
            peer: Some(self.remote),
            url: format!("{scheme}://{host}{target}"),
            method: parts.method.to_string(),
            target,
            headers,
            body,
            body_complete,
            answer: None,
        }
    }
}

/// A request's record, in its place in the capture, waiting for its answer.
pub struct AwaitingAnswer {
    place: Place,
    exchange: Exchange,
}

impl AwaitingAnswer {
    /// Records it with `answer` (as [`Received::exchange`] takes it).
    pub fn record(
        self,
        answer: &HttpResponse,
        (refused, relay): (Option<RejectReason>, Option<capture::Relay>),
    ) {
        let mut exchange = self.exchange;
        exchange.answer = Some(answer_of(answer, refused, relay));
        self.place.record(exchange);
    }
}

/// What the capture keeps of `answer`.
fn answer_of(
    answer: &HttpResponse,
    refused: Option<RejectReason>,
    relay: Option<capture::Relay>,
) -> capture::Answer {
    capture::Answer {
        status: answer.status().as_u16(),
        headers: answer
            .headers()
            .iter()
            .map(|(n, v)| Header::new(n.as_str(), Bytes::copy_from_slice(v.as_bytes())))
            .collect(),
        body: answer_body(answer),
        reject_reason: refused.map(|r| r.name().to_owned()),
        relay,
    }
}

/// The head of a request, for the dashboard to keep with its body (added
/// once read).
pub(super) fn raw_request(parts: &Parts) -> RawRequest {
    RawRequest {
        method: parts.method.to_string(),
        target: parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned(),
        headers: request_headers(&parts.headers),
        body: Bytes::new(),
        body_complete: false,
    }
}

/// The request's headers in the order received, without the framing of a
/// body that is stored whole, and with credentials redacted.
fn request_headers(headers: &HeaderMap) -> Vec<Header> {
    headers
        .iter()
        .filter(|(name, _)| *name != header::TRANSFER_ENCODING)
        .map(|(name, value)| {
            let secret = [
                header::AUTHORIZATION,
                header::PROXY_AUTHORIZATION,
                header::COOKIE,
            ]
            .contains(name);
            let value = if secret {
                Bytes::from_static(REDACTED.as_bytes())
            } else {
                Bytes::copy_from_slice(value.as_bytes())
            };
            Header::new(name.as_str(), value)
        })
        .collect()
}

/// The body of an answer: built in memory, it is there at the first poll.
fn answer_body(answer: &HttpResponse) -> Bytes {
    let mut body = pin!(answer.body().clone());
    match body
        .as_mut()
        .poll_frame(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(Some(Ok(frame))) => frame.into_data().unwrap_or_default(),
        _ => Bytes::new(),
    }
}
