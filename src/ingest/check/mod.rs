//! The rules applied to decoded requests, as they arrive: one [`Checker`] per
//! run, shared by the receiver's connections (and forward mode's inspection,
//! and replay), writes what it finds into each request's
//! [`WriteData::problems`], before the request is answered, so that a rule at
//! `reject` can refuse the series it fired on.
//!
//! What the stateful rules remember (each series' newest sample, each metric
//! name's type and help) lives in bounded maps keyed by the hashes the decoder
//! computed; see [`CheckerMemory`].

use std::sync::Mutex;

use foldhash::fast::FixedState;
use std::hash::BuildHasher;

pub mod limits;
mod memory;
pub mod settings;
#[cfg(test)]
mod tests;

use memory::Generations;
pub use settings::{Action, LIMITS, Settings};

use crate::ingest::model::{
    HistogramExt, MetricType, Protocol, ReceivedSeries, WriteData, is_stale_nan,
};
use crate::problems::labels::LabelCheck;
use crate::problems::samples::{SampleContext, SampleIn, SeriesState, is_counter};
use crate::problems::{Counts, MAX_PROBLEMS, Problem, Report, Rule, RuleSet, Subject};

/// Series whose newest sample a generation remembers: two generations keep
/// at most 2 M series, 32 bytes and a control byte each in tables at most
/// half empty: under 70 bytes a series.
pub const SERIES_PER_GENERATION: usize = 1 << 20;
/// Metric names whose type and help a generation remembers.
const METRICS_PER_GENERATION: usize = 1 << 16;

/// The rules that need what a series sent before (or the newest sample of all).
const STATEFUL_RULES: &[Rule] = &[
    Rule::OutOfOrder,
    Rule::DuplicateTimestamp,
    Rule::DuplicateSample,
    Rule::TooOld,
    Rule::TooFarInFuture,
    Rule::CounterDecrease,
    Rule::NanOnCounter,
];

/// The rules of a series' label set.
const LABEL_RULES: &[Rule] = &[
    Rule::LabelsUnsorted,
    Rule::LabelNameRepeated,
    Rule::LabelNameEmpty,
    Rule::LabelValueEmpty,
    Rule::MetricNameMissing,
    Rule::MetricNameInvalid,
    Rule::LabelNameInvalid,
    Rule::LabelValueInvalidUtf8,
    Rule::TooManyLabels,
    Rule::LabelNameTooLong,
    Rule::LabelValueTooLong,
    Rule::MetricNameTooLong,
];

/// The rules of a native histogram on its own.
const HISTOGRAM_RULES: &[Rule] = &[
    Rule::HistogramCountMismatch,
    Rule::HistogramNegativeCount,
    Rule::HistogramSpansMismatch,
    Rule::HistogramSchemaInvalid,
    Rule::HistogramCustomBoundsInvalid,
    Rule::HistogramTooManyBuckets,
];

/// What is remembered of a metric name: its type and a hash of its help, and
/// whether `metadata-type-unspecified` was reported for it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct MetricFacts {
    metric_type: MetricType,
    help: u64,
    untyped_reported: bool,
}

/// What the stateful rules remember between requests.
#[derive(Debug)]
struct CheckerMemory {
    series: Generations<SeriesState>,
    metrics: Generations<MetricFacts>,
    /// The newest sample timestamp of all (not too far in the future), for
    /// `too-old`; `i64::MIN` before the first.
    newest_of_all_ms: i64,
    /// Active series per tenant and metric, for `series-per-*`.
    limits: limits::SeriesLimits,
}

/// Applies the rules, as [`Settings`] switch them, to requests.
#[derive(Debug)]
pub struct Checker {
    settings: Settings,
    /// Rules not `off`.
    wanted: RuleSet,
    /// Rules at `reject`.
    rejecting: RuleSet,
    memory: Mutex<CheckerMemory>,
}

impl Default for Checker {
    fn default() -> Self {
        Checker::new(Settings::default())
    }
}

impl Checker {
    pub fn new(settings: Settings) -> Self {
        Checker::with_capacity(settings, SERIES_PER_GENERATION)
    }

