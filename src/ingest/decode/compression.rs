//! Body decompression: snappy block format (remote write) and zstd
//! (VictoriaMetrics' protocol), each refusing before it allocates when the
//! decoded size its header states is over the limit.

use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

use super::DecodeError;
use super::cursor::Cursor;
use super::wire;
use crate::ingest::model::{Protocol, body_buf};

/// The first bytes of a snappy *framed* stream (stream identifier chunk).
const SNAPPY_FRAMED_MAGIC: &[u8] = b"\xff\x06\x00\x00sNaPpY";

/// The first bytes of a zstd frame (0xFD2FB528, little-endian).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// How a body is compressed, from its Content-Encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Snappy block format: remote write 1.0 and 2.0.
    Snappy,
    /// Zstandard: VictoriaMetrics' remote write protocol.
    Zstd,
}

impl Compression {
    /// How bodies of `protocol` are compressed.
    pub fn of(protocol: Protocol) -> Self {
        match protocol {
            Protocol::V1 | Protocol::V2 => Compression::Snappy,
            Protocol::Vm => Compression::Zstd,
        }
    }

    /// Decompresses `body`, refusing to decode more than `max_decoded` bytes.
    pub fn decompress(self, body: &[u8], max_decoded: usize) -> Result<Vec<u8>, DecodeError> {
        match self {
            Compression::Snappy => decompress(body, max_decoded),
            Compression::Zstd => decompress_zstd(body, max_decoded),
        }
    }
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
            header: "snappy",
            announced,
            limit: max_decoded,
        });
    }
    let snappy_error = |e: snap::Error| DecodeError::Snappy(e.to_string(), body_hint(body));
    let mut out = body_buf::take(snap::raw::decompress_len(body).map_err(snappy_error)?);
    let len = snap::raw::Decoder::new()
        .decompress(body, &mut out)
        .map_err(snappy_error)?;
    out.truncate(len);
    Ok(out)
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

/// A guess at what a body that failed to decompress really is.
fn body_hint(body: &[u8]) -> Option<&'static str> {
    match body {
        [0x1f, 0x8b, ..] => Some("it looks gzip-compressed"),
        [b'{', ..] | [b'[', ..] => Some("it looks like JSON"),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Some("it looks zstd-compressed"),
        _ => None,
    }
}

/// Output decoded per step: the bound on what is decoded past the limit
/// before the limit is noticed, for frames that do not state their size.
const ZSTD_STEP: usize = 1 << 20;

/// Decompresses a zstd body (one frame or several, as the format allows).
/// A frame that states its decoded size is refused before anything is
/// allocated when that is over `max_decoded`; one that does not is decoded a
/// step at a time and refused as soon as it passes the limit.
pub fn decompress_zstd(body: &[u8], max_decoded: usize) -> Result<Vec<u8>, DecodeError> {
    if body.is_empty() {
        return Err(DecodeError::EmptyBody);
    }
    // A skippable frame (magic 0x184D2A5?) may come first too (RFC 8878, 3.1.2).
    let skippable_first = matches!(body, [0x50..=0x5f, 0x2a, 0x4d, 0x18, ..]);
    if !body.starts_with(&ZSTD_MAGIC) && !skippable_first {
        let hint = match body_hint(body) {
            Some(hint) => format!(" ({hint})"),
            None if announced_len(body).is_ok() => " (snappy, perhaps?)".into(),
            None => String::new(),
        };
        return Err(DecodeError::Zstd(format!(
            "it does not start with the zstd magic number{hint}"
        )));
    }
    let zstd_error = |e: FrameDecoderError| DecodeError::Zstd(e.to_string());
    let mut decoder = FrameDecoder::new();
    decoder.set_max_window_size(max_window(max_decoded));
    let mut out = Vec::new();
    let mut input = body;
    while !input.is_empty() {
        let header = zstd_frame_header(input);
        if let Some(window) = header.as_ref().map(|h| h.window)
            && window > max_window(max_decoded)
        {
            return Err(DecodeError::WindowTooLarge {
                window,
                limit: max_window(max_decoded),
            });
        }
        if let Some(announced) = header.and_then(|h| h.content_size) {
            let total = announced.saturating_add(out.len() as u64);
            if total > max_decoded as u64 {
                return Err(DecodeError::TooLarge {
                    header: "zstd frame",
                    announced: total,
                    limit: max_decoded,
                });
            }
            out.reserve(announced as usize);
        }
        match decoder.reset(&mut input) {
            Ok(()) => {}
            Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                length,
                ..
            })) => {
                input = input.get(length as usize..).ok_or_else(|| {
                    DecodeError::Zstd("a skippable frame runs past the end of the body".into())
                })?;
                continue;
            }
            Err(e) => return Err(zstd_error(e)),
        }
        loop {
            decoder
                .decode_blocks(&mut input, BlockDecodingStrategy::UptoBytes(ZSTD_STEP))
                .map_err(zstd_error)?;
            decoder
                .collect_to_writer(&mut out)
                .map_err(|e| DecodeError::Zstd(e.to_string()))?;
            if out.len() > max_decoded {
                return Err(DecodeError::DecodedTooLarge { limit: max_decoded });
            }
            if decoder.is_finished() && decoder.can_collect() == 0 {
                break;
            }
        }
    }
    Ok(out)
}

