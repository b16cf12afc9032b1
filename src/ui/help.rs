//! The help overlay: every key.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};

use super::theme;
use super::widgets::styled;

/// Keys and what they do, grouped.
pub const KEYS: &[(&str, &[(&str, &str)])] = &[
    (
        "Move",
        &[
            ("↑ ↓  k j", "move the selection (mouse wheel too)"),
            ("PgUp PgDn  Ctrl-b Ctrl-f", "move a page"),
            (
                "g G  Home End",
                "first / last row; in logs G follows new data",
            ),
            ("Enter  → l", "open: metric → its series → one series"),
            ("Esc  Backspace  ← h", "back"),
            (
                "Tab  Shift-Tab  1 2 3",
                "Metrics · Recent samples · Requests",
            ),
        ],
    ),
    (
        "Look",
        &[
            (
                "/",
                "filter: regex over name{labels}, or a selector {job=\"x\", code=~\"5..\"}; ! inverts",
            ),
            ("  Enter / Esc", "keep the filter / clear it"),
            (
                "space",
                "pause the screen (data keeps arriving; resume jumps to live)",
            ),
            ("s  r", "cycle the sort key / reverse it"),
            ("?", "this help"),
            ("q  Ctrl-C", "quit"),
        ],
    ),
];

/// Draws the help overlay centred on `area`.
pub fn render(frame: &mut Frame, area: Rect) {
    let mut lines = Vec::new();
    for (group, keys) in KEYS {
        lines.push(Line::from(styled(*group, theme::header())));
        for (key, what) in *keys {
            lines.push(Line::raw(format!("  {key:<26} {what}")));
        }
        lines.push(Line::raw(""));
    }
    lines.push(Line::from(styled("Press any key to close.", theme::dim())));
    let height = lines.len() as u16 + 2;
    let [popup] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Max(120)])
        .flex(Flex::Center)
        .areas(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Keys ")),
        popup,
    );
}
