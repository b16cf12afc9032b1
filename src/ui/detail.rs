//! One series: all labels, metadata, a chart of recent values, the latest
//! native histogram, recent exemplars, and its samples as a table.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Cell, Chart, Dataset, GraphType, Paragraph};

use super::clip;
use super::columns::{Column, KeyRoom, Timestamps, allot, widest};
use super::fit;
use super::histogram;
use super::problems::severity_style;
use super::scale::Extent;
use super::series::upstream_flag;
use super::theme;
use super::widgets::{EVICTING_OPTIONS, gone, held_state, right, styled, table, titled};
use crate::app::App;
use crate::app::logs::SeriesSamples;
use crate::app::view::RATE_WINDOW_SECS;
use crate::format;
use crate::ingest::model::{MetricType, is_stale_nan};
use crate::problems::RuleSet;
use crate::store::offences::OFFENCES_SHOWN;
use crate::store::{Series, SeriesId, SeriesKind, Store};
use crate::text::escape::escaped;
use crate::text::promql;

/// Rows the metadata box usually needs (type, help, unit, last value, flags).
const METADATA_ROWS: usize = 5;

/// Rows of the samples table (when the screen has room).
const SAMPLES_TABLE_ROWS: u16 = 12;

/// Widest value label on the chart's axis.
const AXIS_LABEL_WIDTH: usize = 10;

/// Draws the series detail; returns the rows the samples table has room for.
///
/// ```text
/// ┌ series name{labels} ───────────────────────────────────┐
/// │ labels                    │ type, help, unit, flags    │
/// ├ recent values (chart) ─────────────────────────────── ┤
/// ├ samples (table) ──────────┬ histogram / exemplars ────┤
/// ```
pub fn render(frame: &mut Frame, area: Rect, app: &App, store: &Store) -> usize {
    let Some(id) = app.current_detail() else {
        return 0;
    };
    let Some(s) = store.series(id) else {
        let text = format!(
            "This series was evicted (over {EVICTING_OPTIONS}) or replaced. Press Esc to go back."
        );
        gone(frame, area, text);
        return 0;
    };
    // The labels and metadata get up to a third of the rows, the samples up
    // to two fifths, and the chart the rest (at least a third).
    let problem_rows = problem_lines(store, id).len();
    let label_rows = s.labels.len() + pseudo_labels(store, s).count();
    let info_rows =
        (label_rows.max(METADATA_ROWS + problem_rows) + 1).min(usize::from(area.height / 3));
    let table_rows = usize::from(SAMPLES_TABLE_ROWS + 2).min(usize::from(area.height) * 2 / 5);
    let [info, chart, bottom] = Layout::vertical([
        Constraint::Length(info_rows as u16),
        Constraint::Fill(1),
        Constraint::Length(table_rows as u16),
    ])
    .areas(area);
    render_info(frame, info, app, store, id);
    render_chart(frame, chart, s);
    // Without a histogram or exemplars the samples table takes the width.
    let side_share = if s.histogram().is_some() || s.exemplars().len() > 0 {
        50
    } else {
        0
    };
    let [samples, side] = Layout::horizontal([
        Constraint::Percentage(100 - side_share),
        Constraint::Percentage(side_share),
    ])
    .areas(bottom);
    render_samples(frame, samples, app, s);
    if side_share > 0 {
        render_side(frame, side, store, s);
    }
    super::table_rows(samples)
}

/// The series' `__tenant__` and `__sender__` (those it has), for the filter.
fn pseudo_labels<'a>(
    store: &'a Store,
    s: &Series,
) -> impl Iterator<Item = (&'static str, &'a str)> + 'a {
    store
        .origin_names(s.origin)
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
}

