//! Per-metric aggregates: an entry per metric name while it has live series,
//! with its rate, totals and how many of its series match the filter. The
//! entry of a name whose series all went is freed for another name, so a
//! sender churning metric names does not grow the store.
//!
//! Under a filter, a metric's rate is that of its matching series: its own
//! rate while every series of it that sends matches, counted apart once some
//! do not (from the filter change on: what came before is unknown).

use std::collections::HashMap;

use super::GiveWay;
use super::intern::{Interner, Sym};
use super::rate::{HISTORY_SECS, RateBuckets};
use super::series::{GIVE_WAY_EVERY, Series, SeriesId, SeriesIndex};
use super::shares::SharesMemo;
use super::slots::{Handle, Slots};

/// A metric name's aggregates, until its last series goes.
pub type MetricId = Handle<Metric>;

/// What each live metric costs beside its series list: its slot and
/// generation, its rate buckets, its entry in the name index.
const METRIC_OVERHEAD: usize = size_of::<Option<Metric>>()
    + 4
    + size_of::<[u32; HISTORY_SECS]>()
    + size_of::<(Sym, MetricId)>()
    + 1;

/// Samples per second of a metric's series that match the filter.
#[derive(Debug, Default)]
enum MatchedRate {
    /// Every series of it that sent since the filter was set matches (always
    /// so without a filter): its own rate is theirs.
    #[default]
    All,
    /// None of its series matches: nothing matching since `since_ms`.
    Nothing { since_ms: i64 },
    /// Counted apart, since the filter was set or since its series stopped
    /// all matching.
    Apart(RateBuckets),
}

/// Aggregates of one metric name.
#[derive(Debug, Default)]
pub struct Metric {
    /// `__name__` value.
    pub name: Sym,
    /// Slots of its live series (never empty while the entry lives); a series
    /// knows its position here, so removing one is a swap.
    series: Vec<u32>,
    /// How many of its series match the filter.
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
    matched_rate: MatchedRate,
    /// What its series' shares of its rate are of (see [`super::shares`]).
    pub(super) shares: SharesMemo,
}

impl Metric {
    /// Samples per second of its series that match the filter (all of them
    /// without a filter); `None` while none does.
    pub fn matched_rate(&self) -> Option<&RateBuckets> {
        match &self.matched_rate {
            MatchedRate::All => Some(&self.rate),
            MatchedRate::Nothing { .. } => None,
            MatchedRate::Apart(rate) => Some(rate),
        }
    }

    /// The rate a series of it (`matched` by the filter or not) has a share
    /// of, and whether that is of its matching series only (counted apart).
    pub(super) fn rate_shared_by(&self, matched: bool) -> (&RateBuckets, bool) {
        match &self.matched_rate {
            MatchedRate::Apart(rate) if matched => (rate, true),
            _ => (&self.rate, false),
        }
    }

    /// Its live series.
    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    /// Slots of its live series, for [`SeriesIndex::at`].
    pub fn series_slots(&self) -> &[u32] {
        &self.series
    }
}

/// Live metrics, by handle and by name, with filter counts over all of them.
#[derive(Debug, Default)]
pub struct MetricTable {
    slots: Slots<Metric>,
    by_name: HashMap<Sym, MetricId>,
    matched_series: usize,
    matched_metrics: usize,
    version: u64,
    /// Series-list slots allocated, over all metrics.
    series_capacity: usize,
    /// When the filter in force was set, unless it lets everything through.
    filter_since_ms: Option<i64>,
    /// Metrics whose matching series' rate is counted apart.
    rates_apart: usize,
}

impl MetricTable {
    /// The entry of metric `name`, created if new (it then holds a reference to `name`).
    pub fn entry(&mut self, name: Sym, strings: &mut Interner) -> MetricId {
        if let Some(&id) = self.by_name.get(&name) {
            return id;
        }
        strings.retain(name);
        let id = self.slots.insert(Metric {
            name,
            ..Metric::default()
        });
        self.by_name.insert(name, id);
        id
    }

    /// Lists a new series under `metric`; returns its position there.
    pub fn add_series(&mut self, metric: MetricId, series: SeriesId, matched: bool) -> u32 {
        self.version += 1;
        let Some(m) = self.slots.get_mut(metric) else {
            return 0;
        };
        if let Some(since_ms) = self.filter_since_ms {
            let first = m.series.is_empty();
            self.rates_apart -= usize::from(matches!(m.matched_rate, MatchedRate::Apart(_)));
            m.matched_rate = match (std::mem::take(&mut m.matched_rate), matched) {
                (MatchedRate::All, false) if first => MatchedRate::Nothing { since_ms },
                // Until now every series that sent matched: its rate so far is theirs.
                (MatchedRate::All, false) => MatchedRate::Apart(m.rate.clone()),
                (MatchedRate::Nothing { since_ms }, true) => {
                    MatchedRate::Apart(RateBuckets::counting_from(since_ms))
                }
                (unchanged, _) => unchanged,
            };
            self.rates_apart += usize::from(matches!(m.matched_rate, MatchedRate::Apart(_)));
        }
        let pos = m.series.len() as u32;
        let before = m.series.capacity();
        m.series.push(series.index());
        self.series_capacity += m.series.capacity() - before;
        m.version += 1;
        if matched {
            if m.matched == 0 {
                self.matched_metrics += 1;
            }
            m.matched += 1;
            self.matched_series += 1;
        }
        pos
    }

