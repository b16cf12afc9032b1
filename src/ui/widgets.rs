//! Small rendering helpers shared by the views: text sparklines, tables,
//! lines that fit their width, and list titles.

use ratatui::layout::Constraint;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use super::fit;
use super::scale::Extent;
use super::theme;
use crate::app::history::{History, HistoryList};
use crate::format;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Rates as bars scaled to their maximum: zero is the lowest bar, anything
/// above zero at least the second, so a trickle stays visible; NaN (not
/// counted then) is a gap.
pub fn rate_sparkline(values: &[f64]) -> String {
    let positive = values.iter().copied().filter(|&v| v > 0.0);
    let extent = Extent::of(positive.chain([0.0]));
    values
        .iter()
        .map(|&v| match extent.and_then(|e| e.level(v, BARS.len())) {
            _ if v.is_nan() => ' ',
            Some(level) if v > 0.0 => BARS[level.max(1)],
            _ => BARS[0],
        })
        .collect()
}

/// [`rate_sparkline`] of `values` (oldest first, `secs_per_column` seconds
/// each, the last ending with the second before `now_ms`, as
/// [`crate::store::rate::RateBuckets::series`] gives them), with the columns
/// that ended by `since_ms` drawn as gaps: nothing was listening then, so what
/// came is unknown, not zero. Drawn as zero, a fresh start read as a sender
/// that had been silent for the last two minutes.
pub fn rate_sparkline_since(
    mut values: Vec<f64>,
    now_ms: i64,
    secs_per_column: usize,
    since_ms: i64,
) -> String {
    let end = now_ms.div_euclid(1000);
    let step = secs_per_column.max(1) as i64;
    let columns = values.len() as i64;
    for (i, v) in values.iter_mut().enumerate() {
        let col_end_ms = (end - (columns - 1 - i as i64) * step).saturating_mul(1000);
        if col_end_ms <= since_ms {
            *v = f64::NAN;
        }
    }
    rate_sparkline(&values)
}

/// Values as bars scaled between their minimum and maximum; non-finite values
/// (NaN, stale markers, infinities) show as gaps.
pub fn value_sparkline(values: impl Iterator<Item = f64> + Clone) -> String {
    let extent = Extent::of(values.clone());
    values
        .map(|v| match extent.and_then(|e| e.level(v, BARS.len())) {
            Some(level) => BARS[level],
            None => ' ',
        })
        .collect()
}

/// The options whose bounds evict series, for messages about evicted ones.
pub const EVICTING_OPTIONS: &str = "--max-series or --max-store-bytes";

/// Columns [`evicted_row`]'s text takes: a key column showing one gets them.
pub fn evicted_width() -> usize {
    fit::width(&format!("(evicted: over {EVICTING_OPTIONS})"))
}

/// The row of a list entry evicted since the list was built: lists are rebuilt
/// only now and then, and the entry's slot may already hold another one.
pub fn evicted_row() -> Vec<Cell<'static>> {
    vec![Cell::from(Span::styled(
        format!("(evicted: over {EVICTING_OPTIONS})"),
        theme::dim(),
    ))]
}

/// A bordered block with a title.
pub fn titled(title: Line<'_>) -> Block<'_> {
    Block::new().borders(Borders::TOP).title(title)
}

/// A table of `rows` (already limited to the visible window) under `header`,
/// with the row at `selected` (an index into `rows`) highlighted. Columns of
/// width 0 (dropped for want of room, see `columns::allot`) are left out. A
/// header may offer shorter names after `|` (`RECENT VALUES|RECENT`): the
/// first that fits its column is shown.
pub fn table<'a>(
    header: &[&'a str],
    rows: Vec<Vec<Cell<'a>>>,
    selected: Option<usize>,
    widths: &[u16],
    block: Block<'a>,
) -> Table<'a> {
    let shown = |i: usize| widths.get(i).is_some_and(|&w| w > 0);
    let header = Row::new(
        header
            .iter()
            .zip(widths)
            .filter(|&(_, &w)| w > 0)
            .map(|(names, &w)| {
                let mut names = names.split('|');
                let first = names.next().unwrap_or("");
                let name = std::iter::once(first)
                    .chain(names)
                    .find(|n| fit::width(n) <= usize::from(w))
                    .unwrap_or(first);
                Cell::from(name)
            }),
    )
    .style(theme::header());
    let rows = rows.into_iter().enumerate().map(|(row, cells)| {
        let cells = cells
            .into_iter()
            .enumerate()
            .filter(|&(i, _)| shown(i))
            .map(|(_, c)| c);
        let row_style = if Some(row) == selected {
            theme::selected()
        } else {
            Style::new()
        };
        Row::new(cells).style(row_style)
    });
    let widths = widths
        .iter()
        .filter(|&&w| w > 0)
        .map(|&w| Constraint::Length(w));
    Table::new(rows, widths)
        .header(header)
        .block(block)
        .column_spacing(1)
}

