//! A series of a received request and what it carries besides labels: float
//! samples, exemplars, metric metadata.

use std::ops::Range;

use super::StrId;

/// A float sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// The value; the stale marker is a NaN with bits [`STALE_NAN_BITS`].
    pub value: f64,
    /// Milliseconds since the epoch.
    pub timestamp_ms: i64,
    /// RW2 `start_timestamp` (created timestamp); 0 when unset.
    pub start_timestamp_ms: i64,
}

impl Sample {
    /// Its own start timestamp (RW2 from Prometheus 3.10), else its series'
    /// created timestamp (up to 3.9); 0 when neither is set.
    pub fn effective_start_ts(&self, series: &ReceivedSeries) -> i64 {
        effective_start_ts(self.start_timestamp_ms, series)
    }
}

pub(super) fn effective_start_ts(own: i64, series: &ReceivedSeries) -> i64 {
    if own != 0 {
        own
    } else {
        series.created_timestamp_ms
    }
}

// The stale marker is the protocol's (a leaf module, which `format` may use too).
pub use crate::proto::{STALE_NAN_BITS, is_stale_nan};

/// An exemplar attached to a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar {
    /// Exemplar labels (e.g. `trace_id`), indices into [`WriteData::labels`](super::WriteData::labels).
    pub labels: Range<u32>,
    /// Exemplar value.
    pub value: f64,
    /// Milliseconds since the epoch; 0 when the sender gave none (RW1 allows that).
    pub timestamp_ms: i64,
}

/// Metric type, as in metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MetricType {
    /// Unknown or unspecified.
    #[default]
    Unknown,
    Counter,
    Gauge,
    /// Histogram (classic or native).
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
}

impl MetricType {
    /// From the protobuf enum number (same numbering in RW1 and RW2).
    pub fn from_proto(n: i32) -> Self {
        match n {
            1 => MetricType::Counter,
            2 => MetricType::Gauge,
            3 => MetricType::Histogram,
            4 => MetricType::GaugeHistogram,
            5 => MetricType::Summary,
            6 => MetricType::Info,
            7 => MetricType::StateSet,
            _ => MetricType::Unknown,
        }
    }

    /// Lower-case name as in the exposition format.
    pub fn name(self) -> &'static str {
        match self {
            MetricType::Unknown => "unknown",
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
        }
    }
}

/// Metadata of a metric family: RW1 sends it per family, RW2 per series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metadata {
    /// Metric family name (RW1), or the series' `__name__` (RW2).
    pub family: StrId,
    pub metric_type: MetricType,
    /// HELP text.
    pub help: StrId,
    pub unit: StrId,
}

/// A series of a received request: the ranges of its data in [`WriteData`](super::WriteData)'s
/// flat vectors (what the dashboard keeps of a series is `store::Series`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedSeries {
    /// Indices into [`WriteData::labels`](super::WriteData::labels).
    pub labels: Range<u32>,
    /// Indices into [`WriteData::samples`](super::WriteData::samples).
    pub samples: Range<u32>,
    /// Indices into [`WriteData::histograms`](super::WriteData::histograms).
    pub histograms: Range<u32>,
    /// Indices into [`WriteData::exemplars`](super::WriteData::exemplars).
    pub exemplars: Range<u32>,
    /// RW2 per-series metadata.
    pub metadata: Option<Metadata>,
    /// RW2 `TimeSeries.created_timestamp` (senders up to Prometheus 3.9); 0 when unset.
    pub created_timestamp_ms: i64,
    /// Identity of the series: equal label sets have equal hashes, whatever
    /// their order or encoding (see [`label_set_hash`](super::label_set_hash));
    /// for a request with a tenant, mixed with it once decoded
    /// ([`tenant_series_hash`](super::tenant_series_hash)).
    pub label_hash: u64,
    /// Whether the decoder found the label names strictly ascending (the
    /// canonical order, no repeats); false when not known (series built in
    /// memory). With the hash, it tells the label rules that a label set
    /// they found nothing wrong with before comes again as it was.
    pub labels_sorted: bool,
}
