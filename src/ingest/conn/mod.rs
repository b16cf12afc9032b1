//! What the listener knows of each open connection: whether a request is in
//! progress, since when it has waited (for its timeouts and for closing the
//! one idle the longest), and its stream, which tells it when bytes arrive,
//! keeps a copy of the start of a request's head (to say what was wrong with
//! one the HTTP layer refused) and hands the stream back when dropped (to
//! answer such a request, or one whose head timed out).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::server::Limits;

mod stream;

pub(super) use stream::{Left, Tracked};

/// Slowest a request may arrive (bytes a second, from its head on) without
/// being closed when every connection is busy and a new one needs room.
pub(super) const MIN_RATE: u64 = 1024;

/// How long a request is given before its rate is judged.
const RATE_GRACE_MS: u64 = 1000;

/// Bytes of a request's head copied as they arrive: enough to say what was
/// wrong with a head refused by the HTTP layer (which keeps no copy).
pub(super) const HEAD_COPY: usize = 8 << 10;

/// The most a request's head may take (its headers, and what of its body
/// arrived with them): bounds what an unfinished head holds per connection.
pub(super) const MAX_HEAD_BYTES: usize = 64 << 10;

/// The open connections, to close the one idle the longest.
pub(super) struct Open {
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
    /// How many are open.
    count: watch::Sender<usize>,
    /// What the connections' times count from, so that they compare.
    epoch: Instant,
}

impl Open {
    pub(super) fn new() -> Self {
        Open {
            conns: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            count: watch::Sender::new(0),
            epoch: Instant::now(),
        }
    }

    /// How many are open, as it changes.
    pub(super) fn count(&self) -> watch::Receiver<usize> {
        self.count.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn add(&self) -> Arc<Conn> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn::new(id, self.epoch));
        let mut conns = self.lock();
        conns.insert(id, conn.clone());
        self.count.send_replace(conns.len());
        conn
    }

    pub(super) fn remove(&self, conn: &Conn) {
        let mut conns = self.lock();
        conns.remove(&conn.id);
        self.count.send_replace(conns.len());
    }

    /// Whether a connection waits without a request in progress.
    pub(super) fn has_idle(&self) -> bool {
        self.lock().values().any(|c| c.is_idle())
    }

    /// Asks the connection that has waited the longest without a request in
    /// progress to close; whether there was one.
    pub(super) fn close_oldest_idle(&self) -> bool {
        let conns = self.lock();
        let oldest = conns
            .values()
            .filter(|c| c.is_idle())
            .min_by_key(|c| c.since_ms.load(Ordering::Acquire));
        match oldest {
            Some(conn) => {
                conn.ask_to_close();
                true
            }
            None => false,
        }
    }

    /// Asks the busy connection whose request arrives the slowest, under
    /// [`MIN_RATE`], to close at once (a sender trickling its body, most
    /// likely); whether there was one.
    pub(super) fn close_slowest_busy(&self) -> bool {
        let conns = self.lock();
        let slowest = conns
            .values()
            .filter(|c| c.is_busy() && !c.closing.load(Ordering::Acquire))
            // Read whole, it waits on promscope (a stalled consumer, a slow
            // backend), not on its sender.
            .filter(|c| !c.read_whole.load(Ordering::Acquire))
            .filter_map(|c| c.request_rate().map(|rate| (rate, c)))
            .filter(|(rate, _)| *rate < MIN_RATE)
            .min_by_key(|(rate, _)| *rate);
        match slowest {
            Some((_, conn)) => {
                conn.evicted.store(true, Ordering::Release);
                conn.ask_to_close();
                true
            }
            None => false,
        }
    }

    pub(super) fn close_all(&self) {
        self.lock().values().for_each(|c| c.ask_to_close());
    }
}

/// What one connection is doing, shared by its driver, its reads and its requests.
pub(super) struct Conn {
    id: u64,
    /// The epoch of [`Open`].
    epoch: Instant,
    /// Requests being handled.
    busy: AtomicU32,
    /// Since when it has waited (milliseconds after `epoch`): its start, the
    /// end of its last request, or the first byte of the next one.
    since_ms: AtomicU64,
    /// Bytes of a request's headers have arrived: the header timeout applies,
    /// not the idle timeout.
    reading: AtomicBool,
    /// Bytes read, all requests together.
    read_bytes: AtomicU64,
    /// Bytes read, and when (ms after `epoch`), as the request in progress began.
    begun_at: AtomicU64,
    begun_read: AtomicU64,
    /// The request in progress has been read whole ([`ReadWhole`]).
    read_whole: AtomicBool,
    /// Closed to make room while a request was in progress.
    evicted: AtomicBool,
    /// A request was answered, and the answer's first bytes are not yet
    /// written: what is written next is that answer.
    answering: AtomicBool,
    /// The status of an answer the HTTP layer wrote on its own to a head it
    /// refused (hyper's empty 400, 414 or 431), held back to be replaced by one
    /// that says what was wrong; 0 when there was none.
    refused: AtomicU16,
    /// Something changed that moves the deadline.
    changed: Notify,
    /// Asked to close.
    closing: AtomicBool,
    close: Notify,
}

