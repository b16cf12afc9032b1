//! Small rendering helpers shared by the views: text sparklines, styles, and
//! the scrolling window of a list.

use ratatui::layout::Constraint;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use super::scale::Extent;
use crate::app::history::{History, HistoryList};
use crate::format;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Rates as bars scaled to their maximum: zero is the lowest bar, anything
/// above zero at least the second, so a trickle stays visible.
pub fn rate_sparkline(values: &[f64]) -> String {
    let positive = values.iter().copied().filter(|&v| v > 0.0);
    let extent = Extent::of(positive.chain([0.0]));
    values
        .iter()
        .map(|&v| match extent.and_then(|e| e.level(v, BARS.len())) {
            Some(level) if v > 0.0 => BARS[level.max(1)],
            _ => BARS[0],
        })
        .collect()
}

/// Values as bars scaled between their minimum and maximum; non-finite values
/// (NaN, stale markers, infinities) show as gaps.
pub fn value_sparkline(values: impl Iterator<Item = f64> + Clone) -> String {
    let extent = Extent::of(values.clone());
    values
        .map(|v| match extent.and_then(|e| e.level(v, BARS.len())) {
            Some(level) => BARS[level],
            None => ' ',
        })
        .collect()
}

/// Style of table headers.
pub fn header_style() -> Style {
    Style::new().add_modifier(Modifier::BOLD).fg(Color::Cyan)
}

/// Style of the selected row.
pub fn selected_style() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

/// Style of something that needs attention.
pub fn warn_style() -> Style {
    Style::new().fg(Color::Yellow)
}

/// Style of an error.
pub fn error_style() -> Style {
    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
}

/// Style of secondary text.
pub fn dim_style() -> Style {
    Style::new().fg(Color::DarkGray)
}

/// The row of a list entry evicted since the list was built: lists are rebuilt
/// only now and then, and the entry's slot may already hold another one.
pub fn evicted_row() -> Vec<Cell<'static>> {
    vec![Cell::from(Span::styled(
        "(evicted: over --max-series)",
        dim_style(),
    ))]
}

/// A bordered block with a title.
pub fn titled(title: Line<'_>) -> Block<'_> {
    Block::new().borders(Borders::TOP).title(title)
}

/// A table of `rows` (already limited to the visible window), with the row at
/// `selected` (an index into `rows`) highlighted.
pub fn table<'a>(
    header: &[&'a str],
    rows: Vec<Vec<Cell<'a>>>,
    selected: Option<usize>,
    widths: &[Constraint],
    block: Block<'a>,
) -> Table<'a> {
    let header = Row::new(header.iter().map(|h| Cell::from(*h))).style(header_style());
    let rows = rows.into_iter().enumerate().map(|(i, cells)| {
        let row = Row::new(cells);
        if Some(i) == selected {
            row.style(selected_style())
        } else {
            row
        }
    });
    Table::new(rows, widths.to_vec())
        .header(header)
        .block(block)
        .column_spacing(1)
}

/// The title of a list that stopped following: what arrived since, the key
/// that follows again, and, once the user went back past the oldest entry
/// still kept, when the kept ones now start (`oldest_kept_ms`).
pub fn held_state<R: Clone, H: History<Row = R>>(
    list: &HistoryList<R>,
    source: &H,
    what: &str,
    follow_key: &str,
    oldest_kept_ms: Option<i64>,
) -> Span<'static> {
    let mut text = String::from("scrolled back · ");
    let newer = list.newer(source);
    if newer > 0 {
        text.push_str(&format!("{} newer {what} · ", format::count(newer as f64)));
    }
    text.push_str(&format!("{follow_key} to follow again "));
    if list.reached_oldest() || list.older_than_kept(source) {
        text.push_str(&match oldest_kept_ms {
            Some(ms) => format!("· kept {what} now start at {} ", format::time_of_day(ms)),
            None => format!("· no {what} kept "),
        });
    }
    Span::styled(text, warn_style())
}

/// A list's title: what it is, then (dimmed) its order and key hints.
pub fn sorted_title(what: String, sort: &str, reverse: bool, hints: &str) -> Line<'static> {
    let order = format!(
        "sorted by {sort}{} · {hints} ",
        if reverse { " (reversed)" } else { "" }
    );
    Line::from(vec![Span::raw(what), Span::styled(order, dim_style())])
}

/// A span with a style.
pub fn styled<'a>(text: impl Into<std::borrow::Cow<'a, str>>, style: Style) -> Span<'a> {
    Span::styled(text, style)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines() {
        assert_eq!(rate_sparkline(&[0.0, 5.0, 10.0, 0.1]), "▁▅█▂");
        assert_eq!(rate_sparkline(&[0.0, 0.0]), "▁▁");
        assert_eq!(value_sparkline([1.0, f64::NAN, 3.0].into_iter()), "▁ █");
        assert_eq!(value_sparkline([2.0, 2.0].into_iter()), "▅▅");
        assert_eq!(
            value_sparkline([-1e308, 0.0, 1e308, f64::INFINITY].into_iter()),
            "▁▅█ "
        );
        assert_eq!(value_sparkline([0.0, 1e307].into_iter()), "▁█");
        assert_eq!(rate_sparkline(&[0.0, f64::MAX, 1.0, f64::NAN]), "▁█▂▁");
    }
}