/// The series in full on the title row, then its labels (and who sent it)
/// beside its metadata.
fn render_info(frame: &mut Frame, area: Rect, app: &App, store: &Store, id: SeriesId) {
    let Some(s) = store.series(id) else {
        return;
    };
    let text = store.series_text(&s.labels);
    let title = fit::end(&text, usize::from(area.width).saturating_sub(2));
    let block = titled(Line::raw(format!(" {title} ")));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(inner);
    let quoted = |v: &str| {
        let mut value = String::new();
        promql::write_quoted(&mut value, v);
        value
    };
    let mut labels: Vec<Line> = store
        .label_pairs(&s.labels)
        .map(|(k, v)| {
            Line::from(vec![
                styled(format!("{} = ", escaped(k)), theme::dim()),
                Span::raw(quoted(v)),
            ])
        })
        .collect();
    // Who sent it, as the filter's selectors see it; never part of the series.
    labels.extend(pseudo_labels(store, s).map(|(k, v)| {
        Line::from(vec![
            styled(format!("{k} = "), theme::dim()),
            styled(quoted(v), theme::dim()),
            styled(" (filter only)", theme::dim()),
        ])
    }));
    // Cut where the box ends, and saying so: a 20 kB value or thousands of labels.
    let fitted =
        |lines, area: Rect, what| clip::wrapped(lines, area.width.into(), area.height.into(), what);
    frame.render_widget(Paragraph::new(fitted(labels, left, "labels")), left);
    let block = Block::new().borders(Borders::LEFT);
    let metadata = fitted(
        metadata_lines(app, store, id, s),
        block.inner(right),
        "lines",
    );
    frame.render_widget(Paragraph::new(metadata).block(block), right);
}

/// Type, help, unit, the last value, start timestamp and flags.
fn metadata_lines<'a>(app: &App, store: &'a Store, id: SeriesId, s: &Series) -> Vec<Line<'a>> {
    let item = |name: &'static str, value: Span<'a>| {
        Line::from(vec![styled(format!("{name} "), theme::dim()), value])
    };
    let mut lines = Vec::new();
    if let Some(metric) = store.metric(s.metric) {
        let (kind, inferred) = store.metric_type(metric);
        let source = match (kind, inferred) {
            (MetricType::Unknown, true) => " (no metadata received; not told by the name)",
            (_, true) => " (guessed from the name; no metadata received)",
            _ => "",
        };
        lines.push(item("type", Span::raw(format!("{}{source}", kind.name()))));
        if let Some(m) = store.metadata_for(store.str(metric.name)) {
            lines.push(item("help", Span::raw(escaped(store.str(m.help)))));
            if !store.str(m.unit).is_empty() {
                lines.push(item("unit", Span::raw(escaped(store.str(m.unit)))));
            }
        }
    }
    let last = s
        .points
        .last()
        .map_or("-".into(), |p| format::value(p.value));
    lines.push(item(
        "last",
        Span::raw(format!(
            "{last}  ·  {} {} received  ·  {}/s",
            s.samples_total,
            format::plural(s.samples_total, "sample", "samples"),
            format::count_or_unknown(store.series_per_second(s, app.now_ms, RATE_WINDOW_SECS))
        )),
    ));
    if s.start_timestamp_ms != 0 {
        lines.push(item(
            "start/created",
            Span::raw(format::timestamp(s.start_timestamp_ms)),
        ));
    }
    if s.is_stale() {
        let note = "stale: its latest sample is the sender's staleness marker (the target or the series went away)";
        lines.push(item("state", styled(note, theme::dim())));
    }
    // The rules that fired on it are listed below (`problems`).
    if let Some(flags) = upstream_flag(s) {
        lines.push(item("flags", styled(flags, theme::warn())));
    }
    if let Some(message) = s.upstream_rejection() {
        // One line per refused series in Prometheus's message: joined here.
        let message = escaped(&message.trim().replace('\n', " · ")).into_owned();
        lines.push(item("backend said", styled(message, theme::error())));
    }
    lines.extend(problem_lines(store, id));
    lines
}

