//! The series of one metric: per row the labels that tell the rows on screen
//! apart (or all of them), the labels the same on every series above.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph};

use super::columns::{Column, KeyRoom, allot, widest};
use super::fit;
use super::label_fit::{self, Form};
use super::labels;
use super::theme;
use super::widgets::{
    EVICTING_OPTIONS, empty_note, evicted_row, evicted_width, fitted_sorted_title, gone,
    metric_name, right, table, titled, value_sparkline,
};
use crate::app::App;
use crate::app::list::SortKey;
use crate::app::view::{RATE_WINDOW_SECS, SeriesSort};
use crate::format;
use crate::store::{Series, SeriesId, SeriesKind, Store};
use crate::text::promql;

/// A series' flags: the problem rules that fired on it (their ids, as the
/// Problems view lists them), and a backend's refusals in forward mode. A
/// stale marker is not among them: the value column shows it (`StaleNaN`).
pub fn flags(store: &Store, id: SeriesId, s: &Series) -> String {
    let fired = store.fired_rules(id);
    let mut out: Vec<String> = fired.iter().map(|r| r.id().to_owned()).collect();
    out.extend(upstream_flag(s));
    out.join(" ")
}

/// `rejected upstream×N` when a backend refused it (forward mode).
pub fn upstream_flag(s: &Series) -> Option<String> {
    let rejected = s.anomalies().rejected_upstream;
    (rejected > 0).then(|| format!("rejected upstream×{rejected}"))
}

/// Values a row's sparkline shows, and at most where room is left (a
/// series keeps 64 by default).
const SPARKLINE_POINTS: usize = 20;
const SPARKLINE_MOST: usize = 64;

