//! The normalized form of a remote-write request, shared by RW 1.0 and 2.0, that
//! flows from the receiver to every consumer (dashboard, headless output).
//!
//! Strings are not copied out of the decompressed body: a [`StrId`] is a span of
//! that buffer (validated as UTF-8 when decoded), so a request with thousands of
//! series costs a handful of allocations, not one per label.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::ops::Range;
use std::time::SystemTime;

pub use super::forward::{Forwarded, Undecodable, Upstream};
use crate::proto::rw2;

/// Remote-write protocol of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// `prometheus.WriteRequest`, snappy-compressed.
    V1,
    /// `io.prometheus.write.v2.Request`, snappy-compressed.
    V2,
    /// VictoriaMetrics' protocol: `prometheus.WriteRequest` compressed with zstd
    /// (vmagent sends it to receivers that accept it).
    Vm,
}

impl Protocol {
    /// Every protocol, in the order of [`Protocol::index`].
    pub const ALL: [Protocol; 3] = [Protocol::V1, Protocol::V2, Protocol::Vm];

    /// Short name shown to users.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::V1 => "RW1",
            Protocol::V2 => "RW2",
            Protocol::Vm => "VM",
        }
    }

    /// Position in [`Protocol::ALL`], for per-protocol counters.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What is known about a request before and around decoding it.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// When the request arrived.
    pub received_at: SystemTime,
    /// Peer address of the connection.
    pub remote_addr: Option<SocketAddr>,
    /// Request path, e.g. `/api/v1/write`.
    pub path: String,
    /// `User-Agent` header.
    pub user_agent: Option<String>,
    /// Protocol chosen from the Content-Type and Content-Encoding, when recognized.
    pub protocol: Option<Protocol>,
    /// Body size as received.
    pub compressed_bytes: usize,
    /// Body size after decompression (0 when not decompressed).
    pub decoded_bytes: usize,
    /// `Retry-Attempt` header (senders set it on retries).
    pub retry_attempt: Option<String>,
    /// The tenant, in multi-tenant setups: the `X-Scope-OrgID` header (Mimir,
    /// Cortex), `THANOS-TENANT` (Thanos), or the `<tenant>` of a
    /// VictoriaMetrics cluster path (`/insert/<tenant>/prometheus/...`).
    pub tenant: Option<String>,
}

impl Default for RequestInfo {
    /// A request with no facts known, received at the epoch (for data built in memory).
    fn default() -> Self {
        RequestInfo {
            received_at: SystemTime::UNIX_EPOCH,
            remote_addr: None,
            path: String::new(),
            user_agent: None,
            protocol: None,
            compressed_bytes: 0,
            decoded_bytes: 0,
            retry_attempt: None,
            tenant: None,
        }
    }
}

/// Why a request was rejected; the short name is what the counters are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectReason {
    /// Wrong or missing credentials (basic auth or bearer token).
    Unauthorized,
    /// Content-Encoding other than snappy (or zstd, for VictoriaMetrics' protocol).
    UnsupportedEncoding,
    /// Content-Type that is not a remote-write protobuf message.
    UnsupportedContentType,
    /// Method other than POST.
    MethodNotAllowed,
    /// Compressed body over `--max-compressed-bytes`, or decoded size over `--max-body-bytes`.
    TooLarge,
    /// Body could not be read from the connection.
    BodyRead,
    /// Body did not arrive in time (`--body-timeout`).
    BodyTimeout,
    /// Body is not valid snappy block data.
    Snappy,
    /// Body is not valid zstd data (VictoriaMetrics' protocol).
    Zstd,
    /// Body is not a valid protobuf message of the announced type.
    Protobuf,
    /// Some RW 2.0 series broke a rule (symbol refs, no `__name__`, ...): those
    /// were refused, the rest written.
    Invalid,
    /// Bodies being received at once were over `--max-bytes-in-flight`, or
    /// credentials were waiting too long to be checked; the sender should retry.
    Overloaded,
    /// Forward mode: the backend answered with an error status.
    Backend,
    /// Forward mode: the backend could not be reached, failed, or did not
    /// answer in time (promscope answered 502 or 504).
    BackendUnavailable,
}

