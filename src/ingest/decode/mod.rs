//! Pure decoding of remote-write bodies: decompression (snappy, or zstd for
//! VictoriaMetrics' protocol) with a size check before allocating, then RW1 or
//! RW2 protobuf into [`WriteData`].

mod compression;
mod cursor;
mod raw;
mod rw1;
mod rw2;
pub mod wire;

use thiserror::Error;

use std::ops::Range;

pub use compression::{
    Compression, decoded_size_bound, decoded_size_bound_in_pieces, decompress, decompress_zstd,
};

use super::model::{Protocol, Sample, StrId, WriteData, label_set_hash_in_order};
use crate::problems::{Problem, Rule};
use crate::proto::rw2 as pb2;

/// Why a body could not be decoded; each message is meant for the sender's owner.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum DecodeError {
    /// Zero-length body.
    #[error("empty body: expected a snappy-compressed protobuf message")]
    EmptyBody,
    /// Snappy framed format instead of block format.
    #[error(
        "body uses the snappy framed (stream) format; remote write requires the snappy block format (Go: snappy.Encode, Rust: snap::raw)"
    )]
    FramedSnappy,
    /// Not valid snappy block data.
    #[error("body is not valid snappy block data: {0}{hint}", hint = snappy_hint(.1))]
    Snappy(String, Option<&'static str>),
    /// Decoded length, as stated before decoding, over the limit.
    #[error(
        "{header} header announces {announced} decoded bytes, over the limit of {limit} (--max-body-bytes)"
    )]
    TooLarge {
        /// Where the length was stated: `snappy`, `zstd frame`.
        header: &'static str,
        /// The stated length.
        announced: u64,
        /// Configured limit.
        limit: usize,
    },
    /// A body that did not state its decoded length decoded to more than the limit.
    #[error("body decodes to more than the limit of {limit} bytes (--max-body-bytes)")]
    DecodedTooLarge {
        /// Configured limit.
        limit: usize,
    },
    /// A zstd frame whose window (allocated before decoding) is over the limit.
    #[error(
        "zstd frame needs a window of {window} bytes, over the limit of {limit} (--max-body-bytes, and at least 8 MiB)"
    )]
    WindowTooLarge {
        /// The window the frame header states.
        window: u64,
        /// The largest window accepted.
        limit: u64,
    },
    /// Not valid zstd data.
    #[error("body is not valid zstd data: {0}")]
    Zstd(String),
    /// Messages that decode to far more memory than the body they came in:
    /// mostly empty ones, a decompression bomb one level up.
    #[error(
        "the {body}-byte body decodes to more than {limit} bytes of series, samples and histograms ({GROWTH} per byte, mostly empty messages?)"
    )]
    Overgrown {
        /// Size of the (decompressed) body.
        body: usize,
        /// What its decoded elements may take.
        limit: usize,
    },
    /// An RW 2.0 request whose series refer to far more label (and help and
    /// unit) bytes than the body holds: long symbols referred to over and over.
    #[error(
        "the {body}-byte body refers to more than {limit} bytes of labels, help and units ({} per byte, long symbols referred to over and over?)",
        rw2::EXPANSION
    )]
    Expanded {
        /// Size of the (decompressed) body.
        body: usize,
        /// The label bytes it may refer to.
        limit: usize,
    },
    /// Not a valid protobuf message of the expected type.
    #[error("invalid {message} protobuf: {detail}")]
    Protobuf {
        /// Message type being decoded.
        message: &'static str,
        /// Where and what.
        detail: String,
    },
}

fn snappy_hint(hint: &Option<&'static str>) -> String {
    hint.map(|h| format!(" ({h})")).unwrap_or_default()
}

/// What decoded elements may take per byte of the (decompressed) body. Real
/// requests take 2 to 6: labels of 20 bytes and more become 16, samples of 11
/// become 24. Empty messages take up to 120 (a series sent in two bytes becomes
/// 80, a histogram 240): 2 MiB of snappy holding 32 MiB of them would become
/// 4 GiB.
const GROWTH: usize = 16;

/// What decoded elements may take beyond [`GROWTH`] per byte, so that a body of
/// a few small messages always passes.
const GROWTH_SLACK: usize = 64 << 10;

/// Fails once the elements decoded so far from a `body`-byte body take more
/// than [`GROWTH`] per byte of it.
fn check_growth(data: &WriteData, body: usize) -> Result<(), DecodeError> {
    let limit = body.saturating_mul(GROWTH).saturating_add(GROWTH_SLACK);
    if data.element_bytes() > limit {
        return Err(DecodeError::Overgrown { body, limit });
    }
    Ok(())
}

