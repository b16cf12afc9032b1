//! Avalanche-shaped request bodies (pure: no I/O).
//!
//! `metrics` × `series_per_metric` series, each with 13 labels laid out like
//! prometheus-community/avalanche: `__name__="avalanche_metric_mmmmm_0_{m}"`,
//! `cycle_id`, ten `label_key_kkkkk_{k}="label_val_vvvvv_{k}"` and `series_id`.
//! Request `seq` carries one sample for each of the next `samples_per_request`
//! series (wrapping around), so consecutive requests walk through all series.
//! Bodies are built from templates made once: per request only the values and
//! timestamps change, then prost encodes and snappy compresses.

use bytes::Bytes;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use prost::Message;

use crate::ingest::model::Protocol;
use crate::proto::{Symbols, rw1, rw2};

mod points;

use points::{Kind, SeriesTemplate, put_back, take_slice};

/// Default number of metric names.
pub const DEFAULT_METRICS: usize = 10;
/// Default number of series per metric name.
pub const DEFAULT_SERIES_PER_METRIC: usize = 200;
/// Default samples (and series) per request.
pub const DEFAULT_SAMPLES_PER_REQUEST: usize = 2000;
/// Labels of every series, `__name__` included.
pub const LABELS_PER_SERIES: usize = 3 + LABEL_KEYS;
/// HELP text sent in RW2 metadata (avalanche's).
pub const HELP: &str = "A tasty metric morsel";

/// Constant `label_key_kkkkk_{k}` labels per series.
const LABEL_KEYS: usize = 10;

/// What the requests contain.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct WorkloadConfig {
    /// Remote-write protocol to send.
    #[arg(long, default_value = "rw1", value_parser = protocol_parser())]
    pub protocol: Protocol,

    /// Metric names (`avalanche_metric_mmmmm_0_{i}`).
    #[arg(long, default_value_t = DEFAULT_METRICS, value_name = "N")]
    pub metrics: usize,

    /// Series per metric name (`series_id` 0..N).
    #[arg(long, default_value_t = DEFAULT_SERIES_PER_METRIC, value_name = "N")]
    pub series_per_metric: usize,

    /// Samples per request, one per series (capped at the number of series).
    #[arg(long, default_value_t = DEFAULT_SAMPLES_PER_REQUEST, value_name = "N")]
    pub samples_per_request: usize,

    /// Every N requests `cycle_id` increments, replacing all series (avalanche's churn).
    #[arg(long, value_name = "N")]
    pub churn_every: Option<u64>,

    /// The series of the last metric name send native histograms instead of floats.
    #[arg(long)]
    pub histograms: bool,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            protocol: Protocol::V1,
            metrics: DEFAULT_METRICS,
            series_per_metric: DEFAULT_SERIES_PER_METRIC,
            samples_per_request: DEFAULT_SAMPLES_PER_REQUEST,
            churn_every: None,
            histograms: false,
        }
    }
}

impl WorkloadConfig {
    /// Distinct series (per `cycle_id`).
    pub fn series(&self) -> usize {
        self.metrics.saturating_mul(self.series_per_metric)
    }

    /// Series (and samples) in every request.
    pub fn series_per_request(&self) -> usize {
        self.samples_per_request.min(self.series())
    }
}

fn protocol_parser() -> impl TypedValueParser<Value = Protocol> {
    PossibleValuesParser::new(["rw1", "rw2", "vm"]).map(|s| match s.as_str() {
        "rw2" => Protocol::V2,
        "vm" => Protocol::Vm,
        _ => Protocol::V1,
    })
}

/// A workload that cannot be generated.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WorkloadError {
    /// A count that must be positive is zero.
    #[error("--{0} must be at least 1")]
    Zero(&'static str),
}

/// One request body, compressed, and what it carries.
#[derive(Debug, Clone)]
pub struct Body {
    /// Snappy-compressed protobuf.
    pub bytes: Bytes,
    /// Float samples in the request.
    pub samples: u64,
    /// Native histogram samples in the request.
    pub histograms: u64,
}

