//! The series index: each live series in a generational slot, found by its
//! label set through a hash table, evicted least recently seen first. A series
//! keeps its recent points, rate and the problem rules that fired on it, and (once it has any) its
//! latest native histogram and exemplars.

use std::collections::VecDeque;
use std::sync::Arc;

use hashbrown::HashTable;

use super::arrival::ArrivalRate;
use super::histogram::KeptHistogram;
use super::intern::{Interner, Sym};
use super::metrics::MetricId;
use super::offences::FiredAt;
use super::parties::Origin;
use super::ring::{Point, Ring};
use super::slots::{Handle, Slots};
use crate::ingest::model::{Histogram, LabelRef, WriteData, histogram_heap_bytes, is_stale_nan};

/// A series, until it is evicted.
pub type SeriesId = Handle<Series>;

/// Series judged between two looks at whether to give way: about a
/// millisecond's work with the slowest filters.
pub const GIVE_WAY_EVERY: usize = 4096;

/// What each series costs beside what it holds: its slot and generation, its
/// label-set index entry, its place in its metric's list.
const SERIES_OVERHEAD: usize = size_of::<Series>() + 4 + 5 + 4;

/// Bytes of label text (names and values) an exemplar may carry to be kept:
/// OpenMetrics allows 128 characters in all, so this is generous.
pub const MAX_EXEMPLAR_LABEL_BYTES: usize = 1024;

/// What a series is flagged with beside the problem rules that fired on it
/// (those are [`super::Store::fired_rules`]: out-of-order, duplicate and future samples
/// are rules now, checked once by `ingest::check`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Anomalies {
    /// Forward mode: requests carrying it that the backend refused for good
    /// (see [`Series::upstream_rejection`]).
    pub rejected_upstream: u32,
}

impl Anomalies {
    /// Whether anything was flagged.
    pub fn any(&self) -> bool {
        *self != Anomalies::default()
    }
}

/// An exemplar kept with its series.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredExemplar {
    pub labels: Box<[(Sym, Sym)]>,
    pub value: f64,
    /// 0 when the sender gave none.
    pub timestamp_ms: i64,
}

/// What most series never have, behind one pointer allocated on first use.
#[derive(Debug, Default)]
pub(super) struct Rare {
    histogram: Option<Box<KeptHistogram>>,
    exemplars: VecDeque<StoredExemplar>,
    anomalies: Anomalies,
    /// The backend's latest message refusing it, shared by the series it named.
    upstream_rejection: Option<Arc<str>>,
}

impl Rare {
    /// Heap bytes: itself, the histogram's buckets, the exemplars and their
    /// label references (label text is the interner's).
    fn bytes(&self) -> usize {
        let histogram = self.histogram.as_deref().map_or(0, |h| {
            size_of::<KeptHistogram>() + histogram_heap_bytes(&h.histogram)
        });
        let exemplar_labels: usize = self.exemplars.iter().map(|e| size_of_val(&*e.labels)).sum();
        size_of::<Rare>()
            + histogram
            + self.exemplars.capacity() * size_of::<StoredExemplar>()
            + exemplar_labels
    }
}

/// Whether a series carries float samples or native histograms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeriesKind {
    #[default]
    Float,
    /// Native histograms (points hold the observation count).
    Histogram,
}

