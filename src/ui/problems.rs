//! The Problems view: one row per rule that fired, with the selected rule's
//! explanation, usual cause and source below; under a rule, the series (or
//! requests) it fired on.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Wrap};

use super::columns::{Column, KeyRoom, allot, widest};
use super::fit;
use super::theme;
use super::widgets::{evicted_row, right, sorted_title, table, titled};
use crate::app::App;
use crate::app::list::SortKey;
use crate::format;
use crate::problems::{Rule, Severity};
use crate::store::Store;
use crate::store::problems::RuleStats;
use crate::text::escape::escaped;

/// The style a severity is shown in.
pub fn severity_style(severity: Severity) -> Style {
    match severity {
        Severity::Error => theme::error(),
        Severity::Warning => theme::warn(),
        Severity::Info => theme::dim(),
    }
}

/// Draws the Problems view; returns the rows its list has room for.
pub fn render(frame: &mut Frame, area: Rect, app: &App, store: &Store) -> usize {
    match app.problems.open {
        Some(rule) => render_rule(frame, area, app, store, rule),
        None => render_rules(frame, area, app, store),
    }
}

fn render_rules(frame: &mut Frame, area: Rect, app: &App, store: &Store) -> usize {
    let list = &app.problems.rules;
    let chosen = list.selected().and_then(|r| store.problems().get(r.rule));
    let about = chosen.map(|s| about(s, store)).unwrap_or_default();
    let [top, bottom] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(super::requests::detail_height(Some(&about), area)),
    ])
    .areas(area);
    let height = super::table_rows(top);
    let rows = list.rows();
    let range = list.cursor.window(rows.len(), height);
    let shown: Vec<Option<&RuleStats>> = rows[range.clone()]
        .iter()
        .map(|r| store.problems().get(r.rule))
        .collect();
    let cells: Vec<[String; 7]> = shown
        .iter()
        .flatten()
        .map(|s| {
            let series = if s.series_affected > 0 {
                s.series_affected.to_string()
            } else {
                "-".into()
            };
            [
                s.rule.severity().name().into(),
                s.rule.id().into(),
                s.count.to_string(),
                series,
                ago(app, s.first_ms),
                ago(app, s.last_ms),
                example(s, usize::MAX),
            ]
        })
        .collect();
    let header = [
        "SEV",
        "RULE",
        "COUNT",
        "SERIES",
        "FIRST",
        "LAST",
        "FIRST EXAMPLE|EXAMPLE",
    ];
    let widest = |i: usize| widest(header[i], cells.iter().map(|c| &c[i]));
    let columns: Vec<Column> = (0..6).map(|i| Column::fixed(widest(i))).collect();
    let key = KeyRoom {
        want: widest(6),
        need: widest(6).min(24),
    };
    // Least useful first: when it first fired, the series count, when last.
    let (key_width, mut widths) = allot(top.width, key, &columns, &[4, 3, 5]);
    let table_rows = shown
        .iter()
        .zip(&cells)
        .map(|(s, c)| {
            let Some(s) = s else {
                return evicted_row();
            };
            let style = severity_style(s.rule.severity());
            vec![
                Cell::from(Span::styled(c[0].clone(), style)),
                Cell::from(c[1].clone()),
                right(c[2].clone()),
                right(c[3].clone()),
                Cell::from(c[4].clone()),
                Cell::from(c[5].clone()),
                // The series takes at most half, so that what it said shows.
                Cell::from(
                    fit::end(&example(s, usize::from(key_width / 2)), key_width.into())
                        .into_owned(),
                ),
            ]
        })
        .collect();
    let title = sorted_title(
        format!(
            " Problems ({} {} fired) ",
            rows.len(),
            crate::format::plural(rows.len() as u64, "rule", "rules")
        ),
        list.sort().label(),
        list.reversed(),
        Some("Enter: the series it fired on"),
        area.width,
    );
    widths.push(key_width);
    let selected = list.cursor.selected.checked_sub(range.start);
    frame.render_widget(
        table(&header, table_rows, selected, &widths, titled(title)),
        top,
    );
    if rows.is_empty() {
        let text = "No problems found in what arrived so far: every rule that is on passed. \
                    The README lists the rules; --rule ID=off|warn|reject switches them.";
        empty_note(frame, top, text);
    }
    render_box(frame, bottom, about, " Rule ");
    height
}

