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
mod tests {
    use super::*;

    #[test]
    fn a_cut_never_splits_an_escape() {
        let sender = r"hostile/1.0 \u202eevil\u200b @ 127.0.0.1";
        for width in 8..sender.len() {
            for cut in [
                middle(sender, width),
                end(sender, width),
                start(sender, width),
            ] {
                assert!(cut.width() <= width, "{cut} in {width}");
                // Where it cuts, no escape of the sender's is split.
                let (head, rest) = cut.split_once('…').unwrap_or((&cut, ""));
                let escapes: Vec<(usize, usize)> = sender
                    .match_indices('\\')
                    .map(|(i, _)| (i, i + escape_len(sender, i)))
                    .collect();
                let splits = |at: usize| escapes.iter().any(|&(a, b)| a < at && at < b);
                let tail_at = sender.len() - rest.len();
                assert!(
                    sender.starts_with(head) && sender.ends_with(rest),
                    "{cut:?}"
                );
                assert!(
                    !splits(head.len()) && !splits(tail_at),
                    "{cut:?} at {width}"
                );
            }
        }
        assert_eq!(middle(sender, 20), "hostil… @ 127.0.0.1");
        assert_eq!(end(r"a\x1b[31m", 4), "a…");
        assert_eq!(start(r"\x1b[31m", 6), "…[31m");
        assert_eq!(end(r"x\ny", 3), "x…");
    }

    /// Whether `shown` stands for `v`: its exact text, or `~` and `v` rounded
    /// to the significant digits shown.
    fn stands_for(shown: &str, v: f64) -> bool {
        if shown == format::value(v) {
            return true;
        }
        let Some(rounded) = shown.strip_prefix(ROUNDED) else {
            return false;
        };
        let Ok(r) = rounded.parse::<f64>() else {
            return false;
        };
        (1..=17).any(|digits| format!("{v:.prec$e}", prec = digits - 1).parse::<f64>() == Ok(r))
    }

    #[test]
    fn numbers_are_rounded_never_cut() {
        let values = [
            13.705352776068167,
            90.90144205269057,
            1e300,
            -1e-300,
            -123456789.125,
            f64::MAX,
            f64::MIN,
            5e-324,
            -1.5e-308,
            999999.7,
            123456789012345.0,
            0.1,
            -0.0,
        ];
        for v in values {
            for width in NUMBER_MIN_WIDTH..30 {
                let shown = number(v, width);
                assert!(shown.len() <= width, "{v} in {width}: {shown}");
                assert!(stands_for(&shown, v), "{v} in {width}: {shown}");
            }
        }
        assert_eq!(number(13.705352776068167, 8), "~13.7054");
        assert_eq!(number(123456789012345.0, 8), "~1.23e14");
        assert_eq!(number(999999.7, 7), "~1.00e6");
        assert_eq!(number(1e300, 5), "1e300");
        assert_eq!(number(f64::MIN, 9), "~-1.8e308");
        assert_eq!(number(f64::MIN, 7), "~-2e308");
        assert_eq!(number(1e300, 4), "…");
        assert_eq!(number(f64::NAN, 3), "NaN");
        assert_eq!(number(f64::NAN, 2), "…");
        assert_eq!(number(1.0, 0), "");
    }

    #[test]
    fn names_are_cut_keeping_what_differs() {
        let names = [
            "avalanche_metric_mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm_0_0",
            "avalanche_metric_mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm_0_1",
            "avalanche_metric_mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm_1_0",
            "up",
        ];
        let starts = differing_starts(&names);
        let shown: Vec<_> = names
            .iter()
            .zip(&starts)
            .map(|(n, &d)| distinct(n, d, 20))
            .collect();
        assert_eq!(
            shown,
            [
                "avala…mmmmmmmmmm_0_0",
                "avala…mmmmmmmmmm_0_1",
                "avala…mmmmmmmmmm_1_0",
                "up"
            ]
        );
        for (s, n) in shown.iter().zip(names) {
            assert!(width(s) <= 20, "{s}");
            assert!(distinct_need(n, 0) >= 2);
        }
        // A differing part that starts early: the end is cut.
        let labels = [
            r#"{code="200", handler="/api/v1/query_range"}"#,
            r#"{code="500", handler="/api/v1/query_range"}"#,
        ];
        let starts = differing_starts(&labels);
        assert_eq!(
            distinct(labels[0], starts[0], 20),
            r#"{code="200", handle…"#
        );
    }