/// The rules that fired on the series, then its latest offences still kept
/// (newest first, at most [`OFFENCES_SHOWN`]), and whether details of earlier
/// ones were pushed out by other series' offences.
fn problem_lines(store: &Store, id: SeriesId) -> Vec<Line<'static>> {
    let fired = store.fired_rules(id);
    if fired.is_empty() {
        return Vec::new();
    }
    let mut rules = vec![styled("problems ", theme::dim())];
    for (i, rule) in fired.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        rules.push(Span::raw(sep));
        rules.push(styled(rule.id(), severity_style(rule.severity())));
    }
    let mut lines = vec![Line::from(rules)];
    let mut shown = RuleSet::default();
    for o in store.offences().of(id).take(OFFENCES_SHOWN) {
        shown.insert(o.rule);
        let when = o.timestamp_ms().unwrap_or(o.arrival_ms);
        let times = if o.count > 1 {
            format!(" ×{}", o.count)
        } else {
            String::new()
        };
        lines.push(Line::from(vec![
            styled(
                format!("  {}{times} ", o.rule.id()),
                severity_style(o.rule.severity()),
            ),
            styled(format!("{} ", format::time_of_day(when)), theme::dim()),
            Span::raw(escaped(&o.message.text()).into_owned()),
        ]));
    }
    let untold = fired.iter().filter(|&r| !shown.contains(r)).count();
    if untold > 0 && store.offences().dropped() > 0 {
        lines.push(Line::from(styled(
            format!("  ({untold} rules' offending samples pushed out by later offences)"),
            theme::dim(),
        )));
    }
    lines
}

fn render_chart(frame: &mut Frame, area: Rect, s: &Series) {
    let what = if s.kind == SeriesKind::Histogram {
        "observation count"
    } else {
        "value"
    };
    let title = Line::raw(format!(" Recent {what}s ({} retained) ", s.points.len()));
    let finite = || s.points.iter().filter(|p| p.value.is_finite());
    let (Some(values), Some(first), Some(last)) = (
        Extent::of(finite().map(|p| p.value)),
        finite().map(|p| p.timestamp_ms).min(),
        finite().map(|p| p.timestamp_ms).max(),
    ) else {
        frame.render_widget(
            Paragraph::new("No finite values to chart.")
                .style(theme::dim())
                .block(titled(title)),
            area,
        );
        return;
    };
    // The chart is drawn in [0, 1] on both axes: the widget's own scaling
    // overflows on ranges like 0..1e307 (and then never finishes drawing).
    let span = i128::from(last) - i128::from(first);
    let at = |t: i64| {
        if span == 0 {
            0.5
        } else {
            (i128::from(t) - i128::from(first)) as f64 / span as f64
        }
    };
    let points: Vec<(f64, f64)> = finite()
        .filter_map(|p| Some((at(p.timestamp_ms), values.fraction(p.value)?)))
        .collect();
    let datasets = vec![
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .data(&points),
    ];
    let label = |v: f64| fit::number(v, AXIS_LABEL_WIDTH);
    let y_labels = if values.is_flat() {
        vec![String::new(), label(values.lo), String::new()]
    } else {
        vec![label(values.lo), label(values.hi)]
    };
    let chart = Chart::new(datasets)
        .block(titled(title))
        .x_axis(
            Axis::default()
                .bounds([0.0, 1.0])
                .labels([format::time_of_day(first), format::time_of_day(last)])
                .style(theme::dim()),
        )
        .y_axis(
            Axis::default()
                .bounds([-0.05, 1.05])
                .labels(y_labels)
                .style(theme::dim()),
        );
    frame.render_widget(chart, area);
}

fn render_samples(frame: &mut Frame, area: Rect, app: &App, s: &Series) {
    let source = SeriesSamples(s);
    // Held rows and following rows alike come oldest first: newest first here.
    let screen = app.samples.screen(&source, super::table_rows(area));
    let shown: Vec<_> = screen.rows.iter().rev().map(|e| &e.row).collect();
    let values: Vec<String> = shown
        .iter()
        .map(|r| {
            if is_stale_nan(r.point.value) && s.kind == SeriesKind::Float {
                "StaleNaN (stale marker)".into()
            } else {
                format::value(r.point.value)
            }
        })
        .collect();
    let intervals: Vec<String> = shown
        .iter()
        .map(|r| {
            r.interval_ms.map_or(String::new(), |ms| {
                format::duration_secs(ms as f64 / 1000.0)
            })
        })
        .collect();
    let header = ["TIMESTAMP", "VALUE", "INTERVAL"];
    let times = Timestamps::new(header[0], shown.iter().map(|r| r.point.timestamp_ms));
    let columns = [times.column, Column::fixed(widest(header[2], &intervals))];
    let key = KeyRoom {
        want: widest(header[1], &values),
        need: fit::NUMBER_MIN_WIDTH,
    };
    // Least useful first: the interval, then the sample time.
    let (value_width, widths) = allot(area.width, key, &columns, &[1, 0]);
    let rows = shown
        .iter()
        .zip(values)
        .zip(intervals)
        .map(|((r, value), interval)| {
            // The stale marker's note goes where the value does not fit.
            let value = if fit::width(&value) <= usize::from(value_width) {
                value
            } else {
                fit::number(r.point.value, value_width.into())
            };
            let time = times.text(r.point.timestamp_ms, widths[0]);
            vec![Cell::from(time), right(value), right(interval)]
        })
        .collect();
    let selected = screen
        .selected
        .map(|i| screen.rows.len().saturating_sub(i + 1));
    let title = if app.samples.is_following() {
        Line::raw(" Samples, newest first ")
    } else {
        Line::from(vec![
            Span::raw(" Samples, newest first · "),
            held_state(
                &app.samples,
                &source,
                ("sample", "samples"),
                s.points.iter().next().map(|p| p.timestamp_ms),
            ),
        ])
    };
    let widths = [widths[0], value_width, widths[1]];
    frame.render_widget(table(&header, rows, selected, &widths, titled(title)), area);
}

