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
/// Streams followed at once; past it the eighth quiet the longest are dropped.
const MAX_STREAMS: usize = 4096;
/// Bytes held for all streams together (segments that came early and requests
/// not finished yet); past it the stream holding the most is dropped.
const MAX_HELD_BYTES: usize = 256 << 20;
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

impl Stream {
    /// Bytes held until they can be read or given up.
    fn held(&self) -> usize {
        self.early_bytes + self.buffer.len()
    }
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
pub struct Streams {
    streams: HashMap<(SocketAddr, SocketAddr), Stream>,
    /// What all streams hold, by [`Stream::held`].
    held: usize,
    max_held: usize,
    pub notes: Notes,
}

impl Default for Streams {
    fn default() -> Self {
        Streams::holding_at_most(MAX_HELD_BYTES)
    }
}

impl Streams {
    fn holding_at_most(max_held: usize) -> Self {
        Streams {
            streams: HashMap::new(),
            held: 0,
            max_held,
            notes: Notes::default(),
        }
    }

    /// Takes one segment; requests it completes are appended to `out`.
    pub fn segment(&mut self, s: &Segment<'_>, out: &mut VecDeque<Exchange>) {
        let key = (s.from, s.to);
        if !self.streams.contains_key(&key) && self.streams.len() >= MAX_STREAMS {
            self.drop_quietest();
        }
        let stream = self.streams.entry(key).or_default();
        let before = stream.held();
        follow(stream, s, &mut self.notes, out);
        self.held = self.held - before + stream.held();
        while self.held > self.max_held {
            self.drop_largest();
        }
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

    /// Drops the eighth of the streams quiet the longest (at once, so that a
    /// capture of many short connections costs no scan per connection).
    fn drop_quietest(&mut self) {
        let mut by_quiet: Vec<_> = self
            .streams
            .iter()
            .map(|(k, s)| (s.last_seen, *k))
            .collect();
        let count = (MAX_STREAMS / 8).min(by_quiet.len());
        if count == 0 {
            return;
        }
        by_quiet.select_nth_unstable(count - 1);
        for (_, key) in &by_quiet[..count] {
            if let Some(stream) = self.streams.remove(key) {
                self.held -= stream.held();
                self.notes.dropped_streams += 1;
            }
        }
    }

    /// Drops the stream holding the most bytes, saying so.
    fn drop_largest(&mut self) {
        let Some(key) = self
            .streams
            .iter()
            .max_by_key(|(_, s)| s.held())
            .map(|(k, _)| *k)
        else {
            self.held = 0;
            return;
        };
        if let Some(stream) = self.streams.remove(&key) {
            self.held -= stream.held();
            self.notes.dropped_streams += 1;
            self.notes.say(format!(
                "{} → {}: dropped with {} held: the capture holds more than {} of unfinished requests at once",
                key.0,
                key.1,
                crate::format::bytes(stream.held() as f64),
                crate::format::bytes(self.max_held as f64),
            ));
        }
    }
}

/// Takes one segment of `stream`.
fn follow(stream: &mut Stream, s: &Segment<'_>, notes: &mut Notes, out: &mut VecDeque<Exchange>) {
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
            stream.early_bytes -= held.len();
            *held = Bytes::copy_from_slice(s.payload);
        } else {
            stream.early_bytes -= s.payload.len();
        }
        while stream.early_bytes > MAX_EARLY_BYTES {
            skip_gap(stream, s, notes);
            take_early(stream);
        }
    } else {
        let old = ahead.unsigned_abs() as usize;
        if old >= s.payload.len() {
            notes.retransmitted += 1;
            return;
        }
        if old > 0 {
            notes.retransmitted += 1;
        }
        append(stream, &s.payload[old..]);
    }
    take_early(stream);
    parse(stream, s, notes, out);
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
        let Some(seq) = first_due(&stream.early, next) else {
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

/// A held segment that starts at or before `next` (within half the sequence
/// space, as sequence numbers wrap), found without a scan.
fn first_due(early: &BTreeMap<u32, Bytes>, next: u32) -> Option<u32> {
    let low = next.wrapping_sub(1 << 31);
    let key = |(seq, _): (&u32, _)| *seq;
    if low <= next {
        early.range(low..=next).next().map(key)
    } else {
        (early.range(..=next).next())
            .or_else(|| early.range(low..).next())
            .map(key)
    }
}

/// The first held segment after `next`, wrapping.
fn first_after(early: &BTreeMap<u32, Bytes>, next: u32) -> Option<u32> {
    let key = |(seq, _): (&u32, _)| *seq;
    (early.range(next..).next())
        .or_else(|| early.range(..next).next())
        .map(key)
}

/// Gives up on the missing bytes: reading goes on at the first held segment.
fn skip_gap(stream: &mut Stream, s: &Segment<'_>, notes: &mut Notes) {
    let Some(next) = stream.next else { return };
    let Some(first) = first_after(&stream.early, next) else {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, 1], port))
    }

    fn request(body_bytes: usize) -> Vec<u8> {
        let mut bytes = format!(
            "POST /api/v1/write HTTP/1.1\r\nHost: backend\r\nContent-Length: {body_bytes}\r\n\r\n"
        )
        .into_bytes();
        bytes.resize(bytes.len() + body_bytes, b'x');
        bytes
    }

    /// Feeds `payload` of the stream from `port` at sequence number `seq`.
    fn feed(
        streams: &mut Streams,
        port: u16,
        seq: u32,
        payload: &[u8],
        out: &mut VecDeque<Exchange>,
    ) {
        let segment = Segment {
            from: addr(port),
            to: addr(9201),
            seq,
            syn: false,
            payload,
            time: SystemTime::UNIX_EPOCH,
        };
        streams.segment(&segment, out);
    }

    fn syn(streams: &mut Streams, port: u16, seq: u32) {
        let segment = Segment {
            from: addr(port),
            to: addr(9201),
            seq,
            syn: true,
            payload: &[],
            time: SystemTime::UNIX_EPOCH,
        };
        streams.segment(&segment, &mut VecDeque::new());
    }

    #[test]
    fn segments_reordered_across_the_sequence_wrap_make_one_request() {
        let bytes = request(3000);
        let mut streams = Streams::default();
        let mut out = VecDeque::new();
        let start = u32::MAX - 1000;
        syn(&mut streams, 1, start.wrapping_sub(1));
        let cuts = [0, 700, 1500, 2200, bytes.len()];
        // Last segment first, then the others backwards: all held but the first.
        for i in (0..cuts.len() - 1).rev() {
            let seq = start.wrapping_add(cuts[i] as u32);
            feed(&mut streams, 1, seq, &bytes[cuts[i]..cuts[i + 1]], &mut out);
        }
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].body.len(), 3000);
        assert_eq!((streams.notes.gaps, streams.held), (0, 0));
    }

    #[test]
    fn a_segment_held_again_is_counted_once() {
        let bytes = request(100 << 10);
        let mut streams = Streams::default();
        let mut out = VecDeque::new();
        syn(&mut streams, 1, 999);
        // The second half, retransmitted 200 times (20 MiB) before the first.
        let half = bytes.len() / 2;
        for _ in 0..200 {
            feed(
                &mut streams,
                1,
                1000 + half as u32,
                &bytes[half..],
                &mut out,
            );
        }
        assert_eq!(streams.held, bytes.len() - half);
        feed(&mut streams, 1, 1000, &bytes[..half], &mut out);
        assert_eq!(out.len(), 1, "{:?}", streams.notes.messages);
        assert_eq!(streams.notes.gaps, 0);
    }

    #[test]
    fn streams_together_hold_at_most_the_bound() {
        let max = 1 << 20;
        let mut streams = Streams::holding_at_most(max);
        let mut out = VecDeque::new();
        let piece = vec![b'x'; 200 << 10];
        for port in 1..=20 {
            syn(&mut streams, port, 0);
            // Bytes 1..100 never come: everything after them is held.
            feed(&mut streams, port, 100, &piece, &mut out);
            assert!(streams.held <= max, "{} held", streams.held);
        }
        let held: usize = streams.streams.values().map(Stream::held).sum();
        assert_eq!(held, streams.held);
        assert_eq!(streams.streams.len(), max / piece.len());
        assert!(
            streams.notes.messages[0].contains("dropped with 200.0 KiB held"),
            "{:?}",
            streams.notes.messages
        );
    }

    #[test]
    fn many_connections_drop_the_quietest_in_bulk() {
        let mut streams = Streams::default();
        for port in 0..(MAX_STREAMS as u16 + 1) {
            syn(&mut streams, port, 0);
        }
        assert_eq!(streams.notes.dropped_streams, (MAX_STREAMS / 8) as u64);
        assert_eq!(streams.streams.len(), MAX_STREAMS + 1 - MAX_STREAMS / 8);
    }
}
