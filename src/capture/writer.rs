//! `--record FILE`: appends each exchange to a capture on a thread of its own.
//!
//! Receiving never waits for the disk: exchanges go through a queue bounded by
//! bytes, and one that finds it full is dropped and counted. Each record (a
//! request and its answer) is handed to the operating system in one go, with
//! nothing kept in a buffer of promscope's between records, so a `kill -9`
//! loses at most the record being written; the file is synced to disk at most
//! [`SYNC_EVERY`] after a write, and when recording ends. When the file would
//! grow past `--record-max-bytes`, recording stops (the capture keeps the
//! first records) and what follows is counted as not recorded.
//!
//! Records are written in the order their requests arrived, as a replay
//! reads them, not the order they were answered: each request takes its
//! place as it arrives ([`RecordingHandle::place`]), and a record waits for
//! the places before it for [`RecordLimits::reorder_wait`] (and half the
//! queue's bytes) at most (see [`super::order`]).

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, IoSlice, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use super::order::{InOrder, Place};
use super::reader::{CaptureReader, Damage, FORMAT_VERSION};
use super::sniff::{self, FileKind};
use super::warc::{self, TRAILER};
use super::{Exchange, http, relay};

/// Longest time a written record may wait for a sync to disk.
pub const SYNC_EVERY: Duration = Duration::from_secs(1);
/// Default bytes of exchanges waiting for the disk.
pub const QUEUE_BYTES: usize = 64 << 20;

/// How much a recording may take.
#[derive(Debug, Clone, Copy)]
pub struct RecordLimits {
    /// Largest size of the file; recording stops before a record would pass it.
    pub max_file_bytes: Option<u64>,
    /// Bytes of exchanges waiting to be written; past it they are dropped.
    pub queue_bytes: usize,
    /// How long a record waits for those of requests that arrived before it
    /// and are not answered yet; past it, it is written before them.
    pub reorder_wait: Duration,
}

impl Default for RecordLimits {
    fn default() -> Self {
        RecordLimits {
            max_file_bytes: None,
            queue_bytes: QUEUE_BYTES,
            reorder_wait: SYNC_EVERY,
        }
    }
}

/// What a recording did, readable while it runs.
#[derive(Debug, Default)]
pub struct RecordStats {
    /// Exchanges written.
    pub recorded: AtomicU64,
    /// Size of the file.
    pub file_bytes: AtomicU64,
    /// Exchanges dropped because the queue to the disk was full.
    pub dropped: AtomicU64,
    /// Exchanges not recorded because recording had stopped.
    pub not_recorded: AtomicU64,
    pub(super) queued_bytes: AtomicUsize,
    pub(super) stopped: AtomicBool,
    stop_reason: Mutex<Option<String>>,
}

impl RecordStats {
    /// Why recording stopped before the end of the run, if it did.
    pub fn stop_reason(&self) -> Option<String> {
        self.stop_reason.lock().ok().and_then(|r| r.clone())
    }

    fn stop(&self, reason: String) {
        if let Ok(mut r) = self.stop_reason.lock() {
            r.get_or_insert(reason);
        }
        self.stopped.store(true, Ordering::Relaxed);
    }
}

pub(super) enum Message {
    /// The exchange of the request that took this place.
    Record(u64, Box<Exchange>),
    /// The request that took this place has no record.
    Skip(u64),
    Finish,
}

/// Where the receiver hands exchanges to the recording; cheap to clone.
#[derive(Clone)]
pub struct RecordingHandle {
    pub(super) tx: mpsc::Sender<Message>,
    pub(super) stats: Arc<RecordStats>,
    pub(super) queue_bytes: usize,
    /// The next place in line.
    places: Arc<AtomicU64>,
}

impl RecordingHandle {
    /// A place in line for the record of a request arriving now: it is
    /// written after the records of requests that arrived before it.
    pub fn place(&self) -> Place {
        Place::new(self.places.fetch_add(1, Ordering::Relaxed), self.clone())
    }
}

/// A recording in progress.
pub struct Recorder {
    handle: RecordingHandle,
    thread: JoinHandle<()>,
    path: PathBuf,
    repaired: Option<Damage>,
}

impl Recorder {
    /// Starts recording to `path`: a new file, or the end of an existing
    /// capture (whose last record, if cut short, is removed first).
    pub fn start(path: &Path, limits: RecordLimits) -> io::Result<Recorder> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let repaired = repair(&mut file)?;
        let end = file.seek(SeekFrom::End(0))?;
        let info_id = record_id();
        let info = warcinfo(&info_id, path);
        file.write_all(&info)?;
        let stats = Arc::new(RecordStats::default());
        stats
            .file_bytes
            .store(end + info.len() as u64, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel();
        let writer = Writer {
            file,
            rx,
            stats: stats.clone(),
            info_id,
            max_file_bytes: limits.max_file_bytes,
            order: InOrder::new(limits.reorder_wait, limits.queue_bytes / 2),
            unsynced_since: None,
        };
        let thread = std::thread::Builder::new()
            .name("recorder".into())
            .spawn(move || writer.write_until_closed())?;
        Ok(Recorder {
            handle: RecordingHandle {
                tx,
                stats,
                queue_bytes: limits.queue_bytes,
                places: Arc::default(),
            },
            thread,
            path: path.to_owned(),
            repaired,
        })
    }

