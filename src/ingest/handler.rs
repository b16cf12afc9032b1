//! One request, from its headers to its answer: authentication, content
//! negotiation and limits (before the body is read), the body within its
//! limits, deadline and the shared budget, decoding, and the status codes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Request, Response, StatusCode};

use super::auth::Denied;
use super::body::{self, BodyError, Charge, Pieces};
use super::conn::ReadWhole;
use super::content::{self, Rejection, too_large};
use super::decode::decoded_size_bound;
use super::model::{Batch, Outcome, Protocol, RejectReason, RequestInfo, WriteData};
use super::negotiate::Negotiated;
use super::queue;
use super::recording;
use super::server::{EXEMPLARS_WRITTEN, HISTOGRAMS_WRITTEN, Receiver, SAMPLES_WRITTEN};

/// Largest body of a request refused on its headers that is read and dropped
/// to keep the connection; a larger one closes it.
const DISCARD_LIMIT: usize = 1 << 20;

/// The answer a request gets.
pub type HttpResponse = Response<Full<Bytes>>;

/// Handles one request from `remote`; in forward mode it goes on over the
/// backend connection `bound` to the sender's connection.
pub async fn handle(
    receiver: &Receiver,
    remote: SocketAddr,
    request: Request<Incoming>,
    bound: Option<&Arc<super::forward::Bound>>,
) -> HttpResponse {
    let (parts, body) = request.into_parts();
    // Its place in the recording is taken as it arrives: records are in the
    // order requests arrived, whatever order they are answered in.
    let mut place = receiver.recording.as_ref().map(|r| r.place());
    let received_at = SystemTime::now();
    let mut info = content::request_info(
        &parts.headers,
        parts.uri.path(),
        Some(remote),
        received_at,
        receiver.limits.tenant_header.as_ref(),
    );
    if receiver.keeps_requests {
        info.raw = Some(Arc::new(recording::raw_request(&parts)));
    }
    let mut body_read = None;
    let (mut answer, refused, relayed) = match &receiver.forward {
        Some(forwarding) => {
            let arrival = super::forward::Arrival {
                info,
                remote,
                parts: &parts,
                body,
                body_read: &mut body_read,
                place: &mut place,
            };
            let own;
            let bound = match bound {
                Some(bound) => bound,
                None => {
                    own = Arc::new(forwarding.bind());
                    &own
                }
            };
            super::forward::relay(receiver, forwarding, bound, arrival).await
        }
        None => match receive(receiver, &mut info, &parts, body, &mut body_read).await {
            Ok(Received::Write(data, charge)) => {
                let (answer, refused) = accept(receiver, info, *data, charge).await;
                (answer, refused, None)
            }
            Ok(Received::VmHandshake) => (
                Response::new(Full::new(Bytes::from_static(b"1"))),
                None,
                None,
            ),
            Err(rejection) => {
                let reason = rejection.reason;
                (reject(receiver, info, rejection).await, Some(reason), None)
            }
        },
    };
    for (name, value) in &receiver.security.headers {
        answer.headers_mut().insert(name.clone(), value.clone());
    }
    // A forwarded request's place went with its exchange (see `forward::relay`).
    if let Some(place) = place {
        let received = recording::Received {
            parts: &parts,
            remote,
            received_at,
            body: body_read,
            tls: receiver.is_tls(),
        };
        place.record(received.exchange(&answer, (refused, relayed)));
    }
    answer
}

/// What a request that passed its checks carries.
enum Received {
    /// Written data, unchecked; the charge holds the budget until the batch
    /// is handed on.
    Write(Box<WriteData>, Charge),
    /// The question older vmagent releases ask before choosing a protocol.
    VmHandshake,
}

