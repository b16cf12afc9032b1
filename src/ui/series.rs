//! The series of one metric: varying labels per row, constant labels above.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Wrap};

use super::widgets::{
    dim_style, evicted_row, sorted_title, table, titled, value_sparkline, warn_style,
};
use crate::app::App;
use crate::app::list::SortKey;
use crate::app::view::SeriesSort;
use crate::format;
use crate::store::intern::Sym;
use crate::store::ring::Point;
use crate::store::{Anomalies, Series, SeriesKind, Store};
use crate::text::promql;

/// Width of the value column.
const VALUE_WIDTH: usize = 16;

/// Short flags for a series' anomalies.
pub fn flags(a: &Anomalies) -> String {
    let mut out = Vec::new();
    if a.out_of_order > 0 {
        out.push(format!("out-of-order×{}", a.out_of_order));
    }
    if a.duplicate > 0 {
        out.push(format!("dup-ts×{}", a.duplicate));
    }
    if a.stale > 0 {
        out.push(format!("stale×{}", a.stale));
    }
    if a.future > 0 {
        out.push(format!("future×{}", a.future));
    }
    out.join(" ")
}

/// Last value as shown in lists (histogram series show their count).
pub fn last_value(s: &Series) -> String {
    point_value(s.points.last(), s.kind)
}

/// A sample's value as shown in lists.
fn point_value(point: Option<Point>, kind: SeriesKind) -> String {
    match (point, kind) {
        (Some(p), SeriesKind::Histogram) => {
            format!("count {}", format::value_fit(p.value, VALUE_WIDTH - 6))
        }
        (Some(p), SeriesKind::Float) => format::value_fit(p.value, VALUE_WIDTH),
        (None, _) => "-".into(),
    }
}

/// Draws the series list of the open metric; returns the rows it has room for.
pub fn render(frame: &mut Frame, area: Rect, app: &App, store: &Store) -> usize {
    let Some(metric) = app.current_metric().and_then(|id| store.metric(id)) else {
        let text = "All series of this metric were evicted (--max-series). Press Esc to go back.";
        frame.render_widget(
            Paragraph::new(text)
                .style(warn_style())
                .block(titled(Line::raw(" Series "))),
            area,
        );
        return 0;
    };
    let summary = &app.series.labels;
    let constant = promql::series(summary.constant.iter().map(|(n, v)| (&**n, &**v)));
    let top_text = Line::from(vec![
        Span::styled(" same on every series: ", dim_style()),
        Span::raw(if summary.constant.is_empty() {
            "(none)".to_owned()
        } else {
            constant
        }),
    ]);
    let top_height = (top_text.width() as u16)
        .div_ceil(area.width.max(1))
        .clamp(1, 4);
    let [top, list] =
        Layout::vertical([Constraint::Length(top_height), Constraint::Fill(1)]).areas(area);
    frame.render_widget(Paragraph::new(top_text).wrap(Wrap { trim: true }), top);

    let view = &app.series.list;
    let ids = view.rows();
    let height = super::table_rows(list);
    let range = view.cursor.window(ids.len(), height);
    // Sorted by value or rate: those columns show the values the rows were
    // sorted by, so that the screen is in order.
    let sort = view.sort();
    let now = app.now_ms;
    // The names' current ids (None: no live series has that label any more).
    let varying: Vec<(&str, Option<Sym>)> = summary
        .varying
        .iter()
        .map(|name| (&**name, store.sym(name)))
        .collect();
    let rows = ids[range.clone()]
        .iter()
        .map(|row| {
            // Evicted since the list was built: say so until the next rebuild
            // rather than show whatever series now has its slot.
            let Some(s) = store.series(row.id) else {
                return evicted_row();
            };
            let varying = varying
                .iter()
                .map(|&(name, sym)| {
                    let value = s
                        .labels
                        .iter()
                        .find(|l| Some(l.0) == sym)
                        .map_or("", |l| store.str(l.1));
                    let mut out = format!("{name}=");
                    promql::write_quoted(&mut out, value);
                    out
                })
                .collect::<Vec<_>>()
                .join(", ");
            let (last, arrival_ms, samples_total) = if sort == SeriesSort::Value {
                (row.last, row.arrival_ms, row.samples_total)
            } else {
                (s.points.last(), s.last_arrival_ms, s.samples_total)
            };
            let rate = if sort == SeriesSort::Rate {
                row.rate
            } else {
                s.rate.per_second(now)
            };
            let lag = last.map_or("-".into(), |p| {
                format::duration_secs(arrival_ms.saturating_sub(p.timestamp_ms) as f64 / 1000.0)
            });
            // The values up to the one shown (newer ones may have arrived since).
            let newer = s.samples_total.saturating_sub(samples_total) as usize;
            let recent = s.points.iter().rev().skip(newer).take(20).rev();
            let flags = flags(&s.anomalies());
            vec![
                // A lone series has no varying labels: show all of them.
                Cell::from(if varying.is_empty() {
                    store.series_text(&s.labels)
                } else {
                    format!("{{{varying}}}")
                }),
                Cell::from(Line::from(point_value(last, s.kind)).right_aligned()),
                Cell::from(last.map_or("-".into(), |p| format::time_of_day(p.timestamp_ms))),
                Cell::from(Line::from(lag).right_aligned()),
                Cell::from(Line::from(format::count(rate)).right_aligned()),
                Cell::from(value_sparkline(recent.map(|p| p.value))),
                Cell::from(Span::styled(flags, warn_style())),
            ]
        })
        .collect();
    let name = store.str(metric.name);
    let what = if store.filter().is_all() {
        format!(" {name} · {} series ", ids.len())
    } else {
        let total = metric.series_count();
        format!(
            " {name} · {} of {total} series match the filter ",
            ids.len()
        )
    };
    let title = sorted_title(
        what,
        sort.label(),
        view.reversed(),
        "Enter: detail · Esc: back",
    );
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(VALUE_WIDTH as u16),
        Constraint::Length(12),
        Constraint::Length(7),
        Constraint::Length(9),
        Constraint::Length(20),
        Constraint::Length(22),
    ];
    let selected = view.cursor.selected.checked_sub(range.start);
    let header = [
        "LABELS",
        "VALUE",
        "TIMESTAMP",
        "LAG",
        "SAMPLES/S",
        "RECENT VALUES",
        "FLAGS",
    ];
    frame.render_widget(table(&header, rows, selected, &widths, titled(title)), list);
    height
}
