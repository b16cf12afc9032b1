//! The latest requests, newest at the bottom, with the selected one's full
//! rejection message or warning below.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Wrap};

use super::widgets::{dim_style, error_style, held_state, table, titled, warn_style};
use crate::app::App;
use crate::app::logs::Requests;
use crate::format;
use crate::store::Store;

/// Draws the request log; returns the rows the list has room for.
pub fn render(frame: &mut Frame, area: Rect, app: &App, store: &Store) -> usize {
    let [list, detail] = Layout::vertical([Constraint::Fill(1), Constraint::Length(4)]).areas(area);
    let source = Requests(store);
    let screen = app.requests.screen(&source, super::table_rows(list));
    let rows = screen
        .rows
        .iter()
        .map(|e| {
            let r = &e.row;
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
    let state = if app.requests.is_following() {
        Span::styled("following · ↑/k to select ", dim_style())
    } else {
        let oldest_kept = store.requests().front().map(|r| r.arrival_ms);
        held_state(&app.requests, &source, "requests", "G", oldest_kept)
    };
    let title = Line::from(vec![
        Span::raw(format!(" Requests ({} kept) ", store.requests().len())),
        state,
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
    frame.render_widget(
        table(&header, rows, screen.selected, &widths, titled(title)),
        list,
    );

    let chosen = match screen.highlighted() {
        Some(e) => Some(e.clone()),
        None => app.requests.selected_or_newest(&source),
    };
    let text = match chosen.map(|e| e.row) {
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
    let label = if app.requests.is_following() {
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
    super::table_rows(list)
}
