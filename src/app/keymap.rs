//! The keys: one table of bindings (keys, action, description, footer hint)
//! that key dispatch, the help screen, the footers and the README's key table
//! all read, so none of them can drift from what the keys do (as trippy's
//! `Bindings`).

use ratatui::crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers, MouseEventKind};

use super::{Action, OpenList};

mod bindings;
pub use bindings::BINDINGS;

/// What the keys go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The views.
    Normal,
    /// The filter line, while it is edited.
    Filter,
    /// The help screen, while it is open.
    Help,
}

/// A key (or mouse wheel notch) as bound and as shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A key pressed without Ctrl (Shift included in the character).
    Plain(KeyCode),
    /// Ctrl with a letter.
    Ctrl(char),
    /// The mouse wheel turned up.
    WheelUp,
    /// The mouse wheel turned down.
    WheelDown,
    /// Any character without Ctrl: typed into the filter.
    AnyChar,
    /// Any key not bound otherwise.
    AnyOther,
}

impl Key {
    /// How help, footers and the README write it.
    pub fn label(self) -> String {
        match self {
            Key::Plain(code) => match code {
                KeyCode::Up => "↑".into(),
                KeyCode::Down => "↓".into(),
                KeyCode::Left => "←".into(),
                KeyCode::Right => "→".into(),
                KeyCode::PageUp => "PgUp".into(),
                KeyCode::PageDown => "PgDn".into(),
                KeyCode::BackTab => "Shift-Tab".into(),
                KeyCode::Char(' ') => "space".into(),
                KeyCode::Char(c) => c.into(),
                other => other.to_string(),
            },
            Key::Ctrl(c) => format!("Ctrl-{c}"),
            Key::WheelUp | Key::WheelDown => "mouse wheel".into(),
            Key::AnyChar => "any character".into(),
            Key::AnyOther => "any other key".into(),
        }
    }
}

/// A section of the help screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Moving around.
    Move,
    /// What is shown.
    Look,
    /// Editing the filter.
    Filter,
    /// The help screen itself.
    Help,
}

impl Group {
    /// All groups, in the order help shows them.
    pub const ALL: [Group; 4] = [Group::Move, Group::Look, Group::Filter, Group::Help];

    /// Its heading.
    pub fn title(self) -> &'static str {
        match self {
            Group::Move => "Move",
            Group::Look => "Look",
            Group::Filter => "While editing the filter",
            Group::Help => "On this help screen",
        }
    }
}

/// A footer hint: how many of the binding's first keys it shows, and its
/// word for each view (none: not shown there).
#[derive(Debug, Clone, Copy)]
pub struct Hint {
    /// Keys shown, from the first.
    pub keys: usize,
    /// The hint's text in a view.
    pub text: fn(OpenList) -> Option<&'static str>,
}

/// Keys that do one thing, and what help and the footers say about them.
#[derive(Debug)]
pub struct Binding {
    /// Where the keys apply.
    pub modes: &'static [Mode],
    /// Its help section.
    pub group: Group,
    /// The keys and what each does.
    pub keys: &'static [(Key, Action)],
    /// What help and the README say.
    pub description: &'static str,
    /// What the footer says, where it says something.
    pub hint: Option<Hint>,
}

/// The action for a terminal event in `mode`.
pub fn action_for(event: &Event, mode: Mode) -> Option<Action> {
    let key = match event {
        Event::Key(key) if key.kind == KeyEventKind::Press => key,
        Event::Mouse(m) => {
            let wheel = match m.kind {
                MouseEventKind::ScrollUp => Key::WheelUp,
                MouseEventKind::ScrollDown => Key::WheelDown,
                _ => return None,
            };
            return bound(mode, |k| k == wheel).map(|(_, a)| a.clone());
        }
        Event::Resize(..) => return Some(Action::Redraw),
        _ => return None,
    };
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let exact = |k: Key| match (k, key.code) {
        (Key::Ctrl(c), KeyCode::Char(typed)) => ctrl && typed.eq_ignore_ascii_case(&c),
        (Key::Plain(code), _) => !ctrl && code == key.code,
        _ => false,
    };
    if let Some((_, action)) = bound(mode, exact) {
        return Some(action.clone());
    }
    match key.code {
        KeyCode::Char(c) if !ctrl && bound(mode, |k| k == Key::AnyChar).is_some() => {
            Some(Action::FilterType(c))
        }
        _ => bound(mode, |k| k == Key::AnyOther).map(|(_, a)| a.clone()),
    }
}

/// The first key bound in `mode` that `matches`, with its action.
fn bound(mode: Mode, matches: impl Fn(Key) -> bool) -> Option<&'static (Key, Action)> {
    BINDINGS
        .iter()
        .filter(|b| b.modes.contains(&mode))
        .flat_map(|b| b.keys)
        .find(|(k, _)| matches(*k))
}

/// The keys of a binding as help writes them (the wheel once).
pub fn key_labels(binding: &Binding) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for (key, _) in binding.keys {
        let label = key.label();
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    labels
}

/// The footer's hints in `mode` for `view`: keys and word.
pub fn footer(mode: Mode, view: OpenList) -> Vec<(String, &'static str)> {
    BINDINGS
        .iter()
        .filter(|b| b.modes.contains(&mode))
        .filter_map(|b| {
            let hint = b.hint?;
            let text = (hint.text)(view)?;
            let keys: String = key_labels(b).into_iter().take(hint.keys).collect();
            Some((keys, text))
        })
        .collect()
}

/// The mode keys go to.
pub fn mode(editing_filter: bool, help_open: bool) -> Mode {
    if editing_filter {
        Mode::Filter
    } else if help_open {
        Mode::Help
    } else {
        Mode::Normal
    }
}

#[cfg(test)]
mod tests;
