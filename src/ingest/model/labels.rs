//! Strings as spans of the request body, label pairs, and the identity of a
//! label set: one hash, equal for equal label sets whatever their order or
//! protocol.

/// A string of a [`WriteData`](super::WriteData): a span of its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StrId {
    start: u32,
    len: u32,
}

impl StrId {
    /// The span `start..start + len` of the buffer.
    pub(crate) const fn new(start: usize, len: usize) -> Self {
        StrId {
            start: start as u32,
            len: len as u32,
        }
    }

    /// The span as a range of the buffer.
    pub(crate) fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}

/// A label as two string ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelRef {
    /// Label name.
    pub name: StrId,
    /// Label value.
    pub value: StrId,
}

/// Hash of a label set written in its canonical form: sorted by name, each label
/// encoded as RW1 does (`0a len 0a len name 12 len value`, minimal varints). A
/// sender's RW1 bytes are often exactly that form, and can then be hashed in
/// place ([`canonical_bytes_hash`]) without re-encoding.
pub fn label_set_hash<'a, I>(pairs: I, scratch: &mut Vec<u8>) -> u64
where
    I: Iterator<Item = (&'a [u8], &'a [u8])> + Clone,
{
    let mut previous: Option<&[u8]> = None;
    let sorted = pairs
        .clone()
        .all(|(name, _)| previous.replace(name).is_none_or(|p| p < name));
    label_set_hash_in_order(pairs, sorted, scratch)
}

/// [`label_set_hash`] for a caller that already knows whether the names are
/// strictly ascending.
pub fn label_set_hash_in_order<'a, I>(pairs: I, sorted: bool, scratch: &mut Vec<u8>) -> u64
where
    I: Iterator<Item = (&'a [u8], &'a [u8])>,
{
    scratch.clear();
    if sorted {
        pairs.for_each(|(name, value)| encode_label(scratch, name, value));
    } else {
        let mut owned: Vec<(&[u8], &[u8])> = pairs.collect();
        owned.sort_unstable();
        owned
            .into_iter()
            .for_each(|(name, value)| encode_label(scratch, name, value));
    }
    canonical_bytes_hash(scratch)
}

/// Appends one label in the canonical form: `0a len 0a len name 12 len value`.
fn encode_label(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    let short = name.len() + value.len() + 4;
    if short < 0x80 {
        // The usual case: every length fits one varint byte.
        out.extend_from_slice(&[0x0a, short as u8, 0x0a, name.len() as u8]);
        out.extend_from_slice(name);
        out.extend_from_slice(&[0x12, value.len() as u8]);
        out.extend_from_slice(value);
        return;
    }
    let put_varint = |out: &mut Vec<u8>, mut v: usize| {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    };
    let varint_len = |v: usize| (usize::BITS - (v | 1).leading_zeros()).div_ceil(7) as usize;
    let message =
        1 + varint_len(name.len()) + name.len() + 1 + varint_len(value.len()) + value.len();
    out.push(0x0a);
    put_varint(out, message);
    out.push(0x0a);
    put_varint(out, name.len());
    out.extend_from_slice(name);
    out.push(0x12);
    put_varint(out, value.len());
    out.extend_from_slice(value);
}

/// Hash of label bytes already in canonical form (see [`label_set_hash`]).
pub fn canonical_bytes_hash(bytes: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x7072_6f6d_7363_6f70).hash_one(bytes)
}