/// The latest native histogram and the recent exemplars.
fn render_side(frame: &mut Frame, area: Rect, store: &Store, s: &Series) {
    let block =
        Block::new()
            .borders(Borders::TOP | Borders::LEFT)
            .title(if s.histogram().is_some() {
                " Latest native histogram · exemplars "
            } else {
                " Exemplars "
            });
    let inner = block.inner(area);
    let width = usize::from(inner.width);
    let exemplars: Vec<Line> = s
        .exemplars()
        .rev()
        .take(usize::from(inner.height))
        .map(|e| {
            let labels =
                promql::series(e.labels.iter().map(|&(n, v)| (store.str(n), store.str(v))));
            Line::raw(exemplar_line(e.timestamp_ms, e.value, &labels, width))
        })
        .collect();
    let mut lines = match s.histogram() {
        // Exemplars keep a row (two where the box is tall) below the buckets.
        Some(h) => {
            let kept = if inner.height >= 10 { 2 } else { 1 };
            let rows = usize::from(inner.height).saturating_sub(exemplars.len().min(kept));
            histogram::lines(h, s.histogram_dropped_buckets(), width, rows)
        }
        None => Vec::new(),
    };
    lines.extend(exemplars);
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// Widest an exemplar's value gets.
const EXEMPLAR_VALUE_WIDTH: usize = 24;

/// One exemplar in `width` columns: its time whole, then its value (rounded
/// to what its labels leave, but never below [`fit::NUMBER_MIN_WIDTH`]),
/// then its labels, cut at the end where they do not fit.
fn exemplar_line(timestamp_ms: i64, value: f64, labels: &str, width: usize) -> String {
    let when = if timestamp_ms == 0 {
        "no timestamp".into()
    } else {
        format::time_of_day(timestamp_ms)
    };
    let head = format!("exemplar {when} ");
    let room = width.saturating_sub(fit::width(&head) + 1 + fit::width(labels));
    let value = fit::number(
        value,
        room.clamp(fit::NUMBER_MIN_WIDTH, EXEMPLAR_VALUE_WIDTH),
    );
    fit::end(&format!("{head}{value} {labels}"), width).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exemplar_shows_its_time_whole_and_its_value_rounded_not_cut() {
        let ms = 1_764_694_791_460; // 2025-12-02T16:59:51.460Z
        let labels = r#"{trace_id="4bf92f3577b34da6a3ce929d0e0e4736"}"#;
        // 80x24: the side box is 39 columns wide.
        let line = exemplar_line(ms, 0.17536077693870905, labels, 39);
        assert!(
            line.starts_with("exemplar 16:59:51.460 ~0.17536 {"),
            "{line}"
        );
        assert_eq!(fit::width(&line), 39, "{line}");
        let wide = exemplar_line(ms, 0.17536077693870905, labels, 100);
        assert_eq!(
            wide,
            format!("exemplar 16:59:51.460 0.17536077693870905 {labels}")
        );
        let untimed = exemplar_line(0, 1e300, "{}", 39);
        assert_eq!(untimed, "exemplar no timestamp 1e300 {}");
    }
}
