//! Numbers and names fitted to the room they get. A number that does not fit
//! is rounded to fewer significant digits and marked with a leading `~`, never
//! cut; a name that does not fit is shortened with `…`, keeping the part that
//! tells it apart from the other rows. Widths are terminal columns
//! (unicode-width) of text already escaped for display.

use std::borrow::Cow;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::columns::KeyRoom;
use crate::format;

/// Marks a number rounded to fit its column.
pub const ROUNDED: char = '~';

/// Marks text left out.
pub const ELLIPSIS: char = '…';

/// Columns that a number of any value fits in (rounded): `~-2e-308`.
pub const NUMBER_MIN_WIDTH: usize = 8;

/// Terminal columns that `s` takes.
pub fn width(s: &str) -> usize {
    s.width()
}

/// `v` in at most `width` columns: its exact text ([`format::value`]) where that
/// fits, else rounded to as many significant digits as fit, marked with
/// [`ROUNDED`], in positional or scientific notation (whichever keeps more
/// digits); `…` where not even one digit fits.
pub fn number(v: f64, width: usize) -> String {
    let exact = format::value(v);
    if exact.len() <= width {
        return exact;
    }
    if v.is_finite() {
        for digits in (1..17).rev() {
            let sci = format!("{v:.prec$e}", prec = digits - 1);
            // Rounding up past f64::MAX leaves only the scientific text.
            if let Ok(rounded) = sci.parse::<f64>()
                && rounded.is_finite()
            {
                let text = format::value(rounded);
                if text.len() < width {
                    return format!("{ROUNDED}{text}");
                }
            }
            if sci.len() < width {
                return format!("{ROUNDED}{sci}");
            }
        }
    }
    ellipsis(width)
}

/// `…` where there is a column for it.
fn ellipsis(width: usize) -> String {
    if width == 0 {
        String::new()
    } else {
        ELLIPSIS.to_string()
    }
}

/// The longest start of `s` that takes at most `cols` columns.
fn head(s: &str, cols: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += c.width().unwrap_or(0);
        if used > cols {
            return &s[..whole_escapes_before(s, i)];
        }
    }
    s
}

/// The longest end of `s` that takes at most `cols` columns.
fn tail(s: &str, cols: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices().rev() {
        used += c.width().unwrap_or(0);
        if used > cols {
            return &s[whole_escapes_after(s, i + c.len_utf8())..];
        }
    }
    s
}

/// The bytes of the escape ([`crate::text::escape::push_escape`]: `\n`,
/// `\x1b`, `\u202e`) starting at byte `at` of `s`, or 0.
fn escape_len(s: &str, at: usize) -> usize {
    let rest = &s.as_bytes()[at..];
    let hex = |from: usize, most: usize| {
        let digits = rest.iter().skip(from).take(most);
        digits.take_while(|b| b.is_ascii_hexdigit()).count()
    };
    match rest {
        [b'\\', b'n' | b'r' | b't', ..] => 2,
        [b'\\', b'x', ..] if hex(2, 2) == 2 => 4,
        // Four digits: a fifth could as well be the text after it (`\u202eevil`).
        [b'\\', b'u', ..] if hex(2, 4) == 4 => 6,
        _ => 0,
    }
}

/// Where to cut `s` at or before byte `cut` so that no escape is split
/// (`…2eevil` would read as text that was sent).
fn whole_escapes_before(s: &str, cut: usize) -> usize {
    let from = cut.saturating_sub(7);
    (from..cut)
        .find(|&p| s.is_char_boundary(p) && p + escape_len(s, p) > cut)
        .unwrap_or(cut)
}

/// Where to cut `s` at or after byte `cut` so that no escape is split.
fn whole_escapes_after(s: &str, cut: usize) -> usize {
    let from = cut.saturating_sub(7);
    (from..cut)
        .filter(|&p| s.is_char_boundary(p))
        .map(|p| p + escape_len(s, p))
        .find(|&end| end > cut)
        .unwrap_or(cut)
}