/// One series and what was seen of it.
#[derive(Debug)]
pub struct Series {
    /// Sorted by name.
    pub labels: Box<[(Sym, Sym)]>,
    /// Its metric name's entry.
    pub metric: MetricId,
    /// A short form of the label-set hash (see [`short_hash`]).
    hash: u32,
    /// Where its metric's series list holds it (see [`super::metrics::Metric`]).
    pub(super) pos_in_metric: u32,
    /// Oldest first.
    pub points: Ring,
    /// Native histogram, exemplars and a backend's refusal, once there are any.
    pub(super) rare: Option<Box<Rare>>,
    /// The problem rules that fired on it, an index of the store's
    /// [`super::offences::FiredSets`] (see [`super::Store::fired_rules`]; their
    /// offending samples: [`super::Store::offences`]).
    pub(super) fired: FiredAt,
    pub kind: SeriesKind,
    /// Arrival time of the latest sample (ms since the epoch).
    pub last_arrival_ms: i64,
    /// The request that last carried it, for eviction.
    last_seen_seq: u64,
    /// Its arrivals, for its share of its metric's rate (see
    /// [`super::Store::series_per_second`]).
    pub rate: ArrivalRate,
    /// Samples and histograms received.
    pub samples_total: u64,
    /// Whether the current filter matches.
    pub matched: bool,
    /// Created/start timestamp, when the sender gives one.
    pub start_timestamp_ms: i64,
    /// The tenant and sender of the request that created it.
    pub origin: Origin,
    /// Its tenant's name ("" for none), part of what it is: the same labels
    /// of two tenants are two series even when their hashes collide.
    tenant: Sym,
}

impl Series {
    /// A series with no points yet, first seen in request `seq`.
    pub(super) fn new(
        (labels, tenant): (Box<[(Sym, Sym)]>, Sym),
        label_hash: u64,
        metric: MetricId,
        seq: u64,
        matched: bool,
        origin: Origin,
    ) -> Self {
        Series {
            labels,
            tenant,
            metric,
            hash: short_hash(label_hash),
            pos_in_metric: 0,
            points: Ring::default(),
            rare: None,
            fired: 0,
            kind: SeriesKind::default(),
            last_arrival_ms: 0,
            last_seen_seq: seq,
            rate: ArrivalRate::default(),
            samples_total: 0,
            matched,
            start_timestamp_ms: 0,
            origin,
        }
    }

    /// Its tenant's name (the interner's; "" for none).
    pub(super) fn tenant(&self) -> Sym {
        self.tenant
    }

    /// The latest native histogram, with at most
    /// [`super::histogram::MAX_BUCKETS`] buckets a side.
    pub fn histogram(&self) -> Option<&Histogram> {
        Some(&self.rare.as_ref()?.histogram.as_deref()?.histogram)
    }

    /// Buckets of the latest native histogram that were not kept (0 when it
    /// is whole).
    pub fn histogram_dropped_buckets(&self) -> u64 {
        let kept = self.rare.as_ref().and_then(|r| r.histogram.as_deref());
        kept.map_or(0, |h| h.dropped_buckets)
    }

    /// Bytes it holds: its overhead, labels, points, and histogram and
    /// exemplars if any (the text of labels is the interner's).
    pub(super) fn bytes(&self) -> usize {
        SERIES_OVERHEAD
            + size_of_val(&*self.labels)
            + self.points.heap_bytes()
            + self.rare.as_deref().map_or(0, Rare::bytes)
    }

