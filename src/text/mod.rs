//! Text shared by every output (dashboard, headless text and JSON, the summary):
//! escaping what a sender controls, series in PromQL notation, and the block-wise
//! byte tests both use. Human-readable numbers and times are in [`crate::format`].

pub mod escape;
pub mod promql;
pub mod scan;
