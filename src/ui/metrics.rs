//! The metrics list: one row per metric name.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::Cell;

use super::widgets::{dim_style, evicted_row, rate_sparkline, sorted_title, table, titled};
use crate::app::App;
use crate::app::list::SortKey;
use crate::app::view::{MetricSort, RATE_WINDOW_SECS};
use crate::format;
use crate::ingest::model::MetricType;
use crate::store::Store;

/// Sparkline columns and seconds per column (2 minutes either way): narrower
/// terminals get a coarser trend so that metric names keep their room.
fn trend_shape(width: u16) -> (usize, usize) {
    if width >= 150 { (30, 4) } else { (20, 6) }
}

/// The TYPE column: from metadata, or inferred (marked `?`), or `-`.
fn type_label((kind, inferred): (MetricType, bool)) -> String {
    match (kind, inferred) {
        (MetricType::Unknown, true) => "-".into(),
        (kind, true) => format!("{}?", kind.name()),
        (kind, false) => kind.name().into(),
    }
}

/// Draws the metrics list; returns the rows it has room for.
pub fn render(frame: &mut Frame, area: Rect, app: &App, store: &Store) -> usize {
    let list = &app.metrics;
    let ids = list.rows();
    let height = super::table_rows(area);
    let range = list.cursor.window(ids.len(), height);
    // The column sorted by shows the values the rows were sorted by.
    let sort = list.sort();
    let filtered = !store.filter().is_all();
    let now = app.now_ms;
    let (trend_columns, secs_per_column) = trend_shape(area.width);
    let rows = ids[range.clone()]
        .iter()
        .map(|row| {
            // Its series all evicted since the list was built: say so until the
            // next rebuild rather than show whatever metric now has its slot.
            let Some(m) = store.metric(row.id) else {
                return evicted_row();
            };
            let name = store.str(m.name);
            let matched = if sort == MetricSort::Series {
                row.matched
            } else {
                m.matched
            };
            let series = if filtered {
                format!("{matched}/{}", m.series_count())
            } else {
                matched.to_string()
            };
            let rate = if sort == MetricSort::Rate {
                row.rate
            } else {
                m.rate.per_second(now, RATE_WINDOW_SECS)
            };
            let kind = type_label(store.metric_type(m));
            let age = if m.last_arrival_ms == 0 {
                "-".into()
            } else {
                format::duration_secs((now - m.last_arrival_ms) as f64 / 1000.0)
            };
            vec![
                Cell::from(if name.is_empty() {
                    "(no __name__)".to_owned()
                } else {
                    name.to_owned()
                }),
                Cell::from(Line::from(series).right_aligned()),
                Cell::from(Line::from(format::count(rate)).right_aligned()),
                Cell::from(rate_sparkline(&m.rate.series(
                    now,
                    trend_columns,
                    secs_per_column,
                ))),
                Cell::from(kind),
                Cell::from(Line::from(age).right_aligned()),
            ]
        })
        .collect();
    let title = sorted_title(
        format!(" Metrics ({}) ", ids.len()),
        sort.label(),
        list.reversed(),
        "Enter: series · s: sort · r: reverse · type? = guessed from the name",
    );
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(if filtered { 15 } else { 8 }),
        Constraint::Length(9),
        Constraint::Length(trend_columns as u16),
        Constraint::Length(15),
        Constraint::Length(7),
    ];
    let selected = list.cursor.selected.checked_sub(range.start);
    let header = [
        "METRIC",
        "SERIES",
        "SAMPLES/S",
        "LAST 2 MIN",
        "TYPE",
        "LAST",
    ];
    frame.render_widget(table(&header, rows, selected, &widths, titled(title)), area);
    if ids.is_empty() {
        let inner = Rect {
            y: area.y + 2,
            height: area.height.saturating_sub(2),
            ..area
        };
        let text = if filtered {
            "No series match the filter. Press / to change it (Ctrl-u, Enter: no filter)."
        } else {
            "No series yet."
        };
        frame.render_widget(
            ratatui::widgets::Paragraph::new(text).style(dim_style()),
            inner,
        );
    }
    height
}
