//! The metrics list: one row per metric name.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Cell;

use super::columns::{Column, allot, widest};
use super::fit::Names;
use super::widgets::{
    empty_note, evicted_row, evicted_width, metric_name, rate_sparkline_since, right, sorted_title,
    table, titled,
};
use crate::app::App;
use crate::app::list::SortKey;
use crate::app::view::{MetricSort, matched_per_second};
use crate::format;
use crate::ingest::model::MetricType;
use crate::store::{Metric, Store};

/// Widest, narrowest sparkline and widest where room is left (either way it
/// covers [`TREND_SECS`]; 60 columns are 2 s each).
const TREND_COLUMNS: (usize, usize, usize) = (30, 10, 60);

/// Seconds the sparkline covers.
const TREND_SECS: usize = 120;

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
    // Evicted since the list was built: shown as such until the next rebuild
    // rather than as whatever metric now has its slot.
    let metrics: Vec<Option<&Metric>> = ids[range.clone()]
        .iter()
        .map(|row| store.metric(row.id))
        .collect();
    let names: Vec<Cow<str>> = metrics
        .iter()
        .map(|m| m.map_or(Cow::Borrowed(""), |m| metric_name(store.str(m.name))))
        .collect();
    let names = Names::new(names.iter().map(|n| &**n).collect());
    let cells: Vec<Option<[String; 4]>> = ids[range.clone()]
        .iter()
        .zip(&metrics)
        .map(|(row, m)| {
            let m = (*m)?;
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
                matched_per_second(m, now)
            };
            let age = if m.last_arrival_ms == 0 {
                "-".into()
            } else {
                format::duration_secs((now - m.last_arrival_ms) as f64 / 1000.0)
            };
            Some([
                series,
                format::count_or_unknown(rate),
                type_label(store.metric_type(m)),
                age,
            ])
        })
        .collect();
    let widest = |i: usize, header: &str| widest(header, cells.iter().flatten().map(|c| &c[i]));
    let header = [
        "METRIC",
        "SERIES",
        "SAMPLES/S",
        "LAST 2 MIN",
        "TYPE",
        "LAST",
    ];
    let columns = [
        Column::fixed(widest(0, header[1])),
        Column::fixed(widest(1, header[2])),
        Column::new(TREND_COLUMNS.0, TREND_COLUMNS.1).growing(TREND_COLUMNS.2),
        Column::fixed(widest(2, header[4])),
        Column::fixed(widest(3, header[5])),
    ];
    // Least useful first: the age, the trend, the type, the series count.
    let mut key = names.room(header[0]);
    if metrics.iter().any(Option::is_none) {
        key.want = key.want.max(evicted_width());
    }
    let (key_width, mut widths) = allot(area.width, key, &columns, &[3, 2, 1, 0]);
    let trend = usize::from(widths[2]);
    let column_secs = TREND_SECS.div_ceil(trend.max(1));
    let since = app.counting_since_ms(store);
    let rows = metrics
        .iter()
        .zip(cells)
        .enumerate()
        .map(|(i, row)| {
            let (Some(m), Some([series, rate, kind, age])) = row else {
                return evicted_row();
            };
            vec![
                Cell::from(names.shown(i, key_width)),
                right(series),
                right(rate),
                Cell::from(rate_sparkline_since(
                    m.matched_rate().map_or_else(
                        || vec![0.0; trend],
                        |rate| rate.series(now, trend, column_secs),
                    ),
                    now,
                    column_secs,
                    since,
                )),
                Cell::from(kind),
                right(age),
            ]
        })
        .collect();
    let title = sorted_title(
        format!(" Metrics ({}) ", ids.len()),
        sort.label(),
        list.reversed(),
        Some("TYPE: ? guessed from the name, - unknown"),
        area.width,
    );
    let selected = list.cursor.selected.checked_sub(range.start);
    widths.insert(0, key_width);
    frame.render_widget(table(&header, rows, selected, &widths, titled(title)), area);
    if ids.is_empty() {
        let text = if filtered {
            "No series match the filter. Press / to change it (Ctrl-u, Enter: no filter)."
        } else {
            "No series yet."
        };
        empty_note(frame, area, text);
    }
    height
}
