//! Generational slots: values kept contiguously (the filter pass walks them in
//! parallel chunks), freed slots reused, and a [`Handle`] that stops resolving
//! once its slot is freed, so a view holding one across frames never shows
//! whatever took the slot since.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

/// A reference to a value in [`Slots`]: its slot and the slot's generation when
/// the value was inserted.
pub struct Handle<T> {
    index: u32,
    generation: u32,
    of: PhantomData<fn() -> T>,
}

impl<T> Handle<T> {
    fn new(index: u32, generation: u32) -> Self {
        Handle {
            index,
            generation,
            of: PhantomData,
        }
    }

    /// The slot, for tables kept beside [`Slots`] (valid while the handle resolves).
    pub fn index(self) -> u32 {
        self.index
    }
}

// Written out: derives would require `T` itself to be `Copy`, `Eq`...
impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Handle<T> {}

impl<T> PartialEq for Handle<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.index, self.generation) == (other.index, other.generation)
    }
}

impl<T> Eq for Handle<T> {}

impl<T> PartialOrd for Handle<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// By slot, then generation.
impl<T> Ord for Handle<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.index, self.generation).cmp(&(other.index, other.generation))
    }
}

impl<T> Hash for Handle<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.index, self.generation).hash(state);
    }
}

impl<T> fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}/{}", self.index, self.generation)
    }
}

/// Values addressed by [`Handle`]s, in one vector; freed slots are reused
/// before the vector grows.
#[derive(Debug)]
pub struct Slots<T> {
    /// `None` for a free slot (no larger than `T` when `T` has a niche, as a `Box`).
    values: Vec<Option<T>>,
    /// Per slot, bumped when it is freed. Kept apart so `Option<T>` needs no
    /// room beyond `T`'s own.
    generations: Vec<u32>,
    free: Vec<u32>,
    live: usize,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Slots {
            values: Vec::new(),
            generations: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }
}

impl<T> Slots<T> {
    fn handle(&self, index: u32) -> Handle<T> {
        Handle::new(index, self.generations[index as usize])
    }

    fn resolves(&self, handle: Handle<T>) -> bool {
        self.generations.get(handle.index as usize) == Some(&handle.generation)
    }

    /// Stores `value` in a free slot (or a new one).
    pub fn insert(&mut self, value: T) -> Handle<T> {
        self.live += 1;
        let index = match self.free.pop() {
            Some(index) => {
                self.values[index as usize] = Some(value);
                index
            }
            None => {
                // More than u32::MAX values would not fit in memory anyway.
                self.values.push(Some(value));
                self.generations.push(0);
                (self.values.len() - 1) as u32
            }
        };
        self.handle(index)
    }

    /// Takes the value out and frees its slot: `handle` and every copy of it
    /// stop resolving.
    pub fn remove(&mut self, handle: Handle<T>) -> Option<T> {
        if !self.resolves(handle) {
            return None;
        }
        let i = handle.index as usize;
        let value = self.values[i].take()?;
        self.generations[i] = self.generations[i].wrapping_add(1);
        self.free.push(handle.index);
        self.live -= 1;
        Some(value)
    }

    /// The value `handle` refers to, unless its slot was freed since.
    pub fn get(&self, handle: Handle<T>) -> Option<&T> {
        if !self.resolves(handle) {
            return None;
        }
        self.values[handle.index as usize].as_ref()
    }

    /// See [`Slots::get`].
    pub fn get_mut(&mut self, handle: Handle<T>) -> Option<&mut T> {
        if !self.resolves(handle) {
            return None;
        }
        self.values[handle.index as usize].as_mut()
    }

    /// Whatever slot `index` holds now, with its current handle.
    pub fn at(&self, index: u32) -> Option<(Handle<T>, &T)> {
        let value = self.values.get(index as usize)?.as_ref()?;
        Some((self.handle(index), value))
    }

    /// See [`Slots::at`].
    pub fn at_mut(&mut self, index: u32) -> Option<(Handle<T>, &mut T)> {
        let handle = Handle::new(index, *self.generations.get(index as usize)?);
        let value = self.values[index as usize].as_mut()?;
        Some((handle, value))
    }

    /// Values held, with their handles, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (Handle<T>, &T)> {
        let generations = &self.generations;
        self.values
            .iter()
            .enumerate()
            .filter_map(move |(i, value)| {
                Some((Handle::new(i as u32, generations[i]), value.as_ref()?))
            })
    }

    /// Every slot, held or free, in one slice (to split across threads).
    pub fn values_mut(&mut self) -> &mut [Option<T>] {
        &mut self.values
    }

    /// Every slot, empty or not, in slot order.
    pub fn values(&self) -> &[Option<T>] {
        &self.values
    }

    /// Values held.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no value is held.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Slots allocated, held or free: what the values' memory follows.
    pub fn capacity(&self) -> usize {
        self.values.len()
    }

    /// Room for `additional` more values without reallocating.
    pub fn reserve(&mut self, additional: usize) {
        self.values.reserve(additional);
        self.generations.reserve(additional);
    }

    /// Slots waiting for reuse.
    #[cfg(test)]
    pub fn free_slots(&self) -> usize {
        self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freed_slot_is_reused_and_old_handles_stop_resolving() {
        let mut slots = Slots::default();
        let a = slots.insert("a");
        let b = slots.insert("b");
        assert_eq!(slots.remove(a), Some("a"));
        assert_eq!(slots.remove(a), None, "removed twice");
        let c = slots.insert("c");
        assert_eq!(c.index(), a.index(), "the freed slot is reused");
        assert_ne!(c, a);
        assert_eq!(slots.get(a), None);
        assert_eq!(slots.get(c), Some(&"c"));
        assert_eq!(slots.at(a.index()), Some((c, &"c")));
        assert_eq!(slots.get(b), Some(&"b"));
        assert_eq!((slots.len(), slots.capacity()), (2, 2));
        let held: Vec<_> = slots.iter().map(|(h, v)| (h, *v)).collect();
        assert_eq!(held, [(c, "c"), (b, "b")]);
    }
}
