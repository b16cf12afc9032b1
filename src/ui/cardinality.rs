//! The cardinality view: metrics by active series (or churn) with their share
//! and change, beside the label names and label-value pairs with the most
//! values and series across metrics (from 120 columns); a metric's labels,
//! unbounded ones first; a label's values. Draws the rows the app built.
//!
//! ```text
//! ┌ Cardinality · N active (5m) · +new −gone in 5m · new/s · gone/s ─┐
//! │ METRIC  ACTIVE SHARE CHANGE NEW/S GONE/S │ LABEL  DISTINCT        │
//! │ ...                                      │ PAIR   SERIES          │
//! └──────────────────────────────────────────────────────────────────┘
//! ```

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph};

use super::columns::{Column, allot, widest};
use super::fit::{self, Names};
use super::theme;
use super::widgets::{Part, metric_name, rate_sparkline_since, right, table, titled};
use crate::app::App;
use crate::app::cardinality::{CardinalityView, Level, Who};
use crate::format;
use crate::store::Store;
use crate::store::cardinality::{CHURN_SPAN_MS, Distinct, LabelCard, MetricCard, Turnover};
use crate::store::parties::PartyCard;
use crate::text::escape::escaped;

/// Width from which the across-metrics lists show beside the metrics.
const SIDE_FROM: u16 = 120;

/// Columns and seconds of the header's sparkline of new series per second.
const SPARK: (usize, usize) = (8, 120);

/// The header's item for churn: new series per second over the last
/// [`CHURN_SPAN_MS`] (the figure the cardinality view's title shows, said
/// with its span) and a sparkline of the last two minutes (counted since
/// `since_ms`), shown where room is left.
pub fn new_series_part(now_ms: i64, since_ms: i64, store: &Store) -> Part {
    let rate = store.new_series_rate();
    let (new, _) = store.churn_per_second(now_ms);
    let step = SPARK.1 / SPARK.0;
    let trend = rate_sparkline_since(rate.series(now_ms, SPARK.0, step), now_ms, step, since_ms);
    Part::whole(vec![Span::raw(format!(
        "  ·  new series {}/s ({}) {trend}",
        rate_text(new),
        window_text(store.churn_said_span_ms(now_ms, CHURN_SPAN_MS))
    ))])
    .optional()
}

/// Draws the view; returns the rows the open list has room for.
pub fn render(frame: &mut Frame, area: Rect, app: &App) -> usize {
    let view = &app.cardinality;
    match view.level {
        Level::Metrics if area.width >= SIDE_FROM => {
            let [left, side] =
                Layout::horizontal([Constraint::Percentage(60), Constraint::Fill(1)])
                    .spacing(1)
                    .areas(area);
            render_across(frame, side, view);
            render_metrics(frame, left, view)
        }
        Level::Metrics => render_metrics(frame, area, view),
        Level::Labels => {
            render_labels(frame, area, view);
            super::table_rows(area)
        }
        Level::Values => {
            render_values(frame, area, view);
            super::table_rows(area)
        }
        Level::Parties => {
            render_parties(frame, area, view);
            super::table_rows(area)
        }
    }
}

pub(super) fn distinct_text(d: Distinct) -> String {
    match d {
        Distinct::Exact(n) => n.to_string(),
        Distinct::Estimated(n) => format!("≈{}", format::count(n as f64)),
    }
}

pub(super) fn change_text(t: Turnover) -> String {
    let net = t.created as i64 - t.gone as i64;
    match net {
        0 => "0".into(),
        n if n > 0 => format!("+{}", format::count(n as f64)),
        n => format!("-{}", format::count(n.unsigned_abs() as f64)),
    }
}

/// A rate: below 1/s with two decimals (see [`format::rate`]).
pub(super) fn rate_text(r: f64) -> String {
    format::rate(r)
}

/// The staleness window, in minutes where it is whole minutes.
pub(super) fn window_text(ms: i64) -> String {
    if ms > 0 && ms % 60_000 == 0 {
        format!("{}m", ms / 60_000)
    } else {
        format::duration_secs(ms as f64 / 1000.0)
    }
}

