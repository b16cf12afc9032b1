//! Pure decoding of remote-write bodies: snappy block decompression with a size
//! check before allocating, then RW1 or RW2 protobuf into [`WriteData`].

mod rw1;
mod rw2;
pub mod wire;

use thiserror::Error;

use super::model::{Protocol, Sample, WriteData};
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

/// Decodes a decompressed protobuf body of the given protocol.
pub fn decode(protocol: Protocol, buf: &[u8]) -> Result<WriteData, DecodeError> {
    let mut data = match protocol {
        Protocol::V1 => rw1::decode(buf),
        Protocol::V2 => rw2::decode(buf),
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
    Ok(data)
}

/// Decodes a native histogram with the generated type (histograms are rare enough
/// that prost's owned decoding costs nothing that matters). RW1's Histogram is
/// wire-compatible with RW2's, which only adds `start_timestamp = 17`.
fn histogram(
    bytes: &[u8],
    message: &'static str,
    path: impl Fn() -> String,
) -> Result<pb2::Histogram, DecodeError> {
    use prost::Message;
    pb2::Histogram::decode(bytes).map_err(|e| DecodeError::Protobuf {
        message,
        detail: format!("{}: {e}", path()),
    })
}

/// Decodes a Sample; RW1 and RW2 share the layout, RW2 adds `start_timestamp = 3`.
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

/// Validates a protobuf `string` field.
fn utf8<'a>(
    bytes: &'a [u8],
    message: &'static str,
    path: impl FnOnce() -> String,
) -> Result<&'a str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|e| DecodeError::Protobuf {
        message,
        detail: format!("{}: string is not valid UTF-8 ({e})", path()),
    })
}

#[cfg(test)]
mod tests;
