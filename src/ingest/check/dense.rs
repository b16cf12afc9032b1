//! A map from 64-bit hashes to small values, kept dense: the entries in one
//! vector, found through a table of 4-byte indices. A hash map of `(u64, V)`
//! holds its entries in a table at most 7/8 full that doubles when it gets
//! there, so at a million entries it has two million slots of `8 + size_of::<V>()`
//! bytes, half of them empty; here an empty slot costs 5 bytes, and the
//! entries take what they fill (the vector's spare capacity is never
//! touched, so it takes no resident memory). The price is one more memory
//! access a lookup.

use hashbrown::HashTable;

/// A dense map from keys that are hashes already to `V`.
#[derive(Debug)]
pub struct DenseMap<V> {
    /// Indices into `entries`, placed by their entries' keys.
    index: HashTable<u32>,
    entries: Vec<(u64, V)>,
}

impl<V> Default for DenseMap<V> {
    fn default() -> Self {
        DenseMap {
            index: HashTable::new(),
            entries: Vec::new(),
        }
    }
}

impl<V> DenseMap<V> {
    /// A map with room for `entries` before its vector grows: address space
    /// only, which takes memory as entries fill it, and no copy of the entries
    /// as it grows (nor the old copies' pages left to the allocator).
    pub fn with_capacity(entries: usize) -> Self {
        DenseMap {
            index: HashTable::new(),
            entries: Vec::with_capacity(entries),
        }
    }

    /// Where the entry of `key` is, if there is one.
    #[inline]
    fn position(&self, key: u64) -> Option<usize> {
        let entries = &self.entries;
        self.index
            .find(key, |&i| entries[i as usize].0 == key)
            .map(|&i| i as usize)
    }

    /// Asks the processor to bring the entry of `key` into cache, if there is
    /// one: the lookup's own misses (the index) are taken now, the entry's
    /// line comes while other work runs.
    #[inline]
    pub fn prefetch(&self, key: u64) {
        if let Some(i) = self.position(key) {
            let entry: *const (u64, V) = &self.entries[i];
            #[cfg(target_arch = "x86_64")]
            // SAFETY: a prefetch reads nothing the program sees and cannot
            // fault; SSE is part of x86_64.
            unsafe {
                use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
                _mm_prefetch::<_MM_HINT_T0>(entry.cast());
            }
            #[cfg(not(target_arch = "x86_64"))]
            let _ = entry;
        }
    }

    pub fn get(&self, key: u64) -> Option<&V> {
        self.position(key).map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, key: u64) -> Option<&mut V> {
        self.position(key).map(|i| &mut self.entries[i].1)
    }

    /// The entry of `key`, made with `make` if there is none; whether it
    /// was made.
    #[inline]
    pub fn entry_or_insert_with(&mut self, key: u64, make: impl FnOnce() -> V) -> (&mut V, bool) {
        let entries = &self.entries;
        let found = self.index.find(key, |&i| entries[i as usize].0 == key);
        let (at, made) = match found {
            Some(&i) => (i as usize, false),
            None => {
                let at = self.entries.len();
                self.entries.push((key, make()));
                let entries = &self.entries;
                self.index
                    .insert_unique(key, at as u32, |&i| entries[i as usize].0);
                (at, true)
            }
        };
        (&mut self.entries[at].1, made)
    }

    /// Takes the entry of `key` out, if there is one.
    pub fn remove(&mut self, key: u64) -> Option<V> {
        let entries = &self.entries;
        let found = self
            .index
            .find_entry(key, |&i| entries[i as usize].0 == key)
            .ok()?;
        let (at, _) = found.remove();
        let at = at as usize;
        let last = self.entries.len() - 1;
        if at != last {
            // The last entry moves into the hole: its index follows.
            let moved = self.entries[last].0;
            if let Some(i) = self.index.find_mut(moved, |&i| i as usize == last) {
                *i = at as u32;
            }
        }
        Some(self.entries.swap_remove(at).1)
    }

    /// Keeps the entries for which `keep` says so.
    pub fn retain(&mut self, mut keep: impl FnMut(u64, &mut V) -> bool) {
        let before = self.entries.len();
        self.entries.retain_mut(|(key, value)| keep(*key, value));
        if self.entries.len() != before {
            self.reindex();
        }
    }

    /// Builds the index again after entries moved.
    fn reindex(&mut self) {
        self.index.clear();
        let entries = &self.entries;
        for (at, &(key, _)) in entries.iter().enumerate() {
            self.index
                .insert_unique(key, at as u32, |&i| entries[i as usize].0);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every value, to change in place.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// Bytes its entries and index take (resident, not the vector's spare
    /// capacity).
    pub fn heap_bytes(&self) -> usize {
        self.entries.len() * size_of::<(u64, V)>() + self.index.capacity() * (size_of::<u32>() + 1)
    }
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
}
