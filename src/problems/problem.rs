//! What the checks found in one request, carried with its decoded data
//! ([`crate::ingest::model::WriteData::problems`]) to every consumer: the
//! dashboard's store and views, headless records, the summary, `check`.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use super::Rule;
use super::samples::SampleFact;

/// What a problem is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// The request as a whole (`empty-request`, `content-type-mismatch`,
    /// `rw2-first-symbol-not-empty`, an RW 1.0 metadata entry's
    /// `metadata-conflict`).
    Request,
    /// A written series: an index of `WriteData::series`.
    Series(u32),
    /// A series that was not written (refused by a rule at `reject`, or by the
    /// RW 2.0 decoder as Prometheus refuses it): its labels, a range of
    /// `WriteData::labels` (empty when they could not be read), and their
    /// identity hash (0 then).
    Refused { labels: Range<u32>, label_hash: u64 },
}

/// One rule firing on one subject of one request: each rule appears at most
/// once per series and request, with how often it fired there.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub rule: Rule,
    pub subject: Subject,
    /// Times the rule fired on the subject in this request (samples for the
    /// sample rules); at least 1.
    pub count: u32,
    /// Timestamp of the first offending sample, histogram or exemplar; for a
    /// label or request rule, the series' first sample's, if any.
    pub timestamp_ms: Option<i64>,
    /// The first offence, for people: names the label, both values, the span.
    pub message: Message,
}

/// What a problem says of its first offence, for people. A sample rule's
/// facts are kept as found and written only when read (most problems are
/// counted and never shown: a resent request is a duplicate-sample per series).
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Text(Box<str>),
    Sample(SampleFact),
}

impl Message {
    /// The message as text (written now for a sample rule's facts).
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Message::Text(text) => Cow::Borrowed(text),
            Message::Sample(fact) => Cow::Owned(fact.to_string()),
        }
    }

    /// Heap bytes it holds.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Message::Text(text) => text.len(),
            Message::Sample(_) => 0,
        }
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Text(text) => f.write_str(text),
            Message::Sample(fact) => fact.fmt(f),
        }
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(text.into_boxed_str())
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(text.into())
    }
}

impl PartialEq<&str> for Message {
    fn eq(&self, other: &&str) -> bool {
        match self {
            Message::Text(text) => **text == **other,
            Message::Sample(fact) => fact.to_string() == *other,
        }
    }
}

impl Problem {
    /// A problem of the request as a whole.
    pub fn of_request(rule: Rule, message: String) -> Self {
        Problem {
            rule,
            subject: Subject::Request,
            count: 1,
            timestamp_ms: None,
            message: message.into(),
        }
    }

    /// The index of the written series it is about, if it is about one.
    pub fn series(&self) -> Option<usize> {
        match self.subject {
            Subject::Series(i) => Some(i as usize),
            _ => None,
        }
    }
}

/// Most problems a request keeps (a request of 10 000 series all out of order
/// keeps the first ones; [`ProblemCounts`] counts them all).
pub const MAX_PROBLEMS: usize = 4096;

/// The rules that fired on a written series past [`MAX_PROBLEMS`]: carried
/// without message or count (those are in [`ProblemCounts`]), so that every
/// series a rule fired on is known (`series affected` stays exact).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uncarried {
    /// An index of `WriteData::series`.
    pub series: u32,
    pub rules: super::RuleSet,
}

/// Firings per rule in a request, all of them, also past [`MAX_PROBLEMS`].
pub type ProblemCounts = super::Counts;
