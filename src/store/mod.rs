//! Pure state built from received batches: the series index with each series'
//! recent samples, per-metric aggregates, the recent-samples and request logs,
//! run totals, and the filter's per-series verdicts. No I/O; time is passed in.

pub mod distinct;
pub mod intern;
pub mod rate;
pub mod ring;
pub mod slots;
pub mod totals;

use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::time::UNIX_EPOCH;

use hashbrown::HashTable;

use crate::filter::Filter;
use crate::ingest::model::{
    Batch, Histogram, HistogramExt, MetricType, Outcome, Protocol, WriteData, is_stale_nan,
};
use distinct::{DistinctCount, DistinctCounter};
use intern::{Interner, Sym};
use rate::RateBuckets;
use ring::{Point, Ring};
use slots::{Handle, Slots};
use totals::Totals;

/// A series, until it is evicted.
pub type SeriesId = Handle<Series>;
/// A metric name's aggregates, until its last series goes.
pub type MetricId = Handle<Metric>;

/// Metadata entries kept for families no live metric uses (at least; more when
/// many metrics are live), so RW 1.0 metadata that arrives before its series,
/// or for series a sender drops, is kept without growing for good.
const ORPHAN_METADATA: usize = 10_000;

/// Suffixes by which a metric name belongs to a metadata family (`foo_bucket` to `foo`).
const FAMILY_SUFFIXES: [&str; 6] = ["_bucket", "_sum", "_count", "_total", "_created", "_info"];

/// Below this many series a filter is applied on one thread.
const PARALLEL_FILTER_SERIES: usize = 50_000;

/// A sample is flagged "from the future" when its timestamp is this far past its arrival.
pub const FUTURE_TOLERANCE_MS: i64 = 10_000;

/// Bounds on what the store keeps.
#[derive(Debug, Clone, Copy)]
pub struct StoreLimits {
    /// Series kept; the least recently seen are evicted beyond this.
    pub max_series: usize,
    /// Recent samples kept per series.
    pub samples_per_series: usize,
    /// Entries in the recent-samples log.
    pub log_len: usize,
    /// Entries in the request log.
    pub requests_len: usize,
    /// Exemplars kept per series.
    pub exemplars_per_series: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            max_series: 1_000_000,
            samples_per_series: 64,
            log_len: 20_000,
            requests_len: 1_000,
            exemplars_per_series: 8,
        }
    }
}

/// Problems seen in a series' timestamps and values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Anomalies {
    /// Samples older than the series' previous sample.
    pub out_of_order: u32,
    /// Samples with the same timestamp as the previous one.
    pub duplicate: u32,
    /// Stale markers.
    pub stale: u32,
    /// Samples stamped more than [`FUTURE_TOLERANCE_MS`] after they arrived.
    pub future: u32,
}

impl Anomalies {
    /// Whether anything was flagged.
    pub fn any(&self) -> bool {
        *self != Anomalies::default()
    }
}

/// Samples per second of one series, over two consecutive 10 s windows.
#[derive(Debug, Clone, Copy, Default)]
pub struct WindowRate {
    /// 10 s windows since the epoch (u32 lasts until the year 3331).
    window: u32,
    current: u32,
    previous: u32,
}

const RATE_WINDOW_MS: i64 = 10_000;

/// The window of `ms`, clamped to the range of [`WindowRate::window`].
fn rate_window(ms: i64) -> u32 {
    ms.div_euclid(RATE_WINDOW_MS).clamp(0, u32::MAX.into()) as u32
}

impl WindowRate {
    fn add(&mut self, now_ms: i64, n: u32) {
        let w = rate_window(now_ms);
        if w > self.window {
            self.previous = if w == self.window + 1 {
                self.current
            } else {
                0
            };
            self.current = 0;
            self.window = w;
        }
        self.current = self.current.saturating_add(n);
    }

    /// Samples per second around `now_ms`.
    pub fn per_second(&self, now_ms: i64) -> f64 {
        let w = rate_window(now_ms);
        let into = (now_ms.rem_euclid(RATE_WINDOW_MS)) as f64 / 1000.0;
        match i64::from(w) - i64::from(self.window) {
            0 => (self.previous + self.current) as f64 / (10.0 + into.max(1.0)),
            1 => self.current as f64 / (10.0 + into.max(1.0)),
            _ => 0.0,
        }
    }
}

