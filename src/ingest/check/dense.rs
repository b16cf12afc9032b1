//! A map from 64-bit hashes to small values, kept dense: the entries in one
//! vector, found through a table of 4-byte slots. A hash map of `(u64, V)`
//! holds its entries in a table at most 7/8 full that doubles when it gets
//! there, so at a million entries it has two million slots of `8 + size_of::<V>()`
//! bytes, half of them empty; here an empty slot costs 4 bytes, and the
//! entries take what they fill (the vector's spare capacity is never
//! touched, so it takes no resident memory). The price is one more memory
//! access a lookup.
//!
//! The slots are an open-addressed table (linear probing from the slot the
//! key's low bits name). A slot holds an entry's position and the key's top
//! bits, so a probe reads an entry only when those agree; and the slot a key
//! starts at is known from the key alone, so a lookup can be prefetched in
//! two steps, each without waiting for memory ([`DenseMap::prefetch_slot`],
//! then [`DenseMap::prefetch`]).

/// Bits of a slot that hold its entry's position + 1 (0: an empty slot).
const POSITION_BITS: u32 = 22;
const POSITION_MASK: u32 = (1 << POSITION_BITS) - 1;
/// The most entries a map holds: every position + 1 fits its bits.
pub const MAX_ENTRIES: usize = POSITION_MASK as usize - 1;
/// Slots of the smallest table.
const MIN_SLOTS: usize = 16;

/// A dense map from keys that are hashes already to `V`.
#[derive(Debug)]
pub struct DenseMap<V> {
    /// A power of two of slots (or none), at most 7/8 of them used.
    slots: Vec<u32>,
    entries: Vec<(u64, V)>,
}

impl<V> Default for DenseMap<V> {
    fn default() -> Self {
        DenseMap {
            slots: Vec::new(),
            entries: Vec::new(),
        }
    }
}

/// The top bits of `key`, where a slot keeps them.
#[inline(always)]
fn tag(key: u64) -> u32 {
    ((key >> (64 - (32 - POSITION_BITS))) as u32) << POSITION_BITS
}

/// The slot of the entry at `at` with `key`.
#[inline(always)]
fn slot_of(key: u64, at: usize) -> u32 {
    tag(key) | (at as u32 + 1)
}

/// The position of the entry a used slot holds.
#[inline(always)]
fn position(slot: u32) -> usize {
    (slot & POSITION_MASK) as usize - 1
}

/// Asks the processor to bring the line of `p` into cache (a hint: it reads
/// nothing the program sees and cannot fault).
#[inline(always)]
fn touch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing and cannot fault, whatever the
    // address; SSE is part of x86_64.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

impl<V> DenseMap<V> {
    /// A map with room for `entries` before its vector grows: address space
    /// only, which takes memory as entries fill it, and no copy of the entries
    /// as it grows (nor the old copies' pages left to the allocator).
    pub fn with_capacity(entries: usize) -> Self {
        DenseMap {
            slots: Vec::new(),
            entries: Vec::with_capacity(entries),
        }
    }

    /// The slot `key`'s probe starts at (the table has slots).
    #[inline(always)]
    fn home(&self, key: u64) -> usize {
        key as usize & (self.slots.len() - 1)
    }

