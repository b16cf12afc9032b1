//! The HTTP receiver: what it is configured with and how it is started. Every
//! request, accepted or rejected, is handed to the consumers as a
//! [`Batch`](super::model::Batch).
//!
//! ```text
//! listener (connections: cap, timeouts, TLS) ─▶ handler (auth, negotiation,
//!   body within limits and budget, decode) ─▶ queue (batches holding their
//!   share of the budget) ─▶ consumers
//! ```

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use hyper::header::{HeaderName, HeaderValue};
use tokio::net::TcpListener;

use super::auth::Auth;
use super::body::Budget;
pub use super::client_cert::ClientCert;
use super::forward::{ForwardStats, Forwarder, Forwarding};
use super::queue::QueueSender;
use super::tls_failure::Folds;
pub use super::tls_failure::TlsVersions;
use crate::capture::RecordingHandle;
use crate::ingest::check::Checker;

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
    /// Largest accepted decoded body, checked against the size its header states.
    pub max_decoded_bytes: usize,
    /// Bytes that requests being received, decoded and waiting for the
    /// consumer may take at once, all connections together; past it requests
    /// get 503 and are retried.
    pub max_bytes_in_flight: usize,
    /// How long a request may wait for a slow consumer before a 503.
    pub queue_timeout: Duration,
    /// From a request's first byte (or a connection's start, TLS handshake
    /// included) to the end of its headers.
    pub header_timeout: Duration,
    /// From the end of a request's headers to the end of its body.
    pub body_timeout: Duration,
    /// How long a keep-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// Connections open at once; past it the one idle the longest is closed,
    /// or, with none idle, new connections wait.
    pub max_connections: usize,
    /// The problem rules every decoded request goes through before it is
    /// answered (shared by all connections, with what they remember).
    pub problems: Arc<Checker>,
    /// `--tenant-header`: the header a request's tenant is read from before
    /// the usual ones (see [`super::content::tenant_of`]).
    pub tenant_header: Option<HeaderName>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_compressed_bytes: 32 << 20,
            max_decoded_bytes: 32 << 20,
            max_bytes_in_flight: 256 << 20,
            queue_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(90),
            max_connections: 512,
            problems: Arc::default(),
            tenant_header: None,
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
    /// Forward mode's counters, when forwarding: set at the start, or by a
    /// replay at the first request its capture says went to a backend.
    pub forward: std::sync::OnceLock<Arc<ForwardStats>>,
}

impl ReceiverStats {
    /// Counters of a receiver that forwards with `forward`'s counters, if any.
    pub fn forwarding(forward: Option<Arc<ForwardStats>>) -> Self {
        ReceiverStats {
            forward: forward.map(std::sync::OnceLock::from).unwrap_or_default(),
            ..ReceiverStats::default()
        }
    }
}

/// Who may connect and send, and what every response carries.
#[derive(Debug, Clone, Default)]
pub struct Security {
    /// TLS for the listener.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The TLS versions it speaks, to say why a handshake found none in common.
    pub tls_versions: TlsVersions,
    /// Credentials required of senders.
    pub auth: Option<Auth>,
    /// Headers added to every response.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// What a sender must be set up with, to tell the user.
    pub access: Access,
}

/// What a sender must be set up with to be let in: the user is shown the
/// matching sender configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Access {
    /// The listener speaks TLS.
    pub tls: bool,
    /// What the TLS handshake asks of the client's certificate.
    pub client_cert: ClientCert,
    /// Basic-auth users are configured.
    pub basic_auth: bool,
    /// A bearer token is configured.
    pub bearer_token: bool,
}

impl Access {
    /// The URL scheme senders use.
    pub fn scheme(self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }

    /// The remote-write URL of a receiver on `addr`.
    pub fn url(self, addr: std::net::SocketAddr) -> String {
        format!("{}://{addr}/api/v1/write", self.scheme())
    }
}

impl Security {
    /// Reads a web configuration file (TLS, basic-auth users, headers) and a
    /// bearer-token file, either optional.
    pub fn load(
        web_config_file: Option<&std::path::Path>,
        token_file: Option<&std::path::Path>,
    ) -> Result<Security, String> {
        let web = match web_config_file {
            Some(path) => super::web_config::load(path).map_err(|e| e.to_string())?,
            None => super::web_config::WebConfig::default(),
        };
        let token = match token_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    format!("cannot read --auth-token-file {}: {e}", path.display())
                })?;
                let token = text.trim().to_owned();
                if token.is_empty() {
                    return Err(format!("--auth-token-file {} is empty", path.display()));
                }
                Some(token)
            }
            None => None,
        };
        let access = Access {
            tls: web.tls.is_some(),
            client_cert: web.client_cert,
            basic_auth: !web.users.is_empty(),
            bearer_token: token.is_some(),
        };
        let auth = (access.basic_auth || access.bearer_token)
            .then(|| Auth::new(web.users, token.as_deref()));
        Ok(Security {
            tls: web.tls,
            tls_versions: web.tls_versions,
            auth,
            headers: web.headers,
            access,
        })
    }
}

