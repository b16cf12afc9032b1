//! Recorded exchanges as requests again: the batch the receiver made of each
//! (the same checks and decoding, so replay prints what live mode printed),
//! and the request to re-send.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Request, Uri};

use crate::capture::{Answer, Exchange, Relay};
use crate::ingest::content;
use crate::ingest::forward::{ForwardStats, MirrorStatus, MirrorStatuses};
use crate::ingest::model::{
    Batch, Forwarded, Outcome, RawRequest, RejectReason, RequestInfo, Upstream, WriteData,
};
use crate::ingest::raw::request_head;
use crate::ingest::server::{Limits, ReceiverStats};

/// What [`unpack`] makes of an exchange, on the thread that reads the
/// capture: the request's facts, and its body decompressed.
pub struct Unpacked(Option<Taken>);

enum Taken {
    Whole(content::Unpacked),
    /// A body not read whole: the request's facts only.
    Cut(RequestInfo),
}

/// The first step of a request's batch (then [`batch`]).
pub fn unpack(exchange: &Exchange, limits: &Limits) -> Unpacked {
    let (method, uri, headers) =
        request_head(&exchange.method, &exchange.target, &exchange.headers);
    let info = content::request_info(
        &headers,
        uri.path(),
        exchange.peer,
        exchange.received_at,
        limits.tenant_header.as_ref(),
    );
    Unpacked(if exchange.body_complete {
        content::unpack_whole(&method, &uri, &headers, &exchange.body, info, limits)
            .map(Taken::Whole)
    } else {
        Some(Taken::Cut(info))
    })
}

/// The batch the receiver handed to its consumers for `exchange`, or none
/// (vmagent's handshake), from what [`unpack`] made of it. A request
/// answered otherwise than its content alone decides (credentials, a
/// timeout, promscope falling behind, a body not read whole) gets its
/// recorded answer, as it did live; one forward mode sent on to the backend
/// is the backend's side and what promscope made of it, as live.
pub fn batch(unpacked: Unpacked, exchange: &Exchange, limits: &Limits) -> Option<Batch> {
    if let Some(answer) = &exchange.answer
        && let Some(relay) = &answer.relay
    {
        return relayed(unpacked, answer, relay, limits);
    }
    let mut batch = match unpacked.0? {
        Taken::Whole(unpacked) => content::decode_unpacked(unpacked, limits),
        Taken::Cut(info) => Batch {
            info,
            outcome: Outcome::Accepted,
            data: WriteData::default(),
        },
    };
    let Some(answer) = &exchange.answer else {
        return Some(batch);
    };
    let recorded = answer
        .reject_reason
        .as_deref()
        .and_then(RejectReason::from_name);
    let taken = (200..300).contains(&answer.status);
    let decided = match &batch.outcome {
        Outcome::Rejected { status, reason, .. } => {
            *status == answer.status && recorded.is_none_or(|r| r == *reason)
        }
        other => other.is_accepted() && taken && exchange.body_complete,
    };
    if decided {
        return Some(batch);
    }
    if taken {
        // Taken when recorded though refused now. Limits or rules stricter
        // now (`check cap.warc --max-body-bytes ...`) refuse it as live
        // promscope would: that is what the flags are for. A body promscope
        // cannot read at all was taken by a backend (only forward mode
        // passes one on; captures written before promscope recorded who
        // answered do not say so): it stays taken, with why it cannot be read.
        let unreadable = batch.outcome.rejection().is_some_and(|(_, reason, _)| {
            matches!(
                reason,
                RejectReason::Snappy | RejectReason::Zstd | RejectReason::Protobuf
            )
        });
        if !unreadable {
            return Some(batch);
        }
        if let Some((_, reason, message)) = batch.outcome.rejection() {
            let note = format!(
                "answered {} when recorded; refused when read now ({}): {message}",
                answer.status,
                reason.name()
            );
            batch.data.warnings.push(note);
        }
        batch.outcome = Outcome::Accepted;
        return Some(batch);
    }
    let reason = recorded.unwrap_or(reason_of_status(answer.status));
    batch.outcome = Outcome::Rejected {
        status: answer.status,
        reason,
        // Trimmed as live mode trims a backend's body.
        message: String::from_utf8_lossy(answer.body.trim_ascii()).into_owned(),
    };
    // What a backend refused was read all the same, as live.
    if !reason.is_upstream() {
        batch.data = WriteData::default();
    }
    Some(batch)
}

