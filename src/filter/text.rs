//! The regex case of the filter: a regex over each series' written text
//! (`name{a="1", b="2"}`), with the byte strings every match needs looked for
//! in the labels first, so that most series are ruled out without writing
//! their text.

use memchr::arch::all::packedpair::Pair;
use regex::Regex;
use regex_syntax::hir::{Hir, HirKind};

use super::stream::StreamRegex;
use crate::text::escape;
use crate::text::promql;
use crate::text::scan::all_blocks;

/// A regex over the series text, with byte strings that text needs to match.
#[derive(Debug, Clone)]
pub(super) struct TextSearch {
    regex: Regex,
    /// The same regex as a lazy DFA for [`super::FilterPass`], if it can be one.
    pub(super) stream: Option<StreamRegex>,
    /// Each is inside some label name or value of every series the regex matches.
    needles: Vec<Needle>,
}

impl TextSearch {
    pub(super) fn new(regex: Regex, pattern: &str) -> TextSearch {
        let needles = needles(pattern).into_iter().map(Needle::new).collect();
        TextSearch {
            regex,
            stream: StreamRegex::new(pattern),
            needles,
        }
    }

    pub(super) fn matches<'a, I>(&self, labels: I, scratch: &mut String) -> bool
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
    pub(super) fn may_match<'a, I>(&self, labels: I) -> bool
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;

    #[test]
    fn needles_are_literal_runs_between_written_bytes() {
        let cases: &[(&str, &[&str])] = &[
            // `424` may end `\U000e0424`, the escape of a character drawn as nothing.
            (r#"series_id="4242""#, &["series_id", "2"]),
            ("up", &["up"]),
            // A leading `n` may be the end of an escaped newline, hex digits the end
            // of an escape such as `\x1b` or `\u202e`.
            ("node", &["ode"]),
            ("x1bfoo", &["foo"]),
            ("202efoo", &["foo"]),
            ("u202", &[]),
            // `ca` may end `\xca`, a byte of a label value that is not UTF-8, and
            // `caf` the escape `\U000e0caf`.
            ("cafe_bad", &["e_bad"]),
            // The text writes a newline as `\n`, so a needle holding one only finds
            // labels whose text the regex can't match: useless, but harmless.
            (r"a\nb", &["\nb"]),
            // `a` and `x` may lie inside the escape of a hidden character.
            (r"a\\nb", &["b"]),
            (r#"^up\{job="a.i"\}$"#, &["up", "job", "i"]),
            (r#"(?:x=)+y+(z)?"#, &["y"]),
            // `42` may end `\U000e0042`.
            (r#"(?i)id="42""#, &[]),
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
}
