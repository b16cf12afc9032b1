//! Command-line interface.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::ingest::check::settings::ProblemFlags;
use crate::ingest::check::{Action, Checker, Settings};
use crate::ingest::forward::{AuthOptions, ForwardConfig, TlsOptions};
use crate::ingest::server::Limits;
use crate::output::Format;

/// A live inspector for Prometheus remote-write traffic.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None, args_override_self = true)]
pub struct Cli {
    /// What to do instead of inspecting (the default).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Read options from a YAML file: its keys are the long options without
    /// -- (`listen: 0.0.0.0:9201`, `max-series: 100000`), and `rules:` and
    /// `limits:` map rule ids to --rule and --limit values. Flags given as well
    /// override the file. Also after `check`.
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// Address to receive remote-write on (POST, any path).
    #[arg(long, default_value = "127.0.0.1:9201", value_name = "ADDR")]
    pub listen: SocketAddr,

    /// Print received data instead of opening the dashboard.
    #[arg(long)]
    pub no_tui: bool,

    /// Feed the inspector with a simulated small fleet (an API, hosts, a database, workers) over RW 2.0, to try it without Prometheus.
    #[arg(long)]
    pub demo: bool,

    /// What --no-tui prints: text lines, JSON lines, or only a periodic status line.
    #[arg(long, value_enum, default_value_t = Format::Text, requires = "no_tui")]
    pub format: Format,

    /// Largest decoded (uncompressed) body accepted; larger requests get 413.
    #[arg(long, default_value_t = 32 << 20, value_name = "BYTES", global = true)]
    pub max_body_bytes: usize,

    /// Largest compressed body accepted; larger requests get 413.
    #[arg(long, default_value_t = 32 << 20, value_name = "BYTES", global = true)]
    pub max_compressed_bytes: usize,

    /// Bytes that bodies being received and decoded, and requests waiting for
    /// the dashboard or output, may take at once, all connections together;
    /// past it requests get 503 with Retry-After.
    #[arg(long, default_value_t = 256 << 20, value_name = "BYTES", global = true)]
    pub max_bytes_in_flight: usize,

    /// Connections open at once; past it the one idle the longest is closed.
    #[arg(long, default_value_t = 512, value_name = "N", global = true)]
    pub max_connections: usize,

    /// Time from a request's first byte (a new connection's start, TLS
    /// handshake included) to the end of its headers.
    #[arg(long, default_value = "10s", value_parser = crate::format::parse_duration, value_name = "DURATION", global = true)]
    pub header_timeout: Duration,

    /// Time from the end of a request's headers to the end of its body; a
    /// body late past it gets 408.
    #[arg(long, default_value = "30s", value_parser = crate::format::parse_duration, value_name = "DURATION", global = true)]
    pub body_timeout: Duration,

    /// How long a keep-alive connection may wait for its next request.
    #[arg(long, default_value = "90s", value_parser = crate::format::parse_duration, value_name = "DURATION", global = true)]
    pub idle_timeout: Duration,

    /// Prometheus web configuration file: TLS (`tls_server_config`) and basic
    /// auth (`basic_auth_users`) for the listener.
    #[arg(long = "web.config.file", value_name = "PATH", global = true)]
    pub web_config_file: Option<PathBuf>,

    /// File holding a bearer token that senders must present
    /// (`authorization: credentials` in Prometheus's remote_write).
    #[arg(long, value_name = "PATH", global = true)]
    pub auth_token_file: Option<PathBuf>,

    /// Read each request's tenant from this header, before X-Scope-OrgID,
    /// THANOS-TENANT and VictoriaMetrics' /insert/<id>/ path; with --forward
    /// it is passed to the backend too.
    #[arg(long, value_name = "NAME", value_parser = parse_header_name)]
    pub tenant_header: Option<hyper::header::HeaderName>,

    /// Series the dashboard keeps; beyond this the least recently seen are evicted (and counted).
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub max_series: usize,