/// A request forward mode sent on to the backend, as it reached the
/// consumers live: the backend's answer (or promscope's 502 or 504 when it
/// gave none) with the recorded latencies and mirrors, and what promscope
/// made of the request (why it could not read it, if it could not).
fn relayed(unpacked: Unpacked, answer: &Answer, relay: &Relay, limits: &Limits) -> Option<Batch> {
    let (info, decoded) = match unpacked.0? {
        Taken::Whole(unpacked) => {
            let backend = relay.answered.then_some(answer.status);
            let checks = content::Checks::of_backend(backend);
            content::decode_forwarded(unpacked, limits, checks)
        }
        Taken::Cut(info) => (info, Ok(WriteData::default())),
    };
    // As live: the backend judged the request; what promscope could not
    // read carries nothing.
    let (data, undecodable) = match decoded {
        Ok(data) => (data, None),
        Err(undecodable) => (WriteData::default(), Some(undecodable)),
    };
    let upstream = if relay.answered {
        Upstream::Answered {
            status: answer.status,
            headers: answer
                .headers
                .iter()
                .filter_map(|h| {
                    let name = HeaderName::from_bytes(h.name.as_bytes()).ok()?;
                    Some((name, HeaderValue::from_bytes(&h.value).ok()?))
                })
                .collect(),
            body: answer.body.clone(),
        }
    } else {
        Upstream::Failed {
            status: answer.status,
            message: String::from_utf8_lossy(answer.body.trim_ascii()).into_owned(),
        }
    };
    let mirrors: Vec<MirrorStatus> = relay
        .mirrors
        .iter()
        // Only a capture changed by hand holds another word.
        .map(|m| m.parse().unwrap_or(MirrorStatus::NoAnswer))
        .collect();
    let forwarded = Forwarded {
        upstream,
        backend_latency: relay.backend_latency,
        total_latency: relay.latency,
        undecodable,
        mirrors: MirrorStatuses::from(&mirrors[..]),
        sender_gave_up: relay.sender_gave_up,
    };
    Some(Batch {
        info,
        outcome: Outcome::Forwarded(Box::new(forwarded)),
        data,
    })
}

/// Counts a request the capture says went on to a backend in forward mode's
/// counters (the summary's `forwarded to` line, the dashboard's backend line
/// and column), started at the first such request, with its backend.
pub fn count_forwarded(stats: &ReceiverStats, exchange: &Exchange, batch: &Batch) {
    let relay = exchange.answer.as_ref().and_then(|a| a.relay.as_ref());
    let (Some(relay), Outcome::Forwarded(forwarded)) = (relay, &batch.outcome) else {
        return;
    };
    let backend = || Arc::new(ForwardStats::new(&relay.backend, false, Vec::new()));
    let counters = stats.forward.get_or_init(backend);
    counters.also_to(&relay.backend);
    counters.record(forwarded);
}

/// The request as it arrived, for the dashboard to open.
pub fn raw_request(exchange: Exchange) -> RawRequest {
    RawRequest {
        method: exchange.method,
        target: exchange.target,
        headers: exchange.headers,
        body: exchange.body,
        body_complete: exchange.body_complete,
    }
}

/// The reason a refusal's status stands for, when its answer names no reason
/// this version knows.
fn reason_of_status(status: u16) -> RejectReason {
    match status {
        401 | 403 => RejectReason::Unauthorized,
        405 => RejectReason::MethodNotAllowed,
        408 => RejectReason::BodyTimeout,
        413 => RejectReason::TooLarge,
        415 => RejectReason::UnsupportedContentType,
        429 | 503 => RejectReason::Overloaded,
        _ => RejectReason::Invalid,
    }
}

/// Headers not re-sent: the connection's own (the client sets them for the
/// new connection) and credentials promscope redacted when recording.
fn is_resent(name: &HeaderName, value: &HeaderValue) -> bool {
    let own = [
        header::HOST,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::CONNECTION,
        header::EXPECT,
    ];
    !own.contains(name) && !value.as_bytes().starts_with(b"<redacted by ")
}

/// `exchange` as a request to `to`, with its method, headers and body.
pub fn resend_request(exchange: &Exchange, to: &Uri) -> Request<Full<Bytes>> {
    let (method, _, headers) = request_head(&exchange.method, &exchange.target, &exchange.headers);
    let mut request = Request::new(Full::new(exchange.body.clone()));
    *request.method_mut() = method;
    *request.uri_mut() = to.clone();
    *request.headers_mut() = headers
        .iter()
        .filter(|(name, value)| is_resent(name, value))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    request
}
