//! Cardinality and churn, kept up to date as series come and go (never by a
//! pass over all series): per metric, each label name's distinct values and
//! the values with the most series ([`values`]), and series created and gone
//! ([`churn`]); overall, series created and gone and new series per second
//! for the header's sparkline. Label names across metrics are derived from
//! the metrics' counts when the view is built ([`across`]). Bounded: a label
//! with many values becomes a fixed-size sketch, and what it all holds counts
//! in [`super::Store::held_bytes`].

pub mod across;
pub mod churn;
mod exact;
pub mod filtered;
mod query;
pub mod values;

use super::intern::{Interner, Sym};
use super::metrics::MetricId;
use super::rate::{HISTORY_SECS, RateBuckets};
pub use churn::{Churn, Turnover};
pub use query::{CHURN_SPAN_MS, LabelCard, MetricCard, Overview, PairCard};
pub use values::{Distinct, LabelValues};

/// Default staleness window: Prometheus's lookback delta.
pub const STALE_AFTER_MS: i64 = 300_000;

/// Distinct values of a label in one metric counted exactly before a sketch.
pub const METRIC_EXACT_VALUES: usize = 64;

/// Label names tracked per metric; a sender that puts ids in label names
/// gets the first ones tracked and the rest counted in
/// [`Cardinality::untracked_labels`].
pub const MAX_LABELS_PER_METRIC: usize = 128;

/// Cardinality and churn of one metric.
#[derive(Debug)]
pub struct MetricCardinality {
    /// Its label names but `__name__`, in the order first seen.
    labels: Vec<LabelValues>,
    /// Its series created and gone.
    pub churn: Churn,
    /// What its labels' values hold, kept up to date.
    label_bytes: usize,
}

impl MetricCardinality {
    /// Its label names (but `__name__`) with their values.
    pub fn labels(&self) -> &[LabelValues] {
        &self.labels
    }

    fn bytes(&self) -> usize {
        size_of::<Self>()
            + self.churn.bytes()
            + self.labels.capacity() * size_of::<LabelValues>()
            + self.label_bytes
    }
}

/// Where `labels` holds `name`: the series of a metric mostly carry the same
/// names in the same order, so the `k`th label is looked at first.
fn find_label(labels: &[LabelValues], name: Sym, k: usize) -> Option<usize> {
    if labels.get(k).is_some_and(|l| l.name == name) {
        return Some(k);
    }
    labels.iter().position(|l| l.name == name)
}

/// Whether a series' latest sample is a stale marker: it ended.
pub fn ended(series: &super::Series) -> bool {
    series.kind == super::SeriesKind::Float
        && series
            .points
            .last()
            .is_some_and(|p| crate::ingest::model::is_stale_nan(p.value))
}

/// A series' place for [`Cardinality`]: its metric and labels.
#[derive(Debug, Clone, Copy)]
pub struct SeriesRef<'a> {
    pub metric: MetricId,
    pub labels: &'a [(Sym, Sym)],
}

/// Cardinality and churn of all live series.
#[derive(Debug)]
pub struct Cardinality {
    stale_after_ms: i64,
    /// By metric slot.
    metrics: Vec<Option<MetricCardinality>>,
    /// All series created and gone.
    pub churn: Churn,
    /// Series created per second.
    pub new_series: RateBuckets,
    /// Label occurrences past [`MAX_LABELS_PER_METRIC`].
    untracked_labels: u64,
    /// What it holds, kept up to date.
    bytes: usize,
}

impl Cardinality {
    /// Nothing tracked yet; series not seen for `stale_after_ms` count as gone.
    pub fn new(stale_after_ms: i64) -> Self {
        let churn = Churn::new(stale_after_ms);
        Cardinality {
            stale_after_ms,
            metrics: Vec::new(),
            bytes: churn.bytes() + size_of::<[u32; HISTORY_SECS]>(),
            churn,
            new_series: RateBuckets::default(),
            untracked_labels: 0,
        }
    }

    /// The staleness window.
    pub fn stale_after_ms(&self) -> i64 {
        self.stale_after_ms
    }

    /// A series was created at `now_ms` (`name_label` is `__name__`'s id).
    pub fn added(&mut self, series: SeriesRef, name_label: Sym, now_ms: i64, s: &mut Interner) {
        self.churn.created(now_ms);
        self.new_series.add(now_ms, 1);
        let slot = series.metric.index() as usize;
        if self.metrics.len() <= slot {
            self.metrics.resize_with(slot + 1, || None);
        }
        let stale_after_ms = self.stale_after_ms;
        let fresh = self.metrics[slot].is_none();
        let metric = self.metrics[slot].get_or_insert_with(|| MetricCardinality {
            labels: Vec::new(),
            churn: Churn::new(stale_after_ms),
            label_bytes: 0,
        });
        // What the metric's entry grows by (a new one is counted whole);
        // only new values and labels change it.
        let mut grown = if fresh { metric.bytes() as isize } else { 0 };
        metric.churn.created(now_ms);
        let mut labels = series.labels.iter().filter(|l| l.0 != name_label);
        // Mostly the metric's label names, in its order: no looking for them.
        let (mut k, mut out_of_order) = (0, None);
        for (label, &(name, value)) in metric.labels.iter_mut().zip(labels.by_ref()) {
            if label.name != name {
                out_of_order = Some((name, value));
                break;
            }
            let grew = label.add(value, now_ms, METRIC_EXACT_VALUES, s);
            metric.label_bytes = metric.label_bytes.wrapping_add_signed(grew);
            grown += grew;
            k += 1;
        }
        for (&(name, value), k) in out_of_order.iter().chain(labels).zip(k..) {
            let i = match find_label(&metric.labels, name, k) {
                Some(i) => i,
                None if metric.labels.len() < MAX_LABELS_PER_METRIC => {
                    let room = metric.labels.capacity();
                    metric.labels.push(LabelValues::new(name));
                    let more = metric.labels.capacity() - room;
                    grown += (more * size_of::<LabelValues>()) as isize;
                    metric.labels.len() - 1
                }
                None => {
                    self.untracked_labels += 1;
                    continue;
                }
            };
            let grew = metric.labels[i].add(value, now_ms, METRIC_EXACT_VALUES, s);
            metric.label_bytes = metric.label_bytes.wrapping_add_signed(grew);
            grown += grew;
        }
        self.bytes = self.bytes.wrapping_add_signed(grown);
    }