    /// Bytes the dashboard may hold (labels, samples, histograms, exemplars, metrics, metadata, problems, and the latest requests as received, within a sixteenth of it); beyond this the least recently seen series are evicted (and counted).
    #[arg(long, default_value_t = crate::store::MAX_STORE_BYTES, value_name = "BYTES")]
    pub max_store_bytes: usize,

    /// Recent samples the dashboard keeps per series.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub samples_per_series: usize,

    /// Entries kept in the dashboard's recent-samples log.
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub log_len: usize,

    /// Forward mode: send every request on, byte for byte, to this backend
    /// (http:// or https://), and answer the sender with the backend's answer.
    /// A URL without a path keeps each request's own path.
    #[arg(long, value_name = "URL", help_heading = "Forward mode")]
    pub forward: Option<String>,

    /// Also pass this request header to the backend (repeatable), besides
    /// Content-Type, Content-Encoding, the remote-write version headers,
    /// User-Agent, Authorization, X-Scope-OrgID, THANOS-TENANT and Retry-Attempt.
    #[arg(
        long,
        value_name = "NAME",
        requires = "forward",
        help_heading = "Forward mode"
    )]
    pub forward_header_pass: Vec<String>,

    /// Set this request header on every forwarded request, whatever the sender
    /// sent (repeatable): 'Name: value'.
    #[arg(
        long,
        value_name = "'NAME: VALUE'",
        requires = "forward",
        help_heading = "Forward mode"
    )]
    pub forward_header: Vec<String>,

    /// How long the backend has to answer; past it the sender gets 504.
    #[arg(long, default_value = "30s", value_parser = crate::format::parse_duration, value_name = "DURATION", help_heading = "Forward mode")]
    pub forward_timeout: Duration,

    /// Threads that serve senders' connections and forward their requests
    /// (default: a quarter of the cores, at least one). Forwarding is mostly
    /// waiting on sockets; decoding for the dashboard runs on threads of its own.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024), requires = "forward", help_heading = "Forward mode")]
    pub forward_threads: Option<u16>,

    /// Also send every request to this backend (repeatable); nobody waits for
    /// its answer, which is shown per request.
    #[arg(
        long,
        value_name = "URL",
        requires = "forward",
        help_heading = "Forward mode"
    )]
    pub mirror: Vec<String>,

    /// Bytes of request bodies each --mirror may hold waiting or in flight;
    /// past it requests are not mirrored (counted).
    #[arg(long, default_value_t = crate::ingest::forward::MIRROR_QUEUE_BYTES, value_name = "BYTES", requires = "mirror", help_heading = "Forward mode")]
    pub mirror_queue_bytes: usize,

    /// More CA certificates (PEM) to trust for https backends, besides the system's.
    #[arg(
        long,
        value_name = "PATH",
        requires = "forward",
        help_heading = "Forward mode"
    )]
    pub forward_ca_file: Option<PathBuf>,

    /// Client certificate (PEM) to present to https backends.
    #[arg(long, value_name = "PATH", requires_all = ["forward", "forward_client_key"], help_heading = "Forward mode")]
    pub forward_client_cert: Option<PathBuf>,

    /// Key (PEM) of --forward-client-cert.
    #[arg(
        long,
        value_name = "PATH",
        requires = "forward_client_cert",
        help_heading = "Forward mode"
    )]
    pub forward_client_key: Option<PathBuf>,

    /// Accept any certificate from https backends (said in the dashboard's header).
    #[arg(long, requires = "forward", help_heading = "Forward mode")]
    pub forward_insecure_skip_verify: bool,

    /// File holding a bearer token for backends, sent when a sender carries no credentials.
    #[arg(
        long,
        value_name = "PATH",
        requires = "forward",
        conflicts_with = "forward_basic_auth_user",
        help_heading = "Forward mode"
    )]
    pub forward_bearer_token_file: Option<PathBuf>,

    /// Basic-auth user for backends, sent when a sender carries no credentials.
    #[arg(long, value_name = "NAME", requires_all = ["forward", "forward_basic_auth_password_file"], help_heading = "Forward mode")]
    pub forward_basic_auth_user: Option<String>,

    /// File holding the password of --forward-basic-auth-user.
    #[arg(
        long,
        value_name = "PATH",
        requires = "forward_basic_auth_user",
        help_heading = "Forward mode"
    )]
    pub forward_basic_auth_password_file: Option<PathBuf>,

    /// Bytes a pause holds for later (request bodies, samples, histograms, labels); beyond this the oldest are applied while paused, and the header says so.
    #[arg(long, default_value_t = crate::app::PAUSE_BUFFER_BYTES, value_name = "BYTES")]
    pub pause_buffer_bytes: usize,

    /// Append every request as received (headers and compressed body, arrival time, sender, promscope's answer) to this capture file (WARC); `promscope replay FILE` reads it. Requests are never slowed: when the disk falls behind, records are dropped and counted.
    #[arg(long, value_name = "FILE")]
    pub record: Option<std::path::PathBuf>,

    /// Headless: print a report at exit (to stdout, as JSON with --format json): `cardinality` lists the metrics with the most active series, their labels by distinct values (unbounded ones first) with top values, label names and pairs across metrics, and churn.
    #[arg(long, value_enum, value_name = "REPORT", requires = "no_tui")]
    pub report: Option<Report>,

    /// A series not seen for this long counts as gone (churn in the cardinality view and report).
    #[arg(long, default_value = "5m", value_parser = crate::format::parse_duration, value_name = "DURATION")]
    pub stale_after: Duration,

    /// Stop recording when the capture file would grow past this size: it keeps the first requests, and those after are counted as not recorded.
    #[arg(long, value_name = "BYTES", requires = "record")]
    pub record_max_bytes: Option<u64>,

    /// Switch a problem rule: off (not checked), warn (reported; the default) or reject (reported, and the series refused with 400). Repeatable.
    #[arg(long = "rule", value_name = "ID=ACTION", long_help = crate::ingest::check::settings::rule_flag_help(), help_heading = "Problems")]
    pub rules: Vec<String>,

    /// Set the threshold of a problem rule that has one. Repeatable.
    #[arg(long = "limit", value_name = "RULE=VALUE", long_help = crate::ingest::check::settings::limit_flag_help(), help_heading = "Problems")]
    pub limits: Vec<String>,
}

