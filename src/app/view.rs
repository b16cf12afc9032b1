//! The metrics and series lists' rows: what they are sorted by, and a snapshot
//! of the sorted-by values, so that what the screen shows is sorted by what the
//! screen shows even while values change between re-sorts.

use std::cmp::Ordering;

use super::list::{Identified, SortKey, SortOrder};
use crate::store::intern::Sym;
use crate::store::ring::Point;
use crate::store::{Metric, MetricId, Series, SeriesId, Store};

/// Window of the "samples/s now" columns and the header's rates (senders
/// batch every few seconds; a shorter window makes the rates jump).
pub const RATE_WINDOW_SECS: i64 = 10;

/// Metrics list order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricSort {
    /// By metric name.
    Name,
    /// By series count.
    Series,
    /// By samples/s.
    Rate,
}

impl SortKey for MetricSort {
    fn next(self) -> Self {
        match self {
            MetricSort::Name => MetricSort::Series,
            MetricSort::Series => MetricSort::Rate,
            MetricSort::Rate => MetricSort::Name,
        }
    }

    fn label(self) -> &'static str {
        match self {
            MetricSort::Name => "name",
            MetricSort::Series => "series",
            MetricSort::Rate => "samples/s",
        }
    }

    fn natural_order(self) -> SortOrder {
        match self {
            MetricSort::Name => SortOrder::Ascending,
            MetricSort::Series | MetricSort::Rate => SortOrder::Descending,
        }
    }

    fn moves_with_time(self) -> bool {
        self == MetricSort::Rate
    }
}

/// Series list order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesSort {
    /// By label values, numbers by their value.
    Labels,
    /// By samples/s.
    Rate,
    /// By last value.
    Value,
}

impl SortKey for SeriesSort {
    fn next(self) -> Self {
        match self {
            SeriesSort::Labels => SeriesSort::Rate,
            SeriesSort::Rate => SeriesSort::Value,
            SeriesSort::Value => SeriesSort::Labels,
        }
    }

    fn label(self) -> &'static str {
        match self {
            SeriesSort::Labels => "labels",
            SeriesSort::Rate => "samples/s",
            SeriesSort::Value => "value",
        }
    }

    fn natural_order(self) -> SortOrder {
        match self {
            SeriesSort::Labels => SortOrder::Ascending,
            SeriesSort::Rate | SeriesSort::Value => SortOrder::Descending,
        }
    }

    fn moves_with_time(self) -> bool {
        self != SeriesSort::Labels
    }
}

/// A row of the metrics list: the metric (a large list is rebuilt only every
/// few seconds, and a metric whose series all went meanwhile no longer
/// resolves) and the values it was sorted by, as they were when sorted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricRow {
    /// The metric.
    pub id: MetricId,
    /// Series matching the filter, when sorted.
    pub matched: u32,
    /// Samples/s, when sorted (`None`: not yet known).
    pub rate: Option<f64>,
}

impl Identified for MetricRow {
    type Id = MetricId;
    fn id(&self) -> MetricId {
        self.id
    }
}

/// A row of the series list: the series (which may be evicted before the
/// next rebuild, as for [`MetricRow`]) and what it showed when sorted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesRow {
    /// The series.
    pub id: SeriesId,
    /// The last sample, when sorted.
    pub last: Option<Point>,
    /// When that sample arrived (ms since the epoch).
    pub arrival_ms: i64,
    /// Samples received until then (how far the series' samples reached).
    pub samples_total: u64,
    /// Samples/s, when sorted (`None`: not yet known).
    pub rate: Option<f64>,
}

impl Identified for SeriesRow {
    type Id = SeriesId;
    fn id(&self) -> SeriesId {
        self.id
    }
}

impl SeriesRow {
    fn of(store: &Store, id: SeriesId, s: &Series, now_ms: i64) -> SeriesRow {
        SeriesRow {
            id,
            last: s.points.last(),
            arrival_ms: s.last_arrival_ms,
            samples_total: s.samples_total,
            rate: store.series_per_second(s, now_ms, RATE_WINDOW_SECS),
        }
    }
}

/// Samples per second of a metric's series that match the filter; `None`
/// while not yet known.
pub fn matched_per_second(m: &Metric, now_ms: i64) -> Option<f64> {
    m.matched_rate()
        .map_or(Some(0.0), |rate| rate.per_second(now_ms, RATE_WINDOW_SECS))
}

