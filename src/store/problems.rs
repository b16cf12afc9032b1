//! Problems as the dashboard keeps them: per rule, how often and on how many
//! series it fired, when first and last, its first example and the series (or
//! requests) it fired on; per series, the rules that fired on it (6 bytes in
//! the series itself); the offending samples of the latest offences of all
//! series together ([`Offences`]). Every part has a fixed bound, and what it
//! holds is counted in [`crate::store::Store::held_bytes`].

use std::collections::VecDeque;

pub use super::offences::{FiredAt, FiredSets, MAX_OFFENCES, Offence, Offences};

use super::{SeriesId, Store};
use crate::ingest::model::{Batch, WriteData};
use crate::problems::problem::Subject;
use crate::problems::{Message, Rule, RuleSet, Severity};
use crate::summary::totals::Sender;

/// Series a rule lists (the latest it fired on first).
pub const SERIES_PER_RULE: usize = 1000;
/// Requests a request-level rule lists (the latest).
pub const REQUESTS_PER_RULE: usize = 100;
/// Bytes of a rule's example or a request's message kept; longer ones are
/// cut at a character boundary.
pub const MESSAGE_BYTES: usize = 160;
/// Bytes of an offence's message a series keeps (a series' problems take
/// at most about half of the 1 KiB a series may).
pub const SERIES_MESSAGE_BYTES: usize = 80;

/// A problem as the store takes it.
#[derive(Debug, Clone, Copy)]
pub struct Finding<'a> {
    pub rule: Rule,
    /// Times it fired on the subject in the request (at least 1).
    pub count: u32,
    /// The first offending sample's timestamp, for sample rules.
    pub timestamp_ms: Option<i64>,
    /// What it fired on: the label, both values, the bucket span.
    pub message: &'a Message,
}

/// `message` cut to [`MESSAGE_BYTES`].
fn kept(message: &str) -> Box<str> {
    cut(message, MESSAGE_BYTES)
}

/// `message` cut to at most `max` bytes, `…` marking the cut.
pub(super) fn cut(message: &str, max: usize) -> Box<str> {
    if message.len() <= max {
        return message.into();
    }
    let mut end = max - '…'.len_utf8();
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end]).into()
}

/// A request a request-level rule fired on.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestHit {
    pub arrival_ms: i64,
    /// Who sent it, or the series refused in it.
    pub subject: Box<str>,
    pub message: Box<str>,
}

/// One rule's firing so far.
#[derive(Debug, Clone)]
pub struct RuleStats {
    pub rule: Rule,
    /// Firings.
    pub count: u64,
    /// Series it fired on (a series evicted and sent again counts again).
    pub series_affected: u64,
    /// Arrival of the first and the latest request it fired on.
    pub first_ms: i64,
    pub last_ms: i64,
    /// The series of its first firing (PromQL), if it was a series'.
    pub example_series: Option<Box<str>>,
    /// What its first firing said.
    pub example_message: Box<str>,
    /// The latest [`SERIES_PER_RULE`] series it fired on, oldest first (some
    /// may be evicted since).
    series: VecDeque<SeriesId>,
    /// The latest [`REQUESTS_PER_RULE`] requests it fired on (request rules).
    requests: VecDeque<RequestHit>,
}

impl RuleStats {
    fn new(finding: &Finding, arrival_ms: i64, example_series: Option<String>) -> Self {
        RuleStats {
            rule: finding.rule,
            count: 0,
            series_affected: 0,
            first_ms: arrival_ms,
            last_ms: arrival_ms,
            example_series: example_series.map(|s| kept(&s)),
            example_message: kept(&finding.message.text()),
            series: VecDeque::new(),
            requests: VecDeque::new(),
        }
    }

    /// Counts series `id`, on which it fired for the first time, and lists it.
    fn affects(&mut self, id: SeriesId) {
        self.series_affected += 1;
        if self.series.len() >= SERIES_PER_RULE {
            self.series.pop_front();
        }
        self.series.push_back(id);
    }

    /// The series it fired on, newest first.
    pub fn series(&self) -> impl Iterator<Item = SeriesId> + '_ {
        self.series.iter().rev().copied()
    }

    /// The requests it fired on, newest first.
    pub fn requests(&self) -> impl Iterator<Item = &RequestHit> + '_ {
        self.requests.iter().rev()
    }

    fn bytes(&self) -> usize {
        size_of::<RuleStats>()
            + self.example_series.as_deref().map_or(0, str::len)
            + self.example_message.len()
            + self.series.capacity() * size_of::<SeriesId>()
            + self.requests.capacity() * size_of::<RequestHit>()
            + self
                .requests
                .iter()
                .map(|r| r.subject.len() + r.message.len())
                .sum::<usize>()
    }
}

