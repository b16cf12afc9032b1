//! What the stateful rules remember between requests, bounded: a map from a
//! 64-bit hash to a small value, in two generations. When the current one is
//! full the older is dropped and the current becomes the older; an entry found
//! in the older moves to the current. So at most `2 × per_generation` entries
//! are kept and the least recently used go first, for the price of one more
//! lookup on a miss.

use std::hash::Hasher;

use super::dense::DenseMap;

/// Keys are hashes already, keyed per process (`crate::hashing`), so a
/// sender cannot aim them at one bucket: used as they are.
#[derive(Default)]
pub struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed; fold anything else in all the same.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Map<V> = DenseMap<V>;

/// A bounded map from hashes to `V` (see the module).
#[derive(Debug)]
pub struct Generations<V> {
    current: Map<V>,
    older: Map<V>,
    per_generation: usize,
    /// `current` reached `per_generation`: it becomes the older generation
    /// before the next entry is taken.
    full: bool,
}

impl<V: Default> Generations<V> {
    /// A map keeping at most `2 × per_generation` entries.
    pub fn new(per_generation: usize) -> Self {
        Generations {
            current: Map::with_capacity(per_generation.max(1)),
            older: Map::default(),
            per_generation: per_generation.max(1),
            full: false,
        }
    }

    /// The entry of `key`, made (default) if there is none. One lookup when
    /// the key is in the current generation (the usual case: this runs for
    /// every series of every request).
    #[inline]
    pub fn entry(&mut self, key: u64) -> &mut V {
        if self.full {
            let next = Map::with_capacity(self.per_generation);
            self.older = std::mem::replace(&mut self.current, next);
            self.full = false;
        }
        let len = self.current.len();
        let older = &mut self.older;
        let (value, made) = self.current.entry_or_insert_with(key, || {
            if older.is_empty() {
                V::default()
            } else {
                older.remove(key).unwrap_or_default()
            }
        });
        if made {
            self.full = len + 1 >= self.per_generation;
        }
        value
    }

    /// Whether the next [`Generations::entry`] drops the older generation.
    pub fn turns_next(&self) -> bool {
        self.full
    }

    /// Every entry kept, to change in place.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.current.values_mut().chain(self.older.values_mut())
    }

    /// Brings the slot the lookup of `key` in the current generation starts
    /// at into cache ([`DenseMap::prefetch_slot`]).
    #[inline]
    pub fn prefetch_slot(&self, key: u64) {
        self.current.prefetch_slot(key);
    }

    /// Brings the entry of `key` in the current generation into cache
    /// ([`DenseMap::prefetch`]).
    #[inline]
    pub fn prefetch(&self, key: u64) {
        self.current.prefetch(key);
    }

    /// The entry of `key`, if there is one (not moved).
    pub fn get(&self, key: u64) -> Option<&V> {
        self.current.get(key).or_else(|| self.older.get(key))
    }

    /// Entries kept.
    pub fn len(&self) -> usize {
        self.current.len() + self.older.len()
    }

    /// Whether it keeps nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes its entries and indices take.
    pub fn heap_bytes(&self) -> usize {
        self.current.heap_bytes() + self.older.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_recently_used_within_its_bound() {
        let mut map: Generations<u32> = Generations::new(4);
        for key in 0..4 {
            *map.entry(key) = key as u32 + 100;
        }
        // 0 is used again: it stays when the generation turns.
        assert_eq!(*map.entry(0), 100);
        for key in 4..8 {
            *map.entry(key) = 1;
        }
        assert!(map.len() <= 8);
        assert_eq!(map.get(0), Some(&100));
        for key in 8..20 {
            map.entry(key);
        }
        assert!(map.len() <= 8);
        assert_eq!(map.get(0), None, "unused for two generations");
        assert_eq!(map.get(19), Some(&0));
    }
}