/// Draws the series list of the open metric; returns the rows it has room for.
pub fn render(frame: &mut Frame, area: Rect, app: &App, store: &Store) -> usize {
    let Some(metric) = app.current_metric().and_then(|id| store.metric(id)) else {
        let text = format!(
            "All series of this metric were evicted (over {EVICTING_OPTIONS}). Press Esc to go back."
        );
        gone(frame, area, text);
        return 0;
    };
    let summary = &app.series.labels;
    let top_text = constant_lines(&summary.constant, usize::from(area.width));
    let top_height = top_text.len() as u16;
    let [top, list] =
        Layout::vertical([Constraint::Length(top_height), Constraint::Fill(1)]).areas(area);
    frame.render_widget(Paragraph::new(top_text), top);

    let view = &app.series.list;
    let ids = view.rows();
    let height = super::table_rows(list);
    let range = view.cursor.window(ids.len(), height);
    // Sorted by value or rate: those columns show the values the rows were
    // sorted by, so that the screen is in order.
    let sort = view.sort();
    let now = app.now_ms;
    // Evicted since the list was built: shown as such until the next rebuild
    // rather than as whatever series now has its slot.
    let series: Vec<Option<&Series>> = ids[range.clone()]
        .iter()
        .map(|row| store.series(row.id))
        .collect();
    // Constant labels are shown above the list, not in each row: a lone
    // series' labels are all constant, and its row gives their room to the
    // value and the columns after it (its labels cut to `cyc… lab…` said
    // nothing the line above did not).
    let all = app.all_labels;
    let label_rows: Vec<Vec<(&str, &str)>> = series
        .iter()
        .flatten()
        .map(|s| {
            store
                .label_pairs(&s.labels)
                .filter(|&(n, v)| {
                    let constant = || {
                        summary
                            .constant
                            .iter()
                            .any(|(cn, cv)| **cn == *n && **cv == *v)
                    };
                    n != "__name__" && (all || !constant())
                })
                // Equal label sets of two tenants are two series.
                .chain(
                    store
                        .origin_names(s.origin)
                        .into_iter()
                        .take(1)
                        .filter(|&(_, tenant)| (all || summary.tenants_vary) && !tenant.is_empty()),
                )
                .collect()
        })
        .collect();
    let sets = labels::shown_sets(&label_rows, all);
    // Per row: the last value, sample time, lag, rate, flags, and the values
    // up to the one shown (newer ones may have arrived since the sort).
    let cells: Vec<Option<([String; 5], f64, usize)>> = ids[range.clone()]
        .iter()
        .zip(&series)
        .map(|(row, s)| {
            let s = (*s)?;
            let (last, arrival_ms, samples_total) = if sort == SeriesSort::Value {
                (row.last, row.arrival_ms, row.samples_total)
            } else {
                (s.points.last(), s.last_arrival_ms, s.samples_total)
            };
            let rate = if sort == SeriesSort::Rate {
                row.rate
            } else {
                store.series_per_second(s, now, RATE_WINDOW_SECS)
            };
            let lag = last.map_or("-".into(), |p| format::lag(arrival_ms, p.timestamp_ms));
            let value = last.map_or(f64::NAN, |p| p.value);
            let text = [
                last.map_or("-".into(), |p| format::time_of_day(p.timestamp_ms)),
                lag,
                format::count_or_unknown(rate),
                flags(store, row.id, s),
                last.map_or("-".into(), |p| format::value(p.value)),
            ];
            let newer = s.samples_total.saturating_sub(samples_total) as usize;
            Some((text, value, newer))
        })
        .collect();
    let texts = || cells.iter().flatten().map(|c| &c.0);
    let widest = |i: usize, header: &str| widest(header, texts().map(|c| &c[i]));
    // Histograms show their observation count; with no row on screen, the
    // metric says what its series are.
    let histograms = if series.iter().flatten().next().is_none() {
        metric.has_histograms
    } else {
        series
            .iter()
            .flatten()
            .all(|s| s.kind == SeriesKind::Histogram)
    };
    let mut header = [
        "LABELS",
        if histograms { "COUNT" } else { "VALUE" },
        "TIMESTAMP",
        "LAG",
        "SAMPLES/S|PER S|/S",
        "RECENT VALUES|RECENT",
        "FLAGS",
    ];
    let any_flags = texts().any(|c| !c[3].is_empty());
    let most_points = series
        .iter()
        .flatten()
        .map(|s| s.points.len())
        .max()
        .unwrap_or(0);
    let columns = [
        Column::new(widest(4, header[1]), fit::NUMBER_MIN_WIDTH),
        Column::fixed(widest(0, header[2])),
        Column::fixed(widest(1, header[3])),
        // Never narrower than `/S`: one-digit rates were headed `S`.
        Column::new(widest(2, header[4]), widest(2, "/S")),
        Column::new(SPARKLINE_POINTS, 8).growing(SPARKLINE_MOST.min(most_points)),
        Column::new(if any_flags { widest(3, header[6]) } else { 0 }, 8),
    ];
    // Least useful first: the sample time, the trend, the lag, the rate, the flags.
    let shorter = Form::Columns;
    let mut room = label_fit::room(&sets, shorter, list.width);
    if series.iter().any(Option::is_none) {
        room.want = room.want.max(evicted_width());
    }
    // Rows, none with a label of its own (each said above): no key column,
    // not one of `{}` rows.
    let no_key = !all && !sets.is_empty() && sets.iter().all(|r| r.labels.is_empty());
    let no_key = no_key && series.iter().all(Option::is_some);
    if no_key {
        room = KeyRoom { want: 0, need: 0 };
    }
    let (key_width, mut widths) = allot(list.width, room, &columns, &[1, 4, 2, 3, 5]);
    let key_width = if no_key { 0 } else { key_width };
    let fitted = label_fit::fit(&sets, usize::from(key_width), shorter);
    let key_header = fitted.header.unwrap_or_else(|| header[0].to_owned());
    header[0] = &key_header;
    let mut keys = fitted.rows.into_iter();
    let keys: Vec<String> = series
        .iter()
        .map(|s| s.and_then(|_| keys.next()).unwrap_or_default())
        .collect();
    let value_width = usize::from(widths[0]);
    let trend = usize::from(widths[4]);
    let flags_width = usize::from(widths[5]);
    let rows = series
        .iter()
        .zip(cells)
        .zip(keys)
        .map(|(row, key)| {
            let (Some(s), Some(([time, lag, rate, flags, _], value, newer))) = row else {
                return evicted_row();
            };
            let recent = s.points.iter().rev().skip(newer).take(trend).rev();
            let shown = if s.points.is_empty() {
                "-".into()
            } else {
                fit::number(value, value_width)
            };
            vec![
                Cell::from(key),
                right(shown),
                Cell::from(time),
                right(lag),
                right(rate),
                Cell::from(value_sparkline(recent.map(|p| p.value))),
                Cell::from(Span::styled(
                    fit::end(&flags, flags_width).into_owned(),
                    theme::warn(),
                )),
            ]
        })
        .collect();
    let name = metric_name(store.str(metric.name));
    let name = fit::end(&name, usize::from(list.width) / 2);
    let filtered = !store.filter().is_all();
    let n = ids.len();
    let what = if filtered {
        let total = metric.series_count();
        vec![
            format!(" {name} · {n} of {total} series match the filter "),
            format!(" {name} · {n} of {total} series match "),
            format!(" {name} · {n}/{total} series "),
        ]
    } else {
        vec![format!(" {name} · {n} series ")]
    };
    // A column of the border is left to show where the title ends.
    let title_width = usize::from(list.width).saturating_sub(1);
    let title = fitted_sorted_title(what, sort.label(), view.reversed(), title_width);
    let selected = view.cursor.selected.checked_sub(range.start);
    widths.insert(0, key_width);
    frame.render_widget(table(&header, rows, selected, &widths, titled(title)), list);
    if ids.is_empty() {
        let text = if filtered {
            "None of its series match the filter. Press / to change it, Esc to go back."
        } else {
            "None of its series are kept now."
        };
        empty_note(frame, list, text);
    }
    height
}