/// Every rule's firing, and counts by severity.
#[derive(Debug)]
pub struct ProblemTable {
    rules: Vec<Option<RuleStats>>,
    by_severity: [u64; 3],
    /// Arrival of the latest request a rule of each severity fired on.
    last_by_severity: [i64; 3],
    /// Bumped on every firing, for views that list rules.
    version: u64,
}

impl Default for ProblemTable {
    fn default() -> Self {
        ProblemTable {
            rules: vec![None; Rule::ALL.len()],
            by_severity: [0; 3],
            last_by_severity: [i64::MIN; 3],
            version: 0,
        }
    }
}

impl ProblemTable {
    fn stats(
        &mut self,
        finding: &Finding,
        arrival_ms: i64,
        example: impl FnOnce() -> Option<String>,
    ) -> &mut RuleStats {
        self.version += 1;
        let count = u64::from(finding.count);
        let severity = finding.rule.severity() as usize;
        self.by_severity[severity] += count;
        self.last_by_severity[severity] = self.last_by_severity[severity].max(arrival_ms);
        let stats = self.rules[finding.rule as usize]
            .get_or_insert_with(|| RuleStats::new(finding, arrival_ms, example()));
        stats.count += count;
        stats.last_ms = stats.last_ms.max(arrival_ms);
        stats
    }

    /// Records a finding on series `id`, whose problems are `series` (`first`:
    /// the rule had not fired on it before); `text` writes it in PromQL.
    pub(super) fn on_series(
        &mut self,
        finding: &Finding,
        arrival_ms: i64,
        id: SeriesId,
        first: bool,
        text: impl FnOnce() -> String,
    ) {
        let stats = self.stats(finding, arrival_ms, || Some(text()));
        if first {
            stats.affects(id);
        }
    }

    /// Counts series `id` among those `rule` fired on, for a firing past the
    /// problems a request carries (counted by [`ProblemTable::uncarried`]).
    pub(super) fn affects(&mut self, rule: Rule, id: SeriesId) {
        if let Some(stats) = self.rules[rule as usize].as_mut() {
            self.version += 1;
            stats.affects(id);
        }
    }

    /// Counts `count` firings of `rule` in a request from `sender` that the
    /// request did not carry as problems (past `problems::MAX_PROBLEMS`):
    /// counted, with no series or request listed for them.
    pub(super) fn uncarried(&mut self, rule: Rule, count: u32, arrival_ms: i64, sender: &str) {
        let message = Message::from(format!(
            "{count} more firings in a request from {sender}, past the {} problems a request carries",
            crate::problems::MAX_PROBLEMS
        ));
        let finding = Finding {
            rule,
            count,
            timestamp_ms: None,
            message: &message,
        };
        self.stats(&finding, arrival_ms, || None);
    }

    /// Records a finding on a whole request from `sender`.
    pub(super) fn on_request(&mut self, finding: &Finding, arrival_ms: i64, sender: &str) {
        let stats = self.stats(finding, arrival_ms, || None);
        if stats.requests.len() >= REQUESTS_PER_RULE {
            stats.requests.pop_front();
        }
        stats.requests.push_back(RequestHit {
            arrival_ms,
            subject: kept(sender),
            message: kept(&finding.message.text()),
        });
    }

    /// The rules that fired, in catalogue order.
    pub fn fired(&self) -> impl Iterator<Item = &RuleStats> {
        self.rules.iter().flatten()
    }

    /// One rule's firing, if it fired.
    pub fn get(&self, rule: Rule) -> Option<&RuleStats> {
        self.rules[rule as usize].as_ref()
    }

    /// Firings at a severity.
    pub fn count(&self, severity: Severity) -> u64 {
        self.by_severity[severity as usize]
    }

    /// When a rule of a severity last fired (arrival, ms since the epoch).
    pub fn last_fired(&self, severity: Severity) -> Option<i64> {
        let last = self.last_by_severity[severity as usize];
        (last != i64::MIN).then_some(last)
    }

    /// Bumped on every firing.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.rules.capacity() * size_of::<Option<RuleStats>>()
            + self.fired().map(RuleStats::bytes).sum::<usize>()
    }
}