/// An exemplar kept with its series.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredExemplar {
    /// Exemplar labels.
    pub labels: Box<[(Sym, Sym)]>,
    /// Value.
    pub value: f64,
    /// Timestamp (0 when the sender gave none).
    pub timestamp_ms: i64,
}

/// What most series never have, behind one pointer allocated on first use.
#[derive(Debug, Default)]
struct Rare {
    histogram: Option<Box<Histogram>>,
    exemplars: VecDeque<StoredExemplar>,
    anomalies: Anomalies,
}

/// Whether a series carries float samples or native histograms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeriesKind {
    /// Float samples.
    #[default]
    Float,
    /// Native histograms (points hold the observation count).
    Histogram,
}

/// One series and what was seen of it.
#[derive(Debug)]
pub struct Series {
    /// Labels, sorted by name.
    pub labels: Box<[(Sym, Sym)]>,
    /// Its metric name's entry.
    pub metric: MetricId,
    /// A short form of the label-set hash (see [`short_hash`]).
    hash: u32,
    pos_in_metric: u32,
    /// Recent points, oldest first.
    pub points: Ring,
    /// Native histogram, exemplars and anomalies, once there are any.
    rare: Option<Box<Rare>>,
    /// Float or histogram.
    pub kind: SeriesKind,
    /// Arrival time of the latest sample (ms since the epoch).
    pub last_arrival_ms: i64,
    last_seen_seq: u64,
    /// Samples per second.
    pub rate: WindowRate,
    /// Samples (and histograms) received.
    pub samples_total: u64,
    /// Whether the current filter matches.
    pub matched: bool,
    /// Created/start timestamp, when the sender gives one.
    pub start_timestamp_ms: i64,
}

impl Series {
    /// The latest native histogram.
    pub fn histogram(&self) -> Option<&Histogram> {
        self.rare.as_ref()?.histogram.as_deref()
    }

    /// Recent exemplars, oldest first.
    pub fn exemplars(&self) -> std::collections::vec_deque::Iter<'_, StoredExemplar> {
        self.rare
            .as_deref()
            .map(|r| r.exemplars.iter())
            .unwrap_or_default()
    }

    /// Flags for timestamps and values a person debugging a pipeline must notice.
    pub fn anomalies(&self) -> Anomalies {
        self.rare
            .as_deref()
            .map_or_else(Anomalies::default, |r| r.anomalies)
    }

    fn rare(&mut self) -> &mut Rare {
        self.rare.get_or_insert_default()
    }
}

/// Type, help and unit of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaInfo {
    /// Type.
    pub metric_type: MetricType,
    /// HELP text.
    pub help: Sym,
    /// Unit.
    pub unit: Sym,
}

/// A metadata entry and when it was set, so the oldest unused ones go first.
#[derive(Debug, Clone, Copy)]
struct MetaEntry {
    info: MetaInfo,
    /// Request sequence number when set or last changed.
    seq: u64,
}

/// Aggregates of one metric name. The entry lives while it has series; then
/// its slot is freed and reused for another name.
#[derive(Debug, Default)]
pub struct Metric {
    /// `__name__` value.
    pub name: Sym,
    /// Slots of its live series (never empty while the entry lives).
    series: Vec<u32>,
    /// How many of them match the filter.
    pub matched: u32,
    /// Samples per second, for rates and sparklines.
    pub rate: RateBuckets,
    /// Arrival of its latest sample.
    pub last_arrival_ms: i64,
    /// Samples received.
    pub samples_total: u64,
    /// Bumped when its series set or their filter verdicts change.
    pub version: u64,
    /// Whether any of its series sent native histograms.
    pub has_histograms: bool,
}

impl Metric {
    /// Its live series.
    pub fn series_count(&self) -> usize {
        self.series.len()
    }
}

/// One entry of the recent-samples log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogEntry {
    /// When the request arrived (ms since the epoch).
    pub arrival_ms: i64,
    /// The series (resolves no more once it is evicted).
    pub series: SeriesId,
    /// Sample time.
    pub timestamp_ms: i64,
    /// Value (histograms: observation count).
    pub value: f64,
    /// Float or histogram.
    pub kind: SeriesKind,
}

