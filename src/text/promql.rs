//! Series in PromQL notation, `name{a="1", b="2"}`, as every output prints them
//! and as the filter matches them (a regex filter matches this text), with the
//! characters a terminal must not see raw escaped.

use super::escape;
use super::scan::all_blocks;

/// Whether `s` can be written unquoted: `[a-zA-Z_][a-zA-Z0-9_]*`, with `:` too
/// for metric names.
fn is_legacy_name(s: &str, allow_colon: bool) -> bool {
    let ok = |b: u8| {
        b.is_ascii_lowercase()
            | b.is_ascii_uppercase()
            | b.is_ascii_digit()
            | (b == b'_')
            | (allow_colon & (b == b':'))
    };
    let block = |b: &[u8; 16]| b.iter().fold(true, |all, &c| all & ok(c));
    s.as_bytes().first().is_some_and(|b| !b.is_ascii_digit())
        && all_blocks(s.as_bytes(), b'_', block)
}

/// Whether a block holds none of the bytes [`write_quoted`] escapes.
fn no_escapes(block: &[u8; 16]) -> bool {
    // One fold per byte: a single fold testing all of them compiles to byte shuffles.
    let has = |x: u8| block.iter().fold(false, |any, &c| any | (c == x));
    !(has(b'"') | has(b'\\') | escape::block_may_hide(block))
}

/// Appends `s` as a double-quoted PromQL string, with quotes, backslashes and
/// the characters a terminal must not see raw escaped (see [`escape`]).
pub fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    // Escapes are ASCII, so copy the text between them in whole slices.
    let mut copied = 0;
    if !all_blocks(s.as_bytes(), b'_', no_escapes) {
        for (i, c) in s.char_indices() {
            let plain = match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                c if escape::is_hidden(c) => None,
                _ => continue,
            };
            out.push_str(&s[copied..i]);
            match plain {
                Some(escaped) => out.push_str(escaped),
                None => escape::push_escape(out, c),
            }
            copied = i + c.len_utf8();
        }
    }
    out.push_str(&s[copied..]);
    out.push('"');
}

/// `bytes` as a double-quoted PromQL string, as [`write_quoted`] writes it,
/// a byte that is not UTF-8 as `\xNN`: how messages name a metric or tenant.
pub fn quoted(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    write_quoted(&mut out, &escape::lossless(bytes));
    out
}

/// Appends a series in PromQL notation: `name{a="1", b="2"}`. Names that are not
/// classic identifiers (UTF-8 names, allowed in RW2) are quoted as Prometheus 3 does:
/// `{"my.metric", "my.label"="x"}`.
pub fn write_series<'a, I>(out: &mut String, labels: I)
where
    I: IntoIterator<Item = (&'a str, &'a str)> + Clone,
{
    series_pieces(labels, |pair| pair, |piece, _| piece.write(out));
}

/// One piece of a series' text as [`write_series`] writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesPiece<'a> {
    /// The metric name: bare before the braces, or quoted as their first item.
    Name(&'a str),
    /// A label; `open` tells whether something precedes it inside the braces.
    Label {
        /// Whether the braces are already open.
        open: bool,
        name: &'a str,
        value: &'a str,
    },
    /// The end: `}` when the braces are open, `{}` for a series without any label.
    End {
        /// Whether the braces are open.
        open: bool,
        /// Whether the series has a metric name.
        named: bool,
    },
}

impl SeriesPiece<'_> {
    /// Appends the piece's text.
    pub fn write(&self, out: &mut String) {
        match *self {
            SeriesPiece::Name(n) if is_legacy_name(n, true) => out.push_str(n),
            SeriesPiece::Name(n) => {
                out.push('{');
                write_quoted(out, n);
            }
            SeriesPiece::Label { open, name, value } => {
                out.push_str(if open { ", " } else { "{" });
                if is_legacy_name(name, false) {
                    out.push_str(name);
                } else {
                    write_quoted(out, name);
                }
                out.push('=');
                write_quoted(out, value);
            }
            SeriesPiece::End { open: true, .. } => out.push('}'),
            SeriesPiece::End { named: false, .. } => out.push_str("{}"),
            SeriesPiece::End { .. } => {}
        }
    }
}