    /// A checker remembering at most `2 × series_per_generation` series.
    pub fn with_capacity(settings: Settings, series_per_generation: usize) -> Self {
        let mut wanted = RuleSet::default();
        for &rule in Rule::ALL {
            if settings.action(rule) != Action::Off {
                wanted.insert(rule);
            }
        }
        let memory = Mutex::new(CheckerMemory {
            series: Generations::new(series_per_generation),
            metrics: Generations::new(METRICS_PER_GENERATION),
            newest_of_all_ms: i64::MIN,
            limits: limits::SeriesLimits::of(&settings.thresholds, wanted),
        });
        Checker {
            rejecting: settings.rules_at(Action::Reject),
            wanted,
            settings,
            memory,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Series remembered, and the bytes their tables take.
    pub fn remembered(&self) -> (usize, usize) {
        let memory = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        (memory.series.len(), memory.series.heap_bytes())
    }

    /// Checks `data`, a request of `protocol` that arrived at `arrival_ms`:
    /// adds what it finds to `data.problems` (after what decoding found there,
    /// which is dropped for rules that are off) and counts it in
    /// `data.problem_totals`; then refuses the series a rule at `reject` fired
    /// on (all of them for a request-level rule), moving them out of
    /// `data.series` with a reason in `data.refused`.
    pub fn check(&self, data: &mut WriteData, protocol: Option<Protocol>, arrival_ms: i64) {
        self.check_as(data, protocol, arrival_ms, None);
    }

    /// [`Checker::check`] for a request of `tenant`, which the
    /// `series-per-tenant` limit counts series under.
    pub fn check_as(
        &self,
        data: &mut WriteData,
        protocol: Option<Protocol>,
        arrival_ms: i64,
        tenant: Option<&str>,
    ) {
        if self.wanted.is_empty() {
            data.problems.clear();
            data.problem_totals = None;
            return;
        }
        let mut problems = std::mem::take(&mut data.problems);
        problems.retain(|p| self.wanted.contains(p.rule));
        let mut counts = data
            .problem_totals
            .take()
            .map_or_else(Counts::default, |c| *c);
        for p in &problems {
            counts.add_n(p.rule, u64::from(p.count));
        }
        let mut rejected: Vec<u32> = Vec::new();
        let reject_all = problems
            .iter()
            .any(|p| p.subject == Subject::Request && self.rejecting.contains(p.rule));
        {
            let mut memory = self.memory.lock().unwrap_or_else(|e| e.into_inner());
            let limited = memory.limits.is_on();
            if limited {
                memory.limits.sweep(arrival_ms);
            }
            let mut pass = Pass {
                checker: self,
                data,
                memory: &mut memory,
                out: Collector {
                    wanted: self.wanted,
                    rejecting: self.rejecting,
                    problems: &mut problems,
                    counts: &mut counts,
                    subject: Subject::Request,
                    from: 0,
                    timestamp_ms: None,
                    rejected: false,
                },
                rw2: protocol == Some(Protocol::V2),
                arrival_ms,
                last_untyped: None,
                name_type: None,
                tenant: limited.then(|| (limits::tenant_hash(tenant), tenant.unwrap_or_default())),
            };
            pass.metadata_entries();
            for index in 0..data.series.len() {
                if pass.series(index) {
                    rejected.push(index as u32);
                }
            }
        }
        data.problems = problems;
        data.problem_totals = (counts.total() > 0).then(|| Box::new(counts));
        if reject_all {
            rejected = (0..data.series.len() as u32).collect();
        }
        self.refuse(data, &rejected, reject_all);
    }

    /// Moves the series at `indices` (ascending) out of `data.series`, saying
    /// why in `data.refused` (also when a rule refused the whole request,
    /// which may have no series), and renumbers the problems' subjects.
    fn refuse(&self, data: &mut WriteData, indices: &[u32], whole_request: bool) {
        if indices.is_empty() && !whole_request {
            return;
        }
        let mut reasons: Vec<String> = Vec::new();
        for p in &data.problems {
            if !self.rejecting.contains(p.rule) {
                continue;
            }
            let rule = p.rule.id();
            match &p.subject {
                Subject::Series(i) => {
                    if let Some(s) = data.series.get(*i as usize) {
                        let series = series_text(data, s);
                        reasons.push(format!(
                            "{rule} (--rule {rule}=reject): series {series} {}",
                            p.message
                        ));
                    }
                }
                Subject::Request => {
                    reasons.push(format!("{rule} (--rule {rule}=reject): {}", p.message));
                }
                // Refused by the decoder, which said why.
                Subject::Refused { .. } => {}
            }
        }
        for reason in reasons {
            data.refuse(|| format!("{reason}: not written"));
        }
        // Old index to new: written series keep their order.
        let mut new_index = vec![u32::MAX; data.series.len()];
        let mut moved = indices.iter().peekable();
        let mut kept = Vec::with_capacity(data.series.len() - indices.len());
        let mut refused = Vec::with_capacity(indices.len());
        for (i, series) in std::mem::take(&mut data.series).into_iter().enumerate() {
            if moved.next_if(|&&m| m as usize == i).is_some() {
                refused.push((i, series));
            } else {
                new_index[i] = kept.len() as u32;
                kept.push(series);
            }
        }
        data.series = kept;
        for p in &mut data.problems {
            if let Subject::Series(i) = p.subject {
                p.subject = match new_index.get(i as usize) {
                    Some(&n) if n != u32::MAX => Subject::Series(n),
                    _ => {
                        let s = refused.iter().find(|(at, _)| *at == i as usize);
                        match s {
                            Some((_, s)) => Subject::Refused {
                                labels: s.labels.clone(),
                                label_hash: s.label_hash,
                            },
                            None => Subject::Request,
                        }
                    }
                };
            }
        }
    }
}

/// A series' labels as PromQL, for a refusal's message (cut when long).
fn series_text(data: &WriteData, series: &ReceivedSeries) -> String {
    let mut out = String::new();
    crate::text::promql::write_series(&mut out, data.label_pairs(series.labels.clone()));
    if out.len() > 200 {
        let mut cut = 200;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

/// Collects firings into problems: each rule once per subject, counted.
struct Collector<'a> {
    wanted: RuleSet,
    rejecting: RuleSet,
    problems: &'a mut Vec<Problem>,
    counts: &'a mut Counts,
    subject: Subject,
    /// Where the current subject's problems start.
    from: usize,
    timestamp_ms: Option<i64>,
    /// Whether a rule at `reject` fired on the current subject.
    rejected: bool,
}

impl Collector<'_> {
    fn begin(&mut self, subject: Subject, timestamp_ms: Option<i64>) {
        self.subject = subject;
        self.from = self.problems.len();
        self.timestamp_ms = timestamp_ms;
        self.rejected = false;
    }
}

impl Report for Collector<'_> {
    fn wants(&self, rule: Rule) -> bool {
        self.wanted.contains(rule)
    }

    fn found(&mut self, rule: Rule, message: &dyn Fn() -> String) {
        if !self.wanted.contains(rule) {
            return;
        }
        self.counts.add(rule);
        self.rejected |= self.rejecting.contains(rule);
        let from = self.from.min(self.problems.len());
        if let Some(p) = self.problems[from..].iter_mut().find(|p| p.rule == rule) {
            p.count = p.count.saturating_add(1);
            return;
        }
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem {
                rule,
                subject: self.subject.clone(),
                count: 1,
                timestamp_ms: self.timestamp_ms,
                message: message(),
            });
        }
    }
}

