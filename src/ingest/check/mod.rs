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

use std::hash::BuildHasher;

mod dense;
pub mod limits;
mod memory;
mod metric_memory;
mod names;
mod pass;
mod quick;
pub mod settings;
#[cfg(test)]
mod tests;

use memory::Generations;
use metric_memory::MetricMemory;
use pass::Pass;
pub use settings::{Action, LIMITS, Settings};

use crate::ingest::model::{Protocol, ReceivedSeries, WriteData};
use crate::problems::samples::SeriesState;
use crate::problems::{
    Counts, MAX_PROBLEMS, Message, Problem, Report, Rule, RuleSet, SampleFact, Subject, Uncarried,
};

/// Series whose newest sample a generation remembers: two generations keep
/// at most 2 M series, an entry of 40 bytes (key and [`Remembered`]) each and
/// 4-byte slots at least 7/16 used: under 50 bytes a series.
pub const SERIES_PER_GENERATION: usize = 1 << 20;

/// Series ahead of the one checked whose remembered entries are fetched (and
/// twice as far, whose slots are).
const LOOKAHEAD: usize = 8;
/// Series remembered from which their entries outgrow a core's cache (~2.5 MB
/// of entries): fewer, and a prefetch costs its lookup for nothing.
const PREFETCH_FROM: usize = 1 << 16;

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
    Rule::LabelNameInvalidUtf8,
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

/// What is remembered of a series: its newest sample, for the sample rules,
/// whether its label set broke no label rule when it came last, and whether
/// it is checked as a counter when sent with no type. 32 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Remembered {
    samples: SeriesState,
    /// [`MetricMemory::epoch`] when `counter` was found out (0: never): it
    /// holds while nothing remembered of any metric's type changed since.
    counter_epoch: u32,
    /// Whether the series, sent with no type, is checked as a counter: its
    /// name's remembered type, or its name's suffix.
    counter: bool,
    /// Its labels, strictly ascending as the decoder found them, fired no
    /// label rule: the same labels in the same order (same identity hash,
    /// found sorted again) need not be read again. Label rules depend on the
    /// labels, their order and the thresholds (fixed for a checker) alone.
    labels_plain: bool,
}

