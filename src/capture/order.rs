//! Records in the order their requests arrived, not the order they were
//! answered: each request takes a place in line as it arrives, and the
//! writer writes a record once every earlier place is filled or given up. A
//! place that stays empty (a request still being received or answered) holds
//! up the ones after it for a bounded time and bytes at most: past either it
//! is passed over, and its record is written when it comes, after its
//! successors.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::Exchange;
use super::writer::{Message, RecordingHandle};

/// A request's place in line in the capture, given up if dropped unfilled
/// (its request was not recorded, or never answered).
pub struct Place {
    at: u64,
    handle: RecordingHandle,
    filled: bool,
}

impl Place {
    pub(super) fn new(at: u64, handle: RecordingHandle) -> Self {
        Place {
            at,
            handle,
            filled: false,
        }
    }

    /// Queues `exchange` for the file in this place, or counts it as
    /// dropped: never waits.
    pub fn record(mut self, exchange: Exchange) {
        let RecordingHandle {
            tx,
            stats,
            queue_bytes,
            ..
        } = &self.handle;
        if stats.stopped.load(Ordering::Relaxed) {
            stats.not_recorded.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let size = exchange.heap_bytes();
        let queued = stats.queued_bytes.fetch_add(size, Ordering::Relaxed);
        if queued + size > *queue_bytes {
            stats.queued_bytes.fetch_sub(size, Ordering::Relaxed);
            stats.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if tx
            .send(Message::Record(self.at, Box::new(exchange)))
            .is_err()
        {
            stats.queued_bytes.fetch_sub(size, Ordering::Relaxed);
            stats.not_recorded.fetch_add(1, Ordering::Relaxed);
        }
        self.filled = true;
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if !self.filled {
            let _ = self.handle.tx.send(Message::Skip(self.at));
        }
    }
}

/// Items put in line by place, taken out in place order.
pub(super) struct InOrder<T> {
    /// The first place not taken out.
    next: u64,
    /// Places after `next` that were filled (`Some`) or given up (`None`).
    waiting: BTreeMap<u64, Option<(T, usize)>>,
    /// Bytes of the items waiting.
    waiting_bytes: usize,
    /// The places of the items waiting and when each was put in, oldest
    /// first (places already taken out are dropped from the front lazily):
    /// each item waits `max_wait` at most from its own arrival, however many
    /// empty places come before it.
    arrivals: VecDeque<(u64, Instant)>,
    /// How long an item may wait for an empty place before it.
    max_wait: Duration,
    /// How many bytes may wait at once.
    max_bytes: usize,
}

impl<T> InOrder<T> {
    pub(super) fn new(max_wait: Duration, max_bytes: usize) -> Self {
        InOrder {
            next: 0,
            waiting: BTreeMap::new(),
            waiting_bytes: 0,
            arrivals: VecDeque::new(),
            max_wait,
            max_bytes,
        }
    }

    /// Fills `place` with `item` of `bytes` at `now` (or gives it up, with
    /// none), and returns what is ready, in order: a place passed over
    /// earlier is ready at once.
    pub(super) fn put(
        &mut self,
        place: u64,
        item: Option<T>,
        bytes: usize,
        now: Instant,
    ) -> Vec<T> {
        if place < self.next {
            return item.into_iter().collect();
        }
        if item.is_some() {
            self.waiting_bytes += bytes;
            self.arrivals.push_back((place, now));
        }
        self.waiting.insert(place, item.map(|i| (i, bytes)));
        let mut ready = self.take_ready();
        if self.waiting_bytes > self.max_bytes {
            ready.extend(self.pass_over());
        }
        ready
    }

    /// When the item waiting the longest must be written, empty places
    /// before it or not.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.arrivals.front().map(|&(_, at)| at + self.max_wait)
    }

    /// What is ready once the deadline passed: empty places are passed over
    /// until no item has waited its time.
    pub(super) fn on_time(&mut self, now: Instant) -> Vec<T> {
        let mut ready = Vec::new();
        while self.deadline().is_some_and(|at| at <= now) {
            ready.extend(self.pass_over());
        }
        ready
    }

    /// Everything waiting, in order, passing over every empty place.
    pub(super) fn drain(&mut self) -> Vec<T> {
        let mut all = Vec::new();
        while !self.waiting.is_empty() {
            all.extend(self.pass_over());
        }
        all
    }

    /// The first waiting place becomes the next: the empty ones before it
    /// are passed over.
    fn pass_over(&mut self) -> Vec<T> {
        if let Some((&first, _)) = self.waiting.first_key_value() {
            self.next = first;
        }
        self.take_ready()
    }

    fn take_ready(&mut self) -> Vec<T> {
        let mut ready = Vec::new();
        while let Some(item) = self.waiting.remove(&self.next) {
            self.next += 1;
            if let Some((item, bytes)) = item {
                self.waiting_bytes -= bytes;
                ready.push(item);
            }
        }
        while self
            .arrivals
            .front()
            .is_some_and(|&(place, _)| place < self.next)
        {
            self.arrivals.pop_front();
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(3600);

    #[test]
    fn items_come_out_in_place_order_whatever_order_they_are_put_in() {
        let mut line = InOrder::new(LONG, 1000);
        assert_eq!(
            line.put(1, Some("b"), 1, Instant::now()),
            Vec::<&str>::new()
        );
        assert_eq!(
            line.put(3, Some("d"), 1, Instant::now()),
            Vec::<&str>::new()
        );
        assert!(line.deadline().is_some(), "waiting for place 0");
        assert_eq!(line.put(0, Some("a"), 1, Instant::now()), ["a", "b"]);
        // A place given up lets the ones after it go.
        assert_eq!(line.put(2, None, 0, Instant::now()), ["d"]);
        assert_eq!(line.deadline(), None);
        assert_eq!(line.put(4, Some("e"), 1, Instant::now()), ["e"]);
    }

    #[test]
    fn an_empty_place_holds_up_the_others_for_a_while_and_some_bytes_only() {
        let mut line = InOrder::new(Duration::from_millis(10), 1000);
        assert!(line.put(1, Some("b"), 1, Instant::now()).is_empty());
        assert!(line.on_time(Instant::now()).is_empty(), "not yet");
        assert_eq!(line.on_time(Instant::now() + Duration::from_secs(1)), ["b"]);
        // Place 0 comes late: written at once, after its successor.
        assert_eq!(line.put(0, Some("a"), 1, Instant::now()), ["a"]);
        let mut line = InOrder::new(LONG, 100);
        assert!(line.put(1, Some("b"), 60, Instant::now()).is_empty());
        assert_eq!(
            line.put(2, Some("c"), 60, Instant::now()),
            ["b", "c"],
            "over 100 bytes"
        );
        assert!(line.put(4, Some("e"), 1, Instant::now()).is_empty());
        assert_eq!(line.drain(), ["e"]);
        assert_eq!(line.put(3, Some("d"), 1, Instant::now()), ["d"]);
    }

    #[test]
    fn each_item_waits_its_own_time_behind_every_empty_place() {
        // Places 0 and 2 are slow; 1 arrives at once, 3 just before place 0's
        // wait is over. Passing over 0 must not pass over 2 too: 3 has waited
        // only a little.
        let wait = Duration::from_millis(500);
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut line = InOrder::new(wait, 1000);
        assert!(line.put(1, Some("b"), 1, at(0)).is_empty());
        assert!(line.put(3, Some("d"), 1, at(450)).is_empty());
        assert_eq!(line.on_time(at(510)), ["b"]);
        assert_eq!(line.deadline(), Some(at(950)), "d's own wait");
        assert!(line.on_time(at(560)).is_empty(), "place 2 still awaited");
        assert_eq!(line.put(2, Some("c"), 1, at(600)), ["c", "d"]);
        // An item behind two empty places, the oldest waiting, goes once its
        // time is over, passing over both.
        assert!(line.put(7, Some("h"), 1, at(1000)).is_empty());
        assert!(line.put(5, Some("f"), 1, at(1200)).is_empty());
        assert_eq!(line.on_time(at(1500)), ["f", "h"]);
        assert_eq!(line.deadline(), None);
    }
}