    #[test]
    fn widths_are_display_columns() {
        assert_eq!(width("宽字符🙂"), 8);
        assert_eq!(end("宽字符🙂标签", 6), "宽字…");
        assert_eq!(end("宽字符", 1), "…");
        assert_eq!(end("abc", 0), "");
    }

    #[test]
    fn text_is_never_cut_inside_a_number() {
        let counts = "1198 series, 1159 samples, 39 histograms, 1194 metadata";
        assert_eq!(end(counts, 20), "1198 series, 1159 s…");
        assert_eq!(end(counts, 17), "1198 series, …");
        assert_eq!(end(counts, 26), "1198 series, 1159 samples…");
        assert_eq!(end("/api (12), /b (3)", 9), "/api …");
        assert_eq!(end("value 13.705352776068167", 14), "value …");
        // Digits inside a name are part of the name.
        assert_eq!(end("avalanche_metric_12345", 20), "avalanche_metric_12…");
        assert_eq!(end("12345", 3), "…");
        assert_eq!(differing_starts(&["宽字符_a", "宽字符_b"]), [9, 9]);
        assert_eq!(middle("宽字符🙂标签", 7), "宽…标签");
    }

    #[test]
    fn a_name_cut_in_the_middle_keeps_its_end() {
        let sender = "Prometheus/3.16.0 @ 10.1.2.3";
        assert_eq!(middle(sender, 40), sender);
        assert_eq!(middle(sender, 22), "Promet…16.0 @ 10.1.2.3");
        assert_eq!(middle(sender, 13), "Prom…10.1.2.3");
        assert_eq!(middle(sender, 1), "…");
        assert_eq!(middle(sender, 0), "");
        for w in 0..30 {
            assert!(width(&middle(sender, w)) <= w);
        }
    }

    #[test]
    fn a_sender_loses_its_extras_then_its_product_name_before_its_version() {
        let at = |w| sender("Prometheus/3.16.0", &[" @ 10.1.2.3", " tenant team-a"], w);
        assert_eq!(at(42), "Prometheus/3.16.0 @ 10.1.2.3 tenant team-a");
        assert_eq!(at(41), "Prometheus/3.16.0 @ 10.1.2.3 …");
        assert_eq!(at(29), "Prometheus/3.16.0 …");
        assert_eq!(at(18), "Prometheus/3.16.0");
        assert_eq!(at(12), "Prom…/3.16.0");
        assert_eq!(at(9), "P…/3.16.0");
        assert_eq!(at(8), "Prometh…");
        assert_eq!(
            sender("vmagent/v1.151.0", &[" @ ::1"], 18),
            "vmagent/v1.151.0 …"
        );
        assert_eq!(
            sender("vmagent/v1.151.0", &[" @ ::1"], 17),
            "vmagent/v1.151.0"
        );
        assert_eq!(sender("(no User-Agent)", &[], 10), "(no User-…");
        // In a table the address stays: it may tell two rows apart.
        let row = |w| sender_row("Prometheus/3.16.0 @ 10.1.2.3", w);
        assert_eq!(row(28), "Prometheus/3.16.0 @ 10.1.2.3");
        assert_eq!(row(23), "Prom…/3.16.0 @ 10.1.2.3");
        assert_eq!(row(20), "P…/3.16.0 @ 10.1.2.3");
        assert_eq!(row(15), "Prom…@ 10.1.2.3");
    }
}
