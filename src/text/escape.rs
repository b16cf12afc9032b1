//! Sender text made safe for a terminal. Label names and values, metric names,
//! help, units, paths and User-Agents come from whoever can reach the listener:
//! written raw, control characters retitle the terminal, clear it or write the
//! clipboard (OSC 52), and bidi overrides or zero-width characters make distinct
//! series look identical. Such characters are shown as escapes instead.
//!
//! Escapes use PromQL's (Go's) string syntax, `\n`, `\x1b`, `\u202e`, so a quoted
//! label value stays a valid PromQL string for the same value. The backslash
//! itself is left alone here (quoting escapes it), which makes escaping idempotent.
//!
//! A label value that is not UTF-8 is kept losslessly as text ([`lossless`]):
//! each byte that is not part of a UTF-8 character becomes one character of
//! [`RAW_BYTES`], which is hidden and escaped as that byte, `\xNN`, as PromQL
//! writes a byte.

use std::borrow::Cow;
use std::fmt::Write;
use std::ops::RangeInclusive;

/// What must not reach a terminal as is: C0 controls, DEL, C1 controls, bidi
/// embeddings, overrides, isolates and marks, line and paragraph separators, and
/// every character Unicode says to draw as nothing (Default_Ignorable_Code_Point:
/// zero-width spaces and joiners, the soft hyphen, the byte-order mark,
/// invisible operators, variation selectors, Hangul fillers, tag characters):
/// `job="api"` and `job="api"` with one of them are two series that looked one.
const HIDDEN: [RangeInclusive<char>; 20] = [
    '\0'..='\x1f',
    '\x7f'..='\u{9f}',
    '\u{ad}'..='\u{ad}',
    // Combining grapheme joiner.
    '\u{34f}'..='\u{34f}',
    '\u{61c}'..='\u{61c}',
    // Hangul choseong and jungseong fillers.
    '\u{115f}'..='\u{1160}',
    // Khmer inherent vowels.
    '\u{17b4}'..='\u{17b5}',
    // Mongolian free variation selectors and vowel separator.
    '\u{180b}'..='\u{180f}',
    '\u{200b}'..='\u{200f}',
    '\u{2028}'..='\u{202e}',
    // Word joiner, invisible operators, isolates, deprecated format characters.
    '\u{2060}'..='\u{206f}',
    // Hangul filler.
    '\u{3164}'..='\u{3164}',
    // Variation selectors.
    '\u{fe00}'..='\u{fe0f}',
    '\u{feff}'..='\u{feff}',
    // Halfwidth Hangul filler.
    '\u{ffa0}'..='\u{ffa0}',
    // Unassigned ignorables, interlinear annotation.
    '\u{fff0}'..='\u{fffb}',
    // Shorthand format controls.
    '\u{1bca0}'..='\u{1bca3}',
    // Musical symbol formatting.
    '\u{1d173}'..='\u{1d17a}',
    // Tags, variation selectors supplement, and the ignorables around them.
    '\u{e0000}'..='\u{e0fff}',
    RAW_BYTES,
];

/// The characters that stand for bytes of a label value that were not UTF-8
/// (always 0x80 or more: ASCII is UTF-8): U+10FF00 + the byte, the last 128
/// code points (private use, plane 16).
pub const RAW_BYTES: RangeInclusive<char> = '\u{10ff80}'..='\u{10ffff}';

/// `bytes` as text, losslessly: UTF-8 as it is, every other byte as the
/// character of [`RAW_BYTES`] that stands for it (escaped `\xNN` when shown).
pub fn lossless(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for &b in chunk.invalid() {
            out.extend(char::from_u32(0x10ff00 + u32::from(b)));
        }
    }
    out
}

/// The byte a character of [`RAW_BYTES`] stands for.
pub fn raw_byte(c: char) -> Option<u8> {
    RAW_BYTES.contains(&c).then(|| (c as u32 - 0x10ff00) as u8)
}

/// Whether `c` is one of the characters that must not reach a terminal as is.
pub fn is_hidden(c: char) -> bool {
    c < ' ' || (c >= '\x7f' && HIDDEN.iter().any(|r| r.contains(&c)))
}

/// Every character that [`is_hidden`].
pub fn hidden_chars() -> impl Iterator<Item = char> {
    HIDDEN.into_iter().flatten()
}

/// Whether some byte of the 16 could start a character that [`is_hidden`]: an
/// ASCII control, DEL, or the first byte of the multi-byte encodings it covers.
pub(crate) fn block_may_hide(block: &[u8; 16]) -> bool {
    // One fold per test: folds over several tests at once compile to byte shuffles.
    let has = |x: u8| block.iter().fold(false, |any, &c| any | (c == x));
    let control = block.iter().fold(false, |any, &c| any | (c < 0x20));
    // 0xc2: U+0080..U+00BF, 0xcd: U+0340.., 0xd8: U+0600.., 0xe1: U+1000..,
    // 0xe2: U+2000.., 0xe3: U+3000.., 0xef: U+F000.., 0xf0: U+10000..U+3FFFF,
    // 0xf3: U+C0000.. (tags), 0xf4: U+100000.. (raw bytes)
    let three = has(0xe1) | has(0xe2) | has(0xe3) | has(0xef);
    let four = has(0xf0) | has(0xf3) | has(0xf4);
    control | has(0x7f) | has(0xc2) | has(0xcd) | has(0xd8) | three | four
}