/// How long ago `ms` was, as the metrics list's LAST column says it.
fn ago(app: &App, ms: i64) -> String {
    format::duration_secs((app.now_ms - ms).max(0) as f64 / 1000.0)
}

/// The first example of a rule on one line: its series (cut at
/// `series_columns`, so that what it said shows too), then what it said.
fn example(s: &RuleStats, series_columns: usize) -> String {
    let message = escaped(&s.example_message);
    match s.example_series.as_deref() {
        Some(series) if !series.is_empty() => {
            let series = escaped(series);
            format!("{}: {message}", fit::end(&series, series_columns))
        }
        _ => message.into_owned(),
    }
}

/// Whether one of a rule's series is the demo's deliberate sender's.
fn from_demo(s: &RuleStats, store: &Store) -> bool {
    let job = store.sym("job");
    let demo = store.sym(crate::demo::PROBLEMS_JOB);
    let of_demo = |id| {
        store.series(id).is_some_and(|series| {
            series
                .labels
                .iter()
                .any(|&(n, v)| Some(n) == job && Some(v) == demo)
        })
    };
    job.is_some() && demo.is_some() && s.series().any(of_demo)
}

/// What the box below the rules says of the selected one.
fn about(s: &RuleStats, store: &Store) -> Vec<Line<'static>> {
    let info = s.rule.info();
    let severity = s.rule.severity();
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{} ", s.rule.id()), severity_style(severity)),
            Span::styled(format!("({}) ", severity.name()), severity_style(severity)),
            Span::raw(info.explanation),
        ]),
        Line::from(vec![
            Span::styled("usual cause and fix: ", theme::dim()),
            Span::raw(info.hint),
        ]),
        Line::from(vec![
            Span::styled("source: ", theme::dim()),
            Span::raw(info.source),
        ]),
        Line::from(vec![
            Span::styled("first example: ", theme::dim()),
            Span::raw(escaped(&s.example_message).into_owned()),
        ]),
    ];
    if let Some(series) = s.example_series.as_deref().filter(|s| !s.is_empty()) {
        lines.push(Line::from(vec![
            Span::styled("on: ", theme::dim()),
            // Two lines of a wide terminal at most.
            Span::raw(fit::end(&escaped(series), 240).into_owned()),
        ]));
    }
    // First: on a small screen the box shows only its first lines.
    if from_demo(s, store) {
        lines.insert(
            1,
            Line::from(Span::styled(
                format!(
                    "This is the demo's deliberate sender (job=\"{}\"): it breaks a few \
                 rules on purpose, 8 s after the start and every 5 minutes.",
                    crate::demo::PROBLEMS_JOB
                ),
                theme::warn(),
            )),
        );
    }
    lines
}

fn render_box(frame: &mut Frame, area: Rect, text: Vec<Line<'static>>, label: &'static str) {
    let text = if text.is_empty() {
        vec![Line::from(Span::styled("no rule selected", theme::dim()))]
    } else {
        text
    };
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: true })
            .block(titled(Line::raw(label))),
        area,
    );
}

fn empty_note(frame: &mut Frame, area: Rect, text: &str) {
    let inner = Rect {
        y: area.y.saturating_add(2),
        height: area.height.saturating_sub(2),
        ..area
    };
    frame.render_widget(
        Paragraph::new(text.to_owned())
            .wrap(Wrap { trim: true })
            .style(theme::dim()),
        inner,
    );
}

