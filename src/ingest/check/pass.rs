//! One request being checked: its RW 1.0 metadata, then series by series the
//! label, series, limit, sample, histogram and exemplar rules.
//!
//! Most series of most requests break no rule, and the path they take is kept
//! short: one lookup of what is remembered of the series; a label set found
//! with nothing wrong before is not read again when it comes again in the same
//! order ([`Remembered::labels_plain`]); a sample newer than the series'
//! newest, not lower, within the time windows is taken without the full
//! sample rules ([`SeriesState::take_plain`](crate::problems::SeriesState::take_plain));
//! the metric name is looked up only when a rule needs it.

use super::dense::DenseMap;
use super::names::NameCache;
use super::quick::{Quick, known_not_counter, sample_in};
use super::{
    Checker, CheckerMemory, Collector, HISTOGRAM_RULES, LABEL_RULES, MetricMemory, Remembered,
    STATEFUL_RULES, limits, name_hash,
};
use crate::ingest::model::{HistogramExt, LabelRef, MetricType, ReceivedSeries, StrId, WriteData};
use crate::problems::labels::LabelCheck;
use crate::problems::samples::{SampleContext, SampleIn, is_counter};
use crate::problems::{Report, Rule, RuleSet, Subject};
use crate::text::promql;

/// One request being checked.
pub(super) struct Pass<'a, 'c> {
    pub(super) checker: &'a Checker,
    pub(super) data: &'a WriteData,
    pub(super) memory: &'a mut CheckerMemory,
    pub(super) out: Collector<'c>,
    pub(super) rw2: bool,
    pub(super) arrival_ms: i64,
    /// What this request's series said of their metric names so far, by
    /// the names' strings (RW 2.0 symbols).
    pub(super) names: &'c mut NameCache,
    /// The type remembered for the current series' name, when looked up.
    pub(super) name_type: Option<MetricType>,
    /// With a `series-per-*` limit set: the request's tenant, hashed and as text.
    pub(super) tenant: Option<(u64, &'a str)>,
    /// Whether and how series take the quick path.
    pub(super) quick: Quick,
    /// For a request whose samples are not kept ([`Checker::check_unkept`]):
    /// copies of its series' entries, so that a series sent twice in it is
    /// checked as when kept, and the remembered entries are left as they were.
    pub(super) unkept: Option<&'c mut DenseMap<Remembered>>,
}

/// The value of `__name__` among `pairs`, if any.
pub(super) fn name_label(data: &WriteData, pairs: &[LabelRef]) -> Option<StrId> {
    pairs
        .iter()
        .find(|l| data.bytes(l.name) == b"__name__")
        .map(|l| l.value)
}

/// The value of `__name__` among `pairs`, or empty.
fn metric_name<'d>(data: &'d WriteData, pairs: &[LabelRef]) -> &'d [u8] {
    name_label(data, pairs).map_or(b"", |id| data.bytes(id))
}