impl RejectReason {
    /// Every reason.
    pub const ALL: [RejectReason; 12] = [
        RejectReason::Unauthorized,
        RejectReason::UnsupportedEncoding,
        RejectReason::UnsupportedContentType,
        RejectReason::MethodNotAllowed,
        RejectReason::TooLarge,
        RejectReason::BodyRead,
        RejectReason::BodyTimeout,
        RejectReason::Snappy,
        RejectReason::Zstd,
        RejectReason::Protobuf,
        RejectReason::Invalid,
        RejectReason::Overloaded,
    ];

    /// The reason called `name` (as [`RejectReason::name`] writes it).
    pub fn from_name(name: &str) -> Option<RejectReason> {
        RejectReason::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Stable short name used in summaries, JSON and the dashboard.
    pub fn name(self) -> &'static str {
        match self {
            RejectReason::Unauthorized => "unauthorized",
            RejectReason::UnsupportedEncoding => "unsupported_encoding",
            RejectReason::UnsupportedContentType => "unsupported_content_type",
            RejectReason::MethodNotAllowed => "method_not_allowed",
            RejectReason::TooLarge => "too_large",
            RejectReason::BodyRead => "body_read",
            RejectReason::BodyTimeout => "body_timeout",
            RejectReason::Snappy => "bad_snappy",
            RejectReason::Zstd => "bad_zstd",
            RejectReason::Protobuf => "bad_protobuf",
            RejectReason::Invalid => "invalid_request",
            RejectReason::Overloaded => "overloaded",
            RejectReason::Backend => "backend",
            RejectReason::BackendUnavailable => "backend_unavailable",
        }
    }
}

/// How the receiver answered a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Answered 2xx.
    Accepted,
    /// Answered with an error status and message. The batch's data is what was
    /// written all the same (RW 2.0 series kept beside refused ones), usually nothing.
    Rejected {
        /// HTTP status sent.
        status: u16,
        /// Category, for counting.
        reason: RejectReason,
        /// The body sent to the sender: what was wrong.
        message: String,
    },
    /// Forward mode: sent on to the backend, whose answer the sender got.
    Forwarded(Box<Forwarded>),
}

impl Outcome {
    /// Whether the sender was told the request was taken (2xx).
    pub fn is_accepted(&self) -> bool {
        match self {
            Outcome::Accepted => true,
            Outcome::Rejected { .. } => false,
            Outcome::Forwarded(f) => f.is_success(),
        }
    }

    /// The status the sender got.
    pub fn status(&self) -> u16 {
        match self {
            Outcome::Accepted => 204,
            Outcome::Rejected { status, .. } => *status,
            Outcome::Forwarded(f) => f.status(),
        }
    }

    /// For a request the sender was refused: the status, the category it is
    /// counted under and the message the sender got.
    pub fn rejection(&self) -> Option<(u16, RejectReason, Cow<'_, str>)> {
        match self {
            Outcome::Accepted => None,
            Outcome::Rejected {
                status,
                reason,
                message,
            } => Some((*status, *reason, Cow::Borrowed(message))),
            Outcome::Forwarded(f) => Some((f.status(), f.reject_reason()?, f.message()?)),
        }
    }
}

/// One received request: its facts, how it was answered, and what it carried.
#[derive(Debug)]
pub struct Batch {
    /// Facts about the request.
    pub info: RequestInfo,
    /// Status sent back.
    pub outcome: Outcome,
    /// Decoded content: what was written (empty for most rejected requests).
    pub data: WriteData,
}

impl Batch {
    /// Heap bytes it holds: what it carried and the request's strings.
    pub fn heap_bytes(&self) -> usize {
        let info = &self.info;
        let strings = [&info.user_agent, &info.retry_attempt, &info.tenant]
            .into_iter()
            .flatten()
            .map(String::capacity)
            .sum::<usize>();
        let message = match &self.outcome {
            Outcome::Accepted => 0,
            Outcome::Rejected { message, .. } => message.capacity(),
            Outcome::Forwarded(f) => size_of::<Forwarded>() + f.heap_bytes(),
        };
        self.data.heap_bytes() + info.path.capacity() + strings + message
    }
}

/// A string of a [`WriteData`]: a span of its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StrId {
    start: u32,
    len: u32,
}

impl StrId {
    /// The span `start..start + len` of the buffer.
    pub(crate) fn new(start: usize, len: usize) -> Self {
        StrId {
            start: start as u32,
            len: len as u32,
        }
    }

