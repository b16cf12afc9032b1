//! promscope: a live inspector for Prometheus remote-write traffic.
//!
//! ```text
//! HTTP body
//!  ─▶ ingest::server   limits, content negotiation, status codes
//!  ─▶ ingest::decode   snappy, RW 1.0 / 2.0 protobuf ─▶ one normalized ingest::model::Batch
//!  ─▶ bounded channel  the receiver waits (then answers 503) rather than drop
//!  ─▶ summary          run totals and distinct series, for the end-of-run summary
//!  ─┬▶ output          headless (--no-tui): text or JSON lines, or a status line
//!   └▶ tui             the dashboard's terminal loop: keys first, then batches, then a frame
//!       ─▶ store       series index, metric aggregates, metadata, logs, filter verdicts
//!       ─▶ app         view state: tabs, sorted lists, cursors, pause, the filter line
//!       ─▶ ui          draws app + store, changing nothing
//! ```
//!
//! `inspect` wires these together and ends a run on a termination signal
//! (`signal`); `cli` holds the flags; `priority` holds what only looks at
//! traffic in forward mode to a share of the CPU. Used along the way: `filter` (the filter
//! box's language), `text` (escaping, PromQL notation, byte scans), `format`
//! (numbers and times), `calendar` (dates), `proto` (the RW schemas), `hashing` (the
//! per-process keys of every hash a sender's text feeds). `capture` reads and writes
//! capture files (WARC records of requests as received); `replay` replays them. `send` is the load generator
//! (`promscope send`, and the traffic of `--demo`, a small fleet described in `demo`).
//! `problems` holds the rule catalogue (what a spec or a backend rejects) and
//! its checks, which `output` runs on each request. Modules use what comes
//! before them in the flow and the shared ones, never back: the module graph
//! has no cycle (`tests/module_graph.rs` checks). `fuzzing` holds what the
//! fuzz targets in `fuzz/` run, for `tests/fuzz_corpus.rs` to replay too.

pub mod app;
pub mod calendar;
pub mod capture;
pub mod check;
pub mod cli;
pub mod config;
pub mod demo;
pub mod filter;
pub mod format;
#[doc(hidden)]
pub mod fuzzing;
pub mod hashing;
pub mod ingest;
pub mod inspect;
pub mod output;
pub mod priority;
pub mod problems;
pub mod proto;
pub mod replay;
pub mod send;
pub mod signal;
pub mod store;
pub mod summary;
#[cfg(test)]
mod test_rng;
pub mod text;
pub mod tui;
pub mod ui;
