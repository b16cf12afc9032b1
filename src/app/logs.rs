//! The store's logs seen as [`History`]s: recent samples and requests (both
//! under the filter), and one series' retained samples.

use super::history::{Entry, History};
use crate::store::ring::Point;
use crate::store::{LogEntry, RequestRow, Series, Store};

/// A series' label pairs as owned text (name, value), `__name__` included.
pub type LabelPairs = Box<[(Box<str>, Box<str>)]>;

/// A row of Recent samples: the entry, and its series' labels as they were
/// when the row was taken (none if the series was already evicted).
#[derive(Debug, Clone, PartialEq)]
pub struct SampleRow {
    /// The logged sample.
    pub entry: LogEntry,
    /// Its series' labels.
    pub labels: Option<LabelPairs>,
}

/// Recent samples that pass the filter (entries of evicted series pass only
/// an empty filter).
pub struct RecentSamples<'a>(pub &'a Store);

impl RecentSamples<'_> {
    fn entry(&self, pos: u64) -> Option<&LogEntry> {
        let store = self.0;
        let index = pos.checked_sub(store.log_start())?;
        let entry = store.log().get(usize::try_from(index).ok()?)?;
        let shown =
            store.filter().is_all() || store.series(entry.series).is_some_and(|s| s.matched);
        shown.then_some(entry)
    }
}

impl History for RecentSamples<'_> {
    type Row = SampleRow;

    fn start(&self) -> u64 {
        self.0.log_start()
    }

    fn end(&self) -> u64 {
        self.0.log_start() + self.0.log().len() as u64
    }

    fn get(&self, pos: u64) -> Option<SampleRow> {
        let store = self.0;
        let entry = *self.entry(pos)?;
        let labels = store.series(entry.series).map(|s| {
            store
                .label_pairs(&s.labels)
                .map(|(n, v)| (n.into(), v.into()))
                .collect()
        });
        Some(SampleRow { entry, labels })
    }

    fn is_shown(&self, pos: u64) -> bool {
        self.entry(pos).is_some()
    }

    fn count_from(&self, from: u64) -> u64 {
        count_under_filter(self, self.0, from)
    }

    fn still_shown(&self, row: &SampleRow) -> bool {
        let store = self.0;
        store.filter().is_all() || store.series(row.entry.series).is_some_and(|s| s.matched)
    }
}

/// The request log, under the filter: it is matched against each request's
/// `tenant`, `sender`, `path`, `status`, `protocol` and `message` as labels
/// (see [`RequestRow::passes`]), so `{tenant="team-a"}` shows one tenant's.
pub struct Requests<'a>(pub &'a Store);

impl Requests<'_> {
    fn entry(&self, pos: u64) -> Option<&RequestRow> {
        let store = self.0;
        let index = pos.checked_sub(store.requests_start())?;
        let row = store.requests().get(usize::try_from(index).ok()?)?;
        self.still_shown(row).then_some(row)
    }
}

impl History for Requests<'_> {
    type Row = RequestRow;

    fn start(&self) -> u64 {
        self.0.requests_start()
    }

    fn end(&self) -> u64 {
        self.0.requests_start() + self.0.requests().len() as u64
    }

    fn get(&self, pos: u64) -> Option<RequestRow> {
        self.entry(pos).cloned()
    }

    fn is_shown(&self, pos: u64) -> bool {
        self.entry(pos).is_some()
    }

    fn count_from(&self, from: u64) -> u64 {
        count_under_filter(self, self.0, from)
    }

    fn still_shown(&self, row: &RequestRow) -> bool {
        let filter = self.0.filter();
        filter.is_all() || row.passes(filter, &mut String::new())
    }
}

/// Entries of a log under the store's filter shown from `from` on; without a
/// filter, those that already left the kept window count too.
fn count_under_filter(log: &impl History, store: &Store, from: u64) -> u64 {
    if store.filter().is_all() {
        return log.end().saturating_sub(from);
    }
    (from.max(log.start())..log.end())
        .filter(|&pos| log.is_shown(pos))
        .count() as u64
}

/// A row of a series' samples table: the sample and the time since the one
/// before it (none for the oldest retained).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointRow {
    /// The sample.
    pub point: Point,
    /// Its timestamp minus the previous sample's.
    pub interval_ms: Option<i64>,
}

/// One series' retained samples, numbered by how many the series received.
pub struct SeriesSamples<'a>(pub &'a Series);

impl SeriesSamples<'_> {
    /// Rows of the retained samples in `[from, to)`, oldest first.
    fn range(&self, from: u64, to: u64) -> Vec<Entry<PointRow>> {
        let start = self.start();
        let (from, to) = (from.max(start), to.min(self.end()));
        if from >= to {
            return Vec::new();
        }
        // The ring decodes sequentially: walk it once.
        let skip = (from - start) as usize;
        let mut previous = None;
        let mut out = Vec::with_capacity((to - from) as usize);
        for (i, point) in self.0.points.iter().enumerate().take((to - start) as usize) {
            if i >= skip {
                out.push(Entry {
                    pos: start + i as u64,
                    row: PointRow {
                        point,
                        interval_ms: previous
                            .map(|p: Point| point.timestamp_ms.saturating_sub(p.timestamp_ms)),
                    },
                });
            }
            previous = Some(point);
        }
        out
    }
}

impl History for SeriesSamples<'_> {
    type Row = PointRow;

    fn start(&self) -> u64 {
        self.end().saturating_sub(self.0.points.len() as u64)
    }

    fn end(&self) -> u64 {
        self.0.samples_total
    }

    fn get(&self, pos: u64) -> Option<PointRow> {
        self.range(pos, pos.saturating_add(1)).pop().map(|e| e.row)
    }

    fn is_shown(&self, pos: u64) -> bool {
        (self.start()..self.end()).contains(&pos)
    }

    fn still_shown(&self, _: &PointRow) -> bool {
        true
    }

    fn before(&self, before: u64, n: usize) -> Vec<Entry<PointRow>> {
        let to = before.min(self.end());
        self.range(to.saturating_sub(n as u64), to)
    }

    fn from(&self, from: u64, n: usize) -> Vec<Entry<PointRow>> {
        let from = from.max(self.start());
        self.range(from, from.saturating_add(n as u64))
    }

    fn count_from(&self, from: u64) -> u64 {
        self.end().saturating_sub(from)
    }
}