    /// The span as a range of the buffer.
    pub(crate) fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}

/// A label as two string ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelRef {
    /// Label name.
    pub name: StrId,
    /// Label value.
    pub value: StrId,
}

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

fn effective_start_ts(own: i64, series: &ReceivedSeries) -> i64 {
    if own != 0 {
        own
    } else {
        series.created_timestamp_ms
    }
}

/// Bit pattern of Prometheus's stale marker.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Whether `v` is Prometheus's stale marker.
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// Native histogram, in the RW2 layout (a superset of RW1's).
pub type Histogram = rw2::Histogram;
/// Span of native histogram buckets.
pub type BucketSpan = rw2::BucketSpan;

/// Reading a native histogram whichever way its counts were encoded.
pub trait HistogramExt {
    /// Whether counts are floats (`count_float`, `*_counts`) rather than integers.
    fn is_float(&self) -> bool;
    /// Observation count.
    fn total_count(&self) -> f64;
    /// Count in the zero bucket.
    fn zero_count_value(&self) -> f64;
    /// Absolute counts of the positive buckets (integer deltas summed up).
    fn positive_buckets(&self) -> Vec<f64>;
    /// Absolute counts of the negative buckets.
    fn negative_buckets(&self) -> Vec<f64>;
    /// Reset hint name: `unknown`, `yes`, `no`, `gauge`.
    fn reset_hint_name(&self) -> &'static str;
    /// Positive buckets as (bucket index, count), computed as they are read
    /// (a histogram can hold millions; see [`HistogramExt::bucket_bounds`]).
    fn positive_indexed(&self) -> impl Iterator<Item = (i64, f64)> + Clone + '_;
    /// Lower and upper bound of positive bucket `index`, from the schema
    /// (exponential, or custom bounds for schema -53).
    fn bucket_bounds(&self, index: i64) -> (f64, f64);
    /// As [`Sample::effective_start_ts`].
    fn effective_start_ts(&self, series: &ReceivedSeries) -> i64;
}

/// Schema of native histograms with custom bucket bounds (`custom_values`).
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

/// Bucket indices of the buckets described by `spans` (offsets are relative to
/// the end of the previous span; the first is absolute).
fn bucket_indices(spans: &[BucketSpan]) -> impl Iterator<Item = i64> + Clone + '_ {
    let mut next = 0i64;
    spans.iter().flat_map(move |span| {
        let start = next.saturating_add(i64::from(span.offset));
        next = start.saturating_add(i64::from(span.length));
        (0..i64::from(span.length)).map(move |i| start.saturating_add(i))
    })
}

fn absolute_counts<'a>(
    deltas: &'a [i64],
    counts: &'a [f64],
) -> impl Iterator<Item = f64> + Clone + 'a {
    let from_deltas = deltas.iter().scan(0i64, |running, d| {
        *running = running.wrapping_add(*d);
        Some(*running as f64)
    });
    // A histogram has deltas (integer counts) or counts (float counts).
    let floats = if deltas.is_empty() { counts } else { &[] };
    from_deltas.chain(floats.iter().copied())
}

impl HistogramExt for Histogram {
    fn effective_start_ts(&self, series: &ReceivedSeries) -> i64 {
        effective_start_ts(self.start_timestamp, series)
    }

    fn is_float(&self) -> bool {
        matches!(self.count, Some(rw2::histogram::Count::CountFloat(_)))
    }

    fn total_count(&self) -> f64 {
        match self.count {
            Some(rw2::histogram::Count::CountInt(n)) => n as f64,
            Some(rw2::histogram::Count::CountFloat(f)) => f,
            None => 0.0,
        }
    }

    fn zero_count_value(&self) -> f64 {
        match self.zero_count {
            Some(rw2::histogram::ZeroCount::ZeroCountInt(n)) => n as f64,
            Some(rw2::histogram::ZeroCount::ZeroCountFloat(f)) => f,
            None => 0.0,
        }
    }

    fn positive_buckets(&self) -> Vec<f64> {
        absolute_counts(&self.positive_deltas, &self.positive_counts).collect()
    }

    fn negative_buckets(&self) -> Vec<f64> {
        absolute_counts(&self.negative_deltas, &self.negative_counts).collect()
    }

