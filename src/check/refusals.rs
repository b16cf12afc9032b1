//! Requests that did not get in, for `promscope check`: refused (by
//! promscope's own checks, or in a forward capture by the backend), or taken
//! by a backend although promscope cannot read them. A check that said "no
//! problems found" over requests nobody could read would pass a sender whose
//! data never arrives.

use std::borrow::Cow;
use std::fmt::Write;

use crate::ingest::model::{Batch, Outcome, RejectReason};
use crate::problems::Severity;
use crate::text::{self, escape::escaped};

/// Bytes of an example message kept (a backend's answer may be long).
const EXAMPLE_BYTES: usize = 200;

/// Requests that did not get in, for one reason.
#[derive(Debug)]
struct Refused {
    reason: RejectReason,
    /// Forwarded and taken by the backend, though promscope cannot read it.
    taken: bool,
    requests: u64,
    /// The first one's message, its first line cut to [`EXAMPLE_BYTES`].
    example: String,
}

impl Refused {
    /// What the sender sent or how it spoke is an error; a receiver's or a
    /// backend's capacity, or a connection lost mid-body (the sender retries
    /// and may get in), a warning.
    fn severity(&self) -> Severity {
        match self.reason {
            RejectReason::Overloaded
            | RejectReason::BackendUnavailable
            | RejectReason::BodyRead
            | RejectReason::BodyTimeout => Severity::Warning,
            _ => Severity::Error,
        }
    }

    fn what(&self) -> String {
        let said = match (self.taken, self.reason) {
            (true, _) => "taken by the backend, not by promscope",
            (false, RejectReason::Backend) => "refused by the backend",
            (false, RejectReason::BackendUnavailable) => "no answer from the backend",
            (false, _) => "refused",
        };
        format!("{}: {said}", self.reason.name())
    }
}

/// Every reason requests did not get in, at most one entry a reason (and
/// whether the backend took them).
#[derive(Debug, Default)]
pub struct Refusals {
    groups: Vec<Refused>,
}

impl Refusals {
    /// Takes one request (counted `requests` times) if it did not get in.
    pub fn add(&mut self, batch: &Batch, requests: u64) {
        let refusal = match &batch.outcome {
            Outcome::Forwarded(f) if f.is_success() => match &f.undecodable {
                Some(u) => Some((u.reason, true, Cow::Borrowed(u.message.as_str()))),
                // RW 2.0 series promscope refuses, which a receiver answers 400.
                None if batch.data.refused_count > 0 => Some((
                    RejectReason::Invalid,
                    true,
                    Cow::Owned(batch.data.refused.join("; ")),
                )),
                None => None,
            },
            outcome => outcome
                .rejection()
                .map(|(_, reason, message)| (reason, false, message)),
        };
        let Some((reason, taken, message)) = refusal else {
            return;
        };
        match self
            .groups
            .iter_mut()
            .find(|g| g.reason == reason && g.taken == taken)
        {
            Some(group) => group.requests += requests,
            None => self.groups.push(Refused {
                reason,
                taken,
                requests,
                example: text::bounded(text::first_line(&message), EXAMPLE_BYTES),
            }),
        }
    }

    /// Worst first, then the most frequent.
    fn sorted(&self) -> Vec<&Refused> {
        let mut groups: Vec<&Refused> = self.groups.iter().filter(|g| g.requests > 0).collect();
        groups.sort_by(|a, b| {
            (b.severity(), b.requests)
                .cmp(&(a.severity(), a.requests))
                .then(a.reason.name().cmp(b.reason.name()))
        });
        groups
    }

    /// Whether there are any.
    pub fn is_empty(&self) -> bool {
        self.sorted().is_empty()
    }

    /// The reasons at `severity` or worse, with how many requests each:
    /// `bad_snappy ×3`.
    pub fn failing(&self, severity: Severity) -> Vec<String> {
        self.sorted()
            .into_iter()
            .filter(|g| g.severity() >= severity)
            .map(|g| format!("{} ×{}", g.reason.name(), g.requests))
            .collect()
    }

    /// One paragraph a reason, as the rules' paragraphs.
    pub fn text(&self, out: &mut String) {
        for g in self.sorted() {
            let _ = writeln!(
                out,
                "\n{:<8} {} — {} requests",
                g.severity().name(),
                g.what(),
                g.requests
            );
            let _ = writeln!(out, "         e.g. {}", escaped(&g.example));
        }
    }

    /// `[{"reason":..,"severity":..,"requests":N,"taken_by_backend":bool,"example":..},..]`.
    pub fn json(&self, out: &mut String) {
        use crate::output::json::string;
        out.push('[');
        for (i, g) in self.sorted().into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                r#"{{"reason":"{}","severity":"{}","requests":{},"taken_by_backend":{},"example":"#,
                g.reason.name(),
                g.severity().name(),
                g.requests,
                g.taken
            );
            string(out, &g.example);
            out.push('}');
        }
        out.push(']');
    }
}