/// Decodes a decompressed protobuf body of the given protocol; the returned
/// data keeps `buf` and refers to its strings in place.
pub fn decode(protocol: Protocol, mut buf: Vec<u8>) -> Result<WriteData, DecodeError> {
    let mut data = match protocol {
        Protocol::V1 | Protocol::Vm => rw1::decode(&buf),
        Protocol::V2 => rw2::decode(&buf),
    }?;
    if !data.raw_strings.is_empty() {
        raw::keep_raw_strings(&mut data, &mut buf);
    }
    // The two schemas use disjoint top-level field numbers, so a body of the other
    // kind decodes "successfully" to nothing: say so instead of staying silent.
    if data.series.is_empty() && data.metadata.is_empty() && data.refused.is_empty() {
        let (this, other, other_fields): (_, _, &[u32]) = match protocol {
            Protocol::V1 | Protocol::Vm => (
                "prometheus.WriteRequest",
                "io.prometheus.write.v2.Request",
                &[4, 5],
            ),
            Protocol::V2 => (
                "io.prometheus.write.v2.Request",
                "prometheus.WriteRequest",
                &[1, 3],
            ),
        };
        let problem = if top_level_fields(&buf).any(|f| other_fields.contains(&f)) {
            Problem::of_request(
                Rule::ContentTypeMismatch,
                format!(
                    "{} bytes decoded to an empty {this}: is it a {other} sent with the wrong Content-Type?",
                    buf.len()
                ),
            )
        } else {
            Problem::of_request(
                Rule::EmptyRequest,
                format!("{} bytes decoded to an empty {this}", buf.len()),
            )
        };
        data.problems.push(problem);
    }
    data.set_buffer(buf);
    Ok(data)
}

/// The numbers of the top-level fields of a message, as far as it parses.
fn top_level_fields(buf: &[u8]) -> impl Iterator<Item = u32> + '_ {
    let mut r = wire::Reader::new(buf);
    std::iter::from_fn(move || {
        if r.is_done() {
            return None;
        }
        let (field, wire) = r.key().ok()?;
        r.skip(field, wire).ok()?;
        Some(field)
    })
}

/// Whether `bytes` is ASCII, eight bytes at a time with no byte-by-byte tail
/// (the standard library's check handles the last bytes of a short run one by
/// one, which dominates for label runs of a few hundred bytes).
#[inline(always)]
fn is_ascii(bytes: &[u8]) -> bool {
    let Some(last) = bytes.last_chunk::<8>() else {
        return bytes.is_ascii();
    };
    let (words, _) = bytes.as_chunks::<8>();
    // The last eight bytes overlap the final word; OR-ing them twice is harmless.
    let high_bits = words.iter().fold(u64::from_ne_bytes(*last), |acc, w| {
        acc | u64::from_ne_bytes(*w)
    });
    high_bits & 0x8080_8080_8080_8080 == 0
}

/// `a < b` in byte order, inlined and eight bytes at a time: label names are
/// short, often share long prefixes (`label_key_...`), and a `memcmp` call costs
/// more than the comparison.
#[inline(always)]
fn less(mut a: &[u8], mut b: &[u8]) -> bool {
    while let (Some((x, a_rest)), Some((y, b_rest))) =
        (a.split_first_chunk::<8>(), b.split_first_chunk::<8>())
    {
        if x != y {
            // Big-endian integers order like their bytes.
            return u64::from_be_bytes(*x) < u64::from_be_bytes(*y);
        }
        (a, b) = (a_rest, b_rest);
    }
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x < y;
        }
    }
    a.len() < b.len()
}

/// The order of a series' label names, checked name by name while the labels
/// are read: strictly ascending names are in canonical order, hashed on the
/// way. (What is wrong with them is the problem rules' business: see
/// [`crate::problems::checker`].)
struct LabelCheck<'a> {
    previous: Option<&'a [u8]>,
    /// Names strictly ascending (no repeats): the canonical order.
    sorted: bool,
}

impl<'a> LabelCheck<'a> {
    fn new() -> Self {
        LabelCheck {
            previous: None,
            sorted: true,
        }
    }

    /// Takes the next label name.
    #[inline(always)]
    fn name(&mut self, name: &'a [u8]) {
        if let Some(previous) = self.previous
            && !less(previous, name)
        {
            self.sorted = false;
        }
        self.previous = Some(name);
    }

