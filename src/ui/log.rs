//! Recent samples across all series, newest at the bottom, following new data
//! unless scrolled.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Cell;

use super::columns::{Column, Timestamps, allot, widest};
use super::fit;
use super::label_fit::{self, Form};
use super::labels;
use super::theme;
use super::widgets::{empty_note, held_state, no_rows_note, right, table, titled};
use crate::app::App;
use crate::app::logs::RecentSamples;
use crate::format;
use crate::store::{SeriesKind, Store};

/// Draws the recent-samples log; returns the rows it has room for.
pub fn render(frame: &mut Frame, area: Rect, app: &App, store: &Store) -> usize {
    let source = RecentSamples(store);
    let screen = app.log.screen(&source, super::table_rows(area));
    // Rows of evicted series have no labels to tell apart.
    let label_rows: Vec<Vec<(&str, &str)>> = screen
        .rows
        .iter()
        .filter_map(|e| e.row.labels.as_ref())
        .map(|labels| labels.iter().map(|(n, v)| (&**n, &**v)).collect())
        .collect();
    let sets = labels::shown_sets(&label_rows, app.all_labels);
    let entries: Vec<_> = screen.rows.iter().map(|e| &e.row.entry).collect();
    let values: Vec<String> = entries
        .iter()
        .map(|e| histogram_marked(e.kind, format::value(e.value)))
        .collect();
    let header = ["ARRIVED", "SAMPLE TIME", "VALUE", "SERIES"];
    let times = Timestamps::new(header[1], entries.iter().map(|e| e.timestamp_ms));
    let arrivals = entries.iter().map(|e| format::time_of_day(e.arrival_ms));
    let columns = [
        Column::fixed(widest(header[0], arrivals)),
        times.column,
        Column::new(widest(header[2], &values), fit::NUMBER_MIN_WIDTH + 6),
    ];
    // Least useful first: the arrival time, the sample time.
    // All labels asked for: their names stay.
    let shorter = if app.all_labels {
        Form::Named
    } else {
        Form::Bare
    };
    let (key_width, mut widths) = allot(
        area.width,
        label_fit::room(&sets, shorter, area.width),
        &columns,
        &[0, 1],
    );
    let mut fitted = label_fit::fit(&sets, usize::from(key_width), shorter)
        .rows
        .into_iter();
    let series: Vec<String> = screen
        .rows
        .iter()
        .map(|e| match e.row.labels {
            Some(_) => fitted.next().unwrap_or_default(),
            None => fit::end("(series evicted)", key_width.into()).into_owned(),
        })
        .collect();
    let value_width = usize::from(widths[2]);
    let rows = entries
        .iter()
        .zip(values)
        .zip(series)
        .map(|((e, value), series)| {
            let value = if fit::width(&value) <= value_width {
                value
            } else {
                let marker = fit::width(&histogram_marked(e.kind, String::new()));
                histogram_marked(
                    e.kind,
                    fit::number(e.value, value_width.saturating_sub(marker)),
                )
            };
            vec![
                Cell::from(format::time_of_day(e.arrival_ms)),
                Cell::from(times.text(e.timestamp_ms, widths[1])),
                right(value),
                Cell::from(series),
            ]
        })
        .collect::<Vec<_>>();
    widths.push(key_width);
    let state = if app.log.is_following() {
        Span::styled("following new samples ", theme::dim())
    } else {
        let oldest_kept = store.log().front().map(|e| e.arrival_ms);
        held_state(&app.log, &source, ("sample", "samples"), oldest_kept)
    };
    let title = Line::from(vec![
        Span::raw(format!(" Recent samples ({} kept) ", store.log().len())),
        state,
    ]);
    frame.render_widget(
        table(&header, rows, screen.selected, &widths, titled(title)),
        area,
    );
    if screen.rows.is_empty() {
        empty_note(frame, area, &no_rows_note(store, "samples"));
    }
    super::table_rows(area)
}

/// A value as the log shows it: histograms' observation count marked as such.
fn histogram_marked(kind: SeriesKind, value: String) -> String {
    match kind {
        SeriesKind::Histogram => format!("count {value}"),
        SeriesKind::Float => value,
    }
}