/// Walks a series' labels in the order [`write_series`] writes them and hands each
/// piece to `visit`, with the item it came from (for the name and the labels).
/// `pair` reads an item's name and value.
pub fn series_pieces<'a, T, I>(
    items: I,
    pair: impl Fn(T) -> (&'a str, &'a str),
    mut visit: impl FnMut(SeriesPiece<'a>, Option<T>),
) where
    T: Copy,
    I: IntoIterator<Item = T> + Clone,
{
    // This runs for every series when a regex filter is applied. Senders sort labels,
    // which puts `__name__` first, so usually one pass finds it and writes the rest.
    let mut rest = items.clone().into_iter().peekable();
    let (name, mut skip_name) = match rest.peek().map(|&item| (item, pair(item))) {
        Some((item, ("__name__", name))) => {
            rest.next();
            (Some((item, name)), false)
        }
        _ => {
            let name = items
                .into_iter()
                .map(|item| (item, pair(item)))
                .find(|(_, (k, _))| *k == "__name__");
            (name.map(|(item, (_, v))| (item, v)), name.is_some())
        }
    };
    // Once the brace is open something precedes the next label inside it.
    let mut open = false;
    if let Some((item, n)) = name {
        visit(SeriesPiece::Name(n), Some(item));
        open = !is_legacy_name(n, true);
    }
    for item in rest {
        let (k, v) = pair(item);
        if skip_name && k == "__name__" {
            skip_name = false;
            continue;
        }
        visit(
            SeriesPiece::Label {
                open,
                name: k,
                value: v,
            },
            Some(item),
        );
        open = true;
    }
    visit(
        SeriesPiece::End {
            open,
            named: name.is_some(),
        },
        None,
    );
}

/// A series in PromQL notation; see [`write_series`].
pub fn series<'a, I>(labels: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)> + Clone,
{
    let mut out = String::new();
    write_series(&mut out, labels);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_notation() {
        assert_eq!(
            series([("__name__", "up"), ("job", "a\"b\n")]),
            r#"up{job="a\"b\n"}"#
        );
        assert_eq!(series([("__name__", "up")]), "up");
        assert_eq!(series([("job", "x")]), r#"{job="x"}"#);
        assert_eq!(series([]), "{}");
        assert_eq!(
            series([("a", "1"), ("__name__", "m"), ("b", "\\")]),
            r#"m{a="1", b="\\"}"#
        );
        assert_eq!(
            series([("__name__", "my.metric"), ("my.label", "v")]),
            r#"{"my.metric", "my.label"="v"}"#
        );
        // Only the first `__name__` is the name, wherever it is.
        assert_eq!(
            series([("__name__", "m"), ("__name__", "n")]),
            r#"m{__name__="n"}"#
        );
        assert_eq!(
            series([("a", "1"), ("__name__", "m"), ("__name__", "n")]),
            r#"m{a="1", __name__="n"}"#
        );
        assert_eq!(series([("__name__", "1m")]), r#"{"1m"}"#);
        // What would control a terminal is escaped as PromQL reads it back.
        assert_eq!(
            series([("__name__", "m\u{9b}2J"), ("a\x1b", "\x1b]0;t\x07\u{202e}")]),
            r#"{"m\u009b2J", "a\x1b"="\x1b]0;t\x07\u202e"}"#
        );
        assert_eq!(series([("__name__", "")]), r#"{""}"#);
        assert_eq!(
            series([("__name__", "a:b"), ("c:d", "")]),
            r#"a:b{"c:d"=""}"#
        );
    }

    #[test]
    fn name_and_escape_checks_see_every_byte() {
        // Strings are checked in blocks that overlap or are padded: a byte at any
        // offset of any length must count.
        for len in 1..40 {
            assert!(is_legacy_name(&"a".repeat(len), false));
            for at in 0..len {
                let mut s = "a".repeat(len);
                s.replace_range(at..=at, ".");
                assert!(!is_legacy_name(&s, true), "{s}");
                for (hidden, shown) in [("\n", "\\n"), ("\x1b", "\\x1b"), ("\u{202e}", "\\u202e")] {
                    let mut s = "a".repeat(len);
                    s.replace_range(at..=at, hidden);
                    let mut out = String::new();
                    write_quoted(&mut out, &s);
                    assert_eq!(out, format!("\"{}\"", s.replace(hidden, shown)));
                }
            }
        }
    }
}
