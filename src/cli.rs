//! Command-line interface.

use std::net::SocketAddr;

use clap::{Parser, Subcommand};

use crate::output::Format;

/// A live inspector for Prometheus remote-write traffic.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
pub struct Cli {
    /// What to do instead of inspecting (the default).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address to receive remote-write on (POST, any path).
    #[arg(long, default_value = "127.0.0.1:9201", value_name = "ADDR")]
    pub listen: SocketAddr,

    /// Print received data instead of opening the dashboard.
    #[arg(long)]
    pub no_tui: bool,

    /// Feed the inspector with built-in sample traffic (what `promscope send` sends), to try it without Prometheus.
    #[arg(long)]
    pub demo: bool,

    /// What --no-tui prints: text lines, JSON lines, or only a periodic status line.
    #[arg(long, value_enum, default_value_t = Format::Text, requires = "no_tui")]
    pub format: Format,

    /// Largest decoded (uncompressed) body accepted; larger requests get 413.
    #[arg(long, default_value_t = 32 << 20, value_name = "BYTES")]
    pub max_body_bytes: usize,

    /// Largest compressed body accepted; larger requests get 413.
    #[arg(long, default_value_t = 32 << 20, value_name = "BYTES")]
    pub max_compressed_bytes: usize,

    /// Series the dashboard keeps; beyond this the least recently seen are evicted (and counted).
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub max_series: usize,

    /// Recent samples the dashboard keeps per series.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub samples_per_series: usize,

    /// Entries kept in the dashboard's recent-samples log.
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub log_len: usize,

    /// Bytes a pause holds for later (request bodies, samples, histograms, labels); beyond this the oldest are applied while paused, and the header says so.
    #[arg(long, default_value_t = crate::app::PAUSE_BUFFER_BYTES, value_name = "BYTES")]
    pub pause_buffer_bytes: usize,
}

impl Cli {
    /// The dashboard's retention limits.
    pub fn store_limits(&self) -> crate::store::StoreLimits {
        crate::store::StoreLimits {
            max_series: self.max_series,
            samples_per_series: self.samples_per_series,
            log_len: self.log_len,
            ..crate::store::StoreLimits::default()
        }
    }

    /// What the dashboard keeps: its store, and what a pause holds.
    pub fn dashboard_limits(&self) -> crate::tui::DashboardLimits {
        crate::tui::DashboardLimits {
            store: self.store_limits(),
            pause_buffer_bytes: self.pause_buffer_bytes,
        }
    }
}

/// Subcommands; without one, promscope runs the inspector.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send avalanche-style remote-write load to a receiver (demos, tests, benchmarks).
    Send(crate::send::SendArgs),
}
