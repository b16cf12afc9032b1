//! A regex over a series' text, run piece by piece through a lazy DFA without
//! writing the text, remembering where each label piece takes the DFA: label
//! pairs repeat across series, so evaluating a filter over a million series walks
//! each distinct piece a few times instead of every series' whole text.

use std::collections::HashMap;

use regex_automata::Anchored;
use regex_automata::hybrid::LazyStateID;
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::util::start;

use crate::text::promql::{SeriesPiece, series_pieces};

/// Remembered outcomes per pass; beyond this the memo starts over. Pairs that
/// repeat are learned again at once; unique ones (a `series_id` per series) would
/// otherwise grow the memo out of the CPU's caches.
const MEMO_LIMIT: usize = 1 << 12;

/// The compiled DFA of a filter regex, shared by all passes and threads.
#[derive(Debug, Clone)]
pub struct StreamRegex {
    /// Boxed: a DFA is large, and most filters are not regexes.
    dfa: Box<DFA>,
}

/// Where a piece took the DFA.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// A match ended inside the piece: the series matches.
    Matched,
    /// The state after the piece.
    At(LazyStateID),
}

/// How a pair is written: as the metric name, or as a label with the braces
/// closed (`{k="v"`) or open (`, k="v"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Form {
    Name,
    FirstLabel,
    Label,
}

/// Why a walk stopped without an answer; the caller then searches the text.
struct GaveUp;

/// Per-thread state of one pass over many series.
pub struct StreamPass<'r> {
    regex: &'r StreamRegex,
    cache: Cache,
    start: Option<LazyStateID>,
    /// (state before, pair identity, how the pair is written) → step.
    memo: HashMap<(LazyStateID, u64, Form), Step, crate::hashing::Keyed>,
    /// The cache's clear count the memo's state ids belong to.
    clears: usize,
    scratch: String,
}

impl StreamRegex {
    /// Compiles `pattern` like `regex::Regex::new` does; `None` when the lazy DFA
    /// cannot represent it (the caller keeps searching written text).
    pub fn new(pattern: &str) -> Option<StreamRegex> {
        // A Unicode `\b` works on ASCII text and quits on other bytes, for which
        // the caller then searches the written text.
        let config = DFA::config().unicode_word_boundary(true);
        let dfa = DFA::builder().configure(config).build(pattern).ok()?;
        Some(StreamRegex { dfa: Box::new(dfa) })
    }

    /// State for one pass (one per thread).
    pub fn pass(&self) -> StreamPass<'_> {
        let cache = self.dfa.create_cache();
        StreamPass {
            regex: self,
            clears: cache.clear_count(),
            cache,
            start: None,
            memo: HashMap::default(),
            scratch: String::new(),
        }
    }
}

