//! Problems: the rules a remote-write spec or a backend enforces, and the
//! checks that find what breaks them. Pure, with no I/O and nothing of the rest
//! of the crate but the protobuf types (`proto`) and dates (`calendar`): `ingest::check` applies them
//! to decoded requests as they arrive, and every consumer (dashboard, headless
//! output, summary) reads what it found ([`Problem`]s) from the request's data.
//!
//! - [`catalogue`]: every rule with its id, severity, explanation, hint and
//!   source, one table that docs, flags and JSON read.
//! - [`labels`]: a series' label set (names, values, lengths, counts), checked
//!   label by label as it is read.
//! - [`samples`]: a series' samples against what it sent before ([`SeriesState`],
//!   24 bytes kept in the series' slot) and the newest sample of all.
//! - [`histogram`]: a native histogram on its own.
//! - [`exemplars`]: an exemplar on its own.
//! - [`problem`]: what a request carries of what the rules found.

pub mod catalogue;
pub mod exemplars;
pub mod histogram;
pub mod labels;
pub mod problem;
pub mod samples;

pub use catalogue::{CATALOGUE, Rule, RuleInfo, RuleSet, Severity};
pub use problem::{MAX_PROBLEMS, Message, Problem, ProblemCounts, Subject, Uncarried};
pub use samples::{SampleFact, SampleIn, SeriesState};

/// A timestamp (ms since the epoch) as messages write it: RFC 3339 in UTC
/// with milliseconds (`2024-11-19T07:06:40.123Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At(pub i64);

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::calendar::rfc3339_ms(self.0))
    }
}

/// A span of milliseconds as messages write it (`5 ms`, `12.3 s`, `4 min 2 s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub i64);

impl Span {
    /// From `earlier` to `later`. Sender timestamps reach `i64::MIN` and
    /// `i64::MAX`: the difference is held at the ends, where it is said to be
    /// more (wrapped, it read `-106751970375 d … behind the newest`).
    pub fn between(later: i64, earlier: i64) -> Span {
        Span(later.saturating_sub(earlier))
    }
}

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 == i64::MAX {
            f.write_str("more than ")?;
        }
        f.write_str(&crate::calendar::span_ms(self.0))
    }
}

/// Thresholds of the rules that have one, defaulting to the backend limit the
/// rule's source names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// `too-many-labels`: label names per series (Mimir's
    /// `-validation.max-label-names-per-series`).
    pub max_labels: usize,
    /// `label-name-too-long`: bytes (Mimir's `-validation.max-length-label-name`).
    pub max_label_name_bytes: usize,
    /// `label-value-too-long`: bytes (Mimir's `-validation.max-length-label-value`).
    pub max_label_value_bytes: usize,
    /// `metric-name-too-long`: bytes (Mimir's `-validation.max-metadata-length`).
    pub max_metric_name_bytes: usize,
    /// `too-old`: how far a sample may lie behind the newest sample of all (ms).
    pub too_old_ms: i64,
    /// `too-far-in-future`: how far a sample may lie past its arrival (ms;
    /// Mimir's `-validation.create-grace-period`).
    pub future_ms: i64,
    /// `histogram-too-many-buckets`: buckets of a native histogram, both signs.
    pub max_histogram_buckets: usize,
    /// `exemplar-labels-too-long`: UTF-8 characters of an exemplar's label
    /// names and values together (OpenMetrics).
    pub max_exemplar_label_chars: usize,
    /// `series-per-tenant`: active series of one tenant (0: no limit; Mimir's
    /// `-ingester.max-global-series-per-user`).
    pub max_series_per_tenant: usize,
    /// `series-per-metric`: active series of one metric name (0: no limit).
    pub max_series_per_metric: usize,
    /// How long a series counts as active for those two after its latest
    /// sample (ms; `--stale-after`).
    pub series_stale_after_ms: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            max_labels: 30,
            max_label_name_bytes: 1024,
            max_label_value_bytes: 2048,
            max_metric_name_bytes: 1024,
            too_old_ms: 60 * 60 * 1000,
            future_ms: 10 * 60 * 1000,
            max_histogram_buckets: 160,
            max_exemplar_label_chars: 128,
            max_series_per_tenant: 0,
            max_series_per_metric: 0,
            series_stale_after_ms: 300_000,
        }
    }
}

/// Where checks send what they find: a rule and, built only when asked for, a
/// message naming the offending part (a label, both values, a bucket span).
pub trait Report {
    /// Whether `rule` is checked at all (a rule switched off costs nothing).
    fn wants(&self, _rule: Rule) -> bool {
        true
    }
    /// `rule` fired; `message` says on what.
    fn found(&mut self, rule: Rule, message: &dyn Fn() -> String);
    /// A sample rule fired; `fact` says on what (kept as it is by reports
    /// that keep messages, written when read).
    fn found_sample(&mut self, rule: Rule, fact: SampleFact) {
        self.found(rule, &|| fact.to_string());
    }
}

/// How often each rule fired, for summaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts([u64; Rule::ALL.len()]);

impl Default for Counts {
    fn default() -> Self {
        Counts([0; Rule::ALL.len()])
    }
}

impl Counts {
    /// No firings.
    pub const ZERO: Counts = Counts([0; Rule::ALL.len()]);

    /// Counts one firing of `rule`.
    pub fn add(&mut self, rule: Rule) {
        self.0[rule as usize] += 1;
    }

    /// Counts `n` firings of `rule`.
    pub fn add_n(&mut self, rule: Rule, n: u64) {
        self.0[rule as usize] += n;
    }

    /// Adds all of `other`'s counts.
    pub fn add_all(&mut self, other: &Counts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    /// How often `rule` fired.
    pub fn get(&self, rule: Rule) -> u64 {
        self.0[rule as usize]
    }

    /// Firings of all rules together.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// The rules that fired, in catalogue order, with their counts.
    pub fn fired(&self) -> impl Iterator<Item = (Rule, u64)> + '_ {
        Rule::ALL
            .iter()
            .map(|&rule| (rule, self.get(rule)))
            .filter(|&(_, n)| n > 0)
    }
}

/// A [`Report`] that keeps everything, for tests and small tools.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Found(pub Vec<(Rule, String)>);

impl Found {
    /// The rules found, in order.
    pub fn rules(&self) -> Vec<Rule> {
        self.0.iter().map(|(r, _)| *r).collect()
    }
}

impl Report for Found {
    fn found(&mut self, rule: Rule, message: &dyn Fn() -> String) {
        self.0.push((rule, message()));
    }
}

#[cfg(test)]
mod tests;