    /// Recent exemplars, oldest first.
    pub fn exemplars(&self) -> std::collections::vec_deque::Iter<'_, StoredExemplar> {
        self.rare
            .as_deref()
            .map(|r| r.exemplars.iter())
            .unwrap_or_default()
    }

    /// Whether its latest point is Prometheus's staleness marker: the sender
    /// said the series ended (its target or the series went away). A state,
    /// not a problem.
    pub fn is_stale(&self) -> bool {
        self.kind == SeriesKind::Float && self.points.last().is_some_and(|p| is_stale_nan(p.value))
    }

    /// What it is flagged with beside the rules that fired on it.
    pub fn anomalies(&self) -> Anomalies {
        self.rare
            .as_deref()
            .map_or_else(Anomalies::default, |r| r.anomalies)
    }

    fn rare(&mut self) -> &mut Rare {
        self.rare.get_or_insert_default()
    }

    /// The backend's latest message refusing this series (forward mode).
    pub fn upstream_rejection(&self) -> Option<&str> {
        self.rare.as_deref()?.upstream_rejection.as_deref()
    }

    /// Flags it as refused by the backend, with the backend's message.
    pub(super) fn reject_upstream(&mut self, message: Arc<str>) {
        let rare = self.rare();
        rare.anomalies.rejected_upstream = rare.anomalies.rejected_upstream.saturating_add(1);
        rare.upstream_rejection = Some(message);
    }

    /// Appends a point (keeping `capacity`). What is wrong with it is the
    /// problem rules' to say (see [`super::Store::fired_rules`]).
    pub(super) fn add_point(
        &mut self,
        point: Point,
        kind: SeriesKind,
        start_timestamp_ms: i64,
        arrival_ms: i64,
        capacity: usize,
    ) {
        self.points.push(point, capacity);
        self.kind = kind;
        // Never back: a request handed over late (forward mode hands one over
        // when the backend answers) would have its series counted active in
        // two slices of time, twice.
        self.last_arrival_ms = self.last_arrival_ms.max(arrival_ms);
        self.samples_total += 1;
        if start_timestamp_ms != 0 {
            self.start_timestamp_ms = start_timestamp_ms;
        }
    }

    pub(super) fn set_histogram(&mut self, histogram: &Histogram) {
        self.rare().histogram = Some(Box::new(KeptHistogram::of(histogram)));
    }

    /// Keeps `exemplar` among the latest `capacity`; returns the one it pushed
    /// out, whose labels the caller releases.
    pub(super) fn keep_exemplar(
        &mut self,
        exemplar: StoredExemplar,
        capacity: usize,
    ) -> Option<StoredExemplar> {
        let exemplars = &mut self.rare().exemplars;
        let dropped = if exemplars.len() >= capacity {
            exemplars.pop_front()
        } else {
            None
        };
        exemplars.push_back(exemplar);
        dropped
    }

    /// Every interned label set it holds: its own and its exemplars' (its
    /// tenant's name is held too, see [`Series::tenant`]).
    pub(super) fn label_sets(&self) -> impl Iterator<Item = &[(Sym, Sym)]> {
        std::iter::once(&*self.labels).chain(self.exemplars().map(|e| &*e.labels))
    }
}

/// The 32 bits of a label-set hash that a series keeps: enough to skip most
/// label comparisons, in half the memory.
fn short_hash(label_hash: u64) -> u32 {
    (label_hash ^ (label_hash >> 32)) as u32
}

