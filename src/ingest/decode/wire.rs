//! A minimal protobuf wire-format reader over a byte slice: no allocation, and
//! errors that say at which byte offset the message went wrong.

/// Protobuf wire types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireType {
    /// int32, int64, uint*, sint*, bool, enum.
    Varint,
    /// fixed64, sfixed64, double.
    Fixed64,
    /// string, bytes, embedded messages, packed repeated fields.
    Len,
    /// fixed32, sfixed32, float.
    Fixed32,
    /// Start of a group (deprecated proto2 encoding): skipped like any unknown field.
    StartGroup,
    EndGroup,
}

impl WireType {
    fn name(self) -> &'static str {
        match self {
            WireType::Varint => "varint",
            WireType::Fixed64 => "64-bit",
            WireType::Len => "length-delimited",
            WireType::Fixed32 => "32-bit",
            WireType::StartGroup => "start-group",
            WireType::EndGroup => "end-group",
        }
    }
}

/// What went wrong at the wire level, with the offset into the message being read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(pub String);

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Bytes of the longest varint (64 bits, 7 per byte).
const MAX_VARINT_LEN: usize = 10;

/// Nesting of unknown groups beyond which a message is refused (prost's
/// recursion limit).
const MAX_GROUP_DEPTH: usize = 100;

/// Cursor over one protobuf message.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Reads the message in `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Whether the whole message has been read.
    pub fn is_done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Reads a varint.
    #[inline(always)]
    pub fn varint(&mut self) -> Result<u64, WireError> {
        // Keys, lengths and small values fit one byte, the lengths of series
        // messages two: skip the loop for them.
        match self.buf.get(self.pos..) {
            Some([first, ..]) if *first < 0x80 => {
                self.pos += 1;
                Ok(u64::from(*first))
            }
            Some([first, second, ..]) if *second < 0x80 => {
                self.pos += 2;
                Ok(u64::from(first & 0x7f) | u64::from(*second) << 7)
            }
            _ => self.varint_multi_byte(),
        }
    }

    fn varint_multi_byte(&mut self) -> Result<u64, WireError> {
        let at = self.pos;
        let mut value = 0u64;
        for i in 0..MAX_VARINT_LEN {
            let Some(&byte) = self.buf.get(self.pos) else {
                return Err(WireError(format!(
                    "message truncated inside a varint at byte {}",
                    self.pos
                )));
            };
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if i == MAX_VARINT_LEN - 1 && byte > 1 {
                // The tenth byte holds bit 63 alone; anything more overflows 64
                // bits (prost rejects it; Go's decoders would truncate).
                break;
            }
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err(WireError(format!("varint at byte {at} overflows 64 bits")))
    }

    /// Reads a field key: field number and wire type.
    #[inline(always)]
    pub fn key(&mut self) -> Result<(u32, WireType), WireError> {
        let at = self.pos;
        let key = self.varint()?;
        let wire = match key & 7 {
            0 => WireType::Varint,
            1 => WireType::Fixed64,
            2 => WireType::Len,
            3 => WireType::StartGroup,
            4 => WireType::EndGroup,
            5 => WireType::Fixed32,
            other => {
                return Err(WireError(format!(
                    "unsupported wire type {other} at byte {at} (not a protobuf message of this type?)"
                )));
            }
        };
        let field = key >> 3;
        if field == 0 || field > u64::from(u32::MAX >> 3) {
            return Err(WireError(format!(
                "invalid field number {field} at byte {at}"
            )));
        }
        Ok((field as u32, wire))
    }

    /// Reads a length-delimited payload.
    #[inline(always)]
    pub fn bytes(&mut self) -> Result<&'a [u8], WireError> {
        let at = self.pos;
        let len = self.varint()?;
        let remaining = self.buf.len() - self.pos;
        if len > remaining as u64 {
            return Err(WireError(format!(
                "field at byte {at} claims {len} bytes but only {remaining} remain (truncated message?)"
            )));
        }
        let start = self.pos;
        self.pos += len as usize;
        Ok(&self.buf[start..self.pos])
    }

    /// Reads 8 little-endian bytes.
    #[inline]
    pub fn fixed64(&mut self) -> Result<u64, WireError> {
        let end = self.pos + 8;
        let Some(bytes) = self.buf.get(self.pos..end) else {
            return Err(WireError(format!(
                "message truncated inside a 64-bit value at byte {}",
                self.pos
            )));
        };
        self.pos = end;
        let mut raw = [0u8; 8];
        raw.copy_from_slice(bytes);
        Ok(u64::from_le_bytes(raw))
    }

    /// Reads a double.
    #[inline]
    pub fn double(&mut self) -> Result<f64, WireError> {
        self.fixed64().map(f64::from_bits)
    }

    /// Skips the payload of unknown field `field`, as protobuf parsers do: a
    /// group is skipped up to its matching end, an end without a start is an error.
    pub fn skip(&mut self, field: u32, wire: WireType) -> Result<(), WireError> {
        match wire {
            WireType::Varint => self.varint().map(drop),
            WireType::Fixed64 => self.fixed64().map(drop),
            WireType::Len => self.bytes().map(drop),
            WireType::Fixed32 => {
                let end = self.pos + 4;
                if end > self.buf.len() {
                    return Err(WireError(format!(
                        "message truncated inside a 32-bit value at byte {}",
                        self.pos
                    )));
                }
                self.pos = end;
                Ok(())
            }
            WireType::StartGroup => self.skip_group(field),
            WireType::EndGroup => Err(WireError(format!(
                "end of group {field} without its start, before byte {}",
                self.pos
            ))),
        }
    }

    /// Skips the fields of group `field` and its end, nested groups included.
    fn skip_group(&mut self, field: u32) -> Result<(), WireError> {
        // The groups open around the current position, innermost last.
        let mut open = vec![field];
        while let Some(&innermost) = open.last() {
            if self.is_done() {
                return Err(WireError(format!(
                    "message truncated inside group {innermost}"
                )));
            }
            let at = self.pos;
            match self.key()? {
                (inner, WireType::EndGroup) if inner == innermost => {
                    open.pop();
                }
                (inner, WireType::EndGroup) => {
                    return Err(WireError(format!(
                        "end of group {inner} at byte {at} inside group {innermost}"
                    )));
                }
                (inner, WireType::StartGroup) if open.len() < MAX_GROUP_DEPTH => open.push(inner),
                (_, WireType::StartGroup) => {
                    return Err(WireError(format!(
                        "groups nested more than {MAX_GROUP_DEPTH} deep at byte {at}"
                    )));
                }
                (inner, wire) => self.skip(inner, wire)?,
            }
        }
        Ok(())
    }
}

