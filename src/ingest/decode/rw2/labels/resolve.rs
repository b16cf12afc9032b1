//! The hot loop of RW 2.0: a series' label references resolved into label
//! slots, the name rules' facts gathered and the identity hash folded from
//! the symbols' string hashes, a label at a time.

use super::{NameOrder, Symbols};
use crate::ingest::model::{LabelRef, LabelSetHash};

/// What [`resolve_pairs`] found out about a series' labels.
pub(super) struct Resolved {
    /// How many.
    pub(super) labels: usize,
    /// Whether every pair was read (see [`Pairs::read_all`]).
    pub(super) complete: bool,
    pub(super) has_name: bool,
    pub(super) empty_name: bool,
    /// Names strictly ascending.
    pub(super) sorted: bool,
    /// The labels' identity hash, if `sorted` (else they must be sorted first).
    pub(super) hash: u64,
    /// Bytes of the labels' names and values, for [`Expansion`](super::Expansion).
    pub(super) taken: usize,
}

/// Why [`resolve_pairs`] stopped.
pub(super) enum Unresolved {
    /// Reference `n` is out of range.
    Ref(usize),
    /// The labels refer to more bytes than the allowance.
    Expanded,
}

/// The bytes of a packed `labels_refs` field, read as pairs of references as
/// they are resolved, as long as every reference takes one or two bytes
/// (symbols up to 16,383). It stops early at anything else or at an odd
/// count, leaving what it did not read.
pub(super) struct PackedPairs<'a> {
    pub(super) bytes: &'a [u8],
}

/// A reference of one or two bytes at the start of `bytes`, and the rest.
#[inline(always)]
fn short_reference(bytes: &[u8]) -> Option<(u32, &[u8])> {
    match *bytes {
        [first, ref rest @ ..] if first < 0x80 => Some((u32::from(first), rest)),
        [first, second, ref rest @ ..] if second < 0x80 => {
            Some((u32::from(first & 0x7f) | u32::from(second) << 7, rest))
        }
        _ => None,
    }
}

impl Iterator for PackedPairs<'_> {
    type Item = [u32; 2];

    #[inline(always)]
    fn next(&mut self) -> Option<[u32; 2]> {
        let (name, rest) = short_reference(self.bytes)?;
        let (value, rest) = short_reference(rest)?;
        self.bytes = rest;
        Some([name, value])
    }
}

/// Label reference pairs for [`resolve_pairs`].
pub(super) trait Pairs: Iterator<Item = [u32; 2]> {
    /// Whether the pairs were all read (a [`PackedPairs`] may stop early).
    fn read_all(&self) -> bool;
}

impl Pairs for std::iter::Copied<std::slice::Iter<'_, [u32; 2]>> {
    fn read_all(&self) -> bool {
        self.len() == 0
    }
}

impl Pairs for PackedPairs<'_> {
    fn read_all(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// The hot loop of RW 2.0: resolves a series' label reference `pairs` into
/// `labels` (as many as there is room for), notes what the name rules ask,
/// and folds the labels' identity hash from their symbols' string hashes;
/// fails when their bytes are over `allowance` (see
/// [`Expansion`](super::Expansion)). Not inlined, so that it keeps its state
/// in registers.
#[inline(never)]
pub(super) fn resolve_pairs(
    symbols: &Symbols<'_>,
    pairs: impl Pairs,
    labels: &mut [LabelRef],
    order: &mut NameOrder,
    allowance: usize,
) -> Result<Resolved, Unresolved> {
    let table = symbols.table;
    let (mut has_name, mut empty_name, mut sorted) = (false, false, true);
    let mut previous: Option<u32> = None;
    let (mut taken, mut count) = (0, 0);
    let mut hash = LabelSetHash::new();
    let mut pairs = pairs;
    // Slots first: a pair is taken only when there is room for it.
    for (slot, [name_ref, value_ref]) in labels.iter_mut().zip(&mut pairs) {
        let Some(name) = table.get(name_ref as usize) else {
            return Err(Unresolved::Ref(2 * count));
        };
        let Some(value) = table.get(value_ref as usize) else {
            return Err(Unresolved::Ref(2 * count + 1));
        };
        *slot = LabelRef {
            name: name.id,
            value: value.id,
        };
        count += 1;
        empty_name |= name.empty;
        has_name |= name.metric_name && !value.empty;
        if let Some(previous) = previous {
            sorted &= order.less(symbols, previous, name_ref);
        }
        previous = Some(name_ref);
        taken += name.len() + value.len();
        hash.push(name.hash, value.hash);
    }
    // Nothing read a label's bytes: the allowance is checked once.
    if taken > allowance {
        return Err(Unresolved::Expanded);
    }
    Ok(Resolved {
        labels: count,
        complete: pairs.read_all(),
        has_name,
        empty_name,
        sorted,
        hash: hash.finish(),
        taken,
    })
}
