//! What one request's series said of their metric names so far, by the
//! names' string ids: an RW 2.0 request's series share their names' (and
//! help texts') symbols, one id each, so a name met again needs no hash and
//! no lookup in the checker's memory, however its series interleave. (RW 1.0
//! strings are never shared: every series misses, as without the cache.)
//!
//! Direct-mapped: a name whose slot another took is looked up again. Exact:
//! the whole cache is cleared whenever what the checker remembers of any
//! name changes (new names, a new type or help: seldom past the first
//! request), so an entry agrees with what the checker last took for the
//! name, also when two symbols hold the same text.

use crate::ingest::model::{MetricType, StrId};

/// Slots of each table.
const SLOTS: usize = 64;

/// A name's metadata as a series sent it: its name, type and help.
pub(super) type Sent = (StrId, MetricType, StrId);

pub(super) struct NameCache {
    /// Names of series sent with no type, and the type remembered for them.
    untyped: [Option<(StrId, MetricType)>; SLOTS],
    /// Metadata sent with series and taken into the checker's memory.
    sent: [Option<Sent>; SLOTS],
}

impl Default for NameCache {
    fn default() -> Self {
        NameCache {
            untyped: [None; SLOTS],
            sent: [None; SLOTS],
        }
    }
}

fn slot(id: StrId) -> usize {
    (id.start().wrapping_mul(0x9e37_79b9) >> 26) as usize % SLOTS
}

impl NameCache {
    /// The type remembered for untyped series of name `id`, if asked before.
    pub(super) fn untyped(&self, id: StrId) -> Option<MetricType> {
        match self.untyped[slot(id)] {
            Some((at, known)) if at == id => Some(known),
            _ => None,
        }
    }

    pub(super) fn put_untyped(&mut self, id: StrId, known: MetricType) {
        self.untyped[slot(id)] = Some((id, known));
    }

    /// Whether exactly this metadata was taken for its name since the
    /// memory last changed: taking it again would change and fire nothing.
    #[inline]
    pub(super) fn was_sent(&self, sent: Sent) -> bool {
        self.sent[slot(sent.0)] == Some(sent)
    }

    pub(super) fn put_sent(&mut self, sent: Sent) {
        self.sent[slot(sent.0)] = Some(sent);
    }

    /// Forgets everything: what the checker remembers of a name changed.
    pub(super) fn clear(&mut self) {
        *self = NameCache::default();
    }
}
