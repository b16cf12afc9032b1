//! What the views read of the store: strings, series, metrics, metadata,
//! the logs and totals.

use std::collections::VecDeque;

use super::intern::Sym;
use super::{LogEntry, MetaInfo, Metric, MetricId, RequestRow, Series, SeriesId, Store, model};
use crate::ingest::model::{MetricType, WriteData};
use crate::summary::totals::Totals;

impl Store {
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

    /// The request [`RequestRow::taken`] `taken` as it arrived, while kept.
    pub fn kept_request(&self, taken: u64) -> Option<&std::sync::Arc<model::RawRequest>> {
        self.kept.get(taken)
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
