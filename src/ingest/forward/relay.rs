//! One request in forward mode: promscope's own checks (credentials, size
//! limits, budget), then the body goes to the backend (and the mirrors) as
//! received, the sender gets the backend's answer, and the request goes to
//! the inspection thread's queue (`inspector`), which decodes it for the
//! consumers; nothing here waits for inspection.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Response, StatusCode};

use super::outcome::{Forwarded, Undecodable, Upstream};
use super::{Bound, Forwarding};
use crate::capture::{self, Place};
use crate::ingest::body::{Charge, Pieces};
use crate::ingest::content::{self, Rejection};
use crate::ingest::decode::{Compression, DecodeError, decoded_size_bound_in_pieces};
use crate::ingest::handler::{self, HttpResponse};
use crate::ingest::model::{Batch, RejectReason, RequestInfo, Sender, WriteData};
use crate::ingest::negotiate::Negotiated;
use crate::ingest::recording;
use crate::ingest::server::Receiver;

/// A request as it arrives at the handler.
pub struct Arrival<'a> {
    /// What its headers say.
    pub info: RequestInfo,
    /// Its head.
    pub parts: &'a Parts,
    /// Its body, unread.
    pub body: Incoming,
    /// Where the body is left once read whole, for the recording.
    pub body_read: &'a mut Option<Bytes>,
    /// Where it sends from.
    pub remote: SocketAddr,
    /// Its place in the recording, if any: taken once it is forwarded, as
    /// its record then waits for the backend's answer, not for the sender.
    pub place: &'a mut Option<Place>,
}

/// Forwards one request; returns the answer for the sender (the backend's,
/// or promscope's own refusal), for a refused request the reason, and when
/// recording, for a forwarded one, what the capture keeps of the backend's side.
pub async fn relay(
    receiver: &Receiver,
    forwarding: &Arc<Forwarding>,
    bound: &Arc<Bound>,
    arrival: Arrival<'_>,
) -> (HttpResponse, Option<RejectReason>, Option<capture::Relay>) {
    let Arrival {
        mut info,
        parts,
        body,
        body_read,
        remote,
        place,
    } = arrival;
    let (forwarder, inspector) = (&forwarding.forwarder, &forwarding.inspector);
    let arrived = Instant::now();
    let mut charge = Charge::default();
    let (compressed, readable) = match receive(receiver, &mut info, parts, body, &mut charge).await
    {
        Ok(received) => received,
        Err(mut rejection) => {
            rejection.message = format!(
                "{} (promscope's own check: not forwarded to {})",
                rejection.message,
                forwarder.target.shown()
            );
            let reason = rejection.reason;
            inspector.submit_refused(Batch {
                info,
                outcome: rejection.outcome(),
                data: WriteData::default(),
            });
            return (handler::answer(rejection), Some(reason), None);
        }
    };
    let recording = receiver.recording.is_some();
    if recording {
        *body_read = Some(compressed.joined());
    }
    // Recorded when the backend answers, though the sender gave up waiting.
    let record = place.take().map(|place| {
        let received = recording::Received {
            parts,
            remote,
            received_at: info.received_at,
            body: body_read.clone(),
            tls: receiver.is_tls(),
        };
        (
            received.awaiting_answer(place),
            receiver.security.headers.clone(),
        )
    });
    let request = forwarder
        .headers
        .request(&forwarder.target, parts, compressed.clone());
    let mirrors = forwarder.mirror(parts, &compressed);
    // A sender that gives up waiting (its connection closed, this future
    // dropped) does not cancel the exchange, which the backend may still act
    // on: it goes on in a task of its own, and is counted and shown all the same.
    let (forwarding, bound) = (Arc::clone(forwarding), Arc::clone(bound));
    let gave_up = Arc::new(GaveUp::default());
    let waiting = forwarder.stats.waiting.begin(Sender::of(&info));
    let sender_gave_up = Arc::clone(&gave_up);
    let finish = async move {
        let forwarder = &forwarding.forwarder;
        let (upstream, backend_latency) = forwarder.exchange(&bound, request).await;
        drop((charge, waiting));
        let mut answer = answer(&upstream);
        let forwarded = Box::new(Forwarded {
            upstream,
            backend_latency,
            total_latency: arrived.elapsed(),
            undecodable: None,
            mirrors,
            sender_gave_up: sender_gave_up.after(),
        });
        forwarder.stats.record(&forwarded);
        let refused = forwarded.reject_reason();
        let relayed = recording.then(|| forwarded.relay(forwarder.target.shown()));
        // Before the answer goes out: queued after it (tried), waking other
        // threads then competed with the sender for the CPU, and the added
        // latency grew (BENCHMARKS.md).
        forwarding
            .inspector
            .submit_forwarded(info, readable, &compressed, forwarded);
        if let Some((record, security_headers)) = record {
            // As the handler sends it: with the headers every response carries.
            for (name, value) in security_headers {
                answer.headers_mut().insert(name, value);
            }
            record.record(&answer, (refused, relayed.clone()));
        }
        (answer, refused, relayed)
    };
    Detached {
        future: Some(Box::pin(finish)),
        gave_up: (gave_up, arrived),
    }
    .await
}

