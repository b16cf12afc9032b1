//! Capture files: every request as it was received, to inspect later or
//! elsewhere (`--record FILE`, `promscope replay FILE`).
//!
//! A capture is a WARC 1.1 file (ISO 28500, the web archives' format): per
//! request a `request` record holding the HTTP request exactly as received
//! (compressed body included) and a `response` record holding the answer the
//! sender got (promscope's, or in forward mode the backend's, saying which:
//! `relay`), each with its length and a SHA-256 of its content. The README's
//! "Capture files" section says why WARC and which fields promscope adds.
//!
//! ```text
//! Exchange ─▶ writer (own thread, bounded queue) ─▶ warc + http (bytes) ─▶ file
//! file ─▶ sniff (is it a capture?) ─▶ reader (record by record, stops at damage) ─▶ Exchange
//! ```

mod http;
mod order;
mod pcap;
pub mod reader;
mod relay;
pub mod sniff;
#[cfg(test)]
mod tests;
mod warc;
pub mod writer;

use std::io::{BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

pub use order::Place;
pub use reader::{CaptureReader, Damage};
pub use sniff::FileKind;
pub use writer::{RecordLimits, RecordStats, RecordSummary, Recorder, RecordingHandle};

/// Requests read from a file, in order, up to any damage.
pub trait Source: Iterator<Item = Result<Exchange, Damage>> + Send {
    /// Records (or requests other than POSTs) that were passed over.
    fn skipped(&self) -> u64;

    /// What was noticed on the way and not read (gaps in packet captures...).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

impl<R: std::io::BufRead + Send> Source for CaptureReader<R> {
    fn skipped(&self) -> u64 {
        CaptureReader::skipped(self)
    }
}

/// Why a file cannot be read as requests.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// It cannot be opened or read.
    #[error("cannot read {path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        error: std::io::Error,
    },
    /// A packet capture that cannot be read.
    #[error("{path}: {problem}")]
    Packets {
        /// The file.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// It is something else.
    #[error("{path} is not a capture: it looks like {}", .kind.describe())]
    NotACapture {
        /// The file.
        path: String,
        /// What it looks like.
        kind: FileKind,
    },
}

/// Opens a capture or a packet capture, after checking what the file is.
pub fn open(path: &Path) -> Result<Box<dyn Source>, OpenError> {
    let io = |error| OpenError::Io {
        path: path.display().to_string(),
        error,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut start = Vec::with_capacity(sniff::SNIFF_BYTES);
    Read::by_ref(&mut file)
        .take(sniff::SNIFF_BYTES as u64)
        .read_to_end(&mut start)
        .map_err(io)?;
    let input = std::io::Cursor::new(start.clone()).chain(file);
    match sniff::identify(&start) {
        FileKind::Warc => Ok(Box::new(CaptureReader::new(BufReader::with_capacity(
            1 << 20,
            input,
        )))),
        FileKind::Pcap | FileKind::PcapNg => match pcap::PcapSource::new(input) {
            Ok(source) => Ok(Box::new(source)),
            Err(problem) => Err(OpenError::Packets {
                path: path.display().to_string(),
                problem,
            }),
        },
        kind => Err(OpenError::NotACapture {
            path: path.display().to_string(),
            kind,
        }),
    }
}

/// An HTTP header as received: its name and raw value bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The name (HTTP/1.1 names are case-insensitive; hyper lowercases them).
    pub name: String,
    /// The value's bytes, which need not be UTF-8.
    pub value: Bytes,
}

impl Header {
    /// A header from its name and value.
    pub fn new(name: impl Into<String>, value: impl Into<Bytes>) -> Self {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// The value of the first header called `name` (ASCII case-insensitive).
pub fn header<'a>(headers: &'a [Header], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| &h.value[..])
}

/// One request and how it was answered: what a capture holds per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// When its headers arrived.
    pub received_at: SystemTime,
    /// The sender's address.
    pub peer: Option<SocketAddr>,
    /// The URL the sender addressed, `http://host/path` (WARC-Target-URI).
    pub url: String,
    /// The request method.
    pub method: String,
    /// The request target of the request line: path and query.
    pub target: String,
    /// The request headers, in the order received.
    pub headers: Vec<Header>,
    /// The body as received, still compressed.
    pub body: Bytes,
    /// False when promscope answered before reading the whole body (refused on
    /// its headers, or over a limit): `body` is what was read of it.
    pub body_complete: bool,
    /// The answer the sender got (absent in a capture cut short, or made by tcpdump).
    pub answer: Option<Answer>,
}

impl Exchange {
    /// Heap bytes it holds, for the recorder's queue bound.
    pub fn heap_bytes(&self) -> usize {
        let headers = |hs: &[Header]| {
            hs.iter()
                .map(|h| h.name.len() + h.value.len() + std::mem::size_of::<Header>())
                .sum::<usize>()
        };
        let answer = self
            .answer
            .as_ref()
            .map_or(0, |a| headers(&a.headers) + a.body.len());
        self.url.len()
            + self.method.len()
            + self.target.len()
            + headers(&self.headers)
            + self.body.len()
            + answer
    }
}

/// An HTTP response to a recorded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    pub headers: Vec<Header>,
    /// Its body (promscope's error message, or empty).
    pub body: Bytes,
    /// Why promscope refused the request (`bad_snappy`, `unauthorized`...),
    /// as counted in its summaries; absent when it was accepted.
    pub reject_reason: Option<String>,
    /// In forward mode, for a request sent on to the backend: who answered
    /// and how long it took. Absent for promscope's own answers, and in
    /// captures written before promscope recorded it.
    pub relay: Option<Relay>,
}

/// A request forward mode sent on to the backend, and what the backend did:
/// its answer is the one recorded, or (it gave none) promscope's 502 or 504.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    /// The backend's URL, as `--forward` gave it.
    pub backend: String,
    /// Whether the backend answered; if not, the answer is promscope's 502
    /// or 504 saying why.
    pub answered: bool,
    /// From sending the request on to the end of the backend's answer (or the failure).
    pub backend_latency: Duration,
    /// From the end of the request's headers to the answer to the sender.
    pub latency: Duration,
    /// Each `--mirror`'s status when the request was recorded (`204`,
    /// `pending`, `queue full`, `no answer`), in `--mirror` order.
    pub mirrors: Vec<String>,
    /// When the sender closed its connection before the answer, how long
    /// after the end of its headers: it got none.
    pub sender_gave_up: Option<Duration>,
}