    /// Whether the names were strictly ascending.
    fn sorted(&self) -> bool {
        self.sorted
    }
}

/// The identity hash of the labels in `labels` (spans of `base`), whose names
/// the caller found `sorted` or not: RW 1.0's, and RW 2.0's for labels out of
/// order. Not inlined: inlined it costs the decoders' hot loops registers.
#[inline(never)]
fn hash_labels(base: &[u8], data: &WriteData, labels: Range<u32>, sorted: bool) -> u64 {
    let pairs = data
        .labels
        .get(labels.start as usize..labels.end as usize)
        .unwrap_or(&[]);
    let text = |id: StrId| base.get(id.range()).unwrap_or(&[]);
    label_set_hash_in_order(pairs.iter().map(|l| (text(l.name), text(l.value))), sorted)
}

/// Decodes a native histogram with the generated type (histograms are rare enough
/// that prost's owned decoding costs nothing that matters). RW1's Histogram is
/// wire-compatible with RW2's, which only adds `start_timestamp = 17`; without
/// `with_start` (RW1), field 17 is an unknown field like any other.
fn histogram(
    bytes: &[u8],
    with_start: bool,
    message: &'static str,
    path: impl Fn() -> String,
) -> Result<pb2::Histogram, DecodeError> {
    use prost::Message;
    let error = |e: prost::DecodeError| DecodeError::Protobuf {
        message,
        detail: format!("{}: {e}", path()),
    };
    match pb2::Histogram::decode(bytes) {
        Ok(h) if with_start => Ok(h),
        Ok(h) => Ok(pb2::Histogram {
            start_timestamp: 0,
            ..h
        }),
        Err(e) if with_start => Err(error(e)),
        // Field 17 of another wire type, say: read it the RW1 way.
        Err(_) => {
            let h = crate::proto::rw1::Histogram::decode(bytes).map_err(error)?;
            pb2::Histogram::decode(h.encode_to_vec().as_slice()).map_err(error)
        }
    }
}

/// Field numbers of Sample, the same in RW1 and RW2 (RW2 adds the start timestamp).
const SAMPLE_VALUE: u32 = 1;
const SAMPLE_TIMESTAMP: u32 = 2;
const SAMPLE_START_TIMESTAMP: u32 = 3;

/// Decodes a Sample; `with_start` reads RW2's `start_timestamp`.
#[inline(always)]
fn sample(buf: &[u8], with_start: bool) -> Result<Sample, wire::WireError> {
    use wire::{Reader, WireType, expect};
    let mut s = Sample {
        value: 0.0,
        timestamp_ms: 0,
        start_timestamp_ms: 0,
    };
    let mut r = Reader::new(buf);
    while !r.is_done() {
        let (field, wire) = r.key()?;
        match field {
            SAMPLE_VALUE => {
                expect("value", wire, WireType::Fixed64)?;
                s.value = r.double()?;
            }
            SAMPLE_TIMESTAMP => {
                expect("timestamp", wire, WireType::Varint)?;
                s.timestamp_ms = r.varint()? as i64;
            }
            SAMPLE_START_TIMESTAMP if with_start => {
                expect("start_timestamp", wire, WireType::Varint)?;
                s.start_timestamp_ms = r.varint()? as i64;
            }
            _ => r.skip(field, wire)?,
        }
    }
    Ok(s)
}

const SAMPLE_VALUE_KEY: u8 = wire::key_byte(SAMPLE_VALUE, wire::WireType::Fixed64);
const SAMPLE_TIMESTAMP_KEY: u8 = wire::key_byte(SAMPLE_TIMESTAMP, wire::WireType::Varint);

/// A Sample in the usual encoding, `09 <double> 10 <varint>`, read without the
/// general field loop; `None` for anything else.
#[inline(always)]
fn sample_fast(buf: &[u8]) -> Option<Sample> {
    let [SAMPLE_VALUE_KEY, value @ .., SAMPLE_TIMESTAMP_KEY] = buf.first_chunk::<10>()? else {
        return None;
    };
    let timestamp = buf.get(10..)?;
    let (&last, init) = timestamp.split_last()?;
    // At most ten bytes, the tenth holding bit 63 alone.
    if last >= 0x80 || init.len() > 9 || (init.len() == 9 && last > 1) {
        return None;
    }
    let mut acc = 0u64;
    for (i, &byte) in init.iter().enumerate() {
        if byte < 0x80 {
            return None;
        }
        acc |= u64::from(byte & 0x7f) << (7 * i);
    }
    acc |= u64::from(last) << (7 * init.len());
    Some(Sample {
        value: f64::from_le_bytes(*value.first_chunk::<8>()?),
        timestamp_ms: acc as i64,
        start_timestamp_ms: 0,
    })
}

