//! Pure decoding of remote-write bodies: snappy block decompression with a size
//! check before allocating, then RW1 or RW2 protobuf into [`WriteData`].

mod rw1;
mod rw2;
pub mod wire;

use thiserror::Error;

use std::ops::Range;

use super::model::{Protocol, Sample, StrId, WriteData, label_set_hash_in_order};
use crate::proto::rw2 as pb2;

/// The first bytes of a snappy *framed* stream (stream identifier chunk).
const SNAPPY_FRAMED_MAGIC: &[u8] = b"\xff\x06\x00\x00sNaPpY";

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
    /// Decoded length over the limit.
    #[error(
        "snappy header announces {announced} decoded bytes, over the limit of {limit} (--max-body-bytes)"
    )]
    TooLarge {
        /// Length stated in the snappy header.
        announced: u64,
        /// Configured limit.
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
    /// Well-formed protobuf that breaks a remote-write rule.
    #[error("invalid remote-write 2.0 request: {0}")]
    Invalid(String),
}

fn snappy_hint(hint: &Option<&'static str>) -> String {
    hint.map(|h| format!(" ({h})")).unwrap_or_default()
}

/// Decompresses a snappy block body, refusing before allocation if the decoded
/// size stated in its header exceeds `max_decoded`.
pub fn decompress(body: &[u8], max_decoded: usize) -> Result<Vec<u8>, DecodeError> {
    if body.is_empty() {
        return Err(DecodeError::EmptyBody);
    }
    if body.starts_with(SNAPPY_FRAMED_MAGIC) {
        return Err(DecodeError::FramedSnappy);
    }
    let announced = announced_len(body)?;
    if announced > max_decoded as u64 {
        return Err(DecodeError::TooLarge {
            announced,
            limit: max_decoded,
        });
    }
    snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| DecodeError::Snappy(e.to_string(), body_hint(body)))
}

/// The decoded length from a snappy block header (a varint, up to 2^32 - 1).
fn announced_len(body: &[u8]) -> Result<u64, DecodeError> {
    let mut reader = wire::Reader::new(body);
    match reader.varint() {
        Ok(n) if n <= u64::from(u32::MAX) => Ok(n),
        _ => Err(DecodeError::Snappy(
            "the length header is not a valid varint".into(),
            body_hint(body),
        )),
    }
}

/// A guess at what a non-snappy body really is.
fn body_hint(body: &[u8]) -> Option<&'static str> {
    match body {
        [0x1f, 0x8b, ..] => Some("it looks gzip-compressed"),
        [b'{', ..] | [b'[', ..] => Some("it looks like JSON"),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Some("it looks zstd-compressed"),
        _ => None,
    }
}

/// Decodes a decompressed protobuf body of the given protocol; the returned
/// data keeps `buf` and refers to its strings in place.
pub fn decode(protocol: Protocol, buf: Vec<u8>) -> Result<WriteData, DecodeError> {
    let mut data = match protocol {
        Protocol::V1 => rw1::decode(&buf),
        Protocol::V2 => rw2::decode(&buf),
    }?;
    // The two schemas use disjoint top-level field numbers, so a body of the other
    // kind decodes "successfully" to nothing: say so instead of staying silent.
    if !buf.is_empty() && data.series.is_empty() && data.metadata.is_empty() {
        let (this, other) = match protocol {
            Protocol::V1 => ("prometheus.WriteRequest", "io.prometheus.write.v2.Request"),
            Protocol::V2 => ("io.prometheus.write.v2.Request", "prometheus.WriteRequest"),
        };
        data.warn(|| {
            format!(
                "{} bytes decoded to an empty {this}: is it a {other} sent with the wrong Content-Type?",
                buf.len()
            )
        });
    }
    data.set_buffer(buf);
    Ok(data)
}

/// The [`StrId`] of `s`, a subslice of `base`, after checking it is UTF-8
/// (protobuf `string` fields must be).
#[inline]
fn string(
    base: &[u8],
    s: &[u8],
    message: &'static str,
    path: impl FnOnce() -> String,
) -> Result<StrId, DecodeError> {
    // Label names and values are nearly always ASCII, which is valid UTF-8 and
    // much cheaper to check.
    if !s.is_ascii()
        && let Err(e) = std::str::from_utf8(s)
    {
        return Err(DecodeError::Protobuf {
            message,
            detail: format!("{}: string is not valid UTF-8 ({e})", path()),
        });
    }
    // An absent field is an empty slice that need not lie inside `base`.
    let offset = (s.as_ptr() as usize).checked_sub(base.as_ptr() as usize);
    match offset {
        Some(start) if !s.is_empty() && start + s.len() <= base.len() => {
            Ok(StrId::new(start, s.len()))
        }
        _ => Ok(WriteData::EMPTY),
    }
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

/// What Prometheus tolerates in a series' labels but the spec forbids, checked
/// name by name while the labels are read.
struct LabelCheck<'a> {
    previous: Option<&'a [u8]>,
    has_name: bool,
    /// Names strictly ascending (no repeats): the order of the canonical form.
    sorted: bool,
    problem: Option<&'static str>,
}