/// A rule's series (or, for request rules, its requests).
fn render_rule(frame: &mut Frame, area: Rect, app: &App, store: &Store, rule: Rule) -> usize {
    let stats = store.problems().get(rule);
    if crate::app::problems::lists_requests(store, rule) {
        return render_requests(frame, area, app, stats);
    }
    let list = &app.problems.series;
    let height = super::table_rows(area);
    let rows = list.rows();
    let range = list.cursor.window(rows.len(), height);
    let shown: Vec<_> = rows[range.clone()]
        .iter()
        .map(|r| store.series(r.id).map(|s| (r, s)))
        .collect();
    let cells: Vec<Option<[String; 3]>> = shown
        .iter()
        .map(|s| {
            let (r, s) = (*s)?;
            let offence = store.offences().latest(r.id, rule);
            let (when, message) = offence.map_or_else(
                || {
                    (
                        "-".into(),
                        "(not kept: pushed out by later offences, or past the problems a request lists)".into(),
                    )
                },
                |o| {
                    let mut message = escaped(&o.message.text()).into_owned();
                    if o.count > 1 {
                        message.push_str(&format!(" (×{} in that request)", o.count));
                    }
                    (ago(app, o.arrival_ms), message)
                },
            );
            Some([
                escaped(&store.series_text(&s.labels)).into_owned(),
                when,
                message,
            ])
        })
        .collect();
    let header = ["SERIES", "AGO", "WHAT (ITS LATEST)|WHAT"];
    let widest = |i: usize| widest(header[i], cells.iter().flatten().map(|c| &c[i]));
    let columns = [Column::fixed(widest(1)), Column::new(widest(2), 16)];
    let key = KeyRoom {
        want: widest(0),
        need: widest(0).min(30),
    };
    let (key_width, widths) = allot(area.width, key, &columns, &[1, 0]);
    let table_rows = cells
        .into_iter()
        .map(|c| {
            let Some([series, when, message]) = c else {
                return evicted_row();
            };
            vec![
                Cell::from(fit::end(&series, key_width.into()).into_owned()),
                Cell::from(when),
                Cell::from(fit::end(&message, widths[1].into()).into_owned()),
            ]
        })
        .collect();
    let affected = stats.map_or(0, |s| s.series_affected);
    let title = sorted_title(
        format!(
            " {}: {} series shown of {affected} affected ",
            rule.id(),
            rows.len()
        ),
        list.sort().label(),
        list.reversed(),
        Some("Enter: the series · Esc: the rules"),
        area.width,
    );
    let mut all = vec![key_width];
    all.extend(widths);
    let selected = list.cursor.selected.checked_sub(range.start);
    frame.render_widget(
        table(&header, table_rows, selected, &all, titled(title)),
        area,
    );
    if rows.is_empty() {
        let text = if store.filter().is_all() {
            "Its series are all evicted since (over --max-series or --max-store-bytes)."
        } else {
            "None of its series match the filter. Press / to change it."
        };
        empty_note(frame, area, text);
    }
    height
}

/// The requests a request rule fired on, newest first.
fn render_requests(frame: &mut Frame, area: Rect, app: &App, stats: Option<&RuleStats>) -> usize {
    let height = super::table_rows(area);
    let hits: Vec<_> = stats.into_iter().flat_map(RuleStats::requests).collect();
    let cursor = &app.problems.requests;
    let range = cursor.window(hits.len(), height);
    let cells: Vec<[String; 3]> = hits[range.clone()]
        .iter()
        .map(|h| {
            [
                ago(app, h.arrival_ms),
                escaped(&h.subject).into_owned(),
                escaped(&h.message).into_owned(),
            ]
        })
        .collect();
    let header = ["AGO", "FROM", "WHAT"];
    let widest = |i: usize| widest(header[i], cells.iter().map(|c| &c[i]));
    let columns = [Column::fixed(widest(0)), Column::new(widest(1), 8)];
    let key = KeyRoom {
        want: widest(2),
        need: widest(2).min(30),
    };
    let (key_width, mut widths) = allot(area.width, key, &columns, &[1]);
    let rows = cells
        .into_iter()
        .map(|[time, from, what]| {
            vec![
                Cell::from(time),
                Cell::from(fit::end(&from, widths[1].into()).into_owned()),
                Cell::from(fit::end(&what, key_width.into()).into_owned()),
            ]
        })
        .collect();
    let rule = stats.map_or("", |s| s.rule.id());
    let title = Line::from(vec![
        Span::raw(format!(" {rule}: the latest {} requests ", hits.len())),
        Span::styled("Esc: the rules ", theme::dim()),
    ]);
    widths.push(key_width);
    let selected = cursor.selected.checked_sub(range.start);
    frame.render_widget(table(&header, rows, selected, &widths, titled(title)), area);
    height
}
