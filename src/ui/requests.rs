//! The latest requests, newest at the bottom, with the selected one's full
//! rejection message or warning below.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Wrap};

use super::widgets::{dim_style, error_style, table, titled, warn_style};
use crate::app::App;
use crate::format;
use crate::store::Store;

/// Draws the request log.
pub fn render(frame: &mut Frame, area: Rect, app: &App, store: &Store) {
    let [list, detail] = Layout::vertical([Constraint::Fill(1), Constraint::Length(4)]).areas(area);
    let height = list.height.saturating_sub(2) as usize;
    let requests = store.requests();
    let bottom = app
        .request_position(store)
        .saturating_sub(store.requests_start()) as usize;
    let first = (bottom + 1).saturating_sub(height);
    let rows = requests
        .iter()
        .skip(first)
        .take((bottom + 1).saturating_sub(first))
        .map(|r| {
            let status_style = if r.rejected {
                error_style()
            } else if r.note.is_some() {
                warn_style()
            } else {
                Style::new()
            };
            let retry = r
                .retry_attempt
                .as_deref()
                .map_or(String::new(), |n| format!(" retry {n}"));
            vec![
                Cell::from(format::time_of_day(r.arrival_ms)),
                Cell::from(r.sender.clone()),
                Cell::from(r.path.clone()),
                Cell::from(r.protocol.map_or("?", |p| p.name())),
                Cell::from(
                    Line::from(format!(
                        "{} → {}",
                        format::bytes(r.compressed_bytes as f64),
                        format::bytes(r.decoded_bytes as f64)
                    ))
                    .right_aligned(),
                ),
                Cell::from(Line::from(r.counts.series.to_string()).right_aligned()),
                Cell::from(Line::from(r.counts.samples.to_string()).right_aligned()),
                Cell::from(Line::from(r.counts.histograms.to_string()).right_aligned()),
                Cell::from(Line::from(r.counts.exemplars.to_string()).right_aligned()),
                Cell::from(Span::styled(format!("{}{retry}", r.status), status_style)),
            ]
        })
        .collect::<Vec<_>>();
    let selected = if app.requests.follow {
        None
    } else {
        rows.len().checked_sub(1)
    };
    let title = Line::from(vec![
        Span::raw(format!(" Requests ({} kept) ", requests.len())),
        Span::styled(
            if app.requests.follow {
                "following · ↑/k to select "
            } else {
                "selected · G to follow "
            },
            dim_style(),
        ),
    ]);
    let widths = [
        Constraint::Length(12),
        Constraint::Fill(2),
        Constraint::Fill(1),
        Constraint::Length(5),
        Constraint::Length(21),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(10),
    ];
    let header = [
        "TIME",
        "SENDER",
        "PATH",
        "PROTO",
        "COMPRESSED → DECODED",
        "SERIES",
        "SAMPLES",
        "HIST",
        "EXEMP",
        "STATUS",
    ];
    frame.render_widget(table(&header, rows, selected, &widths, titled(title)), list);

    let chosen = requests.get(bottom);
    let text = match chosen {
        Some(r) => match &r.note {
            Some(note) if r.rejected => Line::from(vec![
                Span::styled(format!("{} rejected: ", r.status), error_style()),
                Span::raw(note.clone()),
            ]),
            Some(note) => Line::from(vec![
                Span::styled("warning: ", warn_style()),
                Span::raw(note.clone()),
            ]),
            None => Line::from(Span::styled("accepted, no warnings", dim_style())),
        },
        None => Line::from(Span::styled("no requests yet", dim_style())),
    };
    let label = if app.requests.follow {
        " Latest request "
    } else {
        " Selected request "
    };
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: true })
            .block(titled(Line::raw(label))),
        detail,
    );
}
