//! String interning: every distinct label name and value is stored once and
//! referred to by a 4-byte [`Sym`].

use std::hash::BuildHasher;

use hashbrown::HashTable;

/// An interned string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Sym(pub u32);

/// Interned strings, looked up by content without storing them twice.
#[derive(Default)]
pub struct Interner {
    strings: Vec<Box<str>>,
    index: HashTable<Sym>,
    hasher: foldhash::fast::FixedState,
}

impl Interner {
    /// The id of `s`, adding it if new.
    pub fn intern(&mut self, s: &str) -> Sym {
        let hash = self.hasher.hash_one(s);
        let strings = &self.strings;
        if let Some(&sym) = self.index.find(hash, |&sym| &*strings[sym.0 as usize] == s) {
            return sym;
        }
        let sym = Sym(self.strings.len() as u32);
        self.strings.push(s.into());
        let (strings, hasher) = (&self.strings, &self.hasher);
        self.index
            .insert_unique(hash, sym, |&sym| hasher.hash_one(&*strings[sym.0 as usize]));
        sym
    }

    /// The id of `s` if it was interned.
    pub fn get(&self, s: &str) -> Option<Sym> {
        let hash = self.hasher.hash_one(s);
        self.index
            .find(hash, |&sym| &*self.strings[sym.0 as usize] == s)
            .copied()
    }

    /// The string of `sym` ("" for an id this interner never issued).
    pub fn resolve(&self, sym: Sym) -> &str {
        self.strings.get(sym.0 as usize).map_or("", |s| s)
    }

    /// Number of strings.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// Whether nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_idempotent_and_resolvable() {
        let mut i = Interner::default();
        let a = i.intern("job");
        let b = i.intern("node");
        assert_eq!(i.intern("job"), a);
        assert_ne!(a, b);
        assert_eq!(i.resolve(b), "node");
        assert_eq!(i.get("node"), Some(b));
        assert_eq!(i.get("absent"), None);
        assert_eq!(i.resolve(Sym(99)), "");
        assert_eq!(i.len(), 2);
    }
}
