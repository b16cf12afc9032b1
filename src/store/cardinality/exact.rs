//! Live series per value of one label, counted exactly, with the value last
//! counted at hand: the series of a metric mostly repeat a label's value
//! (every label but the one or two that tell them apart), so most counts
//! are one comparison and an increment, no hashing. Entries are in a vector
//! (their places found by a hash table of places), so the place of the last
//! value stays valid until an entry is removed.

use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::store::intern::Sym;

fn hash(value: Sym) -> u64 {
    crate::hashing::state(0x0065_7861_6374).hash_one(value)
}

/// Live series per value.
#[derive(Debug, Default)]
pub struct ExactCounts {
    /// Each value with its series, in no order.
    entries: Vec<(Sym, u32)>,
    /// Places in `entries`, by value.
    places: HashTable<u32>,
    /// The place of the value last counted (may be past the end).
    last: u32,
}

impl ExactCounts {
    /// The place of `value`, if it has one.
    fn place(&self, value: Sym) -> Option<usize> {
        let last = self.last as usize;
        if self.entries.get(last).is_some_and(|e| e.0 == value) {
            return Some(last);
        }
        let entries = &self.entries;
        self.places
            .find(hash(value), |&i| entries[i as usize].0 == value)
            .map(|&i| i as usize)
    }

    /// Counts one more series with `value` if it is the value last counted
    /// (the usual case, inlined); says whether it was.
    #[inline]
    pub fn add_same(&mut self, value: Sym) -> bool {
        match self.entries.get_mut(self.last as usize) {
            Some(e) if e.0 == value => {
                e.1 += 1;
                true
            }
            _ => false,
        }
    }

    /// Counts one series fewer with `value` if it is the value last counted
    /// and other series keep it (the usual case, inlined); says whether it was.
    #[inline]
    pub fn remove_same(&mut self, value: Sym) -> bool {
        match self.entries.get_mut(self.last as usize) {
            Some(e) if e.0 == value && e.1 > 1 => {
                e.1 -= 1;
                true
            }
            _ => false,
        }
    }

    /// Counts one more series with `value`; says whether the value is new,
    /// and by how many bytes [`ExactCounts::bytes`] changed.
    pub fn add(&mut self, value: Sym) -> (bool, isize) {
        if let Some(i) = self.place(value) {
            self.entries[i].1 += 1;
            self.last = i as u32;
            return (false, 0);
        }
        let before = self.bytes();
        let i = self.entries.len() as u32;
        self.entries.push((value, 1));
        let entries = &self.entries;
        self.places
            .insert_unique(hash(value), i, |&j| hash(entries[j as usize].0));
        self.last = i;
        (true, self.bytes() as isize - before as isize)
    }

    /// Counts one series fewer with `value` (nothing if it has none); says by
    /// how many bytes [`ExactCounts::bytes`] changed.
    pub fn remove(&mut self, value: Sym) -> isize {
        let Some(i) = self.place(value) else {
            return 0;
        };
        self.last = i as u32;
        let count = &mut self.entries[i].1;
        *count -= 1;
        if *count > 0 {
            return 0;
        }
        let before = self.bytes();
        if let Ok(place) = self.places.find_entry(hash(value), |&j| j as usize == i) {
            place.remove();
        }
        self.entries.swap_remove(i);
        // The entry that was last now has the removed one's place.
        if let Some(&(moved, _)) = self.entries.get(i) {
            let from = self.entries.len() as u32;
            if let Some(place) = self.places.find_mut(hash(moved), |&j| j == from) {
                *place = i as u32;
            }
        }
        self.shrink();
        self.bytes() as isize - before as isize
    }

    /// Gives back room that grew for many values once few are left.
    fn shrink(&mut self) {
        if self.entries.capacity() > 64 && self.entries.len() < self.entries.capacity() / 4 {
            self.entries.shrink_to_fit();
            let entries = &self.entries;
            self.places.shrink_to_fit(|&j| hash(entries[j as usize].0));
        }
    }

    /// Distinct values.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Each value with its series, in no order.
    pub fn iter(&self) -> impl Iterator<Item = (Sym, u32)> + '_ {
        self.entries.iter().copied()
    }

    /// Heap bytes: the entries, and the table's places with their control
    /// bytes (an eighth of its buckets stay empty).
    pub fn bytes(&self) -> usize {
        self.entries.capacity() * size_of::<(Sym, u32)>()
            + self.places.capacity() * (size_of::<u32>() + 1) * 8 / 7
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::test_rng::Rng;

    #[test]
    fn counts_as_a_map_does_through_adds_and_removes() {
        for seed in 1..30 {
            let mut rng = Rng(seed);
            let mut counts = ExactCounts::default();
            let mut truth: HashMap<Sym, u32> = HashMap::new();
            for _ in 0..5_000 {
                // Runs of one value, as a metric's series bring them.
                let spread = if rng.below(2) == 0 { 4 } else { 300 };
                let value = Sym(rng.below(spread) as u32);
                if rng.below(3) == 0 {
                    counts.remove(value);
                    if let Some(c) = truth.get_mut(&value) {
                        *c -= 1;
                        if *c == 0 {
                            truth.remove(&value);
                        }
                    }
                } else {
                    let (new, _) = counts.add(value);
                    let c = truth.entry(value).or_insert(0);
                    assert_eq!(new, *c == 0);
                    *c += 1;
                }
                assert_eq!(counts.len(), truth.len());
            }
            let mut got: Vec<(Sym, u32)> = counts.iter().collect();
            got.sort();
            let mut want: Vec<(Sym, u32)> = truth.into_iter().collect();
            want.sort();
            assert_eq!(got, want, "seed {seed}");
            for (v, _) in want {
                while counts.place(v).is_some() {
                    counts.remove(v);
                }
            }
            assert_eq!(counts.len(), 0);
            // Shrunk after holding up to 300 values.
            assert!(counts.bytes() < 64 * 16, "{}", counts.bytes());
        }
    }
}
