//! Forward mode (`--forward URL`): promscope sits between a sender and its
//! backend. Every request is sent on byte for byte (and to each `--mirror`),
//! the sender gets the backend's answer, and both sides go to the consumers
//! through the inspection thread, which nothing on the way to the backend
//! waits for (`inspector`).
//!
//! ```text
//! sender ─▶ handler ─▶ relay: promscope's checks ─▶ client ─▶ backend
//!    ▲                                                │
//!    └──────────── the backend's answer ◀─────────────┤
//!                  inspector queue (full: counted) ◀──┘ ─▶ decode ─▶ channel ─▶ consumers
//! ```

mod bound;
mod client;
mod inspector;
pub mod mirror;
pub mod outcome;
mod relay;
pub mod stats;
mod target;
mod tls;
mod waiting;

use std::sync::Arc;
use std::time::Duration;

use hyper::Request;
use hyper::http::request::Parts;

pub use bound::Bound;
pub use client::MAX_ANSWER_BYTES;
pub use mirror::{MIRROR_QUEUE_BYTES, MirrorStatus, MirrorStatuses};
pub use outcome::{Forwarded, Undecodable, Upstream};
pub(super) use relay::{Arrival, relay};
pub use stats::{ForwardSnapshot, ForwardStats, MirrorSnapshot, RejectionGroup};
pub use target::{ForwardHeaders, Target};
pub use tls::{AuthOptions, TlsOptions};

/// What forward mode is set up with (the `--forward*` and `--mirror` flags).
#[derive(Debug, Clone)]
pub struct ForwardConfig {
    /// The backend's URL.
    pub url: String,
    /// Other backends every request also goes to (`--mirror`).
    pub mirrors: Vec<String>,
    /// Bytes of bodies each mirror may hold waiting or in flight (`--mirror-queue-bytes`).
    pub mirror_queue_bytes: usize,
    /// Request headers passed besides the usual ones (`--forward-header-pass`).
    pub pass_headers: Vec<String>,
    /// Request headers set, `Name: value` (`--forward-header`).
    pub set_headers: Vec<String>,
    /// How long the backend has to answer (`--forward-timeout`).
    pub timeout: Duration,
    /// Threads serving the senders' connections (`--forward-threads`).
    pub threads: usize,
    /// TLS to https backends.
    pub tls: TlsOptions,
    /// Credentials for backends when the sender carries none.
    pub auth: AuthOptions,
}

impl ForwardConfig {
    /// Forwarding to `url` with the defaults.
    pub fn to(url: impl Into<String>) -> Self {
        ForwardConfig {
            url: url.into(),
            mirrors: Vec::new(),
            mirror_queue_bytes: MIRROR_QUEUE_BYTES,
            pass_headers: Vec::new(),
            set_headers: Vec::new(),
            timeout: Duration::from_secs(30),
            threads: default_threads(),
            tls: TlsOptions::default(),
            auth: AuthOptions::default(),
        }
    }
}

/// Threads serving the senders' connections in forward mode, unless
/// `--forward-threads` says: a quarter of the cores, at least one. A request
/// costs forwarding about 0.1 ms of CPU, most of it in the kernel, so one
/// thread forwards some 10,000 requests a second; every further thread adds
/// wake-ups between threads, and on a host whose cores the sender and the
/// backend share flat out, one thread instead of two took a quarter less CPU a
/// request (BENCHMARKS.md, "Forward mode: threads of its own").
pub fn default_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    cores.div_ceil(4)
}

/// Sends requests on to one backend, over a connection for each sender's
/// connection, and to the mirrors, over a pool of connections.
pub struct Forwarder {
    target: Target,
    headers: ForwardHeaders,
    connector: client::Connector,
    /// Backend connections no sender's connection holds.
    idle: Arc<bound::Idle>,
    /// The mirrors' pool.
    client: client::BackendClient,
    timeout: Duration,
    mirrors: mirror::Mirrors,
    /// What forwarding has done, for the consumers.
    pub stats: Arc<ForwardStats>,
}

impl Forwarder {
    /// A forwarder as configured; the error says which setting is wrong.
    /// `listener_checks_credentials`: the sender's `Authorization` is
    /// promscope's own, and is not passed on.
    pub fn new(config: &ForwardConfig, listener_checks_credentials: bool) -> Result<Self, String> {
        let target = Target::parse(&config.url, "--forward")?;
        let mirrors = config
            .mirrors
            .iter()
            .map(|url| Target::parse(url, "--mirror"))
            .collect::<Result<Vec<_>, _>>()?;
        let mut headers = ForwardHeaders::parse(&config.pass_headers, &config.set_headers)?;
        headers.keep_sender_authorization = !listener_checks_credentials;
        headers.authorization = tls::authorization(&config.auth)?;
        let https = target.is_https() || mirrors.iter().any(Target::is_https);
        let tls = tls::client_config(&config.tls, https)?;
        let mirrors = mirror::Mirrors::new(mirrors, config.mirror_queue_bytes);
        let stats = Arc::new(ForwardStats::new(
            target.shown(),
            config.tls.insecure_skip_verify,
            mirrors.counts(),
        ));
        let connector = client::connector(tls);
        Ok(Forwarder {
            headers,
            client: client::client(connector.clone()),
            connector,
            idle: Arc::default(),
            timeout: config.timeout,
            mirrors,
            stats,
            target,
        })
    }

    /// The backend's URL as given.
    pub fn backend(&self) -> &str {
        self.target.shown()
    }

    /// The backend connection for a new sender's connection.
    pub fn bind(&self) -> Bound {
        self.idle.bind()
    }

    /// Sends one request on `bound`'s connection and reads the answer.
    async fn exchange(
        &self,
        bound: &Bound,
        request: Request<client::Outgoing>,
    ) -> (Upstream, Duration) {
        let exchange = bound.exchange(&self.connector, &self.target, request);
        client::within(self.timeout, self.target.shown(), exchange).await
    }

    /// Sends a request to the mirrors, waiting for none.
    fn mirror(&self, parts: &Parts, body: &crate::ingest::body::Pieces) -> MirrorStatuses {
        self.mirrors
            .send(&self.client, &self.headers, self.timeout, parts, body)
    }
}

/// A forwarder and the inspection of what it forwards.
pub struct Forwarding {
    forwarder: Forwarder,
    inspector: inspector::Inspector,
}

impl Forwarding {
    /// The backend connection for a new sender's connection.
    pub fn bind(&self) -> Bound {
        self.forwarder.bind()
    }

    /// Starts inspecting what `forwarder` forwards, handing batches to `tx`
    /// (decoded within `limits`, each holding its share of `budget` until
    /// taken); fails when its thread cannot start.
    pub fn start(
        forwarder: Forwarder,
        tx: crate::ingest::queue::QueueSender,
        limits: crate::ingest::server::Limits,
        budget: crate::ingest::body::Budget,
    ) -> std::io::Result<Self> {
        let stats = forwarder.stats.clone();
        let inspector = inspector::Inspector::start(tx, limits, budget, stats)?;
        Ok(Forwarding {
            forwarder,
            inspector,
        })
    }
}
