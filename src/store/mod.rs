//! Pure state built from received batches, for the dashboard. No I/O; time is
//! passed in. [`Store`] composes parts with one job each:
//!
//! ```text
//! Batch ─▶ Store::ingest ─┬─▶ series::SeriesIndex   series in generational slots, by label set;
//!                         │                          points, rate, anomalies, exemplars; eviction
//!                         ├─▶ metrics::MetricTable  per metric name: its series, rate, filter counts
//!                         ├─▶ metadata::MetadataCache  type, help, unit by family (bounded)
//!                         ├─▶ history::Log          recent-samples log, request log
//!                         ├─▶ rate, summary::{totals, distinct}  traffic rates, run totals
//!                         └─▶ tracking: cardinality, parties  label values and churn;
//!                                                    tenants and senders
//! ```
//!
//! Label names and values are interned once ([`intern`]) and shared by all parts;
//! [`slots`] gives series and metrics the handles views hold across frames.

pub mod arrival;
mod budget;
pub mod cardinality;
pub mod counts;
mod filtering;
pub mod histogram;
pub mod history;
pub mod intern;
pub mod kept;
pub mod metadata;
pub mod metrics;
pub mod offences;
pub mod parties;
pub mod problems;
pub mod rate;
mod read;
pub mod ring;
pub mod series;
mod shares;
pub mod slots;
mod tracking;
mod upstream;
mod verdicts;

use std::time::UNIX_EPOCH;

use crate::filter::Filter;
use crate::ingest::model::{self, Batch, HistogramExt, WriteData};
use crate::summary::distinct::DistinctCounter;
use crate::summary::totals::Totals;
pub use budget::Evictions;
use cardinality::Cardinality;
use counts::ActiveCounts;
use history::Log;
pub use history::{BackendSide, LogEntry, RequestRow};
use intern::{Interner, Sym};
use kept::KeptRequests;
pub use metadata::MetaInfo;
use metadata::MetadataCache;
use metrics::MetricTable;
pub use metrics::{Metric, MetricId};
use parties::{Origin, Parties};
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
    /// The latest offences of all series, with their offending samples.
    offences: offences::Offences,
    /// The sets of rules fired on series, which series refer to.
    fired_sets: offences::FiredSets,
    /// Series active, all and matching the filter.
    active: ActiveCounts,
    /// Label values per metric and overall, and series coming and going.
    cardinality: Cardinality,
    /// Per tenant and per sender.
    tenants: Parties,
    senders: Parties,
    /// Who sent the request being ingested.
    origin: Origin,
    /// Series seen not yet told to the parties (see [`tracking::SeenRun`]).
    seen_run: Option<tracking::SeenRun>,
    scratch: String,
    /// `""` and `__name__`, held for the store's lifetime (see [`Store::new`]).
    empty: Sym,
    name_label: Sym,
}

