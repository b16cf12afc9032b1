use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyEvent, KeyEventState};

use super::*;
use crate::app::App;
use crate::store::{Store, StoreLimits};

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

#[test]
fn normal_mode_keys() {
    let normal = |e: Event| action_for(&e, Mode::Normal);
    assert_eq!(normal(key(KeyCode::Char('q'))), Some(Action::Quit));
    assert_eq!(normal(key(KeyCode::Char('j'))), Some(Action::Down(1)));
    assert_eq!(normal(key(KeyCode::Char('G'))), Some(Action::Bottom));
    assert_eq!(normal(key(KeyCode::Char(' '))), Some(Action::TogglePause));
    assert_eq!(normal(key(KeyCode::BackTab)), Some(Action::PrevTab));
    assert_eq!(normal(ctrl('d')), Some(Action::PageDown));
    assert_eq!(normal(ctrl('u')), Some(Action::PageUp));
    assert_eq!(normal(key(KeyCode::Char('x'))), None);
}

#[test]
fn typing_goes_to_the_filter_while_editing() {
    let filter = |e: Event| action_for(&e, Mode::Filter);
    assert_eq!(
        filter(key(KeyCode::Char('q'))),
        Some(Action::FilterType('q'))
    );
    assert_eq!(
        filter(key(KeyCode::Char('j'))),
        Some(Action::FilterType('j'))
    );
    assert_eq!(filter(key(KeyCode::Esc)), Some(Action::FilterCancel));
    assert_eq!(filter(key(KeyCode::Enter)), Some(Action::FilterAccept));
    assert_eq!(filter(ctrl('u')), Some(Action::FilterSet(String::new())));
    assert_eq!(filter(ctrl('c')), Some(Action::Quit));
    assert_eq!(filter(ctrl('x')), None);
}

#[test]
fn on_the_help_screen_q_quits_moves_scroll_and_other_keys_close() {
    let help = |e: Event| action_for(&e, Mode::Help);
    assert_eq!(help(key(KeyCode::Char('q'))), Some(Action::Quit));
    assert_eq!(help(key(KeyCode::Char('j'))), Some(Action::Down(1)));
    assert_eq!(help(key(KeyCode::Char('x'))), Some(Action::ToggleHelp));
    assert_eq!(help(key(KeyCode::Esc)), Some(Action::ToggleHelp));
    assert_eq!(help(ctrl('c')), Some(Action::Quit));
}

#[test]
fn key_releases_are_ignored() {
    let release = Event::Key(KeyEvent {
        code: KeyCode::Char('q'),
        modifiers: KeyModifiers::NONE,
        kind: KeyEventKind::Release,
        state: KeyEventState::NONE,
    });
    assert_eq!(action_for(&release, Mode::Normal), None);
}

/// The event a bound key comes as.
fn event_of(key: Key) -> Option<Event> {
    match key {
        Key::Plain(code) => Some(Event::Key(KeyEvent::new(code, KeyModifiers::NONE))),
        Key::Ctrl(c) => Some(ctrl(c)),
        Key::WheelUp | Key::WheelDown | Key::AnyChar | Key::AnyOther => None,
    }
}

#[test]
fn every_bound_key_does_what_the_table_says() {
    // A key bound twice in one mode would never reach its second binding.
    for binding in BINDINGS {
        for (key, action) in binding.keys {
            let Some(event) = event_of(*key) else {
                continue;
            };
            for &mode in binding.modes {
                assert_eq!(
                    action_for(&event, mode).as_ref(),
                    Some(action),
                    "{} in {mode:?}",
                    key.label()
                );
            }
        }
    }
}

fn help_screen(width: u16, height: u16) -> String {
    help_screen_scrolled(width, height, 0)
}

fn help_screen_scrolled(width: u16, height: u16, scroll: usize) -> String {
    let store = Store::new(StoreLimits::default());
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), 0);
    app.help = true;
    app.help_scroll = scroll;
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| crate::ui::render(f, &app, &store))
        .unwrap();
    terminal.backend().to_string()
}

#[test]
fn every_bound_key_is_on_the_help_screen_with_what_it_does() {
    let help = help_screen(120, 60);
    let lines: Vec<&str> = help.lines().collect();
    for binding in BINDINGS {
        let keys = key_labels(binding).join(" ");
        let first_words: String = binding.description.chars().take(20).collect();
        assert!(
            lines.windows(2).any(|pair| {
                let both = pair.join("\n");
                both.contains(&format!("  {keys}")) && both.contains(&first_words)
            }),
            "{keys}: {first_words}… not on the help screen:\n{help}"
        );
    }
    assert!(!help.contains("Press any key"), "{help}");
    assert!(help.contains("q quit · any other key closes"), "{help}");
}

#[test]
fn the_help_screen_scrolls_when_the_terminal_is_small() {
    let top = help_screen(80, 24);
    assert!(top.contains("Move"), "{top}");
    assert!(!top.contains("close this help"), "{top}");
    assert!(top.contains("↑↓ scroll"), "{top}");
    let bottom = help_screen_scrolled(80, 24, usize::MAX);
    assert!(bottom.contains("close this help"), "{bottom}");
}

/// The README's key table, as the key table says it should read.
fn readme_keys_table() -> String {
    let mut out = String::from("| Key | Action |\n|---|---|\n");
    for binding in BINDINGS {
        let keys: Vec<String> = key_labels(binding)
            .iter()
            .map(|k| format!("`{k}`"))
            .collect();
        let context = match binding.group {
            Group::Filter => "while editing the filter: ",
            Group::Help => "on the help screen: ",
            Group::Move | Group::Look => "",
        };
        out.push_str(&format!(
            "| {} | {context}{} |\n",
            keys.join(" "),
            binding.description.replace('|', "\\|")
        ));
    }
    out
}

#[test]
fn the_readme_lists_every_key_as_the_key_table_does() {
    let readme = include_str!("../../../README.md");
    let table = readme_keys_table();
    assert!(
        readme.contains(&table),
        "README.md's key table differs from the key table; it should read:\n\n{table}"
    );
}
