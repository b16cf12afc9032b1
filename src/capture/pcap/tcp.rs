//! TCP reassembly: the segments of each stream (one direction of a connection)
//! put back in order, retransmissions and overlaps trimmed, segments that
//! arrive early held (up to a bound), gaps reported and skipped; the bytes go
//! to the HTTP request parser.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};

use super::request::{self, Parsed};
use crate::capture::{Exchange, header};

/// Bytes held per stream for segments that came before the ones they follow;
/// past it the missing bytes are taken as lost (a gap).
const MAX_EARLY_BYTES: usize = 8 << 20;
/// Streams followed at once; past it the one quiet the longest is dropped.
const MAX_STREAMS: usize = 4096;
/// Problems described one by one; past it they are only counted.
const MAX_NOTES: usize = 20;

/// One TCP segment of a packet.
pub struct Segment<'a> {
    pub from: SocketAddr,
    pub to: SocketAddr,
    pub seq: u32,
    pub syn: bool,
    pub payload: &'a [u8],
    pub time: SystemTime,
}

#[derive(Default)]
struct Stream {
    /// Sequence number of the next byte expected.
    next: Option<u32>,
    /// Segments ahead of `next`, by sequence number.
    early: BTreeMap<u32, Bytes>,
    early_bytes: usize,
    buffer: BytesMut,
    /// After a gap: bytes up to the next request line are not a request's start.
    resync: bool,
    /// Not HTTP requests: ignored from here on.
    ignored: bool,
    last_seen: Option<SystemTime>,
}

/// What reassembly noticed, for the user.
#[derive(Default)]
pub struct Notes {
    pub retransmitted: u64,
    pub gaps: u64,
    pub not_http: u64,
    pub dropped_streams: u64,
    pub not_post: u64,
    pub messages: Vec<String>,
}

impl Notes {
    fn say(&mut self, message: String) {
        if self.messages.len() < MAX_NOTES {
            self.messages.push(message);
        }
    }
}

/// Every stream of a packet capture.
#[derive(Default)]
pub struct Streams {
    streams: HashMap<(SocketAddr, SocketAddr), Stream>,
    pub notes: Notes,
}

impl Streams {
    /// Takes one segment; requests it completes are appended to `out`.
    pub fn segment(&mut self, s: &Segment<'_>, out: &mut VecDeque<Exchange>) {
        let key = (s.from, s.to);
        if !self.streams.contains_key(&key) && self.streams.len() >= MAX_STREAMS {
            self.drop_quietest();
        }
        let stream = self.streams.entry(key).or_default();
        stream.last_seen = Some(s.time);
        if s.syn {
            // A new connection (perhaps on a reused port): start over.
            *stream = Stream {
                next: Some(s.seq.wrapping_add(1)),
                last_seen: Some(s.time),
                ..Stream::default()
            };
            return;
        }
        if stream.ignored || s.payload.is_empty() {
            return;
        }
        let next = *stream.next.get_or_insert(s.seq);
        let ahead = s.seq.wrapping_sub(next) as i32;
        if ahead > 0 {
            stream.early_bytes += s.payload.len();
            let held = stream.early.entry(s.seq).or_default();
            if held.len() < s.payload.len() {
                *held = Bytes::copy_from_slice(s.payload);
            }
            if stream.early_bytes > MAX_EARLY_BYTES {
                skip_gap(stream, s, &mut self.notes);
            }
        } else {
            let old = ahead.unsigned_abs() as usize;
            if old >= s.payload.len() {
                self.notes.retransmitted += 1;
                return;
            }
            if old > 0 {
                self.notes.retransmitted += 1;
            }
            append(stream, &s.payload[old..]);
        }
        take_early(stream);
        parse(stream, s, &mut self.notes, out);
    }

