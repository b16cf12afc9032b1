//! The latest requests, newest at the bottom, with the selected one's full
//! rejection message or warning below.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Wrap};

use super::columns::{Column, allot, widest};
use super::fit::{self, Names};
use super::theme;
use super::widgets::{held_state, right, table, titled};
use crate::app::App;
use crate::app::logs::Requests;
use crate::format;
use crate::store::{RequestRow, Store};
use crate::text::escape::escaped;

/// Draws the request log; returns the rows the list has room for.
pub fn render(frame: &mut Frame, area: Rect, app: &App, store: &Store) -> usize {
    let [list, detail] = Layout::vertical([Constraint::Fill(1), Constraint::Length(4)]).areas(area);
    let source = Requests(store);
    let screen = app.requests.screen(&source, super::table_rows(list));
    let shown: Vec<&RequestRow> = screen.rows.iter().map(|e| &e.row).collect();
    let senders: Vec<Cow<str>> = shown.iter().map(|r| escaped(&r.sender)).collect();
    let names = Names::new(senders.iter().map(|s| &**s).collect());
    let cells: Vec<[String; 10]> = shown
        .iter()
        .map(|r| {
            let retry = r
                .retry_attempt
                .as_deref()
                .map_or(String::new(), |n| format!(" retry {}", escaped(n)));
            [
                format::time_of_day(r.arrival_ms),
                escaped(&r.path).into_owned(),
                r.protocol.map_or("?", |p| p.name()).to_owned(),
                format!(
                    "{} → {}",
                    format::bytes(r.compressed_bytes as f64),
                    format::bytes(r.decoded_bytes as f64)
                ),
                r.counts.series.to_string(),
                r.counts.samples.to_string(),
                r.counts.histograms.to_string(),
                r.counts.exemplars.to_string(),
                r.counts.metadata.to_string(),
                format!("{}{retry}", r.status),
            ]
        })
        .collect();
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
        "META",
        "STATUS",
    ];
    // Cells hold every column but the sender's.
    let widest = |i: usize| widest(header[i + usize::from(i > 0)], cells.iter().map(|c| &c[i]));
    let any_metadata = shown.iter().any(|r| r.counts.metadata > 0);
    let columns = [
        Column::fixed(widest(0)),
        Column::new(widest(1), 8),
        Column::fixed(widest(2)),
        Column::fixed(widest(3)),
        Column::fixed(widest(4)),
        Column::fixed(widest(5)),
        Column::fixed(widest(6)),
        Column::fixed(widest(7)),
        Column::fixed(if any_metadata { widest(8) } else { 0 }),
        Column::fixed(widest(9)),
    ];
    // Least useful first: the path, exemplars, protocol, metadata, sizes,
    // histograms, series; the time, samples and status stay.
    let (key_width, widths) = allot(list.width, names.room(), &columns, &[1, 7, 2, 8, 3, 6, 4]);
    let rows = shown
        .iter()
        .zip(cells)
        .enumerate()
        .map(|(i, (r, c))| {
            let status_style = if r.rejected {
                theme::error()
            } else if r.note.is_some() {
                theme::warn()
            } else {
                Style::new()
            };
            let [
                time,
                path,
                proto,
                sizes,
                series,
                samples,
                hist,
                exemp,
                meta,
                status,
            ] = c;
            vec![
                Cell::from(time),
                Cell::from(names.shown(i, key_width)),
                Cell::from(fit::end(&path, widths[1].into()).into_owned()),
                Cell::from(proto),
                right(sizes),
                right(series),
                right(samples),
                right(hist),
                right(exemp),
                right(meta),
                Cell::from(Span::styled(
                    fit::end(&status, widths[9].into()).into_owned(),
                    status_style,
                )),
            ]
        })
        .collect::<Vec<_>>();
    let mut widths = widths;
    widths.insert(1, key_width);
    let state = if app.requests.is_following() {
        Span::styled("following ", theme::dim())
    } else {
        let oldest_kept = store.requests().front().map(|r| r.arrival_ms);
        held_state(&app.requests, &source, "requests", oldest_kept)
    };
    let title = Line::from(vec![
        Span::raw(format!(" Requests ({} kept) ", store.requests().len())),
        state,
    ]);
    frame.render_widget(
        table(&header, rows, screen.selected, &widths, titled(title)),
        list,
    );

    let chosen = match screen.highlighted() {
        Some(e) => Some(e.clone()),
        None => app.requests.selected_or_newest(&source),
    };
    let text = match chosen.as_ref().map(|e| &e.row) {
        Some(r) => match &r.note {
            Some(note) if r.rejected => Line::from(vec![
                Span::styled(format!("{} rejected: ", r.status), theme::error()),
                Span::raw(escaped(note).into_owned()),
            ]),
            Some(note) => Line::from(vec![
                Span::raw(carried(r)),
                Span::styled(" · warning: ", theme::warn()),
                Span::raw(escaped(note).into_owned()),
            ]),
            None => Line::from(vec![
                Span::raw(carried(r)),
                Span::styled(" · no warnings", theme::dim()),
            ]),
        },
        None => Line::from(Span::styled("no requests yet", theme::dim())),
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

/// What an accepted request carried, in words.
fn carried(r: &RequestRow) -> String {
    let c = &r.counts;
    let mut text = format!(
        "accepted: {} series, {} samples, {} histograms, {} exemplars",
        c.series, c.samples, c.histograms, c.exemplars
    );
    if c.metadata > 0 {
        text.push_str(&format!(", {} metadata entries", c.metadata));
    }
    text
}
