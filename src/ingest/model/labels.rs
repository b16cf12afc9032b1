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

/// The identity hash of a label set: equal for equal label sets whatever their
/// order or protocol. Each name and value is hashed alone ([`string_hash`]), and
/// the pairs are folded in canonical order (sorted by name, then value) by
/// [`LabelSetHash`]. So a decoder hashes each string of a request once where
/// strings repeat (RW 2.0's symbols), and needs no canonical copy of the set.
pub fn label_set_hash<'a, I>(pairs: I) -> u64
where
    I: Iterator<Item = (&'a [u8], &'a [u8])> + Clone,
{
    let mut previous: Option<&[u8]> = None;
    let sorted = pairs
        .clone()
        .all(|(name, _)| previous.replace(name).is_none_or(|p| p < name));
    label_set_hash_in_order(pairs, sorted)
}

/// [`label_set_hash`] for a caller that already knows whether the names are
/// strictly ascending.
pub fn label_set_hash_in_order<'a, I>(pairs: I, sorted: bool) -> u64
where
    I: Iterator<Item = (&'a [u8], &'a [u8])>,
{
    if sorted {
        return hash_pairs(pairs);
    }
    let mut owned: Vec<(&[u8], &[u8])> = pairs.collect();
    owned.sort_unstable();
    hash_pairs(owned.into_iter())
}

/// The identity hash of labels in canonical order.
#[inline(always)]
fn hash_pairs<'a>(pairs: impl Iterator<Item = (&'a [u8], &'a [u8])>) -> u64 {
    let mut hash = LabelSetHash::new();
    for (name, value) in pairs {
        hash.push(string_hash(name), string_hash(value));
    }
    hash.finish()
}

/// The hash of one name or value of a label set, as [`LabelSetHash`] takes it:
/// foldhash's way with short strings (overlapping loads from both ends, then
/// folded multiplies), 16 bytes a round past 32. Label names and values are
/// short, and RW 1.0 hashes every one of them.
#[inline(always)]
pub fn string_hash(bytes: &[u8]) -> u64 {
    const K: [u64; 4] = [
        0x4528_21e6_38d0_1377,
        0xbe54_66cf_34e9_0c6c,
        0xc0ac_29b7_c97c_50dd,
        0x3f84_d5b5_b547_0917,
    ];
    let len = bytes.len();
    let (a, b) = if let (Some(first), Some(last)) =
        (bytes.first_chunk::<16>(), bytes.last_chunk::<16>())
    {
        if len > 32 {
            return long_string_hash(bytes);
        }
        let (a, b) = words(first);
        let (c, d) = words(last);
        (c ^ folded_multiply(a ^ K[2], b ^ K[3]), d)
    } else if let (Some(first), Some(last)) = (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
        (u64::from_le_bytes(*first), u64::from_le_bytes(*last))
    } else if let (Some(first), Some(last)) = (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
        let word = |w: &[u8; 4]| u64::from(u32::from_le_bytes(*w));
        (word(first), word(last))
    } else {
        let at = |i: usize| u64::from(bytes.get(i).copied().unwrap_or(0));
        match len {
            0 => (0, 0),
            _ => (at(0) | at(len / 2) << 8 | at(len - 1) << 16, 0),
        }
    };
    // The length turns the key the first word meets (as foldhash does): xor-ed
    // into a data word, "1000" (last word "1000", length 4) and "10000" ("0000",
    // length 5) hashed the same.
    folded_multiply(a ^ K[0].rotate_right(len as u32), b ^ K[1])
}

/// The two little-endian words of 16 bytes.
#[inline(always)]
fn words(bytes: &[u8; 16]) -> (u64, u64) {
    let (a, b) = bytes.split_at(8);
    let word = |w: &[u8]| w.first_chunk::<8>().map_or(0, |w| u64::from_le_bytes(*w));
    (word(a), word(b))
}

/// [`string_hash`] of a string over 32 bytes: 16 bytes a round, the last
/// round on the last 16 (overlapping the one before).
#[inline(never)]
fn long_string_hash(bytes: &[u8]) -> u64 {
    const K: [u64; 3] = [
        0x1319_8a2e_0370_7344,
        0x082e_fa98_ec4e_6c89,
        0x3857_37f6_1d24_a1c1,
    ];
    // The length mixed in whole before any data word meets it (see above).
    let mut hash = folded_multiply(K[2] ^ bytes.len() as u64, K[0]);
    let (chunks, _) = bytes.as_chunks::<16>();
    // The whole chunks that end before the string does; then its last 16 bytes.
    let before = (bytes.len() - 1) / 16;
    for chunk in chunks.get(..before).unwrap_or(&[]) {
        let (a, b) = words(chunk);
        hash = folded_multiply(a ^ hash, b ^ K[0]);
    }
    let (a, b) = bytes.last_chunk::<16>().map_or((0, 0), words);
    folded_multiply(a ^ hash, b ^ K[1])
}