/// When the sender gave up waiting: microseconds after its request's
/// headers, plus one (0: it did not).
#[derive(Default)]
struct GaveUp(AtomicU64);

impl GaveUp {
    fn set(&self, after: Duration) {
        let micros = u64::try_from(after.as_micros()).unwrap_or(u64::MAX - 1);
        self.0.store(micros + 1, Ordering::Relaxed);
    }

    fn after(&self) -> Option<Duration> {
        let micros = self.0.load(Ordering::Relaxed);
        (micros > 0).then(|| Duration::from_micros(micros - 1))
    }
}

/// A future run where it is awaited that, dropped before it is done, goes on
/// in a task of its own, and notes when it was dropped (the sender gave up).
struct Detached<F: Future<Output: Send + 'static> + Send + 'static> {
    future: Option<Pin<Box<F>>>,
    gave_up: (Arc<GaveUp>, Instant),
}

impl<F: Future<Output: Send + 'static> + Send + 'static> Future for Detached<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let Some(future) = self.future.as_mut() else {
            return Poll::Pending;
        };
        let done = std::task::ready!(future.as_mut().poll(cx));
        self.future = None;
        Poll::Ready(done)
    }
}

impl<F: Future<Output: Send + 'static> + Send + 'static> Drop for Detached<F> {
    fn drop(&mut self) {
        let Some(future) = self.future.take() else {
            return;
        };
        let (gave_up, arrived) = &self.gave_up;
        gave_up.set(arrived.elapsed());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(future);
        }
    }
}

/// promscope's own checks, and the body: what the backend will get, and how
/// promscope can read it (or why it cannot). A request refused here is not
/// forwarded.
async fn receive(
    receiver: &Receiver,
    info: &mut RequestInfo,
    parts: &Parts,
    body: Incoming,
    charge: &mut Charge,
) -> Result<(Pieces, Result<Negotiated, Undecodable>), Rejection> {
    let stated_len = handler::stated_len(parts);
    if let Err(rejection) = handler::check_credentials(receiver, parts).await {
        return Err(handler::refuse_unread(receiver, parts, body, rejection).await);
    }
    // What promscope cannot read, the backend may: it is forwarded all the
    // same. Only promscope's own size limit stops it.
    let readable =
        match content::check_content(&parts.method, &parts.headers, stated_len, &receiver.limits) {
            Ok(negotiated) => Ok(negotiated),
            Err(rejection) if rejection.reason == RejectReason::TooLarge => {
                return Err(handler::refuse_unread(receiver, parts, body, rejection).await);
            }
            Err(rejection) => Err(Undecodable {
                reason: rejection.reason,
                message: rejection.message,
            }),
        };
    if let Ok(negotiated) = &readable {
        info.protocol = Some(negotiated.protocol);
    }
    let compressed = handler::read_body(receiver, info, parts, body, charge).await?;
    if let Ok(negotiated) = &readable {
        check_stated_decoded_len(receiver, negotiated.compression, &compressed)?;
    }
    Ok((compressed, readable))
}

/// A decoded size stated in the body's header over `--max-body-bytes` is
/// refused before forwarding, as it would be without a backend.
fn check_stated_decoded_len(
    receiver: &Receiver,
    compression: Compression,
    compressed: &Pieces,
) -> Result<(), Rejection> {
    let limit = receiver.limits.max_decoded_bytes;
    // A snappy body states its length in its first bytes (a varint); zstd
    // frames and blocks are walked through the whole body, where its pieces
    // lie (the body goes on in them, not joined).
    let stated = decoded_size_bound_in_pieces(compression, compressed.pieces(), usize::MAX);
    if stated <= limit {
        return Ok(());
    }
    let header = match compression {
        Compression::Snappy => "snappy",
        Compression::Zstd => "zstd frame",
    };
    Err(DecodeError::TooLarge {
        header,
        announced: stated as u64,
        limit,
    }
    .into())
}

/// The sender's answer: the backend's, or promscope's 502 or 504.
fn answer(upstream: &Upstream) -> HttpResponse {
    let (status, mut response) = match upstream {
        Upstream::Answered {
            status,
            headers,
            body,
        } => {
            let mut response = Response::new(Full::new(body.clone()));
            *response.headers_mut() = headers.clone();
            (*status, response)
        }
        Upstream::Failed { status, message } => {
            let mut response = Response::new(Full::new(Bytes::from(format!("{message}\n"))));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            (*status, response)
        }
    };
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    response
}
