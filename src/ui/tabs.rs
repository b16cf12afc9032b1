//! The tab bar and the filter line beside it. The tabs take the longest of
//! four forms that leaves the filter room, down to numbers beside the open
//! tab's name, so every tab can be told at any width and the open one always
//! shows; a filter being typed that does not fit shows its end, where the
//! cursor is.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::Paragraph;

use super::fit;
use super::theme;
use super::widgets::{Part, fitted_line, styled};
use crate::app::{App, Tab};
use crate::filter::Note;
use crate::store::Store;
use crate::text::escape::escaped;

/// How a tab is named in each form of the bar, longest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `Recent samples`.
    Title,
    /// `Samples`.
    Short,
    /// `2 Smpl`; the open tab `2 Samples`.
    Numbered,
    /// `2`; the open tab `2 Samples`.
    Number,
}

const FORMS: [Form; 4] = [Form::Title, Form::Short, Form::Numbered, Form::Number];

/// Columns a filter being typed is given before the tabs take a shorter form
/// (beside `  filter: `), a filter in force, the error of one typed, and how
/// one is read when that is not what it looks like.
const TYPED_ROOM: usize = 20;
const IN_FORCE_ROOM: usize = 12;
const ERROR_ROOM: usize = 20;
const FILTER_LABEL: &str = "  filter: ";

fn name(tab: Tab, form: Form, open: bool) -> String {
    match (form, open) {
        (Form::Title, _) => tab.title().to_owned(),
        (Form::Short, _) => tab.short_title().to_owned(),
        (Form::Numbered | Form::Number, true) => format!("{} {}", tab.number(), tab.short_title()),
        (Form::Numbered, false) => format!("{} {}", tab.number(), tab.abbreviation()),
        (Form::Number, false) => tab.number().to_string(),
    }
}

/// The tabs in `form`, the open one highlighted.
fn tabs(open: Tab, form: Form) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for tab in Tab::ALL {
        let style = if tab == open {
            theme::palette().open_tab
        } else {
            theme::dim()
        };
        spans.push(Span::styled(
            format!(" {} ", name(tab, form, tab == open)),
            style,
        ));
        // Apart by three columns where there is room, by two where not.
        if matches!(form, Form::Title | Form::Short) {
            spans.push(Span::raw(" "));
        }
    }
    spans
}

fn width(spans: &[Span]) -> usize {
    spans.iter().map(Span::width).sum()
}

/// Draws the tab bar, and the filter (being typed, or in force) beside it.
pub fn render(frame: &mut Frame, area: Rect, app: &App, store: &Store) {
    let line = fitted_line(
        parts(app, store, usize::from(area.width)),
        area.width.into(),
    );
    frame.render_widget(Paragraph::new(line), area);
}

fn parts(app: &App, store: &Store, columns: usize) -> Vec<Part> {
    let label = || styled(FILTER_LABEL, theme::palette().accent);
    let mut filter = Vec::new();
    let mut room = 0;
    if app.filter.editing {
        let typed = format!("{}█", escaped(&app.filter.text));
        room = FILTER_LABEL.len() + fit::width(&typed).min(TYPED_ROOM);
        filter.push(Part::shrinking_at_start(vec![label(), Span::raw(typed)], 1));
        if let Some(e) = &app.filter.error {
            room += ERROR_ROOM;
            let error = format!(
                "  ✗ {} · not applied; {}",
                escaped(e),
                in_force(&escaped(store.filter().source()))
            );
            filter.push(Part::shrinking(vec![styled(error, theme::error())], 0));
        } else if let Some(note) = &app.filter.note {
            room += note_part(note, &mut filter);
        }
    } else if !store.filter().is_all() {
        let source = escaped(store.filter().source()).into_owned();
        room = FILTER_LABEL.len() + fit::width(&source).min(IN_FORCE_ROOM);
        filter.push(Part::shrinking(vec![label(), Span::raw(source)], 1));
        if let Some(note) = store.filter().note() {
            room += note_part(note, &mut filter);
        }
    }
    let form = FORMS
        .into_iter()
        .find(|&form| width(&tabs(app.tab, form)) + room <= columns)
        .unwrap_or(Form::Number);
    // Narrower than every form: the open tab alone (`5 Cardinality`), not nothing.
    let open = vec![Span::styled(
        format!(" {} ", name(app.tab, Form::Number, true)),
        theme::palette().open_tab,
    )];
    let mut parts = vec![Part::or_shorter(tabs(app.tab, form), vec![open])];
    parts.extend(filter);
    parts
}

/// Adds how the filter is read ([`Note`]) after it, in full or shorter;
/// returns the columns the tabs leave it.
fn note_part(note: &Note, filter: &mut Vec<Part>) -> usize {
    let span = |text: String| vec![styled(format!("  → {}", escaped(&text)), theme::warn())];
    let (long, short) = (span(note.long()), span(note.short()));
    let room = width(&short);
    filter.push(Part::or_shorter(long, vec![short]));
    room
}