/// One entry of the request log.
#[derive(Debug, Clone)]
pub struct RequestRow {
    /// Arrival (ms since the epoch).
    pub arrival_ms: i64,
    /// `User-Agent @ ip`.
    pub sender: String,
    /// Path.
    pub path: String,
    /// Protocol, when recognized.
    pub protocol: Option<Protocol>,
    /// Compressed size.
    pub compressed_bytes: usize,
    /// Decoded size.
    pub decoded_bytes: usize,
    /// What it carried.
    pub counts: crate::ingest::model::Counts,
    /// HTTP status sent.
    pub status: u16,
    /// Rejection message, or the first warning.
    pub note: Option<String>,
    /// Whether `note` is a rejection.
    pub rejected: bool,
    /// `Retry-Attempt` header.
    pub retry_attempt: Option<String>,
}

/// Everything the dashboard shows, built incrementally from batches.
pub struct Store {
    limits: StoreLimits,
    strings: Interner,
    series: Slots<Series>,
    /// Series slots by label-set hash.
    index: HashTable<u32>,
    metrics: Slots<Metric>,
    /// Live metrics by name.
    metric_index: HashMap<Sym, MetricId>,
    metadata: HashMap<Sym, MetaEntry>,
    log: VecDeque<LogEntry>,
    /// Entries ever dropped from the front of `log` (absolute position of `log[0]`).
    log_start: u64,
    requests: VecDeque<RequestRow>,
    /// Same as `log_start`, for `requests`.
    requests_start: u64,
    totals: Totals,
    /// Requests, samples and bytes per second.
    pub request_rate: RateBuckets,
    /// See [`Store::request_rate`].
    pub sample_rate: RateBuckets,
    /// See [`Store::request_rate`].
    pub byte_rate: RateBuckets,
    filter: Filter,
    matched_series: usize,
    matched_metrics: usize,
    seq: u64,
    evicted_series: u64,
    /// Label sets ever seen, evicted or not, for the closing summary.
    distinct: DistinctCounter,
    metrics_version: u64,
    scratch: String,
    /// `""` and `__name__`, held for the store's lifetime (see [`Store::new`]).
    empty: Sym,
    name_label: Sym,
}

/// The 32 bits of a label-set hash that a series keeps: enough to skip most
/// label comparisons, in half the memory.
fn short_hash(label_hash: u64) -> u32 {
    (label_hash ^ (label_hash >> 32)) as u32
}

