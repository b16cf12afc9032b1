//! The dashboard's filter box: a regex searched in each series' text, or a PromQL
//! selector matched against its labels, optionally inverted by a leading `!`.
//!
//! ```text
//! filter   := ["!"] body                  surrounding whitespace ignored
//! body     := ""                          matches everything (so does a lone "!")
//!           | selector                    input starting with "{", or a metric name and "{"
//!           | matchers                    `job="api", code=~"5.."`: read as `{…}`, see below
//!           | regex                       anything else: unanchored, over `name{a="1", b="2"}`
//! matchers := label_name op string ("," label_name op string)* [","]
//! selector := [metric_name] "{" [item ("," item)* [","]] "}"
//! item     := label_name op string        label_name: identifier or quoted string
//!           | string                      a bare string is `__name__="string"`
//! op       := "=" | "!=" | "=~" | "!~"   regexes fully anchored, as in Prometheus
//! string   := "…" | '…' | `…`             Go escapes in quotes; backticks are raw
//! ```
//!
//! A metric name followed by `{digits` (`a{2}`, `x{1,3}`) is a regex repetition, not a
//! selector. A bare word like `up` is a regex, so it also finds `uptime_seconds`.
//!
//! Label matchers typed without braces are the selector a Prometheus user means
//! where the regex they also are would mean nothing else: `series_id=~"1."` is in
//! no series text (it never has `=~`, `!=` or `!~`), and `job="api"` finds the
//! same series either way. Only exact matchers with regex characters
//! (`code="5.."`, `pod="pod-[3-5]"`) stay the regex they were, which finds what
//! `{code=~"5.."}` does. [`Filter::note`] says how such text was read, and
//! suggests the selector for a regex that is matchers with their quotes left out
//! (`job=api`).

mod selector;
mod stream;
mod text;

use regex::Regex;
use thiserror::Error;

use selector::Matcher;
use stream::{StreamPass, StreamRegex};
use text::TextSearch;

/// The tenant and the sender of the request that created a series: a
/// selector matches them as if they were labels of the series (`{__tenant__="a"}`),
/// though no sender sent them and nothing sends them on; a regex searches only
/// the series' own text.
pub const PSEUDO_LABELS: [&str; 2] = ["__tenant__", "__sender__"];

/// A parsed filter, compiled once and then evaluated per series.
#[derive(Debug, Clone)]
pub struct Filter {
    source: String,
    inverted: bool,
    kind: Kind,
    /// How the text was read, when that is not what it looks like (boxed:
    /// filters are handed back in `Err`s, and most have none).
    note: Option<Box<Note>>,
}

#[derive(Debug, Clone)]
enum Kind {
    All,
    /// Searched anywhere in the series text.
    Text(TextSearch),
    /// All must match; never empty (an empty selector is `All`).
    Selector(Vec<Matcher>),
}

/// How filter text was read, when that is not what it looks like (see [`Filter::note`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// Label matchers typed without braces, read as this selector: as a
    /// regex they would mean nothing else (`series_id=~"1."` is in no series
    /// text, and `job="api"` finds the same series).
    ReadAs {
        selector: String,
        /// An exact matcher's value has regex characters (`job!="a.*"`).
        exact_like_regex: bool,
    },
    /// Exact label matchers with regex characters (`code="5.."`), searched
    /// as the regex they are, which finds what this selector does.
    Regex(String),
    /// A regex no series text has that is this selector with its quotes left
    /// out (`job=api`).
    DidYouMean(String),
}

impl Note {
    /// The note in full: `read as {job!="a.*"} ("=" is exact; "=~" matches a regex)`.
    pub fn long(&self) -> String {
        match self {
            Note::ReadAs {
                selector,
                exact_like_regex,
            } => {
                let caveat = if *exact_like_regex {
                    r#" ("=" is exact; "=~" matches a regex)"#
                } else {
                    ""
                };
                format!("read as {selector}{caveat}")
            }
            Note::Regex(selector) => format!("a regex, as {selector}"),
            Note::DidYouMean(selector) => format!("did you mean {selector}?"),
        }
    }

    /// The note where room is short: `as {job="api"}`, `{job="api"}?`.
    pub fn short(&self) -> String {
        match self {
            Note::ReadAs { selector, .. } | Note::Regex(selector) => format!("as {selector}"),
            Note::DidYouMean(selector) => format!("{selector}?"),
        }
    }
}

/// Why filter text cannot be used; displays as one line for the filter box.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FilterError {
    /// Plain text that is not a valid regex.
    #[error("regex: {message}{}", at(*.position))]
    Regex {
        /// What is wrong, without the position.
        message: String,
        /// 1-based character position in the input.
        position: Option<usize>,
    },
    /// A malformed selector, or an invalid regex in one of its matchers.
    #[error("selector: {message}{}", at(*.position))]
    Selector {
        /// What is wrong, without the position.
        message: String,
        /// 1-based character position in the input.
        position: Option<usize>,
    },
}

fn at(position: Option<usize>) -> String {
    position.map_or_else(String::new, |p| format!(" at position {p}"))
}

