//! View models: the sorted rows each list shows, rebuilt only when their inputs
//! change (and at most once a second for time-dependent sorts), plus helpers to
//! walk the recent-samples log under the filter.

use crate::store::intern::Sym;
use crate::store::{LogEntry, Metric, MetricId, SeriesId, Store};

/// Rows of the samples table in the series detail view.
pub const DETAIL_TABLE_ROWS: usize = 12;

/// How often time-dependent orders (by rate) are re-sorted.
const RESORT_MS: i64 = 1_000;
/// Lists longer than this are re-sorted at most every [`LARGE_RESORT_MS`] on data changes.
const LARGE_LIST: usize = 20_000;
const LARGE_RESORT_MS: i64 = 3_000;
/// Window of the "samples/s now" columns.
pub const RATE_WINDOW_SECS: i64 = 10;

/// Metrics list order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricSort {
    /// By metric name.
    Name,
    /// By series count, most first.
    Series,
    /// By samples/s, highest first.
    Rate,
}

impl MetricSort {
    /// The next key (`s`).
    pub fn next(self) -> Self {
        match self {
            MetricSort::Name => MetricSort::Series,
            MetricSort::Series => MetricSort::Rate,
            MetricSort::Rate => MetricSort::Name,
        }
    }

    /// Label shown in the title.
    pub fn label(self) -> &'static str {
        match self {
            MetricSort::Name => "name",
            MetricSort::Series => "series",
            MetricSort::Rate => "samples/s",
        }
    }
}

/// Series list order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesSort {
    /// By label values.
    Labels,
    /// By samples/s, highest first.
    Rate,
    /// By last value, highest first.
    Value,
}

impl SeriesSort {
    /// The next key (`s`).
    pub fn next(self) -> Self {
        match self {
            SeriesSort::Labels => SeriesSort::Rate,
            SeriesSort::Rate => SeriesSort::Value,
            SeriesSort::Value => SeriesSort::Labels,
        }
    }

    /// Label shown in the title.
    pub fn label(self) -> &'static str {
        match self {
            SeriesSort::Labels => "labels",
            SeriesSort::Rate => "samples/s",
            SeriesSort::Value => "value",
        }
    }
}

/// Which labels of a metric's series differ between them. Kept as strings, not
/// [`Sym`]s: it lives across frames, and the store may free and reuse a `Sym`
/// as soon as the series using it are evicted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSummary {
    /// Labels with the same value on every series (shown once above the list).
    pub constant: Vec<(Box<str>, Box<str>)>,
    /// Label names whose values differ (shown per row).
    pub varying: Vec<Box<str>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Key {
    version: u64,
    sort: (u8, bool),
    /// The open metric.
    subject: Option<MetricId>,
}

/// Sorted rows of the metrics and series lists.
#[derive(Debug, Default)]
pub struct ViewCache {
    /// Metrics shown, in order: a large list is rebuilt only every few
    /// seconds, and a metric whose series all went meanwhile no longer resolves.
    pub metrics: Vec<MetricId>,
    metrics_key: Option<Key>,
    metrics_at: i64,
    /// Series of the open metric shown, in order: a large list is rebuilt only
    /// every few seconds, and a series evicted meanwhile no longer resolves.
    pub series: Vec<SeriesId>,
    series_key: Option<Key>,
    series_at: i64,
    /// Constant and varying labels of the open metric.
    pub labels: LabelSummary,
}

fn stale(old: Option<Key>, new: Key, at: i64, now: i64, len: usize, time_sorted: bool) -> bool {
    let Some(old) = old else { return true };
    if old.sort != new.sort || old.subject != new.subject {
        return true;
    }
    let min_gap = if len > LARGE_LIST { LARGE_RESORT_MS } else { 0 };
    (old.version != new.version && now - at >= min_gap)
        || (time_sorted && now - at >= RESORT_MS.max(min_gap))
}