/// HTTP headers of a request of `protocol`, with canonical capitalisation.
pub fn headers(protocol: Protocol) -> [(&'static str, &'static str); 4] {
    const RW_VERSION: &str = "X-Prometheus-Remote-Write-Version";
    let (encoding, content_type, version) = match protocol {
        Protocol::V1 => ("snappy", "application/x-protobuf", (RW_VERSION, "0.1.0")),
        Protocol::V2 => (
            "snappy",
            "application/x-protobuf;proto=io.prometheus.write.v2.Request",
            (RW_VERSION, "2.0.0"),
        ),
        // What vmagent sends.
        Protocol::Vm => (
            "zstd",
            "application/x-protobuf",
            ("X-VictoriaMetrics-Remote-Write-Version", "1"),
        ),
    };
    [
        ("Content-Encoding", encoding),
        ("Content-Type", content_type),
        (
            "User-Agent",
            concat!("promscope-send/", env!("CARGO_PKG_VERSION")),
        ),
        version,
    ]
}

/// `__name__` of metric `m`.
pub fn metric_name(m: usize) -> String {
    format!("avalanche_metric_mmmmm_0_{m}")
}

/// Labels of one series, sorted by name as Prometheus sends them.
pub fn series_labels(metric: usize, series: usize, cycle: u64) -> Vec<(String, String)> {
    let mut labels = Vec::with_capacity(LABELS_PER_SERIES);
    labels.push(("__name__".to_owned(), metric_name(metric)));
    labels.push(("cycle_id".to_owned(), cycle.to_string()));
    labels.extend((0..LABEL_KEYS).map(|k| {
        (
            format!("label_key_kkkkk_{k}"),
            format!("label_val_vvvvv_{k}"),
        )
    }));
    labels.push(("series_id".to_owned(), series.to_string()));
    labels.sort_by(|a, b| a.0.cmp(&b.0));
    labels
}

/// Builds request bodies; each sending task owns one (templates are mutated in place).
pub struct Workload {
    config: WorkloadConfig,
    /// `cycle_id` the templates currently carry.
    cycle: u64,
    template: Template,
    raw: Vec<u8>,
    compressed: Vec<u8>,
    encoder: snap::raw::Encoder,
}

enum Template {
    V1 {
        series: Vec<rw1::TimeSeries>,
        request: rw1::WriteRequest,
        /// Position of `cycle_id` in each series' labels.
        cycle_label: usize,
    },
    V2 {
        series: Vec<rw2::TimeSeries>,
        request: rw2::Request,
        /// Symbol holding the `cycle_id` value; not shared with equal strings,
        /// so that churn can overwrite it.
        cycle_symbol: u32,
    },
}

impl Workload {
    /// Checks the configuration and builds the templates.
    pub fn new(config: WorkloadConfig) -> Result<Self, WorkloadError> {
        for (flag, n) in [
            ("metrics", config.metrics as u64),
            ("series-per-metric", config.series_per_metric as u64),
            ("samples-per-request", config.samples_per_request as u64),
            ("churn-every", config.churn_every.unwrap_or(1)),
        ] {
            if n == 0 {
                return Err(WorkloadError::Zero(flag));
            }
        }
        let histogram_metric = config.histograms.then(|| config.metrics - 1);
        let kinds = (0..config.metrics).flat_map(|m| {
            let kind = if Some(m) == histogram_metric {
                Kind::Histogram
            } else {
                Kind::Float
            };
            (0..config.series_per_metric).map(move |s| (m, s, kind))
        });
        let template = match config.protocol {
            Protocol::V1 | Protocol::Vm => {
                let series: Vec<_> = kinds
                    .map(|(m, s, kind)| rw1::TimeSeries {
                        labels: series_labels(m, s, 0)
                            .into_iter()
                            .map(|(name, value)| rw1::Label { name, value })
                            .collect(),
                        ..SeriesTemplate::template(kind)
                    })
                    .collect();
                let cycle_label = series_labels(0, 0, 0)
                    .iter()
                    .position(|(name, _)| name == "cycle_id")
                    .unwrap_or_default();
                Template::V1 {
                    series,
                    request: rw1::WriteRequest::default(),
                    cycle_label,
                }
            }
            Protocol::V2 => {
                let mut symbols = Symbols::default();
                let cycle_symbol = symbols.push_unshared("0");
                let help = symbols.intern(HELP);
                let series = kinds
                    .map(|(m, s, kind)| {
                        let labels_refs = series_labels(m, s, 0)
                            .iter()
                            .flat_map(|(name, value)| {
                                let value = if name == "cycle_id" {
                                    cycle_symbol
                                } else {
                                    symbols.intern(value)
                                };
                                [symbols.intern(name), value]
                            })
                            .collect();
                        let metric_type = match kind {
                            Kind::Float => rw2::metadata::MetricType::Gauge,
                            Kind::Histogram => rw2::metadata::MetricType::Gaugehistogram,
                        };
                        rw2::TimeSeries {
                            labels_refs,
                            metadata: Some(rw2::Metadata {
                                r#type: metric_type.into(),
                                help_ref: help,
                                unit_ref: 0,
                            }),
                            ..SeriesTemplate::template(kind)
                        }
                    })
                    .collect();
                Template::V2 {
                    series,
                    request: rw2::Request {
                        symbols: symbols.into_strings(),
                        timeseries: Vec::new(),
                    },
                    cycle_symbol,
                }
            }
        };
        Ok(Workload {
            config,
            cycle: 0,
            template,
            raw: Vec::new(),
            compressed: Vec::new(),
            encoder: snap::raw::Encoder::new(),
        })
    }

