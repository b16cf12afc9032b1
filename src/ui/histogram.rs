//! A native histogram as lines of text: its totals, then one row per bucket
//! (bounds, a bar, the count) for as many rows as there is room. Only the
//! buckets shown are turned into text: a sender can send millions.

use ratatui::text::Line;

use super::fit;
use super::scale::bar_cells;
use super::theme;
use super::widgets::styled;
use crate::ingest::model::{Histogram, HistogramExt};
use crate::store::histogram::MAX_BUCKETS;

/// Columns a bucket bound gets (rounded, marked `~`, beyond that).
const BOUND_WIDTH: usize = 10;

/// Columns a count gets.
const COUNT_WIDTH: usize = 12;

/// Narrowest bar worth drawing.
const MIN_BAR: usize = 4;

/// The lines of `h` in `width` columns and at most `rows` rows; `not_kept`
/// buckets the sender sent beyond those the store keeps are said right under
/// the totals, where they cannot scroll out of sight.
pub fn lines(h: &Histogram, not_kept: u64, width: usize, rows: usize) -> Vec<Line<'static>> {
    let mut lines: Vec<Line> = totals(h, width)
        .into_iter()
        .map(|text| Line::from(styled(text, theme::dim())))
        .collect();
    if not_kept > 0 {
        let text = format!(
            "TRUNCATED: {not_kept} more buckets not kept (first {MAX_BUCKETS} a side kept)"
        );
        lines.push(Line::from(styled(
            fit::end(&text, width).into_owned(),
            theme::warn(),
        )));
    }
    let negative = h.negative_deltas.len().max(h.negative_counts.len());
    let buckets = h.positive_indexed();
    let total = buckets.clone().count() + 1;
    let room = rows.saturating_sub(lines.len() + usize::from(negative > 0));
    // The last row says how many buckets did not fit.
    let shown = if total > room {
        room.saturating_sub(1)
    } else {
        total
    };
    let zero = h.zero_threshold;
    let rows: Vec<(String, f64)> = std::iter::once((
        format!(
            "zero [{}, {}]",
            fit::number(-zero, BOUND_WIDTH),
            fit::number(zero, BOUND_WIDTH)
        ),
        h.zero_count_value(),
    ))
    .chain(buckets.clone().map(|(index, count)| {
        let (lo, hi) = h.bucket_bounds(index);
        let bounds = format!(
            "({}, {}]",
            fit::number(lo, BOUND_WIDTH),
            fit::number(hi, BOUND_WIDTH)
        );
        (bounds, count)
    }))
    .take(shown)
    .collect();
    let max = buckets
        .map(|(_, count)| count)
        .chain([h.zero_count_value()])
        .filter(|c| c.is_finite())
        .fold(0.0, f64::max);
    let counts: Vec<String> = rows
        .iter()
        .map(|(_, count)| fit::number(*count, COUNT_WIDTH))
        .collect();
    let bounds_width = rows.iter().map(|(b, _)| fit::width(b)).max().unwrap_or(0);
    let count_width = counts.iter().map(|c| c.len()).max().unwrap_or(0);
    let bar_width = width.saturating_sub(bounds_width + count_width + 2);
    for ((bounds, count), count_text) in rows.iter().zip(&counts) {
        let line = if bar_width >= MIN_BAR {
            let bar = "█".repeat(bar_cells(*count, max, bar_width));
            format!("{bounds:>bounds_width$} {bar:<bar_width$} {count_text:>count_width$}")
        } else {
            format!("{bounds:>bounds_width$} {count_text:>count_width$}")
        };
        lines.push(Line::raw(fit::end(&line, width).into_owned()));
    }
    if shown < total {
        let more = format!(
            "… {} more buckets (--no-tui --format json has them all)",
            total - shown
        );
        lines.push(Line::from(styled(
            fit::end(&more, width).into_owned(),
            theme::dim(),
        )));
    }
    if negative > 0 {
        let text = format!("+ {negative} negative buckets");
        lines.push(Line::from(styled(
            fit::end(&text, width).into_owned(),
            theme::dim(),
        )));
    }
    lines
}

/// The totals line(s): count, sum, schema and reset hint, wrapped between
/// items (never inside a number) to `width`.
fn totals(h: &Histogram, width: usize) -> Vec<String> {
    let item = |name: &str, value: f64| {
        format!(
            "{name} {}",
            fit::number(value, width.saturating_sub(name.len() + 1))
        )
    };
    let items = [
        item("count", h.total_count()),
        item("sum", h.sum),
        format!("schema {}", h.schema),
        format!("reset hint {}", h.reset_hint_name()),
    ];
    let mut lines: Vec<String> = Vec::new();
    for item in items {
        match lines.last_mut() {
            Some(line) if fit::width(line) + 3 + fit::width(&item) <= width => {
                line.push_str(" · ");
                line.push_str(&item);
            }
            _ => lines.push(fit::end(&item, width).into_owned()),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::rw2::{BucketSpan, histogram};

    fn many_buckets(n: u32) -> Histogram {
        Histogram {
            count: Some(histogram::Count::CountInt(u64::from(n))),
            sum: 1.5,
            schema: 3,
            positive_spans: vec![BucketSpan {
                offset: -100,
                length: n,
            }],
            positive_deltas: std::iter::once(1)
                .chain(std::iter::repeat_n(0, n as usize - 1))
                .collect(),
            ..Default::default()
        }
    }

    fn lines_of(h: &Histogram, not_kept: u64, width: usize, rows: usize) -> Vec<String> {
        lines(h, not_kept, width, rows)
            .iter()
            .map(|l| l.to_string())
            .collect()
    }

    #[test]
    fn only_the_buckets_that_fit_become_lines() {
        let h = many_buckets(1_000_000);
        let lines = lines(&h, 0, 60, 10);
        assert_eq!(lines.len(), 10);
        let last = lines[9].to_string();
        assert!(last.contains("999993 more buckets"), "{last}");
    }

    #[test]
    fn bars_line_up_whatever_the_bounds() {
        let h = Histogram {
            count: Some(histogram::Count::CountInt(6)),
            schema: -53,
            positive_spans: vec![BucketSpan {
                offset: 0,
                length: 4,
            }],
            positive_deltas: vec![1, 1, 0, -1],
            custom_values: vec![13.705352776068167, 1e300, 0.5],
            ..Default::default()
        };
        let lines = lines_of(&h, 0, 50, 20);
        let bars: Vec<usize> = lines[1..]
            .iter()
            .filter_map(|l| l.find('█').map(|at| l[..at].chars().count()))
            .collect();
        assert_eq!(bars.len(), 4, "{lines:#?}");
        assert!(bars.iter().all(|&b| b == bars[0]), "{lines:#?}");
        assert!(lines.iter().all(|l| fit::width(l) <= 50), "{lines:#?}");
        assert!(lines[3].contains("(~13.705353, 1e300]"), "{lines:#?}");
    }

    #[test]
    fn buckets_not_kept_are_said_under_the_totals() {
        let h = many_buckets(MAX_BUCKETS as u32);
        let lines = lines_of(&h, 5000, 60, 6);
        assert_eq!(lines.len(), 6, "{lines:#?}");
        assert!(
            lines[1].starts_with("TRUNCATED: 5000 more buckets not kept"),
            "{lines:#?}"
        );
        let whole = lines_of(&h, 0, 60, 6);
        assert!(!whole.iter().any(|l| l.contains("TRUNCATED")), "{whole:#?}");
    }
}
