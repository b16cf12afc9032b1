//! The help screen: every key, from the key table, grouped; scrolled when the
//! terminal is too small for it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::theme;
use super::widgets::styled;
use crate::app::keymap::{BINDINGS, Group, Mode, footer, key_labels};
use crate::app::{App, OpenList};

/// Width of the key column.
const KEYS_WIDTH: usize = 26;
/// Widest the help gets.
const MAX_WIDTH: u16 = 110;

/// The help's lines for a text width of `width` columns.
fn lines(width: usize) -> Vec<Line<'static>> {
    let text_width = width.saturating_sub(KEYS_WIDTH + 3).max(20);
    let mut lines = Vec::new();
    for group in Group::ALL {
        if !lines.is_empty() {
            lines.push(Line::raw(""));
        }
        lines.push(Line::from(styled(group.title(), theme::header())));
        for binding in BINDINGS.iter().filter(|b| b.group == group) {
            let keys = key_labels(binding).join(" ");
            // Keys too many for their column get a line of their own.
            let mut key = keys.as_str();
            if key.chars().count() > KEYS_WIDTH {
                lines.push(Line::raw(format!("  {key}")));
                key = "";
            }
            for part in wrap(binding.description, text_width) {
                lines.push(Line::raw(format!("  {key:<KEYS_WIDTH$} {part}")));
                key = "";
            }
        }
    }
    lines
}

/// Splits text at spaces into lines of at most `width` characters (a longer
/// word gets a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push(line);
    out
}

/// Draws the help centred on `area`; returns how far it can scroll.
pub fn render(frame: &mut Frame, area: Rect, app: &App) -> usize {
    let width = area.width.min(MAX_WIDTH);
    let lines = lines(width.saturating_sub(2) as usize);
    // Borders; help's own keys are on the bottom one.
    let height = (lines.len() as u16 + 2).min(area.height);
    let [popup] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(popup);
    let shown = height.saturating_sub(2) as usize;
    let max_scroll = lines.len().saturating_sub(shown);
    let scroll = app.help_scroll.min(max_scroll);
    // Help's own keys; the view does not matter to them.
    let hints = footer(Mode::Help, OpenList::Metrics)
        .into_iter()
        .map(|(keys, text)| format!("{keys} {text}"))
        .collect::<Vec<_>>()
        .join(" · ");
    let block = Block::bordered()
        .title(" Keys ")
        .title_bottom(Line::from(Span::styled(format!(" {hints} "), theme::dim())));
    frame.render_widget(Clear, popup);
    let visible: Vec<Line> = lines.into_iter().skip(scroll).take(shown).collect();
    frame.render_widget(Paragraph::new(visible).block(block), popup);
    max_scroll
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("averylongword x", 4), ["averylongword", "x"]);
        assert_eq!(wrap("", 4), [""]);
    }
}
