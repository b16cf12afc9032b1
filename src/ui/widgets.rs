//! Small rendering helpers shared by the views: text sparklines, tables,
//! lines that fit their width, and list titles.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use super::fit;
pub use super::parts::{Part, SEP, fitted_line};
use super::scale::Extent;
use super::theme;
use crate::app::history::{History, HistoryList};
use crate::format;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Rates as bars scaled to their maximum: zero is the lowest bar, anything
/// above zero at least the second, so a trickle stays visible; NaN (not
/// counted then) is a gap.
pub fn rate_sparkline(values: &[f64]) -> String {
    let positive = values.iter().copied().filter(|&v| v > 0.0);
    let extent = Extent::of(positive.chain([0.0]));
    values
        .iter()
        .map(|&v| match extent.and_then(|e| e.level(v, BARS.len())) {
            _ if v.is_nan() => ' ',
            Some(level) if v > 0.0 => BARS[level.max(1)],
            _ => BARS[0],
        })
        .collect()
}

/// [`rate_sparkline`] of `values` (oldest first, `secs_per_column` seconds
/// each, the last ending with the second before `now_ms`, as
/// [`crate::store::rate::RateBuckets::series`] gives them), with the columns
/// that began before `since_ms` drawn as gaps: nothing was listening then (or
/// for part of them), so what came is unknown, not zero. Drawn as zero, a
/// fresh start read as a sender that had been silent for the last two
/// minutes; a column partly listened to, averaged over all of it, drew a
/// steady sender's first column `▁` beside full ones.
pub fn rate_sparkline_since(
    mut values: Vec<f64>,
    now_ms: i64,
    secs_per_column: usize,
    since_ms: i64,
) -> String {
    let end = now_ms.div_euclid(1000);
    let step = secs_per_column.max(1) as i64;
    let columns = values.len() as i64;
    for (i, v) in values.iter_mut().enumerate() {
        let col_start_ms = (end - (columns - i as i64) * step).saturating_mul(1000);
        if col_start_ms < since_ms {
            *v = f64::NAN;
        }
    }
    rate_sparkline(&values)
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

/// The options whose bounds evict series, for messages about evicted ones.
pub const EVICTING_OPTIONS: &str = "--max-series or --max-store-bytes";

/// Columns [`evicted_row`]'s text takes: a key column showing one gets them.
pub fn evicted_width() -> usize {
    fit::width(&format!("(evicted: over {EVICTING_OPTIONS})"))
}

/// The row of a list entry evicted since the list was built: lists are rebuilt
/// only now and then, and the entry's slot may already hold another one.
pub fn evicted_row() -> Vec<Cell<'static>> {
    vec![Cell::from(Span::styled(
        format!("(evicted: over {EVICTING_OPTIONS})"),
        theme::dim(),
    ))]
}

/// The Series pane in place of what it was opened on, now gone (evicted):
/// `text` says so, and how to go back.
pub fn gone(frame: &mut Frame, area: Rect, text: String) {
    frame.render_widget(
        Paragraph::new(text)
            .style(theme::warn())
            .block(titled(Line::raw(" Series "))),
        area,
    );
}

/// A bordered block with a title.
pub fn titled(title: Line<'_>) -> Block<'_> {
    Block::new().borders(Borders::TOP).title(title)
}

/// A table of `rows` (already limited to the visible window) under `header`,
/// with the row at `selected` (an index into `rows`) highlighted. Columns of
/// width 0 (dropped for want of room, see `columns::allot`) are left out. A
/// header may offer shorter names after `|` (`RECENT VALUES|RECENT`): the
/// first that fits its column is shown.
pub fn table<'a>(
    header: &[&'a str],
    rows: Vec<Vec<Cell<'a>>>,
    selected: Option<usize>,
    widths: &[u16],
    block: Block<'a>,
) -> Table<'a> {
    let shown = |i: usize| widths.get(i).is_some_and(|&w| w > 0);
    let header = Row::new(
        header
            .iter()
            .zip(widths)
            .filter(|&(_, &w)| w > 0)
            .map(|(names, &w)| {
                let mut names = names.split('|');
                let first = names.next().unwrap_or("");
                let name = std::iter::once(first)
                    .chain(names)
                    .find(|n| fit::width(n) <= usize::from(w))
                    .unwrap_or(first);
                Cell::from(name)
            }),
    )
    .style(theme::header());
    let rows = rows.into_iter().enumerate().map(|(row, cells)| {
        let cells = cells
            .into_iter()
            .enumerate()
            .filter(|&(i, _)| shown(i))
            .map(|(_, c)| c);
        let row_style = if Some(row) == selected {
            theme::selected()
        } else {
            Style::new()
        };
        Row::new(cells).style(row_style)
    });
    let widths = widths
        .iter()
        .filter(|&&w| w > 0)
        .map(|&w| Constraint::Length(w));
    Table::new(rows, widths)
        .header(header)
        .block(block)
        .column_spacing(1)
}

/// A right-aligned cell (numbers).
pub fn right<'a>(text: impl Into<std::borrow::Cow<'a, str>>) -> Cell<'a> {
    Cell::from(Line::from(text.into()).right_aligned())
}

