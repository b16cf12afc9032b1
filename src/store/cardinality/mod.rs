//! Cardinality and churn, kept up to date as series come and go (never by a
//! pass over all series): per metric, each label name's distinct values and
//! the values with the most series ([`values`]), and series created and gone
//! ([`churn`]); across metrics, the same per label name, and new series per
//! second for the header's sparkline. Bounded: a label with many values
//! becomes a fixed-size sketch, and what it all holds counts in
//! [`super::Store::held_bytes`].

pub mod churn;
mod exact;
mod filtered;
mod query;
pub mod values;

use hashbrown::HashMap;

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

/// Distinct values of a label across metrics counted exactly before a sketch.
pub const GLOBAL_EXACT_VALUES: usize = 1024;

/// Label names tracked per metric; a sender that puts ids in label names
/// gets the first ones tracked and the rest counted in
/// [`Cardinality::untracked_labels`].
pub const MAX_LABELS_PER_METRIC: usize = 128;

/// Label names tracked across metrics.
pub const MAX_LABEL_NAMES: usize = 16_384;

/// A metric label's link to its name's values across metrics: none (past
/// [`MAX_LABEL_NAMES`]).
const UNLINKED: u32 = u32::MAX;

/// Cardinality and churn of one metric.
#[derive(Debug)]
pub struct MetricCardinality {
    /// Its label names but `__name__`, in the order first seen; each linked
    /// (`LabelValues::link`) to the place of its name in
    /// [`Cardinality::across`] (or [`UNLINKED`]) when first seen.
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

/// The place in `across` of label name `name`, made if new (a free place or
/// a new one), or [`UNLINKED`] past [`MAX_LABEL_NAMES`].
fn link(
    across: &mut Vec<Option<LabelValues>>,
    places: &mut HashMap<Sym, u32>,
    free: &mut Vec<u32>,
    name: Sym,
) -> u32 {
    if let Some(&place) = places.get(&name) {
        return place;
    }
    if places.len() >= MAX_LABEL_NAMES {
        return UNLINKED;
    }
    let place = match free.pop() {
        Some(place) => {
            across[place as usize] = Some(LabelValues::new(name));
            place
        }
        None => {
            across.push(Some(LabelValues::new(name)));
            (across.len() - 1) as u32
        }
    };
    places.insert(name, place);
    place
}

/// The values across metrics a metric's label is linked to: those of `name`
/// (a place freed and taken by another name since is not).
fn linked(across: &mut [Option<LabelValues>], link: u32, name: Sym) -> Option<&mut LabelValues> {
    across
        .get_mut(link as usize)?
        .as_mut()
        .filter(|l| l.name == name)
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
    /// Across metrics, a place per label name (reached through the metrics'
    /// links, without hashing); free places are `None`.
    across: Vec<Option<LabelValues>>,
    /// Places in `across`, by label name, and the free ones.
    places: HashMap<Sym, u32>,
    free: Vec<u32>,
    /// All series created and gone.
    pub churn: Churn,
    /// Series created per second.
    pub new_series: RateBuckets,
    /// Label occurrences past [`MAX_LABELS_PER_METRIC`] or [`MAX_LABEL_NAMES`].
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
            across: Vec::new(),
            places: HashMap::new(),
            free: Vec::new(),
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
        let labels = series.labels.iter().filter(|l| l.0 != name_label);
        for (k, &(name, value)) in labels.enumerate() {
            let i = match find_label(&metric.labels, name, k) {
                Some(i) => i,
                None if metric.labels.len() < MAX_LABELS_PER_METRIC => {
                    let mut label = LabelValues::new(name);
                    label.link = link(&mut self.across, &mut self.places, &mut self.free, name);
                    let room = metric.labels.capacity();
                    metric.labels.push(label);
                    let more = metric.labels.capacity() - room;
                    grown += (more * size_of::<LabelValues>()) as isize;
                    metric.labels.len() - 1
                }
                None => {
                    self.untracked_labels += 1;
                    continue;
                }
            };
            let label = &mut metric.labels[i];
            let grew = label.add(value, now_ms, METRIC_EXACT_VALUES, s);
            metric.label_bytes = metric.label_bytes.wrapping_add_signed(grew);
            grown += grew;
            let Some(across) = linked(&mut self.across, label.link, name) else {
                self.untracked_labels += 1;
                continue;
            };
            let grew = across.add(value, now_ms, GLOBAL_EXACT_VALUES, s);
            self.bytes = self.bytes.wrapping_add_signed(grew);
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
        let labels = series.labels.iter().filter(|l| l.0 != name_label);
        for (k, &(name, value)) in labels.enumerate() {
            // Counted across metrics only where counted in the metric.
            let Some(i) = find_label(&metric.labels, name, k) else {
                continue;
            };
            let label = &mut metric.labels[i];
            let link = label.link;
            let grew = label.remove(value, s);
            metric.label_bytes = metric.label_bytes.wrapping_add_signed(grew);
            grown += grew;
            if label.series() == 0 {
                let done = metric.labels.swap_remove(i);
                metric.label_bytes -= done.bytes();
                grown -= done.bytes() as isize;
                done.release(s);
            }
            let Some(across) = linked(&mut self.across, link, name) else {
                continue;
            };
            let grew = across.remove(value, s);
            self.bytes = self.bytes.wrapping_add_signed(grew);
            if across.series() == 0
                && let Some(done) = self.across[link as usize].take()
            {
                self.places.remove(&name);
                self.free.push(link);
                self.bytes -= done.bytes();
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
    /// marker if `marked`.
    pub fn seen(&mut self, metric: MetricId, before_ms: i64, now_ms: i64, marked: bool) {
        self.churn.seen(before_ms, now_ms, marked);
        if let Some(Some(m)) = self.metrics.get_mut(metric.index() as usize) {
            m.churn.seen(before_ms, now_ms, marked);
        }
    }

    /// A metric's cardinality (its slot's: check the id is live first).
    pub fn metric(&self, metric: MetricId) -> Option<&MetricCardinality> {
        self.metrics.get(metric.index() as usize)?.as_ref()
    }

    /// Each label name's values across metrics.
    pub fn labels(&self) -> impl Iterator<Item = &LabelValues> {
        self.across.iter().flatten()
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
        let across: usize = self.labels().map(LabelValues::bytes).sum();
        self.churn.bytes()
            + size_of::<[u32; HISTORY_SECS]>()
            + metrics
            + across
            + self.tables_bytes()
    }

    /// What its tables of metrics and label names hold, by capacity.
    fn tables_bytes(&self) -> usize {
        self.metrics.capacity() * size_of::<Option<MetricCardinality>>()
            + self.across.capacity() * size_of::<Option<LabelValues>>()
            + self.places.capacity() * (size_of::<(Sym, u32)>() + 1)
            + self.free.capacity() * size_of::<u32>()
    }

    /// Bytes it holds.
    pub fn bytes(&self) -> usize {
        self.bytes + self.tables_bytes()
    }
}

#[cfg(test)]
mod tests;