impl<'a> Pass<'a, '_> {
    /// RW 1.0 metadata entries: remembered per name, checked for conflicts.
    pub(super) fn metadata_entries(&mut self) {
        let typing = [
            Rule::MetadataConflict,
            Rule::CounterDecrease,
            Rule::NanOnCounter,
        ];
        if !self.checker.wanted.meets(RuleSet::of(&typing)) {
            return;
        }
        let data = self.data;
        for m in &data.metadata {
            self.memory.renew_epoch_if_due();
            self.out.begin(Subject::Request, None);
            let (name, help) = (data.bytes(m.family), data.bytes(m.help));
            metadata(
                &mut self.memory.metrics,
                &mut self.out,
                name,
                m.metric_type,
                help,
            );
        }
    }

    /// Checks series `index`; whether a rule at `reject` fired on it.
    /// Inlined into the request's loop: called for every series, most of
    /// which take the quick path (a call costs ~10% of that path).
    #[inline(always)]
    pub(super) fn series(&mut self, index: usize) -> bool {
        let data = self.data;
        let Some(series) = data.series.get(index) else {
            return false;
        };
        self.memory.renew_epoch_if_due();
        let checker = self.checker;
        let CheckerMemory {
            series: remembered,
            metrics,
            newest_of_all_ms,
            limits,
        } = &mut *self.memory;
        let mut unremembered = Remembered::default();
        // A series is its 64-bit identity hash here, not its labels: two
        // label sets that hash equal would share an entry (false
        // out-of-order and duplicate reports, the second's label rules
        // skipped). Accepted because the hash is keyed per process
        // (`crate::hashing`): a sender cannot aim for a collision, and one
        // by chance is 2^-64 a pair (~1e-7 among the 2M series remembered).
        let key = series.label_hash;
        let entry = match self.unkept.as_deref_mut() {
            _ if !checker.remembers => &mut unremembered,
            None => remembered.entry(key),
            Some(unkept) => {
                let copy = || remembered.get(key).copied().unwrap_or_default();
                unkept.entry_or_insert_with(key, copy).0
            }
        };
        let at = (data, series);
        if self
            .quick
            .take(at, entry, metrics.epoch, newest_of_all_ms, self.names)
        {
            return false;
        }
        let samples = data.samples_of(series);
        let histograms = data.histograms_of(series);
        let exemplars = data.exemplars_of(series);
        let first_ts = samples
            .first()
            .map(|s| s.timestamp_ms)
            .or_else(|| histograms.first().map(|h| h.timestamp));
        let out = &mut self.out;
        out.begin(Subject::Series(index as u32), first_ts);
        let thresholds = &checker.settings.thresholds;
        let pairs = data
            .labels
            .get(series.labels.start as usize..series.labels.end as usize)
            .unwrap_or(&[]);
        if checker.wanted.meets(RuleSet::of(LABEL_RULES))
            && !(series.labels_sorted && entry.labels_plain)
        {
            let mut labels = LabelCheck::new();
            for l in pairs {
                labels.label(data.bytes(l.name), data.bytes(l.value), thresholds, out);
            }
            let fired = labels.finish(thresholds, out);
            entry.labels_plain = series.labels_sorted && fired.is_empty();
        }
        // Looked up once, when a rule needs it.
        let mut name: Option<&'a [u8]> = None;
        let mut name = || *name.get_or_insert_with(|| metric_name(data, pairs));
        if let Some(tenant) = self.tenant {
            let at = (self.arrival_ms, series.label_hash);
            limits::check(limits, at, name(), tenant, out);
        }
        self.name_type = None;
        if self.rw2 {
            let only_exemplars = samples.is_empty() && histograms.is_empty();
            if only_exemplars && !exemplars.is_empty() {
                out.found(Rule::ExemplarOnlySeries, &|| {
                    format!(
                        "has {} exemplars and no samples or histograms",
                        exemplars.len()
                    )
                });
            }
            if !samples.is_empty() && !histograms.is_empty() {
                out.found(Rule::SamplesAndHistogramsMixed, &|| {
                    format!(
                        "has {} samples and {} histograms",
                        samples.len(),
                        histograms.len()
                    )
                });
            }
            if series.created_timestamp_ms != 0 {
                let ts = series.created_timestamp_ms;
                out.found(Rule::Rw2CreatedTimestampLegacy, &|| {
                    format!(
                        "has created_timestamp {} in field 6 of its TimeSeries",
                        crate::problems::At(ts)
                    )
                });
            }
            let metric_type = series
                .metadata
                .map_or(MetricType::Unknown, |m| m.metric_type);
            if metric_type == MetricType::Unknown
                && checker.wanted.contains(Rule::MetadataTypeUnspecified)
            {
                let id = name_label(data, pairs);
                let cached = id.and_then(|id| self.names.untyped(id));
                let known = cached.unwrap_or_else(|| untyped(metrics, out, name()));
                if let (Some(id), None) = (id, cached) {
                    self.names.put_untyped(id, known);
                }
                self.name_type = Some(known);
            }
            if let Some(m) = series.metadata
                && checker.wanted.contains(Rule::MetadataConflict)
            {
                let sent = name_label(data, pairs).map(|id| (id, m.metric_type, m.help));
                if !sent.is_some_and(|sent| self.names.was_sent(sent)) {
                    let help = data.bytes(m.help);
                    if metadata(metrics, out, name(), m.metric_type, help) {
                        self.names.clear();
                    }
                    if let Some(sent) = sent {
                        self.names.put_sent(sent);
                    }
                }
            }
        }
        let mut sampling = Sampling {
            checker,
            data,
            series,
            pairs,
            metrics,
            name_type: self.name_type,
            newest_of_all_ms,
            arrival_ms: self.arrival_ms,
        };
        sampling.samples(entry, out);
        for e in exemplars {
            let pairs = data
                .labels
                .get(e.labels.start as usize..e.labels.end as usize)
                .unwrap_or(&[]);
            out.timestamp_ms = Some(e.timestamp_ms);
            crate::problems::exemplars::check_exemplar(
                pairs
                    .iter()
                    .map(|l| (data.bytes(l.name), data.bytes(l.value))),
                e.timestamp_ms,
                self.rw2,
                thresholds,
                out,
            );
        }
        out.rejected
    }
}

