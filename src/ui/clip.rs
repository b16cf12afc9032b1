//! Lines wrapped into a box of fixed size that says where it cut them: a
//! label value or help text longer than the box ends in `…`, and lines that
//! got no row at all are counted (`… +4990 more labels`), never silently
//! left out.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

use super::theme;

/// `lines` wrapped at `width` columns (at a space where the row has one,
/// else between characters; each character keeping its style) into at most
/// `height` rows. When they need more, the last row ends in `…`, followed by
/// ` +N more {what}` when N lines got no row.
pub fn wrapped<'a>(lines: Vec<Line<'a>>, width: usize, height: usize, what: &str) -> Vec<Line<'a>> {
    if width == 0 || height == 0 {
        return Vec::new();
    }
    let total = lines.len();
    // Each row with the index of the line it is part of.
    let mut rows: Vec<(usize, Vec<(char, Style)>)> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        rows.push((index, Vec::new()));
        let chars: Vec<(char, Style)> = line
            .spans
            .iter()
            .flat_map(|span| {
                span.content
                    .chars()
                    .map(|c| (c, line.style.patch(span.style)))
            })
            .collect();
        let mut used = 0;
        for (at, &(c, style)) in chars.iter().enumerate() {
            let w = c.width().unwrap_or(0);
            let row = &mut rows.last_mut().expect("a row").1;
            if used + w > width && !row.is_empty() {
                // The word being written moves to the next row if it fits in one.
                let start = row.iter().rposition(|(c, _)| *c == ' ').map(|i| i + 1);
                let end = chars[at..].iter().position(|(c, _)| *c == ' ');
                let word = |start: usize| {
                    let rest = &chars[at..at + end.unwrap_or(chars.len() - at)];
                    let before = row[start..].iter().chain(rest);
                    before.map(|(c, _)| c.width().unwrap_or(0)).sum::<usize>()
                };
                let moved = match start {
                    Some(start) if c != ' ' && start < row.len() && word(start) <= width => {
                        row.split_off(start)
                    }
                    _ => Vec::new(),
                };
                used = moved.iter().map(|(c, _)| c.width().unwrap_or(0)).sum();
                rows.push((index, moved));
                if c == ' ' {
                    continue; // A row does not start with the space it broke at.
                }
            }
            rows.last_mut().expect("a row").1.push((c, style));
            used += w;
        }
        if rows.len() > height {
            break; // More than fit already; the rest is only counted.
        }
    }
    if rows.len() > height {
        rows.truncate(height);
        let (last_line, mut last_row) = rows.pop().expect("height > 0");
        let hidden = total - last_line - 1;
        let more = format!("… +{hidden} more {what}");
        let suffix = if hidden > 0 && more.chars().count() < width {
            more
        } else {
            "…".to_owned()
        };
        let room = width.saturating_sub(suffix.chars().count());
        let mut used = 0;
        let kept = last_row.iter().take_while(|(c, _)| {
            used += c.width().unwrap_or(0);
            used <= room
        });
        last_row = kept.copied().collect();
        last_row.extend(suffix.chars().map(|c| (c, theme::dim())));
        rows.push((last_line, last_row));
    }
    rows.into_iter().map(|(_, row)| spans(row)).collect()
}

/// A row of styled characters as a line of spans, one a run of a style.
fn spans(row: Vec<(char, Style)>) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    for (c, style) in row {
        match spans.last_mut() {
            Some(last) if last.style == style => last.content.to_mut().push(c),
            _ => spans.push(Span::styled(c.to_string(), style)),
        }
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn lines_that_fit_are_wrapped_and_kept_whole() {
        let lines = vec![Line::raw("a = \"1\""), Line::raw("bb = \"0123456789\"")];
        assert_eq!(
            text(&wrapped(lines, 10, 4, "labels")),
            ["a = \"1\"", "bb = \"0123", "456789\""]
        );
        // Words go whole to the next row where they fit in one.
        let help = vec![Line::raw("last 2  ·  1 sample received  ·  …/s")];
        assert_eq!(
            text(&wrapped(help, 20, 3, "lines")),
            ["last 2  ·  1 sample ", "received  ·  …/s"]
        );
        assert_eq!(
            text(&wrapped(vec![Line::raw("ab  ·  0.1/s")], 6, 3, "lines")),
            ["ab  · ", "0.1/s"]
        );
        assert_eq!(
            text(&wrapped(vec![Line::raw("one two three")], 7, 3, "lines")),
            ["one two", "three"]
        );
    }

    #[test]
    fn a_value_longer_than_the_box_ends_in_an_ellipsis() {
        let lines = vec![Line::raw(
            "v = \"LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL\"",
        )];
        assert_eq!(
            text(&wrapped(lines, 12, 2, "labels")),
            ["v = \"LLLLLLL", "LLLLLLLLLLL…"]
        );
    }

    #[test]
    fn lines_left_out_are_counted_on_the_last_row() {
        let lines: Vec<Line> = (0..5000)
            .map(|i| Line::raw(format!("l{i:04} = \"v\"")))
            .collect();
        let shown = text(&wrapped(lines, 40, 3, "labels"));
        assert_eq!(
            shown,
            [
                "l0000 = \"v\"",
                "l0001 = \"v\"",
                "l0002 = \"v\"… +4997 more labels"
            ]
        );
        // Too narrow to count them: the ellipsis alone.
        let lines: Vec<Line> = (0..5).map(|i| Line::raw(format!("l{i} = \"v\""))).collect();
        assert_eq!(text(&wrapped(lines, 8, 1, "labels")), ["l0 = \"v…"]);
    }

    #[test]
    fn wide_characters_never_straddle_a_row_and_nothing_is_drawn_without_room() {
        let lines = vec![Line::raw("宽字符🙂标签")];
        assert_eq!(
            text(&wrapped(lines, 5, 3, "labels")),
            ["宽字", "符🙂", "标签"]
        );
        assert!(wrapped(vec![Line::raw("x")], 0, 3, "labels").is_empty());
        assert!(wrapped(vec![Line::raw("x")], 3, 0, "labels").is_empty());
    }
}
