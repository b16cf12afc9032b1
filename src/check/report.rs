//! What `promscope check` found, by rule, and how it is printed: text for
//! people, one JSON object for machines.

use std::collections::HashSet;
use std::fmt::Write;

use super::refusals::Refusals;
use crate::ingest::model::{Batch, WriteData};
use crate::problems::{Problem, Rule, Severity, Subject};
use crate::text::escape::escaped;

/// Distinct series a rule counts (label-set hashes); past it, series are
/// counted as "at least".
const SERIES_PER_RULE: usize = 100_000;

/// One rule's findings.
#[derive(Debug, Clone, Default)]
struct Found {
    count: u64,
    series: HashSet<u64>,
    /// Not all series counted (over [`SERIES_PER_RULE`]).
    series_capped: bool,
    requests: u64,
    /// The first firing: the series (PromQL) if a series', and the message.
    example: Option<(Option<String>, String)>,
}

/// What the checks found, by rule, over the requests seen.
#[derive(Debug, Default)]
pub struct Tally {
    rules: Vec<Found>,
    pub requests: u64,
    /// Requests refused with an error status (by a rule at reject, or as
    /// undecodable).
    pub refused: u64,
    /// Why requests did not get in.
    refusals: Refusals,
    /// Requests answered 503 because the check fell behind: not checked
    /// (the sender retries them).
    pub not_checked: u64,
}

impl Tally {
    pub fn new() -> Self {
        Tally {
            rules: vec![Found::default(); Rule::ALL.len()],
            ..Tally::default()
        }
    }

    /// Takes a request's findings.
    pub fn add(&mut self, batch: &Batch) {
        // None for a folded entry (failed TLS handshakes): its repeats were
        // counted as they came.
        let requests = batch.info.counted();
        self.requests += requests;
        if !batch.outcome.is_accepted() {
            self.refused += requests;
        }
        self.refusals.add(batch, requests);
        let data = &batch.data;
        for (rule, n) in data.problem_counts().fired() {
            let found = &mut self.rules[rule as usize];
            found.count += n;
            found.requests += 1;
        }
        for p in &data.problems {
            self.take(data, p);
        }
    }

    fn take(&mut self, data: &WriteData, p: &Problem) {
        let found = &mut self.rules[p.rule as usize];
        let (hash, labels) = match &p.subject {
            Subject::Series(i) => match data.series.get(*i as usize) {
                Some(s) => (Some(s.label_hash), Some(s.labels.clone())),
                None => (None, None),
            },
            Subject::Refused { labels, label_hash } => (Some(*label_hash), Some(labels.clone())),
            Subject::Request => (None, None),
        };
        if let Some(hash) = hash {
            if found.series.len() < SERIES_PER_RULE {
                found.series.insert(hash);
            } else if !found.series.contains(&hash) {
                found.series_capped = true;
            }
        }
        if found.example.is_none() {
            let series = labels.map(|l| crate::text::promql::series(data.label_pairs(l)));
            found.example = Some((series, p.message.to_string()));
        }
    }

    /// The rules that fired, errors first, then by count.
    fn fired(&self) -> Vec<(Rule, &Found)> {
        let mut fired: Vec<(Rule, &Found)> = Rule::ALL
            .iter()
            .map(|&r| (r, &self.rules[r as usize]))
            .filter(|(_, f)| f.count > 0)
            .collect();
        fired.sort_by(|a, b| {
            (b.0.severity(), b.1.count)
                .cmp(&(a.0.severity(), a.1.count))
                .then(a.0.cmp(&b.0))
        });
        fired
    }

    /// Whether the check fails at `severity`: a rule at it or worse fired,
    /// or requests did not get in for a reason at it or worse.
    pub fn fails(&self, severity: Severity) -> bool {
        self.failing(severity) > 0 || !self.refusals.failing(severity).is_empty()
    }

    /// Rules that fired at `severity` or worse.
    fn failing(&self, severity: Severity) -> usize {
        self.fired()
            .iter()
            .filter(|(r, _)| r.severity() >= severity)
            .count()
    }