impl ViewCache {
    /// Rebuilds what changed.
    pub fn refresh(
        &mut self,
        store: &Store,
        metric: Option<MetricId>,
        metric_sort: (MetricSort, bool),
        series_sort: (SeriesSort, bool),
        now_ms: i64,
    ) {
        let key = Key {
            version: store.metrics_version(),
            sort: (metric_sort.0 as u8, metric_sort.1),
            subject: None,
        };
        if stale(
            self.metrics_key,
            key,
            self.metrics_at,
            now_ms,
            self.metrics.len(),
            metric_sort.0 == MetricSort::Rate,
        ) {
            self.metrics = sorted_metrics(store, metric_sort, now_ms);
            self.metrics_key = Some(key);
            self.metrics_at = now_ms;
        }
        // Gone (all its series evicted): the series view says so.
        let Some(m) = metric.and_then(|id| store.metric(id).map(|m| (id, m))) else {
            self.series.clear();
            self.series_key = None;
            return;
        };
        let key = Key {
            version: m.1.version,
            sort: (series_sort.0 as u8, series_sort.1),
            subject: Some(m.0),
        };
        let time_sorted = series_sort.0 != SeriesSort::Labels;
        if stale(
            self.series_key,
            key,
            self.series_at,
            now_ms,
            self.series.len(),
            time_sorted,
        ) {
            let ids: Vec<SeriesId> = store
                .series_of(m.1)
                .filter(|(_, s)| s.matched)
                .map(|(id, _)| id)
                .collect();
            self.labels = label_summary(store, &ids);
            self.series = sorted_series(store, ids, series_sort, now_ms);
            self.series_key = Some(key);
            self.series_at = now_ms;
        }
    }
}

/// Metrics with live series matching the filter, in the given order.
pub fn sorted_metrics(
    store: &Store,
    (sort, reverse): (MetricSort, bool),
    now_ms: i64,
) -> Vec<MetricId> {
    let mut rows: Vec<(MetricId, &Metric)> =
        store.metrics().filter(|(_, m)| m.matched > 0).collect();
    let name = |m: &Metric| store.str(m.name);
    match sort {
        MetricSort::Name => rows.sort_by(|a, b| name(a.1).cmp(name(b.1))),
        // Ties by name: slot ids say nothing once evicted metrics' slots are reused.
        MetricSort::Series => rows.sort_by(|a, b| {
            b.1.matched
                .cmp(&a.1.matched)
                .then_with(|| name(a.1).cmp(name(b.1)))
        }),
        MetricSort::Rate => {
            let mut keyed: Vec<(f64, (MetricId, &Metric))> = rows
                .iter()
                .map(|&(id, m)| (m.rate.per_second(now_ms, RATE_WINDOW_SECS), (id, m)))
                .collect();
            keyed.sort_by(|a, b| {
                b.0.total_cmp(&a.0)
                    .then_with(|| name(a.1.1).cmp(name(b.1.1)))
            });
            rows = keyed.into_iter().map(|(_, row)| row).collect();
        }
    }
    if reverse {
        rows.reverse();
    }
    rows.into_iter().map(|(id, _)| id).collect()
}

/// Series in the given order.
pub fn sorted_series(
    store: &Store,
    mut ids: Vec<SeriesId>,
    (sort, reverse): (SeriesSort, bool),
    now_ms: i64,
) -> Vec<SeriesId> {
    match sort {
        SeriesSort::Labels => ids.sort_by(|a, b| {
            let la = store.series(*a).map(|s| &*s.labels).unwrap_or(&[]);
            let lb = store.series(*b).map(|s| &*s.labels).unwrap_or(&[]);
            let text = |l: &[(Sym, Sym)]| {
                l.iter()
                    .map(|&(n, v)| (store.str(n), store.str(v)))
                    .collect::<Vec<_>>()
            };
            text(la).cmp(&text(lb))
        }),
        SeriesSort::Rate | SeriesSort::Value => {
            let key = |id: SeriesId| {
                store.series(id).map_or(f64::NEG_INFINITY, |s| match sort {
                    SeriesSort::Rate => s.rate.per_second(now_ms),
                    _ => s.points.last().map_or(f64::NEG_INFINITY, |p| p.value),
                })
            };
            let mut keyed: Vec<(f64, SeriesId)> = ids.iter().map(|&id| (key(id), id)).collect();
            keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            ids = keyed.into_iter().map(|(_, id)| id).collect();
        }
    }
    if reverse {
        ids.reverse();
    }
    ids
}

