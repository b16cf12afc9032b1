//! One series: all labels, metadata, a chart of recent values, the latest
//! native histogram, recent exemplars, and its samples as a table.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Cell, Chart, Dataset, GraphType, Paragraph, Wrap};

use super::scale::{Extent, bar_cells};
use super::series::{flags, last_value};
use super::widgets::{dim_style, held_state, styled, table, titled, warn_style};
use crate::app::App;
use crate::app::logs::SeriesSamples;
use crate::format;
use crate::ingest::model::{HistogramExt, is_stale_nan};
use crate::store::{Series, SeriesKind, Store};
use crate::text::promql;

/// Widest value label on the chart's axis.
const AXIS_LABEL_WIDTH: usize = 10;

/// Rows of the samples table (when the screen has room).
const SAMPLES_TABLE_ROWS: u16 = 12;

/// Draws the series detail; returns the rows the samples table has room for.
///
/// ```text
/// ┌ series name{labels} ─────────────────────────────────┐
/// │ labels                    │ type, help, unit, flags   │
/// ├ recent values (chart) ─────────────────────────────── ┤
/// ├ samples (table) ──────────┬ histogram / exemplars ────┤
/// ```
pub fn render(frame: &mut Frame, area: Rect, app: &App, store: &Store) -> usize {
    let Some(id) = app.current_detail() else {
        return 0;
    };
    let Some(s) = store.series(id) else {
        let text = "This series was evicted (--max-series) or replaced. Press Esc to go back.";
        frame.render_widget(
            Paragraph::new(text)
                .style(warn_style())
                .block(titled(Line::raw(" Series "))),
            area,
        );
        return 0;
    };
    // Room for every label (plus the title), at least 6 rows, but at most a
    // third of the screen (`clamp` would panic where a third is under 6).
    let info_height = (s.labels.len() as u16 + 1).max(6).min(area.height / 3);
    let [info, chart, bottom] = Layout::vertical([
        Constraint::Length(info_height),
        Constraint::Fill(1),
        Constraint::Length(SAMPLES_TABLE_ROWS + 2),
    ])
    .areas(area);
    render_info(frame, info, app, store, s);
    render_chart(frame, chart, s);
    let [samples, side] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(bottom);
    render_samples(frame, samples, app, s);
    render_side(frame, side, store, s);
    super::table_rows(samples)
}

fn render_info(frame: &mut Frame, area: Rect, app: &App, store: &Store, s: &Series) {
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    let title = Line::raw(format!(" {} ", store.series_text(&s.labels)));
    let labels: Vec<Line> = store
        .label_pairs(&s.labels)
        .map(|(k, v)| {
            let mut value = String::new();
            promql::write_quoted(&mut value, v);
            Line::from(vec![
                styled(format!("{k} = "), dim_style()),
                Span::raw(value),
            ])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(labels)
            .block(titled(title))
            .wrap(Wrap { trim: false }),
        left,
    );

    let Some(metric) = store.metric(s.metric) else {
        return;
    };
    let name = store.str(metric.name);
    let (kind, inferred) = store.metric_type(metric);
    let meta = store.metadata_for(name);
    let mut lines = vec![Line::from(vec![
        styled("type ", dim_style()),
        Span::raw(format!(
            "{}{}",
            kind.name(),
            if inferred {
                " (inferred from the name; no metadata received)"
            } else {
                ""
            }
        )),
    ])];
    if let Some(m) = meta {
        lines.push(Line::from(vec![
            styled("help ", dim_style()),
            Span::raw(store.str(m.help).to_owned()),
        ]));
        if !store.str(m.unit).is_empty() {
            lines.push(Line::from(vec![
                styled("unit ", dim_style()),
                Span::raw(store.str(m.unit).to_owned()),
            ]));
        }
    }
    lines.push(Line::from(vec![
        styled("last ", dim_style()),
        Span::raw(format!(
            "{}  ·  {} samples received  ·  {}/s",
            last_value(s),
            s.samples_total,
            format::count(s.rate.per_second(app.now_ms))
        )),
    ]));
    if s.start_timestamp_ms != 0 {
        lines.push(Line::from(vec![
            styled("start/created ", dim_style()),
            Span::raw(format::timestamp(s.start_timestamp_ms)),
        ]));
    }
    let flags = flags(&s.anomalies());
    if !flags.is_empty() {
        lines.push(Line::from(vec![
            styled("flags ", dim_style()),
            styled(flags, warn_style()),
        ]));
    }
    let block = Block::new()
        .borders(Borders::TOP | Borders::LEFT)
        .title(" Metadata ");
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        right,
    );
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
                .style(dim_style())
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
    let label = |v: f64| format::value_fit(v, AXIS_LABEL_WIDTH);
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
                .style(dim_style()),
        )
        .y_axis(
            Axis::default()
                .bounds([-0.05, 1.05])
                .labels(y_labels)
                .style(dim_style()),
        );
    frame.render_widget(chart, area);
}