impl Cli {
    /// The receiver's limits, checked against each other.
    pub fn receiver_limits(&self) -> Result<Limits, String> {
        let one_request = self
            .max_compressed_bytes
            .saturating_add(self.max_body_bytes);
        if self.max_bytes_in_flight < one_request {
            return Err(format!(
                "--max-bytes-in-flight ({}) must hold at least one request of --max-compressed-bytes plus --max-body-bytes ({one_request})",
                self.max_bytes_in_flight
            ));
        }
        if self.max_connections == 0 {
            return Err("--max-connections must be at least 1".into());
        }
        let settings = self.problem_settings()?;
        if self.forward.is_some() && !settings.rules_at(Action::Reject).is_empty() {
            return Err(
                "--rule ID=reject cannot be combined with --forward: the backend answers forwarded requests".into(),
            );
        }
        Ok(Limits {
            problems: Arc::new(Checker::new(settings)),
            max_compressed_bytes: self.max_compressed_bytes,
            max_decoded_bytes: self.max_body_bytes,
            max_bytes_in_flight: self.max_bytes_in_flight,
            header_timeout: self.header_timeout,
            body_timeout: self.body_timeout,
            idle_timeout: self.idle_timeout,
            max_connections: self.max_connections,
            tenant_header: self.tenant_header.clone(),
            ..Limits::default()
        })
    }

    /// [`Cli::receiver_limits`] with a subcommand's own `--rule` and `--limit`
    /// (`check`, `replay`) applied after the top-level ones and a --config file's.
    pub fn limits_with(&mut self, flags: &ProblemFlags) -> Result<Limits, String> {
        self.rules.extend(flags.rules.iter().cloned());
        self.limits.extend(flags.limits.iter().cloned());
        self.receiver_limits()
    }

