//! Rendering: a pure function of the dashboard state and the store. Nothing here
//! changes state.
//!
//! ```text
//! ┌──────────────────────────────────────────────┐
//! │ header: address, totals, rates, senders      │ 3 lines
//! │   (forward mode: the backend's side)         │ +2 lines
//! │ tabs                     filter / its error  │ 1 line
//! │ view: welcome | metrics | series | detail    │
//! │       | recent samples | requests | problems │
//! │ key hints                                    │ 1 line
//! └──────────────────────────────────────────────┘
//! ```

mod backend;
mod cardinality;
mod cardinality_titles;
mod clip;
mod columns;
mod copied;
mod detail;
mod fit;
mod header;
mod help;
mod histogram;
mod label_fit;
mod labels;
mod log;
mod metrics;
mod parts;
mod problems;
mod replay;
mod request;
mod requests;
mod scale;
mod series;
mod tabs;
mod theme;
mod welcome;
pub mod widgets;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Paragraph;

use crate::app::{App, OpenList, keymap};
use crate::store::Store;
use widgets::{Part, fitted_line, styled};

/// Rows of a list drawn by [`widgets::table`] in `area` (below its title and header).
fn table_rows(area: Rect) -> usize {
    area.height.saturating_sub(2) as usize
}

/// What a frame showed that the app records: how many rows the open list had
/// room for (paging moves by that much).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drawn {
    /// Rows of the list on screen.
    pub list_rows: usize,
    /// How far the help can scroll, when it is open.
    pub help_scroll_max: Option<usize>,
}

/// Draws the whole screen.
pub fn render(frame: &mut Frame, app: &App, store: &Store) {
    render_frame(frame, app, store);
}

/// Draws the whole screen and says what it showed.
pub fn render_frame(frame: &mut Frame, app: &App, store: &Store) -> Drawn {
    let [head, tabs, body, foot] = Layout::vertical([
        Constraint::Length(header::height(app)),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    header::render(frame, head, app, store);
    tabs::render(frame, tabs, app, store);
    let list_rows = if !store.has_data() {
        welcome::render(frame, body, app);
        table_rows(body)
    } else {
        match app.open_list() {
            OpenList::Metrics => metrics::render(frame, body, app, store),
            OpenList::Series => series::render(frame, body, app, store),
            OpenList::Samples => detail::render(frame, body, app, store),
            OpenList::Log => log::render(frame, body, app, store),
            OpenList::Requests => requests::render(frame, body, app, store),
            OpenList::Problems | OpenList::ProblemSeries => {
                problems::render(frame, body, app, store)
            }
            OpenList::Request => request::render(frame, body, app),
            OpenList::Cardinality => cardinality::render(frame, body, app),
        }
    };
    render_footer(frame, foot, app);
    if let Some(selector) = &app.copied.shown {
        copied::render(frame, frame.area(), selector);
    }
    let help_scroll_max = app.help.then(|| help::render(frame, frame.area(), app));
    Drawn {
        list_rows,
        help_scroll_max,
    }
}

fn render_footer(frame: &mut Frame, area: Rect, app: &App) {
    // Help shows its own keys; under it, the view's. A hint that does not fit
    // is left out whole rather than cut mid-word.
    let mode = keymap::mode(app.filter.editing, false);
    let parts = keymap::footer(mode, app.open_list())
        .into_iter()
        .enumerate()
        .map(|(i, (keys, text))| {
            let separator = if i == 0 { " " } else { " · " };
            let hint = if keys.is_empty() {
                text.to_owned()
            } else {
                format!("{keys} {text}")
            };
            Part::whole(vec![styled(format!("{separator}{hint}"), theme::dim())])
        })
        .collect();
    frame.render_widget(Paragraph::new(fitted_line(parts, area.width.into())), area);
}
