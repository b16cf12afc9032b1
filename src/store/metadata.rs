//! Metadata (type, help, unit) by metric family, as senders send it: RW 1.0 in
//! a list of its own, often before or without the family's series; RW 2.0 on
//! every series. Bounded: each entry knows how many live metrics use it, and
//! once entries no live metric uses pile up (by count or by bytes of text),
//! the oldest of them go.

use std::collections::HashMap;

use super::intern::{Interner, Sym};
use super::metrics::MetricTable;
use crate::ingest::model::{Metadata, MetricType, WriteData};

/// Metadata entries kept for families no live metric uses, so RW 1.0 metadata
/// that arrives before its series, or for series a sender drops, is kept
/// without growing for good.
pub const ORPHAN_METADATA: usize = 10_000;

/// Bytes of text (family name, help, unit) kept in entries no live metric uses.
pub const ORPHAN_METADATA_BYTES: usize = 16 << 20;

/// Suffixes by which a metric name belongs to a metadata family (`foo_bucket` to `foo`).
const FAMILY_SUFFIXES: [&str; 6] = ["_bucket", "_sum", "_count", "_total", "_created", "_info"];

/// Type, help and unit of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaInfo {
    pub metric_type: MetricType,
    pub help: Sym,
    pub unit: Sym,
}

/// A metadata entry, when it was set, and who uses it.
#[derive(Debug, Clone, Copy)]
struct MetaEntry {
    info: MetaInfo,
    /// Request sequence number when set or last changed, so the oldest unused go first.
    seq: u64,
    /// Live metrics whose metadata it is (see [`families_of`]).
    users: u32,
    /// Bytes of its family name, help and unit.
    text: usize,
}

/// The families whose metadata apply to metric `name`: its own, and the one
/// without its suffix (`foo` for `foo_bucket`).
fn families_of(name: &str) -> impl Iterator<Item = &str> {
    let family = FAMILY_SUFFIXES
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix));
    std::iter::once(name).chain(family)
}

/// Metadata by family name; each entry holds references to its family, help and unit.
#[derive(Debug, Default)]
pub struct MetadataCache {
    entries: HashMap<Sym, MetaEntry>,
    /// Entries no live metric uses, and the bytes of their text.
    orphans: usize,
    orphan_text: usize,
}

impl MetadataCache {
    /// Records what request `seq` said of `family`.
    pub fn set(
        &mut self,
        strings: &mut Interner,
        metrics: &MetricTable,
        (data, m): (&WriteData, &Metadata),
        seq: u64,
    ) {
        let (family, help, unit) = (data.str(m.family), data.str(m.help), data.str(m.unit));
        let metric_type = m.metric_type;
        let known = strings
            .get(family)
            .and_then(|f| Some((f, *self.entries.get(&f)?)));
        // RW 2.0 repeats metadata on every series: unchanged is the usual case.
        if let Some((_, old)) = known
            && old.info.metric_type == metric_type
            && strings.resolve(old.info.help) == help
            && strings.resolve(old.info.unit) == unit
        {
            return;
        }
        let info = MetaInfo {
            metric_type,
            help: strings.acquire(help),
            unit: strings.acquire(unit),
        };
        let text = family.len() + help.len() + unit.len();
        let (family, users) = match known {
            Some((family, old)) => {
                strings.release(old.info.help);
                strings.release(old.info.unit);
                if old.users == 0 {
                    self.orphan_text -= old.text;
                }
                (family, old.users)
            }
            None => {
                let users = Self::users_of(strings, metrics, family);
                (strings.acquire(family), users)
            }
        };
        if users == 0 {
            self.orphan_text += text;
            self.orphans += usize::from(known.is_none());
        }
        let entry = MetaEntry {
            info,
            seq,
            users,
            text,
        };
        self.entries.insert(family, entry);
    }

