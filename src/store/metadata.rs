//! Metadata (type, help, unit) by metric family, as senders send it: RW 1.0 in
//! a list of its own, often before or without the family's series; RW 2.0 on
//! every series. Bounded: once families no live metric uses pile up, the oldest
//! of them go.

use std::collections::HashMap;

use super::intern::{Interner, Sym};
use crate::ingest::model::MetricType;

/// Metadata entries kept for families no live metric uses (at least; more when
/// many metrics are live), so RW 1.0 metadata that arrives before its series,
/// or for series a sender drops, is kept without growing for good.
pub const ORPHAN_METADATA: usize = 10_000;

/// Suffixes by which a metric name belongs to a metadata family (`foo_bucket` to `foo`).
const FAMILY_SUFFIXES: [&str; 6] = ["_bucket", "_sum", "_count", "_total", "_created", "_info"];

/// Type, help and unit of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaInfo {
    pub metric_type: MetricType,
    pub help: Sym,
    pub unit: Sym,
}

/// A metadata entry and when it was set, so the oldest unused ones go first.
#[derive(Debug, Clone, Copy)]
struct MetaEntry {
    info: MetaInfo,
    /// Request sequence number when set or last changed.
    seq: u64,
}

/// Metadata by family name; each entry holds references to its family, help and unit.
#[derive(Debug, Default)]
pub struct MetadataCache {
    entries: HashMap<Sym, MetaEntry>,
}

impl MetadataCache {
    /// Records what request `seq` said of `family`.
    pub fn set(
        &mut self,
        strings: &mut Interner,
        family: &str,
        metric_type: MetricType,
        help: &str,
        unit: &str,
        seq: u64,
    ) {
        let known = strings
            .get(family)
            .and_then(|f| Some((f, self.entries.get(&f)?.info)));
        // RW 2.0 repeats metadata on every series: unchanged is the usual case.
        if let Some((_, old)) = known
            && old.metric_type == metric_type
            && strings.resolve(old.help) == help
            && strings.resolve(old.unit) == unit
        {
            return;
        }
        let info = MetaInfo {
            metric_type,
            help: strings.acquire(help),
            unit: strings.acquire(unit),
        };
        let entry = MetaEntry { info, seq };
        match known {
            Some((family, old)) => {
                strings.release(old.help);
                strings.release(old.unit);
                self.entries.insert(family, entry);
            }
            None => {
                let family = strings.acquire(family);
                self.entries.insert(family, entry);
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

    /// Drops the oldest metadata of families no live metric uses once there are
    /// too many. `is_metric` tells a live metric's name; there are `live` of
    /// them. A metric uses at most two families (its own name's and the one
    /// without its suffix), so past twice the live metrics plus an allowance,
    /// more than the allowance are unused; keeping only half of it amortizes
    /// the O(n) sweep.
    pub fn trim(&mut self, strings: &mut Interner, live: usize, is_metric: impl Fn(Sym) -> bool) {
        let allowance = ORPHAN_METADATA.max(live);
        if self.entries.len() <= 2 * live + allowance {
            return;
        }
        let mut scratch = String::new();
        let in_use = |family: Sym, scratch: &mut String| {
            is_metric(family)
                || FAMILY_SUFFIXES.iter().any(|suffix| {
                    scratch.clear();
                    scratch.push_str(strings.resolve(family));
                    scratch.push_str(suffix);
                    strings.get(scratch).is_some_and(&is_metric)
                })
        };
        let mut unused: Vec<(u64, Sym)> = self
            .entries
            .iter()
            .filter(|&(&family, _)| !in_use(family, &mut scratch))
            .map(|(&family, e)| (e.seq, family))
            .collect();
        let drop = unused.len().saturating_sub(allowance / 2);
        if drop == 0 {
            return;
        }
        if drop < unused.len() {
            unused.select_nth_unstable(drop - 1);
        }
        for &(_, family) in &unused[..drop] {
            if let Some(e) = self.entries.remove(&family) {
                strings.release(e.info.help);
                strings.release(e.info.unit);
                strings.release(family);
            }
        }
    }

    /// Families with metadata.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