/// Rates, highest first, those not yet known last.
fn by_rate_falling(a: Option<f64>, b: Option<f64>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(a), Some(b)) => b.total_cmp(&a),
        (a, b) => b.is_some().cmp(&a.is_some()),
    }
}

/// Metrics with series matching the filter, in the given order.
pub fn sorted_metrics(
    store: &Store,
    sort: MetricSort,
    order: SortOrder,
    now_ms: i64,
) -> Vec<MetricRow> {
    let mut rows: Vec<(MetricRow, &Metric)> = store
        .metrics()
        .filter(|(_, m)| m.matched > 0)
        .map(|(id, m)| {
            let row = MetricRow {
                id,
                matched: m.matched,
                rate: matched_per_second(m, now_ms),
            };
            (row, m)
        })
        .collect();
    let name = |m: &Metric| store.str(m.name);
    let by_name =
        |a: &(MetricRow, &Metric), b: &(MetricRow, &Metric)| natural_cmp(name(a.1), name(b.1));
    // Ties by name: slot ids say nothing once evicted metrics' slots are reused.
    match sort {
        MetricSort::Name => rows.sort_by(by_name),
        MetricSort::Series => {
            rows.sort_by(|a, b| b.0.matched.cmp(&a.0.matched).then_with(|| by_name(a, b)))
        }
        MetricSort::Rate => {
            rows.sort_by(|a, b| by_rate_falling(a.0.rate, b.0.rate).then_with(|| by_name(a, b)))
        }
    }
    if order != sort.natural_order() {
        rows.reverse();
    }
    rows.into_iter().map(|(row, _)| row).collect()
}

/// The given series, in the given order.
pub fn sorted_series<'a>(
    store: &Store,
    series: impl Iterator<Item = (SeriesId, &'a Series)>,
    sort: SeriesSort,
    order: SortOrder,
    now_ms: i64,
) -> Vec<SeriesRow> {
    let mut rows: Vec<(SeriesRow, &Series)> = series
        .map(|(id, s)| (SeriesRow::of(store, id, s, now_ms), s))
        .collect();
    let by_labels = |a: &(SeriesRow, &Series), b: &(SeriesRow, &Series)| {
        labels_cmp(store, &a.1.labels, &b.1.labels)
    };
    match sort {
        SeriesSort::Labels => rows.sort_by(by_labels),
        SeriesSort::Rate => {
            rows.sort_by(|a, b| by_rate_falling(a.0.rate, b.0.rate).then_with(|| by_labels(a, b)))
        }
        SeriesSort::Value => {
            let value = |r: &SeriesRow| r.last.map_or(f64::NEG_INFINITY, |p| p.value);
            rows.sort_by(|a, b| {
                value(&b.0)
                    .total_cmp(&value(&a.0))
                    .then_with(|| by_labels(a, b))
            })
        }
    }
    if order != sort.natural_order() {
        rows.reverse();
    }
    rows.into_iter().map(|(row, _)| row).collect()
}

/// Label sets compared pair by pair, names as text and values naturally.
fn labels_cmp(store: &Store, a: &[(Sym, Sym)], b: &[(Sym, Sym)]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let by_pair = store
            .str(x.0)
            .cmp(store.str(y.0))
            .then_with(|| natural_cmp(store.str(x.1), store.str(y.1)));
        if by_pair != Ordering::Equal {
            return by_pair;
        }
    }
    a.len().cmp(&b.len())
}

/// Orders text as people read it: numbers by value (`2` before `10`, `0.005`
/// before `0.01`, `+Inf` last), and runs of digits inside text by their value
/// (`pod-9` before `pod-10`); otherwise as text.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    if let (Some(x), Some(y)) = (number(a), number(b)) {
        return x.total_cmp(&y).then_with(|| a.cmp(b));
    }
    let (mut a_rest, mut b_rest) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a_rest.first(), b_rest.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (x_digits, x_tail) = split_digits(a_rest);
                let (y_digits, y_tail) = split_digits(b_rest);
                let by_value = digits_cmp(x_digits, y_digits);
                if by_value != Ordering::Equal {
                    return by_value;
                }
                (a_rest, b_rest) = (x_tail, y_tail);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                (a_rest, b_rest) = (&a_rest[1..], &b_rest[1..]);
            }
        }
    }
}

