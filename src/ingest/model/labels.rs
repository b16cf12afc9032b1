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

    /// Where the span starts in the buffer.
    pub(crate) fn start(self) -> u32 {
        self.start
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
    let pairs = pairs.map(|(name, value)| (StrAt::whole(name), StrAt::whole(value)));
    label_set_hash_in_order(pairs, sorted, scratch)
}

/// [`label_set_hash`] for a caller that already knows whether the names are
/// strictly ascending.
pub fn label_set_hash_in_order<'a, I>(pairs: I, sorted: bool, scratch: &mut Vec<u8>) -> u64
where
    I: Iterator<Item = (StrAt<'a>, StrAt<'a>)>,
{
    let mut form = CanonicalLabels::new(scratch);
    if sorted {
        form.extend(pairs);
    } else {
        let mut owned: Vec<(StrAt<'_>, StrAt<'_>)> = pairs.collect();
        owned.sort_unstable_by_key(|(name, value)| (name.bytes(), value.bytes()));
        form.extend(owned.into_iter());
    }
    form.hash()
}

/// A string given by where it starts in the buffer that holds it: its bytes
/// are the first `len` of `from`, and the rest of the buffer that follows lets
/// it be copied [`CanonicalLabels::COPY`] bytes at a time.
#[derive(Debug, Clone, Copy)]
pub struct StrAt<'a> {
    from: &'a [u8],
    len: usize,
}

impl<'a> StrAt<'a> {
    /// A string with nothing known after it.
    pub fn whole(s: &'a [u8]) -> Self {
        StrAt {
            from: s,
            len: s.len(),
        }
    }

    /// String `id` of `buf` (empty if `id` is not a span of it).
    #[inline(always)]
    pub fn in_buffer(buf: &'a [u8], id: StrId) -> Self {
        let from = buf.get(id.start as usize..).unwrap_or(&[]);
        StrAt {
            from,
            len: (id.len as usize).min(from.len()),
        }
    }

    /// The string's bytes.
    #[inline(always)]
    pub fn bytes(self) -> &'a [u8] {
        self.from.get(..self.len).unwrap_or(&[])
    }

    /// The string's length.
    pub fn len(self) -> usize {
        self.len
    }

    /// Whether the string is empty.
    pub fn is_empty(self) -> bool {
        self.len == 0
    }
}

/// A label set being written, label by label, in the canonical form that
/// [`label_set_hash`] hashes, into a buffer reused from set to set. Strings
/// are copied a fixed [`CanonicalLabels::COPY`] bytes at a time where their
/// buffer goes on past them (a decoder's body): a move or two instead of a
/// `memcpy` call per string, which made up most of RW 2.0's re-encoding.
pub struct CanonicalLabels<'b> {
    /// Longer than what was written, by room for a copy's overshoot.
    buf: &'b mut Vec<u8>,
    /// End of the canonical form in `buf`.
    end: usize,
}

impl<'b> CanonicalLabels<'b> {
    /// Bytes moved at a time; a copy may write this many past a string's end
    /// (the next string overwrites them).
    pub const COPY: usize = 32;

    /// An empty label set, written into `buf`.
    pub fn new(buf: &'b mut Vec<u8>) -> Self {
        CanonicalLabels { buf, end: 0 }
    }

    /// Appends labels, in the order given.
    #[inline(always)]
    pub fn extend<'s>(&mut self, labels: impl Iterator<Item = (StrAt<'s>, StrAt<'s>)>) {
        // The end and the buffer's slice in locals: the bytes written cannot
        // then be taken to alias them.
        let mut end = self.end;
        let mut out = self.buf.as_mut_slice();
        for (name, value) in labels {
            let room = end + label_room(name, value);
            if out.len() < room {
                grow(self.buf, room);
                out = self.buf.as_mut_slice();
            }
            end = put_label(out, end, name, value);
        }
        self.end = end;
    }

    /// The hash of the label set written so far, as [`label_set_hash`]'s.
    pub fn hash(&self) -> u64 {
        canonical_bytes_hash(self.buf.get(..self.end).unwrap_or(&[]))
    }
}