/// Checks the request and decodes its body. The body, once read whole, is
/// left in `body_read` (for the recording).
async fn receive(
    receiver: &Receiver,
    info: &mut RequestInfo,
    parts: &Parts,
    body: Incoming,
    body_read: &mut Option<Bytes>,
) -> Result<Received, Rejection> {
    let stated_len = stated_len(parts);
    let negotiated = match check_headers(receiver, parts, stated_len).await {
        Ok(Headers::Write(negotiated)) => negotiated,
        Ok(Headers::VmHandshake) => {
            // The body is of no use: drop it so that the connection can go on.
            discard_body(receiver, parts, body).await;
            return Ok(Received::VmHandshake);
        }
        Err(rejection) => return Err(refuse_unread(receiver, parts, body, rejection).await),
    };
    info.protocol = Some(negotiated.protocol);
    let mut charge = Charge::default();
    let compressed = read_body(receiver, info, parts, body, &mut charge)
        .await?
        .joined();
    keep_raw_body(info, &compressed);
    if receiver.recording.is_some() {
        *body_read = Some(compressed.clone());
    }
    let limits = &receiver.limits;
    let bound = decoded_size_bound(
        negotiated.compression,
        &compressed,
        limits.max_decoded_bytes,
    );
    if !receiver.budget.take(&mut charge, bound) {
        return Err(over_budget(receiver));
    }
    // Checked in `accept`, once it has a place in the queue.
    let data = content::decode_body(&negotiated, &compressed, limits, info)?;
    Ok(Received::Write(Box::new(data), charge))
}

/// A rejection decided before the body was read: the body is read and
/// dropped when small, so that the connection can carry the next request.
pub(super) async fn refuse_unread(
    receiver: &Receiver,
    parts: &Parts,
    body: Incoming,
    mut rejection: Rejection,
) -> Rejection {
    rejection.close = !discard_body(receiver, parts, body).await;
    rejection
}

/// Reads and drops a body of no use; whether the connection can go on.
async fn discard_body(receiver: &Receiver, parts: &Parts, body: Incoming) -> bool {
    let expects_continue = parts
        .headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    body::discard(
        body,
        stated_len(parts),
        expects_continue,
        DISCARD_LIMIT,
        receiver.limits.body_timeout,
    )
    .await
}

/// Reads the body within the size limit, the deadline and the budget, and
/// tells the connection when it has been read whole.
pub(super) async fn read_body(
    receiver: &Receiver,
    info: &mut RequestInfo,
    parts: &Parts,
    body: Incoming,
    charge: &mut Charge,
) -> Result<Pieces, Rejection> {
    let limits = &receiver.limits;
    let read = body::read(
        body,
        stated_len(parts),
        limits.max_compressed_bytes,
        &receiver.budget,
        limits.body_timeout,
        charge,
        &mut info.compressed_bytes,
    )
    .await;
    if read.is_ok()
        && let Some(read_whole) = parts.extensions.get::<ReadWhole>()
    {
        read_whole.done();
    }
    read.map_err(|e| body_rejection(e, receiver))
}

/// The body read whole goes with the request's head, when it is kept for
/// the request view.
pub(super) fn keep_raw_body(info: &mut RequestInfo, body: &Bytes) {
    if let Some(raw) = info.raw.as_mut() {
        let raw = Arc::make_mut(raw);
        raw.body = body.clone();
        raw.body_complete = true;
    }
}

pub(super) fn stated_len(parts: &Parts) -> Option<u64> {
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
    check_credentials(receiver, parts).await?;
    if content::is_vm_handshake(&parts.uri) {
        return Ok(Headers::VmHandshake);
    }
    content::check_content(&parts.method, &parts.headers, stated_len, &receiver.limits)
        .map(Headers::Write)
}

/// The sender's credentials, when the listener requires them.
pub(super) async fn check_credentials(receiver: &Receiver, parts: &Parts) -> Result<(), Rejection> {
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
    Ok(())
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
            format!(
                "could not read the request body: {}",
                crate::text::error_chain(&e)
            ),
        ),
    };
    rejection.close = true;
    rejection
}

