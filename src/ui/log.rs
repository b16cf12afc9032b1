//! Recent samples across all series, newest at the bottom, following new data
//! unless scrolled.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Cell;

use super::widgets::{dim_style, table, titled, warn_style};
use crate::app::App;
use crate::app::view::log_rows;
use crate::format;
use crate::store::{SeriesKind, Store};

/// Draws the recent-samples log.
pub fn render(frame: &mut Frame, area: Rect, app: &App, store: &Store) {
    let height = area.height.saturating_sub(2) as usize;
    let bottom = app.log_position(store);
    let entries = log_rows(store, bottom, height);
    let rows = entries
        .iter()
        .map(|e| {
            let series = store.series(e.series).map_or_else(
                || "(series evicted)".to_owned(),
                |s| store.series_text(&s.labels),
            );
            let value = match e.kind {
                SeriesKind::Histogram => {
                    format!("histogram, count {}", format::value_fit(e.value, 7))
                }
                SeriesKind::Float => format::value_fit(e.value, 24),
            };
            vec![
                Cell::from(format::time_of_day(e.arrival_ms)),
                Cell::from(format::timestamp(e.timestamp_ms)),
                Cell::from(Line::from(value).right_aligned()),
                Cell::from(series),
            ]
        })
        .collect::<Vec<_>>();
    let selected = if app.log.follow {
        None
    } else {
        rows.len().checked_sub(1)
    };
    let state = if app.log.follow {
        Span::styled("following new samples · ↑/k to scroll back ", dim_style())
    } else {
        Span::styled("scrolled back · G to follow again ", warn_style())
    };
    let title = Line::from(vec![
        Span::raw(format!(" Recent samples ({} kept) ", store.log().len())),
        state,
    ]);
    let widths = [
        Constraint::Length(12),
        Constraint::Length(24),
        Constraint::Length(24),
        Constraint::Fill(1),
    ];
    frame.render_widget(
        table(
            &["ARRIVED", "SAMPLE TIME", "VALUE", "SERIES"],
            rows,
            selected,
            &widths,
            titled(title),
        ),
        area,
    );
}