    /// Where the receiver hands exchanges over.
    pub fn handle(&self) -> RecordingHandle {
        self.handle.clone()
    }

    /// The counters, readable while it runs.
    pub fn stats(&self) -> Arc<RecordStats> {
        self.handle.stats.clone()
    }

    /// The damaged end of an existing capture that was cut off before
    /// appending to it (a record cut short by a crash).
    pub fn repaired(&self) -> Option<&Damage> {
        self.repaired.as_ref()
    }

    /// Writes what is queued, syncs the file and stops; what arrives later is
    /// counted as not recorded.
    pub fn finish(self) -> RecordSummary {
        let _ = self.handle.tx.send(Message::Finish);
        if self.thread.join().is_err() {
            self.handle
                .stats
                .stop("the recording thread crashed".into());
        }
        RecordSummary {
            path: self.path,
            stats: self.handle.stats,
        }
    }
}

/// What a finished recording did, for the end-of-run summary.
pub struct RecordSummary {
    /// The capture file.
    pub path: PathBuf,
    /// Its counters, final.
    pub stats: Arc<RecordStats>,
}

/// Checks that a non-empty file is a capture and cuts off a damaged end.
fn repair(file: &mut File) -> io::Result<Option<Damage>> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(None);
    }
    let mut start = Vec::with_capacity(sniff::SNIFF_BYTES);
    Read::by_ref(file)
        .take(sniff::SNIFF_BYTES as u64)
        .read_to_end(&mut start)?;
    let kind = sniff::identify(&start);
    if kind != FileKind::Warc {
        return Err(io::Error::other(format!(
            "it exists and is not a capture (it looks like {}): choose another file",
            kind.describe()
        )));
    }
    file.seek(SeekFrom::Start(0))?;
    let mut reader = CaptureReader::new(BufReader::new(&*file));
    let damage = reader.by_ref().find_map(Result::err);
    let good_end = damage.as_ref().map_or(reader.offset(), |d| d.offset);
    if good_end < len {
        file.set_len(good_end)?;
    }
    Ok(damage)
}

/// A new globally unique record id.
pub(super) fn record_id() -> String {
    format!("<urn:uuid:{}>", uuid::Uuid::new_v4())
}

/// The record that starts each recording: who wrote what follows, and how.
pub(super) fn warcinfo(id: &str, path: &Path) -> Vec<u8> {
    let body = format!(
        "software: promscope {}\r\nformat: WARC File Format 1.1\r\npromscope-capture: {FORMAT_VERSION}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    let date = warc::format_date(SystemTime::now());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut record = warc::record_head(
        &[
            ("WARC-Type", "warcinfo"),
            ("WARC-Record-ID", id),
            ("WARC-Date", &date),
            ("WARC-Filename", &name),
            ("Content-Type", "application/warc-fields"),
        ],
        &[body.as_bytes()],
    );
    record.extend_from_slice(body.as_bytes());
    record.extend_from_slice(TRAILER);
    record
}

/// The parts of the records of one exchange, in file order.
pub(super) struct EncodedExchange<'a> {
    parts: Vec<std::borrow::Cow<'a, [u8]>>,
}

impl<'a> EncodedExchange<'a> {
    /// The request record, then the answer's if there is one.
    pub(super) fn new(exchange: &'a Exchange, info_id: &str) -> Self {
        let request_id = record_id();
        let date = warc::format_date(exchange.received_at);
        let peer = exchange.peer.map(|p| p.to_string());
        let mut fields = vec![
            ("WARC-Type", "request"),
            ("WARC-Record-ID", request_id.as_str()),
            ("WARC-Date", &date),
        ];
        if !exchange.url.is_empty() {
            fields.push(("WARC-Target-URI", &exchange.url));
        }
        fields.push(("WARC-Warcinfo-ID", info_id));
        if let Some(peer) = &peer {
            fields.push(("Promscope-Peer", peer));
        }
        if !exchange.body_complete {
            fields.push(("WARC-Truncated", "unspecified"));
        }
        fields.push(("Content-Type", "application/http;msgtype=request"));
        let http_head = http::request_head(&exchange.method, &exchange.target, &exchange.headers);
        let head = warc::record_head(&fields, &[&http_head, &exchange.body]);
        let mut parts = vec![
            head.into(),
            http_head.into(),
            exchange.body[..].into(),
            TRAILER.into(),
        ];
        if let Some(answer) = &exchange.answer {
            let answer_id = record_id();
            fields.truncate(3);
            fields[0].1 = "response";
            fields[1].1 = &answer_id;
            if !exchange.url.is_empty() {
                fields.push(("WARC-Target-URI", &exchange.url));
            }
            fields.push(("WARC-Warcinfo-ID", info_id));
            fields.push(("WARC-Concurrent-To", &request_id));
            fields.push((
                relay::ANSWER_FROM,
                relay::answer_from(answer.relay.as_ref()),
            ));
            let relayed = answer.relay.as_ref().map(relay::fields).unwrap_or_default();
            fields.extend(relayed.iter().map(|(name, value)| (*name, value.as_str())));
            if let Some(reason) = &answer.reject_reason {
                fields.push(("Promscope-Reject-Reason", reason));
            }
            fields.push(("Content-Type", "application/http;msgtype=response"));
            let http_head = http::response_head(answer.status, &answer.headers);
            let head = warc::record_head(&fields, &[&http_head, &answer.body]);
            parts.extend([
                head.into(),
                http_head.into(),
                answer.body[..].into(),
                TRAILER.into(),
            ]);
        }
        EncodedExchange { parts }
    }