/// The series index's hash for a [`short_hash`], spread over 64 bits because
/// the table takes its bucket from the low bits and a tag from the top ones.
fn index_hash(short: u32) -> u64 {
    u64::from(short).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Gives back the references a label set holds.
fn release_labels(strings: &mut Interner, labels: &[(Sym, Sym)]) {
    for &(n, v) in labels {
        strings.release(n);
        strings.release(v);
    }
}

fn epoch_ms(t: std::time::SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Store {
    /// An empty store.
    pub fn new(limits: StoreLimits) -> Self {
        // Pinned so that finding a series' metric name needs no lookup.
        let mut strings = Interner::default();
        let empty = strings.acquire("");
        let name_label = strings.acquire("__name__");
        Store {
            limits,
            strings,
            series: Slots::default(),
            index: HashTable::new(),
            metrics: Slots::default(),
            metric_index: HashMap::new(),
            metadata: HashMap::new(),
            log: VecDeque::new(),
            log_start: 0,
            requests: VecDeque::new(),
            requests_start: 0,
            totals: Totals::default(),
            request_rate: RateBuckets::default(),
            sample_rate: RateBuckets::default(),
            byte_rate: RateBuckets::default(),
            filter: Filter::all(),
            matched_series: 0,
            matched_metrics: 0,
            seq: 0,
            evicted_series: 0,
            distinct: DistinctCounter::default(),
            metrics_version: 0,
            scratch: String::new(),
            empty,
            name_label,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> StoreLimits {
        self.limits
    }

    /// Adds one request.
    pub fn ingest(&mut self, batch: &Batch) {
        let arrival_ms = epoch_ms(batch.info.received_at);
        self.seq += 1;
        self.totals.record(batch);
        self.request_rate.add(arrival_ms, 1);
        self.byte_rate
            .add(arrival_ms, batch.info.compressed_bytes as u64);
        self.log_request(batch, arrival_ms);
        if batch.outcome != Outcome::Accepted {
            return;
        }
        let data = &batch.data;
        for m in &data.metadata {
            self.set_metadata(data, m);
        }
        let mut samples_in_batch = 0u64;
        for s in &data.series {
            if let Some(m) = &s.metadata {
                self.set_metadata(data, m);
            }
            let id = self.series_for(data, s);
            let start_ts = if s.created_timestamp_ms != 0 {
                s.created_timestamp_ms
            } else {
                0
            };
            let samples = data.samples_of(s);
            let histograms = data.histograms_of(s);
            for sample in samples {
                let start = if sample.start_timestamp_ms != 0 {
                    sample.start_timestamp_ms
                } else {
                    start_ts
                };
                self.add_point(
                    id,
                    sample.timestamp_ms,
                    sample.value,
                    SeriesKind::Float,
                    start,
                    arrival_ms,
                );
            }
            for h in histograms {
                let start = if h.start_timestamp != 0 {
                    h.start_timestamp
                } else {
                    start_ts
                };
                self.add_point(
                    id,
                    h.timestamp,
                    h.total_count(),
                    SeriesKind::Histogram,
                    start,
                    arrival_ms,
                );
            }
            if let Some(h) = histograms.last()
                && let Some(series) = self.series.get_mut(id)
            {
                series.rare().histogram = Some(Box::new(h.clone()));
            }
            let capacity = self.limits.exemplars_per_series;
            // With no room to keep exemplars, their labels are not even interned.
            let exemplars = if capacity > 0 {
                data.exemplars_of(s)
            } else {
                &[]
            };
            for e in exemplars {
                let labels = self.intern_labels(data, e.labels.clone());
                let exemplar = StoredExemplar {
                    labels,
                    value: e.value,
                    timestamp_ms: e.timestamp_ms,
                };
                let Some(series) = self.series.get_mut(id) else {
                    break;
                };
                let exemplars = &mut series.rare().exemplars;
                let dropped = if exemplars.len() >= capacity {
                    exemplars.pop_front()
                } else {
                    None
                };
                exemplars.push_back(exemplar);
                if let Some(old) = dropped {
                    release_labels(&mut self.strings, &old.labels);
                }
            }
            let n = (samples.len() + histograms.len()) as u64;
            samples_in_batch += n;
            let Some(series) = self.series.get_mut(id) else {
                continue;
            };
            series.rate.add(arrival_ms, n as u32);
            let Some(metric) = self.metrics.get_mut(series.metric) else {
                continue;
            };
            metric.has_histograms |= !histograms.is_empty();
            metric.rate.add(arrival_ms, n);
            metric.samples_total += n;
            if n > 0 {
                metric.last_arrival_ms = arrival_ms;
            }
        }
        self.sample_rate.add(arrival_ms, samples_in_batch);
        let live = self.series.len();
        if live > self.limits.max_series {
            // Evict in bulk (1% of the limit) so the O(n) selection is amortized.
            let excess = live - self.limits.max_series;
            self.evict_least_recent(excess.max(self.limits.max_series / 100).min(live));
        }
        // Once per request, when this request's series are in place.
        self.trim_metadata();
    }

    fn log_request(&mut self, batch: &Batch, arrival_ms: i64) {
        let info = &batch.info;
        let (status, note, rejected) = match &batch.outcome {
            Outcome::Accepted => (204, batch.data.warnings.first().cloned(), false),
            Outcome::Rejected {
                status, message, ..
            } => (*status, Some(message.clone()), true),
        };
        if self.requests.len() >= self.limits.requests_len {
            self.requests.pop_front();
            self.requests_start += 1;
        }
        let sender = totals::Sender {
            user_agent: info.user_agent.clone().unwrap_or_default(),
            ip: info.remote_addr.map(|a| a.ip()),
        };
        self.requests.push_back(RequestRow {
            arrival_ms,
            sender: sender.to_string(),
            path: info.path.clone(),
            protocol: info.protocol,
            compressed_bytes: info.compressed_bytes,
            decoded_bytes: info.decoded_bytes,
            counts: batch.data.counts(),
            status,
            note,
            rejected,
            retry_attempt: info.retry_attempt.clone(),
        });
    }

    fn set_metadata(&mut self, data: &WriteData, m: &crate::ingest::model::Metadata) {
        let (family, help, unit) = (data.str(m.family), data.str(m.help), data.str(m.unit));
        let known = self
            .strings
            .get(family)
            .and_then(|f| Some((f, self.metadata.get(&f)?.info)));
        // RW 2.0 repeats metadata on every series: unchanged is the usual case.
        if let Some((_, old)) = known
            && old.metric_type == m.metric_type
            && self.strings.resolve(old.help) == help
            && self.strings.resolve(old.unit) == unit
        {
            return;
        }
        let info = MetaInfo {
            metric_type: m.metric_type,
            help: self.strings.acquire(help),
            unit: self.strings.acquire(unit),
        };
        let entry = MetaEntry {
            info,
            seq: self.seq,
        };
        match known {
            Some((family, old)) => {
                self.strings.release(old.help);
                self.strings.release(old.unit);
                self.metadata.insert(family, entry);
            }
            None => {
                // The entry holds a reference to its family name until it is dropped.
                let family = self.strings.acquire(family);
                self.metadata.insert(family, entry);
            }
        }
    }

    /// Whether a live metric takes its metadata from `family` (see [`Store::metadata_for`]).
    fn family_in_use(&self, family: Sym, scratch: &mut String) -> bool {
        if self.metric_index.contains_key(&family) {
            return true;
        }
        FAMILY_SUFFIXES.iter().any(|suffix| {
            scratch.clear();
            scratch.push_str(self.strings.resolve(family));
            scratch.push_str(suffix);
            self.strings
                .get(scratch)
                .is_some_and(|name| self.metric_index.contains_key(&name))
        })
    }

    /// Drops the oldest metadata of families no live metric uses once there are
    /// too many. A metric uses at most two families (its own name's and the one
    /// without its suffix), so past twice the live metrics plus an allowance,
    /// more than the allowance are unused; keeping only half of it amortizes
    /// the O(n) sweep.
    fn trim_metadata(&mut self) {
        let live = self.metric_index.len();
        let allowance = ORPHAN_METADATA.max(live);
        if self.metadata.len() <= 2 * live + allowance {
            return;
        }
        let mut scratch = String::new();
        let mut unused: Vec<(u64, Sym)> = self
            .metadata
            .iter()
            .filter(|&(&family, _)| !self.family_in_use(family, &mut scratch))
            .map(|(&family, e)| (e.seq, family))
            .collect();
        let drop = unused.len().saturating_sub(allowance / 2);
        if drop == 0 {
            return;
        }
        if drop < unused.len() {
            unused.select_nth_unstable(drop - 1);
        }
        for &(_, family) in &unused[..drop] {
            if let Some(e) = self.metadata.remove(&family) {
                self.strings.release(e.info.help);
                self.strings.release(e.info.unit);
                self.strings.release(family);
            }
        }
    }

    /// Interns a label set; the caller owns one reference per name and value.
    fn intern_labels(&mut self, data: &WriteData, range: Range<u32>) -> Box<[(Sym, Sym)]> {
        data.label_pairs(range)
            .map(|(k, v)| (self.strings.acquire(k), self.strings.acquire(v)))
            .collect()
    }

    /// Finds or creates the series with these labels.
    fn series_for(&mut self, data: &WriteData, series: &crate::ingest::model::Series) -> SeriesId {
        let (label_hash, labels) = (series.label_hash, series.labels.clone());
        let hash = short_hash(label_hash);
        let pairs = data
            .labels
            .get(labels.start as usize..labels.end as usize)
            .unwrap_or(&[]);
        let (series, strings) = (&self.series, &self.strings);
        let found = self.index.find(index_hash(hash), |&slot| {
            let Some((_, s)) = series.at(slot) else {
                return false;
            };
            let same = |l: &crate::ingest::model::LabelRef, &(n, v): &(Sym, Sym)| {
                strings.resolve(n).as_bytes() == data.bytes(l.name)
                    && strings.resolve(v).as_bytes() == data.bytes(l.value)
            };
            // Stored labels are sorted; so are a sender's, almost always.
            s.hash == hash
                && s.labels.len() == pairs.len()
                && (pairs.iter().zip(s.labels.iter()).all(|(l, p)| same(l, p))
                    || pairs.iter().all(|l| s.labels.iter().any(|p| same(l, p))))
        });
        if let Some(&slot) = found
            && let Some((id, s)) = self.series.at_mut(slot)
        {
            s.last_seen_seq = self.seq;
            return id;
        }
        self.distinct.insert(label_hash);
        let mut sorted = self.intern_labels(data, labels);
        sorted.sort_unstable_by(|a, b| self.strings.resolve(a.0).cmp(self.strings.resolve(b.0)));
        self.create_series(sorted, hash)
    }

    fn create_series(&mut self, labels: Box<[(Sym, Sym)]>, hash: u32) -> SeriesId {
        let name = labels
            .iter()
            .find(|l| l.0 == self.name_label)
            .map_or(self.empty, |l| l.1);
        let metric_id = match self.metric_index.get(&name) {
            Some(&m) => m,
            None => {
                // The entry holds its name until the entry is freed.
                self.strings.retain(name);
                let id = self.metrics.insert(Metric {
                    name,
                    ..Metric::default()
                });
                self.metric_index.insert(name, id);
                id
            }
        };
        let matched = {
            let strings = &self.strings;
            let pairs = labels
                .iter()
                .map(|&(n, v)| (strings.resolve(n), strings.resolve(v)));
            self.filter.matches(pairs, &mut self.scratch)
        };
        let pos_in_metric = self
            .metrics
            .get(metric_id)
            .map_or(0, |m| m.series.len() as u32);
        let id = self.series.insert(Series {
            labels,
            metric: metric_id,
            hash,
            pos_in_metric,
            points: Ring::default(),
            rare: None,
            kind: SeriesKind::default(),
            last_arrival_ms: 0,
            last_seen_seq: self.seq,
            rate: WindowRate::default(),
            samples_total: 0,
            matched,
            start_timestamp_ms: 0,
        });
        if let Some(metric) = self.metrics.get_mut(metric_id) {
            metric.series.push(id.index());
            metric.version += 1;
            if matched {
                if metric.matched == 0 {
                    self.matched_metrics += 1;
                }
                metric.matched += 1;
                self.matched_series += 1;
            }
        }
        self.metrics_version += 1;
        let series = &self.series;
        self.index
            .insert_unique(index_hash(hash), id.index(), |&slot| {
                series.at(slot).map_or(0, |(_, s)| index_hash(s.hash))
            });
        id
    }

    fn add_point(
        &mut self,
        id: SeriesId,
        timestamp_ms: i64,
        value: f64,
        kind: SeriesKind,
        start_ts: i64,
        arrival_ms: i64,
    ) {
        let capacity = self.limits.samples_per_series;
        let Some(s) = self.series.get_mut(id) else {
            return;
        };
        if let Some(last) = s.points.last() {
            if timestamp_ms < last.timestamp_ms {
                s.rare().anomalies.out_of_order += 1;
            } else if timestamp_ms == last.timestamp_ms {
                s.rare().anomalies.duplicate += 1;
            }
        }
        if kind == SeriesKind::Float && is_stale_nan(value) {
            s.rare().anomalies.stale += 1;
        }
        if timestamp_ms > arrival_ms.saturating_add(FUTURE_TOLERANCE_MS) {
            s.rare().anomalies.future += 1;
        }
        s.points.push(
            Point {
                timestamp_ms,
                value,
            },
            capacity,
        );
        s.kind = kind;
        s.last_arrival_ms = arrival_ms;
        s.samples_total += 1;
        if start_ts != 0 {
            s.start_timestamp_ms = start_ts;
        }
        if self.limits.log_len > 0 {
            if self.log.len() >= self.limits.log_len {
                self.log.pop_front();
                self.log_start += 1;
            }
            self.log.push_back(LogEntry {
                arrival_ms,
                series: id,
                timestamp_ms,
                value,
                kind,
            });
        }
    }

    fn evict_least_recent(&mut self, count: usize) {
        let mut ages: Vec<(u64, SeriesId)> = self
            .series
            .iter()
            .filter(|(_, s)| s.last_seen_seq < self.seq)
            .map(|(id, s)| (s.last_seen_seq, id))
            .collect();
        let count = count.min(ages.len());
        if count == 0 {
            return;
        }
        if count < ages.len() {
            ages.select_nth_unstable(count - 1);
        }
        for &(_, id) in &ages[..count] {
            self.remove_series(id);
        }
        self.evicted_series += count as u64;
    }

    fn remove_series(&mut self, id: SeriesId) {
        let Some(old) = self.series.remove(id) else {
            return;
        };
        release_labels(&mut self.strings, &old.labels);
        for e in old.exemplars() {
            release_labels(&mut self.strings, &e.labels);
        }
        let slot = id.index();
        if let Ok(entry) = self.index.find_entry(index_hash(old.hash), |&i| i == slot) {
            entry.remove();
        }
        self.metrics_version += 1;
        let Some(metric) = self.metrics.get_mut(old.metric) else {
            return;
        };
        let pos = old.pos_in_metric as usize;
        metric.series.swap_remove(pos);
        if let Some(&moved) = metric.series.get(pos)
            && let Some((_, moved)) = self.series.at_mut(moved)
        {
            moved.pos_in_metric = pos as u32;
        }
        metric.version += 1;
        if old.matched {
            metric.matched -= 1;
            self.matched_series -= 1;
            if metric.matched == 0 {
                self.matched_metrics -= 1;
            }
        }
        if metric.series.is_empty() {
            self.free_metric(old.metric);
        }
    }

    /// Frees the entry of a metric whose last series went, for another name to
    /// reuse: a sender churning metric names must not grow the store.
    fn free_metric(&mut self, id: MetricId) {
        if let Some(metric) = self.metrics.remove(id) {
            self.metric_index.remove(&metric.name);
            self.strings.release(metric.name);
        }
    }

    /// Applies a new filter, re-evaluating every series once, in parallel over
    /// the machine's cores when there are many series.
    pub fn set_filter(&mut self, filter: Filter) {
        self.filter = filter;
        let (strings, filter) = (&self.strings, &self.filter);
        let judge = |part: &mut [Option<Series>]| {
            let mut pass = filter.pass();
            for s in part.iter_mut().flatten() {
                s.matched = pass.matches(
                    s.labels.iter(),
                    |&(n, v)| (strings.resolve(n), strings.resolve(v)),
                    // Interned ids: equal pairs, equal keys, while the pass lasts.
                    |&(n, v)| u64::from(n.0) << 32 | u64::from(v.0),
                );
            }
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let slots = self.series.values_mut();
        if threads > 1 && slots.len() >= PARALLEL_FILTER_SERIES {
            let chunk = slots.len().div_ceil(threads);
            std::thread::scope(|scope| {
                for part in slots.chunks_mut(chunk) {
                    scope.spawn(move || judge(part));
                }
            });
        } else {
            judge(slots);
        }
        self.matched_series = 0;
        self.matched_metrics = 0;
        for m in self.metrics.values_mut().iter_mut().flatten() {
            m.matched = m
                .series
                .iter()
                .filter(|&&slot| self.series.at(slot).is_some_and(|(_, s)| s.matched))
                .count() as u32;
            m.version += 1;
            self.matched_series += m.matched as usize;
            self.matched_metrics += usize::from(m.matched > 0);
        }
        self.metrics_version += 1;
    }

    /// The filter in force.
    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    /// Resolves an interned string.
    pub fn str(&self, sym: Sym) -> &str {
        self.strings.resolve(sym)
    }

    /// The id of an interned string.
    pub fn sym(&self, s: &str) -> Option<Sym> {
        self.strings.get(s)
    }

    /// A series, unless it was evicted since `id` was taken.
    pub fn series(&self, id: SeriesId) -> Option<&Series> {
        self.series.get(id)
    }

    /// The live series of a metric, with their ids.
    pub fn series_of<'a>(
        &'a self,
        metric: &'a Metric,
    ) -> impl Iterator<Item = (SeriesId, &'a Series)> + 'a {
        metric
            .series
            .iter()
            .filter_map(|&slot| self.series.at(slot))
    }

    /// Whatever series holds `id`'s slot now, evicted or not: tests check
    /// that a slot was reused.
    #[cfg(test)]
    pub(crate) fn series_in_slot_of(&self, id: SeriesId) -> Option<&Series> {
        self.series.at(id.index()).map(|(_, s)| s)
    }

    /// Label pairs of a series, as strings.
    pub fn label_pairs<'a>(
        &'a self,
        labels: &'a [(Sym, Sym)],
    ) -> impl Iterator<Item = (&'a str, &'a str)> + Clone + 'a {
        labels.iter().map(|&(n, v)| (self.str(n), self.str(v)))
    }

    /// A series in PromQL notation.
    pub fn series_text(&self, labels: &[(Sym, Sym)]) -> String {
        crate::format::series(self.label_pairs(labels))
    }

    /// Live metrics, with their ids.
    pub fn metrics(&self) -> impl Iterator<Item = (MetricId, &Metric)> {
        self.metrics.iter()
    }

    /// A metric, unless its series all went since `id` was taken.
    pub fn metric(&self, id: MetricId) -> Option<&Metric> {
        self.metrics.get(id)
    }

    /// Whatever metric holds `id`'s slot now (see [`Store::series_in_slot_of`]).
    #[cfg(test)]
    pub(crate) fn metric_in_slot_of(&self, id: MetricId) -> Option<&Metric> {
        self.metrics.at(id.index()).map(|(_, m)| m)
    }

    /// The metadata that applies to a metric name: its own, or its family's
    /// (`foo` for `foo_bucket`, `foo_sum`, `foo_count`, `foo_total`, `foo_created`).
    pub fn metadata_for(&self, name: &str) -> Option<MetaInfo> {
        let lookup = |n: &str| {
            self.strings
                .get(n)
                .and_then(|s| self.metadata.get(&s))
                .map(|e| e.info)
        };
        lookup(name).or_else(|| {
            FAMILY_SUFFIXES
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix).and_then(lookup))
        })
    }

    /// A metric's type from metadata, or else inferred from its data and name
    /// (`true` = inferred).
    pub fn metric_type(&self, metric: &Metric) -> (MetricType, bool) {
        let name = self.str(metric.name);
        if let Some(m) = self
            .metadata_for(name)
            .filter(|m| m.metric_type != MetricType::Unknown)
        {
            return (m.metric_type, false);
        }
        let inferred = if metric.has_histograms || name.ends_with("_bucket") {
            MetricType::Histogram
        } else if name.ends_with("_total") || name.ends_with("_created") {
            MetricType::Counter
        } else if name.ends_with("_info") {
            MetricType::Info
        } else {
            // `_sum` and `_count` belong to histograms and summaries alike.
            MetricType::Unknown
        };
        (inferred, true)
    }

    /// The recent-samples log, oldest first.
    pub fn log(&self) -> &VecDeque<LogEntry> {
        &self.log
    }

    /// Absolute position of `log()[0]` among all entries ever logged.
    pub fn log_start(&self) -> u64 {
        self.log_start
    }

    /// Absolute position of `requests()[0]`.
    pub fn requests_start(&self) -> u64 {
        self.requests_start
    }

    /// The request log, oldest first.
    pub fn requests(&self) -> &VecDeque<RequestRow> {
        &self.requests
    }

    /// Run totals.
    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// Live series.
    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    /// Live series matching the filter.
    pub fn matched_series(&self) -> usize {
        self.matched_series
    }

    /// Metric names with live series.
    pub fn metric_count(&self) -> usize {
        self.metric_index.len()
    }

    /// Metric names with series matching the filter.
    pub fn matched_metrics(&self) -> usize {
        self.matched_metrics
    }

    /// Series evicted to respect `max_series`.
    pub fn evicted_series(&self) -> u64 {
        self.evicted_series
    }

    /// Distinct series seen since the start, including evicted ones.
    pub fn distinct_series(&self) -> DistinctCount {
        self.distinct.count()
    }

    /// Bumped whenever metrics appear, lose or gain series (or go), or the filter changes.
    pub fn metrics_version(&self) -> u64 {
        self.metrics_version
    }

    /// Whether any request arrived.
    pub fn has_data(&self) -> bool {
        self.seq > 0
    }
}

#[cfg(test)]
mod tests;
