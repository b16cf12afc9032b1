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
}

impl WireType {
    fn name(self) -> &'static str {
        match self {
            WireType::Varint => "varint",
            WireType::Fixed64 => "64-bit",
            WireType::Len => "length-delimited",
            WireType::Fixed32 => "32-bit",
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
        let mut value = 0u64;
        for i in 0..10 {
            let Some(&byte) = self.buf.get(self.pos) else {
                return Err(WireError(format!(
                    "message truncated inside a varint at byte {}",
                    self.pos
                )));
            };
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err(WireError(format!(
            "varint longer than 10 bytes ending at byte {}",
            self.pos
        )))
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

    /// Skips a field's payload (for unknown fields).
    pub fn skip(&mut self, wire: WireType) -> Result<(), WireError> {
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
        }
    }
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

/// Reads a repeated `uint32` field, packed or not, into `out`.
pub fn repeated_u32(
    r: &mut Reader<'_>,
    wire: WireType,
    field: &str,
    out: &mut Vec<u32>,
) -> Result<(), WireError> {
    let push = |v: u64, out: &mut Vec<u32>| {
        u32::try_from(v)
            .map(|v| out.push(v))
            .map_err(|_| WireError(format!("field `{field}` holds {v}, which overflows uint32")))
    };
    match wire {
        WireType::Varint => push(r.varint()?, out),
        WireType::Len => {
            let mut packed = Reader::new(r.bytes()?);
            while !packed.is_done() {
                push(packed.varint()?, out)?;
            }
            Ok(())
        }
        other => Err(wrong_type(field, other, WireType::Len)),
    }
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
    fn key_rejects_group_wire_types_and_field_zero() {
        assert!(Reader::new(&[0x0b]).key().is_err()); // field 1, wire type 3
        assert!(Reader::new(&[0x02]).key().is_err()); // field 0
        assert_eq!(Reader::new(&[0x0a]).key(), Ok((1, WireType::Len)));
    }
}