/// What the screen says is filtered by while the line holds something else.
fn in_force(filter: &str) -> String {
    if filter.is_empty() {
        "no filter in force".into()
    } else {
        format!("in force: {filter}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::keymap::{Mode, action_for};
    use crate::app::{Action, App};
    use crate::store::StoreLimits;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

    fn bar(app: &App, store: &Store, columns: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(columns, 1)).unwrap();
        terminal
            .draw(|frame| render(frame, frame.area(), app, store))
            .unwrap();
        let buffer = terminal.backend().buffer();
        (0..columns)
            .map(|x| buffer[(x, 0)].symbol().to_owned())
            .collect::<String>()
            .trim_end()
            .to_owned()
    }

    fn app() -> (App, Store) {
        let app = App::new("127.0.0.1:9201".parse().unwrap(), 0);
        (app, Store::new(StoreLimits::default()))
    }

    #[test]
    fn each_tab_number_is_the_key_that_opens_it() {
        for tab in Tab::ALL {
            let digit = char::from_digit(tab.number() as u32, 10).unwrap();
            let key = Event::Key(KeyEvent::new(KeyCode::Char(digit), KeyModifiers::NONE));
            assert_eq!(action_for(&key, Mode::Normal), Some(Action::GoTab(tab)));
        }
    }

    /// Every tab can be told apart and the open one is named in full, at
    /// every width down to 50 columns, open on any tab, with or without a
    /// filter being typed.
    #[test]
    fn every_tab_is_identifiable_and_the_open_one_named_at_every_width() {
        let (mut app, mut store) = app();
        for typing in [
            None,
            Some("x"),
            Some(r#"http_requests_total{code=~"5..",job="api"}"#),
            Some(r#"series_id=~"1.""#),
            Some("code=500"),
        ] {
            if let Some(text) = typing {
                app.apply(Action::FilterEdit, &mut store);
                app.apply(Action::FilterSet(String::new()), &mut store);
                app.filter.text = text.into();
            }
            for open in Tab::ALL {
                app.tab = open;
                for columns in 50..=220 {
                    let shown = bar(&app, &store, columns);
                    let tabs_part = shown.split(FILTER_LABEL).next().unwrap_or_default();
                    let tabs_part = format!("{tabs_part} ");
                    let named = [open.title(), open.short_title()];
                    assert!(
                        named.iter().any(|n| tabs_part.contains(&format!(" {n} "))),
                        "the open tab {open:?} at {columns}: {shown:?}"
                    );
                    for tab in Tab::ALL {
                        let told = [
                            format!(" {} ", tab.title()),
                            format!(" {} ", tab.short_title()),
                            format!(" {} {} ", tab.number(), tab.abbreviation()),
                            format!(" {} ", tab.number()),
                        ];
                        assert!(
                            told.iter().any(|t| tabs_part.contains(t.as_str())),
                            "{tab:?} at {columns} with {typing:?}: {shown:?}"
                        );
                    }
                    if let Some(text) = typing {
                        // The end of what is typed shows, with the cursor.
                        let end: String = text
                            .chars()
                            .rev()
                            .take(3)
                            .collect::<Vec<_>>()
                            .into_iter()
                            .rev()
                            .collect();
                        assert!(
                            shown.contains(&format!("{end}█")),
                            "the cursor at {columns}: {shown:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn narrower_than_every_form_the_open_tab_still_shows() {
        let (mut app, store) = app();
        app.tab = Tab::Cardinality;
        assert_eq!(bar(&app, &store, 20), " 5 Cardinality");
        assert_eq!(bar(&app, &store, 30), " 1  2  3  4  5 Cardinality");
    }

    #[test]
    fn the_tab_bar_at_80_and_120_columns() {
        let (mut app, mut store) = app();
        app.tab = Tab::Requests;
        let mut shown = vec![bar(&app, &store, 80), bar(&app, &store, 120)];
        app.apply(Action::FilterEdit, &mut store);
        app.filter.text = r#"http_requests_total{code=~"5..",job="api"}"#.into();
        shown.extend([bar(&app, &store, 80), bar(&app, &store, 120)]);
        app.filter.text = "up".into();
        shown.push(bar(&app, &store, 80));
        assert_eq!(
            shown,
            [
                " Metrics   Recent samples   Requests   Problems   Cardinality",
                " Metrics   Recent samples   Requests   Problems   Cardinality",
                r#" 1 Metr  2 Smpl  3 Requests  4 Prob  5 Card   filter: …l{code=~"5..",job="api"}█"#,
                r#" Metrics   Recent samples   Requests   Problems   Cardinality    filter: http_requests_total{code=~"5..",job="api"}█"#,
                " Metrics   Recent samples   Requests   Problems   Cardinality    filter: up█",
            ]
        );
    }
}