/// A receiver: where batches go, its limits and its security.
pub struct Receiver {
    pub(super) tx: QueueSender,
    pub(super) limits: Limits,
    pub(super) stats: Arc<ReceiverStats>,
    pub(super) budget: Budget,
    pub(super) security: Security,
    /// Where `--record` takes each request and its answer.
    pub(super) recording: Option<RecordingHandle>,
    /// Whether each request's head and body go with its batch
    /// ([`crate::ingest::model::RequestInfo::raw`]), for the dashboard to open.
    pub(super) keeps_requests: bool,
    /// Forward mode: where requests are sent on, and their inspection.
    pub(super) forward: Option<Arc<Forwarding>>,
    /// Failed TLS handshakes being folded, handed on at the stop.
    pub(super) tls_folds: Arc<Folds>,
}

impl Receiver {
    /// A receiver handing batches to `tx`, over plain HTTP without authentication.
    pub fn new(tx: QueueSender, limits: Limits, stats: Arc<ReceiverStats>) -> Self {
        let budget = Budget::new(limits.max_bytes_in_flight);
        Receiver {
            tx,
            limits,
            stats,
            budget,
            security: Security::default(),
            recording: None,
            keeps_requests: false,
            forward: None,
            tls_folds: Arc::default(),
        }
    }

    /// Handing on each request as it arrived with its batch (the dashboard
    /// keeps the latest to open them).
    pub fn keeping_requests(self) -> Self {
        Receiver {
            keeps_requests: true,
            ..self
        }
    }

    /// Recording each request and its answer (`--record`).
    pub fn with_recording(self, recording: RecordingHandle) -> Self {
        Receiver {
            recording: Some(recording),
            ..self
        }
    }

    /// Forwarding every request to a backend, whose answers the senders get;
    /// fails when the inspection thread cannot start.
    pub fn with_forward(self, forwarder: Forwarder) -> std::io::Result<Self> {
        let forwarding = Forwarding::start(
            forwarder,
            self.tx.clone(),
            self.limits.clone(),
            self.budget.clone(),
        )?;
        Ok(Receiver {
            forward: Some(Arc::new(forwarding)),
            ..self
        })
    }

    /// With TLS, authentication and response headers.
    pub fn with_security(self, security: Security) -> Self {
        Receiver { security, ..self }
    }

    /// Whether the listener speaks TLS.
    pub fn is_tls(&self) -> bool {
        self.security.tls.is_some()
    }

    /// Hands on what the receiver holds back for a while (the entries that
    /// list failed TLS handshakes being folded), and from then on holds
    /// nothing back. For a stop: called before the consumer stops taking
    /// batches, nothing is lost. A batch for each kind of failure being
    /// folded (a few hundred at most), each waiting for the consumer up to
    /// `queue_timeout`.
    pub async fn stop_holding_back(&self) {
        self.tls_folds.stop(self).await;
    }
}

/// Serves remote-write on `listener` until `shutdown` completes, then lets the
/// requests in progress finish.
pub async fn serve(
    listener: TcpListener,
    receiver: impl Into<Arc<Receiver>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    super::listener::accept_connections(listener, receiver.into(), shutdown).await
}

/// Serves as [`serve`] does, on a runtime of its own with `threads` worker
/// threads (named `forward`), started on a thread of its own: forward mode's
/// connections then share no thread with the output and the dashboard's
/// feed, and use as few threads as the forwarding needs.
pub fn serve_apart(
    listener: TcpListener,
    receiver: Arc<Receiver>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    threads: usize,
) -> std::io::Result<()> {
    // The listener is registered with the runtime that made it: moved over.
    let listener = listener.into_std()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name("forward")
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("forward-accept".into())
        .spawn(move || {
            runtime.block_on(async move {
                match TcpListener::from_std(listener) {
                    Ok(listener) => serve(listener, receiver, shutdown).await,
                    Err(error) => Err(error),
                }
            })
        })?;
    Ok(())
}

/// Completes at `deadline`, or never when there is none (a branch of a
/// `select!` that an optional deadline ends).
pub async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