/// The one-byte key of field `field` (1 to 15) with wire type `wire`: what the
/// fast paths match instead of reading keys.
pub const fn key_byte(field: u32, wire: WireType) -> u8 {
    assert!(
        field >= 1 && field <= 15,
        "one-byte keys hold fields 1 to 15"
    );
    let wire = match wire {
        WireType::Varint => 0,
        WireType::Fixed64 => 1,
        WireType::Len => 2,
        WireType::StartGroup => 3,
        WireType::EndGroup => 4,
        WireType::Fixed32 => 5,
    };
    ((field << 3) | wire) as u8
}

/// Error for a known field sent with the wrong wire type.
pub fn wrong_type(field: &str, got: WireType, want: WireType) -> WireError {
    WireError(format!(
        "field `{field}` has wire type {} but must be {}",
        got.name(),
        want.name()
    ))
}

/// Checks a known field's wire type.
#[inline]
pub fn expect(field: &str, got: WireType, want: WireType) -> Result<(), WireError> {
    if got == want {
        Ok(())
    } else {
        Err(wrong_type(field, got, want))
    }
}

/// Reads a repeated `uint32` field, packed or not, into `out`. A value over
/// 32 bits keeps its low 32 bits, as protobuf parsers (prost, Go) read it.
pub fn repeated_u32(
    r: &mut Reader<'_>,
    wire: WireType,
    field: &str,
    out: &mut Vec<u32>,
) -> Result<(), WireError> {
    match wire {
        WireType::Varint => {
            out.push(r.varint()? as u32);
            Ok(())
        }
        WireType::Len => packed_u32(r.bytes()?, out),
        other => Err(wrong_type(field, other, WireType::Len)),
    }
}

