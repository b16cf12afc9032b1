//! promscope: a live inspector for Prometheus remote-write traffic.
//!
//! ```text
//! HTTP body ─▶ ingest::server ─▶ ingest::decode ─▶ channel ─▶ output (headless)
//! ```

pub mod app;
pub mod cli;
pub mod filter;
pub mod format;
pub mod ingest;
pub mod inspect;
pub mod output;
pub mod proto;
pub mod send;
pub mod signal;
pub mod store;
pub mod summary;
#[cfg(test)]
mod test_rng;
pub mod text;
pub mod tui;
pub mod ui;
