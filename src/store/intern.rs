//! String interning: every distinct label name and value is stored once and
//! referred to by a 4-byte [`Sym`]. Strings are reference-counted, so those no
//! live series uses any more are freed and their ids reused: memory follows
//! what the store holds, not everything it ever saw.

use std::hash::BuildHasher;

use hashbrown::HashTable;

/// An interned string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Sym(pub u32);

/// Interned strings, looked up by content without storing them twice.
#[derive(Default)]
pub struct Interner {
    strings: Vec<Box<str>>,
    /// References held per id; 0 for a freed id.
    refs: Vec<u32>,
    /// Freed ids, reused before new ones.
    free: Vec<Sym>,
    index: HashTable<Sym>,
    /// Keyed: a sender picks the strings (see [`crate::hashing`]).
    hasher: crate::hashing::Keyed,
    /// Bytes of the live strings' text.
    text_bytes: usize,
}

/// What each live string costs beside its text: its box, reference count and
/// index entry.
pub const STRING_OVERHEAD: usize = size_of::<Box<str>>() + size_of::<u32>() + size_of::<Sym>() + 1;

impl Interner {
    /// The id of `s`, adding it if new; the caller holds one more reference.
    pub fn acquire(&mut self, s: &str) -> Sym {
        let hash = self.hasher.hash_one(s);
        let strings = &self.strings;
        if let Some(&sym) = self.index.find(hash, |&sym| &*strings[sym.0 as usize] == s) {
            self.retain(sym);
            return sym;
        }
        self.text_bytes += s.len();
        let sym = match self.free.pop() {
            Some(sym) => {
                self.strings[sym.0 as usize] = s.into();
                self.refs[sym.0 as usize] = 1;
                sym
            }
            None => {
                self.strings.push(s.into());
                self.refs.push(1);
                Sym((self.strings.len() - 1) as u32)
            }
        };
        let (strings, hasher) = (&self.strings, &self.hasher);
        self.index
            .insert_unique(hash, sym, |&sym| hasher.hash_one(&*strings[sym.0 as usize]));
        sym
    }

    /// One more reference to a live `sym`.
    pub fn retain(&mut self, sym: Sym) {
        if let Some(r) = self.refs.get_mut(sym.0 as usize) {
            debug_assert!(*r > 0, "retain of freed {sym:?}");
            // Saturating keeps the string forever instead of freeing it early.
            *r = r.saturating_add(1);
        }
    }

    /// Drops one reference; at zero the string is freed and `sym` may be reused.
    pub fn release(&mut self, sym: Sym) {
        let Some(r) = self.refs.get_mut(sym.0 as usize) else {
            return;
        };
        debug_assert!(*r > 0, "release of freed {sym:?}");
        if *r == u32::MAX || *r == 0 {
            return;
        }
        *r -= 1;
        if *r > 0 {
            return;
        }
        let text = std::mem::take(&mut self.strings[sym.0 as usize]);
        self.text_bytes -= text.len();
        let hash = self.hasher.hash_one(&*text);
        if let Ok(entry) = self.index.find_entry(hash, |&s| s == sym) {
            entry.remove();
        }
        self.free.push(sym);
    }

    /// Interns a label set; the caller holds one reference per name and value.
    pub fn acquire_labels<'a>(
        &mut self,
        pairs: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> Box<[(Sym, Sym)]> {
        pairs
            .map(|(k, v)| (self.acquire(k), self.acquire(v)))
            .collect()
    }

    /// Gives back the references a label set holds.
    pub fn release_labels(&mut self, labels: &[(Sym, Sym)]) {
        for &(n, v) in labels {
            self.release(n);
            self.release(v);
        }
    }

    /// The id of `s` if it is interned.
    pub fn get(&self, s: &str) -> Option<Sym> {
        let hash = self.hasher.hash_one(s);
        self.index
            .find(hash, |&sym| &*self.strings[sym.0 as usize] == s)
            .copied()
    }

    /// The string of `sym` ("" for a freed id or one this interner never issued).
    pub fn resolve(&self, sym: Sym) -> &str {
        self.strings.get(sym.0 as usize).map_or("", |s| s)
    }

    /// Room for `total` live strings without growing.
    pub fn reserve_for(&mut self, total: usize) {
        let additional = total.saturating_sub(self.len());
        self.strings.reserve(additional);
        self.refs.reserve(additional);
        let (strings, hasher) = (&self.strings, &self.hasher);
        self.index.reserve(additional, |&sym| {
            hasher.hash_one(&*strings[sym.0 as usize])
        });
    }

    /// Number of live strings.
    pub fn len(&self) -> usize {
        self.strings.len() - self.free.len()
    }

    /// Bytes the live strings hold: their text and [`STRING_OVERHEAD`] each.
    pub fn bytes(&self) -> usize {
        self.text_bytes + self.len() * STRING_OVERHEAD
    }

    /// Whether no string is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_idempotent_and_resolvable() {
        let mut i = Interner::default();
        let a = i.acquire("job");
        let b = i.acquire("node");
        assert_eq!(i.acquire("job"), a);
        assert_ne!(a, b);
        assert_eq!(i.resolve(b), "node");
        assert_eq!(i.get("node"), Some(b));
        assert_eq!(i.get("absent"), None);
        assert_eq!(i.resolve(Sym(99)), "");
        assert_eq!(i.len(), 2);
    }

    #[test]
    fn strings_are_freed_at_the_last_release_and_ids_reused() {
        let mut i = Interner::default();
        let job = i.acquire("job");
        let node = i.acquire("node");
        i.retain(node);
        i.release(node);
        assert_eq!(i.get("node"), Some(node), "one reference is left");
        i.release(node);
        assert_eq!((i.get("node"), i.resolve(node), i.len()), (None, "", 1));
        let api = i.acquire("api");
        assert_eq!(api, node, "the freed id is reused");
        assert_eq!((i.resolve(api), i.get("api")), ("api", Some(api)));
        assert_eq!((i.resolve(job), i.get("job")), ("job", Some(job)));
        assert_eq!(i.strings.len(), 2, "no new slot was needed");
    }

    #[test]
    fn churn_keeps_the_interner_at_its_live_size() {
        let mut i = Interner::default();
        let keep = i.acquire("kept");
        for n in 0..100_000 {
            let s = i.acquire(&format!("value-{n}"));
            i.release(s);
        }
        assert_eq!(i.len(), 1);
        assert!(i.strings.len() <= 2, "{} slots", i.strings.len());
        assert!(i.index.capacity() < 64, "{} buckets", i.index.capacity());
        assert_eq!(i.get("kept"), Some(keep));
        assert_eq!(i.get("value-99999"), None);
    }
}