fn render_samples(frame: &mut Frame, area: Rect, app: &App, s: &Series) {
    let source = SeriesSamples(s);
    // Held rows and following rows alike come oldest first: newest first here.
    let screen = app.samples.screen(&source, super::table_rows(area));
    let rows = screen
        .rows
        .iter()
        .rev()
        .map(|e| {
            let p = e.row.point;
            let interval = e.row.interval_ms.map_or(String::new(), |ms| {
                format::duration_secs(ms as f64 / 1000.0)
            });
            let value = if is_stale_nan(p.value) && s.kind == SeriesKind::Float {
                "StaleNaN (stale marker)".into()
            } else {
                format::value(p.value)
            };
            vec![
                Cell::from(format::timestamp(p.timestamp_ms)),
                Cell::from(Line::from(value).right_aligned()),
                Cell::from(Line::from(interval).right_aligned()),
            ]
        })
        .collect();
    let widths = [
        Constraint::Length(24),
        Constraint::Fill(1),
        Constraint::Length(8),
    ];
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
                "samples",
                "g",
                s.points.iter().next().map(|p| p.timestamp_ms),
            ),
        ])
    };
    frame.render_widget(
        table(
            &["TIMESTAMP", "VALUE", "INTERVAL"],
            rows,
            selected,
            &widths,
            titled(title),
        ),
        area,
    );
}

fn render_side(frame: &mut Frame, area: Rect, store: &Store, s: &Series) {
    let mut lines = Vec::new();
    if let Some(h) = s.histogram() {
        // Bounds rounded to fit; `--no-tui --format json` has them exact.
        let short = |v: f64| format::value_fit(v, 10);
        lines.push(Line::from(styled(
            format!(
                "count {} · sum {} · schema {} · reset hint {}",
                format::value(h.total_count()),
                short(h.sum),
                h.schema,
                h.reset_hint_name()
            ),
            dim_style(),
        )));
        let ranges = h.positive_ranges();
        let max = ranges
            .iter()
            .map(|r| r.2)
            .chain([h.zero_count_value()])
            .filter(|c| c.is_finite())
            .fold(0.0, f64::max);
        let bar = |count: f64| "█".repeat(bar_cells(count, max, 16));
        let t = short(h.zero_threshold);
        let zero = h.zero_count_value();
        lines.push(Line::raw(format!(
            "{:>23} {:<16} {}",
            format!("zero [-{t}, {t}]"),
            bar(zero),
            format::value(zero)
        )));
        for (lo, hi, count) in ranges {
            lines.push(Line::raw(format!(
                "{:>23} {:<16} {}",
                format!("({}, {}]", short(lo), short(hi)),
                bar(count),
                format::value(count)
            )));
        }
        if !h.negative_spans.is_empty() {
            lines.push(Line::from(styled(
                format!("+ {} negative buckets", h.negative_buckets().len()),
                dim_style(),
            )));
        }
    }
    for e in s.exemplars().rev() {
        let labels = promql::series(e.labels.iter().map(|&(n, v)| (store.str(n), store.str(v))));
        let when = if e.timestamp_ms == 0 {
            "no timestamp".into()
        } else {
            format::time_of_day(e.timestamp_ms)
        };
        lines.push(Line::raw(format!(
            "exemplar {} @ {when} {labels}",
            format::value(e.value)
        )));
    }
    if lines.is_empty() {
        lines.push(Line::from(styled(
            "No native histogram or exemplars for this series.",
            dim_style(),
        )));
    }
    let title = if s.histogram().is_some() {
        " Latest native histogram · exemplars "
    } else {
        " Exemplars "
    };
    let block = Block::new()
        .borders(Borders::TOP | Borders::LEFT)
        .title(title);
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
