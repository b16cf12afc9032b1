//! The buffers decompressed bodies are decoded in, kept once their request's
//! data is dropped and handed to the next body. A new buffer for each body
//! costed a replay about a fifth of its time: the allocator zeroing it
//! (`vec![0; n]`, snappy writes into initialised memory) and the kernel
//! zeroing the pages it had just given back. A kept buffer was zeroed once:
//! only what a body needs beyond its length is zeroed again.
//!
//! At most [`KEPT`] buffers of at most [`KEPT_BYTES`] each are kept, for the
//! whole process. A buffer a receiver decoded into is kept only within that
//! receiver's `--max-bytes-in-flight`: it holds its capacity of the budget
//! while kept, and a request that finds the budget short has the kept buffers
//! freed first ([`release_kept`]), so that the bound counts what is held and
//! kept buffers never turn a request away.

use std::sync::Mutex;

use crate::ingest::body::{Budget, Charge};

/// Buffers kept for later bodies.
const KEPT: usize = 8;

/// The largest buffer kept (a larger one is freed as before).
const KEPT_BYTES: usize = 4 << 20;

/// Buffers kept for later bodies, each with what it holds of a budget.
struct Kept(Mutex<Vec<(Vec<u8>, Charge)>>);

/// The process's kept buffers.
static KEPT_BUFS: Kept = Kept(Mutex::new(Vec::new()));

impl Kept {
    /// `len` bytes (zeroed, or left from an earlier body) to decompress a
    /// body into: a kept buffer when there is one.
    fn take(&self, len: usize) -> Vec<u8> {
        let kept = (len <= KEPT_BYTES)
            .then(|| self.0.lock().ok().and_then(|mut kept| kept.pop()))
            .flatten();
        // Its bytes go back to the budget: the body taking it is counted instead.
        let Some((mut buf, _charge)) = kept else {
            // Zeroed memory from the allocator: fresh pages come zeroed, and
            // a body that states a size it does not hold never touches them.
            return vec![0; len];
        };
        // Bytes before its old length are initialised already: not zeroed again.
        buf.resize(len, 0);
        buf
    }

    /// Keeps `buf` for a later body, unless enough are kept, it is too large,
    /// or `budget` (if any) has not its capacity to spare.
    fn give(&self, buf: Vec<u8>, budget: Option<&Budget>) {
        if buf.capacity() == 0 || buf.capacity() > KEPT_BYTES {
            return;
        }
        let mut charge = Charge::default();
        if budget.is_some_and(|b| !b.take_spare(&mut charge, buf.capacity())) {
            return;
        }
        if let Ok(mut kept) = self.0.lock()
            && kept.len() < KEPT
        {
            kept.push((buf, charge));
        }
    }

    /// Frees every kept buffer (and what they hold of budgets); how many.
    fn release(&self) -> usize {
        let released = match self.0.lock() {
            Ok(mut kept) => std::mem::take(&mut *kept),
            Err(_) => return 0,
        };
        released.len()
    }
}

/// `len` bytes to decompress a body into (see [`Kept::take`]).
pub fn take(len: usize) -> Vec<u8> {
    KEPT_BUFS.take(len)
}

/// Frees the process's kept buffers, giving back what they hold of budgets;
/// how many there were.
pub(crate) fn release_kept() -> usize {
    KEPT_BUFS.release()
}

/// A body buffer that is kept for a later body when dropped, within the
/// budget it is charged to, if any.
#[derive(Debug, Default, Clone)]
pub struct BodyBuf {
    buf: Vec<u8>,
    budget: Option<Budget>,
}

impl BodyBuf {
    /// Kept, once dropped, only as `budget` has room for it.
    pub(crate) fn keep_within(&mut self, budget: &Budget) {
        self.budget = Some(budget.clone());
    }
}

impl PartialEq for BodyBuf {
    fn eq(&self, other: &Self) -> bool {
        self.buf == other.buf
    }
}

impl From<Vec<u8>> for BodyBuf {
    fn from(buf: Vec<u8>) -> Self {
        BodyBuf { buf, budget: None }
    }
}

impl std::ops::Deref for BodyBuf {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.buf
    }
}

impl std::ops::DerefMut for BodyBuf {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }
}

impl Drop for BodyBuf {
    fn drop(&mut self) {
        KEPT_BUFS.give(std::mem::take(&mut self.buf), self.budget.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_given_back_serves_the_next_body_without_zeroing_what_it_held() {
        let kept = Kept(Mutex::new(Vec::new()));
        let mut body = kept.take(1000);
        body[499] = 7;
        let at = body.as_ptr();
        kept.give(body, None);
        let again = kept.take(500);
        assert_eq!((again.as_ptr(), again.len(), again[499]), (at, 500, 7));
        kept.give(again, None);
        // Longer than it held: the rest is zeroed.
        let longer = kept.take(2000);
        assert_eq!((longer.len(), longer[499], longer[1999]), (2000, 7, 0));
    }

    #[test]
    fn few_and_small_buffers_are_kept() {
        let kept = Kept(Mutex::new(Vec::new()));
        kept.give(vec![0u8; KEPT_BYTES + 1], None);
        kept.give(Vec::new(), None);
        assert!(kept.0.lock().is_ok_and(|k| k.is_empty()));
        for _ in 0..KEPT + 3 {
            kept.give(vec![0u8; 16], None);
        }
        assert!(kept.0.lock().is_ok_and(|k| k.len() == KEPT));
        // A body too large to keep takes no kept buffer.
        assert_eq!(kept.take(KEPT_BYTES + 1).len(), KEPT_BYTES + 1);
        assert!(kept.0.lock().is_ok_and(|k| k.len() == KEPT));
    }

    #[test]
    fn kept_buffers_hold_their_bytes_of_the_budget_until_taken_or_released() {
        let kept = Kept(Mutex::new(Vec::new()));
        let budget = Budget::new(10 << 10);
        kept.give(vec![0u8; 4 << 10], Some(&budget));
        kept.give(vec![0u8; 4 << 10], Some(&budget));
        // No room for a third: freed, not kept.
        kept.give(vec![0u8; 4 << 10], Some(&budget));
        assert!(kept.0.lock().is_ok_and(|k| k.len() == 2));
        assert!(!budget.take_spare(&mut Charge::default(), 3 << 10));
        assert!(budget.take_spare(&mut Charge::default(), 2 << 10));
        // Taken for a body: its bytes are back.
        let body = kept.take(100);
        assert!(budget.take_spare(&mut Charge::default(), 6 << 10));
        drop(body);
        assert_eq!(kept.release(), 1);
        assert!(budget.take_spare(&mut Charge::default(), 10 << 10));
    }
}