/// A label value that is a whole number as Prometheus writes them (`le`,
/// `quantile`: `0.25`, `1e+06`, `+Inf`), not a name that happens to parse
/// (`inf`, `nan`).
fn number(s: &str) -> Option<f64> {
    let plain = s
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+' | b'e' | b'E'));
    match s {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ if plain && s.bytes().any(|c| c.is_ascii_digit()) => s.parse().ok(),
        _ => None,
    }
}

fn split_digits(s: &[u8]) -> (&[u8], &[u8]) {
    let end = s
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(s.len());
    s.split_at(end)
}

/// Digit runs of any length by value: without leading zeros, the longer is larger.
fn digits_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let trim = |d: &[u8]| -> usize { d.iter().position(|&c| c != b'0').unwrap_or(d.len()) };
    let (a, b) = (&a[trim(a)..], &b[trim(b)..]);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// The labels the same on every series of a metric. Kept as strings, not
/// [`Sym`]s: it lives across frames, and the store may free and reuse a `Sym`
/// as soon as the series using it are evicted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSummary {
    /// Labels with the same value on every series (shown once above the list),
    /// `__tenant__` among them when every series has the same tenant.
    pub constant: Vec<(Box<str>, Box<str>)>,
    /// Whether the series are of more than one tenant (or some of none): each
    /// row then shows its `__tenant__`, as equal label sets of two tenants are
    /// two series.
    pub tenants_vary: bool,
}

/// The labels with the same value on every series (a label missing from some
/// series varies). `__name__` is left out: the view already names the metric.
pub fn label_summary<'a>(store: &Store, series: impl Iterator<Item = &'a Series>) -> LabelSummary {
    let name_sym = store.sym("__name__");
    let mut first: Vec<(Sym, Sym)> = Vec::new();
    let mut varying: Vec<Sym> = Vec::new();
    let (mut tenant, mut tenants_vary) = (None, false);
    for (i, s) in series.enumerate() {
        tenants_vary |= *tenant.get_or_insert(s.origin.tenant) != s.origin.tenant;
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
    let mut constant: Vec<(Box<str>, Box<str>)> = first
        .into_iter()
        .filter(|f| !varying.contains(&f.0))
        .map(|(n, v)| (store.str(n).into(), store.str(v).into()))
        .collect();
    let origin = crate::store::parties::Origin {
        tenant: tenant.unwrap_or(crate::store::parties::NO_PARTY),
        ..crate::store::parties::Origin::NONE
    };
    let [(pseudo, name), _] = store.origin_names(origin);
    if !tenants_vary && !name.is_empty() {
        constant.push((pseudo.into(), name.into()));
    }
    LabelSummary {
        constant,
        tenants_vary,
    }
}

fn push_unique(v: &mut Vec<Sym>, s: Sym) {
    if !v.contains(&s) {
        v.push(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(values: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = values.iter().map(|s| s.to_string()).collect();
        v.sort_by(|a, b| natural_cmp(a, b));
        v
    }

    #[test]
    fn numbers_sort_by_value() {
        assert_eq!(sorted(&["100", "1", "10", "2"]), ["1", "2", "10", "100"]);
        assert_eq!(
            sorted(&["+Inf", "0.1", "0.005", "1", "0.01", "2.5"]),
            ["0.005", "0.01", "0.1", "1", "2.5", "+Inf"]
        );
        assert_eq!(sorted(&["-1", "-10", "0"]), ["-10", "-1", "0"]);
    }

    #[test]
    fn digit_runs_inside_text_sort_by_value() {
        assert_eq!(
            sorted(&["pod-10", "pod-9", "pod-100", "node"]),
            ["node", "pod-9", "pod-10", "pod-100"]
        );
        assert_eq!(sorted(&["a01", "a1", "a001"]), ["a001", "a01", "a1"]);
        assert_eq!(sorted(&["b", "a", "inf", "nan"]), ["a", "b", "inf", "nan"]);
        // Longer than any integer type.
        assert_eq!(
            sorted(&["x123456789012345678901234567890", "x99"]),
            ["x99", "x123456789012345678901234567890"]
        );
    }
}