    fn positive_indexed(&self) -> impl Iterator<Item = (i64, f64)> + Clone + '_ {
        bucket_indices(&self.positive_spans).zip(absolute_counts(
            &self.positive_deltas,
            &self.positive_counts,
        ))
    }

    fn bucket_bounds(&self, i: i64) -> (f64, f64) {
        if self.schema == CUSTOM_BUCKETS_SCHEMA {
            let bound = |i: i64| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.custom_values.get(i).copied())
                    .unwrap_or(f64::INFINITY)
            };
            let lower = if i == 0 {
                f64::NEG_INFINITY
            } else {
                bound(i - 1)
            };
            (lower, bound(i))
        } else {
            // Bucket i covers (base^(i-1), base^i] with base = 2^(2^-schema).
            let exp = |i: i64| (i as f64 * (-f64::from(self.schema)).exp2()).exp2();
            (exp(i - 1), exp(i))
        }
    }

    fn reset_hint_name(&self) -> &'static str {
        match self.reset_hint {
            1 => "yes",
            2 => "no",
            3 => "gauge",
            _ => "unknown",
        }
    }
}

/// Heap bytes of a histogram's spans, counts and bounds.
pub fn histogram_heap_bytes(h: &Histogram) -> usize {
    (h.negative_spans.capacity() + h.positive_spans.capacity()) * size_of::<BucketSpan>()
        + (h.negative_deltas.capacity() + h.positive_deltas.capacity()) * size_of::<i64>()
        + (h.negative_counts.capacity() + h.positive_counts.capacity() + h.custom_values.capacity())
            * size_of::<f64>()
}

/// An exemplar attached to a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar {
    /// Exemplar labels (e.g. `trace_id`), indices into [`WriteData::labels`].
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

/// A series of a received request: the ranges of its data in [`WriteData`]'s
/// flat vectors (what the dashboard keeps of a series is `store::Series`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedSeries {
    /// Indices into [`WriteData::labels`].
    pub labels: Range<u32>,
    /// Indices into [`WriteData::samples`].
    pub samples: Range<u32>,
    /// Indices into [`WriteData::histograms`].
    pub histograms: Range<u32>,
    /// Indices into [`WriteData::exemplars`].
    pub exemplars: Range<u32>,
    /// RW2 per-series metadata.
    pub metadata: Option<Metadata>,
    /// RW2 `TimeSeries.created_timestamp` (senders up to Prometheus 3.9); 0 when unset.
    pub created_timestamp_ms: i64,
    /// Identity of the label set: equal label sets have equal hashes, whatever
    /// their order or encoding (see [`label_set_hash`]).
    pub label_hash: u64,
}

/// Hash of a label set written in its canonical form: sorted by name, each label
/// encoded as RW1 does (`0a len 0a len name 12 len value`, minimal varints). A
/// sender's RW1 bytes are often exactly that form, and can then be hashed in
/// place ([`canonical_bytes_hash`]) without re-encoding.
pub fn label_set_hash<'a, I>(pairs: I, scratch: &mut Vec<u8>) -> u64
where
    I: Iterator<Item = (&'a [u8], &'a [u8])> + Clone,
{
    let mut previous: Option<&[u8]> = None;
    let sorted = pairs
        .clone()
        .all(|(name, _)| previous.replace(name).is_none_or(|p| p < name));
    label_set_hash_in_order(pairs, sorted, scratch)
}

/// [`label_set_hash`] for a caller that already knows whether the names are
/// strictly ascending.
pub fn label_set_hash_in_order<'a, I>(pairs: I, sorted: bool, scratch: &mut Vec<u8>) -> u64
where
    I: Iterator<Item = (&'a [u8], &'a [u8])>,
{
    scratch.clear();
    if sorted {
        pairs.for_each(|(name, value)| encode_label(scratch, name, value));
    } else {
        let mut owned: Vec<(&[u8], &[u8])> = pairs.collect();
        owned.sort_unstable();
        owned
            .into_iter()
            .for_each(|(name, value)| encode_label(scratch, name, value));
    }
    canonical_bytes_hash(scratch)
}