impl Conn {
    fn new(id: u64, epoch: Instant) -> Self {
        Conn {
            id,
            epoch,
            busy: AtomicU32::new(0),
            since_ms: AtomicU64::new(epoch.elapsed().as_millis() as u64),
            // A new connection owes its first request's headers (or TLS handshake).
            reading: AtomicBool::new(true),
            answering: AtomicBool::new(false),
            refused: AtomicU16::new(0),
            read_bytes: AtomicU64::new(0),
            begun_at: AtomicU64::new(0),
            begun_read: AtomicU64::new(0),
            read_whole: AtomicBool::new(false),
            evicted: AtomicBool::new(false),
            changed: Notify::new(),
            closing: AtomicBool::new(false),
            close: Notify::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// No request in progress, and not already asked to close.
    fn is_idle(&self) -> bool {
        self.busy.load(Ordering::Acquire) == 0 && !self.closing.load(Ordering::Acquire)
    }

    /// Whether a request in progress is being handled.
    pub(super) fn is_busy(&self) -> bool {
        self.busy.load(Ordering::Acquire) > 0
    }

    /// Whether bytes of a request's head have arrived that were not handed
    /// on as a request (since the connection began or its last request ended).
    pub(super) fn head_pending(&self) -> bool {
        self.reading.load(Ordering::Acquire) && !self.is_busy()
    }

    /// How long ago the connection began to wait: its start, the end of its
    /// last request or the first byte of the next one.
    pub(super) fn waited(&self) -> Duration {
        let since = self.since_ms.load(Ordering::Acquire);
        Duration::from_millis(self.now_ms().saturating_sub(since))
    }

    /// Bytes a second the request in progress has arrived at, once it has
    /// had its grace; from its head on (the head counted with it).
    fn request_rate(&self) -> Option<u64> {
        let elapsed = self
            .now_ms()
            .saturating_sub(self.begun_at.load(Ordering::Acquire));
        if elapsed < RATE_GRACE_MS {
            return None;
        }
        let read =
            self.read_bytes.load(Ordering::Acquire) - self.begun_read.load(Ordering::Acquire);
        Some(read * 1000 / elapsed)
    }

    /// Whether it was closed to make room while a request was in progress.
    pub(super) fn was_evicted(&self) -> bool {
        self.evicted.load(Ordering::Acquire)
    }

    /// The status of the answer the HTTP layer wrote on its own and that was
    /// held back, if any.
    pub(super) fn refused_status(&self) -> Option<u16> {
        Some(self.refused.load(Ordering::Acquire)).filter(|&s| s != 0)
    }

    pub(super) fn ask_to_close(&self) {
        self.closing.store(true, Ordering::Release);
        self.close.notify_one();
    }

    /// Completes once asked to close.
    pub(super) async fn asked_to_close(&self) {
        self.close.notified().await
    }

    /// Completes when something moved the deadline.
    pub(super) async fn changed(&self) {
        self.changed.notified().await
    }

    /// When it times out if nothing happens; none while a request is handled.
    pub(super) fn deadline(&self, limits: &Limits) -> Option<Instant> {
        if self.is_busy() {
            return None;
        }
        let timeout = if self.reading.load(Ordering::Acquire) {
            limits.header_timeout
        } else {
            limits.idle_timeout
        };
        let since = Duration::from_millis(self.since_ms.load(Ordering::Acquire));
        Some(self.epoch + since + timeout)
    }

    /// Bytes arrived: if it was idle, a request has begun (true then).
    fn on_read(&self) -> bool {
        let begun = !self.is_busy() && !self.reading.swap(true, Ordering::AcqRel);
        if begun {
            self.since_ms.store(self.now_ms(), Ordering::Release);
            self.changed.notify_one();
        }
        begun
    }

    /// `buf` is about to be written: whether it is an answer the HTTP layer
    /// wrote on its own to a head it refused, which is then held back.
    fn holds_back(&self, buf: &[u8]) -> bool {
        if self.answering.load(Ordering::Acquire) {
            return false;
        }
        let Some(status) = stream::automatic_answer(buf) else {
            return false;
        };
        self.refused.store(status, Ordering::Release);
        true
    }
}

/// A request being handled on a connection, from its headers to its answer.
pub(super) struct InRequest(Arc<Conn>);

impl InRequest {
    pub(super) fn begin(conn: Arc<Conn>) -> Self {
        conn.busy.fetch_add(1, Ordering::AcqRel);
        // Its head was read since the connection last waited.
        conn.begun_at
            .store(conn.since_ms.load(Ordering::Acquire), Ordering::Release);
        conn.begun_read
            .store(conn.read_bytes.load(Ordering::Acquire), Ordering::Release);
        conn.reading.store(false, Ordering::Release);
        conn.read_whole.store(false, Ordering::Release);
        InRequest(conn)
    }

    /// What tells the connection that this request has been read whole, for
    /// the request's extensions.
    pub(super) fn read_whole(&self) -> ReadWhole {
        ReadWhole(self.0.clone())
    }
}

/// In a request's extensions: told when its body has been read whole, so
/// that its connection, however long the request then waits, is not closed
/// as a sender trickling its body at the connection cap.
#[derive(Clone)]
pub(super) struct ReadWhole(Arc<Conn>);

impl ReadWhole {
    pub(super) fn done(&self) {
        self.0.read_whole.store(true, Ordering::Release);
    }
}

impl Drop for InRequest {
    fn drop(&mut self) {
        let conn = &self.0;
        conn.since_ms.store(conn.now_ms(), Ordering::Release);
        conn.answering.store(true, Ordering::Release);
        conn.busy.fetch_sub(1, Ordering::AcqRel);
        conn.changed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_being_written_is_never_held_back() {
        let hyper = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        let conn = Arc::new(Conn::new(0, Instant::now()));
        drop(InRequest::begin(conn.clone()));
        assert!(!conn.holds_back(hyper), "the request's own answer");
        assert_eq!(conn.refused_status(), None);
        // Once its first bytes are written, what follows may be hyper's own.
        conn.answering.store(false, Ordering::Release);
        assert!(conn.holds_back(hyper));
        assert_eq!(conn.refused_status(), Some(400));
    }
}
