//! Byte tests over whole strings in 16-byte blocks, so that checks run per
//! label (is a name plain, does a value need escaping, can it match a literal)
//! compile to SIMD instead of a branch per byte.

/// Whether `ok` holds for every 16-byte block of `s`, for byte tests written without
/// early exits so they compile to SIMD. Blocks may overlap, repeating bytes; a string
/// under 16 bytes is padded with `pad`, which must pass.
#[inline(always)] // called per label; inlined, the block test's constants are set up once
pub fn all_blocks(s: &[u8], pad: u8, ok: impl Fn(&[u8; 16]) -> bool) -> bool {
    if let Some(last) = s.last_chunk::<16>() {
        return s.as_chunks::<16>().0.iter().all(&ok) && ok(last);
    }
    // Overlapping ends cover a short string without a variable-length copy.
    let mut block = [pad; 16];
    if let (Some(head), Some(tail)) = (s.first_chunk::<8>(), s.last_chunk::<8>()) {
        block[..8].copy_from_slice(head);
        block[8..].copy_from_slice(tail);
    } else if let (Some(head), Some(tail)) = (s.first_chunk::<4>(), s.last_chunk::<4>()) {
        block[..4].copy_from_slice(head);
        block[4..8].copy_from_slice(tail);
    } else if let (Some(&first), Some(&last)) = (s.first(), s.last()) {
        block[..3].copy_from_slice(&[first, s[s.len() / 2], last]);
    }
    ok(&block)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_of_every_length_is_tested() {
        // Blocks overlap or are padded: a byte at any offset of any length must count.
        for len in 0..40 {
            let plain = vec![b'a'; len];
            assert!(all_blocks(&plain, b'a', |b| !b.contains(&b'x')));
            for at in 0..len {
                let mut s = plain.clone();
                s[at] = b'x';
                assert!(!all_blocks(&s, b'a', |b| !b.contains(&b'x')), "{len} {at}");
            }
        }
    }
}