    /// Builds request number `seq` (0-based) with all samples at `timestamp_ms`.
    pub fn build(&mut self, seq: u64, timestamp_ms: i64) -> Body {
        let cycle = self.config.churn_every.map_or(0, |n| seq / n.max(1));
        self.set_cycle(cycle);
        let total = self.config.series();
        let per_request = self.config.series_per_request();
        // u128: seq × per_request may not fit in u64 for long runs.
        let start = (u128::from(seq) * per_request as u128 % total as u128) as usize;
        self.raw.clear();
        let slice = Slice {
            start,
            len: per_request,
            timestamp_ms,
        };
        let raw = &mut self.raw;
        let counts = match &mut self.template {
            Template::V1 {
                series, request, ..
            } => encode_slice(request, |r| &mut r.timeseries, series, slice, raw),
            Template::V2 {
                series, request, ..
            } => encode_slice(request, |r| &mut r.timeseries, series, slice, raw),
        };
        let bytes = if self.config.protocol == Protocol::Vm {
            ruzstd::encoding::compress_to_vec(
                self.raw.as_slice(),
                ruzstd::encoding::CompressionLevel::Fastest,
            )
            .into()
        } else {
            self.compressed
                .resize(snap::raw::max_compress_len(self.raw.len()), 0);
            // Only fails for inputs over 4 GiB, which a request never approaches.
            let n = self
                .encoder
                .compress(&self.raw, &mut self.compressed)
                .unwrap_or(0);
            Bytes::copy_from_slice(&self.compressed[..n])
        };
        Body {
            bytes,
            samples: counts.0,
            histograms: counts.1,
        }
    }

    fn set_cycle(&mut self, cycle: u64) {
        if cycle == self.cycle {
            return;
        }
        self.cycle = cycle;
        let value = cycle.to_string();
        match &mut self.template {
            Template::V1 {
                series,
                cycle_label,
                ..
            } => {
                for s in series {
                    if let Some(label) = s.labels.get_mut(*cycle_label) {
                        label.value.clone_from(&value);
                    }
                }
            }
            Template::V2 {
                request,
                cycle_symbol,
                ..
            } => {
                if let Some(symbol) = request.symbols.get_mut(*cycle_symbol as usize) {
                    *symbol = value;
                }
            }
        }
    }
}

/// Which series a request carries: `len` from `start` on (wrapping around),
/// each with a fresh point at `timestamp_ms`.
#[derive(Clone, Copy)]
struct Slice {
    start: usize,
    len: usize,
    timestamp_ms: i64,
}

/// Encodes `request` into `raw` holding `slice` of `series`; the series go back
/// to their places afterwards. Returns (float samples, histograms).
fn encode_slice<R: Message, T: SeriesTemplate>(
    request: &mut R,
    timeseries: fn(&mut R) -> &mut Vec<T>,
    series: &mut [T],
    slice: Slice,
    raw: &mut Vec<u8>,
) -> (u64, u64) {
    let total = series.len();
    let indices = (0..slice.len).map(|i| (slice.start + i) % total);
    let counts = take_slice(series, timeseries(request), indices, slice.timestamp_ms);
    raw.reserve(request.encoded_len());
    // Cannot fail: the buffer was just grown to fit.
    let _ = request.encode(raw);
    put_back(series, timeseries(request), slice.start);
    counts
}

#[cfg(test)]
mod tests;