/// What the stateful rules remember between requests.
#[derive(Debug)]
struct CheckerMemory {
    series: Generations<Remembered>,
    metrics: MetricMemory,
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
    /// Whether a series' entry in [`CheckerMemory::series`] is wanted: for the
    /// sample rules, and to know a label set seen before.
    remembers: bool,
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
            metrics: MetricMemory::new(),
            newest_of_all_ms: i64::MIN,
            limits: limits::SeriesLimits::of(&settings.thresholds, wanted),
        });
        Checker {
            remembers: wanted.meets(RuleSet::of(STATEFUL_RULES))
                || wanted.meets(RuleSet::of(LABEL_RULES)),
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
        self.check_keeping(data, (protocol, arrival_ms, tenant), true);
    }

    /// [`Checker::check_as`] for a request a backend did not take, which its
    /// sender sends again: its samples do not become its series' newest (nor
    /// the newest of all), so the resend is checked against what the backend
    /// holds. Its metadata and the series limits' counts are kept: the
    /// resend carries the same, which raises nothing on it.
    pub fn check_unkept(
        &self,
        data: &mut WriteData,
        protocol: Option<Protocol>,
        arrival_ms: i64,
        tenant: Option<&str>,
    ) {
        self.check_keeping(data, (protocol, arrival_ms, tenant), false);
    }

    /// [`Checker::check`], keeping the samples as the series' state if `keep`.
    fn check_keeping(
        &self,
        data: &mut WriteData,
        (protocol, arrival_ms, tenant): (Option<Protocol>, i64, Option<&str>),
        keep: bool,
    ) {
        if self.wanted.is_empty() {
            data.problems.clear();
            data.uncarried.clear();
            data.problem_totals = None;
            return;
        }
        let mut problems = std::mem::take(&mut data.problems);
        let mut uncarried = std::mem::take(&mut data.uncarried);
        problems.retain(|p| self.wanted.contains(p.rule));
        let mut counts = data
            .problem_totals
            .take()
            .map_or_else(Counts::default, |c| *c);
        for p in &problems {
            counts.add_n(p.rule, u64::from(p.count));
        }
        // The decoder's problems of series (a label value that is not UTF-8)
        // refuse them at `reject` too, and past the cap are carried as the
        // checker's are.
        let mut rejected: Vec<u32> = problems
            .iter()
            .filter_map(|p| match p.subject {
                Subject::Series(i) if self.rejecting.contains(p.rule) => Some(i),
                _ => None,
            })
            .collect();
        if problems.len() > MAX_PROBLEMS {
            for p in problems.drain(MAX_PROBLEMS..) {
                if let Subject::Series(series) = p.subject {
                    let rules = RuleSet::of(&[p.rule]);
                    uncarried.push(Uncarried { series, rules });
                }
            }
        }
        let reject_all = problems
            .iter()
            .any(|p| p.subject == Subject::Request && self.rejecting.contains(p.rule));
        {
            let mut memory = self.memory.lock().unwrap_or_else(|e| e.into_inner());
            let limited = memory.limits.is_on();
            if limited {
                memory.limits.sweep(arrival_ms);
            }
            let mut names = names::NameCache::default();
            // Unkept: the series' entries copied here, and changed here only.
            let mut unkept = (!keep).then(dense::DenseMap::default);
            let newest_of_all_ms = memory.newest_of_all_ms;
            let mut pass = Pass {
                checker: self,
                data,
                memory: &mut memory,
                out: Collector {
                    wanted: self.wanted,
                    rejecting: self.rejecting,
                    problems: &mut problems,
                    uncarried: &mut uncarried,
                    counts: &mut counts,
                    subject: Subject::Request,
                    from: 0,
                    timestamp_ms: None,
                    rejected: false,
                },
                rw2: protocol == Some(Protocol::V2),
                arrival_ms,
                names: &mut names,
                name_type: None,
                tenant: limited.then(|| (limits::tenant_hash(tenant), tenant.unwrap_or_default())),
                quick: quick::Quick::new(self, protocol == Some(Protocol::V2), limited, arrival_ms),
                unkept: unkept.as_mut(),
            };
            pass.metadata_entries();
            let prefetching = self.remembers && pass.memory.series.len() >= PREFETCH_FROM;
            for index in 0..data.series.len() {
                // The lookup misses cache twice (slot, entry) when the series
                // outnumber it: each fetched a few series ahead, in two steps
                // neither of which waits, the misses overlap.
                if prefetching {
                    let series = &pass.memory.series;
                    if let Some(far) = data.series.get(index + 2 * LOOKAHEAD) {
                        series.prefetch_slot(far.label_hash);
                    }
                    if let Some(ahead) = data.series.get(index + LOOKAHEAD) {
                        series.prefetch(ahead.label_hash);
                    }
                }
                if pass.series(index) {
                    rejected.push(index as u32);
                }
            }
            if !keep {
                memory.newest_of_all_ms = newest_of_all_ms;
            }
        }
        data.problems = problems;
        data.uncarried = uncarried;
        data.problem_totals = (counts.total() > 0).then(|| Box::new(counts));
        if reject_all {
            rejected = (0..data.series.len() as u32).collect();
        }
        rejected.sort_unstable();
        rejected.dedup();
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
        // Refused series are not written: their firings stay counted only.
        data.uncarried
            .retain_mut(|u| match new_index.get(u.series as usize) {
                Some(&n) if n != u32::MAX => {
                    u.series = n;
                    true
                }
                _ => false,
            });
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
    /// Past [`MAX_PROBLEMS`]: which written series each rule fired on.
    uncarried: &'a mut Vec<Uncarried>,
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
        self.add(rule, || Message::from(message()));
    }

    fn found_sample(&mut self, rule: Rule, fact: SampleFact) {
        self.add(rule, || Message::Sample(fact));
    }
}

impl Collector<'_> {
    /// Counts a firing of `rule`; keeps a problem (with `message`) for the
    /// first on the subject.
    #[inline]
    fn add(&mut self, rule: Rule, message: impl FnOnce() -> Message) {
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
        } else if let Subject::Series(series) = self.subject {
            self.uncarried_on(series, rule);
        }
    }

    /// Notes that `rule` fired on written series `series` past the problems
    /// a request carries (its subject's entry is the last one).
    #[inline(never)]
    fn uncarried_on(&mut self, series: u32, rule: Rule) {
        match self.uncarried.last_mut() {
            Some(u) if u.series == series => u.rules.insert(rule),
            _ => self.uncarried.push(Uncarried {
                series,
                rules: RuleSet::of(&[rule]),
            }),
        }
    }
}

/// Hash of a metric name, for [`CheckerMemory::metrics`] and the limits.
fn name_hash(name: &[u8]) -> u64 {
    crate::hashing::state(0x6d65_7472_6963).hash_one(name)
}