/// The largest zstd window accepted: the decoder allocates it up front. A
/// window larger than the whole output is of no use, but encoders choose it
/// by level, not by input: at least 8 MiB (zstd's default levels use up to that).
fn max_window(max_decoded: usize) -> u64 {
    max_decoded.max(8 << 20).next_power_of_two() as u64
}

/// What decompressing `body` may allocate at most, for accounting before
/// decoding: for snappy the decoded size its header states; for zstd what its
/// blocks decode to at most (a frame's stated size is not a bound: a body may
/// hold more frames, and the decoder does not hold a frame to it), the limit
/// when it is damaged past its first header; never over `max_decoded`.
pub fn decoded_size_bound(compression: Compression, body: &[u8], max_decoded: usize) -> usize {
    decoded_size_bound_in_pieces(compression, &[body], max_decoded)
}

/// [`decoded_size_bound`] of a body held in pieces, read where they lie (not
/// joined).
pub fn decoded_size_bound_in_pieces<T: AsRef<[u8]>>(
    compression: Compression,
    pieces: &[T],
    max_decoded: usize,
) -> usize {
    let body = Cursor::new(pieces);
    let bound = match compression {
        // A varint of up to 10 bytes.
        Compression::Snappy => announced_len(&body.peek(10)).ok(),
        Compression::Zstd => zstd_frame_header(&body.peek(ZSTD_MAX_FRAME_HEADER))
            .map(|_| zstd_decoded_bound(body).unwrap_or(u64::MAX)),
    };
    // No bound: the first header is invalid, and decoding fails before allocating.
    bound.map_or(0, |b| b.min(max_decoded as u64) as usize)
}

/// The largest block a zstd frame may hold, decoded, whatever its window.
const ZSTD_MAX_BLOCK: u64 = 128 << 10;

/// The longest zstd frame header: magic, descriptor, window, dictionary id
/// and content size (4 + 1 + 1 + 4 + 8 bytes).
const ZSTD_MAX_FRAME_HEADER: usize = 18;

/// The most the zstd frames in `input` decode to, from their frame and block
/// headers alone (RFC 8878, 3.1.1.2): a raw or RLE block states its decoded
/// size, a compressed one decodes to at most min(window, 128 KiB), a skippable
/// frame to nothing. `None` when a header is damaged or cut.
fn zstd_decoded_bound<T: AsRef<[u8]>>(mut input: Cursor<'_, T>) -> Option<u64> {
    let mut total = 0u64;
    while !input.is_empty() {
        // Skippable frame: magic 0x184D2A5?, then its length.
        if let [0x50..=0x5f, 0x2a, 0x4d, 0x18, a, b, c, d] = *input.peek(8) {
            input.advance(8usize.checked_add(u32::from_le_bytes([a, b, c, d]) as usize)?)?;
            continue;
        }
        let header = zstd_frame_header(&input.peek(ZSTD_MAX_FRAME_HEADER))?;
        input.advance(header.len)?;
        let block_max = header.window.min(ZSTD_MAX_BLOCK);
        loop {
            let [b0, b1, b2] = *input.peek(3) else {
                return None;
            };
            let block = u32::from_le_bytes([b0, b1, b2, 0]);
            let (last, size) = (block & 1 == 1, u64::from(block >> 3));
            let (stored, decoded) = match (block >> 1) & 3 {
                0 => (size, size),      // raw
                1 => (1, size),         // RLE: one byte, repeated
                2 => (size, block_max), // compressed
                _ => return None,       // reserved
            };
            input.advance(3 + usize::try_from(stored).ok()?)?;
            total = total.saturating_add(decoded);
            if last {
                break;
            }
        }
        if header.checksum {
            input.advance(4)?;
        }
    }
    Some(total)
}

