//! The normalized form of a remote-write request, shared by RW 1.0 and 2.0, that
//! flows from the receiver to every consumer (dashboard, headless output).
//!
//! Strings are not copied out of the decompressed body: a [`StrId`] is a span of
//! that buffer (validated as UTF-8 when decoded), so a request with thousands of
//! series costs a handful of allocations, not one per label.
//!
//! - `request`: one received request ([`Batch`]): its facts, protocol and how it
//!   was answered;
//! - `write_data`: what it carried ([`WriteData`]), in flat vectors over the body;
//! - `labels`: strings as spans of the body, label pairs, and the identity hash of
//!   a label set (equal for RW 1.0 and 2.0);
//! - `series`: a received series, its samples, exemplars and metadata;
//! - `histogram`: native histograms read whichever way their counts were encoded.

pub mod body_buf;
mod histogram;
mod labels;
mod request;
mod sender;
mod series;
mod write_data;

pub use super::forward::{Forwarded, Undecodable, Upstream};
pub use histogram::{
    BucketSpan, CUSTOM_BUCKETS_SCHEMA, Histogram, HistogramExt, histogram_heap_bytes,
};
#[cfg(test)]
pub(crate) use labels::crafted_label_sets;
pub use labels::{
    LabelRef, LabelSetHash, StrId, label_set_hash, label_set_hash_in_order, label_set_hash_with,
    tenant_series_hash,
};
pub use request::{
    Batch, NO_HTTP_STATUS, Outcome, Protocol, RawRequest, RejectReason, Repeats, RequestInfo,
    resent_after, shown_status,
};
pub use sender::{MAX_USER_AGENT_BYTES, Sender};
pub use series::{
    Exemplar, Metadata, MetricType, ReceivedSeries, STALE_NAN_BITS, Sample, is_stale_nan,
};
pub use write_data::{Counts, MAX_WARNINGS, WriteData};