    /// How `promscope replay` runs with `args` and these options (a --config
    /// file's among them): headless as live mode with `--no-tui`, `--format`
    /// and `--report`; the dashboard within live mode's limits.
    pub fn replay_setup(
        &mut self,
        args: &crate::replay::ReplayArgs,
    ) -> Result<crate::replay::Setup, String> {
        let live = crate::replay::Live {
            limits: self.limits_with(&args.problems)?,
            no_tui: self.no_tui,
            format: self.format,
            // --report needs the top-level --no-tui (clap checks it).
            report: self.cardinality_tracker(),
            dashboard: self.dashboard_limits(),
        };
        crate::replay::setup(live, args)
    }

    /// The problem rules' switches and thresholds: `--rule` and `--limit` in
    /// the order given, over the defaults.
    pub fn problem_settings(&self) -> Result<Settings, String> {
        let mut settings = Settings::default();
        settings.thresholds.series_stale_after_ms =
            self.stale_after.as_millis().min(i64::MAX as u128) as i64;
        for flag in &self.rules {
            settings.apply_rule_flag(flag)?;
        }
        for flag in &self.limits {
            settings.apply_limit_flag(flag)?;
        }
        Ok(settings)
    }

    /// Forward mode's settings, when `--forward` is given.
    pub fn forward_config(&self) -> Option<ForwardConfig> {
        let url = self.forward.clone()?;
        Some(ForwardConfig {
            mirrors: self.mirror.clone(),
            mirror_queue_bytes: self.mirror_queue_bytes,
            pass_headers: self
                .forward_header_pass
                .iter()
                .cloned()
                .chain(self.tenant_header.as_ref().map(|h| h.as_str().to_owned()))
                .collect(),
            set_headers: self.forward_header.clone(),
            timeout: self.forward_timeout,
            threads: self
                .forward_threads
                .map_or_else(crate::ingest::forward::default_threads, usize::from),
            tls: TlsOptions {
                ca_file: self.forward_ca_file.clone(),
                client_cert: self.forward_client_cert.clone(),
                client_key: self.forward_client_key.clone(),
                insecure_skip_verify: self.forward_insecure_skip_verify,
            },
            auth: AuthOptions {
                bearer_token_file: self.forward_bearer_token_file.clone(),
                basic_auth_user: self.forward_basic_auth_user.clone(),
                basic_auth_password_file: self.forward_basic_auth_password_file.clone(),
            },
            ..ForwardConfig::to(url)
        })
    }

    /// The dashboard's retention limits.
    pub fn store_limits(&self) -> crate::store::StoreLimits {
        crate::store::StoreLimits {
            max_series: self.max_series,
            max_bytes: self.max_store_bytes,
            samples_per_series: self.samples_per_series,
            log_len: self.log_len,
            stale_after_ms: self.stale_after.as_millis().min(i64::MAX as u128) as i64,
            ..crate::store::StoreLimits::default()
        }
    }

    /// What the dashboard keeps: its store, and what a pause holds.
    pub fn dashboard_limits(&self) -> crate::tui::DashboardLimits {
        crate::tui::DashboardLimits {
            store: self.store_limits(),
            pause_buffer_bytes: self.pause_buffer_bytes,
            request_limits: crate::app::request::RequestLimits {
                max_compressed_bytes: self.max_compressed_bytes,
                max_decoded_bytes: self.max_body_bytes,
                // Wrong switches stop the run before the dashboard starts.
                rules: self.problem_settings().unwrap_or_default(),
            },
        }
    }
}

impl Cli {
    /// The tracker `--report cardinality` asks for.
    pub fn cardinality_tracker(
        &self,
    ) -> Option<Box<crate::output::cardinality::CardinalityTracker>> {
        let limits = self.store_limits();
        self.report.map(|Report::Cardinality| {
            let tracker = crate::output::cardinality::CardinalityTracker::new(
                limits.max_series,
                limits.stale_after_ms,
            );
            Box::new(tracker)
        })
    }
}