/// `s` in at most `width` columns, cut at the end with `…` when it does not
/// fit. Never inside a number: a word that starts with one (`13.7053…`,
/// `(12…`) is left out whole, so that what shows is not read as another.
pub fn end(s: &str, width: usize) -> Cow<'_, str> {
    if s.width() <= width {
        return Cow::Borrowed(s);
    }
    let Some(room) = width.checked_sub(1) else {
        return Cow::Borrowed("");
    };
    let kept = head(s, room);
    let word_at = kept
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let kept = if is_number_word(&kept[word_at..]) {
        &kept[..word_at]
    } else {
        kept
    };
    Cow::Owned(format!("{kept}{ELLIPSIS}"))
}

/// Whether `word` starts with a number, after brackets, quotes and a sign.
fn is_number_word(word: &str) -> bool {
    word.trim_start_matches(['(', '[', '{', '"', '+', '-', '~', '≈'])
        .starts_with(|c: char| c.is_ascii_digit())
}

/// `s` in at most `width` columns, cut at the start with `…` when it does not
/// fit: for text whose end matters (a line being typed, where the cursor is).
pub fn start(s: &str, width: usize) -> Cow<'_, str> {
    if s.width() <= width {
        return Cow::Borrowed(s);
    }
    let Some(room) = width.checked_sub(1) else {
        return Cow::Borrowed("");
    };
    Cow::Owned(format!("{ELLIPSIS}{}", tail(s, room)))
}

/// `s` in at most `width` columns, cut in the middle with `…` when it does
/// not fit: a short start (a third of the room, at most [`KEPT_HEAD`]), the
/// rest for its end (a sender's `User-Agent @ address` keeps its address).
pub fn middle(s: &str, width: usize) -> Cow<'_, str> {
    if s.width() <= width {
        return Cow::Borrowed(s);
    }
    let Some(room) = width.checked_sub(1) else {
        return Cow::Borrowed("");
    };
    let start = head(s, (room / 3).min(KEPT_HEAD));
    let end = tail(s, room - start.width());
    Cow::Owned(format!("{start}{ELLIPSIS}{end}"))
}

/// Columns of the start kept before a cut in the middle, when there is room.
const KEPT_HEAD: usize = 6;

/// A sender (its User-Agent `agent`, escaped, and `extras` such as
/// ` @ 10.1.2.3` and ` tenant team-a`) in at most `width` columns, cut where
/// it loses least: the extras first, the last first, leaving ` …`; then the
/// product name before the version (`Prom…/3.16.0`: the version tells
/// releases apart); the end last. A cut in the middle made `Prome….16.0 @
/// 10.1.2.3` of `Prometheus/3.16.0 @ 10.1.2.3`.
pub fn sender(agent: &str, extras: &[&str], width: usize) -> String {
    for kept in (0..=extras.len()).rev() {
        let left_out = if kept < extras.len() { " …" } else { "" };
        let text = format!("{agent}{}{left_out}", extras[..kept].concat());
        if text.width() <= width {
            return text;
        }
    }
    agent_cut(agent, width)
}

/// A User-Agent in at most `width` columns: its product name cut before its
/// version, its end last.
fn agent_cut(agent: &str, width: usize) -> String {
    if agent.width() <= width {
        return agent.to_owned();
    }
    if let Some((product, version)) = agent.split_once('/') {
        let room = width.saturating_sub(version.width() + 1);
        if room >= 2 {
            return format!("{}/{version}", end(product, room));
        }
    }
    end(agent, width).into_owned()
}

/// A sender's text as the store names it (`User-Agent @ address`) in a row
/// of a table, where the address may be what tells two rows apart: the
/// User-Agent cut as [`sender`] cuts it, the address kept while that leaves
/// its version, else cut in the middle.
pub fn sender_row(text: &str, width: usize) -> String {
    let Some(at) = text.rfind(" @ ") else {
        return agent_cut(text, width);
    };
    let (agent, address) = text.split_at(at);
    let room = width.saturating_sub(address.width());
    let cut = agent_cut(agent, room);
    if text.width() <= width || (cut.width() <= room && cut.contains('/')) {
        return format!(
            "{}{address}",
            if text.width() <= width { agent } else { &cut }
        );
    }
    middle(text, width).into_owned()
}

/// Columns of the differing part that a row needs to be told apart.
const DIFFERING: usize = 12;