/// What the header of a zstd frame says of its size.
#[derive(Debug, PartialEq)]
struct ZstdFrameHeader {
    /// Decoded size, when stated.
    content_size: Option<u64>,
    /// Bytes of history the decoder keeps (and allocates).
    window: u64,
    /// Bytes of the magic number and the header: where the first block starts.
    len: usize,
    /// Whether a checksum of four bytes follows the last block.
    checksum: bool,
}

/// Reads the header of the zstd frame at the start of `input` (RFC 8878,
/// 3.1.1.1); `None` when it is not one.
fn zstd_frame_header(input: &[u8]) -> Option<ZstdFrameHeader> {
    let rest = input.strip_prefix(&ZSTD_MAGIC)?;
    let (&descriptor, mut rest) = rest.split_first()?;
    let single_segment = descriptor & 0x20 != 0;
    let mut window = None;
    if !single_segment {
        let (&descriptor, after) = rest.split_first()?;
        let base = 1u64 << (10 + (descriptor >> 3));
        window = Some(base + base / 8 * u64::from(descriptor & 7));
        rest = after;
    }
    let dictionary_id_len = [0, 1, 2, 4][usize::from(descriptor & 3)];
    rest = rest.get(dictionary_id_len..)?;
    let size_len = match descriptor >> 6 {
        0 if single_segment => 1,
        0 => 0,
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let mut le = [0u8; 8];
    le[..size_len].copy_from_slice(rest.get(..size_len)?);
    let content_size = (size_len > 0).then(|| {
        let n = u64::from_le_bytes(le);
        // The two-byte form is offset by 256.
        if size_len == 2 { n + 256 } else { n }
    });
    Some(ZstdFrameHeader {
        content_size,
        window: window.or(content_size)?,
        len: input.len() - rest.len() + size_len,
        checksum: descriptor & 0x04 != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zstd(raw: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(raw, ruzstd::encoding::CompressionLevel::Fastest)
    }

    /// A frame of `blocks` RLE blocks of `block` bytes of `x`, that states its
    /// size (single segment, eight-byte size) or not (a 1 MiB window).
    fn rle_frame(blocks: u32, block: u32, states_size: bool) -> Vec<u8> {
        let mut body = ZSTD_MAGIC.to_vec();
        if states_size {
            body.push(0b1110_0000);
            body.extend_from_slice(&(u64::from(blocks) * u64::from(block)).to_le_bytes());
        } else {
            body.extend_from_slice(&[0x00, 0x50]); // window 2^(10 + 10)
        }
        for i in 0..blocks {
            let last = u32::from(i + 1 == blocks);
            // RLE block (type 1): its size is the decoded size, one byte of content.
            body.extend_from_slice(&(last | (1 << 1) | (block << 3)).to_le_bytes()[..3]);
            body.push(b'x');
        }
        body
    }

    #[test]
    fn zstd_round_trips() {
        let raw: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let body = zstd(&raw);
        assert_eq!(decompress_zstd(&body, raw.len()).unwrap(), raw);
        // Two frames, one after the other, decode to both.
        let two = [body.clone(), zstd(b"tail")].concat();
        assert_eq!(decompress_zstd(&two, 1 << 20).unwrap().len(), raw.len() + 4);
        // A skippable frame first (RFC 8878, 3.1.2) was refused as not zstd.
        let skippable = [0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3];
        let first = [skippable.to_vec(), body.clone()].concat();
        assert_eq!(decompress_zstd(&first, raw.len()).unwrap(), raw);
        // Only a skippable frame: nothing in it.
        assert_eq!(decompress_zstd(&skippable, 10).unwrap(), b"");
    }

    #[test]
    fn zstd_over_the_limit_is_refused_from_the_header() {
        let body = rle_frame(2, 100_000, true);
        assert_eq!(
            zstd_frame_header(&body).unwrap().content_size,
            Some(200_000)
        );
        assert_eq!(decompress_zstd(&body, 200_000).unwrap().len(), 200_000);
        assert_eq!(
            decompress_zstd(&body, 100_000),
            Err(DecodeError::TooLarge {
                header: "zstd frame",
                announced: 200_000,
                limit: 100_000
            })
        );
        assert_eq!(
            decoded_size_bound(Compression::Zstd, &body, 1 << 20),
            200_000
        );
    }

    #[test]
    fn zstd_without_a_stated_size_is_refused_once_past_the_limit() {
        let body = rle_frame(40, 100_000, false);
        assert_eq!(
            zstd_frame_header(&body),
            Some(ZstdFrameHeader {
                content_size: None,
                window: 1 << 20,
                len: 6,
                checksum: false,
            })
        );
        // What its blocks decode to, not its window: that is what it takes.
        assert_eq!(
            decoded_size_bound(Compression::Zstd, &body, 32 << 20),
            4_000_000
        );
        assert_eq!(decompress_zstd(&body, 4_000_000).unwrap().len(), 4_000_000);
        assert_eq!(
            decompress_zstd(&body, 1_000_000),
            Err(DecodeError::DecodedTooLarge { limit: 1_000_000 })
        );
    }

    #[test]
    fn the_bound_charged_for_a_zstd_body_covers_all_its_frames_and_blocks() {
        let bound = |body: &[u8]| decoded_size_bound(Compression::Zstd, body, 32 << 20);
        // A frame that states a small size, then one that states none and has a
        // 1 KiB window but decodes to 150 KB, a skippable frame between them.
        let mut small_window = ZSTD_MAGIC.to_vec();
        small_window.extend_from_slice(&[0x00, 0x00]);
        small_window.extend_from_slice(&rle_frame(150, 1_000, false)[6..]);
        let skippable = [0x5a, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 0xab, 0xcd];
        let body = [rle_frame(1, 1_000, true), skippable.to_vec(), small_window].concat();
        assert_eq!(decompress_zstd(&body, 1 << 20).unwrap().len(), 151_000);
        assert_eq!(bound(&body), 151_000);
        // Compressed blocks: at most 128 KiB each, at least what they decode to.
        let raw: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let compressed = zstd(&raw);
        assert!((raw.len()..raw.len() + (128 << 10)).contains(&bound(&compressed)));
        // Damaged past its first header: anything up to the limit.
        let cut = &body[..body.len() - 1];
        assert_eq!(bound(cut), 32 << 20);
    }

    #[test]
    fn the_bound_of_a_body_in_pieces_is_that_of_the_body_joined() {
        let raw: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let skippable = [0x5a, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 0xab, 0xcd];
        let zstd_body = [
            rle_frame(3, 1_000, true),
            skippable.to_vec(),
            zstd(&raw),
            rle_frame(2, 500, false),
        ]
        .concat();
        let snappy = snap::raw::Encoder::new().compress_vec(&raw).unwrap();
        let cut = &zstd_body[..zstd_body.len() - 1];
        for (compression, body) in [
            (Compression::Zstd, &zstd_body[..]),
            (Compression::Zstd, cut),
            (Compression::Snappy, &snappy[..]),
        ] {
            let joined = decoded_size_bound(compression, body, 32 << 20);
            assert!(joined > 0);
            // Cut in two anywhere in the first headers, and in pieces of every
            // size up to past the longest header.
            for at in 0..40.min(body.len()) {
                let (a, b) = body.split_at(at);
                assert_eq!(
                    decoded_size_bound_in_pieces(compression, &[a, b], 32 << 20),
                    joined,
                    "{compression:?} cut at {at}"
                );
            }
            for size in 1..24 {
                let pieces: Vec<&[u8]> = body.chunks(size).collect();
                assert_eq!(
                    decoded_size_bound_in_pieces(compression, &pieces, 32 << 20),
                    joined,
                    "{compression:?} in pieces of {size}"
                );
            }
        }
    }

    #[test]
    fn zstd_window_over_the_limit_is_refused_before_allocating() {
        let mut body = ZSTD_MAGIC.to_vec();
        body.extend_from_slice(&[0x00, 0x98]); // window 2^(10 + 19) = 512 MiB
        assert_eq!(
            decompress_zstd(&body, 32 << 20),
            Err(DecodeError::WindowTooLarge {
                window: 512 << 20,
                limit: 32 << 20
            })
        );
    }

    #[test]
    fn not_zstd_says_what_it_looks_like() {
        let snappy = snap::raw::Encoder::new().compress_vec(b"hello").unwrap();
        for (body, says) in [
            (&snappy[..], "snappy, perhaps?"),
            (b"\x1f\x8b\x08\x00", "gzip"),
            (b"{\"a\": 1}", "JSON"),
        ] {
            let err = decompress_zstd(body, 100).unwrap_err().to_string();
            assert!(err.contains(says), "{err}");
        }
        assert_eq!(decompress_zstd(b"", 100), Err(DecodeError::EmptyBody));
        let truncated = zstd(&[1u8; 1000]);
        assert!(matches!(
            decompress_zstd(&truncated[..truncated.len() - 3], 10_000),
            Err(DecodeError::Zstd(_))
        ));
    }
}