impl Filter {
    /// Parses filter-box text; see the module docs for the grammar.
    pub fn parse(input: &str) -> Result<Filter, FilterError> {
        let trimmed = input.trim_start();
        let (inverted, body) = match trimmed.strip_prefix('!') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, trimmed),
        };
        let body_start = input.len() - body.len();
        let body = body.trim_end();
        if body.is_empty() {
            // A lone "!" is a filter still being typed: keep showing everything.
            return Ok(Filter {
                source: input.to_owned(),
                ..Filter::all()
            });
        }
        let bang = if inverted { "!" } else { "" };
        let mut note = None;
        let braceless = if selector::looks_like_selector(body) {
            None
        } else {
            selector::parse_braceless(input, body_start)?
        };
        let kind = if selector::looks_like_selector(body) {
            let matchers = selector::parse(input, body_start)?;
            if matchers.is_empty() {
                Kind::All
            } else {
                Kind::Selector(matchers)
            }
        } else if let Some(matchers) = braceless.filter(|m| !selector::may_mean_a_regex(m)) {
            note = Some(Box::new(Note::ReadAs {
                selector: format!("{bang}{{{body}}}"),
                exact_like_regex: selector::exact_value_looks_like_regex(&matchers),
            }));
            Kind::Selector(matchers)
        } else {
            let regex = Regex::new(body).map_err(|err| {
                let (message, column) = describe_regex_error(body, &err);
                let offset = input[..body_start].chars().count();
                FilterError::Regex {
                    message,
                    position: column.map(|c| offset + c),
                }
            })?;
            note = selector::regex_meant(body)
                .map(|(selector, quoted)| (format!("{bang}{selector}"), quoted))
                .filter(|(selector, _)| Filter::parse(selector).is_ok())
                .map(|(selector, quoted)| {
                    Box::new(match quoted {
                        true => Note::Regex(selector),
                        false => Note::DidYouMean(selector),
                    })
                });
            Kind::Text(TextSearch::new(regex, body))
        };
        Ok(Filter {
            source: input.to_owned(),
            inverted,
            kind,
            note,
        })
    }

    /// The filter that matches every series, as `parse("")` returns.
    pub fn all() -> Filter {
        Filter {
            source: String::new(),
            inverted: false,
            kind: Kind::All,
            note: None,
        }
    }

    /// Whether every series matches, so callers can skip evaluating it.
    pub fn is_all(&self) -> bool {
        !self.inverted && matches!(self.kind, Kind::All)
    }

    /// Whether it is a selector naming one of [`PSEUDO_LABELS`]: only then
    /// do they need to be given with a series' labels.
    pub fn uses_pseudo_labels(&self) -> bool {
        match &self.kind {
            Kind::Selector(matchers) => matchers.iter().any(|m| PSEUDO_LABELS.contains(&m.label())),
            _ => false,
        }
    }

    /// The text this filter was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// What the filter line says beside the text, when it is not read as it
    /// looks (see [`Note`]).
    pub fn note(&self) -> Option<&Note> {
        self.note.as_deref()
    }

    /// Whether a series with these label pairs (`__name__` included) passes. Selectors
    /// only look labels up, without allocating; a regex searches the series text,
    /// written into `scratch` so one buffer can serve every call, unless a literal
    /// it needs is missing from the labels.
    pub fn matches<'a, I>(&self, labels: I, scratch: &mut String) -> bool
    where
        I: IntoIterator<Item = (&'a str, &'a str)> + Clone,
    {
        let hit = match &self.kind {
            Kind::All => true,
            Kind::Text(search) => search.matches(labels, scratch),
            Kind::Selector(matchers) => matchers.iter().all(|m| m.matches(labels.clone())),
        };
        hit != self.inverted
    }
}

/// Evaluation of a filter over many series in one go (one per thread), faster than
/// [`Filter::matches`] per series: a regex runs piece by piece through a lazy DFA
/// that remembers where each distinct label pair takes it, instead of searching
/// every series' written text.
pub struct FilterPass<'f> {
    filter: &'f Filter,
    stream: Option<StreamPass<'f>>,
    scratch: String,
}

impl Filter {
    /// State for one pass over many series.
    pub fn pass(&self) -> FilterPass<'_> {
        let stream = match &self.kind {
            Kind::Text(search) => search.stream.as_ref().map(StreamRegex::pass),
            _ => None,
        };
        FilterPass {
            filter: self,
            stream,
            scratch: String::new(),
        }
    }
}

impl FilterPass<'_> {
    /// Whether a series passes, as [`Filter::matches`] says. `pair` reads a label
    /// item's name and value; `key` must give equal pairs equal keys, and other
    /// pairs other keys, for as long as this pass lives (interned ids do).
    pub fn matches<'a, T, I>(
        &mut self,
        items: I,
        pair: impl Fn(T) -> (&'a str, &'a str) + Copy,
        key: impl Fn(T) -> u64,
    ) -> bool
    where
        T: Copy,
        I: Iterator<Item = T> + Clone,
    {
        let labels = items.clone().map(pair);
        let (Kind::Text(search), Some(stream)) = (&self.filter.kind, &mut self.stream) else {
            return self.filter.matches(labels, &mut self.scratch);
        };
        let hit = search.may_match(labels.clone())
            && match stream.is_match(items, pair, key) {
                Some(hit) => hit,
                None => search.matches(labels, &mut self.scratch),
            };
        hit != self.filter.inverted
    }
}

/// Splits a `regex` error into a one-line message and the 1-based character column
/// in the pattern it points at, when it points at one.
fn describe_regex_error(pattern: &str, err: &regex::Error) -> (String, Option<usize>) {
    // regex parses with regex_syntax's defaults; parsing again gets the error as
    // data (its kind and span) instead of text drawn for a terminal.
    let (message, span) = match regex_syntax::Parser::new().parse(pattern) {
        Err(regex_syntax::Error::Parse(e)) => (e.kind().to_string(), *e.span()),
        Err(regex_syntax::Error::Translate(e)) => (e.kind().to_string(), *e.span()),
        // Valid syntax that regex still rejects, e.g. too large once compiled.
        _ => return (err.to_string(), None),
    };
    let column = pattern
        .get(..span.start.offset)
        .map(|before| before.chars().count() + 1);
    (message, column)
}

#[cfg(test)]
mod tests;