    /// The first slot of `key`'s probe whose entry `is_it` says is the one
    /// (it is asked only of slots holding the key's top bits), if any.
    #[inline(always)]
    fn probe(&self, key: u64, mut is_it: impl FnMut(u32) -> bool) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let want = tag(key);
        let mut at = self.home(key);
        // Ends: at most 7/8 of the slots are used.
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                return None;
            }
            if slot & !POSITION_MASK == want && is_it(slot) {
                return Some(at);
            }
            at = (at + 1) & mask;
        }
    }

    /// The slot holding the entry of `key`, if there is one.
    #[inline]
    fn slot_index(&self, key: u64) -> Option<usize> {
        self.probe(key, |slot| self.entries[position(slot)].0 == key)
    }

    /// Where the entry of `key` is, if there is one.
    #[inline]
    fn position_of(&self, key: u64) -> Option<usize> {
        self.slot_index(key).map(|at| position(self.slots[at]))
    }

    /// Asks the processor to bring the slot `key`'s lookup starts at into
    /// cache: no memory read, so it never waits. Do it a while before
    /// [`DenseMap::prefetch`] of the same key.
    #[inline]
    pub fn prefetch_slot(&self, key: u64) {
        if !self.slots.is_empty() {
            touch(self.slots.as_ptr().wrapping_add(self.home(key)));
        }
    }

    /// Asks the processor to bring the entry of `key` into cache, if its
    /// slot says there is one (the slots are read now: fetched by
    /// [`DenseMap::prefetch_slot`] before, they are in cache; the entry's line
    /// comes while other work runs). The key itself is not compared: that
    /// would wait for the entry.
    #[inline]
    pub fn prefetch(&self, key: u64) {
        self.probe(key, |slot| {
            // The entry may straddle two lines: both.
            let entry = self.entries.as_ptr().wrapping_add(position(slot));
            touch(entry);
            touch(entry.cast::<u8>().wrapping_add(size_of::<(u64, V)>() - 1));
            true
        });
    }

    pub fn get(&self, key: u64) -> Option<&V> {
        self.position_of(key).map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, key: u64) -> Option<&mut V> {
        self.position_of(key).map(|i| &mut self.entries[i].1)
    }

    /// The entry of `key`, made with `make` if there is none; whether it
    /// was made. Panics past [`MAX_ENTRIES`] entries (its users keep fewer).
    #[inline]
    pub fn entry_or_insert_with(&mut self, key: u64, make: impl FnOnce() -> V) -> (&mut V, bool) {
        if let Some(at) = self.position_of(key) {
            return (&mut self.entries[at].1, false);
        }
        let at = self.entries.len();
        assert!(
            at < MAX_ENTRIES,
            "a DenseMap holds at most {MAX_ENTRIES} entries"
        );
        self.entries.push((key, make()));
        if self.entries.len() * 8 > self.slots.len() * 7 {
            // Every entry placed again, this one too.
            self.rebuild((self.slots.len() * 2).max(MIN_SLOTS));
        } else {
            place(&mut self.slots, key, at);
        }
        (&mut self.entries[at].1, true)
    }

    /// Takes the entry of `key` out, if there is one.
    pub fn remove(&mut self, key: u64) -> Option<V> {
        let hole = self.slot_index(key)?;
        let at = position(self.slots[hole]);
        self.vacate(hole);
        let last = self.entries.len() - 1;
        if at != last {
            // The last entry moves into the hole: its slot follows.
            let moved = self.entries[last].0;
            let mask = self.slots.len() - 1;
            let mut i = self.home(moved);
            while self.slots[i] != 0 {
                if position(self.slots[i]) == last {
                    self.slots[i] = slot_of(moved, at);
                    break;
                }
                i = (i + 1) & mask;
            }
        }
        Some(self.entries.swap_remove(at).1)
    }

    /// Empties the used slot `hole`, moving the slots after it in its run
    /// back where their keys' probes still find them (backward-shift
    /// deletion: no tombstones).
    fn vacate(&mut self, mut hole: usize) {
        let mask = self.slots.len() - 1;
        let mut next = hole;
        loop {
            next = (next + 1) & mask;
            let slot = self.slots[next];
            if slot == 0 {
                break;
            }
            let home = self.home(self.entries[position(slot)].0);
            // Its probe passes the hole (its home is not after the hole, up
            // to it): it may move there.
            if next.wrapping_sub(home) & mask >= next.wrapping_sub(hole) & mask {
                self.slots[hole] = slot;
                hole = next;
            }
        }
        self.slots[hole] = 0;
    }

    /// Keeps the entries for which `keep` says so.
    pub fn retain(&mut self, mut keep: impl FnMut(u64, &mut V) -> bool) {
        let before = self.entries.len();
        self.entries.retain_mut(|(key, value)| keep(*key, value));
        if self.entries.len() != before {
            self.rebuild(self.slots.len());
        }
    }

    /// Places every entry again, in `slots` empty slots.
    fn rebuild(&mut self, slots: usize) {
        if slots == self.slots.len() {
            self.slots.fill(0);
        } else {
            self.slots = vec![0; slots];
        }
        for (at, &(key, _)) in self.entries.iter().enumerate() {
            place(&mut self.slots, key, at);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Slots the lookup of `key` reads, if it is there.
    #[cfg(test)]
    fn probe_steps(&self, key: u64) -> Option<usize> {
        let at = self.slot_index(key)?;
        Some((at.wrapping_sub(self.home(key)) & (self.slots.len() - 1)) + 1)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every value, to change in place.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// Bytes its entries and slots take (resident, not the vector's spare
    /// capacity).
    pub fn heap_bytes(&self) -> usize {
        self.entries.len() * size_of::<(u64, V)>() + self.slots.len() * size_of::<u32>()
    }
}

/// Puts the entry at `at` with `key` in the first empty slot of its probe
/// (`slots` has one: a power of two of them, at most 7/8 used).
fn place(slots: &mut [u32], key: u64, at: usize) {
    let mask = slots.len() - 1;
    let mut i = key as usize & mask;
    while slots[i] != 0 {
        i = (i + 1) & mask;
    }
    slots[i] = slot_of(key, at);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_found_after_others_are_removed_and_retained() {
        let mut map: DenseMap<u64> = DenseMap::default();
        for key in 0..100u64 {
            let (v, made) =
                map.entry_or_insert_with(key.wrapping_mul(0x9e37_79b9_7f4a_7c15), || key);
            assert!(made);
            assert_eq!(*v, key);
        }
        let key = |k: u64| k.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        assert_eq!(map.entry_or_insert_with(key(7), || 0), (&mut 7, false));
        // A prefetch changes nothing, found or not.
        map.prefetch(key(7));
        map.prefetch(key(1000));
        assert_eq!(map.len(), 100);
        // Removing moves the last entry into the hole.
        assert_eq!(map.remove(key(3)), Some(3));
        assert_eq!(map.remove(key(3)), None);
        assert_eq!(map.get(key(99)), Some(&99));
        map.retain(|_, v| *v % 2 == 0);
        assert_eq!(map.len(), 50);
        for k in 0..100u64 {
            let expected = (k % 2 == 0).then_some(k);
            assert_eq!(map.get(key(k)).copied(), expected, "{k}");
        }
        *map.get_mut(key(4)).unwrap() = 40;
        assert_eq!(map.values_mut().map(|v| *v).max(), Some(98));
        assert_eq!(map.get(key(4)), Some(&40));
    }

    /// Keys crowded onto few home slots and few tags, against a std map:
    /// inserts, lookups, removals (backward shifts, moved last entries) and
    /// retains agree, through growth.
    #[test]
    fn agrees_with_a_hash_map_when_keys_crowd() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut map: DenseMap<u64> = DenseMap::default();
        let mut want = std::collections::HashMap::new();
        for round in 0..20_000u64 {
            let r = next();
            // 8 low-bit homes, 4 tags, 256 keys in all.
            let key = (r & 7) | ((r >> 8) & 7) << 62 | ((r >> 16) & 7) << 20;
            match r >> 40 & 3 {
                0 | 1 => {
                    let (v, made) = map.entry_or_insert_with(key, || round);
                    assert_eq!(made, !want.contains_key(&key));
                    assert_eq!(*v, *want.entry(key).or_insert(round));
                }
                2 => assert_eq!(map.remove(key), want.remove(&key)),
                _ if round % 1000 == 3 => {
                    map.retain(|k, _| k & 1 == 0);
                    want.retain(|k, _| k & 1 == 0);
                }
                _ => {
                    map.prefetch_slot(key);
                    map.prefetch(key);
                    assert_eq!(map.get(key), want.get(&key));
                }
            }
            assert_eq!(map.len(), want.len());
        }
        for (key, value) in &want {
            assert_eq!(map.get(*key), Some(value));
        }
        assert!(map.heap_bytes() >= map.len() * 20);
    }

    /// A sender that knew the keys of the identity hash could send label
    /// sets whose hashes all start their probe at one slot: each lookup then
    /// reads past all the others (N²/2 slots for N series, every request).
    /// Keyed per process, the same label sets under another process's keys
    /// spread like any.
    #[test]
    fn label_sets_crafted_for_known_keys_crowd_only_under_those_keys() {
        use crate::hashing::{self, Keys};
        use crate::ingest::model::{crafted_label_sets, label_set_hash_with};
        const N: usize = 256;
        let known = Keys::from_seed(0x5eed);
        // Low 10 bits 0: one home slot in any table of up to 1024 slots (2^10
        // tries a set).
        let sets = crafted_label_sets(&known, N, |h| h & 0x3ff == 0);
        let steps = |keys: &Keys| {
            let hashes: Vec<u64> = sets
                .iter()
                .map(|(set, _)| {
                    label_set_hash_with(keys, set.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())))
                })
                .collect();
            let mut map: DenseMap<()> = DenseMap::default();
            for &hash in &hashes {
                map.entry_or_insert_with(hash, || ());
            }
            assert_eq!(map.len(), N);
            let each: Vec<usize> = hashes.iter().filter_map(|&h| map.probe_steps(h)).collect();
            assert_eq!(each.len(), N);
            (
                each.iter().sum::<usize>(),
                each.iter().max().copied().unwrap_or(0),
            )
        };
        // Under the keys they were made for: one run, the i-th set i slots in.
        let (crowded, _) = steps(&known);
        assert_eq!(crowded, N * (N + 1) / 2);
        // Under another process's keys (a fixed other seed, and this process's
        // random ones): about one slot a lookup.
        for keys in [&Keys::from_seed(0x5eee), hashing::keys()] {
            let (spread, longest) = steps(keys);
            assert!(spread < 3 * N, "{spread} slots read for {N} lookups");
            assert!(longest < 32, "a lookup read {longest} slots");
        }
    }
}