/// The hash table's hash for a [`short_hash`], spread over 64 bits because the
/// table takes its bucket from the low bits and a tag from the top ones.
fn table_hash(short: u32) -> u64 {
    u64::from(short).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Live series, by handle and by label set.
#[derive(Debug, Default)]
pub struct SeriesIndex {
    pub(super) slots: Slots<Series>,
    /// Slots, by [`table_hash`] of their series' short hash.
    by_labels: HashTable<u32>,
    /// What the live series hold, by [`Series::bytes`].
    bytes: usize,
}

impl SeriesIndex {
    /// The series with the label set `pairs` (of `data`) whose hash is
    /// `label_hash`, marked as seen in request `seq`.
    pub fn find(
        &mut self,
        data: &WriteData,
        pairs: &[LabelRef],
        label_hash: u64,
        strings: &Interner,
        seq: u64,
    ) -> Option<SeriesId> {
        let slot = self.slot_of(data, pairs, label_hash, strings)?;
        let (id, series) = self.slots.at_mut(slot)?;
        series.last_seen_seq = seq;
        Some(id)
    }

    /// [`SeriesIndex::find`] without marking it seen.
    pub fn look_up(
        &self,
        data: &WriteData,
        pairs: &[LabelRef],
        label_hash: u64,
        strings: &Interner,
    ) -> Option<SeriesId> {
        let slot = self.slot_of(data, pairs, label_hash, strings)?;
        self.slots.at(slot).map(|(id, _)| id)
    }

    fn slot_of(
        &self,
        data: &WriteData,
        pairs: &[LabelRef],
        label_hash: u64,
        strings: &Interner,
    ) -> Option<u32> {
        let hash = short_hash(label_hash);
        let slots = &self.slots;
        let tenant = data.tenant().as_bytes();
        let same = |l: &LabelRef, &(n, v): &(Sym, Sym)| {
            strings.resolve(n).as_bytes() == data.bytes(l.name)
                && strings.resolve(v).as_bytes() == data.bytes(l.value)
        };
        self.by_labels
            .find(table_hash(hash), |&slot| {
                slots.at(slot).is_some_and(|(_, s)| {
                    // Stored labels are sorted; so are a sender's, almost always.
                    s.hash == hash
                        && s.labels.len() == pairs.len()
                        && strings.resolve(s.tenant).as_bytes() == tenant
                        && (pairs.iter().zip(s.labels.iter()).all(|(l, p)| same(l, p))
                            || pairs.iter().all(|l| s.labels.iter().any(|p| same(l, p))))
                })
            })
            .copied()
    }

    pub fn insert(&mut self, series: Series) -> SeriesId {
        self.bytes += series.bytes();
        let hash = table_hash(series.hash);
        let id = self.slots.insert(series);
        let slots = &self.slots;
        self.by_labels.insert_unique(hash, id.index(), |&slot| {
            slots.at(slot).map_or(0, |(_, s)| table_hash(s.hash))
        });
        id
    }

    pub fn remove(&mut self, id: SeriesId) -> Option<Series> {
        let series = self.slots.remove(id)?;
        self.bytes -= series.bytes();
        let slot = id.index();
        if let Ok(entry) = self
            .by_labels
            .find_entry(table_hash(series.hash), |&s| s == slot)
        {
            entry.remove();
        }
        Some(series)
    }

    /// Up to `count` series least recently seen, none of them seen in request `seq`.
    pub fn least_recent(&self, count: usize, seq: u64) -> Vec<SeriesId> {
        let mut ages: Vec<(u64, SeriesId)> = self
            .slots
            .iter()
            .filter(|(_, s)| s.last_seen_seq < seq)
            .map(|(id, s)| (s.last_seen_seq, id))
            .collect();
        let count = count.min(ages.len());
        if count == 0 {
            return Vec::new();
        }
        if count < ages.len() {
            ages.select_nth_unstable(count - 1);
        }
        ages[..count].iter().map(|&(_, id)| id).collect()
    }

    /// A series, unless it was evicted since `id` was taken.
    pub fn get(&self, id: SeriesId) -> Option<&Series> {
        self.slots.get(id)
    }

    /// Changes a series (unless it was evicted), keeping count of what it holds.
    pub fn update<R>(&mut self, id: SeriesId, change: impl FnOnce(&mut Series) -> R) -> Option<R> {
        let series = self.slots.get_mut(id)?;
        let before = series.bytes();
        let result = change(series);
        self.bytes = self.bytes - before + series.bytes();
        Some(result)
    }

    /// What the live series hold, by [`Series::bytes`].
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whatever series holds slot `slot` now.
    pub fn at(&self, slot: u32) -> Option<(SeriesId, &Series)> {
        self.slots.at(slot)
    }

    /// Records where the series in `slot` sits in its metric's list.
    pub fn set_pos_in_metric(&mut self, slot: u32, pos: u32) {
        if let Some((_, s)) = self.slots.at_mut(slot) {
            s.pos_in_metric = pos;
        }
    }

    /// Live series, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (SeriesId, &Series)> {
        self.slots.iter()
    }

    /// Live series.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Room for `total` series without growing the table or the slots.
    pub fn reserve_for(&mut self, total: usize) {
        let additional = total.saturating_sub(self.len());
        self.slots.reserve(additional);
        let slots = &self.slots;
        self.by_labels.reserve(additional, |&slot| {
            slots.at(slot).map_or(0, |(_, s)| table_hash(s.hash))
        });
    }

    /// Series the table holds without growing.
    #[cfg(test)]
    pub fn table_capacity(&self) -> usize {
        self.by_labels.capacity()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

#[cfg(test)]
mod tests;