/// Remembers a metric's type and help in `metrics`, firing
/// `metadata-conflict` if they differ from what it was sent with before.
/// Unknown types and empty help texts conflict with nothing. Returns whether
/// what is remembered of the name changed.
fn metadata(
    metrics: &mut MetricMemory,
    out: &mut Collector<'_>,
    name: &[u8],
    metric_type: MetricType,
    help: &[u8],
) -> bool {
    if name.is_empty() {
        return false;
    }
    let key = name_hash(name);
    let help_hash = if help.is_empty() { 0 } else { name_hash(help) };
    let (facts, epoch) = metrics.entry(key);
    let was = *facts;
    let type_differs = metric_type != MetricType::Unknown
        && was.metric_type != MetricType::Unknown
        && was.metric_type != metric_type;
    let help_differs = help_hash != 0 && was.help != 0 && was.help != help_hash;
    let changed = (metric_type != MetricType::Unknown && was.metric_type != metric_type)
        || (help_hash != 0 && was.help != help_hash);
    if metric_type != MetricType::Unknown && was.metric_type != metric_type {
        facts.metric_type = metric_type;
        *epoch = epoch.wrapping_add(1);
    }
    if help_hash != 0 {
        facts.help = help_hash;
    }
    if type_differs || help_differs {
        let name = promql::quoted(name);
        out.found(Rule::MetadataConflict, &|| {
            if type_differs {
                format!(
                    "metric {name} was sent as a {}, now as a {}",
                    was.metric_type.name(),
                    metric_type.name()
                )
            } else {
                format!("metric {name} was sent with another help text")
            }
        });
    }
    changed
}

/// A series of metric `name` came with no type: `metadata-type-unspecified`
/// fires once per name (while remembered), unless the name's type is known
/// from other series or metadata entries. Returns the name's remembered type.
fn untyped(metrics: &mut MetricMemory, out: &mut Collector<'_>, name: &[u8]) -> MetricType {
    let (facts, _) = metrics.entry(name_hash(name));
    let known = facts.metric_type;
    if known == MetricType::Unknown && !facts.untyped_reported {
        facts.untyped_reported = true;
        let name = promql::quoted(name);
        out.found(Rule::MetadataTypeUnspecified, &|| {
            format!(
                "metric {name} is sent with no type (reported once per name; \
                 Prometheus sends types over RW 2.0 only with \
                 --enable-feature=metadata-wal-records)"
            )
        });
    }
    known
}

