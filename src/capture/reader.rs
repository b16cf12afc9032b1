//! Reads a capture record by record, as a stream: every good record before any
//! damage (a file cut short, a changed byte, bytes that are not a record) is
//! returned, then the damage: where it is and what is wrong.

use std::fmt;
use std::io::{BufRead, Read};
use std::net::SocketAddr;

use bytes::Bytes;

use super::warc::{self, MAX_HEAD_BYTES, RecordHead, TRAILER};
use super::{Answer, Exchange, http, relay};

/// The capture format version this promscope writes and reads (the
/// `promscope-capture` field of the file's `warcinfo` record).
pub const FORMAT_VERSION: u32 = 1;

/// Where reading stopped and why; everything before `offset` was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// Byte offset of the first record that could not be read.
    pub offset: u64,
    /// Its number, counting WARC records (or packets) from 1.
    pub record: u64,
    /// What is wrong with it.
    pub problem: String,
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stopped at byte {} (record {}): {}",
            self.offset, self.record, self.problem
        )
    }
}

/// A WARC record as promscope reads it.
enum Record {
    /// An HTTP request, and its WARC-Record-ID.
    Request(String, Exchange),
    /// An answer to the request with the WARC-Record-ID it names.
    Answer(String, Answer),
    /// The file's description (`warcinfo`), in a format this promscope reads.
    Info,
    /// Anything else (metadata, another tool's resources...).
    Other,
}

/// Reads exchanges from a capture; after a [`Damage`] it returns nothing more.
pub struct CaptureReader<R> {
    input: R,
    offset: u64,
    records: u64,
    /// A request waiting for its answer, which may follow it.
    pending: Option<(String, Exchange)>,
    /// Damage found while a request was pending: returned after it.
    damage: Option<Damage>,
    ended: bool,
    skipped: u64,
}

impl<R: BufRead> CaptureReader<R> {
    /// Reads a capture from `input`, from its first byte.
    pub fn new(input: R) -> Self {
        CaptureReader {
            input,
            offset: 0,
            records: 0,
            pending: None,
            damage: None,
            ended: false,
            skipped: 0,
        }
    }

    /// Bytes read so far: where the next record starts.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// WARC records that held neither a request, an answer to one, nor the
    /// file's description.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Reads the next record; `None` at the end of the input.
    fn read_record(&mut self) -> Result<Option<Record>, Damage> {
        let start = self.offset;
        let record = self.records + 1;
        let damage = |problem: String| Damage {
            offset: start,
            record,
            problem,
        };
        let Some(head_bytes) = self.read_head().map_err(damage)? else {
            return Ok(None);
        };
        let head = warc::parse_head(&head_bytes).map_err(damage)?;
        let mut block = Vec::with_capacity(head.content_length.min(1 << 20) as usize);
        let read = (&mut self.input)
            .take(head.content_length)
            .read_to_end(&mut block);
        if let Err(e) = read {
            return Err(damage(format!("reading failed: {e}")));
        }
        if (block.len() as u64) < head.content_length {
            return Err(damage(format!(
                "the file ends inside the record: its Content-Length is {}, {} bytes are there",
                head.content_length,
                block.len()
            )));
        }
        let mut trailer = [0u8; TRAILER.len()];
        let got = read_up_to(&mut self.input, &mut trailer).map_err(|e| damage(e.to_string()))?;
        if got < trailer.len() {
            return Err(damage(
                "the file ends before the record's closing CRLF CRLF".into(),
            ));
        }
        if trailer != TRAILER {
            return Err(damage(format!(
                "the record's content is not followed by CRLF CRLF (found {:?}): its Content-Length is wrong",
                String::from_utf8_lossy(&trailer)
            )));
        }
        if let Some(stated) = head.field("WARC-Block-Digest")
            && stated.len() > 7
            && stated[..7].eq_ignore_ascii_case("sha256:")
            && !stated[7..].eq_ignore_ascii_case(&warc::block_digest(&[&block])[7..])
        {
            return Err(damage(
                "its content does not match its WARC-Block-Digest: it was changed after it was written".into(),
            ));
        }
        let record = interpret(&head, Bytes::from(block)).map_err(damage)?;
        self.records += 1;
        self.offset = start + (head_bytes.len() + TRAILER.len()) as u64 + head.content_length;
        Ok(Some(record))
    }