impl Store {
    /// Records a problem found on series `id` in a request that arrived at
    /// `arrival_ms`. A series evicted meanwhile is counted under its rule only.
    pub fn record_series_problem(&mut self, id: SeriesId, finding: &Finding, arrival_ms: i64) {
        let sets = &mut self.fired_sets;
        let first = self
            .series
            .update(id, |s| sets.insert(id, &mut s.fired, finding.rule));
        if first.is_some() {
            self.offences.push(id, finding, arrival_ms);
        }
        // Written only for a rule's first example.
        let (series, strings) = (&self.series, &self.strings);
        let text = || {
            series.get(id).map_or_else(String::new, |s| {
                let pairs = s.labels.iter();
                crate::text::promql::series(
                    pairs.map(|&(n, v)| (strings.resolve(n), strings.resolve(v))),
                )
            })
        };
        self.problems
            .on_series(finding, arrival_ms, id, first.unwrap_or(false), text);
    }

    /// Records a problem found on a whole request from `sender`.
    pub fn record_request_problem(&mut self, finding: &Finding, arrival_ms: i64, sender: &str) {
        self.problems.on_request(finding, arrival_ms, sender);
    }

    /// Records the problems the checks found in a request (`data.problems`),
    /// once its series are in place: a written series' under the series, a
    /// refused series' and the request's own under the request. A request
    /// carries at most `problems::MAX_PROBLEMS`, but counts every firing
    /// (`data.problem_counts()`): the ones past the cap are counted under
    /// their rule, so that counts stay exact where examples are capped.
    pub(super) fn record_problems(&mut self, batch: &Batch, arrival_ms: i64) {
        let data = &batch.data;
        if data.problems.is_empty() && data.problem_totals.is_none() {
            return;
        }
        let sender = Sender::of(&batch.info).agent_and_ip();
        let mut carried = crate::problems::Counts::default();
        for p in &data.problems {
            carried.add_n(p.rule, u64::from(p.count));
        }
        for p in &data.problems {
            let finding = Finding {
                rule: p.rule,
                count: p.count,
                timestamp_ms: p.timestamp_ms,
                message: &p.message,
            };
            match &p.subject {
                Subject::Series(i) => {
                    match self.written(data, *i) {
                        Some(id) => self.record_series_problem(id, &finding, arrival_ms),
                        // Not kept (no room): counted under its rule.
                        None => self.record_request_problem(&finding, arrival_ms, &sender),
                    }
                }
                Subject::Request => self.record_request_problem(&finding, arrival_ms, &sender),
                Subject::Refused { labels, .. } => {
                    let series = crate::text::promql::series(data.label_pairs(labels.clone()));
                    let subject = format!("{series} (refused) from {sender}");
                    self.record_request_problem(&finding, arrival_ms, &subject);
                }
            }
        }
        // After the carried ones, whose examples come first.
        for (rule, total) in data.problem_counts().fired() {
            let more = total.saturating_sub(carried.get(rule));
            if more > 0 {
                let more = u32::try_from(more).unwrap_or(u32::MAX);
                self.problems.uncarried(rule, more, arrival_ms, &sender);
            }
        }
        // The series those fired on, so that each rule's series affected
        // stays exact (their offending samples are not known).
        for u in &data.uncarried {
            let Some(id) = self.written(data, u.series) else {
                continue;
            };
            for rule in u.rules.iter() {
                let sets = &mut self.fired_sets;
                let first = self
                    .series
                    .update(id, |s| sets.insert(id, &mut s.fired, rule));
                if first == Some(true) {
                    self.problems.affects(rule, id);
                }
            }
        }
    }

    /// The store's series for `data.series[index]`, if it is kept.
    fn written(&mut self, data: &WriteData, index: u32) -> Option<SeriesId> {
        let s = data.series.get(index as usize)?;
        let pairs = data
            .labels
            .get(s.labels.start as usize..s.labels.end as usize)?;
        self.series
            .find(data, pairs, s.label_hash, &self.strings, self.seq)
    }

    /// The problems found, by rule.
    pub fn problems(&self) -> &ProblemTable {
        &self.problems
    }

    /// The latest offences of all series, with their offending samples.
    pub fn offences(&self) -> &Offences {
        &self.offences
    }

    /// The problem rules that fired on series `id` (none once it is evicted).
    pub fn fired_rules(&self, id: SeriesId) -> RuleSet {
        self.series
            .get(id)
            .map_or_else(RuleSet::default, |s| self.fired_sets.get(id, s.fired))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_at_a_character() {
        let long = "é".repeat(MESSAGE_BYTES);
        let cut = kept(&long);
        assert!(cut.len() <= MESSAGE_BYTES, "{}", cut.len());
        assert!(cut.ends_with('…'));
        assert_eq!(&*kept("short"), "short");
    }
}