#[cold]
fn grow(buf: &mut Vec<u8>, room: usize) {
    buf.resize(room.max(2 * buf.len()), 0);
}

/// The room [`put_label`] needs: three varints of at most ten bytes, three
/// keys, the strings, and a copy's overshoot.
#[inline(always)]
pub fn label_room(name: StrAt<'_>, value: StrAt<'_>) -> usize {
    name.len + value.len + 33 + CanonicalLabels::COPY
}

/// Writes a label in canonical form at `at` of `out`, which has
/// [`label_room`] for it: `0a len 0a len name 12 len value`. Returns where it
/// ends. For a caller that keeps its own buffer in a hot loop; others use
/// [`CanonicalLabels`].
#[inline(always)]
pub fn put_label(out: &mut [u8], mut at: usize, name: StrAt<'_>, value: StrAt<'_>) -> usize {
    let (n, v) = (name.len, value.len);
    let short = n + v + 4;
    if short < 0x80 {
        // The usual case: every length fits one varint byte.
        if let Some(head) = out.get_mut(at..at + 4) {
            head.copy_from_slice(&[0x0a, short as u8, 0x0a, n as u8]);
        }
        at = copy_str(out, at + 4, name);
        if let Some(head) = out.get_mut(at..at + 2) {
            head.copy_from_slice(&[0x12, v as u8]);
        }
        return copy_str(out, at + 2, value);
    }
    let message = 1 + varint_len(n) + n + 1 + varint_len(v) + v;
    at = put_byte(out, at, 0x0a);
    at = put_varint(out, at, message);
    at = put_byte(out, at, 0x0a);
    at = put_varint(out, at, n);
    at = copy_str(out, at, name);
    at = put_byte(out, at, 0x12);
    at = put_varint(out, at, v);
    copy_str(out, at, value)
}

/// Writes `s` at `at` of `out` and returns where it ends; `out` has room for
/// it and [`CanonicalLabels::COPY`] bytes more.
#[inline(always)]
fn copy_str(out: &mut [u8], at: usize, s: StrAt<'_>) -> usize {
    const COPY: usize = CanonicalLabels::COPY;
    let end = at + s.len;
    let (mut to, mut from) = (at, s.from);
    while let Some(dst) = out.get_mut(to..to + COPY) {
        let Some((chunk, rest)) = from.split_first_chunk::<COPY>() else {
            // The buffer ends within a chunk: copy what is left exactly.
            if let (Some(dst), Some(src)) = (out.get_mut(to..end), from.get(..end - to)) {
                dst.copy_from_slice(src);
            }
            break;
        };
        dst.copy_from_slice(chunk);
        to += COPY;
        if to >= end {
            break;
        }
        from = rest;
    }
    end
}

fn put_byte(out: &mut [u8], at: usize, byte: u8) -> usize {
    if let Some(slot) = out.get_mut(at) {
        *slot = byte;
    }
    at + 1
}

fn put_varint(out: &mut [u8], mut at: usize, mut v: usize) -> usize {
    while v >= 0x80 {
        at = put_byte(out, at, (v as u8) | 0x80);
        v >>= 7;
    }
    put_byte(out, at, v as u8)
}

fn varint_len(v: usize) -> usize {
    (usize::BITS - (v | 1).leading_zeros()).div_ceil(7) as usize
}

/// Hash of label bytes already in canonical form (see [`label_set_hash`]).
pub fn canonical_bytes_hash(bytes: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x7072_6f6d_7363_6f70).hash_one(bytes)
}

/// The identity of a series of `tenant` whose label set hashes to
/// `label_hash`: equal label sets sent by two tenants are two series (as a
/// multi-tenant backend stores them). Series of requests without a tenant
/// keep their label set's hash.
pub fn tenant_series_hash(label_hash: u64, tenant: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x7465_6e61_6e74_2f73).hash_one((label_hash, tenant))
}