/// Splits a metric's labels into constant and varying ones (a label missing from
/// some series varies). `__name__` is left out: the view already names the metric.
pub fn label_summary(store: &Store, ids: &[SeriesId]) -> LabelSummary {
    let name_sym = store.sym("__name__");
    let mut first: Vec<(Sym, Sym)> = Vec::new();
    let mut varying: Vec<Sym> = Vec::new();
    for (i, s) in ids.iter().filter_map(|&id| store.series(id)).enumerate() {
        if i == 0 {
            first = s
                .labels
                .iter()
                .copied()
                .filter(|l| Some(l.0) != name_sym)
                .collect();
            continue;
        }
        for l in s.labels.iter().filter(|l| Some(l.0) != name_sym) {
            match first.iter().find(|f| f.0 == l.0) {
                Some(f) if f.1 == l.1 => {}
                Some(_) => push_unique(&mut varying, l.0),
                None => push_unique(&mut varying, l.0),
            }
        }
        for f in &first {
            if !s.labels.iter().any(|l| l.0 == f.0) {
                push_unique(&mut varying, f.0);
            }
        }
    }
    let constant = first
        .into_iter()
        .filter(|f| !varying.contains(&f.0))
        .map(|(n, v)| (store.str(n).into(), store.str(v).into()))
        .collect();
    let mut varying: Vec<Box<str>> = varying.into_iter().map(|n| store.str(n).into()).collect();
    varying.sort();
    LabelSummary { constant, varying }
}

fn push_unique(v: &mut Vec<Sym>, s: Sym) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// The log entry at an absolute position.
pub fn log_entry_at(store: &Store, pos: u64) -> Option<&LogEntry> {
    let idx = pos.checked_sub(store.log_start())?;
    store.log().get(idx as usize)
}

/// Whether a log entry passes the filter (entries of evicted series pass only an empty filter).
pub fn log_entry_visible(store: &Store, entry: &LogEntry) -> bool {
    if store.filter().is_all() {
        return true;
    }
    store.series(entry.series).is_some_and(|s| s.matched)
}

/// Moves `delta` visible entries from `from`; returns the new position and
/// whether it is the last visible entry.
pub fn step_log(store: &Store, from: u64, delta: isize) -> (u64, bool) {
    let start = store.log_start();
    let end = start + store.log().len() as u64;
    if end == start {
        return (start, true);
    }
    let visible = |pos: u64| log_entry_at(store, pos).is_some_and(|e| log_entry_visible(store, e));
    let mut pos = from.clamp(start, end - 1);
    let mut remaining = delta.unsigned_abs();
    while remaining > 0 {
        let next = if delta > 0 {
            (pos + 1..end).find(|&p| visible(p))
        } else {
            (start..pos).rev().find(|&p| visible(p))
        };
        match next {
            Some(p) => pos = p,
            None => break,
        }
        remaining -= 1;
    }
    let at_end = !(pos + 1..end).any(visible);
    (pos, at_end)
}

/// Up to `rows` visible entries ending at `bottom`, oldest first.
pub fn log_rows(store: &Store, bottom: u64, rows: usize) -> Vec<&LogEntry> {
    let start = store.log_start();
    let end = start + store.log().len() as u64;
    let mut out: Vec<&LogEntry> = Vec::with_capacity(rows);
    let mut pos = bottom.min(end);
    while out.len() < rows && pos >= start && pos < end {
        if let Some(e) = log_entry_at(store, pos).filter(|e| log_entry_visible(store, e)) {
            out.push(e);
        }
        if pos == start {
            break;
        }
        pos -= 1;
    }
    out.reverse();
    out
}