    /// Unlists the series at `pos` of `metric`, freeing the entry (and its
    /// reference to its name) when it was the last. Returns the slot of the
    /// series moved to `pos`, whose position the caller updates.
    pub fn remove_series(
        &mut self,
        metric: MetricId,
        pos: u32,
        matched: bool,
        strings: &mut Interner,
    ) -> Option<u32> {
        self.version += 1;
        let m = self.slots.get_mut(metric)?;
        let pos = pos as usize;
        m.series.swap_remove(pos);
        let moved = m.series.get(pos).copied();
        m.version += 1;
        if matched {
            m.matched -= 1;
            self.matched_series -= 1;
            if m.matched == 0 {
                self.matched_metrics -= 1;
            }
        }
        if m.series.is_empty()
            && let Some(m) = self.slots.remove(metric)
        {
            self.series_capacity -= m.series.capacity();
            self.rates_apart -= usize::from(matches!(m.matched_rate, MatchedRate::Apart(_)));
            self.by_name.remove(&m.name);
            strings.release(m.name);
        }
        moved
    }

    /// Counts `n` samples (histograms among them, if `histograms`) of a
    /// series (`matched` by the filter or not) that arrived at `arrival_ms`.
    pub fn record(
        &mut self,
        metric: MetricId,
        arrival_ms: i64,
        n: u64,
        histograms: bool,
        matched: bool,
    ) {
        let Some(m) = self.slots.get_mut(metric) else {
            return;
        };
        m.has_histograms |= histograms;
        m.rate.add(arrival_ms, n);
        if matched && let MatchedRate::Apart(rate) = &mut m.matched_rate {
            rate.add(arrival_ms, n);
        }
        m.samples_total += n;
        if n > 0 {
            m.last_arrival_ms = m.last_arrival_ms.max(arrival_ms);
        }
    }

    /// Recounts matching series for new `verdicts` (by series slot, as
    /// [`SeriesIndex::judge`] gives them), for a filter set at `now_ms`;
    /// `filtered` unless it lets everything through, and then shows each
    /// matching series to `each_matching` (one pass over the series for all
    /// that is counted of them). Unless `give_way` turns true during that
    /// pass: then nothing changes, and it returns false.
    pub fn recount(
        &mut self,
        series: &SeriesIndex,
        verdicts: &[bool],
        (now_ms, filtered): (i64, bool),
        mut each_matching: impl FnMut(&Series),
        give_way: GiveWay,
    ) -> bool {
        // Counted first, changed once all is counted.
        let mut counts = Vec::with_capacity(self.slots.len());
        let mut looked = 0;
        for m in self.slots.values().iter().flatten() {
            let mut matched = 0u32;
            // What the matching series sent in the last 10 s windows.
            let mut recent = [0, 0];
            for &slot in &m.series {
                looked += 1;
                if looked % GIVE_WAY_EVERY == 0 && give_way() {
                    return false;
                }
                let Some((_, s)) = series.at(slot) else {
                    continue;
                };
                if verdicts.get(slot as usize).copied().unwrap_or(false) {
                    matched += 1;
                    if filtered {
                        let [previous, current] = s.rate.recent(s.last_arrival_ms, now_ms);
                        recent = [recent[0] + previous, recent[1] + current];
                        each_matching(s);
                    }
                }
            }
            counts.push((matched, recent));
        }
        self.matched_series = 0;
        self.matched_metrics = 0;
        self.rates_apart = 0;
        self.filter_since_ms = filtered.then_some(now_ms);
        let metrics = self.slots.values_mut().iter_mut().flatten();
        for (m, (matched, recent)) in metrics.zip(counts) {
            m.matched = matched;
            m.matched_rate = match m.matched as usize {
                _ if !filtered => MatchedRate::All,
                0 => MatchedRate::Nothing { since_ms: now_ms },
                n if n == m.series.len() => MatchedRate::All,
                _ => MatchedRate::Apart(RateBuckets::seeded(now_ms, recent)),
            };
            self.rates_apart += usize::from(matches!(m.matched_rate, MatchedRate::Apart(_)));
            m.version += 1;
            self.matched_series += m.matched as usize;
            self.matched_metrics += usize::from(m.matched > 0);
        }
        self.version += 1;
        true
    }

    /// A metric, unless its series all went since `id` was taken.
    pub fn get(&self, id: MetricId) -> Option<&Metric> {
        self.slots.get(id)
    }

    /// Whatever metric holds `id`'s slot now, its own or another.
    #[cfg(test)]
    pub fn in_slot_of(&self, id: MetricId) -> Option<&Metric> {
        self.slots.at(id.index()).map(|(_, m)| m)
    }

    /// Live metrics, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (MetricId, &Metric)> {
        self.slots.iter()
    }

    /// Whether `name` is a live metric's name.
    pub fn has_name(&self, name: Sym) -> bool {
        self.by_name.contains_key(&name)
    }

    /// The live metric named `name`.
    #[cfg(test)]
    pub fn named(&self, name: Sym) -> Option<MetricId> {
        self.by_name.get(&name).copied()
    }

    /// What the live metrics hold (their names are the interner's).
    pub fn bytes(&self) -> usize {
        self.len() * METRIC_OVERHEAD
            + self.series_capacity * size_of::<u32>()
            + self.rates_apart * size_of::<[u32; HISTORY_SECS]>()
    }

    /// Live metrics.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Slots allocated, and of those free (to check that they are reused).
    #[cfg(test)]
    pub fn slots(&self) -> (usize, usize) {
        (self.slots.capacity(), self.slots.free_slots())
    }

    /// Names indexed (one per live metric).
    #[cfg(test)]
    pub fn names(&self) -> usize {
        self.by_name.len()
    }

    /// Live series matching the filter.
    pub fn matched_series(&self) -> usize {
        self.matched_series
    }

    /// Metrics with series matching the filter.
    pub fn matched_metrics(&self) -> usize {
        self.matched_metrics
    }

    /// Bumped whenever metrics appear, lose or gain series (or go), or the filter changes.
    pub fn version(&self) -> u64 {
        self.version
    }
}