    /// Bytes it takes in the file.
    pub(super) fn len(&self) -> u64 {
        self.parts.iter().map(|p| p.len() as u64).sum()
    }

    /// Writes every part, with as few system calls as the OS allows.
    pub(super) fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        let mut slices: Vec<IoSlice<'_>> = self.parts.iter().map(|p| IoSlice::new(p)).collect();
        let mut slices = &mut slices[..];
        while !slices.is_empty() {
            match out.write_vectored(slices) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => IoSlice::advance_slices(&mut slices, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// The recording thread's state.
struct Writer {
    file: File,
    rx: mpsc::Receiver<Message>,
    stats: Arc<RecordStats>,
    info_id: String,
    max_file_bytes: Option<u64>,
    /// Exchanges waiting for the places before theirs.
    order: InOrder<Box<Exchange>>,
    /// Since when something written has waited for a sync.
    unsynced_since: Option<Instant>,
}

impl Writer {
    fn write_until_closed(mut self) {
        loop {
            let now = Instant::now();
            let sync = self
                .unsynced_since
                .map_or(Duration::MAX, |t| SYNC_EVERY.saturating_sub(t.elapsed()));
            let order = self
                .order
                .deadline()
                .map_or(Duration::MAX, |at| at.saturating_duration_since(now));
            let ready = match self.rx.recv_timeout(sync.min(order)) {
                Ok(Message::Record(place, exchange)) => {
                    let size = exchange.heap_bytes();
                    self.order.put(place, Some(exchange), size, Instant::now())
                }
                Ok(Message::Skip(place)) => self.order.put(place, None, 0, Instant::now()),
                Ok(Message::Finish) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => Vec::new(),
            };
            self.write_all(ready);
            let late = self.order.on_time(Instant::now());
            self.write_all(late);
            if self
                .unsynced_since
                .is_some_and(|t| t.elapsed() >= SYNC_EVERY)
            {
                self.sync();
                self.unsynced_since = None;
            }
        }
        let rest = self.order.drain();
        self.write_all(rest);
        self.stats.stopped.store(true, Ordering::Relaxed);
        self.sync();
    }

    fn write_all(&mut self, exchanges: impl IntoIterator<Item = Box<Exchange>>) {
        for exchange in exchanges {
            let size = exchange.heap_bytes();
            self.write(&exchange);
            self.stats.queued_bytes.fetch_sub(size, Ordering::Relaxed);
            self.unsynced_since.get_or_insert_with(Instant::now);
        }
    }

    fn write(&mut self, exchange: &Exchange) {
        let stats = &self.stats;
        if stats.stopped.load(Ordering::Relaxed) {
            stats.not_recorded.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let encoded = EncodedExchange::new(exchange, &self.info_id);
        let size = stats.file_bytes.load(Ordering::Relaxed);
        if let Some(max) = self.max_file_bytes
            && size + encoded.len() > max
        {
            stats.stop(format!("--record-max-bytes {max} reached"));
            stats.not_recorded.fetch_add(1, Ordering::Relaxed);
            return;
        }
        match encoded.write_to(&mut self.file) {
            Ok(()) => {
                stats.recorded.fetch_add(1, Ordering::Relaxed);
                stats.file_bytes.fetch_add(encoded.len(), Ordering::Relaxed);
            }
            Err(e) => {
                // What was written of the record is cut off, so that the file
                // stays readable to its end (and appendable).
                let _ = self.file.set_len(size);
                let _ = self.file.seek(SeekFrom::Start(size));
                stats.stop(format!("writing failed: {e}"));
                stats.not_recorded.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn sync(&mut self) {
        if let Err(e) = self.file.sync_data() {
            self.stats.stop(format!("syncing to disk failed: {e}"));
        }
    }
}