    /// A series was removed (evicted); its latest sample arrived at
    /// `last_ms` (0: none, or it was a stale marker); `metric_gone` if it
    /// was its metric's last (`name_label` is `__name__`'s id).
    pub fn removed(
        &mut self,
        series: SeriesRef,
        (name_label, last_ms): (Sym, i64),
        metric_gone: bool,
        s: &mut Interner,
    ) {
        self.churn.forget(last_ms);
        let slot = series.metric.index() as usize;
        let Some(metric) = self.metrics.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        // Only the labels' values change what the metric's entry holds.
        let mut grown = 0;
        metric.churn.forget(last_ms);
        let mut labels = series.labels.iter().filter(|l| l.0 != name_label);
        // Mostly the metric's label names, in its order, each kept by other
        // series: no looking for them, none to drop.
        let (mut k, mut left) = (0, None);
        for (label, &(name, value)) in metric.labels.iter_mut().zip(labels.by_ref()) {
            if label.name != name || label.series() <= 1 {
                left = Some((name, value));
                break;
            }
            let grew = label.remove(value, s);
            metric.label_bytes = metric.label_bytes.wrapping_add_signed(grew);
            grown += grew;
            k += 1;
        }
        for (&(name, value), k) in left.iter().chain(labels).zip(k..) {
            let Some(i) = find_label(&metric.labels, name, k) else {
                continue;
            };
            let label = &mut metric.labels[i];
            let grew = label.remove(value, s);
            metric.label_bytes = metric.label_bytes.wrapping_add_signed(grew);
            grown += grew;
            if label.series() == 0 {
                let done = metric.labels.swap_remove(i);
                metric.label_bytes -= done.bytes();
                grown -= done.bytes() as isize;
                done.release(s);
            }
        }
        self.bytes = self.bytes.wrapping_add_signed(grown);
        if metric_gone && let Some(done) = self.metrics[slot].take() {
            self.bytes -= done.bytes();
            for label in done.labels {
                label.release(s);
            }
        }
    }

    /// A series of `metric` whose latest sample had arrived at `before_ms`
    /// (0: none, or it was a stale marker) got one at `now_ms`, a stale
    /// marker if `marked`: counted in its metric's churn; all traffic's is
    /// told [`Cardinality::seen_n`] once per run of series that moved alike.
    pub fn seen(&mut self, metric: MetricId, before_ms: i64, now_ms: i64, marked: bool) {
        if let Some(Some(m)) = self.metrics.get_mut(metric.index() as usize) {
            m.churn.seen(before_ms, now_ms, marked);
        }
    }

    /// `n` series were seen as [`Cardinality::seen`] says, in all traffic's churn.
    pub fn seen_n(&mut self, before_ms: i64, now_ms: i64, marked: bool, n: u32) {
        self.churn.seen_n(before_ms, now_ms, marked, n);
    }

    /// A metric's cardinality (its slot's: check the id is live first).
    pub fn metric(&self, metric: MetricId) -> Option<&MetricCardinality> {
        self.metrics.get(metric.index() as usize)?.as_ref()
    }

    /// Each label name's values across metrics, derived from the metrics'
    /// (see [`across`]), unless `give_way` turns true first.
    pub fn across(
        &self,
        give_way: super::GiveWay,
    ) -> Result<Vec<across::AcrossLabel>, filtered::GaveWay> {
        across::across(self.metrics.iter().flatten(), give_way)
    }

    /// Label occurrences not tracked (see [`MAX_LABELS_PER_METRIC`]).
    pub fn untracked_labels(&self) -> u64 {
        self.untracked_labels
    }

    /// [`Cardinality::bytes`] counted afresh, to check the running count.
    #[cfg(test)]
    pub(crate) fn recount(&self) -> usize {
        let metrics: usize = self
            .metrics
            .iter()
            .flatten()
            .map(|m| {
                size_of::<MetricCardinality>()
                    + m.churn.bytes()
                    + m.labels.capacity() * size_of::<LabelValues>()
                    + m.labels.iter().map(LabelValues::bytes).sum::<usize>()
            })
            .sum();
        self.churn.bytes() + size_of::<[u32; HISTORY_SECS]>() + metrics + self.tables_bytes()
    }

    /// What its table of metrics holds, by capacity.
    fn tables_bytes(&self) -> usize {
        self.metrics.capacity() * size_of::<Option<MetricCardinality>>()
    }

    /// Bytes it holds.
    pub fn bytes(&self) -> usize {
        self.bytes + self.tables_bytes()
    }
}

#[cfg(test)]
mod tests;
