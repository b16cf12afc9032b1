//! Pure state built from received batches, for the dashboard. No I/O; time is
//! passed in. [`Store`] composes parts with one job each:
//!
//! ```text
//! Batch ─▶ Store::ingest ─┬─▶ series::SeriesIndex   series in generational slots, by label set;
//!                         │                          points, rate, anomalies, exemplars; eviction
//!                         ├─▶ metrics::MetricTable  per metric name: its series, rate, filter counts
//!                         ├─▶ metadata::MetadataCache  type, help, unit by family (bounded)
//!                         ├─▶ history::Log          recent-samples log, request log
//!                         └─▶ rate, summary::{totals, distinct}  traffic rates, run totals
//! ```
//!
//! Label names and values are interned once ([`intern`]) and shared by all parts;
//! [`slots`] gives series and metrics the handles views hold across frames.

pub mod arrival;
mod budget;
pub mod cardinality;
pub mod counts;
pub mod histogram;
pub mod history;
pub mod intern;
pub mod kept;
pub mod metadata;
pub mod metrics;
pub mod problems;
pub mod rate;
pub mod ring;
pub mod series;
pub mod slots;
mod upstream;

use std::collections::VecDeque;
use std::time::UNIX_EPOCH;

use crate::filter::Filter;
use crate::ingest::model::{self, Batch, HistogramExt, MetricType, WriteData};
use crate::summary::distinct::DistinctCounter;
use crate::summary::totals::Totals;
pub use budget::Evictions;
use cardinality::{Cardinality, SeriesRef};
use counts::ActiveSeries;
use history::Log;
pub use history::{BackendSide, LogEntry, RequestRow};
use intern::{Interner, Sym};
use kept::KeptRequests;
pub use metadata::MetaInfo;
use metadata::MetadataCache;
use metrics::MetricTable;
pub use metrics::{Metric, MetricId};
use rate::RateBuckets;
use ring::Point;
use series::SeriesIndex;
pub use series::{
    Anomalies, MAX_EXEMPLAR_LABEL_BYTES, Series, SeriesId, SeriesKind, StoredExemplar,
};

/// Default of [`StoreLimits::max_bytes`]: room for the default million series
/// with 64 samples each, while a sender whose labels, histograms or metadata
/// are large gets fewer series.
pub const MAX_STORE_BYTES: usize = 1 << 30;

/// Asked now and then during a long pass over every series (re-filtering):
/// true means something more urgent waits (the user typed a key), and the
/// pass stops, changing nothing.
pub type GiveWay<'a> = &'a (dyn Fn() -> bool + Sync);

/// Bounds on what the store keeps.
#[derive(Debug, Clone, Copy)]
pub struct StoreLimits {
    /// Series kept; the least recently seen are evicted beyond this.
    pub max_series: usize,
    /// Bytes of strings, series, histograms, exemplars, metrics and metadata
    /// kept (see [`Store::held_bytes`]); the least recently seen series are
    /// evicted beyond this.
    pub max_bytes: usize,
    /// Recent samples kept per series.
    pub samples_per_series: usize,
    /// Entries in the recent-samples log.
    pub log_len: usize,
    /// Entries in the request log.
    pub requests_len: usize,
    /// Exemplars kept per series.
    pub exemplars_per_series: usize,
    /// A series not seen for this long counts as gone (churn).
    pub stale_after_ms: i64,
    /// Whether label values and churn are tracked (the cardinality view);
    /// off only to measure what tracking costs.
    pub track_cardinality: bool,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            max_series: 1_000_000,
            max_bytes: MAX_STORE_BYTES,
            samples_per_series: 64,
            log_len: 20_000,
            requests_len: 1_000,
            exemplars_per_series: 8,
            stale_after_ms: cardinality::STALE_AFTER_MS,
            track_cardinality: true,
        }
    }
}