    /// The end of the capture: what was left unfinished is reported.
    pub fn finish(&mut self) {
        for ((from, to), stream) in &self.streams {
            if !stream.early.is_empty() {
                self.notes.gaps += 1;
                self.notes.say(format!(
                    "{from} → {to}: bytes missing before the last {} captured; the request they belong to was dropped",
                    stream.early_bytes
                ));
            } else if !stream.buffer.is_empty() && !stream.ignored && !stream.resync {
                self.notes.say(format!(
                    "{from} → {to}: the capture ends inside a request ({} bytes of it)",
                    stream.buffer.len()
                ));
            }
        }
    }

    fn drop_quietest(&mut self) {
        let quietest = self
            .streams
            .iter()
            .min_by_key(|(_, s)| s.last_seen)
            .map(|(key, _)| *key);
        if let Some(key) = quietest {
            self.streams.remove(&key);
            self.notes.dropped_streams += 1;
        }
    }
}

fn append(stream: &mut Stream, bytes: &[u8]) {
    stream.buffer.extend_from_slice(bytes);
    if let Some(next) = &mut stream.next {
        *next = next.wrapping_add(bytes.len() as u32);
    }
}

/// Moves held segments that now follow on into the buffer.
fn take_early(stream: &mut Stream) {
    while let Some(next) = stream.next {
        let Some((&seq, _)) = stream
            .early
            .iter()
            .find(|(seq, _)| seq.wrapping_sub(next) as i32 <= 0)
        else {
            return;
        };
        let Some(bytes) = stream.early.remove(&seq) else {
            return;
        };
        stream.early_bytes -= bytes.len();
        let old = next.wrapping_sub(seq) as usize;
        if old < bytes.len() {
            append(stream, &bytes[old..]);
        }
    }
}

/// Gives up on the missing bytes: reading goes on at the first held segment.
fn skip_gap(stream: &mut Stream, s: &Segment<'_>, notes: &mut Notes) {
    let (Some(next), Some(&first)) = (
        stream.next,
        stream
            .early
            .keys()
            .min_by_key(|&&seq| seq.wrapping_sub(stream.next.unwrap_or(seq))),
    ) else {
        return;
    };
    notes.gaps += 1;
    notes.say(format!(
        "{} → {}: {} bytes were never captured; the request they belong to was dropped",
        s.from,
        s.to,
        first.wrapping_sub(next)
    ));
    stream.next = Some(first);
    stream.buffer.clear();
    stream.resync = true;
}

/// Reads the requests the buffer now holds.
fn parse(stream: &mut Stream, s: &Segment<'_>, notes: &mut Notes, out: &mut VecDeque<Exchange>) {
    if stream.buffer.starts_with(b"HTTP/") {
        // The answers' direction: not what a capture of requests holds.
        stream.ignored = true;
        stream.buffer = BytesMut::new();
        return;
    }
    if stream.resync {
        // Only a request line starts a request again.
        match memchr::memmem::find(&stream.buffer, b"POST /") {
            Some(at) => {
                let _ = stream.buffer.split_to(at);
                stream.resync = false;
            }
            None => {
                let keep = stream.buffer.len().saturating_sub(5);
                let _ = stream.buffer.split_to(keep);
                return;
            }
        }
    }
    loop {
        match request::next_request(&mut stream.buffer) {
            Ok(Parsed::Incomplete) => return,
            Ok(Parsed::Request(r)) if r.method != "POST" => notes.not_post += 1,
            Ok(Parsed::Request(r)) => {
                let host = header(&r.headers, "host").map_or_else(
                    || s.to.to_string(),
                    |h| String::from_utf8_lossy(h).into_owned(),
                );
                out.push_back(Exchange {
                    received_at: s.time,
                    peer: Some(s.from),
                    url: format!("http://{host}{}", r.target),
                    method: r.method,
                    target: r.target,
                    headers: r.headers,
                    body: r.body,
                    body_complete: true,
                    answer: None,
                });
            }
            Err(problem) => {
                notes.not_http += 1;
                notes.say(format!(
                    "{} → {}: {problem}; the rest of this connection is skipped",
                    s.from, s.to
                ));
                stream.ignored = true;
                stream.buffer = BytesMut::new();
                stream.early.clear();
                stream.early_bytes = 0;
                return;
            }
        }
    }
}
