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
use super::widgets::{empty_note, held_state, no_rows_note, right, table, titled};
use crate::app::App;
use crate::app::logs::Requests;
use crate::format;
use crate::ingest::model::{RejectReason, shown_status};
use crate::store::{RequestRow, Store};
use crate::text::escape::escaped;

/// Draws the request log; returns the rows the list has room for.
pub fn render(frame: &mut Frame, area: Rect, app: &App, store: &Store) -> usize {
    let source = Requests(store);
    // Its box's height depends on its text, so this comes before the list.
    let chosen = app.requests.selected_or_newest(&source);
    let detail_text = chosen.as_ref().map(|e| detail_lines(&e.row));
    let [list, detail] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(detail_height(detail_text.as_deref(), area)),
    ])
    .areas(area);
    let screen = app.requests.screen(&source, super::table_rows(list));
    let shown: Vec<&RequestRow> = screen.rows.iter().map(|e| &e.row).collect();
    let senders: Vec<Cow<str>> = shown.iter().map(|r| escaped(&r.sender)).collect();
    let names = Names::new(senders.iter().map(|s| &**s).collect());
    let forwarding = app.forward.is_some();
    let mirroring = app.forward.as_ref().is_some_and(|f| !f.mirrors.is_empty());
    let cells: Vec<[String; 13]> = shown
        .iter()
        .map(|r| {
            let retry = r
                .retry_attempt
                .as_deref()
                .map_or(String::new(), |n| format!(" retry {}", escaped(n)));
            [
                format::time_of_day(r.arrival_ms),
                escaped(&r.path).into_owned(),
                escaped(r.tenant.as_deref().unwrap_or("")).into_owned(),
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
                if forwarding {
                    super::backend::cell(r)
                } else {
                    String::new()
                },
                super::backend::mirrors_cell(r),
                format!("{}{retry}", status_cell(r)),
            ]
        })
        .collect();
    let header = [
        "TIME",
        "SENDER",
        "PATH",
        "TENANT",
        "PROTO",
        "COMPRESSED → DECODED",
        "SERIES",
        "SAMPLES",
        "HIST",
        "EXEMP",
        "META",
        "BACKEND",
        "MIRRORS",
        "STATUS",
    ];
    // Cells hold every column but the sender's.
    let widest = |i: usize| widest(header[i + usize::from(i > 0)], cells.iter().map(|c| &c[i]));
    let any_metadata = shown.iter().any(|r| r.counts.metadata > 0);
    let any_tenant = shown.iter().any(|r| r.tenant.is_some());
    let shown_if = |show: bool, i: usize| if show { widest(i) } else { 0 };
    let columns = [
        Column::fixed(widest(0)),
        Column::new(widest(1), 8),
        Column::new(shown_if(any_tenant, 2), 6),
        Column::fixed(widest(3)),
        Column::fixed(widest(4)),
        Column::fixed(widest(5)),
        Column::fixed(widest(6)),
        Column::fixed(widest(7)),
        Column::fixed(widest(8)),
        Column::fixed(shown_if(any_metadata, 9)),
        Column::fixed(shown_if(forwarding, 10)),
        Column::new(shown_if(mirroring, 11), 6),
        Column::fixed(widest(12)),
    ];
    // Least useful first: the path, exemplars, protocol, metadata, sizes,
    // histograms, series, tenant, mirrors; the time, samples, backend and
    // status stay.
    let (key_width, widths) = allot(
        list.width,
        names.room(header[1]),
        &columns,
        &[1, 8, 3, 9, 4, 7, 5, 2, 11],
    );
    let rows = shown
        .iter()
        .zip(cells)
        .enumerate()
        .map(|(i, (r, c))| {
            let status_style = if r.rejected.is_some() {
                theme::error()
            } else if r.note.is_some()
                || r.backend
                    .as_ref()
                    .is_some_and(|b| b.sender_gave_up.is_some())
            {
                theme::warn()
            } else {
                Style::new()
            };
            let [
                time,
                path,
                tenant,
                proto,
                sizes,
                series,
                samples,
                hist,
                exemp,
                meta,
                backend,
                mirrors,
                status,
            ] = c;
            vec![
                Cell::from(time),
                Cell::from(names.shown(i, key_width)),
                Cell::from(fit::end(&path, widths[1].into()).into_owned()),
                Cell::from(fit::end(&tenant, widths[2].into()).into_owned()),
                Cell::from(proto),
                right(sizes),
                right(series),
                right(samples),
                right(hist),
                right(exemp),
                right(meta),
                right(backend),
                Cell::from(fit::end(&mirrors, widths[11].into()).into_owned()),
                Cell::from(Span::styled(
                    fit::end(&status, widths[12].into()).into_owned(),
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
        held_state(&app.requests, &source, ("request", "requests"), oldest_kept)
    };
    let title = Line::from(vec![
        Span::raw(format!(" Requests ({} kept) ", store.requests().len())),
        state,
    ]);
    frame.render_widget(
        table(&header, rows, screen.selected, &widths, titled(title)),
        list,
    );
    if screen.rows.is_empty() {
        let mut note = no_rows_note(store, "requests");
        if !store.filter().is_all() {
            // A series' labels are not a request's: `{job="x"}` matches none.
            note.push_str(
                " Requests are matched on tenant, sender, path, status, protocol and message.",
            );
        }
        empty_note(frame, list, &note);
    }

    let highlighted = screen.highlighted().map(|e| detail_lines(&e.row));
    // With requests kept, none matching the filter: not "no requests yet".
    let none = if store.requests().is_empty() {
        "no requests yet"
    } else {
        "none matches the filter"
    };
    let text = highlighted
        .or(detail_text)
        .unwrap_or_else(|| vec![Line::from(Span::styled(none, theme::dim()))]);
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

/// Rows the selected request's box takes: what its text needs wrapped,
/// between two and half of `area`.
pub(super) fn detail_height(text: Option<&[Line]>, area: Rect) -> u16 {
    let inner = usize::from(area.width.saturating_sub(2)).max(1);
    let needed: usize = text
        .unwrap_or_default()
        .iter()
        .map(|line| line.width().div_ceil(inner).max(1))
        .sum();
    let most = (area.height / 2).max(4);
    u16::try_from(needed + 2).unwrap_or(u16::MAX).clamp(4, most)
}

/// What the box below the list says of a request: its rejection (whole) or
/// what it carried, and in forward mode the backend's side and the tenant.
fn detail_lines(r: &RequestRow) -> Vec<Line<'static>> {
    let mut first = match (&r.note, r.rejected) {
        (Some(note), Some(reason)) => vec![
            Span::styled(refused_by(r, reason), theme::error()),
            Span::raw(escaped(note).into_owned()),
        ],
        (note, _) => {
            let mut spans = vec![Span::raw(carried(r))];
            if let Some(backend) = &r.backend {
                spans.push(Span::raw(format!(
                    " · the backend answered {} in {}",
                    r.status,
                    format::latency(backend.latency)
                )));
            }
            match note {
                Some(note) => {
                    spans.push(Span::styled(" · warning: ", theme::warn()));
                    spans.push(Span::raw(escaped(note).into_owned()));
                }
                None => spans.push(Span::styled(" · no warnings", theme::dim())),
            }
            spans
        }
    };
    if let Some(tenant) = &r.tenant {
        first.insert(0, Span::raw(format!("tenant {} · ", escaped(tenant))));
    }
    let mut lines = vec![Line::from(first)];
    if let Some(after) = r.backend.as_ref().and_then(|b| b.sender_gave_up) {
        lines.push(Line::from(Span::styled(
            format!(
                "the sender gave up waiting after {} and closed its connection: it got no answer",
                format::latency(after)
            ),
            theme::warn(),
        )));
    }
    if let Some(undecodable) = r.backend.as_ref().and_then(|b| b.undecodable.as_ref()) {
        lines.push(Line::from(vec![
            Span::styled(
                "promscope could not decode it (forwarded all the same): ",
                theme::warn(),
            ),
            Span::raw(escaped(undecodable).into_owned()),
        ]));
    }
    lines
}

/// What the sender got: the status, or `gave up` when it closed its
/// connection before the answer (forward mode).
fn status_cell(r: &RequestRow) -> Cow<'static, str> {
    match r.backend.as_ref().and_then(|b| b.sender_gave_up) {
        Some(_) => Cow::Borrowed("gave up"),
        None => shown_status(r.status),
    }
}

/// Who refused a request, before its message: `400 rejected: `, or in
/// forward mode `400 from the backend in 2ms: ` (a capture recorded before
/// promscope recorded who answered has no backend's latency) or
/// `502 (no answer from the backend): `.
fn refused_by(r: &RequestRow, reason: RejectReason) -> String {
    let status = shown_status(r.status);
    match reason {
        RejectReason::Backend => match &r.backend {
            Some(b) => format!(
                "{status} from the backend in {}: ",
                format::latency(b.latency)
            ),
            None => format!("{status} from the backend: "),
        },
        RejectReason::BackendUnavailable => format!("{status} (no answer from the backend): "),
        _ => format!("{status} rejected: "),
    }
}

/// What an accepted request carried, in words.
fn carried(r: &RequestRow) -> String {
    let c = &r.counts;
    let taken = if r.backend.is_some() {
        "sent"
    } else {
        "accepted"
    };
    let n = |n: u64, one, many| format!("{n} {}", format::plural(n, one, many));
    let mut text = format!(
        "{taken}: {} series, {}, {}, {}",
        c.series,
        n(c.samples, "sample", "samples"),
        n(c.histograms, "histogram", "histograms"),
        n(c.exemplars, "exemplar", "exemplars")
    );
    if c.metadata > 0 {
        text.push_str(&format!(
            ", {}",
            n(c.metadata, "metadata entry", "metadata entries")
        ));
    }
    text
}