fn epoch_ms(t: std::time::SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A request whose series are being applied a part at a time (see
/// [`Store::ingest_start`]).
#[derive(Debug)]
pub struct Ingesting {
    /// Its first series not applied yet.
    next: usize,
    samples: u64,
    arrival_ms: i64,
    origin: Origin,
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
            offences: offences::Offences::default(),
            fired_sets: offences::FiredSets::default(),
            active: ActiveCounts::new(limits.stale_after_ms),
            cardinality: Cardinality::new(limits.stale_after_ms),
            tenants: Parties::new(limits.stale_after_ms),
            senders: Parties::new(limits.stale_after_ms),
            origin: Origin::NONE,
            seen_run: None,
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
        let mut under_way = self.ingest_start(batch);
        self.ingest_part(batch, &mut under_way, usize::MAX);
    }

    /// Counts `batch` and applies its metadata; its series follow with
    /// [`Store::ingest_part`], a part at a time, so that a big request does
    /// not hold up the keyboard.
    pub fn ingest_start(&mut self, batch: &Batch) -> Ingesting {
        let arrival_ms = epoch_ms(batch.info.received_at);
        self.count_request(batch, arrival_ms);
        let origin = self.origin_of(batch);
        // A rejected request's data is what was written all the same (RW 2.0
        // series kept beside refused ones): usually nothing.
        let data = &batch.data;
        for m in &data.metadata {
            self.set_metadata(data, m);
        }
        Ingesting {
            next: 0,
            samples: 0,
            arrival_ms,
            origin,
        }
    }

    /// Applies up to `most` more of `batch`'s series (as started by
    /// [`Store::ingest_start`]), and once they are all in, what is done once
    /// per request. Returns whether the request is all in.
    pub fn ingest_part(&mut self, batch: &Batch, under_way: &mut Ingesting, most: usize) -> bool {
        let data = &batch.data;
        let end = under_way.next.saturating_add(most).min(data.series.len());
        self.origin = under_way.origin;
        let mut applied = None;
        for s in &data.series[under_way.next.min(end)..end] {
            under_way.samples += self.ingest_series(data, s, under_way.arrival_ms, &mut applied);
        }
        self.flush_seen();
        under_way.next = end;
        if end < data.series.len() {
            return false;
        }
        let (arrival_ms, samples) = (under_way.arrival_ms, under_way.samples);
        self.sample_rate.add(arrival_ms, samples);
        self.track_request(self.origin, arrival_ms, samples);
        self.record_problems(batch, arrival_ms);
        self.flag_upstream_rejection(batch);
        // Once per request, when this request's series are in place.
        self.enforce_bounds();
        true
    }

    /// Counts a request, accepted or not, in the totals, rates and request log.
    fn count_request(&mut self, batch: &Batch, arrival_ms: i64) {
        self.seq += 1;
        self.totals.record(batch);
        // A repeat (failed TLS handshakes) is counted as it comes, and listed
        // by the entry its while ends with, which counts as none.
        self.request_rate.add(arrival_ms, batch.info.counted());
        self.byte_rate
            .add(arrival_ms, batch.info.compressed_bytes as u64);
        if !batch.info.is_listed() {
            return;
        }
        let row = RequestRow {
            taken: self.seq,
            ..RequestRow::of(batch, arrival_ms)
        };
        // In arrival order, as the TIME column and captures are: two
        // senders' requests were listed as decoded (15.798 above 15.797).
        self.requests.push_in_order(row, |r| r.arrival_ms);
        if let Some(raw) = &batch.info.raw {
            self.kept.push(self.seq, raw.clone());
        }
    }

    /// Adds one series' samples, histograms and exemplars and its metadata
    /// unless it is the same as `applied` (the last applied of the request,
    /// see below); returns how many samples and histograms it carried.
    fn ingest_series(
        &mut self,
        data: &WriteData,
        s: &model::ReceivedSeries,
        arrival_ms: i64,
        applied: &mut Option<model::Metadata>,
    ) -> u64 {
        // RW 2.0 repeats a family's metadata on every series, and a family's
        // series follow each other. Within a request, equal string ids are
        // equal text (a symbol referred to again), and only the request's
        // own metadata changes the cache until its end (trimmed in
        // `enforce_bounds`): what equals the last one applied is in place.
        if let Some(m) = s.metadata
            && *applied != Some(m)
        {
            self.set_metadata(data, &m);
            *applied = Some(m);
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
            let seen = tracking::Seen {
                metric: series.metric,
                origin: series.origin,
                times: (before_ms, series.last_arrival_ms),
                ended: (ended_before, cardinality::ended(series)),
            };
            (series.matched, seen)
        });
        let Some((matched, seen)) = changed else {
            return 0;
        };
        let (metric, times, ended) = (seen.metric, seen.times, seen.ended);
        self.track_seen(seen);
        self.count_active(times, ended, matched);
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
        let tenant = self.strings.acquire(data.tenant());
        let id = self.create_series((sorted, tenant), s.label_hash);
        self.track_created(id, arrival_ms);
        id
    }

    /// Adds a series under its metric (created if new), judged by the filter in force.
    fn create_series(
        &mut self,
        (labels, tenant): (Box<[(Sym, Sym)]>, Sym),
        label_hash: u64,
    ) -> SeriesId {
        let name = labels
            .iter()
            .find(|l| l.0 == self.name_label)
            .map_or(self.empty, |l| l.1);
        if !self.metrics.has_name(name) {
            self.metadata
                .metric_added(&self.strings, self.strings.resolve(name));
        }
        let metric = self.metrics.entry(name, &mut self.strings);
        let matched = self.judge_new(&labels, self.origin);
        let id = self.series.insert(Series::new(
            (labels, tenant),
            label_hash,
            metric,
            self.seq,
            matched,
            self.origin,
        ));
        let pos = self.metrics.add_series(metric, id, matched);
        self.series.set_pos_in_metric(id.index(), pos);
        self.reserve_ahead();
        id
    }
}

#[cfg(test)]
mod tests;