/// One request being checked.
struct Pass<'a, 'c> {
    checker: &'a Checker,
    data: &'a WriteData,
    memory: &'a mut CheckerMemory,
    out: Collector<'c>,
    rw2: bool,
    arrival_ms: i64,
    /// The metric name of the latest series sent with no type, and the type
    /// remembered for it (series of one name mostly come together).
    last_untyped: Option<(&'a [u8], MetricType)>,
    /// The type remembered for the current series' name, when looked up.
    name_type: Option<MetricType>,
    /// With a `series-per-*` limit set: the request's tenant, hashed and as text.
    tenant: Option<(u64, &'a str)>,
}

/// Hash of a metric name, for [`CheckerMemory::metrics`].
fn name_hash(name: &[u8]) -> u64 {
    FixedState::with_seed(0x6d65_7472_6963).hash_one(name)
}

impl<'a> Pass<'a, '_> {
    /// RW 1.0 metadata entries: remembered per name, checked for conflicts.
    fn metadata_entries(&mut self) {
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
            self.out.begin(Subject::Request, None);
            self.metadata(data.bytes(m.family), m.metric_type, data.bytes(m.help));
        }
    }

    /// Remembers a metric's type and help, firing `metadata-conflict` if
    /// they differ from what it was sent with before. Unknown types and empty
    /// help texts conflict with nothing.
    fn metadata(&mut self, name: &[u8], metric_type: MetricType, help: &[u8]) {
        if name.is_empty() {
            return;
        }
        let key = name_hash(name);
        let help_hash = if help.is_empty() { 0 } else { name_hash(help) };
        let facts = self.memory.metrics.entry(key);
        let was = *facts;
        let type_differs = metric_type != MetricType::Unknown
            && was.metric_type != MetricType::Unknown
            && was.metric_type != metric_type;
        let help_differs = help_hash != 0 && was.help != 0 && was.help != help_hash;
        if metric_type != MetricType::Unknown {
            facts.metric_type = metric_type;
        }
        if help_hash != 0 {
            facts.help = help_hash;
        }
        if type_differs || help_differs {
            let name = String::from_utf8_lossy(name);
            self.out.found(Rule::MetadataConflict, &|| {
                if type_differs {
                    format!(
                        "metric {name:?} was sent as a {}, now as a {}",
                        was.metric_type.name(),
                        metric_type.name()
                    )
                } else {
                    format!("metric {name:?} was sent with another help text")
                }
            });
        }
    }

