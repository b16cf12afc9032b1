//! What the fuzz targets in `fuzz/` run (cargo-fuzz, on nightly), kept in the
//! library so that `tests/fuzz_corpus.rs` replays the checked-in corpus and every
//! input that ever failed through the very same code on stable. Not an API.
//!
//! A target takes any bytes and panics when promscope misbehaves on them: by
//! panicking itself, by decoding into data that breaks the model's invariants, or
//! by letting a character that [`crate::text::escape::is_hidden`] reach text or
//! JSON output, the summary or a cell of the screen. Hangs and allocations over a
//! bound are libFuzzer's to catch (`-timeout`, `-rss_limit_mb`, `-malloc_limit_mb`).

mod checks;
mod pipeline;

use prost::encoding::{WireType, encode_key, encode_varint};

use crate::ingest::decode::{self, Compression, decoded_size_bound};
use crate::ingest::model::Protocol;
use pipeline::Tour;

/// A fuzz target: its name (that of its `fuzz/fuzz_targets/*.rs` file and of its
/// corpus directories) and what it runs on one input.
pub struct Target {
    /// File and directory name.
    pub name: &'static str,
    /// Runs one input; panics on a defect.
    pub run: fn(&[u8]),
}

/// Every fuzz target.
pub const TARGETS: &[Target] = &[
    Target {
        name: "decode_rw1",
        run: decode_rw1,
    },
    Target {
        name: "decode_rw2",
        run: decode_rw2,
    },
    Target {
        name: "decode_vm",
        run: decode_vm,
    },
    Target {
        name: "histogram",
        run: histogram,
    },
    Target {
        name: "pipeline",
        run: pipeline,
    },
];

/// Between the requests of one input of [`pipeline`] and the histograms of
/// one input of [`histogram`] (`fuzz/requests.dict` names it for libFuzzer).
pub const SEPARATOR: &[u8] = b"\xff\xffNEXT";

/// Requests (or histograms) one input may hold: enough for rates, a pause and
/// the order of arrival to matter.
const MAX_PARTS: usize = 4;

/// The most a body may decompress to in the decoder targets: small enough that
/// an input cannot ask for much, large enough for what a few KiB decompress to.
const DECOMPRESSED_LIMIT: usize = 1 << 20;

/// The decoder on an RW 1.0 body (decompressed), and on the same bytes taken
/// as a snappy body.
pub fn decode_rw1(input: &[u8]) {
    decode_body(Protocol::V1, input);
}

/// The decoder on an RW 2.0 body (decompressed), and on the same bytes taken
/// as a snappy body.
pub fn decode_rw2(input: &[u8]) {
    decode_body(Protocol::V2, input);
}

/// VictoriaMetrics' protocol: `input` as a zstd body, decompressed and decoded.
pub fn decode_vm(input: &[u8]) {
    if let Some(decompressed) = decompress(Compression::Zstd, input) {
        let body = decompressed.len();
        if let Ok(data) = decode::decode(Protocol::Vm, decompressed) {
            checks::decoded(&data, body);
        }
    }
}

fn decode_body(protocol: Protocol, input: &[u8]) {
    decompress(Compression::Snappy, input);
    if let Ok(data) = decode::decode(protocol, input.to_vec()) {
        checks::decoded(&data, input.len());
    }
}

/// `input` decompressed, if it is a valid body; what it decompressed to must
/// be within the limit and the bound the receiver charges before decompressing.
fn decompress(compression: Compression, input: &[u8]) -> Option<Vec<u8>> {
    let decompressed = compression.decompress(input, DECOMPRESSED_LIMIT).ok()?;
    let bound = decoded_size_bound(compression, input, DECOMPRESSED_LIMIT);
    assert!(
        decompressed.len() <= bound,
        "{compression:?} decompressed to {} bytes, over the bound of {bound} charged for it",
        decompressed.len()
    );
    Some(decompressed)
}

/// Native histograms through everything: after a flags byte (bit 0: RW 2.0,
/// else RW 1.0), up to [`MAX_PARTS`] encoded `Histogram` messages split by
/// [`SEPARATOR`], each sent in its own request as the one histogram of one
/// series; then the dashboard's views of that series at every size, and text
/// and JSON output.
pub fn histogram(input: &[u8]) {
    let Some((&flags, rest)) = input.split_first() else {
        return;
    };
    let protocol = protocol(flags);
    let bodies: Vec<Vec<u8>> = parts(rest)
        .map(|h| histogram_request(protocol, h))
        .collect();
    pipeline::run(protocol, &bodies, Tour::Histogram);
}

/// A whole run: after a flags byte (bit 0: RW 2.0, else RW 1.0; bit 1: pause
/// before the last request; bits 2-4: rows to move down before opening a
/// metric and a series), up to [`MAX_PARTS`] decompressed request bodies split
/// by [`SEPARATOR`]: decoded, recorded in the summary, printed as text and
/// JSON, fed to the dashboard, and every view drawn at every size.
pub fn pipeline(input: &[u8]) {
    let Some((&flags, rest)) = input.split_first() else {
        return;
    };
    let protocol = protocol(flags);
    let bodies: Vec<&[u8]> = parts(rest).collect();
    pipeline::run(
        protocol,
        &bodies,
        Tour::Everything {
            pause_before_last: flags & 2 != 0,
            rows_down: usize::from(flags >> 2 & 7),
        },
    );
}

/// The protocol bit 0 of a flags byte chooses.
fn protocol(flags: u8) -> Protocol {
    if flags & 1 == 1 {
        Protocol::V2
    } else {
        Protocol::V1
    }
}

/// The parts of `input` between [`SEPARATOR`]s, at most [`MAX_PARTS`].
fn parts(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(input);
    std::iter::from_fn(move || {
        let now = rest?;
        match now.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
            Some(at) => {
                rest = Some(&now[at + SEPARATOR.len()..]);
                Some(&now[..at])
            }
            None => {
                rest = None;
                Some(now)
            }
        }
    })
    .take(MAX_PARTS)
}

/// A request with one series, `fuzz_histogram`, whose one histogram is the
/// message `histogram`, taken as is.
fn histogram_request(protocol: Protocol, histogram: &[u8]) -> Vec<u8> {
    let mut series = Vec::new();
    match protocol {
        Protocol::V1 | Protocol::Vm => {
            let mut label = Vec::new();
            length_delimited(&mut label, 1, b"__name__");
            length_delimited(&mut label, 2, b"fuzz_histogram");
            length_delimited(&mut series, 1, &label);
            length_delimited(&mut series, 4, histogram);
            let mut request = Vec::new();
            length_delimited(&mut request, 1, &series);
            request
        }
        Protocol::V2 => {
            // labels_refs = [1, 2], packed.
            length_delimited(&mut series, 1, &[1, 2]);
            length_delimited(&mut series, 3, histogram);
            let mut request = Vec::new();
            for symbol in ["", "__name__", "fuzz_histogram"] {
                length_delimited(&mut request, 4, symbol.as_bytes());
            }
            length_delimited(&mut request, 5, &series);
            request
        }
    }
}

/// Appends field `number` holding `bytes`.
fn length_delimited(out: &mut Vec<u8>, number: u32, bytes: &[u8]) {
    encode_key(number, WireType::LengthDelimited, out);
    encode_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}
