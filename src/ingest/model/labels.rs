//! Strings as spans of the request body, label pairs, and the identity of a
//! label set: one hash, equal for equal label sets whatever their order or
//! protocol. Every hash here is keyed with this process's keys
//! ([`crate::hashing`]): a sender cannot predict it.

use std::hash::BuildHasher;

use crate::hashing::{self, Keys, folded_multiply};

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
/// order or protocol. Each name and value is hashed alone ([`Keys::string`]), and
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
        return hash_pairs(hashing::keys(), pairs);
    }
    label_set_hash_with(hashing::keys(), pairs)
}

/// [`label_set_hash`] with `keys` rather than this process's: what a sender
/// that knew them could compute (tests play one).
pub fn label_set_hash_with<'a>(
    keys: &Keys,
    pairs: impl Iterator<Item = (&'a [u8], &'a [u8])>,
) -> u64 {
    let mut owned: Vec<(&[u8], &[u8])> = pairs.collect();
    owned.sort_unstable();
    hash_pairs(keys, owned.into_iter())
}

/// The identity hash of labels in canonical order.
#[inline(always)]
fn hash_pairs<'a>(keys: &Keys, pairs: impl Iterator<Item = (&'a [u8], &'a [u8])>) -> u64 {
    let mut hash = LabelSetHash::new();
    for (name, value) in pairs {
        hash.push(keys.string(name), keys.string(value));
    }
    hash.finish()
}

/// A label set's identity hash being made from its labels' string hashes
/// ([`Keys::string`]), a label at a time in canonical order (sorted by name,
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

/// The identity of a series of `tenant` whose label set hashes to
/// `label_hash`: equal label sets sent by two tenants are two series (as a
/// multi-tenant backend stores them). Series of requests without a tenant
/// keep their label set's hash.
pub fn tenant_series_hash(label_hash: u64, tenant: &str) -> u64 {
    hashing::state(0x7465_6e61_6e74_2f73).hash_one((label_hash, tenant))
}

/// What a hostile sender that knew `keys` would send: label sets
/// `{__name__="up", job="hostile", zz=V}` for the first `n` numbers V (in
/// decimal) whose identity hash `wanted` takes, with those hashes. Made by
/// brute force, as a sender would: about `2^k` tries a set for `k` bits.
#[cfg(test)]
pub(crate) fn crafted_label_sets(
    keys: &Keys,
    n: usize,
    wanted: impl Fn(u64) -> bool,
) -> Vec<([(&'static str, String); 3], u64)> {
    // Canonical order: "zz" sorts last, so the first two labels fold once.
    let mut prefix = LabelSetHash::new();
    for (name, value) in [("__name__", "up"), ("job", "hostile")] {
        prefix.push(keys.string(name.as_bytes()), keys.string(value.as_bytes()));
    }
    let last_name = keys.string(b"zz");
    let mut found = Vec::with_capacity(n);
    for number in 0u64.. {
        if found.len() == n {
            break;
        }
        let value = number.to_string();
        let mut hash = prefix;
        hash.push(last_name, keys.string(value.as_bytes()));
        let hash = hash.finish();
        if wanted(hash) {
            let set = [
                ("__name__", "up".to_owned()),
                ("job", "hostile".to_owned()),
                ("zz", value),
            ];
            found.push((set, hash));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn crafted_label_sets_hash_as_label_set_hash_says() {
        let keys = Keys::from_seed(3);
        let sets = crafted_label_sets(&keys, 4, |h| h & 0xf == 5);
        for (set, hash) in &sets {
            assert_eq!(hash & 0xf, 5);
            let pairs = set.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes()));
            assert_eq!(label_set_hash_with(&keys, pairs), *hash);
        }
        assert_eq!(sets.len(), 4);
    }
}
