//! Recent samples across all series, newest at the bottom, following new data
//! unless scrolled.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Cell;

use super::widgets::{dim_style, held_state, table, titled};
use crate::app::App;
use crate::app::logs::RecentSamples;
use crate::format;
use crate::store::{SeriesKind, Store};
use crate::text::promql;

/// Draws the recent-samples log; returns the rows it has room for.
pub fn render(frame: &mut Frame, area: Rect, app: &App, store: &Store) -> usize {
    let source = RecentSamples(store);
    let screen = app.log.screen(&source, super::table_rows(area));
    let rows = screen
        .rows
        .iter()
        .map(|e| {
            let series = e.row.labels.as_ref().map_or_else(
                || "(series evicted)".to_owned(),
                |labels| promql::series(labels.iter().map(|(n, v)| (&**n, &**v))),
            );
            let e = &e.row.entry;
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
    let state = if app.log.is_following() {
        Span::styled("following new samples · ↑/k to scroll back ", dim_style())
    } else {
        let oldest_kept = store.log().front().map(|e| e.arrival_ms);
        held_state(&app.log, &source, "samples", "G", oldest_kept)
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
            screen.selected,
            &widths,
            titled(title),
        ),
        area,
    );
    super::table_rows(area)
}
