//! Text shared by every output (dashboard, headless text and JSON, the summary).

pub mod escape;
