//! The selector just copied, whole, on lines of its own above the footer: the
//! terminal may not support OSC 52 (or not allow it), and then the user
//! selects it with the mouse (Shift-drag: the dashboard captures the mouse).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use unicode_width::UnicodeWidthChar;

use super::theme;
use super::widgets::styled;

const TITLE: &str = " copied (OSC 52, where allowed) · Shift-drag selects · any key closes ";

/// Draws `selector` (already escaped for display) over the bottom of `area`,
/// above its last line (the footer).
pub fn render(frame: &mut Frame, area: Rect, selector: &str) {
    let width = usize::from(area.width);
    let lines = wrap_columns(selector, width);
    let room = area.height.saturating_sub(1) / 2;
    let height = (lines.len() as u16 + 1).min(room);
    if height < 2 {
        return;
    }
    let popup = Rect {
        y: area.bottom().saturating_sub(height + 1),
        height,
        ..area
    };
    let block = Block::new()
        .borders(Borders::TOP)
        .title(styled(TITLE, theme::dim()));
    let text: Vec<Line> = lines.into_iter().map(Line::raw).collect();
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(text).block(block), popup);
}

/// `text` cut into lines of at most `width` columns, each filled up (no word
/// wrapping: the selector is one piece to select).
fn wrap_columns(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width.max(1) && used > 0 {
            lines.push(String::new());
            used = 0;
        }
        if let Some(line) = lines.last_mut() {
            line.push(c);
        }
        used += w;
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_filled_up_to_the_width() {
        assert_eq!(wrap_columns(r#"up{a="1"}"#, 4), ["up{a", r#"="1""#, "}"]);
        assert_eq!(wrap_columns("ab", 10), ["ab"]);
        // Wide characters never straddle a line.
        assert_eq!(wrap_columns("a日本", 3), ["a日", "本"]);
        assert_eq!(wrap_columns("ab", 0), ["a", "b"]);
    }
}
