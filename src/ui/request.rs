//! One request opened from the Requests view: its lines (facts, answers,
//! headers, series with their samples, symbols), the highlighted one
//! followed by the scroll, and on the last line what writing its body said.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::clip;
use super::fit;
use super::theme;
use super::widgets::{styled, titled};
use crate::app::App;
use crate::app::request::RequestView;
use crate::app::request_content::{self, LineKind};
use crate::text::escape::escaped;

/// Most columns of the name column (header names, item kinds); it is as
/// wide as the longest name up to this, and up to a third of the screen.
const MAX_NAME_WIDTH: usize = 32;

/// Draws the open request; returns the lines it has room for.
pub fn render(frame: &mut Frame, area: Rect, app: &App) -> usize {
    let Some(view) = &app.request else {
        return 0;
    };
    let width = usize::from(area.width);
    let names = view
        .lines
        .iter()
        .filter(|l| matches!(l.kind, LineKind::Field | LineKind::Item))
        .map(|l| fit::width(&escaped(&l.name)))
        .max()
        .unwrap_or(0)
        .min(MAX_NAME_WIDTH)
        .min(width / 3);
    // The highlighted line whole, below the others, when its row cuts it (a
    // long message, a backend's error body, a header value).
    let whole = view.lines.get(view.cursor).and_then(|line| {
        let text = escaped(&line.text);
        (fit::width(&prefix_of(line, names).0) + fit::width(&text) > width)
            .then(|| Line::raw(text.into_owned()))
    });
    let whole_rows = whole.as_ref().map_or(0, |line| {
        let needed = 1 + line.width().div_ceil(width.max(1));
        needed.min(usize::from(area.height) / 2)
    });
    let [body, whole_area, status] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(u16::try_from(whole_rows).unwrap_or(0)),
        Constraint::Length(1),
    ])
    .areas(area);
    let title = Line::from(vec![styled(
        format!(" Request #{} ", view.pos + 1),
        theme::header(),
    )]);
    let block = titled(title);
    let inner = block.inner(body);
    frame.render_widget(block, body);
    let rows = usize::from(inner.height);
    let first = first_shown(view, rows);
    let lines: Vec<Line> = view
        .lines
        .iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(i, line)| line_of(line, i == view.cursor, names, width))
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
    if let Some(line) = whole {
        let block = titled(Line::raw(" Highlighted line, whole "));
        let inner = block.inner(whole_area);
        frame.render_widget(block, whole_area);
        let (width, height) = (usize::from(inner.width), usize::from(inner.height));
        let wrapped = clip::wrapped(vec![line], width, height, "lines");
        frame.render_widget(Paragraph::new(wrapped), inner);
    }
    let said = view.status.as_deref().map_or_else(
        || {
            let at = format!(" line {} of {}", view.cursor + 1, view.lines.len());
            styled(at, theme::dim())
        },
        |s| {
            styled(
                fit::end(&format!(" {}", escaped(s)), width).into_owned(),
                theme::warn(),
            )
        },
    );
    frame.render_widget(Paragraph::new(Line::from(said)), status);
    rows
}

/// The first line shown: the cursor stays on screen, a page at a time.
fn first_shown(view: &RequestView, rows: usize) -> usize {
    let rows = rows.max(1);
    view.cursor / rows * rows
}

/// `s` cut or padded to `width` columns.
fn column(s: &str, width: usize) -> String {
    let cut = fit::end(s, width);
    let pad = width.saturating_sub(fit::width(&cut));
    format!("{cut}{}", " ".repeat(pad))
}

fn line_of(
    line: &request_content::Line,
    selected: bool,
    names: usize,
    width: usize,
) -> Line<'static> {
    let (prefix, style) = prefix_of(line, names);
    let text = escaped(&line.text);
    let room = width.saturating_sub(fit::width(&prefix));
    let text = fit::end(&text, room).into_owned();
    let style = if selected {
        style.patch(theme::selected())
    } else {
        style
    };
    Line::from(vec![
        Span::styled(prefix, theme::dim()),
        Span::styled(text, style),
    ])
}

/// What comes before a line's text (its name in the name column, `names`
/// wide), and the style of its text.
fn prefix_of(line: &request_content::Line, names: usize) -> (String, ratatui::style::Style) {
    let name = escaped(&line.name);
    match line.kind {
        LineKind::Section => (String::new(), theme::header()),
        LineKind::Field => (
            format!("  {} ", column(&name, names)),
            ratatui::style::Style::default(),
        ),
        LineKind::Series(_) => ("  ▸ ".to_owned(), theme::palette().accent),
        LineKind::Item => (
            format!("      {} ", column(&name, names.saturating_sub(4))),
            ratatui::style::Style::default(),
        ),
        LineKind::Note => ("    ".to_owned(), theme::dim()),
    }
}
