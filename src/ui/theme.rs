//! The dashboard's styles, all in one palette. With `NO_COLOR` set to anything
//! but the empty string (<https://no-color.org>) the palette has no colours:
//! emphasis comes from bold, dim, underline and reverse video alone.

use std::ffi::OsStr;
use std::sync::OnceLock;

use ratatui::style::{Color, Modifier, Style};

/// A style for each role text plays on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    /// Table headers.
    pub header: Style,
    /// The selected row.
    pub selected: Style,
    pub open_tab: Style,
    /// Something that needs attention.
    pub warn: Style,
    pub error: Style,
    /// Secondary text.
    pub dim: Style,
    /// The `promscope` badge.
    pub badge: Style,
    /// The `PAUSED` badge.
    pub paused: Style,
    /// Labels of what the user typed (`filter:`).
    pub accent: Style,
    /// Configuration to copy (the welcome screen's snippets).
    pub code: Style,
    /// Emphasis.
    pub strong: Style,
}

impl Palette {
    /// The palette with colours.
    pub const COLOR: Palette = Palette {
        header: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
        selected: Style::new().add_modifier(Modifier::REVERSED),
        open_tab: Style::new().add_modifier(Modifier::BOLD.union(Modifier::REVERSED)),
        warn: Style::new().fg(Color::Yellow),
        error: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        dim: Style::new().fg(Color::DarkGray),
        badge: Style::new()
            .fg(Color::Black)
            .bg(Color::Cyan)
            .add_modifier(Modifier::BOLD),
        paused: Style::new()
            .fg(Color::Black)
            .bg(Color::Yellow)
            .add_modifier(Modifier::BOLD),
        accent: Style::new().fg(Color::Yellow),
        code: Style::new().fg(Color::Green),
        strong: Style::new().add_modifier(Modifier::BOLD),
    };

    /// The palette without colours.
    pub const NO_COLOR: Palette = Palette {
        header: Style::new().add_modifier(Modifier::BOLD.union(Modifier::UNDERLINED)),
        selected: Style::new().add_modifier(Modifier::REVERSED),
        open_tab: Style::new().add_modifier(Modifier::BOLD.union(Modifier::REVERSED)),
        warn: Style::new().add_modifier(Modifier::BOLD),
        error: Style::new().add_modifier(Modifier::BOLD.union(Modifier::UNDERLINED)),
        dim: Style::new().add_modifier(Modifier::DIM),
        badge: Style::new().add_modifier(Modifier::BOLD.union(Modifier::REVERSED)),
        paused: Style::new().add_modifier(Modifier::BOLD.union(Modifier::REVERSED)),
        accent: Style::new().add_modifier(Modifier::BOLD),
        code: Style::new(),
        strong: Style::new().add_modifier(Modifier::BOLD),
    };

    /// The palette for a `NO_COLOR` variable with this value (or unset).
    pub fn for_no_color(value: Option<&OsStr>) -> &'static Palette {
        match value {
            Some(v) if !v.is_empty() => &Palette::NO_COLOR,
            _ => &Palette::COLOR,
        }
    }
}

/// The palette in use, chosen from the environment once.
pub fn palette() -> &'static Palette {
    static PALETTE: OnceLock<&'static Palette> = OnceLock::new();
    PALETTE.get_or_init(|| Palette::for_no_color(std::env::var_os("NO_COLOR").as_deref()))
}

/// [`Palette::header`] of the palette in use.
pub fn header() -> Style {
    palette().header
}

/// [`Palette::selected`] of the palette in use.
pub fn selected() -> Style {
    palette().selected
}

/// [`Palette::warn`] of the palette in use.
pub fn warn() -> Style {
    palette().warn
}

/// [`Palette::error`] of the palette in use.
pub fn error() -> Style {
    palette().error
}

/// [`Palette::dim`] of the palette in use.
pub fn dim() -> Style {
    palette().dim
}

#[cfg(test)]
mod tests {
    use super::*;

    fn styles(p: &Palette) -> [Style; 11] {
        [
            p.header, p.selected, p.open_tab, p.warn, p.error, p.dim, p.badge, p.paused, p.accent,
            p.code, p.strong,
        ]
    }

    #[test]
    fn no_color_means_no_colour_anywhere() {
        for style in styles(&Palette::NO_COLOR) {
            assert_eq!((style.fg, style.bg), (None, None), "{style:?}");
        }
    }

    #[test]
    fn no_color_is_honoured_when_set_and_not_empty() {
        assert_eq!(Palette::for_no_color(None), &Palette::COLOR);
        assert_eq!(Palette::for_no_color(Some(OsStr::new(""))), &Palette::COLOR);
        assert_eq!(
            Palette::for_no_color(Some(OsStr::new("1"))),
            &Palette::NO_COLOR
        );
    }
}
