//! What `promscope send` is asked to do, as flags, and what can go wrong.

use std::time::Duration;

use hyper::Uri;

use super::workload::{WorkloadConfig, WorkloadError};

/// Where `promscope` (the inspector) listens by default.
pub const DEFAULT_URL: &str = "http://127.0.0.1:9201/api/v1/write";
/// Default requests in flight.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Where to send, what, how fast and for how long.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct SendConfig {
    /// Remote-write endpoint (http:// only).
    #[arg(long, default_value = DEFAULT_URL)]
    pub url: String,

    #[command(flatten)]
    pub workload: WorkloadConfig,

    /// Requests in flight at once.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_name = "N")]
    pub concurrency: usize,

    /// Samples per second to aim for (default: as fast as the receiver answers).
    #[arg(long, value_name = "SAMPLES_PER_SEC")]
    pub rate: Option<f64>,

    /// Stop after this long: `500ms`, `10s`, `1m`, `2h` (default: until Ctrl-C or --requests).
    #[arg(long, value_parser = crate::format::parse_duration)]
    pub duration: Option<Duration>,

    /// Stop after N requests.
    #[arg(long, value_name = "N")]
    pub requests: Option<u64>,

    /// Reuse K bodies (16 when K is omitted) built up front, with stale timestamps,
    /// instead of building each request fresh: for flat-out benchmarks.
    #[arg(long, value_name = "K", num_args = 0..=1, default_missing_value = "16")]
    pub precompute: Option<usize>,
}

impl SendConfig {
    /// Defaults of the command line, sending to `url`.
    pub fn new(url: impl Into<String>) -> Self {
        SendConfig {
            url: url.into(),
            workload: WorkloadConfig::default(),
            concurrency: DEFAULT_CONCURRENCY,
            rate: None,
            duration: None,
            requests: None,
            precompute: None,
        }
    }
}

/// Why sending could not start or finish, or bodies could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The URL cannot be used.
    #[error("--url {url:?} is not usable: {reason}")]
    InvalidUrl {
        /// As given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Nothing accepts connections at the URL.
    #[error(
        "the receiver at {url} is not reachable ({reason}); start one with `promscope --listen {listen}` or point --url at one"
    )]
    Unreachable {
        /// As given.
        url: String,
        /// An address for `promscope --listen` that the URL would reach.
        listen: String,
        /// The connection error.
        reason: String,
    },
    /// A setting outside its range.
    #[error("{0}")]
    InvalidConfig(String),
    /// The workload cannot be generated.
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    /// `--write-bodies` failed.
    #[error("cannot write {path}: {reason}")]
    WriteBodies {
        /// File or directory.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// A sending task panicked (a bug); the others finished their requests.
    #[error("a sending task panicked: {0}")]
    TaskPanicked(String),
}

/// The URL to send to, once the configuration is known to be usable.
pub fn validate(config: &SendConfig) -> Result<Uri, SendError> {
    let invalid = |reason: &str| SendError::InvalidUrl {
        url: config.url.clone(),
        reason: reason.to_owned(),
    };
    let uri: Uri = config
        .url
        .parse()
        .map_err(|e: hyper::http::uri::InvalidUri| invalid(&e.to_string()))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(_) => return Err(invalid("only http:// is supported")),
        None => return Err(invalid("it needs http:// and a host")),
    }
    if uri.host().is_none() {
        return Err(invalid("it has no host"));
    }
    if config.concurrency == 0 {
        return Err(SendError::InvalidConfig(
            "--concurrency must be at least 1".into(),
        ));
    }
    if let Some(rate) = config.rate
        && !(rate.is_finite() && rate > 0.0)
    {
        return Err(SendError::InvalidConfig(format!(
            "--rate must be a positive number of samples per second, not {rate}"
        )));
    }
    Ok(uri)
}