/// A right-aligned cell (numbers).
pub fn right<'a>(text: impl Into<std::borrow::Cow<'a, str>>) -> Cell<'a> {
    Cell::from(Line::from(text.into()).right_aligned())
}

/// The title of a list that stopped following: what arrived since and, once
/// the user went back past the oldest entry still kept, when the kept ones now
/// start (`oldest_kept_ms`). The footer says which key follows again. `what`
/// names one entry and several.
pub fn held_state<R: Clone, H: History<Row = R>>(
    list: &HistoryList<R>,
    source: &H,
    (one, what): (&str, &str),
    oldest_kept_ms: Option<i64>,
) -> Span<'static> {
    let mut text = String::from("scrolled back ");
    let newer = list.newer(source);
    if newer > 0 {
        text.push_str(&format!(
            "· {} newer {} ",
            format::count(newer as f64),
            format::plural(newer, one, what)
        ));
    }
    if list.reached_oldest() || list.older_than_kept(source) {
        text.push_str(&match oldest_kept_ms {
            Some(ms) => format!("· kept {what} now start at {} ", format::time_of_day(ms)),
            None => format!("· no {what} kept "),
        });
    }
    Span::styled(text, theme::warn())
}

/// A list's title: what it is, then (dimmed) its order and an optional note.
pub fn sorted_title(what: String, sort: &str, reverse: bool, note: Option<&str>) -> Line<'static> {
    let order = format!(
        "sorted by {sort}{}{} ",
        if reverse { " (reversed)" } else { "" },
        note.map_or(String::new(), |n| format!(" · {n}"))
    );
    Line::from(vec![Span::raw(what), Span::styled(order, theme::dim())])
}

/// [`sorted_title`] in `width` columns: `what` is shown in the first of its
/// forms (longest first) that leaves room for the order, else in its shortest
/// without it.
pub fn fitted_sorted_title(
    what: Vec<String>,
    sort: &str,
    reverse: bool,
    width: usize,
) -> Line<'static> {
    let mut forms = what.into_iter().map(|w| vec![Span::raw(w)]);
    let first = forms.next().unwrap_or_default();
    let order = sorted_title(String::new(), sort, reverse, None);
    fitted_line(
        vec![
            Part::or_shorter(first, forms.collect()),
            Part::whole(order.spans),
        ],
        width,
    )
}

/// A dimmed note in place of the rows of an empty table drawn in `area`
/// (under its title and header).
pub fn empty_note(frame: &mut ratatui::Frame, area: ratatui::layout::Rect, text: &str) {
    let inner = ratatui::layout::Rect {
        y: area.y + 2,
        height: area.height.saturating_sub(2),
        ..area
    };
    frame.render_widget(
        ratatui::widgets::Paragraph::new(text)
            .style(theme::dim())
            .wrap(ratatui::widgets::Wrap { trim: true }),
        inner,
    );
}

/// What an empty log of `what` (`samples`, `requests`) says.
pub fn no_rows_note(store: &crate::store::Store, what: &str) -> String {
    if store.filter().is_all() {
        format!("No {what} yet.")
    } else {
        format!("No kept {what} match the filter. Press / to change it (Ctrl-u, Enter: no filter).")
    }
}

/// One item of a line built by [`fitted_line`]: its spans, and which one (if
/// any) may be shortened with `…` to fit (text, never a number).
pub struct Part {
    spans: Vec<Span<'static>>,
    shrinkable: Option<usize>,
    /// The shrinkable span is cut at its start, not its end.
    keeps_end: bool,
    /// What to show instead when it does not fit, longest first.
    shorter: Vec<Vec<Span<'static>>>,
    /// Shown only if room is left: no reason to shorten others.
    optional: bool,
}

impl Part {
    /// An item shown whole or not at all.
    pub fn whole(spans: Vec<Span<'static>>) -> Self {
        Part {
            spans,
            shrinkable: None,
            keeps_end: false,
            shorter: Vec::new(),
            optional: false,
        }
    }

