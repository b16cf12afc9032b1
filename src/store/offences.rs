//! What fired on each series, in a bound that does not grow with the series
//! that keep firing: the rules as a 2-byte index in the series itself
//! ([`FiredSets`]), and the offending samples of the latest offences of all
//! series together in one ring ([`Offences`]), bounded by bytes. A series that
//! fired long ago still says which rules did (and counts exactly in each
//! rule's series affected); what its offending samples were may have been
//! pushed out by later offences, which the views then say.

use std::collections::VecDeque;

use hashbrown::HashMap;

use super::SeriesId;
use super::problems::{Finding, SERIES_MESSAGE_BYTES, cut};
use crate::problems::{Message, Rule, RuleSet};

/// Offences kept, all series together (the latest): 72 bytes each, 2.25 MiB
/// in all, about the 1,000 series each of 32 rules lists.
pub const MAX_OFFENCES: usize = 32_768;
/// Offences of one series its detail shows (the latest still kept).
pub const OFFENCES_SHOWN: usize = 3;
/// Bytes of message text the kept offences hold in all (a sample rule's
/// facts take none; a label rule's text is cut to [`SERIES_MESSAGE_BYTES`]).
pub const MAX_OFFENCE_TEXT_BYTES: usize = 1 << 20;

/// A series' fired rules: an index of [`FiredSets`] (0: none yet), 2 bytes
/// that fill the padding of [`super::Series`] instead of growing it.
pub type FiredAt = u16;

/// A series whose set is kept by its id (every index taken).
const SPILLED: FiredAt = FiredAt::MAX;

/// The sets of rules that fired on series, each kept once: series that broke
/// the same rules share an index. A sender can only make a few of the 2^33
/// combinations common; a series whose combination finds no index left (past
/// 65,534 of them) has its set kept by its id instead ("spilled").
#[derive(Debug)]
pub struct FiredSets {
    sets: Vec<RuleSet>,
    index: HashMap<RuleSet, FiredAt>,
    spilled: HashMap<SeriesId, RuleSet>,
    /// Most sets indexed ([`SPILLED`] but in tests).
    most: usize,
}

impl Default for FiredSets {
    fn default() -> Self {
        FiredSets::with_most(usize::from(SPILLED))
    }
}

impl FiredSets {
    /// Indexing at most `most` sets, the empty one included.
    pub(super) fn with_most(most: usize) -> Self {
        FiredSets {
            sets: vec![RuleSet::default()],
            index: HashMap::from([(RuleSet::default(), 0)]),
            spilled: HashMap::new(),
            most: most.clamp(1, usize::from(SPILLED)),
        }
    }

    /// The rules that fired on series `id`, whose index is `at`.
    pub fn get(&self, id: SeriesId, at: FiredAt) -> RuleSet {
        if at == SPILLED {
            return self.spilled.get(&id).copied().unwrap_or_default();
        }
        self.sets.get(usize::from(at)).copied().unwrap_or_default()
    }

    /// Adds `rule` to series `id`'s set at `*at`; says whether it had not
    /// fired on it before.
    pub(super) fn insert(&mut self, id: SeriesId, at: &mut FiredAt, rule: Rule) -> bool {
        let mut set = self.get(id, *at);
        if set.contains(rule) {
            return false;
        }
        set.insert(rule);
        if *at == SPILLED {
            self.spilled.insert(id, set);
            return true;
        }
        *at = match self.index.get(&set) {
            Some(&i) => i,
            None if self.sets.len() < self.most => {
                let i = self.sets.len() as FiredAt;
                self.sets.push(set);
                self.index.insert(set, i);
                i
            }
            None => {
                self.spilled.insert(id, set);
                SPILLED
            }
        };
        true
    }

    /// Forgets series `id` (evicted), whose index was `at`.
    pub(super) fn forget(&mut self, id: SeriesId, at: FiredAt) {
        if at == SPILLED {
            self.spilled.remove(&id);
        }
    }

    /// Series whose sets are kept by id.
    pub fn spilled_len(&self) -> usize {
        self.spilled.len()
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.sets.capacity() * size_of::<RuleSet>()
            + self.index.capacity() * (size_of::<(RuleSet, FiredAt)>() + 1)
            + self.spilled.capacity() * (size_of::<(SeriesId, RuleSet)>() + 1)
    }
}

/// A rule that fired on a series, with the offending sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Offence {
    pub series: SeriesId,
    pub rule: Rule,
    /// Times it fired in the request.
    pub count: u32,
    /// When the request carrying it arrived (ms since the epoch).
    pub arrival_ms: i64,
    /// The offending sample's timestamp, `i64::MIN` for none (8 bytes where
    /// an `Option` takes 16).
    timestamp_ms: i64,
    pub message: Message,
}

impl Offence {
    /// The offending sample's timestamp, for sample rules.
    pub fn timestamp_ms(&self) -> Option<i64> {
        (self.timestamp_ms != i64::MIN).then_some(self.timestamp_ms)
    }
}

/// The latest offences of all series, oldest first, within [`MAX_OFFENCES`]
/// and [`MAX_OFFENCE_TEXT_BYTES`].
#[derive(Debug, Default)]
pub struct Offences {
    kept: VecDeque<Offence>,
    /// Message bytes of `kept`.
    text_bytes: usize,
    /// Offences pushed out to make room.
    dropped: u64,
}

impl Offences {
    /// Keeps a finding on series `id`, pushing out the oldest while over a bound.
    pub(super) fn push(&mut self, id: SeriesId, finding: &Finding, arrival_ms: i64) {
        let message = match finding.message {
            Message::Text(text) => Message::Text(cut(text, SERIES_MESSAGE_BYTES)),
            Message::Sample(fact) => Message::Sample(*fact),
        };
        let text = message.heap_bytes();
        while self.kept.len() >= MAX_OFFENCES || self.text_bytes + text > MAX_OFFENCE_TEXT_BYTES {
            let Some(old) = self.kept.pop_front() else {
                break;
            };
            self.text_bytes -= old.message.heap_bytes();
            self.dropped += 1;
        }
        self.text_bytes += text;
        self.kept.push_back(Offence {
            series: id,
            rule: finding.rule,
            count: finding.count,
            arrival_ms,
            timestamp_ms: finding.timestamp_ms.unwrap_or(i64::MIN),
            message,
        });
    }

    /// Series `id`'s offences still kept, newest first.
    pub fn of(&self, id: SeriesId) -> impl Iterator<Item = &Offence> + '_ {
        self.kept.iter().rev().filter(move |o| o.series == id)
    }

    /// Series `id`'s latest offence against `rule`, if still kept.
    pub fn latest(&self, id: SeriesId, rule: Rule) -> Option<&Offence> {
        self.of(id).find(|o| o.rule == rule)
    }

    /// Offences kept.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// Offences pushed out by later ones (their rules stay counted and set on
    /// their series).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.kept.capacity() * size_of::<Offence>() + self.text_bytes
    }
}