/// `s` in at most `width` columns, keeping the part that tells it apart (from
/// byte `differs` on, see [`differing_starts`]): cut at the end when that part
/// still shows its start, else cut in the middle, `hea…differing part`.
pub fn distinct(s: &str, differs: usize, width: usize) -> Cow<'_, str> {
    if s.width() <= width {
        return Cow::Borrowed(s);
    }
    let (common, rest) = s.split_at(differs.min(s.len()));
    let head_room = KEPT_HEAD.min(width / 4);
    // Room for the common part and the start of the differing one, or a
    // common part no longer than the head kept: cut the end.
    if common.width() + rest.width().min(DIFFERING) < width || common.width() <= head_room {
        return end(s, width);
    }
    let tail_room = width.saturating_sub(head_room + 1);
    // The differing part, and as much as fits before it.
    let tail = if rest.width() <= tail_room {
        Cow::Borrowed(tail(s, tail_room))
    } else {
        end(rest, tail_room)
    };
    Cow::Owned(format!("{}{ELLIPSIS}{tail}", head(s, head_room)))
}

/// The columns [`distinct`] needs to keep `s` apart from the others: all of it,
/// or a short head and the start of its differing part.
fn distinct_need(s: &str, differs: usize) -> usize {
    let rest = &s[differs.min(s.len())..];
    let cut = KEPT_HEAD + 1 + rest.width().min(DIFFERING) + usize::from(rest.width() > DIFFERING);
    s.width().min(cut)
}

/// The names of a table's key column (escaped), each with where it starts to
/// differ from the others.
pub struct Names<'a> {
    texts: Vec<&'a str>,
    differs: Vec<usize>,
}

impl<'a> Names<'a> {
    /// The names of the rows shown, in order.
    pub fn new(texts: Vec<&'a str>) -> Self {
        let differs = differing_starts(&texts);
        Names { texts, differs }
    }

    /// What the key column asks for: room for every name whole and for the
    /// column's `header`, and room that still tells the names apart.
    pub fn room(&self, header: &str) -> KeyRoom {
        let need = self.texts.iter().zip(&self.differs);
        let widest = self.texts.iter().map(|t| width(t)).max().unwrap_or(0);
        KeyRoom {
            want: widest.max(width(header)),
            need: need.map(|(t, &d)| distinct_need(t, d)).max().unwrap_or(0),
        }
    }

    /// Name `i` in `width` columns (see [`distinct`]).
    pub fn shown(&self, i: usize, width: u16) -> String {
        match (self.texts.get(i), self.differs.get(i)) {
            (Some(text), Some(&d)) => distinct(text, d, width.into()).into_owned(),
            _ => String::new(),
        }
    }
}

/// Characters after which a name's differing part may start, so that it shows
/// whole words: `…_0`, `…"node-b:9100"}`.
fn is_separator(c: char) -> bool {
    matches!(c, '{' | ' ' | ',' | '_' | '.' | ':' | '/' | '-' | '=' | '"')
}

/// For each text, the byte where the part that tells it apart from all the
/// others starts: after the longest prefix it shares with any of them, moved
/// back to the separator that begins the word.
fn differing_starts(texts: &[&str]) -> Vec<usize> {
    // The text sharing the longest prefix with a text is next to it in sorted order.
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_unstable_by_key(|&i| texts[i]);
    let mut starts = vec![0; texts.len()];
    for pair in order.windows(2) {
        let (a, b) = (texts[pair[0]], texts[pair[1]]);
        let shared = common_prefix(a, b);
        for i in pair {
            starts[*i] = starts[*i].max(shared);
        }
    }
    for (start, text) in starts.iter_mut().zip(texts) {
        *start = text[..*start]
            .char_indices()
            .rev()
            .find(|&(_, c)| is_separator(c))
            .map_or(0, |(i, _)| i);
    }
    starts
}

/// Bytes of the longest common prefix of `a` and `b`, at a character boundary.
fn common_prefix(a: &str, b: &str) -> usize {
    let n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    (0..=n).rev().find(|&i| a.is_char_boundary(i)).unwrap_or(0)
}

#[cfg(test)]
mod tests;