/// Reads field `samples` of series `index` into `data.samples`; `first` is the
/// series' first sample, for the error path.
fn read_sample(
    r: &mut wire::Reader<'_>,
    wire: wire::WireType,
    data: &mut WriteData,
    (index, first): (usize, u32),
    with_start: bool,
    message: &'static str,
) -> Result<(), DecodeError> {
    let n = data.samples.len() as u32 - first;
    let path = || format!("timeseries[{index}].samples[{n}]");
    wire::expect("samples", wire, wire::WireType::Len).map_err(at(message, path))?;
    let bytes = r.bytes().map_err(at(message, path))?;
    let sample = match sample_fast(bytes) {
        Some(sample) => sample,
        None => sample(bytes, with_start).map_err(at(message, path))?,
    };
    data.samples.push(sample);
    Ok(())
}

/// Reads field `histograms` of series `index` into `data.histograms`; `body`
/// is the length of the whole body, for [`check_growth`] (a histogram is the
/// element that grows most, and one series may hold any number).
fn read_histogram(
    r: &mut wire::Reader<'_>,
    wire: wire::WireType,
    data: &mut WriteData,
    (index, first): (usize, u32),
    with_start: bool,
    message: &'static str,
    body: usize,
) -> Result<(), DecodeError> {
    let n = data.histograms.len() as u32 - first;
    let path = || format!("timeseries[{index}].histograms[{n}]");
    wire::expect("histograms", wire, wire::WireType::Len).map_err(at(message, path))?;
    let bytes = r.bytes().map_err(at(message, path))?;
    data.histograms
        .push(histogram(bytes, with_start, message, path)?);
    check_growth(data, body)
}

/// Field numbers of Exemplar, the same in RW1 and RW2 (RW1's labels are Label
/// messages, RW2's symbol references).
const EXEMPLAR_LABELS: u32 = 1;
const EXEMPLAR_VALUE: u32 = 2;
const EXEMPLAR_TIMESTAMP: u32 = 3;

/// Reads an Exemplar message: returns its value and timestamp, and hands each
/// occurrence of its labels field to `labels`, which reads it.
fn exemplar_fields<'a>(
    buf: &'a [u8],
    message: &'static str,
    path: &impl Fn() -> String,
    mut labels: impl FnMut(&mut wire::Reader<'a>, wire::WireType) -> Result<(), DecodeError>,
) -> Result<(f64, i64), DecodeError> {
    use wire::{Reader, WireType, expect};
    let (mut value, mut timestamp_ms) = (0.0, 0);
    let mut r = Reader::new(buf);
    while !r.is_done() {
        let (field, wire) = r.key().map_err(at(message, path))?;
        match field {
            EXEMPLAR_LABELS => labels(&mut r, wire)?,
            EXEMPLAR_VALUE => {
                expect("value", wire, WireType::Fixed64).map_err(at(message, path))?;
                value = r.double().map_err(at(message, path))?;
            }
            EXEMPLAR_TIMESTAMP => {
                expect("timestamp", wire, WireType::Varint).map_err(at(message, path))?;
                timestamp_ms = r.varint().map_err(at(message, path))? as i64;
            }
            _ => r.skip(field, wire).map_err(at(message, path))?,
        }
    }
    Ok((value, timestamp_ms))
}

/// Wraps a wire error with the message type and the path of the failing element.
fn at(
    message: &'static str,
    path: impl FnOnce() -> String,
) -> impl FnOnce(wire::WireError) -> DecodeError {
    move |e| DecodeError::Protobuf {
        message,
        detail: format!("{}: {e}", path()),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod less_tests {
    use super::less;

    #[test]
    fn byte_order_comparison() {
        let words: [&[u8]; 9] = [
            b"",
            b"a",
            b"ab",
            b"abcdefgh",
            b"abcdefgh0",
            b"abcdefgi",
            b"label_key_kkkkk_1",
            b"label_key_kkkkk_10",
            b"label_key_kkkkk_2",
        ];
        for a in words {
            for b in words {
                assert_eq!(less(a, b), a < b, "{a:?} < {b:?}");
            }
        }
    }
}
