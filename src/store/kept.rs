//! The latest requests as they arrived (head and compressed body), for the
//! dashboard to open one: bounded by count (the request log's) and by bytes,
//! the oldest let go first. Decoded again only when opened.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::ingest::model::RawRequest;

/// Bytes of requests kept at most: the last few hundred requests of a
/// busy Prometheus (bodies of 20–200 KB), a few of the largest allowed.
pub const KEPT_REQUEST_BYTES: usize = 64 << 20;

/// Bytes of requests kept within a store of `max_store_bytes` (which counts
/// them): a sixteenth of it, at most [`KEPT_REQUEST_BYTES`] (reached at the
/// default 1 GiB).
pub fn budget(max_store_bytes: usize) -> usize {
    KEPT_REQUEST_BYTES.min(max_store_bytes / 16)
}

/// Requests kept, by the number they were taken with ([`super::RequestRow::taken`]).
#[derive(Debug)]
pub struct KeptRequests {
    entries: VecDeque<(u64, Arc<RawRequest>)>,
    bytes: usize,
    max_bytes: usize,
    max_count: usize,
}

impl KeptRequests {
    /// Keeping up to `max_count` requests within `max_bytes`.
    pub fn new(max_count: usize, max_bytes: usize) -> Self {
        KeptRequests {
            entries: VecDeque::new(),
            bytes: 0,
            max_bytes,
            max_count,
        }
    }

    /// Keeps the request numbered `pos` (numbers only grow), letting the
    /// oldest go until the bounds hold. One larger than the byte budget alone
    /// is not kept.
    pub fn push(&mut self, pos: u64, raw: Arc<RawRequest>) {
        let size = raw.heap_bytes();
        if size > self.max_bytes || self.max_count == 0 {
            return;
        }
        while self.entries.len() >= self.max_count || self.bytes + size > self.max_bytes {
            let Some((_, old)) = self.entries.pop_front() else {
                break;
            };
            self.bytes -= old.heap_bytes();
        }
        self.bytes += size;
        self.entries.push_back((pos, raw));
    }

    /// The request at `pos`, if still kept.
    pub fn get(&self, pos: u64) -> Option<&Arc<RawRequest>> {
        let i = self.entries.binary_search_by_key(&pos, |(p, _)| *p).ok()?;
        Some(&self.entries[i].1)
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn raw(body_bytes: usize) -> Arc<RawRequest> {
        Arc::new(RawRequest {
            body: Bytes::from(vec![7; body_bytes]),
            ..RawRequest::default()
        })
    }

    #[test]
    fn the_oldest_go_first_to_stay_within_the_bytes() {
        let mut kept = KeptRequests::new(100, 1000);
        for pos in 0..10 {
            kept.push(pos, raw(300));
        }
        assert!(kept.bytes() <= 1000, "{}", kept.bytes());
        assert_eq!(kept.get(9).map(|r| r.body.len()), Some(300));
        assert!(kept.get(7).is_some());
        assert!(kept.get(6).is_none(), "only three fit");
        assert!(kept.get(42).is_none());
    }

    #[test]
    fn within_the_count_and_never_one_over_the_budget_alone() {
        let mut kept = KeptRequests::new(2, 1000);
        for pos in 0..3 {
            kept.push(pos, raw(10));
        }
        assert!(kept.get(0).is_none());
        assert!(kept.get(1).is_some() && kept.get(2).is_some());
        kept.push(3, raw(5000));
        assert!(kept.get(3).is_none());
        assert!(kept.get(2).is_some(), "a request too large lets nothing go");
    }
}
