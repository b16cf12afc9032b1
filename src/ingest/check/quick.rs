//! The path most series of most requests take, decided and taken without the
//! full path's per-series bookkeeping: a series remembered, whose labels broke
//! no rule before and came again as they were, with samples only (no
//! histograms, no exemplars), each newer than the series' newest within the
//! time windows and, unless the series is known to be checked as no
//! counter, no lower. Nothing fires on such a series; anything else takes the
//! full path ([`super::pass`]) from the start, with nothing changed.

use super::names::NameCache;
use super::{Checker, LABEL_RULES, Remembered, STATEFUL_RULES};
use crate::ingest::model::{MetricType, ReceivedSeries, Sample, WriteData, is_stale_nan};
use crate::problems::samples::{SampleIn, SeriesState};
use crate::problems::{Rule, RuleSet};

/// What decides the quick path for the series of one request.
pub(super) struct Quick {
    /// Whether any series of the request may take it: the checker remembers
    /// series and checks their samples, and no series limit counts them.
    on: bool,
    rw2: bool,
    label_rules: bool,
    /// `metadata-type-unspecified` is on: an RW 2.0 series sent with no
    /// type takes the full path.
    untyped_rule: bool,
    /// `metadata-conflict` is on: an RW 2.0 series' metadata must be what
    /// its name was last taken with in this request.
    conflict_rule: bool,
    /// Arrival plus the `too-far-in-future` window.
    horizon: i64,
    too_old_ms: i64,
}

/// A sample as the rules see it.
#[inline(always)]
pub(super) fn sample_in(s: &Sample, series: &ReceivedSeries) -> SampleIn {
    SampleIn {
        timestamp_ms: s.timestamp_ms,
        value: s.value,
        start_ms: s.effective_start_ts(series),
        stale: is_stale_nan(s.value),
    }
}

/// Whether `series` is known, without reading its name, to be checked as no
/// counter: typed so, or found out so (`entry`) under the current `epoch`.
#[inline]
pub(super) fn known_not_counter(series: &ReceivedSeries, entry: &Remembered, epoch: u32) -> bool {
    match series.metadata.map(|m| m.metric_type) {
        Some(MetricType::Counter) => false,
        Some(t) if t != MetricType::Unknown => true,
        _ => entry.counter_epoch == epoch && !entry.counter,
    }
}

impl Quick {
    pub(super) fn new(checker: &Checker, rw2: bool, limited: bool, arrival_ms: i64) -> Self {
        let wanted = checker.wanted;
        let thresholds = &checker.settings.thresholds;
        Quick {
            on: checker.remembers && !limited && wanted.meets(RuleSet::of(STATEFUL_RULES)),
            rw2,
            label_rules: wanted.meets(RuleSet::of(LABEL_RULES)),
            untyped_rule: wanted.contains(Rule::MetadataTypeUnspecified),
            conflict_rule: wanted.contains(Rule::MetadataConflict),
            horizon: arrival_ms.saturating_add(thresholds.future_ms),
            too_old_ms: thresholds.too_old_ms,
        }
    }

    /// Takes `series` (remembered as `entry`) the quick way if it can:
    /// its samples become the series' newest and the newest of all moves on
    /// as the full path would have it; returns whether it did. `epoch` is
    /// the metric memory's, `names` the request's.
    #[inline]
    pub(super) fn take(
        &self,
        (data, series): (&WriteData, &ReceivedSeries),
        entry: &mut Remembered,
        epoch: u32,
        newest_of_all_ms: &mut i64,
        names: &NameCache,
    ) -> bool {
        if !self.on
            || !series.histograms.is_empty()
            || !series.exemplars.is_empty()
            || (self.label_rules && !(series.labels_sorted && entry.labels_plain))
            || (self.rw2 && !self.rw2_plain(data, series, names))
        {
            return false;
        }
        let samples = data.samples_of(series);
        if samples.is_empty() {
            return false;
        }
        let not_counter = known_not_counter(series, entry, epoch);
        let mut state: SeriesState = entry.samples;
        let mut newest_of_all = *newest_of_all_ms;
        for s in samples {
            let sample = sample_in(s, series);
            let floor = newest_of_all.saturating_sub(self.too_old_ms);
            let plain = if not_counter {
                state.take_in_order(sample, self.horizon, floor)
            } else {
                state.take_plain(sample, self.horizon, floor)
            };
            if !plain {
                return false;
            }
            // Within the horizon: taken.
            newest_of_all = newest_of_all.max(s.timestamp_ms);
        }
        entry.samples = state;
        *newest_of_all_ms = newest_of_all;
        true
    }

    /// Whether an RW 2.0 series with samples and no histograms or exemplars
    /// fires none of RW 2.0's series rules: no field 6, and a type (when
    /// `metadata-type-unspecified` is on) with metadata its name was taken
    /// with already in this request (when `metadata-conflict` is on).
    fn rw2_plain(&self, data: &WriteData, series: &ReceivedSeries, names: &NameCache) -> bool {
        if series.created_timestamp_ms != 0 {
            return false;
        }
        let typed = series
            .metadata
            .filter(|m| m.metric_type != MetricType::Unknown);
        match typed {
            // Untyped: the full path says so (once a name); with a help
            // text alone, it may conflict.
            None => !(self.untyped_rule || self.conflict_rule && series.metadata.is_some()),
            Some(m) if self.conflict_rule => {
                let pairs = data
                    .labels
                    .get(series.labels.start as usize..series.labels.end as usize)
                    .unwrap_or(&[]);
                let name = super::pass::name_label(data, pairs);
                name.is_some_and(|id| names.was_sent((id, m.metric_type, m.help)))
            }
            Some(_) => true,
        }
    }
}
