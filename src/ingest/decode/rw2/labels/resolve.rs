//! The hot loop of RW 2.0: a series' label references resolved into label
//! slots, the name rules' facts gathered and the canonical form (what the
//! identity hash covers) written, a label at a time.

use super::{HEAD, NameOrder, Symbol, Symbols};
use crate::ingest::model::{LabelRef, StrAt, label_room, put_label};

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
    /// End of the labels' canonical form in the buffer.
    pub(super) end: usize,
    /// Bytes of the labels' names and values, for [`Expansion`](super::Expansion).
    pub(super) taken: usize,
}

/// Why [`resolve_pairs`] stopped.
pub(super) enum Unresolved {
    /// The canonical form needs a buffer this long.
    Room(usize),
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

/// The room [`put_short`] writes in.
const SHORT: usize = 6 + 2 * HEAD;

/// The hot loop of RW 2.0: resolves a series' label reference `pairs` into
/// `labels` (as many as there is room for), notes what the name rules ask,
/// and writes the labels' canonical form into `out`, as long as their bytes
/// stay within `allowance` (see [`Expansion`](super::Expansion)). Not inlined, so that it keeps
/// its state in registers.
#[inline(never)]
pub(super) fn resolve_pairs(
    symbols: &Symbols<'_>,
    pairs: impl Pairs,
    labels: &mut [LabelRef],
    order: &mut NameOrder,
    out: &mut [u8],
    allowance: usize,
) -> Result<Resolved, Unresolved> {
    let table = symbols.table;
    let (mut has_name, mut empty_name, mut sorted) = (false, false, true);
    let mut previous: Option<u32> = None;
    let (mut end, mut taken, mut count) = (0, 0, 0);
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
        let (n, v) = (name.len(), value.len());
        taken += n + v;
        // Short labels write at most `SHORT` bytes a pair: the allowance is
        // checked once at the end. Long ones may refer to far more.
        end = if n <= HEAD && v <= HEAD {
            let Some(room) = out
                .get_mut(end..)
                .and_then(|o| o.first_chunk_mut::<SHORT>())
            else {
                return Err(Unresolved::Room(end + SHORT));
            };
            put_short(room, name, value);
            end + 6 + n + v
        } else {
            let at = |s: &Symbol| StrAt::in_buffer(symbols.base, s.id);
            let (name, value) = (at(name), at(value));
            if taken > allowance {
                return Err(Unresolved::Expanded);
            }
            let room = end + label_room(name, value);
            if out.len() < room {
                return Err(Unresolved::Room(room));
            }
            put_label(out, end, name, value)
        };
    }
    if taken > allowance {
        return Err(Unresolved::Expanded);
    }
    Ok(Resolved {
        labels: count,
        complete: pairs.read_all(),
        has_name,
        empty_name,
        sorted,
        end,
        taken,
    })
}

/// Writes a label whose name and value take at most [`HEAD`] bytes in
/// canonical form (as [`put_label`] does) at the start of `out`, from the
/// symbols' heads: fixed-size copies, every length one varint byte.
#[inline(always)]
fn put_short(out: &mut [u8; SHORT], name: &Symbol, value: &Symbol) {
    let (n, v) = (name.len().min(HEAD), value.len().min(HEAD));
    let (head, rest) = out.split_at_mut(4);
    head.copy_from_slice(&[0x0a, (n + v + 4) as u8, 0x0a, n as u8]);
    if let Some(name_at) = rest.first_chunk_mut::<HEAD>() {
        *name_at = name.head;
    }
    if let Some(after) = rest.get_mut(n..)
        && let Some((key, value_at)) = after.split_first_chunk_mut::<2>()
        && let Some(value_at) = value_at.first_chunk_mut::<HEAD>()
    {
        *key = [0x12, v as u8];
        *value_at = value.head;
    }
}
