//! Keys and mouse events to [`Action`]s: small pure predicates, no state changes.

use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind,
};

use super::Action;

/// Rows the mouse wheel scrolls per notch.
const WHEEL_ROWS: usize = 3;

/// The action for a terminal event; `editing` is true while the filter is being typed.
pub fn action_for(event: &Event, editing: bool, help_open: bool) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind == KeyEventKind::Press => {
            if is_ctrl_c(key) {
                Some(Action::Quit)
            } else if editing {
                filter_key(key)
            } else if help_open {
                help_key(key)
            } else {
                normal_key(key)
            }
        }
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollUp => Some(Action::Up(WHEEL_ROWS)),
            MouseEventKind::ScrollDown => Some(Action::Down(WHEEL_ROWS)),
            _ => None,
        },
        Event::Resize(..) => Some(Action::Redraw),
        _ => None,
    }
}

fn is_ctrl_c(key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && matches!(key.code, KeyCode::Char('c'))
}

fn filter_key(key: &KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Enter => Some(Action::FilterAccept),
        KeyCode::Esc => Some(Action::FilterCancel),
        KeyCode::Backspace => Some(Action::FilterBackspace),
        KeyCode::Char('u') if ctrl => Some(Action::FilterSet(String::new())),
        KeyCode::Char(c) if !ctrl => Some(Action::FilterType(c)),
        _ => None,
    }
}

fn help_key(key: &KeyEvent) -> Option<Action> {
    match key.code {
        KeyCode::Char('q') => Some(Action::Quit),
        _ => Some(Action::ToggleHelp),
    }
}

fn normal_key(key: &KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let action = match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('?') => Action::ToggleHelp,
        KeyCode::Char('/') => Action::FilterEdit,
        KeyCode::Char(' ') => Action::TogglePause,
        KeyCode::Char('f') | KeyCode::Char('d') if ctrl => Action::PageDown,
        KeyCode::Char('b') | KeyCode::Char('u') if ctrl => Action::PageUp,
        KeyCode::Down | KeyCode::Char('j') => Action::Down(1),
        KeyCode::Up | KeyCode::Char('k') => Action::Up(1),
        KeyCode::PageDown => Action::PageDown,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::Home | KeyCode::Char('g') => Action::Top,
        KeyCode::End | KeyCode::Char('G') => Action::Bottom,
        KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => Action::Enter,
        KeyCode::Esc | KeyCode::Backspace | KeyCode::Left | KeyCode::Char('h') => Action::Back,
        KeyCode::Tab => Action::NextTab,
        KeyCode::BackTab => Action::PrevTab,
        KeyCode::Char('1') => Action::GoTab(super::Tab::Metrics),
        KeyCode::Char('2') => Action::GoTab(super::Tab::Log),
        KeyCode::Char('3') => Action::GoTab(super::Tab::Requests),
        KeyCode::Char('s') => Action::CycleSort,
        KeyCode::Char('r') => Action::ReverseSort,
        _ => return None,
    };
    Some(action)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyEventState;

    fn key(code: KeyCode) -> Event {
        Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn normal_mode_keys() {
        assert_eq!(
            action_for(&key(KeyCode::Char('q')), false, false),
            Some(Action::Quit)
        );
        assert_eq!(
            action_for(&key(KeyCode::Char('j')), false, false),
            Some(Action::Down(1))
        );
        assert_eq!(
            action_for(&key(KeyCode::Char('G')), false, false),
            Some(Action::Bottom)
        );
        assert_eq!(
            action_for(&key(KeyCode::Char(' ')), false, false),
            Some(Action::TogglePause)
        );
        assert_eq!(
            action_for(&key(KeyCode::BackTab), false, false),
            Some(Action::PrevTab)
        );
        assert_eq!(action_for(&key(KeyCode::Char('x')), false, false), None);
    }

    #[test]
    fn typing_goes_to_the_filter_while_editing() {
        assert_eq!(
            action_for(&key(KeyCode::Char('q')), true, false),
            Some(Action::FilterType('q'))
        );
        assert_eq!(
            action_for(&key(KeyCode::Esc), true, false),
            Some(Action::FilterCancel)
        );
        assert_eq!(
            action_for(&key(KeyCode::Enter), true, false),
            Some(Action::FilterAccept)
        );
        let ctrl_c = Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
        assert_eq!(action_for(&ctrl_c, true, false), Some(Action::Quit));
    }

    #[test]
    fn key_releases_are_ignored() {
        let release = Event::Key(KeyEvent {
            code: KeyCode::Char('q'),
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Release,
            state: KeyEventState::NONE,
        });
        assert_eq!(action_for(&release, false, false), None);
    }
}