    /// An item whose span at `index` may be shortened.
    pub fn shrinking(spans: Vec<Span<'static>>, index: usize) -> Self {
        Part {
            spans,
            shrinkable: Some(index),
            keeps_end: false,
            shorter: Vec::new(),
            optional: false,
        }
    }

    /// [`Part::shrinking`], cut at the start of the span (`…end`): for a
    /// line being typed, whose end is where the cursor is.
    pub fn shrinking_at_start(spans: Vec<Span<'static>>, index: usize) -> Self {
        Part {
            keeps_end: true,
            ..Part::shrinking(spans, index)
        }
    }

    /// An item shown whole, or as the first of `shorter` (each whole) that
    /// fits where it does not.
    pub fn or_shorter(spans: Vec<Span<'static>>, shorter: Vec<Vec<Span<'static>>>) -> Self {
        Part {
            spans,
            shrinkable: None,
            keeps_end: false,
            shorter,
            optional: false,
        }
    }

    /// The same item, shown only where room is left: other items do not
    /// take shorter forms to make room for it.
    pub fn optional(self) -> Self {
        Part {
            optional: true,
            ..self
        }
    }
}

/// Narrowest a shortened span gets before its item is left out instead.
const MIN_SHRUNK: usize = 6;

/// `parts` in order on one line of `width` columns: an item that does not fit
/// is shortened where it allows, else left out (a later, shorter one may still
/// fit), so that no number is ever cut off at the edge. Items with shorter
/// forms take them, all to the same step, where that lets more items that
/// are not [`Part::optional`] show (`series 2 active (5m)  ·  metrics 3`
/// rather than `series 2 active (5m), 2 seen` alone), or as many with an
/// earlier one among them (`samples 9, hist 2  ·  series 2 active` rather
/// than `samples 9, histograms 2 (3/s)  ·  metrics 3`).
pub fn fitted_line(parts: Vec<Part>, width: usize) -> Line<'static> {
    let steps = parts.iter().map(|p| p.shorter.len()).max().unwrap_or(0);
    // The least shortened of the best layouts: the first step of the most.
    let best = (0..=steps)
        .map(|step| laid_out(&parts, width, step))
        .map(|(shown, spans)| ((shown.iter().filter(|&&s| s).count(), shown), spans))
        .rev()
        .max_by(|(a, _), (b, _)| a.cmp(b));
    Line::from(best.map(|(_, spans)| spans).unwrap_or_default())
}

/// [`fitted_line`] with each item starting from its `step`th shorter form
/// (or its shortest): the spans, and which items not optional they show.
fn laid_out(parts: &[Part], width: usize, step: usize) -> (Vec<bool>, Vec<Span<'static>>) {
    let mut spans = Vec::new();
    let mut shown = Vec::new();
    let mut left = width;
    let width_of = |spans: &[Span]| spans.iter().map(|s| s.width()).sum::<usize>();
    for part in parts {
        let mut forms = std::iter::once(&part.spans)
            .chain(&part.shorter)
            .skip(step.min(part.shorter.len()));
        if !part.optional {
            shown.push(false);
        }
        let Some(mut chosen) = forms.next().cloned() else {
            continue;
        };
        while width_of(&chosen) > left
            && let Some(next) = forms.next()
        {
            chosen = next.clone();
        }
        let needed = width_of(&chosen);
        if needed > left {
            let Some(span) = part.shrinkable.and_then(|i| chosen.get_mut(i)) else {
                continue;
            };
            let keep = span.width().saturating_sub(needed - left);
            if keep < MIN_SHRUNK {
                continue;
            }
            span.content = if part.keeps_end {
                fit::start(&span.content, keep)
            } else {
                fit::end(&span.content, keep)
            }
            .into_owned()
            .into();
        }
        left -= width_of(&chosen).min(left);
        if let Some(last) = shown.last_mut().filter(|_| !part.optional) {
            *last = true;
        }
        spans.extend(chosen);
    }
    (shown, spans)
}