/// Reads the values of a packed repeated `uint32` field (the field's bytes)
/// into `out`; see [`repeated_u32`].
pub fn packed_u32(packed: &[u8], out: &mut Vec<u32>) -> Result<(), WireError> {
    // At most one value per byte: written into room made up front,
    // with the count in a local (a push per value would store the
    // vector's length each time).
    let start = out.len();
    out.resize(start + packed.len(), 0);
    let room = out.get_mut(start..).unwrap_or(&mut []);
    let (mut read, mut written) = (0, 0);
    // RW 2.0 symbol references take one or two bytes (up to 16,383
    // symbols): those without the general varint's loop.
    while let Some(rest) = packed.get(read..)
        && let Some(slot) = room.get_mut(written)
    {
        let (value, len) = match *rest {
            [] => break,
            [first, ..] if first < 0x80 => (u32::from(first), 1),
            [first, second, ..] if second < 0x80 => {
                (u32::from(first & 0x7f) | u32::from(second) << 7, 2)
            }
            _ => {
                let mut varint = Reader::new(rest);
                match varint.varint() {
                    Ok(value) => (value as u32, varint.pos),
                    Err(e) => {
                        out.truncate(start + written);
                        return Err(e);
                    }
                }
            }
        };
        *slot = value;
        (read, written) = (read + len, written + 1);
    }
    out.truncate(start + written);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trips_and_rejects_truncation() {
        let mut r = Reader::new(&[0xac, 0x02]);
        assert_eq!(r.varint(), Ok(300));
        assert!(r.is_done());
        assert!(Reader::new(&[0x80]).varint().is_err());
        assert!(Reader::new(&[0xff; 11]).varint().is_err());
    }

    #[test]
    fn bytes_rejects_length_past_end() {
        let err = Reader::new(&[0x05, 1, 2]).bytes().unwrap_err();
        assert!(err.0.contains("claims 5 bytes but only 2 remain"), "{err}");
    }

    #[test]
    fn key_reads_every_wire_type_and_rejects_the_undefined_ones_and_field_zero() {
        assert_eq!(Reader::new(&[0x0b]).key(), Ok((1, WireType::StartGroup)));
        assert_eq!(Reader::new(&[0x0c]).key(), Ok((1, WireType::EndGroup)));
        assert!(Reader::new(&[0x0e]).key().is_err()); // field 1, wire type 6
        assert!(Reader::new(&[0x02]).key().is_err()); // field 0
        assert_eq!(Reader::new(&[0x0a]).key(), Ok((1, WireType::Len)));
    }

    #[test]
    fn tenth_varint_byte_above_one_overflows() {
        let mut max = [0xff; 10];
        max[9] = 0x01;
        assert_eq!(Reader::new(&max).varint(), Ok(u64::MAX));
        for tenth in [0x02, 0x7f, 0x80] {
            max[9] = tenth;
            let err = Reader::new(&max).varint().unwrap_err();
            assert!(err.0.contains("overflows 64 bits"), "{tenth:#x}: {err}");
        }
    }

    #[test]
    fn uint32_keeps_the_low_bits_as_protobuf_parsers_do() {
        let mut out = Vec::new();
        // 2^32 + 5, then 7, packed.
        let packed = [0x06, 0x85, 0x80, 0x80, 0x80, 0x10, 0x07];
        repeated_u32(&mut Reader::new(&packed), WireType::Len, "f", &mut out).unwrap();
        assert_eq!(out, [5, 7]);
    }

    /// Skips the unknown field whose key starts `bytes`; returns where it ended.
    fn skip_unknown(bytes: &[u8]) -> Result<usize, WireError> {
        let mut r = Reader::new(bytes);
        let (field, wire) = r.key()?;
        r.skip(field, wire)?;
        Ok(r.pos)
    }

    #[test]
    fn groups_are_skipped_to_their_end_and_nested_ones_too() {
        // Group 5 holding a varint field, a group 6 with a 32-bit field, then more.
        let group = [
            0x2b, 0x08, 0x01, 0x33, 0x0d, 1, 2, 3, 4, 0x34, 0x2c, 0x08, 0x07,
        ];
        assert_eq!(skip_unknown(&group), Ok(11));
        // An end of another group, an end without a start, an unterminated group.
        assert!(skip_unknown(&[0x2b, 0x34, 0x2c]).is_err());
        assert!(skip_unknown(&[0x2c]).is_err());
        assert!(skip_unknown(&[0x2b, 0x08, 0x01]).is_err());
        let deep: Vec<u8> = std::iter::repeat_n(0x2b, MAX_GROUP_DEPTH + 1)
            .chain(std::iter::repeat_n(0x2c, MAX_GROUP_DEPTH + 1))
            .collect();
        assert!(skip_unknown(&deep).unwrap_err().0.contains("nested"));
        assert_eq!(
            skip_unknown(&deep[1..deep.len() - 1]),
            Ok(2 * MAX_GROUP_DEPTH)
        );
    }
}