/// A header name as `--tenant-header` takes it.
fn parse_header_name(name: &str) -> Result<hyper::header::HeaderName, String> {
    hyper::header::HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| format!("{name:?} is not a header name"))
}

/// Reports `--report` prints at exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Report {
    /// Metrics, labels and values by series, and churn.
    Cardinality,
}

/// Subcommands; without one, promscope runs the inspector.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send avalanche-style remote-write load to a receiver (demos, tests, benchmarks).
    Send(crate::send::SendArgs),
    /// Replay a capture (promscope --record FILE) or a tcpdump packet capture: print its requests as --no-tui printed them live, or re-send them.
    Replay(crate::replay::ReplayArgs),
    /// Check what senders send against the problem rules: receive for --duration or until --requests N (or read a capture FILE), print the problems by rule, exit 1 if a rule at --fail-on (error) or worse fired.
    Check(crate::check::CheckArgs),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_must_hold_one_request() {
        let cli = Cli::parse_from(["promscope", "--max-bytes-in-flight", "1000"]);
        assert!(
            cli.receiver_limits()
                .unwrap_err()
                .contains("--max-bytes-in-flight")
        );
        let cli = Cli::parse_from(["promscope", "--body-timeout", "5s"]);
        assert_eq!(
            cli.receiver_limits().unwrap().body_timeout,
            Duration::from_secs(5)
        );
    }

    #[test]
    fn the_tenant_header_is_read_and_passed_to_the_backend() {
        let cli = Cli::parse_from([
            "promscope",
            "--forward",
            "http://127.0.0.1:9/",
            "--tenant-header",
            "X-Tenant",
        ]);
        let limits = cli.receiver_limits().unwrap();
        assert_eq!(limits.tenant_header.unwrap().as_str(), "x-tenant");
        let forward = cli.forward_config().unwrap();
        assert!(forward.pass_headers.iter().any(|h| h == "x-tenant"));
        let bad = Cli::try_parse_from(["promscope", "--tenant-header", "no good"]);
        assert!(bad.is_err());
    }

    #[test]
    fn rules_and_limits_are_set_by_flags_with_clear_errors() {
        use crate::problems::Rule;
        let cli = Cli::parse_from([
            "promscope",
            "--rule",
            "out-of-order=reject",
            "--rule",
            "label-value-empty=off",
            "--limit",
            "too-old=2h",
            "--limit",
            "too-many-labels=40",
        ]);
        let limits = cli.receiver_limits().unwrap();
        let settings = limits.problems.settings();
        assert_eq!(settings.action(Rule::OutOfOrder), Action::Reject);
        assert_eq!(settings.action(Rule::LabelValueEmpty), Action::Off);
        assert_eq!(settings.action(Rule::TooOld), Action::Warn);
        assert_eq!(settings.thresholds.too_old_ms, 2 * 3600 * 1000);
        assert_eq!(settings.thresholds.max_labels, 40);
        let error = |args: &[&str]| {
            let mut all = vec!["promscope"];
            all.extend_from_slice(args);
            Cli::parse_from(all).receiver_limits().unwrap_err()
        };
        let e = error(&["--rule", "no-such-rule=off"]);
        assert!(
            e.contains("unknown rule \"no-such-rule\"") && e.contains("out-of-order"),
            "{e}"
        );
        let e = error(&["--rule", "out-of-order=drop"]);
        assert!(e.contains("use off, warn or reject"), "{e}");
        let e = error(&["--rule", "out-of-order"]);
        assert!(e.contains("expected ID=off|warn|reject"), "{e}");
        let e = error(&["--limit", "out-of-order=5"]);
        assert!(e.contains("the limits are: too-many-labels"), "{e}");
        let e = error(&["--limit", "too-many-labels=many"]);
        assert!(e.contains("not a whole number"), "{e}");
        let e = error(&["--limit", "too-old=soon"]);
        assert!(e.contains("too-old"), "{e}");
        let e = error(&["--forward", "http://x", "--rule", "too-old=reject"]);
        assert!(e.contains("--forward"), "{e}");
    }
}