/// Whether `s` may hold a character that [`is_hidden`] (a fast test on bytes;
/// false means it certainly holds none).
pub fn may_hide(s: &str) -> bool {
    !super::scan::all_blocks(s.as_bytes(), b'_', |b| !block_may_hide(b))
}

/// Appends the escape for `c`: `\n`, `\r`, `\t`, `\xNN` for other ASCII controls,
/// DEL and the bytes that were not UTF-8 ([`RAW_BYTES`]), `\uNNNN` for the rest
/// (`\UNNNNNNNN` past U+FFFF).
pub fn push_escape(out: &mut String, c: char) {
    if let Some(b) = raw_byte(c) {
        let _ = write!(out, "\\x{b:02x}");
        return;
    }
    let _ = match c {
        '\n' => out.write_str("\\n"),
        '\r' => out.write_str("\\r"),
        '\t' => out.write_str("\\t"),
        c if c.is_ascii() => write!(out, "\\x{:02x}", c as u32),
        // Beyond the first plane, as Go writes it: `\u` takes four digits.
        c if u32::from(c) > 0xffff => write!(out, "\\U{:08x}", c as u32),
        c => write!(out, "\\u{:04x}", c as u32),
    };
}

/// Appends `s` with every character that [`is_hidden`] escaped.
pub fn write_escaped(out: &mut String, s: &str) {
    if !may_hide(s) {
        out.push_str(s);
        return;
    }
    let mut copied = 0;
    for (i, c) in s.char_indices().filter(|&(_, c)| is_hidden(c)) {
        out.push_str(&s[copied..i]);
        push_escape(out, c);
        copied = i + c.len_utf8();
    }
    out.push_str(&s[copied..]);
}

/// `s` with every character that [`is_hidden`] escaped; borrowed when there is none.
pub fn escaped(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    write_escaped(&mut out, s);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_that_are_not_utf8_are_kept_and_shown_as_bytes() {
        let text = lossless(b"a\xff\xc3b\xc3\xbc\\x");
        assert_eq!(text, "a\u{10ffff}\u{10ffc3}b\u{fc}\\x");
        assert_eq!(escaped(&text), r"a\xff\xc3bü\x");
        assert_eq!(lossless("ü é".as_bytes()), "ü é");
        for b in 0x80..=0xffu8 {
            let c = lossless(&[b]).chars().next().expect("one character");
            assert!(RAW_BYTES.contains(&c) && is_hidden(c), "{b:#x}");
            assert_eq!(raw_byte(c), Some(b));
        }
        assert_eq!(raw_byte('a'), None);
    }

    /// Payloads that did harm when written raw.
    const HOSTILE: &[(&str, &str)] = &[
        ("\x1b]0;owned\x07", "\\x1b]0;owned\\x07"),
        ("\x1b]2;title\x1b\\", "\\x1b]2;title\\x1b\\"),
        ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),
        ("\x1b]52;c;aGk=\x07", "\\x1b]52;c;aGk=\\x07"),
        ("\u{9b}2J", "\\u009b2J"),
        ("abc\u{202e}fed", "abc\\u202efed"),
        ("a\u{2066}b\u{2069}", "a\\u2066b\\u2069"),
        ("xx\x08\x08yy", "xx\\x08\\x08yy"),
        ("zero\u{200b}width\u{feff}", "zero\\u200bwidth\\ufeff"),
        ("del\x7f", "del\\x7f"),
        ("line\nfeed\ttab\r", "line\\nfeed\\ttab\\r"),
        // Drawn as nothing: each made `job="api"` look like another series.
        ("api\u{e0041}", "api\\U000e0041"),
        ("api\u{fe0f}", "api\\ufe0f"),
        ("api\u{3164}", "api\\u3164"),
        ("api\u{34f}", "api\\u034f"),
        ("api\u{115f}\u{17b4}\u{180b}", "api\\u115f\\u17b4\\u180b"),
        ("api\u{206a}\u{ffa0}", "api\\u206a\\uffa0"),
        ("api\u{1bca0}\u{1d173}", "api\\U0001bca0\\U0001d173"),
    ];

    #[test]
    fn hostile_text_is_escaped_and_idempotent() {
        for (raw, shown) in HOSTILE {
            assert_eq!(escaped(raw), *shown, "{raw:?}");
            assert_eq!(escaped(shown), *shown, "escaping twice changes {raw:?}");
            assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
        }
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for s in ["", "up", "µs · 5 °C … naïve 日本語 🦀", "a\\b\"c", "Ω→€"] {
            assert!(matches!(escaped(s), Cow::Borrowed(_)), "{s}");
            let mut out = String::new();
            write_escaped(&mut out, s);
            assert_eq!(out, s);
        }
    }

    #[test]
    fn the_byte_test_sees_every_hidden_character_at_any_offset() {
        let hidden: Vec<char> = hidden_chars().collect();
        assert_eq!(
            hidden,
            (0..=0x10ffff)
                .filter_map(char::from_u32)
                .filter(|&c| is_hidden(c))
                .collect::<Vec<_>>()
        );
        for c in hidden {
            for len in [0, 1, 7, 15, 16, 17, 40] {
                for at in [0, len / 2, len] {
                    let mut s = "a".repeat(len);
                    s.insert(at, c);
                    assert!(may_hide(&s), "{c:?} at {at} of {len}");
                }
            }
        }
    }

    #[test]
    fn every_control_character_is_hidden() {
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            if c.is_control() {
                assert!(is_hidden(c), "{c:?}");
            }
        }
    }
}
