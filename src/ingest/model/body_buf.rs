//! The buffers decompressed bodies are decoded in, kept once their request's
//! data is dropped and handed to the next body. A new buffer for each body
//! costed a replay about a fifth of its time: the allocator zeroing it
//! (`vec![0; n]`, snappy writes into initialised memory) and the kernel
//! zeroing the pages it had just given back. A kept buffer was zeroed once:
//! only what a body needs beyond its length is zeroed again.
//!
//! At most [`KEPT`] buffers of at most [`KEPT_BYTES`] each are kept, for the
//! whole process.

use std::sync::Mutex;

/// Buffers kept for later bodies.
const KEPT: usize = 8;

/// The largest buffer kept (a larger one is freed as before).
const KEPT_BYTES: usize = 4 << 20;

/// Buffers kept for later bodies.
struct Kept(Mutex<Vec<Vec<u8>>>);

/// The process's kept buffers.
static KEPT_BUFS: Kept = Kept(Mutex::new(Vec::new()));

impl Kept {
    /// `len` bytes (zeroed, or left from an earlier body) to decompress a
    /// body into: a kept buffer when there is one.
    fn take(&self, len: usize) -> Vec<u8> {
        let kept = (len <= KEPT_BYTES)
            .then(|| self.0.lock().ok().and_then(|mut kept| kept.pop()))
            .flatten();
        let Some(mut buf) = kept else {
            // Zeroed memory from the allocator: fresh pages come zeroed, and
            // a body that states a size it does not hold never touches them.
            return vec![0; len];
        };
        // Bytes before its old length are initialised already: not zeroed again.
        buf.resize(len, 0);
        buf
    }

    /// Keeps `buf` for a later body, unless enough are kept or it is too large.
    fn give(&self, buf: Vec<u8>) {
        if buf.capacity() == 0 || buf.capacity() > KEPT_BYTES {
            return;
        }
        if let Ok(mut kept) = self.0.lock()
            && kept.len() < KEPT
        {
            kept.push(buf);
        }
    }
}

/// `len` bytes to decompress a body into (see [`Kept::take`]).
pub fn take(len: usize) -> Vec<u8> {
    KEPT_BUFS.take(len)
}

/// A body buffer that is kept for a later body when dropped.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct BodyBuf(Vec<u8>);

impl From<Vec<u8>> for BodyBuf {
    fn from(buf: Vec<u8>) -> Self {
        BodyBuf(buf)
    }
}

impl std::ops::Deref for BodyBuf {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl std::ops::DerefMut for BodyBuf {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl Drop for BodyBuf {
    fn drop(&mut self) {
        KEPT_BUFS.give(std::mem::take(&mut self.0));
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
        kept.give(body);
        let again = kept.take(500);
        assert_eq!((again.as_ptr(), again.len(), again[499]), (at, 500, 7));
        kept.give(again);
        // Longer than it held: the rest is zeroed.
        let longer = kept.take(2000);
        assert_eq!((longer.len(), longer[499], longer[1999]), (2000, 7, 0));
    }

    #[test]
    fn few_and_small_buffers_are_kept() {
        let kept = Kept(Mutex::new(Vec::new()));
        kept.give(vec![0u8; KEPT_BYTES + 1]);
        kept.give(Vec::new());
        assert!(kept.0.lock().is_ok_and(|k| k.is_empty()));
        for _ in 0..KEPT + 3 {
            kept.give(vec![0u8; 16]);
        }
        assert!(kept.0.lock().is_ok_and(|k| k.len() == KEPT));
        // A body too large to keep takes no kept buffer.
        assert_eq!(kept.take(KEPT_BYTES + 1).len(), KEPT_BYTES + 1);
        assert!(kept.0.lock().is_ok_and(|k| k.len() == KEPT));
    }
}