/// A label set's identity hash being made from its labels' string hashes
/// ([`string_hash`]), a label at a time in canonical order (sorted by name,
/// then value): what [`label_set_hash`] computes.
#[derive(Debug, Clone, Copy)]
pub struct LabelSetHash(u64);

impl Default for LabelSetHash {
    fn default() -> Self {
        LabelSetHash::new()
    }
}

impl LabelSetHash {
    /// Constants of the fold (digits of pi, as foldhash's).
    const START: u64 = 0x243f_6a88_85a3_08d3;
    const PAIR: u64 = 0x1319_8a2e_0370_7344;
    const FINISH: u64 = 0xa409_3822_299f_31d0;

    /// No label yet.
    pub const fn new() -> Self {
        LabelSetHash(Self::START)
    }

    /// Adds the label whose name and value hash to `name` and `value`.
    #[inline(always)]
    pub fn push(&mut self, name: u64, value: u64) {
        self.0 = folded_multiply(self.0 ^ name, value ^ Self::PAIR);
    }

    /// The hash of the labels pushed.
    #[inline(always)]
    pub fn finish(self) -> u64 {
        folded_multiply(self.0, Self::FINISH)
    }
}

/// The 128-bit product of `a` and `b`, its halves xor-ed: foldhash's mixer.
#[inline(always)]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

/// The identity of a series of `tenant` whose label set hashes to
/// `label_hash`: equal label sets sent by two tenants are two series (as a
/// multi-tenant backend stores them). Series of requests without a tenant
/// keep their label set's hash.
pub fn tenant_series_hash(label_hash: u64, tenant: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x7465_6e61_6e74_2f73).hash_one((label_hash, tenant))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_and_the_length_of_a_string_count() {
        let base: Vec<u8> = (0..80u8).map(|i| i.wrapping_mul(37) ^ 0x55).collect();
        let mut seen = std::collections::HashSet::new();
        for len in 0..=base.len() {
            let text = &base[..len];
            assert!(seen.insert(string_hash(text)), "length {len}");
            for at in 0..len {
                let mut changed = text.to_vec();
                changed[at] ^= 1;
                assert_ne!(string_hash(&changed), string_hash(text), "{len} {at}");
            }
        }
        // Shorter strings are not their zero-padded longer ones.
        assert_ne!(string_hash(b"ab"), string_hash(b"ab\0"));
        assert_ne!(string_hash(&[0; 17]), string_hash(&[0; 18]));
    }

    #[test]
    fn strings_that_differ_in_length_and_last_byte_hash_apart() {
        // Seen on Prometheus 2.42's traffic: le="1000" and le="10000" hashed the
        // same while the length was xor-ed into the last word ('1' ^ 4 == '0' ^ 5).
        assert_ne!(string_hash(b"1000"), string_hash(b"10000"));
        // Every decimal number up to 10^6 and its neighbours in length, in
        // text forms senders use (le buckets, ports, ids, zero-padded): all apart.
        let mut seen = std::collections::HashMap::new();
        for n in 0..1_000_000u64 {
            for text in [
                n.to_string(),
                format!("{n}0"),
                format!("{n:08}"),
                format!("{n}.0"),
            ] {
                if let Some(other) = seen.insert(string_hash(text.as_bytes()), text.clone()) {
                    assert_eq!(other, text, "collision");
                }
            }
        }
    }

    #[test]
    fn a_label_set_hashes_the_same_in_any_order_and_apart_from_its_neighbours() {
        let set = |pairs: &[(&str, &str)]| {
            label_set_hash(pairs.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())))
        };
        let sorted = set(&[("__name__", "up"), ("instance", "a:9100"), ("job", "node")]);
        assert_eq!(
            sorted,
            set(&[("job", "node"), ("__name__", "up"), ("instance", "a:9100")])
        );
        let others = [
            set(&[("__name__", "up"), ("instance", "a:9100")]),
            set(&[("__name__", "up"), ("instance", "a:910"), ("job", "0node")]),
            set(&[("__name__", "up"), ("instancea", ":9100"), ("job", "node")]),
            set(&[("__name__", "up"), ("instance", "node"), ("job", "a:9100")]),
            set(&[]),
        ];
        for (i, other) in others.iter().enumerate() {
            assert_ne!(sorted, *other, "{i}");
        }
        // Repeated names (RW 1.0 keeps them) sort by value too.
        assert_eq!(
            set(&[("a", "2"), ("a", "1")]),
            set(&[("a", "1"), ("a", "2")])
        );
    }
}
