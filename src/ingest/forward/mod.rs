//! Forward mode (`--forward URL`): promscope sits between a sender and its
//! backend. Every request is sent on byte for byte, the sender gets the
//! backend's answer, and both sides go to the consumers.
//!
//! ```text
//! sender ─▶ handler ─▶ relay: promscope's checks ─┬─▶ client ─▶ backend
//!    ▲                                            └─▶ decode ─▶ channel (never waited for)
//!    └──────────── the backend's answer ◀──────────────┘
//! ```

mod client;
pub mod outcome;
mod relay;
pub mod stats;
mod target;
mod tls;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;

pub use client::MAX_ANSWER_BYTES;
pub use outcome::{Forwarded, Undecodable, Upstream};
pub(super) use relay::{Arrival, relay};
pub use stats::{ForwardSnapshot, ForwardStats, RejectionGroup};
pub use target::{ForwardHeaders, Target};

/// What forward mode is set up with (the `--forward*` flags).
#[derive(Debug, Clone)]
pub struct ForwardConfig {
    /// The backend's URL.
    pub url: String,
    /// Request headers passed besides the usual ones (`--forward-header-pass`).
    pub pass_headers: Vec<String>,
    /// Request headers set, `Name: value` (`--forward-header`).
    pub set_headers: Vec<String>,
    /// How long the backend has to answer (`--forward-timeout`).
    pub timeout: Duration,
}

/// Sends requests on to one backend, over a pool of connections.
pub struct Forwarder {
    target: Target,
    headers: ForwardHeaders,
    client: client::BackendClient,
    timeout: Duration,
    /// What forwarding has done, for the consumers.
    pub stats: Arc<ForwardStats>,
}

impl Forwarder {
    /// A forwarder as configured; the error says which setting is wrong.
    /// `listener_checks_credentials`: the sender's `Authorization` is
    /// promscope's own, and is not passed on.
    pub fn new(config: &ForwardConfig, listener_checks_credentials: bool) -> Result<Self, String> {
        let target = Target::parse(&config.url, "--forward")?;
        let mut headers = ForwardHeaders::parse(&config.pass_headers, &config.set_headers)?;
        headers.keep_sender_authorization = !listener_checks_credentials;
        let tls = tls::client_config(target.is_https())?;
        let stats = Arc::new(ForwardStats::new(target.shown(), false));
        Ok(Forwarder {
            headers,
            client: client::client(tls),
            timeout: config.timeout,
            stats,
            target,
        })
    }

    /// The backend's URL as given.
    pub fn backend(&self) -> &str {
        self.target.shown()
    }

    /// Sends one request and reads the answer (a future that owns what it
    /// needs, to run on a task of its own).
    fn exchange(
        &self,
        request: Request<Full<Bytes>>,
    ) -> impl Future<Output = (Upstream, Duration)> + Send + 'static {
        let (client, timeout) = (self.client.clone(), self.timeout);
        let shown = self.target.shown().to_owned();
        async move { client::exchange(&client, request, timeout, &shown).await }
    }
}