/// Checks a decoded request, hands it on and answers it; a refused part of
/// it (RW 2.0 series refused alone) or a consumer that fell behind makes it a
/// rejection, whose reason comes back with the answer. It is checked only
/// once it has its place in the queue: its samples become its series' state,
/// and a request refused after that (503) would come again and look like its
/// series going back in time.
async fn accept(
    receiver: &Receiver,
    info: RequestInfo,
    mut data: WriteData,
    charge: Charge,
) -> (HttpResponse, Option<RejectReason>) {
    let protocol = info.protocol;
    let place = tokio::time::timeout(receiver.limits.queue_timeout, receiver.tx.reserve()).await;
    let place = match place {
        Ok(Ok(place)) => place,
        Ok(Err(_closed)) => {
            let message = "promscope is shutting down";
            return (
                answer(Rejection::retry_later(message)),
                Some(RejectReason::Overloaded),
            );
        }
        Err(_elapsed) => {
            let stats = &receiver.stats;
            stats.dropped_requests.fetch_add(1, Ordering::Relaxed);
            let counts = data.counts();
            let samples = counts.samples + counts.histograms;
            stats.dropped_samples.fetch_add(samples, Ordering::Relaxed);
            let message = "promscope is falling behind and did not take this request; retry later";
            return (
                answer(Rejection::retry_later(message)),
                Some(RejectReason::Overloaded),
            );
        }
    };
    content::check(&mut data, &info, &receiver.limits, content::Checks::Run);
    // What is written: not the series a rule at `reject` refused.
    let counts = data.counts();
    let verdict = content::verdict(&data);
    let outcome = match &verdict {
        Ok(()) => Outcome::Accepted,
        Err(refused) => refused.outcome(),
    };
    let mut batch = Batch {
        info,
        outcome,
        data,
    };
    // Until the consumer takes it, the batch holds what it takes of the budget:
    // not what the decoder reserved by estimate (RW 1.0 reserves five bytes per
    // byte of body, for series that may not come).
    batch.data.shrink_to_fit();
    match queue::charged(&receiver.budget, batch, charge) {
        Ok(queued) => place.send(queued),
        Err(batch) => {
            let response = reject(receiver, batch.info, over_budget(receiver)).await;
            return (response, Some(RejectReason::Overloaded));
        }
    }
    let (mut response, reason) = match verdict {
        Ok(()) => {
            let mut ok = Response::new(Full::default());
            *ok.status_mut() = StatusCode::NO_CONTENT;
            (ok, None)
        }
        Err(refused) => {
            let reason = refused.reason;
            (answer(refused), Some(reason))
        }
    };
    if protocol == Some(Protocol::V2) {
        let h = response.headers_mut();
        h.insert(SAMPLES_WRITTEN, HeaderValue::from(counts.samples));
        h.insert(HISTOGRAMS_WRITTEN, HeaderValue::from(counts.histograms));
        h.insert(EXEMPLARS_WRITTEN, HeaderValue::from(counts.exemplars));
    }
    (response, reason)
}

async fn reject(receiver: &Receiver, info: RequestInfo, rejection: Rejection) -> HttpResponse {
    let batch = Batch {
        info,
        outcome: rejection.outcome(),
        data: WriteData::default(),
    };
    hand_on_rejected(receiver, batch).await;
    answer(rejection)
}

/// Hands a rejected request on to the consumer. Waiting for it, the batch
/// holds its bytes of the budget as any batch does (its body too, when kept
/// for the request view): a sender of endless rejected requests cannot pin
/// more. Without room, or if the consumer is stuck, it is counted as dropped.
/// Whether it reached the queue (else it is counted as dropped).
pub(super) async fn hand_on_rejected(receiver: &Receiver, batch: Batch) -> bool {
    // None for a folded entry (failed TLS handshakes): its repeats were
    // handed on, and counted, as they came.
    let requests = batch.info.counted();
    let queued = queue::charged(&receiver.budget, batch, Charge::default());
    let sent = match queued {
        Ok(queued) => receiver
            .tx
            .send_timeout(queued, receiver.limits.queue_timeout)
            .await
            .is_ok(),
        Err(_) => false,
    };
    if !sent {
        receiver
            .stats
            .dropped_requests
            .fetch_add(requests, Ordering::Relaxed);
    }
    sent
}

/// The response for a rejection: its status, message and headers.
pub(super) fn answer(rejection: Rejection) -> HttpResponse {
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