/// A span with a style.
pub fn styled<'a>(text: impl Into<std::borrow::Cow<'a, str>>, style: Style) -> Span<'a> {
    Span::styled(text, style)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines() {
        assert_eq!(rate_sparkline(&[0.0, 5.0, 10.0, 0.1]), "▁▅█▂");
        assert_eq!(rate_sparkline(&[0.0, 0.0]), "▁▁");
        assert_eq!(value_sparkline([1.0, f64::NAN, 3.0].into_iter()), "▁ █");
        assert_eq!(value_sparkline([2.0, 2.0].into_iter()), "▅▅");
        assert_eq!(
            value_sparkline([-1e308, 0.0, 1e308, f64::INFINITY].into_iter()),
            "▁▅█ "
        );
        assert_eq!(value_sparkline([0.0, 1e307].into_iter()), "▁█");
        // NaN: not counted then, a gap.
        assert_eq!(rate_sparkline(&[0.0, f64::MAX, 1.0, f64::NAN]), "▁█▂ ");
    }

    #[test]
    fn columns_before_listening_began_are_gaps_not_zero() {
        // Four 10 s columns ending with second 99 (now 100.5 s): they end at
        // 70, 80, 90 and 100 s. Listening since 80 s: the first two are unknown.
        let values = vec![0.0, 0.0, 4.0, 8.0];
        assert_eq!(
            rate_sparkline_since(values.clone(), 100_500, 10, 80_000),
            "  ▅█"
        );
        // Since 79.999 s: the column ending at 80 s holds a millisecond of it.
        assert_eq!(
            rate_sparkline_since(values.clone(), 100_500, 10, 79_999),
            " ▁▅█"
        );
        // Listening all along: zeros are zeros.
        assert_eq!(rate_sparkline_since(values, 100_500, 10, 0), "▁▁▅█");
    }

    #[test]
    fn items_that_do_not_fit_are_shortened_or_left_out() {
        let parts = || {
            vec![
                Part::whole(vec![Span::raw("requests 12345")]),
                Part::shrinking(
                    vec![
                        Span::raw(" sender "),
                        Span::raw("Prometheus/3.5.0"),
                        Span::raw(" +3"),
                    ],
                    1,
                ),
                Part::or_shorter(
                    vec![Span::raw(" series 99, 120 seen")],
                    vec![
                        vec![Span::raw(" series 99 (5m)")],
                        vec![Span::raw(" series 99")],
                    ],
                ),
            ]
        };
        let text = |width| fitted_line(parts(), width).to_string();
        assert_eq!(
            text(61),
            "requests 12345 sender Prometheus/3.5.0 +3 series 99, 120 seen"
        );
        assert_eq!(
            text(60),
            "requests 12345 sender Prometheus/3.5.0 +3 series 99 (5m)"
        );
        assert_eq!(
            text(55),
            "requests 12345 sender Prometheus/3.5.0 +3 series 99"
        );
        assert_eq!(text(40), "requests 12345 sender Prometheus/3.5… +3");
        assert_eq!(text(30), "requests 12345 series 99 (5m)");
        assert_eq!(text(28), "requests 12345 series 99");
        assert_eq!(text(10), " series 99");
        // A shorter form, rather than an item after it left out.
        let mut with_metrics = parts();
        with_metrics.push(Part::whole(vec![Span::raw(" metrics 3")]));
        let line = |parts, width| fitted_line(parts, width).to_string();
        assert_eq!(
            line(with_metrics, 66),
            "requests 12345 sender Prometheus/3.5.0 +3 series 99 (5m) metrics 3"
        );
        // Not for an optional one.
        let mut with_rate = parts();
        with_rate.push(Part::whole(vec![Span::raw(" 1 B/s")]).optional());
        assert_eq!(
            line(with_rate, 64),
            "requests 12345 sender Prometheus/3.5.0 +3 series 99, 120 seen"
        );
    }

    #[test]
    fn as_many_items_with_an_earlier_one_among_them_win() {
        let parts = || {
            vec![
                Part::or_shorter(
                    vec![Span::raw("samples 9, histograms 2 (3/s)")],
                    vec![vec![Span::raw("samples 9, hist 2")]],
                ),
                Part::whole(vec![Span::raw(" series 2 active")]),
                Part::whole(vec![Span::raw(" metrics 3")]),
            ]
        };
        let line = |width| fitted_line(parts(), width).to_string();
        assert_eq!(
            line(55),
            "samples 9, histograms 2 (3/s) series 2 active metrics 3"
        );
        assert_eq!(line(43), "samples 9, hist 2 series 2 active metrics 3");
        // Two of three fit either way (the first form would keep `metrics
        // 3`): the series count comes first.
        assert_eq!(line(40), "samples 9, hist 2 series 2 active");
    }
}
