//! The dashboard's filter box: a regex searched in each series' text, or a PromQL
//! selector matched against its labels, optionally inverted by a leading `!`.
//!
//! ```text
//! filter   := ["!"] body                  surrounding whitespace ignored
//! body     := ""                          matches everything (so does a lone "!")
//!           | selector                    input starting with "{", or a metric name and "{"
//!           | regex                       anything else: unanchored, over `name{a="1", b="2"}`
//! selector := [metric_name] "{" [item ("," item)* [","]] "}"
//! item     := label_name op string        label_name: identifier or quoted string
//!           | string                      a bare string is `__name__="string"`
//! op       := "=" | "!=" | "=~" | "!~"   regexes fully anchored, as in Prometheus
//! string   := "…" | '…' | `…`             Go escapes in quotes; backticks are raw
//! ```
//!
//! A metric name followed by `{digits` (`a{2}`, `x{1,3}`) is a regex repetition, not a
//! selector. A bare word like `up` is a regex, so it also finds `uptime_seconds`.

mod selector;
mod stream;

use memchr::arch::all::packedpair::Pair;
use regex::Regex;
use regex_syntax::hir::{Hir, HirKind};
use thiserror::Error;

use crate::text::escape;
use crate::text::promql;
use crate::text::scan::all_blocks;
use selector::Matcher;
use stream::{StreamPass, StreamRegex};

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
}