/// Everything the dashboard shows, built incrementally from batches.
pub struct Store {
    limits: StoreLimits,
    /// Every label name and value, help and unit the parts hold, reference-counted.
    strings: Interner,
    series: SeriesIndex,
    metrics: MetricTable,
    metadata: MetadataCache,
    samples: Log<LogEntry>,
    requests: Log<RequestRow>,
    /// The latest requests as they arrived, to open (see [`kept`]).
    kept: KeptRequests,
    totals: Totals,
    /// Requests, samples and bytes per second.
    pub request_rate: RateBuckets,
    /// See [`Store::request_rate`].
    pub sample_rate: RateBuckets,
    /// See [`Store::request_rate`].
    pub byte_rate: RateBuckets,
    filter: Filter,
    /// Requests received; a series remembers the last that carried it.
    seq: u64,
    evictions: Evictions,
    /// Exemplars not kept because their labels were over [`MAX_EXEMPLAR_LABEL_BYTES`].
    oversized_exemplars: u64,
    /// Label sets ever seen, evicted or not, for the closing summary.
    distinct: DistinctCounter,
    /// Problems found, by rule.
    problems: problems::ProblemTable,
    /// Series with a recent sample, all and matching the filter.
    active: ActiveSeries,
    matched_active: ActiveSeries,
    /// Label values per metric and overall, and series coming and going.
    cardinality: Cardinality,
    scratch: String,
    /// `""` and `__name__`, held for the store's lifetime (see [`Store::new`]).
    empty: Sym,
    name_label: Sym,
}