fn render_metrics(frame: &mut Frame, area: Rect, view: &CardinalityView) -> usize {
    let metrics = &view.overview.metrics;
    let height = super::table_rows(area);
    let range = view.metrics.window(metrics.len(), height);
    let total = view.overview.active.max(1) as f64;
    let shown: &[MetricCard] = &metrics[range.clone()];
    let names: Vec<Cow<str>> = shown.iter().map(|m| metric_name(&m.name)).collect();
    let names = Names::new(names.iter().map(|n| &**n).collect());
    let cells: Vec<[String; 5]> = shown
        .iter()
        .map(|m| {
            [
                m.active.to_string(),
                format!("{:.1}%", m.active as f64 * 100.0 / total),
                change_text(m.change),
                rate_text(m.new_per_s),
                rate_text(m.gone_per_s),
            ]
        })
        .collect();
    // The change is over what was counted: "CHANGE 5M" only once five minutes were.
    let span = window_text(view.overview.change_span_ms).to_uppercase();
    let change = format!("CHANGE {span}|{span}");
    let header = ["METRIC", "ACTIVE", "SHARE", &change, "NEW/S", "GONE/S"];
    let columns: Vec<Column> = (0..5)
        .map(|i| Column::fixed(widest(header[i + 1], cells.iter().map(|c| &c[i]))))
        .collect();
    let (key_width, mut widths) = allot(area.width, names.room(header[0]), &columns, &[4, 3, 2, 1]);
    let rows = cells
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let mut row = vec![Cell::from(names.shown(i, key_width))];
            row.extend(c.into_iter().map(right));
            row
        })
        .collect();
    widths.insert(0, key_width);
    let selected = view.metrics.selected.checked_sub(range.start);
    frame.render_widget(
        table(
            &header,
            rows,
            selected,
            &widths,
            titled(super::cardinality_titles::overview(view, area.width)),
        ),
        area,
    );
    if metrics.is_empty() {
        empty(frame, area, empty_text(view, "No series yet."));
    }
    height
}

/// What an empty list says: that the rows are being counted (the pass gave
/// way to a key), or `otherwise`.
fn empty_text(view: &CardinalityView, otherwise: &'static str) -> &'static str {
    match (view.counting, view.filtered) {
        (true, true) => "Counting the filter's series…",
        (true, false) => "Counting…",
        (false, _) => otherwise,
    }
}

fn empty(frame: &mut Frame, area: Rect, text: &'static str) {
    let inner = Rect {
        y: area.y + 2,
        height: area.height.saturating_sub(2),
        ..area
    };
    frame.render_widget(Paragraph::new(text).style(theme::dim()), inner);
}

/// Lists beside the metrics: label names by distinct values, label-value
/// pairs by series, and tenants (when any) and senders by active series.
fn render_across<'a>(frame: &mut Frame, area: Rect, view: &'a CardinalityView) {
    let lists = if view.tenants.is_empty() { 3 } else { 4 };
    let areas = Layout::vertical(vec![Constraint::Ratio(1, lists); lists as usize]).split(area);
    let (names_area, pairs_area) = (areas[0], areas[1]);
    let rows = |cards: &'a [PartyCard]| cards.iter().map(|c| ("", escaped(&c.name), c)).collect();
    if let Some(&tenants_area) = areas.get(3) {
        let title = Line::from(Span::styled(" Tenants ", theme::palette().strong));
        let rows = rows(&view.tenants);
        parties(frame, tenants_area, (title, "TENANT"), rows, None);
    }
    let title = Line::from(vec![
        Span::styled(" Senders ", theme::palette().strong),
        Span::styled("t: select ", theme::dim()),
    ]);
    parties(
        frame,
        areas[2],
        (title, "SENDER"),
        rows(&view.senders),
        None,
    );
    let o = &view.overview;
    let names = o.label_names.iter().map(|l| {
        (
            escaped(&l.name).into_owned(),
            distinct_text(l.distinct),
            l.unbounded,
        )
    });
    two_columns(
        frame,
        names_area,
        " Label names by distinct values ",
        ["LABEL", "DISTINCT"],
        names,
    );
    let pairs = o.pairs.iter().map(|p| {
        let pair = format!("{}={}", escaped(&p.name), escaped(&p.value));
        (pair, p.series.to_string(), false)
    });
    two_columns(
        frame,
        pairs_area,
        " Label pairs by series ",
        ["PAIR", "SERIES"],
        pairs,
    );
}