/// Appends one label in the canonical form: `0a len 0a len name 12 len value`.
fn encode_label(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    let short = name.len() + value.len() + 4;
    if short < 0x80 {
        // The usual case: every length fits one varint byte.
        out.extend_from_slice(&[0x0a, short as u8, 0x0a, name.len() as u8]);
        out.extend_from_slice(name);
        out.extend_from_slice(&[0x12, value.len() as u8]);
        out.extend_from_slice(value);
        return;
    }
    let put_varint = |out: &mut Vec<u8>, mut v: usize| {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    };
    let varint_len = |v: usize| (usize::BITS - (v | 1).leading_zeros()).div_ceil(7) as usize;
    let message =
        1 + varint_len(name.len()) + name.len() + 1 + varint_len(value.len()) + value.len();
    out.push(0x0a);
    put_varint(out, message);
    out.push(0x0a);
    put_varint(out, name.len());
    out.extend_from_slice(name);
    out.push(0x12);
    put_varint(out, value.len());
    out.extend_from_slice(value);
}

/// Hash of label bytes already in canonical form (see [`label_set_hash`]).
pub fn canonical_bytes_hash(bytes: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x7072_6f6d_7363_6f70).hash_one(bytes)
}

/// Decoded content of a request, in flat vectors that [`ReceivedSeries`] index into.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct WriteData {
    /// The decompressed body (or, for data built in memory, the strings added).
    buf: Vec<u8>,
    /// All label pairs: series labels and exemplar labels.
    pub labels: Vec<LabelRef>,
    /// The series, in request order.
    pub series: Vec<ReceivedSeries>,
    /// All float samples.
    pub samples: Vec<Sample>,
    /// All native histograms.
    pub histograms: Vec<Histogram>,
    /// All exemplars.
    pub exemplars: Vec<Exemplar>,
    /// RW1 metadata messages (RW2 metadata sits on each [`ReceivedSeries`]).
    pub metadata: Vec<Metadata>,
    /// Things the sender got wrong that do not make the request invalid
    /// (unsorted labels, missing `__name__`, ...); the first few only.
    pub warnings: Vec<String>,
    /// Why parts of the request were refused while the rest was kept (RW 2.0
    /// series that break a rule); the first few only.
    pub refused: Vec<String>,
    /// How many parts were refused in all.
    pub refused_count: usize,
}

impl WriteData {
    /// The empty string.
    pub const EMPTY: StrId = StrId { start: 0, len: 0 };

    /// Takes ownership of the buffer that the decoder's [`StrId`]s point into.
    pub(crate) fn set_buffer(&mut self, buf: Vec<u8>) {
        self.buf = buf;
    }

    /// Adds a string (for data built in memory).
    pub fn intern(&mut self, s: &str) -> StrId {
        let id = StrId::new(self.buf.len(), s.len());
        self.buf.extend_from_slice(s.as_bytes());
        id
    }

    /// The bytes of a string: for hashing and comparing without UTF-8 checks.
    pub fn bytes(&self, id: StrId) -> &[u8] {
        self.buf.get(id.range()).unwrap_or(&[])
    }

    /// The string with the given id ("" for an id of another request).
    pub fn str(&self, id: StrId) -> &str {
        std::str::from_utf8(self.bytes(id)).unwrap_or("")
    }

