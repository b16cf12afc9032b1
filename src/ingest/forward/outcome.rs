//! What became of a forwarded request, as plain data: the backend's answer
//! (passed to the sender unchanged) or why there was none, and whether
//! promscope could read the request itself. The handler hands it on inside the
//! batch, so every consumer (dashboard, headless output, capture) sees both
//! sides of the request.

use std::borrow::Cow;
use std::time::Duration;

use bytes::Bytes;
use hyper::HeaderMap;

use super::mirror::{MirrorStatus, MirrorStatuses};
use crate::capture;
use crate::ingest::model::RejectReason;

/// A request sent on to the backend, and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Forwarded {
    /// The backend's answer, or why there was none.
    pub upstream: Upstream,
    /// From sending the request to the end of the backend's answer (or the failure).
    pub backend_latency: Duration,
    /// From the end of the request's headers to the answer to the sender:
    /// the body's arrival, promscope's work and the backend's time.
    pub total_latency: Duration,
    /// Why promscope could not decode the request, when it could not; the
    /// backend got it all the same.
    pub undecodable: Option<Undecodable>,
    /// Each `--mirror`'s status, filled in as they answer.
    pub mirrors: MirrorStatuses,
    /// When the sender closed its connection before its answer was ready
    /// (Prometheus past its `remote_timeout`): how long after the end of its
    /// headers. It got no answer; the exchange went on all the same.
    pub sender_gave_up: Option<Duration>,
}

/// Why promscope could not read a request that it forwarded all the same.
#[derive(Debug, Clone, PartialEq)]
pub struct Undecodable {
    /// Category, as for a request promscope rejects.
    pub reason: RejectReason,
    /// What was wrong.
    pub message: String,
}

/// The backend's side of a forwarded request.
#[derive(Debug, Clone, PartialEq)]
pub enum Upstream {
    /// The backend answered; the sender got this answer unchanged.
    Answered {
        /// Its status.
        status: u16,
        /// The headers passed on to the sender (`Content-Type`, `Retry-After`,
        /// the RW 2.0 `Written` counts), as the backend sent them.
        headers: HeaderMap,
        /// Its body, whole.
        body: Bytes,
    },
    /// No answer (unreachable, failed or too slow): the sender got `status`
    /// (502 or 504) with `message`, which names the backend and the cause.
    Failed {
        /// 502 or 504.
        status: u16,
        /// What happened.
        message: String,
    },
}

impl Forwarded {
    /// The status the sender got.
    pub fn status(&self) -> u16 {
        match &self.upstream {
            Upstream::Answered { status, .. } | Upstream::Failed { status, .. } => *status,
        }
    }

    /// Whether the backend took the request (answered 2xx).
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status())
    }

    /// The backend's error body (lossy UTF-8), or promscope's message when the
    /// backend did not answer; `None` for a success.
    pub fn message(&self) -> Option<Cow<'_, str>> {
        match &self.upstream {
            _ if self.is_success() => None,
            Upstream::Answered { body, .. } => Some(String::from_utf8_lossy(body.trim_ascii())),
            Upstream::Failed { message, .. } => Some(Cow::Borrowed(message)),
        }
    }

    /// The category a failed request is counted under.
    pub fn reject_reason(&self) -> Option<RejectReason> {
        match &self.upstream {
            _ if self.is_success() => None,
            Upstream::Answered { .. } => Some(RejectReason::Backend),
            Upstream::Failed { .. } => Some(RejectReason::BackendUnavailable),
        }
    }

    /// What a capture keeps of it: the backend's side of the answer it records.
    pub fn relay(&self, backend: &str) -> capture::Relay {
        capture::Relay {
            backend: backend.to_owned(),
            answered: matches!(self.upstream, Upstream::Answered { .. }),
            backend_latency: self.backend_latency,
            latency: self.total_latency,
            mirrors: self
                .mirrors
                .get()
                .into_iter()
                .map(MirrorStatus::text)
                .collect(),
            sender_gave_up: self.sender_gave_up,
        }
    }

    /// Heap bytes it holds.
    pub fn heap_bytes(&self) -> usize {
        let upstream = match &self.upstream {
            // Headers are a handful of short values.
            Upstream::Answered { body, headers, .. } => body.len() + headers.len() * 64,
            Upstream::Failed { message, .. } => message.capacity(),
        };
        let undecodable = self
            .undecodable
            .as_ref()
            .map_or(0, |u| u.message.capacity());
        upstream + undecodable
    }
}