    /// The record header up to and including its empty line; `None` when the
    /// input ends before a record starts.
    fn read_head(&mut self) -> Result<Option<Vec<u8>>, String> {
        let mut head = Vec::with_capacity(512);
        loop {
            let room = (MAX_HEAD_BYTES - head.len()) as u64;
            let line_start = head.len();
            let n = (&mut self.input)
                .take(room)
                .read_until(b'\n', &mut head)
                .map_err(|e| format!("reading failed: {e}"))?;
            if n == 0 {
                if head.is_empty() {
                    return Ok(None);
                }
                return Err("the file ends inside a record header".into());
            }
            let known = head.len().min(5);
            if line_start == 0 && head[..known] != b"WARC/"[..known] {
                // Say what is here without reading on to a distant newline.
                return Err(format!(
                    "expected a record starting with WARC/1.1, found {:?}",
                    String::from_utf8_lossy(&head[..head.len().min(40)])
                ));
            }
            if &head[line_start..] == b"\r\n" {
                return Ok(Some(head));
            }
            if head.len() >= MAX_HEAD_BYTES {
                return Err(format!(
                    "no end of the record header within {MAX_HEAD_BYTES} bytes"
                ));
            }
        }
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// What a record holds, for promscope.
fn interpret(head: &RecordHead, block: Bytes) -> Result<Record, String> {
    let is_http = head
        .field("Content-Type")
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("application/http"));
    let id = || {
        head.field("WARC-Record-ID")
            .map(str::to_owned)
            .ok_or_else(|| "the record has no WARC-Record-ID".to_owned())
    };
    match head.field("WARC-Type") {
        Some("warcinfo") => {
            check_version(&block)?;
            Ok(Record::Info)
        }
        Some("request") if is_http => {
            let date = head.field("WARC-Date").unwrap_or_default();
            let received_at = warc::parse_date(date)
                .ok_or_else(|| format!("its WARC-Date {date:?} is not a date"))?;
            let peer = match head.field("Promscope-Peer") {
                None => None,
                Some(text) => Some(text.parse::<SocketAddr>().map_err(|_| {
                    format!("its Promscope-Peer {text:?} is not an address and port")
                })?),
            };
            let request = http::parse_request(&block)?;
            let exchange = Exchange {
                received_at,
                peer,
                url: head.field("WARC-Target-URI").unwrap_or_default().to_owned(),
                method: request.method,
                target: request.target,
                headers: request.headers,
                body: request.body,
                body_complete: head.field("WARC-Truncated").is_none(),
                answer: None,
            };
            Ok(Record::Request(id()?, exchange))
        }
        Some("response") if is_http => {
            let Some(to) = head.field("WARC-Concurrent-To") else {
                return Ok(Record::Other);
            };
            let relay = match relay::parse(head) {
                Ok(relay) => relay,
                Err(Some(problem)) => return Err(problem),
                // Answers this version cannot place are for others to read.
                Err(None) => return Ok(Record::Other),
            };
            let (status, headers, body) = http::parse_response(&block)?;
            let answer = Answer {
                status,
                headers,
                body,
                reject_reason: head.field("Promscope-Reject-Reason").map(str::to_owned),
                relay,
            };
            Ok(Record::Answer(to.to_owned(), answer))
        }
        _ => Ok(Record::Other),
    }
}

/// Refuses a capture written in a newer format than this promscope reads.
fn check_version(warcinfo: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(warcinfo);
    let version = text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("promscope-capture")
            .then(|| value.trim().to_owned())
    });
    match version {
        None => Ok(()),
        Some(v) if v.parse::<u32>().is_ok_and(|n| n <= FORMAT_VERSION) => Ok(()),
        Some(v) => Err(format!(
            "it was written in capture format {v:?}; this promscope reads format {FORMAT_VERSION}: use a newer promscope"
        )),
    }
}

impl<R: BufRead> Iterator for CaptureReader<R> {
    type Item = Result<Exchange, Damage>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.ended {
                if let Some((_, exchange)) = self.pending.take() {
                    return Some(Ok(exchange));
                }
                return self.damage.take().map(Err);
            }
            match self.read_record() {
                Ok(Some(Record::Request(id, exchange))) => {
                    if let Some((_, previous)) = self.pending.replace((id, exchange)) {
                        return Some(Ok(previous));
                    }
                }
                Ok(Some(Record::Answer(to, answer))) => match &mut self.pending {
                    Some((id, exchange)) if *id == to && exchange.answer.is_none() => {
                        exchange.answer = Some(answer);
                    }
                    _ => self.skipped += 1,
                },
                Ok(Some(Record::Info)) => {}
                Ok(Some(Record::Other)) => self.skipped += 1,
                Ok(None) => self.ended = true,
                Err(damage) => {
                    self.ended = true;
                    self.damage = Some(damage);
                }
            }
        }
    }
}