    /// Label pairs in a range, as strings.
    pub fn label_pairs(
        &self,
        range: Range<u32>,
    ) -> impl Iterator<Item = (&str, &str)> + Clone + '_ {
        let slice = self
            .labels
            .get(range.start as usize..range.end as usize)
            .unwrap_or(&[]);
        slice.iter().map(|l| (self.str(l.name), self.str(l.value)))
    }

    /// Samples of a series.
    pub fn samples_of(&self, s: &ReceivedSeries) -> &[Sample] {
        self.samples
            .get(s.samples.start as usize..s.samples.end as usize)
            .unwrap_or(&[])
    }

    /// Histograms of a series.
    pub fn histograms_of(&self, s: &ReceivedSeries) -> &[Histogram] {
        self.histograms
            .get(s.histograms.start as usize..s.histograms.end as usize)
            .unwrap_or(&[])
    }

    /// Exemplars of a series.
    pub fn exemplars_of(&self, s: &ReceivedSeries) -> &[Exemplar] {
        self.exemplars
            .get(s.exemplars.start as usize..s.exemplars.end as usize)
            .unwrap_or(&[])
    }

    /// The value of `__name__` in a label range, or "".
    pub fn metric_name(&self, range: Range<u32>) -> &str {
        self.label_pairs(range)
            .find(|(n, _)| *n == "__name__")
            .map_or("", |(_, v)| v)
    }

    /// Appends a series built in memory (tests, demos): labels as given, samples
    /// and histograms, no exemplars or metadata. Returns its index.
    pub fn push_series(
        &mut self,
        labels: &[(&str, &str)],
        samples: &[Sample],
        histograms: &[Histogram],
    ) -> usize {
        let start = self.labels.len() as u32;
        for (name, value) in labels {
            let label = LabelRef {
                name: self.intern(name),
                value: self.intern(value),
            };
            self.labels.push(label);
        }
        let sample_start = self.samples.len() as u32;
        self.samples.extend_from_slice(samples);
        let histogram_start = self.histograms.len() as u32;
        self.histograms.extend_from_slice(histograms);
        let exemplars = self.exemplars.len() as u32;
        let label_hash = label_set_hash(
            labels.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes())),
            &mut Vec::new(),
        );
        self.series.push(ReceivedSeries {
            labels: start..self.labels.len() as u32,
            samples: sample_start..self.samples.len() as u32,
            histograms: histogram_start..self.histograms.len() as u32,
            exemplars: exemplars..exemplars,
            metadata: None,
            created_timestamp_ms: 0,
            label_hash,
        });
        self.series.len() - 1
    }

    /// Records a warning, keeping only the first [`MAX_WARNINGS`].
    pub fn warn(&mut self, message: impl FnOnce() -> String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(message());
        }
    }

    /// Bytes its decoded elements take (lengths, not capacities, and not the
    /// buckets of histograms): what decoding added to the body.
    pub fn element_bytes(&self) -> usize {
        self.labels.len() * size_of::<LabelRef>()
            + self.series.len() * size_of::<ReceivedSeries>()
            + self.samples.len() * size_of::<Sample>()
            + self.histograms.len() * size_of::<Histogram>()
            + self.exemplars.len() * size_of::<Exemplar>()
            + self.metadata.len() * size_of::<Metadata>()
    }

    /// Heap bytes it holds (capacities, not lengths: what keeping it costs),
    /// body and decoded vectors alike.
    pub fn heap_bytes(&self) -> usize {
        fn vec<T>(v: &Vec<T>) -> usize {
            v.capacity() * size_of::<T>()
        }
        let histograms: usize = self.histograms.iter().map(histogram_heap_bytes).sum();
        let texts: usize = self
            .warnings
            .iter()
            .chain(&self.refused)
            .map(String::capacity)
            .sum();
        vec(&self.buf)
            + vec(&self.labels)
            + vec(&self.series)
            + vec(&self.samples)
            + vec(&self.histograms)
            + histograms
            + vec(&self.exemplars)
            + vec(&self.metadata)
            + vec(&self.warnings)
            + vec(&self.refused)
            + texts
    }

    /// Gives back capacity reserved beyond what the request holds.
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
        self.labels.shrink_to_fit();
        self.series.shrink_to_fit();
        self.samples.shrink_to_fit();
        self.histograms.shrink_to_fit();
        self.exemplars.shrink_to_fit();
        self.metadata.shrink_to_fit();
    }

    /// Records that part of the request was refused, keeping the first
    /// [`MAX_WARNINGS`] reasons.
    pub fn refuse(&mut self, reason: impl FnOnce() -> String) {
        self.refused_count += 1;
        if self.refused.len() < MAX_WARNINGS {
            self.refused.push(reason());
        }
    }

    /// Totals of what the request carried.
    pub fn counts(&self) -> Counts {
        Counts {
            series: self.series.len() as u64,
            samples: self.samples.len() as u64,
            histograms: self.histograms.len() as u64,
            exemplars: self.exemplars.len() as u64,
            metadata: (self.metadata.len()
                + self.series.iter().filter(|s| s.metadata.is_some()).count())
                as u64,
        }
    }
}

/// How many warnings a request keeps.
pub const MAX_WARNINGS: usize = 8;

/// How much a request (or a run) carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub series: u64,
    /// Float samples.
    pub samples: u64,
    /// Native histogram samples.
    pub histograms: u64,
    pub exemplars: u64,
    /// Metadata entries.
    pub metadata: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.series += o.series;
        self.samples += o.samples;
        self.histograms += o.histograms;
        self.exemplars += o.exemplars;
        self.metadata += o.metadata;
    }
}