    /// A series of metric `name` came with no type: `metadata-type-unspecified`
    /// fires once per name (while remembered), unless the name's type is known
    /// from other series or metadata entries. Remembers the name's type in
    /// `name_type`.
    fn untyped(&mut self, name: &'a [u8]) {
        if let Some((last, known)) = self.last_untyped
            && last == name
        {
            self.name_type = Some(known);
            return;
        }
        let facts = self.memory.metrics.entry(name_hash(name));
        let known = facts.metric_type;
        if known == MetricType::Unknown && !facts.untyped_reported {
            facts.untyped_reported = true;
            let name = String::from_utf8_lossy(name);
            self.out.found(Rule::MetadataTypeUnspecified, &|| {
                format!(
                    "metric {name:?} is sent with no type (reported once per name; \
                     Prometheus sends types over RW 2.0 only with \
                     --enable-feature=metadata-wal-records)"
                )
            });
        }
        self.last_untyped = Some((name, known));
        self.name_type = Some(known);
    }

    /// Checks series `index`; whether a rule at `reject` fired on it.
    fn series(&mut self, index: usize) -> bool {
        let data = self.data;
        let Some(series) = data.series.get(index) else {
            return false;
        };
        let samples = data.samples_of(series);
        let histograms = data.histograms_of(series);
        let exemplars = data.exemplars_of(series);
        let first_ts = samples
            .first()
            .map(|s| s.timestamp_ms)
            .or_else(|| histograms.first().map(|h| h.timestamp));
        self.out.begin(Subject::Series(index as u32), first_ts);
        let thresholds = &self.checker.settings.thresholds;
        let mut name: &[u8] = b"";
        let pairs = data
            .labels
            .get(series.labels.start as usize..series.labels.end as usize)
            .unwrap_or(&[]);
        if self.checker.wanted.meets(RuleSet::of(LABEL_RULES)) {
            let mut labels = LabelCheck::new();
            for l in pairs {
                let (n, v) = (data.bytes(l.name), data.bytes(l.value));
                if n == b"__name__" {
                    name = v;
                }
                labels.label(n, v, thresholds, &mut self.out);
            }
            labels.finish(thresholds, &mut self.out);
        } else {
            name = pairs
                .iter()
                .find(|l| data.bytes(l.name) == b"__name__")
                .map_or(b"", |l| data.bytes(l.value));
        }
        if let Some(tenant) = self.tenant {
            self.limit(series, name, tenant);
        }
        let out = &mut self.out;
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
            self.name_type = None;
            if metric_type == MetricType::Unknown
                && self.checker.wanted.contains(Rule::MetadataTypeUnspecified)
            {
                self.untyped(name);
            }
            if let Some(m) = series.metadata
                && self.checker.wanted.contains(Rule::MetadataConflict)
            {
                self.metadata(name, m.metric_type, data.bytes(m.help));
            }
        }
        self.samples(series, name);
        for e in exemplars {
            let pairs = data
                .labels
                .get(e.labels.start as usize..e.labels.end as usize)
                .unwrap_or(&[]);
            self.out.timestamp_ms = Some(e.timestamp_ms);
            crate::problems::exemplars::check_exemplar(
                pairs
                    .iter()
                    .map(|l| (data.bytes(l.name), data.bytes(l.value))),
                e.timestamp_ms,
                self.rw2,
                thresholds,
                &mut self.out,
            );
        }
        self.out.rejected
    }

    /// `series-per-tenant` and `series-per-metric` (see [`limits`]).
    fn limit(&mut self, series: &ReceivedSeries, name: &[u8], tenant: (u64, &str)) {
        let at = (self.arrival_ms, series.label_hash);
        limits::check(&mut self.memory.limits, at, name, tenant, &mut self.out);
    }

    /// The sample and histogram rules over a series' samples, against what it
    /// sent before.
    fn samples(&mut self, series: &ReceivedSeries, name: &[u8]) {
        let data = self.data;
        let samples = data.samples_of(series);
        let histograms = data.histograms_of(series);
        let wanted = self.checker.wanted;
        let stateful = wanted.meets(RuleSet::of(STATEFUL_RULES));
        if samples.is_empty() && histograms.is_empty()
            || !(stateful || wanted.meets(RuleSet::of(HISTOGRAM_RULES)))
        {
            return;
        }
        let thresholds = &self.checker.settings.thresholds;
        let typed = series.metadata.map(|m| m.metric_type);
        let counter = match typed {
            Some(MetricType::Counter) => true,
            Some(t) if t != MetricType::Unknown => false,
            _ => {
                let remembered = self.name_type.or_else(|| {
                    (!self.memory.metrics.is_empty())
                        .then(|| self.memory.metrics.get(name_hash(name)))
                        .flatten()
                        .map(|f| f.metric_type)
                });
                match remembered {
                    Some(t) if t != MetricType::Unknown => t == MetricType::Counter,
                    _ => is_counter(name, false),
                }
            }
        };
        let future_ms = thresholds.future_ms;
        let mut newest_of_all = self.memory.newest_of_all_ms;
        let mut context = SampleContext {
            arrival_ms: self.arrival_ms,
            newest_of_all_ms: newest_of_all,
            counter,
        };
        let mut unremembered = SeriesState::default();
        let state = if stateful {
            self.memory.series.entry(series.label_hash)
        } else {
            &mut unremembered
        };
        let horizon = self.arrival_ms.saturating_add(future_ms);
        for s in samples {
            self.out.timestamp_ms = Some(s.timestamp_ms);
            let sample = SampleIn {
                timestamp_ms: s.timestamp_ms,
                value: s.value,
                start_ms: s.effective_start_ts(series),
                stale: is_stale_nan(s.value),
            };
            context.newest_of_all_ms = newest_of_all;
            state.check(sample, &context, thresholds, &mut self.out);
            if s.timestamp_ms > newest_of_all && s.timestamp_ms <= horizon {
                newest_of_all = s.timestamp_ms;
            }
        }
        context.counter = false;
        for h in histograms {
            self.out.timestamp_ms = Some(h.timestamp);
            crate::problems::histogram::check_histogram(h, thresholds, &mut self.out);
            let sample = SampleIn {
                timestamp_ms: h.timestamp,
                value: h.total_count(),
                start_ms: h.effective_start_ts(series),
                stale: false,
            };
            context.newest_of_all_ms = newest_of_all;
            state.check(sample, &context, thresholds, &mut self.out);
            if h.timestamp > newest_of_all && h.timestamp <= horizon {
                newest_of_all = h.timestamp;
            }
        }
        self.memory.newest_of_all_ms = newest_of_all;
    }
}