/// Tenants and senders as a list of their own, with a cursor: Enter filters
/// to the selected one's series.
fn render_parties(frame: &mut Frame, area: Rect, view: &CardinalityView) {
    let len = view.len();
    let range = view.parties.window(len, super::table_rows(area));
    let rows = range
        .clone()
        .filter_map(|i| view.party(i))
        .map(|(who, card)| {
            let kind = match who {
                Who::Tenant => "tenant",
                Who::Sender => "sender",
            };
            (kind, escaped(&card.name), card)
        })
        .collect();
    let title = Line::from(vec![
        Span::styled(" Tenants and senders ", theme::palette().strong),
        Span::raw("by active series · "),
        Span::styled("Enter: filter to its series ", theme::dim()),
    ]);
    let selected = view.parties.selected.checked_sub(range.start);
    parties(frame, area, (title, "WHO"), rows, selected);
    if len == 0 {
        empty(frame, area, "No requests yet.");
    }
}

/// Tenants or senders (kind, where the list has both, and name escaped) with
/// their active series, samples and new series per second (the filter picks
/// one's series: `{__tenant__="…"}`, `{__sender__="…"}`).
fn parties(
    frame: &mut Frame,
    area: Rect,
    (title, who): (Line<'static>, &str),
    rows: Vec<(&str, Cow<str>, &PartyCard)>,
    selected: Option<usize>,
) {
    let header = [who, "ACTIVE", "SAMPLES/S", "NEW/S"];
    let rows = &rows[..rows.len().min(super::table_rows(area))];
    let cells: Vec<[String; 3]> = rows
        .iter()
        .map(|(_, _, p)| {
            [
                p.active.to_string(),
                p.samples_per_s
                    .map_or_else(|| format::UNKNOWN.to_owned(), rate_text),
                rate_text(p.new_per_s),
            ]
        })
        .collect();
    let mut widths: Vec<u16> = (0..3)
        .map(|i| widest(header[i + 1], cells.iter().map(|c| &c[i])) as u16)
        .collect();
    let numbers: u16 = widths.iter().map(|w| w + 1).sum();
    let key = area.width.saturating_sub(numbers + 2);
    widths.insert(0, key);
    let table_rows = rows
        .iter()
        .zip(cells)
        .map(|((kind, name, _), c)| {
            // The kind whole; a sender's product name cut before its version
            // and address, a tenant in the middle.
            let sender = *kind == "sender" || (kind.is_empty() && who == "SENDER");
            let kind = if kind.is_empty() {
                String::new()
            } else {
                format!("{kind}  ")
            };
            let room = usize::from(key).saturating_sub(fit::width(&kind));
            let name = if sender {
                fit::sender_row(name, room)
            } else {
                fit::middle(name, room).into_owned()
            };
            let mut row = vec![Cell::from(format!("{kind}{name}"))];
            row.extend(c.into_iter().map(right));
            row
        })
        .collect();
    frame.render_widget(
        table(&header, table_rows, selected, &widths, titled(title)),
        area,
    );
}

fn two_columns(
    frame: &mut Frame,
    area: Rect,
    title: &'static str,
    header: [&str; 2],
    rows: impl Iterator<Item = (String, String, bool)>,
) {
    let rows: Vec<_> = rows.take(super::table_rows(area)).collect();
    let number = widest(header[1], rows.iter().map(|r| &r.1)) as u16;
    let key = area.width.saturating_sub(number + 2);
    let cells = rows
        .into_iter()
        .map(|(name, n, flagged)| {
            let style = if flagged {
                theme::warn()
            } else {
                Default::default()
            };
            vec![
                Cell::from(fit::end(&name, key.into()).into_owned()).style(style),
                right(n),
            ]
        })
        .collect();
    let title = Line::from(Span::styled(title, theme::palette().strong));
    frame.render_widget(
        table(&header, cells, None, &[key, number], titled(title)),
        area,
    );
}

fn top_values(label: &LabelCard) -> String {
    let values: Vec<String> = label
        .top
        .iter()
        .map(|(v, n)| format!("{} ({n})", escaped(v)))
        .collect();
    values.join(", ")
}

fn render_labels(frame: &mut Frame, area: Rect, view: &CardinalityView) {
    let labels = &view.metric_labels;
    let height = super::table_rows(area);
    let range = view.labels.window(labels.len(), height);
    let shown = &labels[range.clone()];
    let cells: Vec<[String; 3]> = shown
        .iter()
        .map(|l| {
            let flag = if l.unbounded { "UNBOUNDED" } else { "" };
            [distinct_text(l.distinct), l.series.to_string(), flag.into()]
        })
        .collect();
    let header = [
        "LABEL",
        "DISTINCT",
        "SERIES",
        "FLAG",
        "TOP VALUES (SERIES)|TOP VALUES",
    ];
    let name_width = widest(header[0], shown.iter().map(|l| escaped(&l.name))).min(40);
    let fixed: Vec<usize> = (0..3)
        .map(|i| widest(header[i + 1], cells.iter().map(|c| &c[i])))
        .collect();
    let used: usize = name_width + fixed.iter().map(|w| w + 1).sum::<usize>() + 1;
    let values_width = usize::from(area.width).saturating_sub(used);
    let rows = shown
        .iter()
        .zip(cells)
        .map(|(l, [distinct, series, flag])| {
            vec![
                Cell::from(fit::end(&escaped(&l.name), name_width).into_owned()),
                right(distinct),
                right(series),
                Cell::from(flag).style(theme::warn()),
                Cell::from(fit::end(&top_values(l), values_width).into_owned()),
            ]
        })
        .collect();
    let mut widths = vec![name_width as u16];
    widths.extend(fixed.iter().map(|&w| w as u16));
    widths.push(values_width as u16);
    let metric = view
        .metric
        .as_ref()
        .map_or(Cow::Borrowed(""), |m| metric_name(&m.1));
    let active = view
        .overview
        .metrics
        .iter()
        .find(|m| Some(m.id) == view.metric.as_ref().map(|m| m.0))
        .map_or(0, |m| m.active);
    let title = super::cardinality_titles::labels(&metric, active, area.width);
    let selected = view.labels.selected.checked_sub(range.start);
    frame.render_widget(table(&header, rows, selected, &widths, titled(title)), area);
    if labels.is_empty() {
        let text = empty_text(view, "This metric has no series any more.");
        empty(frame, area, text);
    }
}

fn render_values(frame: &mut Frame, area: Rect, view: &CardinalityView) {
    let Some(label) = view.selected_label() else {
        let text = empty_text(view, "This label has no series any more.");
        empty(frame, area, text);
        return;
    };
    let rows: Vec<(String, String)> =
        std::iter::once(("(any value)".into(), label.series.to_string()))
            .chain(
                label
                    .top
                    .iter()
                    .map(|(v, n)| (escaped(v).into_owned(), n.to_string())),
            )
            .collect();
    let height = super::table_rows(area);
    let range = view.values.window(rows.len(), height);
    let header = ["VALUE", "SERIES"];
    let number = widest(header[1], rows.iter().map(|r| &r.1)) as u16;
    let key = area.width.saturating_sub(number + 1);
    let cells = rows[range.clone()]
        .iter()
        .map(|(v, n)| {
            vec![
                Cell::from(fit::end(v, key.into()).into_owned()),
                right(n.clone()),
            ]
        })
        .collect();
    let metric = view
        .metric
        .as_ref()
        .map_or(Cow::Borrowed(""), |m| metric_name(&m.1));
    let title = super::cardinality_titles::values(
        &escaped(&label.name),
        &metric,
        label.distinct,
        area.width,
    );
    let selected = view.values.selected.checked_sub(range.start);
    frame.render_widget(
        table(&header, cells, selected, &[key, number], titled(title)),
        area,
    );
}