    /// The text report: one paragraph per rule, then the verdict.
    pub fn text(&self, fail_on: Severity, source: &str) -> String {
        let mut out = String::new();
        let fired = self.fired();
        let _ = writeln!(
            out,
            "promscope check: {} requests from {source}{}{}",
            self.requests,
            if self.refused > 0 {
                format!(" ({} refused)", self.refused)
            } else {
                String::new()
            },
            if self.not_checked > 0 {
                format!(
                    "; {} more not checked: answered 503 while the check was behind (the sender retries them)",
                    self.not_checked
                )
            } else {
                String::new()
            }
        );
        if fired.is_empty() && self.refusals.is_empty() {
            let _ = writeln!(out, "no problems found");
        }
        self.refusals.text(&mut out);
        for (rule, f) in &fired {
            let info = rule.info();
            let series = match (f.series.len(), f.series_capped) {
                (0, _) => String::new(),
                (n, false) => format!(" on {n} series"),
                (n, true) => format!(" on at least {n} series"),
            };
            let _ = writeln!(
                out,
                "\n{:<8} {} — {} times{series} in {} requests",
                rule.severity().name(),
                rule.id(),
                f.count,
                f.requests
            );
            let _ = writeln!(out, "         {}", info.explanation);
            if let Some((series, message)) = &f.example {
                match series {
                    Some(series) => {
                        let _ = writeln!(
                            out,
                            "         e.g. {}: {}",
                            escaped(series),
                            escaped(message)
                        );
                    }
                    None => {
                        let _ = writeln!(out, "         e.g. {}", escaped(message));
                    }
                }
            }
            let _ = writeln!(out, "         fix: {}", info.hint);
        }
        let failing = self.failing(fail_on);
        let refused = self.refusals.failing(fail_on);
        let refused = match refused.is_empty() {
            true => String::new(),
            false => format!("requests refused: {}", refused.join(", ")),
        };
        let _ = if failing > 0 {
            let refused = match refused.is_empty() {
                true => String::new(),
                false => format!("; {refused}"),
            };
            writeln!(
                out,
                "\nFAIL: {failing} rules at {} or worse fired{refused} (--fail-on {})",
                fail_on.name(),
                fail_on.name()
            )
        } else if !refused.is_empty() {
            writeln!(
                out,
                "\nFAIL: {refused}, at {} or worse (--fail-on {})",
                fail_on.name(),
                fail_on.name()
            )
        } else {
            writeln!(
                out,
                "\nOK: no rule at {} or worse fired (--fail-on {})",
                fail_on.name(),
                fail_on.name()
            )
        };
        out
    }

    /// The JSON report: one object, strings escaped as `--format json` escapes them.
    pub fn json(&self, fail_on: Severity) -> String {
        use crate::output::json::string;
        let mut out = format!(
            r#"{{"kind":"check","requests":{},"refused":{},"not_checked":{},"fail_on":"{}","failed":{},"refusals":"#,
            self.requests,
            self.refused,
            self.not_checked,
            fail_on.name(),
            self.fails(fail_on)
        );
        self.refusals.json(&mut out);
        out.push_str(r#","rules":["#);
        for (i, (rule, f)) in self.fired().into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                r#"{{"rule":"{}","severity":"{}","count":{},"series":{},"series_capped":{},"requests":{},"example":"#,
                rule.id(),
                rule.severity().name(),
                f.count,
                f.series.len(),
                f.series_capped,
                f.requests
            );
            match &f.example {
                None => out.push_str("null"),
                Some((series, message)) => {
                    out.push_str(r#"{"series":"#);
                    match series {
                        Some(series) => string(&mut out, series),
                        None => out.push_str("null"),
                    }
                    out.push_str(r#","message":"#);
                    string(&mut out, message);
                    out.push('}');
                }
            }
            out.push_str(r#","explanation":"#);
            string(&mut out, rule.info().explanation);
            out.push_str(r#","hint":"#);
            string(&mut out, rule.info().hint);
            out.push('}');
        }
        out.push_str("]}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_the_check_had_no_room_for_are_said_not_checked() {
        let mut tally = Tally::new();
        assert!(!tally.text(Severity::Error, "x").contains("not checked"));
        tally.not_checked = 5;
        let text = tally.text(Severity::Error, "127.0.0.1:9201");
        assert!(
            text.starts_with(
                "promscope check: 0 requests from 127.0.0.1:9201; 5 more not checked: answered 503 while the check was behind"
            ),
            "{text}"
        );
        let json: serde_json::Value = serde_json::from_str(&tally.json(Severity::Error)).unwrap();
        assert_eq!(json["not_checked"], 5);
    }
}
