//! The series table's buckets against label sets crafted for known keys.

use hashbrown::HashTable;

use super::{short_hash, table_hash};
use crate::hashing::{self, Keys};
use crate::ingest::model::{crafted_label_sets, label_set_hash_with};

/// A sender that knew the keys of the identity hash could send label sets
/// whose table hashes share the bits the series table reads first (the bucket
/// from the low bits, the tag from the top 7): each lookup then compares the
/// label sets of all the others, a memory access each. Keyed per process,
/// the same label sets under another process's keys spread like any.
#[test]
fn label_sets_crafted_for_known_keys_share_a_bucket_only_under_those_keys() {
    const N: usize = 48;
    let known = Keys::from_seed(0x5eed);
    let table_bits = |label_hash: u64| {
        let hash = table_hash(short_hash(label_hash));
        (hash & 0xff, hash >> 57)
    };
    // 15 bits: 2^15 tries a set.
    let sets = crafted_label_sets(&known, N, |h| table_bits(h) == (0, 0));
    // Label comparisons of a lookup then an insert of each set, as
    // `SeriesIndex` does with a new series.
    let comparisons = |keys: &Keys| {
        let mut table: HashTable<u64> = HashTable::new();
        let mut compared = 0;
        for (set, _) in &sets {
            let pairs = set.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes()));
            let label_hash = label_set_hash_with(keys, pairs);
            let hash = table_hash(short_hash(label_hash));
            let found = table.find(hash, |&other| {
                compared += 1;
                other == label_hash
            });
            assert!(found.is_none());
            table.insert_unique(hash, label_hash, |&h| table_hash(short_hash(h)));
        }
        compared
    };
    // Under the keys they were made for: every set compared with every one before it.
    assert_eq!(comparisons(&known), N * (N - 1) / 2);
    for keys in [&Keys::from_seed(0x5eee), hashing::keys()] {
        let spread = comparisons(keys);
        assert!(spread < N / 2, "{spread} comparisons for {N} lookups");
    }
}