/// What the sample and histogram rules of one series read.
struct Sampling<'p, 'd> {
    checker: &'p Checker,
    data: &'d WriteData,
    series: &'d ReceivedSeries,
    /// The series' labels.
    pairs: &'d [LabelRef],
    metrics: &'p MetricMemory,
    /// The type remembered for the series' name, if looked up already.
    name_type: Option<MetricType>,
    newest_of_all_ms: &'p mut i64,
    arrival_ms: i64,
}

impl Sampling<'_, '_> {
    /// Whether the series is checked as a counter: typed so, or remembered so
    /// from metadata, or named like one. Sent with no type, what `entry`
    /// found out before, while the epoch it found it in holds.
    fn is_counter(&self, entry: &mut Remembered) -> bool {
        match self.series.metadata.map(|m| m.metric_type) {
            Some(MetricType::Counter) => true,
            Some(t) if t != MetricType::Unknown => false,
            _ if entry.counter_epoch == self.metrics.epoch => entry.counter,
            _ => {
                let name = metric_name(self.data, self.pairs);
                let remembered = self
                    .name_type
                    .or_else(|| self.metrics.metric_type(name_hash(name)));
                let counter = match remembered {
                    Some(t) if t != MetricType::Unknown => t == MetricType::Counter,
                    _ => is_counter(name, false),
                };
                entry.counter = counter;
                entry.counter_epoch = self.metrics.epoch;
                counter
            }
        }
    }

    /// The sample and histogram rules over the series' samples, against
    /// what it sent before (`entry`).
    fn samples(&mut self, entry: &mut Remembered, out: &mut Collector<'_>) {
        let (data, series) = (self.data, self.series);
        let samples = data.samples_of(series);
        let histograms = data.histograms_of(series);
        let wanted = self.checker.wanted;
        if samples.is_empty() && histograms.is_empty()
            || !wanted.meets(RuleSet::of(STATEFUL_RULES))
                && !wanted.meets(RuleSet::of(HISTOGRAM_RULES))
        {
            return;
        }
        let thresholds = &self.checker.settings.thresholds;
        // Found out for the first sample that is not plain, and remembered:
        // most series never need their name looked at, and a gauge that
        // goes down needs it once.
        let not_counter = known_not_counter(series, entry, self.metrics.epoch);
        let mut counter: Option<bool> = not_counter.then_some(false);
        let mut newest_of_all = *self.newest_of_all_ms;
        let horizon = self.arrival_ms.saturating_add(thresholds.future_ms);
        for s in samples {
            let sample = sample_in(s, series);
            let floor = newest_of_all.saturating_sub(thresholds.too_old_ms);
            let plain = if counter == Some(false) {
                entry.samples.take_in_order(sample, horizon, floor)
            } else {
                entry.samples.take_plain(sample, horizon, floor)
            };
            if !plain {
                out.timestamp_ms = Some(s.timestamp_ms);
                let counter = entry.samples.counter_matters(sample)
                    && *counter.get_or_insert_with(|| self.is_counter(entry));
                let context = SampleContext {
                    arrival_ms: self.arrival_ms,
                    newest_of_all_ms: newest_of_all,
                    counter,
                };
                entry.samples.check(sample, &context, thresholds, out);
            }
            if s.timestamp_ms > newest_of_all && s.timestamp_ms <= horizon {
                newest_of_all = s.timestamp_ms;
            }
        }
        let state = &mut entry.samples;
        for h in histograms {
            out.timestamp_ms = Some(h.timestamp);
            crate::problems::histogram::check_histogram(h, thresholds, out);
            let sample = SampleIn {
                timestamp_ms: h.timestamp,
                value: h.total_count(),
                start_ms: h.effective_start_ts(series),
                stale: false,
            };
            let context = SampleContext {
                arrival_ms: self.arrival_ms,
                newest_of_all_ms: newest_of_all,
                counter: false,
            };
            state.check(sample, &context, thresholds, out);
            if h.timestamp > newest_of_all && h.timestamp <= horizon {
                newest_of_all = h.timestamp;
            }
        }
        *self.newest_of_all_ms = newest_of_all;
    }
}