#[derive(Debug, Clone)]
enum Kind {
    All,
    /// Searched anywhere in the series text.
    Text(TextSearch),
    /// All must match; never empty (an empty selector is `All`).
    Selector(Vec<Matcher>),
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
        let kind = if selector::looks_like_selector(body) {
            let matchers = selector::parse(input, body_start)?;
            if matchers.is_empty() {
                Kind::All
            } else {
                Kind::Selector(matchers)
            }
        } else {
            let regex = Regex::new(body).map_err(|err| {
                let (message, column) = describe_regex_error(body, &err);
                let offset = input[..body_start].chars().count();
                FilterError::Regex {
                    message,
                    position: column.map(|c| offset + c),
                }
            })?;
            Kind::Text(TextSearch::new(regex, body))
        };
        Ok(Filter {
            source: input.to_owned(),
            inverted,
            kind,
        })
    }

    /// The filter that matches every series, as `parse("")` returns.
    pub fn all() -> Filter {
        Filter {
            source: String::new(),
            inverted: false,
            kind: Kind::All,
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

/// A regex over the series text, with byte strings that text needs to match.
#[derive(Debug, Clone)]
struct TextSearch {
    regex: Regex,
    /// The same regex as a lazy DFA for [`FilterPass`], if it can be one.
    stream: Option<StreamRegex>,
    /// Each is inside some label name or value of every series the regex matches.
    needles: Vec<Needle>,
}

impl TextSearch {
    fn new(regex: Regex, pattern: &str) -> TextSearch {
        let needles = needles(pattern).into_iter().map(Needle::new).collect();
        TextSearch {
            regex,
            stream: StreamRegex::new(pattern),
            needles,
        }
    }

    fn matches<'a, I>(&self, labels: I, scratch: &mut String) -> bool
    where
        I: IntoIterator<Item = (&'a str, &'a str)> + Clone,
    {
        // Writing the text costs far more than looking for needles in its labels,
        // and most series lack one.
        if !self.may_match(labels.clone()) {
            return false;
        }
        scratch.clear();
        promql::write_series(scratch, labels);
        self.regex.is_match(scratch)
    }

    /// False when a needle is in no label name or value, so the regex can't match.
    fn may_match<'a, I>(&self, labels: I) -> bool
    where
        I: IntoIterator<Item = (&'a str, &'a str)> + Clone,
    {
        let found = |needle: &Needle| {
            labels
                .clone()
                .into_iter()
                .any(|(k, v)| needle.is_in(k) || needle.is_in(v))
        };
        // The last needle goes first: in `job="api"` the value tells series apart,
        // the label name does not.
        self.needles.iter().rev().all(found)
    }
}

/// A byte string searched in short label names and values.
#[derive(Debug, Clone)]
struct Needle {
    bytes: Vec<u8>,
    /// Where its rarest byte is: most labels lack that byte, and checking for one byte
    /// is faster on short strings than a substring search.
    rare: usize,
}

impl Needle {
    fn new(bytes: Vec<u8>) -> Needle {
        let rare = Pair::new(&bytes).map_or(0, |p| usize::from(p.index1()));
        Needle { bytes, rare }
    }

    #[inline(always)] // called per label; inlined, the rare byte is splat once
    fn is_in(&self, s: &str) -> bool {
        let (s, at, rare) = (s.as_bytes(), self.rare, self.bytes[self.rare]);
        let lacks_rare = |b: &[u8; 16]| !b.iter().fold(false, |any, &c| any | (c == rare));
        s.len() >= self.bytes.len()
            && !all_blocks(s, !rare, lacks_rare)
            && s.windows(self.bytes.len())
                .any(|w| w[at] == rare && w == self.bytes)
    }
}

/// Bytes the series text has around and inside label names and values: punctuation,
/// quotes, and the backslash of escapes (see [`promql::write_series`]).
const WRITTEN: &[u8] = b"{}\",= \\";

/// Byte strings found in a label name or value of every series whose text the
/// regex `pattern` matches; none when the pattern requires no literal.
///
/// Each match of the pattern contains every literal of [`required_literals`]. A run of
/// such a literal without [`WRITTEN`] bytes overlaps none in the text either, so it
/// lies within the written copy of one name or value and between two of its escapes,
/// where bytes are copied unchanged. The exception is the tail of an escape after its
/// backslash (`\n`, `\x1b`, `\u202e`: see [`crate::text::escape`]), which the label holds
/// as one other character: only the start of a run can be one, so it is dropped
/// ([`without_escape_tail`]).
fn needles(pattern: &str) -> Vec<Vec<u8>> {
    let Ok(hir) = regex_syntax::parse(pattern) else {
        return Vec::new();
    };
    let mut literals = Vec::new();
    required_literals(&hir, &mut literals);
    literals
        .iter()
        .flat_map(|literal| literal.split(|b| WRITTEN.contains(b)))
        .map(without_escape_tail)
        .filter(|run| !run.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// `run` without what may be the end of an escape's tail after its backslash (`n`,
/// `x1b`, `u202e`; see [`escape`]): empty when the whole run may lie inside one, else
/// without the longest start of it that may end one.
fn without_escape_tail(run: &[u8]) -> &[u8] {
    let mut escaped = String::new();
    let mut tail_end = 0;
    for c in escape::hidden_chars() {
        escaped.clear();
        escape::push_escape(&mut escaped, c);
        let tail = &escaped.as_bytes()[1..];
        for from in 0..tail.len() {
            let rest = &tail[from..];
            if rest.starts_with(run) {
                return &[];
            }
            if run.starts_with(rest) {
                tail_end = tail_end.max(rest.len());
            }
        }
    }
    &run[tail_end..]
}

/// Adds to `out` literals that every match of `hir` contains.
fn required_literals<'h>(hir: &'h Hir, out: &mut Vec<&'h [u8]>) {
    match hir.kind() {
        HirKind::Literal(literal) => out.push(&literal.0),
        HirKind::Concat(parts) => parts.iter().for_each(|p| required_literals(p, out)),
        HirKind::Capture(group) => required_literals(&group.sub, out),
        HirKind::Repetition(rep) if rep.min > 0 => required_literals(&rep.sub, out),
        _ => {}
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
mod tests {
    use super::*;
    use crate::test_rng::Rng;

    fn check(filter: &str, labels: &[(&str, &str)]) -> bool {
        let filter = Filter::parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
        filter.matches(labels.iter().copied(), &mut String::new())
    }

    fn error(filter: &str) -> String {
        match Filter::parse(filter) {
            Ok(f) => panic!("{filter} parsed as {f:?}"),
            Err(e) => e.to_string(),
        }
    }

    const NODE: &[(&str, &str)] = &[
        ("__name__", "node_cpu_seconds_total"),
        ("cpu", "0"),
        ("instance", "host:9100"),
        ("job", "node"),
    ];
    const UP: &[(&str, &str)] = &[("__name__", "up"), ("job", "api")];

    #[test]
    fn a_pass_agrees_with_matching_each_series_on_its_text() {
        // Patterns across pieces, anchored at either end, over quoted UTF-8 names,
        // with a Unicode word boundary (the lazy DFA gives up on non-ASCII bytes
        // there, and the pass searches the text), inverted, and a selector.
        let patterns = [
            "[0-9]{3}",
            r#"job="a.*", x"#,
            "^up",
            r#"^\{"#,
            r#"b"}$"#,
            r"(?i)ZÜRICH",
            r"\bnode\b",
            r#"\\n|\\""#,
            "!api",
            "",
            r#"{job=~"a.*"}"#,
            "not-there",
        ];
        let values = [
            "a", "api", "node", "zürich", "12345", "x\ny", "q\"", "", "b",
        ];
        let names = ["__name__", "job", "cpu", "my.label", "x"];
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut next = |len: usize| rng.index(len);
        let series: Vec<Vec<(&str, &str)>> = (0..3000)
            .map(|_| {
                (0..next(5))
                    .map(|_| (names[next(names.len())], values[next(values.len())]))
                    .collect()
            })
            .collect();
        // Interned ids as keys: equal pairs, equal keys.
        let mut ids = std::collections::HashMap::new();
        let key = |pair: (&str, &str),
                   ids: &mut std::collections::HashMap<(String, String), u64>| {
            let n = ids.len() as u64;
            *ids.entry((pair.0.to_owned(), pair.1.to_owned()))
                .or_insert(n)
        };
        let keyed: Vec<Vec<((&str, &str), u64)>> = series
            .iter()
            .map(|labels| labels.iter().map(|&p| (p, key(p, &mut ids))).collect())
            .collect();
        for pattern in patterns {
            let filter = Filter::parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
            let mut pass = filter.pass();
            // Twice over, so the second round answers from what the first remembered.
            for round in 0..2 {
                for (labels, items) in series.iter().zip(&keyed) {
                    let expected = filter.matches(labels.iter().copied(), &mut String::new());
                    let got = pass.matches(items.iter().copied(), |(p, _)| p, |(_, k)| k);
                    assert_eq!(
                        got,
                        expected,
                        "{pattern} on {} (round {round})",
                        promql::series(labels.iter().copied())
                    );
                }
            }
        }
    }

    #[test]
    fn empty_input_matches_everything() {
        for input in ["", "   ", "\t", "!", "  !  ", "{}", " { } "] {
            let filter = Filter::parse(input).unwrap();
            assert!(filter.is_all(), "{input:?}");
            assert_eq!(filter.source(), input);
            assert!(filter.matches(NODE.iter().copied(), &mut String::new()));
            assert!(filter.matches([], &mut String::new()));
        }
        assert!(Filter::all().is_all());
        assert_eq!(Filter::all().source(), "");
        assert!(!Filter::parse("up").unwrap().is_all());
        assert!(!Filter::parse("{job=\"x\"}").unwrap().is_all());
    }

    #[test]
    fn inverted_empty_selector_matches_nothing() {
        let filter = Filter::parse("!{}").unwrap();
        assert!(!filter.is_all());
        assert!(!check("!{}", NODE));
        assert!(!check("!{}", &[]));
    }

    #[test]
    fn equality_operators() {
        assert!(check(r#"{job="node"}"#, NODE));
        assert!(!check(r#"{job="nod"}"#, NODE));
        assert!(!check(r#"{job!="node"}"#, NODE));
        assert!(check(r#"{job!="api"}"#, NODE));
    }

    #[test]
    fn regex_operators_are_fully_anchored() {
        assert!(check(r#"{job=~"no.e"}"#, NODE));
        assert!(!check(r#"{job=~"no"}"#, NODE));
        assert!(!check(r#"{job=~"ode"}"#, NODE));
        assert!(check(r#"{job=~"no|node"}"#, NODE));
        assert!(check(r#"{job!~"no"}"#, NODE));
        assert!(!check(r#"{job!~"n.*"}"#, NODE));
        assert!(check(r#"{__name__=~"node_.*", job="node"}"#, NODE));
        assert!(!check(r#"{__name__=~"node_.*", job="api"}"#, NODE));
        assert!(check(
            r#"http_requests_total{code=~"5..", instance!~"test.*"}"#,
            &[
                ("__name__", "http_requests_total"),
                ("code", "503"),
                ("instance", "prod-1"),
            ]
        ));
        assert!(!check(
            r#"http_requests_total{code=~"5..", instance!~"test.*"}"#,
            &[
                ("__name__", "http_requests_total"),
                ("code", "503"),
                ("instance", "test-1"),
            ]
        ));
    }

    #[test]
    fn anchoring_survives_alternation_and_dot_matches_newline() {
        // Wrapped as ^(?s:…)$, so "a|b" must not become "^a|b$".
        assert!(!check(r#"{job=~"x|nod"}"#, NODE));
        assert!(check(r#"{v=~"a.b"}"#, &[("v", "a\nb")]));
    }

    #[test]
    fn absent_label_is_empty_string() {
        assert!(check(r#"{foo=""}"#, NODE));
        assert!(!check(r#"{foo!=""}"#, NODE));
        assert!(check(r#"{foo=~".*"}"#, NODE));
        assert!(check(r#"{foo=~""}"#, NODE));
        assert!(!check(r#"{foo=~".+"}"#, NODE));
        assert!(check(r#"{foo!~".+"}"#, NODE));
        assert!(!check(r#"{job=""}"#, NODE));
        assert!(check(r#"{job!=""}"#, NODE));
    }

    #[test]
    fn metric_name_before_braces_and_bare_quoted_name() {
        assert!(check(r#"up{job="api"}"#, UP));
        assert!(check(r#"up {}"#, UP));
        assert!(!check(r#"up{}"#, NODE));
        assert!(!check(r#"upp{job="api"}"#, UP));
        assert!(check(r#"{"up"}"#, UP));
        assert!(check(r#"{job="api", "up"}"#, UP));
        assert!(!check(r#"{"down"}"#, UP));
        assert!(check("ns:rule_total{}", &[("__name__", "ns:rule_total")]));
    }

    #[test]
    fn utf8_quoted_names() {
        let labels = &[("__name__", "my.metric"), ("label.name", "x é")];
        assert!(check(r#"{"my.metric", "label.name"="x é"}"#, labels));
        assert!(check(r#"{'label.name'=~"x.*"}"#, labels));
        assert!(check(r#"{`label.name`!="y"}"#, labels));
        assert!(!check(r#"{"my.metric", "label.name"="x"}"#, labels));
        assert!(check(r#"{"my.metric"}"#, labels));
    }

    #[test]
    fn string_quoting_and_escapes() {
        let labels = &[("v", "a\"b\\c\nd\te'f")];
        assert!(check(r#"{v="a\"b\\c\nd\te'f"}"#, labels));
        assert!(check(r#"{v='a"b\\c\nd\te\'f'}"#, labels));
        assert!(check(r#"{v="a\x22b\u005cc\012d\U00000009e'f"}"#, labels));
        assert!(check(r#"{v="\xc3\xa9"}"#, &[("v", "é")]));
        // Backticks are raw: the backslash is a regex escape here.
        assert!(check(r#"{v=~`a\d`}"#, &[("v", "a7")]));
        assert!(check(r#"{v=~"a\\d"}"#, &[("v", "a7")]));
        assert!(!check(r#"{v=`a\n`}"#, &[("v", "a\n")]));
        assert!(check(r#"{v=`a\n`}"#, &[("v", "a\\n")]));
        assert!(check(r#"{v=""}"#, &[("v", "")]));
    }

    #[test]
    fn whitespace_and_trailing_comma() {
        let tight = r#"node_cpu_seconds_total{job="node",cpu="0"}"#;
        let loose = " \t node_cpu_seconds_total \t{ job = \"node\" ,\tcpu=~ \"0\" , } \t";
        assert!(check(tight, NODE));
        assert!(check(loose, NODE));
        assert!(check(r#"{job="node",}"#, NODE));
        assert!(!check(" ! { job = \"node\" , } ", NODE));
    }

    #[test]
    fn label_lookup_takes_the_first_pair_in_any_order() {
        let unsorted = &[
            ("job", "node"),
            ("__name__", "up"),
            ("a", "1"),
            ("job", "x"),
        ];
        assert!(check(r#"up{a="1", job="node"}"#, unsorted));
        assert!(!check(r#"{job="x"}"#, unsorted));
    }

    #[test]
    fn plain_text_is_an_unanchored_regex_over_the_series_text() {
        assert!(check("up", UP));
        assert!(check("up", &[("__name__", "uptime_seconds")]));
        assert!(check("node", NODE));
        assert!(check(r#"job="no"#, NODE));
        assert!(check(r#"cpu="0", instance"#, NODE));
        assert!(check(r#"^up\{job="api"\}$"#, UP));
        assert!(!check("^job", NODE));
        assert!(!check("api", NODE));
        assert!(check("(?i)NODE_CPU", NODE));
        assert!(check(r#"\{"my\.metric""#, &[("__name__", "my.metric")]));
    }

    #[test]
    fn regex_repetition_after_a_name_is_not_a_selector() {
        assert!(check("p{2}", &[("__name__", "app")]));
        assert!(!check("p{2}", UP));
        assert!(check("o{1,}d", NODE));
        assert!(check(" u{ 1 }p", UP));
    }

    #[test]
    fn leading_bang_inverts() {
        assert!(!check("!up", UP));
        assert!(check("!up", NODE));
        assert!(check("! api", NODE));
        assert!(check(r#"!{job="api"}"#, NODE));
        assert!(!check(r#"!{job="node"}"#, NODE));
        assert!(!check(r#"!{job!="node"}"#, UP));
        // Only one "!" is special; the next is regex text.
        assert!(check("!!up", UP));
    }

    #[test]
    fn the_regex_case_reuses_and_overwrites_scratch() {
        // Case-insensitive letters leave no literal to rule the series out first.
        let filter = Filter::parse("(?i)job").unwrap();
        let mut scratch = String::from("job leftover");
        assert!(!filter.matches([("__name__", "up")], &mut scratch));
        assert_eq!(scratch, "up");
        let selector = Filter::parse(r#"{job="x"}"#).unwrap();
        let mut untouched = String::from("kept");
        assert!(selector.matches([("job", "x")], &mut untouched));
        assert_eq!(untouched, "kept");
    }

    #[test]
    fn needles_are_literal_runs_between_written_bytes() {
        let cases: &[(&str, &[&str])] = &[
            (r#"series_id="4242""#, &["series_id", "242"]),
            ("up", &["up"]),
            // A leading `n` may be the end of an escaped newline, hex digits the end
            // of an escape such as `\x1b` or `\u202e`.
            ("node", &["ode"]),
            ("x1bfoo", &["foo"]),
            ("202efoo", &["foo"]),
            ("u202", &[]),
            ("cafe_bad", &["afe_bad"]),
            // The text writes a newline as `\n`, so a needle holding one only finds
            // labels whose text the regex can't match: useless, but harmless.
            (r"a\nb", &["\nb"]),
            // `a` and `x` may lie inside the escape of a hidden character.
            (r"a\\nb", &["b"]),
            (r#"^up\{job="a.i"\}$"#, &["up", "job", "i"]),
            (r#"(?:x=)+y+(z)?"#, &["y"]),
            (r#"(?i)id="42""#, &["2"]),
            ("a|b", &[]),
            (r#"", ""#, &[]),
        ];
        for (pattern, want) in cases {
            let got: Vec<String> = needles(pattern)
                .iter()
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .collect();
            assert_eq!(got, *want, "{pattern}");
        }
    }

    #[test]
    fn needles_find_every_offset_in_short_and_long_labels() {
        for len in 0..40 {
            for at in 0..len {
                let mut label = "x".repeat(len);
                label.replace_range(at..at + 1, "4");
                let found = |needle: &str| Needle::new(needle.into()).is_in(&label);
                assert!(found("4"), "{label}");
                assert_eq!(found("x4"), at > 0, "{label}");
                assert_eq!(found("4x"), at + 1 < len, "{label}");
                assert!(!found("44"), "{label}");
            }
        }
    }

    #[test]
    fn needles_never_rule_out_a_series_the_regex_matches() {
        // Labels made of the bytes the text writes around them or escapes, so that
        // literals cut from one series' text span names, values, quotes and escapes.
        const PARTS: &[&str] = &[
            "a", "n", "_", ":", "1", "é", ".", "\"", "\\", "\n", "=", "{", "}", ",", " ", "\x1b",
            "\u{202e}", "x", "u", "e", "b", "2",
        ];
        let word = |rng: &mut Rng| -> String {
            (0..rng.below(4))
                .map(|_| PARTS[rng.index(PARTS.len())])
                .collect()
        };
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut previous, mut ruled_out, mut matched) = (String::new(), 0, 0);
        for _ in 0..500 {
            let mut labels: Vec<(String, String)> = (0..rng.below(4))
                .map(|_| (word(&mut rng), word(&mut rng)))
                .collect();
            if rng.below(3) > 0 {
                let at = rng.index(labels.len() + 1);
                labels.insert(at, ("__name__".into(), word(&mut rng)));
            }
            let pairs = || labels.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            let text = promql::series(pairs());
            for _ in 0..8 {
                // Half the patterns come from another series, to be ruled out.
                let source = if rng.below(2) == 0 { &text } else { &previous };
                let cut = |i: usize| (0..=i).rev().find(|&i| source.is_char_boundary(i));
                let (a, b) = (rng.index(source.len() + 1), rng.index(source.len() + 1));
                let (start, end) = (cut(a.min(b)).unwrap_or(0), cut(a.max(b)).unwrap_or(0));
                let literal = regex::escape(&source[start..end]);
                let pattern = match rng.below(4) {
                    0 => literal,
                    1 => format!("{literal}.*"),
                    2 => format!("(?:{literal})+(?:q)?"),
                    _ => format!("(?i){literal}"),
                };
                let regex = Regex::new(&pattern).unwrap();
                let search = TextSearch::new(regex.clone(), &pattern);
                let is_match = regex.is_match(&text);
                if !search.may_match(pairs()) {
                    assert!(!is_match, "{pattern:?} ruled out {text:?}");
                    ruled_out += 1;
                }
                assert_eq!(search.matches(pairs(), &mut String::new()), is_match);
                matched += usize::from(is_match);
            }
            previous = text;
        }
        assert!(ruled_out > 400 && matched > 800, "{ruled_out} {matched}");
    }

    #[test]
    fn invalid_selectors_explain_where() {
        let cases = [
            (
                r#"{job="x""#,
                r#"selector: missing closing "}" at position 9"#,
            ),
            (
                r#"{job="x" x}"#,
                r#"selector: expected "," or "}" at position 10"#,
            ),
            (
                r#"{job~"x"}"#,
                r#"selector: expected "=", "!=", "=~" or "!~" after label name "job" at position 5"#,
            ),
            (
                r#"{job!"x"}"#,
                r#"selector: expected "=", "!=", "=~" or "!~" after label name "job" at position 5"#,
            ),
            (
                r#"{job=="x"}"#,
                r#"selector: expected a quoted string after "=" at position 6"#,
            ),
            (
                r#"{job=node}"#,
                r#"selector: expected a quoted string after "=" at position 6"#,
            ),
            (r#"{job="x}"#, "selector: unterminated string at position 6"),
            (r#"{job=`x}"#, "selector: unterminated string at position 6"),
            (r#"{job="x\"#, "selector: unterminated string at position 6"),
            (r#"{,}"#, "selector: expected a label name at position 2"),
            (r#"{="x"}"#, "selector: expected a label name at position 2"),
            (
                r#"{1a="x"}"#,
                "selector: expected a label name at position 2",
            ),
            (
                r#"{a="1",,}"#,
                "selector: expected a label name at position 8",
            ),
            (
                r#"up{}x"#,
                r#"selector: unexpected "x" after "}" at position 5"#,
            ),
            (
                r#"{job="a\d"}"#,
                r#"selector: unknown escape sequence "\d" at position 8"#,
            ),
            (
                r#"{job="\x4"}"#,
                r#"selector: invalid escape sequence "\x" at position 7"#,
            ),
            (
                r#"{job="\ud800"}"#,
                r#"selector: invalid escape sequence "\u" at position 7"#,
            ),
            (
                r#"{job="\xff"}"#,
                "selector: string is not valid UTF-8 at position 6",
            ),
            (
                r#"{job=~"(a"}"#,
                r#"selector: invalid regex for label "job": unclosed group at position 7"#,
            ),
            (
                r#"{job!~"a)|(b"}"#,
                r#"selector: invalid regex for label "job": unopened group at position 7"#,
            ),
            (
                r#"{"é"="x", job~"x"}"#,
                r#"selector: expected "=", "!=", "=~" or "!~" after label name "job" at position 14"#,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(error(input), want, "{input}");
        }
    }

    #[test]
    fn invalid_plain_regex_explains_where() {
        assert_eq!(error("(abc"), "regex: unclosed group at position 1");
        assert_eq!(error("  ! é(abc"), "regex: unclosed group at position 6");
        assert_eq!(error("a)"), "regex: unopened group at position 2");
        assert_eq!(
            error("[z-a]"),
            "regex: invalid character class range, the start must be <= the end at position 2"
        );
        assert_eq!(
            error("*a"),
            "regex: repetition operator missing expression at position 1"
        );
        // Only legacy metric names can precede a selector's braces.
        assert_eq!(
            error(r#" é{job="x"}"#),
            "regex: repetition quantifier expects a valid decimal at position 4"
        );
        assert!(
            error("a{99999}{99999}").starts_with("regex: "),
            "size limit"
        );
        assert!(!error("a{99999}{99999}").contains('\n'));
        // Positions count characters through line breaks too.
        assert_eq!(error("a\n(b"), "regex: unclosed group at position 3");
    }
}