/// Rows the labels the same on every series take at most.
const CONSTANT_ROWS: usize = 4;

/// The labels the same on every series, in at most [`CONSTANT_ROWS`] lines
/// of `width` columns, wrapped between labels; those that do not fit are
/// counted at the end (`… 12 more}`), and `a` shows them in every row.
pub fn constant_lines(constant: &[(Box<str>, Box<str>)], width: usize) -> Vec<Line<'static>> {
    let prefix = Span::styled(" same on every series: ", theme::dim());
    if constant.is_empty() {
        return vec![Line::from(vec![prefix, Span::raw("(none)")])];
    }
    let last = constant.len() - 1;
    let items: Vec<String> = constant
        .iter()
        .enumerate()
        .map(|(i, (n, v))| {
            let label = promql::series([(&**n, &**v)]);
            // `{name="value"}`: the braces open the first and close the last.
            let inner = label
                .strip_prefix('{')
                .and_then(|l| l.strip_suffix('}'))
                .unwrap_or(&label);
            let open = if i == 0 { "{" } else { "" };
            let close = if i == last { "}" } else { ", " };
            format!("{open}{inner}{close}")
        })
        .collect();
    // Items per line, the first line after the prefix.
    let mut lines: Vec<Vec<String>> = vec![Vec::new()];
    let mut used = prefix.width();
    for item in &items {
        let item_width = fit::width(item);
        if used + item_width > width && lines.last().is_some_and(|l| !l.is_empty()) {
            lines.push(Vec::new());
            used = 0;
        }
        let item = fit::end(item, width.saturating_sub(used)).into_owned();
        used += fit::width(&item);
        if let Some(line) = lines.last_mut() {
            line.push(item);
        }
    }
    let line_width = |i: usize, line: &[String]| {
        let start = if i == 0 { prefix.width() } else { 0 };
        start + line.iter().map(|item| fit::width(item)).sum::<usize>()
    };
    let mut more = String::new();
    if lines.len() > CONSTANT_ROWS {
        lines.truncate(CONSTANT_ROWS);
        let shown = |lines: &[Vec<String>]| lines.iter().map(Vec::len).sum::<usize>();
        let at = CONSTANT_ROWS - 1;
        loop {
            more = format!("… {} more}}", items.len() - shown(&lines));
            if line_width(at, &lines[at]) + fit::width(&more) <= width || lines[at].is_empty() {
                break;
            }
            lines[at].pop();
        }
        let hint = " (a: in every row)";
        if line_width(at, &lines[at]) + fit::width(&more) + hint.len() <= width {
            more.push_str(hint);
        }
    }
    let count = lines.len();
    lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            let mut spans: Vec<Span> = Vec::new();
            if i == 0 {
                spans.push(prefix.clone());
            }
            spans.push(Span::raw(line.concat()));
            if i + 1 == count && !more.is_empty() {
                spans.push(Span::styled(more.clone(), theme::dim()));
            }
            Line::from(spans)
        })
        .collect()
}