impl StreamPass<'_> {
    /// Whether the regex matches the series text of `items`, each read by `pair`
    /// and identified by `key`, which must be equal for equal pairs during this
    /// pass (interned ids); `None` when the DFA gave up (a quit byte, or a cache
    /// used inefficiently) and the caller must search the written text.
    pub fn is_match<'a, T, I>(
        &mut self,
        items: I,
        pair: impl Fn(T) -> (&'a str, &'a str),
        key: impl Fn(T) -> u64,
    ) -> Option<bool>
    where
        T: Copy,
        I: IntoIterator<Item = T> + Clone,
    {
        self.sync();
        let start = match self.start {
            Some(start) => start,
            None => {
                let config = start::Config::new().anchored(Anchored::No);
                let start = self.regex.dfa.start_state(&mut self.cache, &config).ok()?;
                self.start = Some(start);
                start
            }
        };
        // `Ok(None)` once a match is found.
        let mut at: Result<Option<LazyStateID>, GaveUp> = Ok(Some(start));
        series_pieces(items, pair, |piece, item| {
            let Ok(Some(state)) = at else { return };
            let form = match piece {
                SeriesPiece::Name(_) => Some(Form::Name),
                SeriesPiece::Label { open: false, .. } => Some(Form::FirstLabel),
                SeriesPiece::Label { open: true, .. } => Some(Form::Label),
                SeriesPiece::End { .. } => None,
            };
            at = match (form, item) {
                (Some(form), Some(item)) => self.memoized(state, (key(item), form), piece),
                _ => self.walk(state, piece).map(step_state),
            };
        });
        match at {
            Ok(Some(state)) => {
                let end = self.regex.dfa.next_eoi_state(&mut self.cache, state).ok()?;
                (!end.is_quit()).then_some(end.is_match())
            }
            Ok(None) => Some(true),
            Err(GaveUp) => None,
        }
    }

    /// Forgets state ids from before the cache was last cleared: they mean
    /// nothing now.
    fn sync(&mut self) {
        if self.cache.clear_count() != self.clears {
            self.memo.clear();
            self.start = None;
            self.clears = self.cache.clear_count();
        }
    }

    /// The step for a pair's piece from `state`, from the memo or by walking it.
    fn memoized(
        &mut self,
        state: LazyStateID,
        (key, form): (u64, Form),
        piece: SeriesPiece<'_>,
    ) -> Result<Option<LazyStateID>, GaveUp> {
        self.sync();
        if let Some(&step) = self.memo.get(&(state, key, form)) {
            return Ok(step_state(step));
        }
        let clears = self.clears;
        let step = self.walk(state, piece)?;
        // A clear during the walk leaves `state` meaningless as a key.
        if self.cache.clear_count() == clears {
            if self.memo.len() >= MEMO_LIMIT {
                self.memo.clear();
            }
            self.memo.insert((state, key, form), step);
        }
        Ok(step_state(step))
    }

    /// Feeds a piece's text to the DFA from `state`.
    fn walk(&mut self, mut state: LazyStateID, piece: SeriesPiece<'_>) -> Result<Step, GaveUp> {
        self.scratch.clear();
        piece.write(&mut self.scratch);
        for &byte in self.scratch.as_bytes() {
            state = self
                .regex
                .dfa
                .next_state(&mut self.cache, state, byte)
                .map_err(|_| GaveUp)?;
            if state.is_tagged() {
                if state.is_match() {
                    return Ok(Step::Matched);
                }
                if state.is_quit() {
                    return Err(GaveUp);
                }
                if state.is_dead() {
                    break;
                }
            }
        }
        Ok(Step::At(state))
    }
}

/// The state to go on from, or `None` once matched.
fn step_state(step: Step) -> Option<LazyStateID> {
    match step {
        Step::Matched => None,
        Step::At(state) => Some(state),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_match(pass: &mut StreamPass<'_>, labels: &[(&str, &str)]) -> Option<bool> {
        let keyed: Vec<((&str, &str), u64)> = labels
            .iter()
            .map(|&(k, v)| ((k, v), k.len() as u64 * 1000 + v.len() as u64))
            .collect();
        pass.is_match(keyed.iter().copied(), |(p, _)| p, |(_, k)| k)
    }

    #[test]
    fn answers_from_the_dfa_and_gives_up_only_where_it_must() {
        let digits = StreamRegex::new("[0-9]{3}").expect("a lazy DFA");
        let mut pass = digits.pass();
        let up = [("__name__", "up"), ("job", "a1")];
        let code = [("__name__", "http"), ("code", "200")];
        assert_eq!(is_match(&mut pass, &up), Some(false));
        assert_eq!(is_match(&mut pass, &code), Some(true));
        // Remembered pieces give the same answers.
        assert_eq!(is_match(&mut pass, &code), Some(true));
        assert_eq!(is_match(&mut pass, &up), Some(false));
        assert!(!pass.memo.is_empty());
        // A match across two pieces: `…"}` then nothing, `, b…`.
        let across = StreamRegex::new(r#"1", b"#).expect("a lazy DFA");
        assert_eq!(
            is_match(&mut across.pass(), &[("a", "1"), ("b", "2")]),
            Some(true)
        );
        // A Unicode word boundary next to a non-ASCII byte: the DFA quits.
        let word = StreamRegex::new(r"\bnode\b").expect("a lazy DFA");
        assert_eq!(is_match(&mut word.pass(), &[("__name__", "nodeé")]), None);
        assert_eq!(
            is_match(&mut word.pass(), &[("__name__", "node")]),
            Some(true)
        );
    }
}