    /// How many live metrics use the metadata of `family`: the metric of that
    /// name, and those of that name with a family suffix.
    fn users_of(strings: &Interner, metrics: &MetricTable, family: &str) -> u32 {
        let is_metric = |name: &str| strings.get(name).is_some_and(|s| metrics.has_name(s));
        let mut name = String::with_capacity(family.len() + 8);
        let suffixed = FAMILY_SUFFIXES.iter().filter(|suffix| {
            name.clear();
            name.push_str(family);
            name.push_str(suffix);
            is_metric(&name)
        });
        (usize::from(is_metric(family)) + suffixed.count()) as u32
    }

    /// Counts a new live metric among the users of its families' metadata.
    pub fn metric_added(&mut self, strings: &Interner, name: &str) {
        for family in families_of(name) {
            let Some(e) = strings.get(family).and_then(|f| self.entries.get_mut(&f)) else {
                continue;
            };
            if e.users == 0 {
                self.orphans -= 1;
                self.orphan_text -= e.text;
            }
            e.users += 1;
        }
    }

    /// Counts a live metric out of the users of its families' metadata.
    pub fn metric_gone(&mut self, strings: &Interner, name: &str) {
        for family in families_of(name) {
            let Some(e) = strings.get(family).and_then(|f| self.entries.get_mut(&f)) else {
                continue;
            };
            e.users = e.users.saturating_sub(1);
            if e.users == 0 {
                self.orphans += 1;
                self.orphan_text += e.text;
            }
        }
    }

    /// The metadata that applies to a metric name: its own, or its family's
    /// (`foo` for `foo_bucket`, `foo_sum`, `foo_count`, `foo_total`, `foo_created`).
    pub fn lookup(&self, strings: &Interner, name: &str) -> Option<MetaInfo> {
        let lookup = |n: &str| {
            strings
                .get(n)
                .and_then(|s| self.entries.get(&s))
                .map(|e| e.info)
        };
        lookup(name).or_else(|| {
            FAMILY_SUFFIXES
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix).and_then(lookup))
        })
    }

    /// A metric's type from metadata, or else inferred from its data and name
    /// (`true` = inferred).
    pub fn metric_type(
        &self,
        strings: &Interner,
        name: &str,
        has_histograms: bool,
    ) -> (MetricType, bool) {
        if let Some(m) = self
            .lookup(strings, name)
            .filter(|m| m.metric_type != MetricType::Unknown)
        {
            return (m.metric_type, false);
        }
        let inferred = if has_histograms || name.ends_with("_bucket") {
            MetricType::Histogram
        } else if name.ends_with("_total") || name.ends_with("_created") {
            MetricType::Counter
        } else if name.ends_with("_info") {
            MetricType::Info
        } else {
            // `_sum` and `_count` belong to histograms and summaries alike.
            MetricType::Unknown
        };
        (inferred, true)
    }

    /// Once entries no live metric uses are over [`ORPHAN_METADATA`] or their
    /// text over [`ORPHAN_METADATA_BYTES`], drops the oldest of them down to
    /// half of each, which amortizes the O(n) sweep.
    pub fn trim(&mut self, strings: &mut Interner) {
        if self.orphans <= ORPHAN_METADATA && self.orphan_text <= ORPHAN_METADATA_BYTES {
            return;
        }
        let mut unused: Vec<(u64, Sym)> = self
            .entries
            .iter()
            .filter(|(_, e)| e.users == 0)
            .map(|(&family, e)| (e.seq, family))
            .collect();
        unused.sort_unstable();
        for (_, family) in unused {
            if self.orphans <= ORPHAN_METADATA / 2 && self.orphan_text <= ORPHAN_METADATA_BYTES / 2
            {
                break;
            }
            if let Some(e) = self.entries.remove(&family) {
                self.orphans -= 1;
                self.orphan_text -= e.text;
                strings.release(e.info.help);
                strings.release(e.info.unit);
                strings.release(family);
            }
        }
    }

    /// Bytes of the entries themselves (their text is the interner's).
    pub fn bytes(&self) -> usize {
        self.entries.capacity() * (size_of::<(Sym, MetaEntry)>() + 1)
    }

    /// Entries no live metric uses.
    #[cfg(test)]
    pub fn orphans(&self) -> usize {
        self.orphans
    }

    /// Families with metadata.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