impl<'a> LabelCheck<'a> {
    fn new() -> Self {
        LabelCheck {
            previous: None,
            has_name: false,
            sorted: true,
            problem: None,
        }
    }

    /// Takes the next label name.
    #[inline(always)]
    fn name(&mut self, name: &'a [u8]) {
        self.has_name |= name == b"__name__";
        if name.is_empty() {
            self.problem = Some("has an empty label name");
        } else if let Some(previous) = self.previous
            && !less(previous, name)
        {
            self.sorted = false;
            self.problem = Some("has labels that are not sorted by name, or a repeated name");
        }
        self.previous = Some(name);
    }

    /// Whether the names were strictly ascending.
    fn sorted(&self) -> bool {
        self.sorted
    }

    /// Records a warning for series `index` if something was wrong.
    fn finish(self, data: &mut WriteData, index: usize) {
        let problem = if self.has_name {
            self.problem
        } else {
            self.problem.or(Some("has no __name__ label"))
        };
        if let Some(problem) = problem {
            data.warn(|| format!("timeseries[{index}] {problem}"));
        }
    }
}

/// Checks the labels of a finished series (for decoders that resolve names
/// late); returns whether their names are strictly ascending.
fn check_labels(base: &[u8], data: &mut WriteData, index: usize, labels: Range<u32>) -> bool {
    let mut check = LabelCheck::new();
    for l in data
        .labels
        .get(labels.start as usize..labels.end as usize)
        .unwrap_or(&[])
    {
        check.name(base.get(l.name.range()).unwrap_or(&[]));
    }
    let sorted = check.sorted();
    check.finish(data, index);
    sorted
}

/// The identity hash of the labels in `labels` (spans of `base`), whose names
/// the caller found `sorted` or not.
fn hash_labels(
    base: &[u8],
    data: &WriteData,
    labels: Range<u32>,
    sorted: bool,
    scratch: &mut Vec<u8>,
) -> u64 {
    let pairs = data
        .labels
        .get(labels.start as usize..labels.end as usize)
        .unwrap_or(&[]);
    let bytes = |id: StrId| base.get(id.range()).unwrap_or(&[]);
    label_set_hash_in_order(
        pairs.iter().map(|l| (bytes(l.name), bytes(l.value))),
        sorted,
        scratch,
    )
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

/// Decodes a Sample; RW1 and RW2 share the layout, RW2 adds `start_timestamp = 3`.
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
            1 => {
                expect("value", wire, WireType::Fixed64)?;
                s.value = r.double()?;
            }
            2 => {
                expect("timestamp", wire, WireType::Varint)?;
                s.timestamp_ms = r.varint()? as i64;
            }
            3 if with_start => {
                expect("start_timestamp", wire, WireType::Varint)?;
                s.start_timestamp_ms = r.varint()? as i64;
            }
            _ => r.skip(wire)?,
        }
    }
    Ok(s)
}

/// A Sample in the usual encoding, `09 <double> 10 <varint>`, read without the
/// general field loop; `None` for anything else.
#[inline(always)]
fn sample_fast(buf: &[u8]) -> Option<Sample> {
    let [0x09, value @ .., 0x10] = buf.first_chunk::<10>()? else {
        return None;
    };
    let timestamp = buf.get(10..)?;
    let (&last, init) = timestamp.split_last()?;
    if last >= 0x80 || init.len() > 9 {
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

/// Reads field `histograms` of series `index` into `data.histograms`.
fn read_histogram(
    r: &mut wire::Reader<'_>,
    wire: wire::WireType,
    data: &mut WriteData,
    (index, first): (usize, u32),
    with_start: bool,
    message: &'static str,
) -> Result<(), DecodeError> {
    let n = data.histograms.len() as u32 - first;
    let path = || format!("timeseries[{index}].histograms[{n}]");
    wire::expect("histograms", wire, wire::WireType::Len).map_err(at(message, path))?;
    let bytes = r.bytes().map_err(at(message, path))?;
    data.histograms
        .push(histogram(bytes, with_start, message, path)?);
    Ok(())
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