fn epoch_ms(t: std::time::SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Store {
    pub fn new(limits: StoreLimits) -> Self {
        // Pinned so that finding a series' metric name needs no lookup.
        let mut strings = Interner::default();
        let empty = strings.acquire("");
        let name_label = strings.acquire("__name__");
        Store {
            limits,
            strings,
            series: SeriesIndex::default(),
            metrics: MetricTable::default(),
            metadata: MetadataCache::default(),
            samples: Log::new(limits.log_len),
            requests: Log::new(limits.requests_len),
            kept: KeptRequests::new(limits.requests_len, kept::budget(limits.max_bytes)),
            totals: Totals::default(),
            request_rate: RateBuckets::default(),
            sample_rate: RateBuckets::default(),
            byte_rate: RateBuckets::default(),
            filter: Filter::all(),
            seq: 0,
            evictions: Evictions::default(),
            oversized_exemplars: 0,
            distinct: DistinctCounter::default(),
            problems: problems::ProblemTable::default(),
            active: ActiveSeries::default(),
            matched_active: ActiveSeries::default(),
            cardinality: Cardinality::new(limits.stale_after_ms),
            scratch: String::new(),
            empty,
            name_label,
        }
    }

    /// Keeping the latest requests as they arrived within `bytes` (see [`kept`]).
    pub fn keeping_request_bytes(mut self, bytes: usize) -> Self {
        self.kept = KeptRequests::new(self.limits.requests_len, bytes);
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> StoreLimits {
        self.limits
    }

    /// Adds one request.
    pub fn ingest(&mut self, batch: &Batch) {
        let arrival_ms = epoch_ms(batch.info.received_at);
        self.count_request(batch, arrival_ms);
        // A rejected request's data is what was written all the same (RW 2.0
        // series kept beside refused ones): usually nothing.
        let data = &batch.data;
        for m in &data.metadata {
            self.set_metadata(data, m);
        }
        let mut samples = 0;
        for s in &data.series {
            samples += self.ingest_series(data, s, arrival_ms);
        }
        self.sample_rate.add(arrival_ms, samples);
        self.record_problems(batch, arrival_ms);
        self.flag_upstream_rejection(batch);
        // Once per request, when this request's series are in place.
        self.enforce_bounds();
    }

    /// Counts a request, accepted or not, in the totals, rates and request log.
    fn count_request(&mut self, batch: &Batch, arrival_ms: i64) {
        self.seq += 1;
        self.totals.record(batch);
        self.request_rate.add(arrival_ms, 1);
        self.byte_rate
            .add(arrival_ms, batch.info.compressed_bytes as u64);
        self.requests.push(RequestRow::of(batch, arrival_ms));
        if let Some(raw) = &batch.info.raw {
            let pos = self.requests.start() + self.requests.entries().len() as u64;
            self.kept.push(pos.saturating_sub(1), raw.clone());
        }
    }

    /// Adds one series' samples, histograms and exemplars; returns how many
    /// samples and histograms it carried.
    fn ingest_series(
        &mut self,
        data: &WriteData,
        s: &model::ReceivedSeries,
        arrival_ms: i64,
    ) -> u64 {
        if let Some(m) = &s.metadata {
            self.set_metadata(data, m);
        }
        let id = self.series_for(data, s, arrival_ms);
        let (samples, histograms) = (data.samples_of(s), data.histograms_of(s));
        let capacity = self.limits.samples_per_series;
        let log = &mut self.samples;
        let changed = self.series.update(id, |series| {
            let before_ms = series.last_arrival_ms;
            let ended_before = cardinality::ended(series);
            let points = samples
                .iter()
                .map(|p| {
                    (
                        p.timestamp_ms,
                        p.value,
                        SeriesKind::Float,
                        p.effective_start_ts(s),
                    )
                })
                .chain(histograms.iter().map(|h| {
                    let start = h.effective_start_ts(s);
                    (h.timestamp, h.total_count(), SeriesKind::Histogram, start)
                }));
            for (timestamp_ms, value, kind, start) in points {
                let point = Point {
                    timestamp_ms,
                    value,
                };
                series.add_point(point, kind, start, arrival_ms, capacity);
                log.push(LogEntry {
                    arrival_ms,
                    series: id,
                    timestamp_ms,
                    value,
                    kind,
                });
            }
            if let Some(h) = histograms.last() {
                series.set_histogram(h);
            }
            series.rate.add(
                before_ms,
                arrival_ms,
                (samples.len() + histograms.len()) as u32,
            );
            let ended = (ended_before, cardinality::ended(series));
            let times = (before_ms, series.last_arrival_ms);
            (series.metric, series.matched, times, ended)
        });
        let Some((metric, matched, (before_ms, after_ms), ended)) = changed else {
            return 0;
        };
        if self.limits.track_cardinality && after_ms != before_ms && ended != (true, true) {
            let before = if ended.0 { 0 } else { before_ms };
            self.cardinality.seen(metric, before, after_ms, ended.1);
        }
        if after_ms != before_ms {
            self.active.moved(before_ms, after_ms);
            if matched {
                self.matched_active.moved(before_ms, after_ms);
            }
        }
        let n = (samples.len() + histograms.len()) as u64;
        self.metrics
            .record(metric, arrival_ms, n, !histograms.is_empty(), matched);
        self.keep_exemplars(id, data, s);
        n
    }

    /// Keeps a series' newest exemplars, unless their labels are over
    /// [`MAX_EXEMPLAR_LABEL_BYTES`] (counted instead). With no room for any,
    /// their labels are not even interned.
    fn keep_exemplars(&mut self, id: SeriesId, data: &WriteData, s: &model::ReceivedSeries) {
        let capacity = self.limits.exemplars_per_series;
        // The series is there (it was just found or created), so every
        // exemplar below is kept by it or released.
        if capacity == 0 || self.series.get(id).is_none() {
            return;
        }
        for e in data.exemplars_of(s) {
            let pairs = data.label_pairs(e.labels.clone());
            let label_bytes: usize = pairs.clone().map(|(n, v)| n.len() + v.len()).sum();
            if label_bytes > MAX_EXEMPLAR_LABEL_BYTES {
                self.oversized_exemplars += 1;
                continue;
            }
            let exemplar = StoredExemplar {
                labels: self.strings.acquire_labels(pairs),
                value: e.value,
                timestamp_ms: e.timestamp_ms,
            };
            let keep = |series: &mut Series| series.keep_exemplar(exemplar, capacity);
            if let Some(Some(old)) = self.series.update(id, keep) {
                self.strings.release_labels(&old.labels);
            }
        }
    }

    fn set_metadata(&mut self, data: &WriteData, m: &model::Metadata) {
        self.metadata
            .set(&mut self.strings, &self.metrics, (data, m), self.seq);
    }

    /// Finds or creates the series with these labels.
    fn series_for(
        &mut self,
        data: &WriteData,
        s: &model::ReceivedSeries,
        arrival_ms: i64,
    ) -> SeriesId {
        let pairs = data
            .labels
            .get(s.labels.start as usize..s.labels.end as usize)
            .unwrap_or(&[]);
        if let Some(id) = self
            .series
            .find(data, pairs, s.label_hash, &self.strings, self.seq)
        {
            return id;
        }
        self.distinct.insert(s.label_hash);
        let mut sorted = self
            .strings
            .acquire_labels(data.label_pairs(s.labels.clone()));
        sorted.sort_unstable_by(|a, b| self.strings.resolve(a.0).cmp(self.strings.resolve(b.0)));
        let id = self.create_series(sorted, s.label_hash);
        if let Some(series) = self
            .series
            .get(id)
            .filter(|_| self.limits.track_cardinality)
        {
            let place = SeriesRef {
                metric: series.metric,
                labels: &series.labels,
            };
            let strings = &mut self.strings;
            self.cardinality
                .added(place, self.name_label, arrival_ms, strings);
        }
        id
    }

    /// Adds a series under its metric (created if new), judged by the filter in force.
    fn create_series(&mut self, labels: Box<[(Sym, Sym)]>, label_hash: u64) -> SeriesId {
        let name = labels
            .iter()
            .find(|l| l.0 == self.name_label)
            .map_or(self.empty, |l| l.1);
        if !self.metrics.has_name(name) {
            self.metadata
                .metric_added(&self.strings, self.strings.resolve(name));
        }
        let metric = self.metrics.entry(name, &mut self.strings);
        let matched = {
            let strings = &self.strings;
            let pairs = labels
                .iter()
                .map(|&(n, v)| (strings.resolve(n), strings.resolve(v)));
            self.filter.matches(pairs, &mut self.scratch)
        };
        let id = self
            .series
            .insert(Series::new(labels, label_hash, metric, self.seq, matched));
        let pos = self.metrics.add_series(metric, id, matched);
        self.series.set_pos_in_metric(id.index(), pos);
        self.reserve_ahead();
        id
    }

    /// Applies a new filter, set at `now_ms`, re-evaluating every series once.
    pub fn set_filter(&mut self, filter: Filter, now_ms: i64) {
        // Never giving way, it always applies.
        let _ = self.try_set_filter(filter, now_ms, &|| false);
    }

    /// Applies a new filter, set at `now_ms`, unless `give_way` turns true
    /// before every series is judged and counted (over a million series that
    /// takes a good part of a second): then the filter in force stays, with
    /// its verdicts and counts, and the new one is handed back.
    pub fn try_set_filter(
        &mut self,
        filter: Filter,
        now_ms: i64,
        give_way: GiveWay,
    ) -> Result<(), Filter> {
        let Some(verdicts) = self.series.judge(&filter, &self.strings, give_way) else {
            return Err(filter);
        };
        let filtered = !filter.is_all();
        let mut matched_active = self.active.emptied();
        let counted = self.metrics.recount(
            &self.series,
            &verdicts,
            (now_ms, filtered),
            |s| matched_active.moved(0, s.last_arrival_ms),
            give_way,
        );
        if !counted {
            return Err(filter);
        }
        self.series.set_verdicts(&verdicts);
        self.filter = filter;
        self.matched_active = if filtered {
            matched_active
        } else {
            self.active.clone()
        };
        Ok(())
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
            .series_slots()
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
        crate::text::promql::series(self.label_pairs(labels))
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
        self.metrics.in_slot_of(id)
    }

    /// The metadata that applies to a metric name: its own, or its family's
    /// (`foo` for `foo_bucket`, `foo_sum`, `foo_count`, `foo_total`, `foo_created`).
    pub fn metadata_for(&self, name: &str) -> Option<MetaInfo> {
        self.metadata.lookup(&self.strings, name)
    }

    /// A metric's type from metadata, or else inferred from its data and name
    /// (`true` = inferred).
    pub fn metric_type(&self, metric: &Metric) -> (MetricType, bool) {
        let name = self.str(metric.name);
        self.metadata
            .metric_type(&self.strings, name, metric.has_histograms)
    }

    /// The recent-samples log, oldest first.
    pub fn log(&self) -> &VecDeque<LogEntry> {
        self.samples.entries()
    }

    /// Absolute position of `log()[0]` among all entries ever logged.
    pub fn log_start(&self) -> u64 {
        self.samples.start()
    }

    /// Absolute position of `requests()[0]`.
    pub fn requests_start(&self) -> u64 {
        self.requests.start()
    }

    /// The request log, oldest first.
    pub fn requests(&self) -> &VecDeque<RequestRow> {
        self.requests.entries()
    }

    /// The stored series of a series of a request, if it is (still) stored.
    pub fn find_series(&self, data: &WriteData, s: &model::ReceivedSeries) -> Option<SeriesId> {
        let range = s.labels.start as usize..s.labels.end as usize;
        let pairs = data.labels.get(range).unwrap_or(&[]);
        self.series
            .look_up(data, pairs, s.label_hash, &self.strings)
    }

    /// The request at position `pos` of the request log as it arrived, while kept.
    pub fn kept_request(&self, pos: u64) -> Option<&std::sync::Arc<model::RawRequest>> {
        self.kept.get(pos)
    }

    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// Exemplars not kept because their labels were over [`MAX_EXEMPLAR_LABEL_BYTES`].
    pub fn oversized_exemplars(&self) -> u64 {
        self.oversized_exemplars
    }

    /// Bumped whenever metrics appear, lose or gain series (or go), or the filter changes.
    pub fn metrics_version(&self) -> u64 {
        self.metrics.version()
    }

    /// Whether any request arrived.
    pub fn has_data(&self) -> bool {
        self.seq > 0
    }
}

#[cfg(test)]
mod tests;
