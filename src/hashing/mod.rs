//! The per-process key of every hash that a sender's text feeds: the identity
//! of label sets (series), metric names, tenants, senders, interned strings,
//! label values. Everything a sender sends is hostile: with hashes it could
//! compute offline, it could pick label sets that all start their probe at
//! one slot of a table (each lookup then walks past all of them, and the
//! receiver and the dashboard slow to a crawl), or that collide whole (two
//! series taken for one). So each process draws its keys from the operating
//! system's randomness (std's `RandomState`) at its first hash; within a
//! process every hash is deterministic. No hash leaves the process: none is
//! shown, written to a capture, or compared with another process's (replay
//! decodes a capture's bodies again, hashing them with its own keys).

use std::hash::{BuildHasher, DefaultHasher, Hash, Hasher, RandomState};
use std::sync::OnceLock;

use foldhash::SharedSeed;
use foldhash::fast::{FoldHasher, SeedableRandomState};

/// The keys of one process (see the module).
pub struct Keys {
    /// [`Keys::string`]'s, for strings of up to 32 bytes.
    short: [u64; 4],
    /// [`Keys::string`]'s, for longer strings.
    long: [u64; 3],
    /// foldhash's, for the hashes of everything else ([`Keys::state`]).
    shared: SharedSeed,
}

static PROCESS_KEYS: OnceLock<Keys> = OnceLock::new();

/// This process's keys, drawn at the first call.
#[inline(always)]
pub fn keys() -> &'static Keys {
    PROCESS_KEYS.get_or_init(|| {
        // SipHash keyed with 128 bits of the system's randomness.
        let random = RandomState::new();
        Keys::derive(|i| random.hash_one(i))
    })
}

/// A foldhash state keyed with this process's keys, for `purpose` (a
/// constant of the caller's, so that hashes of different things differ).
#[inline]
pub fn state(purpose: u64) -> SeedableRandomState {
    keys().state(purpose)
}

/// [`state`] as a map's hasher: this process's keys, purpose 0.
#[derive(Clone)]
pub struct Keyed(SeedableRandomState);

/// Keys are never shown (not even in a debug print): a sender that saw
/// them could aim again.
impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Keyed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyed").finish_non_exhaustive()
    }
}

impl Default for Keyed {
    #[inline]
    fn default() -> Self {
        Keyed(state(0))
    }
}

impl BuildHasher for Keyed {
    type Hasher = FoldHasher<'static>;

    #[inline(always)]
    fn build_hasher(&self) -> FoldHasher<'static> {
        self.0.build_hasher()
    }
}

impl Keys {
    /// Keys made from `seed` alone: the same in every process. For tests, which
    /// play a sender that knows them.
    pub fn from_seed(seed: u64) -> Keys {
        Keys::derive(|i| {
            // std's SipHash with its fixed keys: stable within a build.
            let mut hasher = DefaultHasher::new();
            (seed, i).hash(&mut hasher);
            hasher.finish()
        })
    }

    /// Keys from `word`, a keyed pseudo-random function of its index.
    fn derive(word: impl Fn(u64) -> u64) -> Keys {
        Keys {
            short: [word(0), word(1), word(2), word(3)],
            long: [word(4), word(5), word(6)],
            shared: SharedSeed::from_u64(word(7)),
        }
    }

    /// A foldhash state with these keys, for `purpose`.
    #[inline]
    pub fn state(&'static self, purpose: u64) -> SeedableRandomState {
        SeedableRandomState::with_seed(purpose, &self.shared)
    }

    /// The hash of one name or value of a label set, as the identity of label
    /// sets folds it: foldhash's way with short strings (overlapping loads from
    /// both ends, then folded multiplies), 16 bytes a round past 32. Label
    /// names and values are short, and RW 1.0 hashes every one of them.
    #[inline(always)]
    pub fn string(&self, bytes: &[u8]) -> u64 {
        let k = &self.short;
        let len = bytes.len();
        let (a, b) = if let (Some(first), Some(last)) =
            (bytes.first_chunk::<16>(), bytes.last_chunk::<16>())
        {
            if len > 32 {
                return self.long_string(bytes);
            }
            let (a, b) = words(first);
            let (c, d) = words(last);
            (c ^ folded_multiply(a ^ k[2], b ^ k[3]), d)
        } else if let (Some(first), Some(last)) =
            (bytes.first_chunk::<8>(), bytes.last_chunk::<8>())
        {
            (u64::from_le_bytes(*first), u64::from_le_bytes(*last))
        } else if let (Some(first), Some(last)) =
            (bytes.first_chunk::<4>(), bytes.last_chunk::<4>())
        {
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
        folded_multiply(a ^ k[0].rotate_right(len as u32), b ^ k[1])
    }

    /// [`Keys::string`] of a string over 32 bytes: 16 bytes a round, the last
    /// round on the last 16 (overlapping the one before).
    #[inline(never)]
    fn long_string(&self, bytes: &[u8]) -> u64 {
        let k = &self.long;
        // The length mixed in whole before any data word meets it (see above).
        let mut hash = folded_multiply(k[2] ^ bytes.len() as u64, k[0]);
        let (chunks, _) = bytes.as_chunks::<16>();
        // The whole chunks that end before the string does; then its last 16 bytes.
        let before = (bytes.len() - 1) / 16;
        for chunk in chunks.get(..before).unwrap_or(&[]) {
            let (a, b) = words(chunk);
            hash = folded_multiply(a ^ hash, b ^ k[0]);
        }
        let (a, b) = bytes.last_chunk::<16>().map_or((0, 0), words);
        folded_multiply(a ^ hash, b ^ k[1])
    }
}

/// The two little-endian words of 16 bytes.
#[inline(always)]
fn words(bytes: &[u8; 16]) -> (u64, u64) {
    let (a, b) = bytes.split_at(8);
    let word = |w: &[u8]| w.first_chunk::<8>().map_or(0, |w| u64::from_le_bytes(*w));
    (word(a), word(b))
}

/// The 128-bit product of `a` and `b`, its halves xor-ed: foldhash's mixer.
#[inline(always)]
pub(crate) fn folded_multiply(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

#[cfg(test)]
mod tests;