/// The title of a list that stopped following: what arrived since and, once
/// the user went back past the oldest entry still kept, when the kept ones now
/// start (`oldest_kept_ms`). The footer says which key follows again. `what`
/// names one entry and several.
pub fn held_state<R: Clone, H: History<Row = R>>(
    list: &HistoryList<R>,
    source: &H,
    (one, what): (&str, &str),
    oldest_kept_ms: Option<i64>,
) -> Span<'static> {
    let mut text = String::from("scrolled back ");
    let newer = list.newer(source);
    if newer > 0 {
        text.push_str(&format!(
            "· {} newer {} ",
            format::count(newer as f64),
            format::plural(newer, one, what)
        ));
    }
    if list.reached_oldest() || list.older_than_kept(source) {
        text.push_str(&match oldest_kept_ms {
            Some(ms) => format!("· kept {what} now start at {} ", format::time_of_day(ms)),
            None => format!("· no {what} kept "),
        });
    }
    Span::styled(text, theme::warn())
}

/// A list's title: what it is, then (dimmed) its order and an optional note,
/// which shows only where it fits whole in `width` columns (never cut mid-word).
pub fn sorted_title(
    what: String,
    sort: &str,
    reverse: bool,
    note: Option<&str>,
    width: u16,
) -> Line<'static> {
    let order = format!(
        "sorted by {sort}{} ",
        if reverse { " (reversed)" } else { "" }
    );
    let used = super::fit::width(&what) + super::fit::width(&order);
    let mut spans = vec![Span::raw(what), Span::styled(order, theme::dim())];
    let note = note.map(|n| format!("· {n} "));
    if let Some(note) = note.filter(|n| used + super::fit::width(n) <= usize::from(width)) {
        spans.push(Span::styled(note, theme::dim()));
    }
    Line::from(spans)
}

/// [`sorted_title`] in `width` columns: `what` is shown in the first of its
/// forms (longest first) that leaves room for the order, else in its shortest
/// without it.
pub fn fitted_sorted_title(
    what: Vec<String>,
    sort: &str,
    reverse: bool,
    width: usize,
) -> Line<'static> {
    let mut forms = what.into_iter().map(|w| vec![Span::raw(w)]);
    let first = forms.next().unwrap_or_default();
    let order = sorted_title(String::new(), sort, reverse, None, u16::MAX);
    fitted_line(
        vec![
            Part::or_shorter(first, forms.collect()),
            Part::whole(order.spans),
        ],
        width,
    )
}

/// A dimmed note in place of the rows of an empty table drawn in `area`
/// (under its title and header).
pub fn empty_note(frame: &mut ratatui::Frame, area: ratatui::layout::Rect, text: &str) {
    let inner = ratatui::layout::Rect {
        y: area.y + 2,
        height: area.height.saturating_sub(2),
        ..area
    };
    frame.render_widget(
        ratatui::widgets::Paragraph::new(text)
            .style(theme::dim())
            .wrap(ratatui::widgets::Wrap { trim: true }),
        inner,
    );
}

/// What an empty log of `what` (`samples`, `requests`) says.
pub fn no_rows_note(store: &crate::store::Store, what: &str) -> String {
    if store.filter().is_all() {
        format!("No {what} yet.")
    } else {
        format!("No kept {what} match the filter. Press / to change it (Ctrl-u, Enter: no filter).")
    }
}

/// A metric name as the views show it: escaped, and a series without one
/// (a sender may send that) under a name that says so, never blank.
pub fn metric_name(name: &str) -> std::borrow::Cow<'_, str> {
    if name.is_empty() {
        std::borrow::Cow::Borrowed("(no __name__)")
    } else {
        crate::text::escape::escaped(name)
    }
}

/// A span with a style.
pub fn styled<'a>(text: impl Into<std::borrow::Cow<'a, str>>, style: Style) -> Span<'a> {
    Span::styled(text, style)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_titles_note_shows_whole_or_not_at_all() {
        let title = |width| {
            let what = " label-value-too-long: 1 series shown of 1 affected ".to_owned();
            sorted_title(what, "labels", false, Some("Enter: the series"), width).to_string()
        };
        let full = " label-value-too-long: 1 series shown of 1 affected sorted by labels · Enter: the series ";
        assert_eq!(title(200), full);
        assert_eq!(title(full.chars().count() as u16), full);
        assert_eq!(
            title(80),
            " label-value-too-long: 1 series shown of 1 affected sorted by labels "
        );
    }

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
        // NaN: not counted then, a gap.
        assert_eq!(rate_sparkline(&[0.0, f64::MAX, 1.0, f64::NAN]), "▁█▂ ");
    }

    #[test]
    fn columns_before_listening_began_are_gaps_not_zero() {
        // Four 10 s columns ending with second 99 (now 100.5 s): they end at
        // 70, 80, 90 and 100 s. Listening since 80 s: the first two are unknown.
        let values = vec![0.0, 0.0, 4.0, 8.0];
        assert_eq!(
            rate_sparkline_since(values.clone(), 100_500, 10, 80_000),
            "  ▅█"
        );
        // Since 79.999 s: the column ending at 80 s was listened to for a
        // millisecond: not drawn as 10 s of nothing.
        assert_eq!(
            rate_sparkline_since(values.clone(), 100_500, 10, 79_999),
            "  ▅█"
        );
        // Since 80.001 s: the column from 80 to 90 s was listened to for all
        // but a millisecond, and its average over all of it is no rate the
        // sender had (a steady sender's first column drew `▁` beside `█`).
        assert_eq!(
            rate_sparkline_since(values.clone(), 100_500, 10, 80_001),
            "   █"
        );
        // Listening all along: zeros are zeros.
        assert_eq!(rate_sparkline_since(values, 100_500, 10, 0), "▁▁▅█");
    }
}
