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
/// the totals, where they cannot scroll out of sight. Where not every bucket
/// fits, the totals take one line and the fullest buckets are shown (in the
/// order of their bounds), with a line saying how many are left out and how
/// full the fullest of those is.
pub fn lines(h: &Histogram, not_kept: u64, width: usize, rows: usize) -> Vec<Line<'static>> {
    let negative = h.negative_deltas.len().max(h.negative_counts.len());
    let buckets = h.positive_indexed();
    let total = buckets.clone().count() + 1;
    let notes = usize::from(not_kept > 0) + usize::from(negative > 0);
    let mut head = totals(h, width, false);
    if head.len() + notes + total > rows {
        head = totals(h, width, true);
    }
    let mut lines: Vec<Line> = head
        .into_iter()
        .map(|text| Line::from(styled(text, theme::dim())))
        .collect();
    if not_kept > 0 {
        let text = format!(
            "TRUNCATED: {not_kept} more {} not kept (first {MAX_BUCKETS} a side kept)",
            buckets_word(not_kept)
        );
        lines.push(Line::from(styled(
            fit::end(&text, width).into_owned(),
            theme::warn(),
        )));
    }
    let room = rows.saturating_sub(lines.len() + usize::from(negative > 0));
    // Row 0 is the zero bucket, row i the positive bucket i - 1.
    let counts = std::iter::once(h.zero_count_value()).chain(buckets.clone().map(|(_, c)| c));
    let chosen = if total > room {
        // The last row says how many buckets did not fit.
        fullest(counts, room.saturating_sub(1))
    } else {
        Chosen {
            rows: (0..total).collect(),
            fullest_left_out: None,
        }
    };
    let zero = h.zero_threshold;
    let mut wanted = chosen.rows.iter().copied().peekable();
    let mut rows: Vec<(String, f64)> = Vec::with_capacity(chosen.rows.len());
    if wanted.next_if_eq(&0).is_some() {
        rows.push((
            format!(
                "zero [{}, {}]",
                fit::number(-zero, BOUND_WIDTH),
                fit::number(zero, BOUND_WIDTH)
            ),
            h.zero_count_value(),
        ));
    }
    for (row, (index, count)) in (1..).zip(buckets.clone()) {
        if wanted.peek().is_none() {
            break;
        }
        if wanted.next_if_eq(&row).is_none() {
            continue;
        }
        let (lo, hi) = h.bucket_bounds(index);
        let bounds = format!(
            "({}, {}]",
            fit::number(lo, BOUND_WIDTH),
            fit::number(hi, BOUND_WIDTH)
        );
        rows.push((bounds, count));
    }
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
    if rows.len() < total {
        lines.push(Line::from(styled(
            left_out(total - rows.len(), chosen.fullest_left_out, width),
            theme::dim(),
        )));
    }
    if negative > 0 {
        let text = format!("+ {negative} negative {}", buckets_word(negative as u64));
        lines.push(Line::from(styled(
            fit::end(&text, width).into_owned(),
            theme::dim(),
        )));
    }
    lines
}

/// The rows picked to show, in order, and the largest count of the others.
struct Chosen {
    rows: Vec<usize>,
    fullest_left_out: Option<f64>,
}

/// The `n` rows of the largest `counts` (the earlier of equal ones; NaN
/// counts first, so that they are seen), in their order.
fn fullest(counts: impl Iterator<Item = f64>, n: usize) -> Chosen {
    // Fullest first; a histogram can hold millions of buckets, `n` is a
    // screen's rows.
    let mut kept: Vec<(usize, f64)> = Vec::with_capacity(n + 1);
    let mut fullest_left_out: Option<f64> = None;
    let mut leave_out = |count: f64| {
        fullest_left_out = Some(match fullest_left_out {
            Some(c) if c.total_cmp(&count).is_ge() => c,
            _ => count,
        });
    };
    for (row, count) in counts.enumerate() {
        let at = kept.partition_point(|(_, c)| fuller(*c, count));
        if at < n {
            kept.insert(at, (row, count));
            if kept.len() > n
                && let Some((_, out)) = kept.pop()
            {
                leave_out(out);
            }
        } else {
            leave_out(count);
        }
    }
    let mut rows: Vec<usize> = kept.into_iter().map(|(row, _)| row).collect();
    rows.sort_unstable();
    Chosen {
        rows,
        fullest_left_out,
    }
}

/// Whether a bucket counting `a` is shown before one counting `b` that came
/// later: NaN first, then the larger count.
fn fuller(a: f64, b: f64) -> bool {
    match (a.is_nan(), b.is_nan()) {
        (true, _) => true,
        (false, true) => false,
        _ => a >= b,
    }
}

/// The line saying that `n` buckets are left out, the fullest of them
/// counting `fullest`, in `width` columns: the longest form that fits.
fn left_out(n: usize, fullest: Option<f64>, width: usize) -> String {
    let most = fullest.map_or(String::new(), |c| {
        format!(", each ≤ {}", fit::number(c, COUNT_WIDTH))
    });
    let buckets = buckets_word(n as u64);
    let forms = [
        format!("… {n} more {buckets}{most} (--no-tui --format json has them all)"),
        format!("… {n} more {buckets}{most}"),
        format!("… {n} more {buckets}"),
    ];
    let chosen = forms
        .iter()
        .find(|f| fit::width(f) <= width)
        .unwrap_or(&forms[2]);
    fit::end(chosen, width).into_owned()
}

/// `bucket` or `buckets`, for `n` of them.
fn buckets_word(n: u64) -> &'static str {
    crate::format::plural(n, "bucket", "buckets")
}

/// The totals line(s): count, sum, schema and reset hint, wrapped between
/// items (never inside a number) to `width`. `compact` (buckets short of
/// room) leaves out an unknown reset hint and rounds the sum to the room
/// left beside the count (never below [`fit::NUMBER_MIN_WIDTH`]).
fn totals(h: &Histogram, width: usize, compact: bool) -> Vec<String> {
    let item = |name: &str, value: f64, room: usize| {
        format!(
            "{name} {}",
            fit::number(value, room.saturating_sub(name.len() + 1))
        )
    };
    let count = item("count", h.total_count(), width);
    let schema = format!("schema {}", h.schema);
    let sum_room = if compact {
        // Beside the count (and the schema, where they all fit).
        let beside = width.saturating_sub(fit::width(&count) + fit::width(SEP));
        [
            beside.saturating_sub(fit::width(SEP) + schema.len()),
            beside,
        ]
        .into_iter()
        .find(|&room| room >= "sum ".len() + fit::NUMBER_MIN_WIDTH)
        .unwrap_or(width)
    } else {
        width
    };
    let hint = h.reset_hint_name();
    let hint = (!compact || hint != "unknown").then(|| format!("reset hint {hint}"));
    let items = [
        Some(count),
        Some(item("sum", h.sum, sum_room)),
        Some(schema),
        hint,
    ];
    let mut lines: Vec<String> = Vec::new();
    for item in items.into_iter().flatten() {
        match lines.last_mut() {
            Some(line) if fit::width(line) + fit::width(SEP) + fit::width(&item) <= width => {
                line.push_str(SEP);
                line.push_str(&item);
            }
            _ => lines.push(fit::end(&item, width).into_owned()),
        }
    }
    lines
}

/// Between the items of the totals.
const SEP: &str = " · ";

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
    fn a_small_box_shows_the_fullest_buckets_in_order_of_their_bounds() {
        // As the demo's latency histograms at 80x24: 41 buckets around a
        // peak, an empty zero bucket, a long sum, 5 rows of 39 columns.
        let counts: Vec<i64> = (0..41i64).map(|i| 400 - (i - 20).pow(2)).collect();
        let h = Histogram {
            count: Some(histogram::Count::CountInt(counts.iter().sum::<i64>() as u64)),
            sum: 70.25036953376782,
            schema: 3,
            zero_threshold: 2.938735877055719e-39,
            positive_spans: vec![BucketSpan {
                offset: -30,
                length: 41,
            }],
            positive_deltas: counts
                .iter()
                .scan(0, |last, &c| {
                    let delta = c - *last;
                    *last = c;
                    Some(delta)
                })
                .collect(),
            ..Default::default()
        };
        let lines = lines_of(&h, 0, 39, 5);
        assert_eq!(lines.len(), 5, "{lines:#?}");
        assert!(
            lines[0].starts_with("count 10660 · sum ~70.25"),
            "{lines:#?}"
        );
        let buckets: Vec<&String> = lines.iter().filter(|l| l.contains('█')).collect();
        assert_eq!(buckets.len(), 3, "{lines:#?}");
        // The peak (bucket 20, 400) and its neighbours (399 each), by bound.
        assert!(buckets[1].ends_with(" 400"), "{lines:#?}");
        assert!(buckets[0].ends_with(" 399") && buckets[2].ends_with(" 399"));
        assert_eq!(lines[4], "… 39 more buckets, each ≤ 396", "{lines:#?}");
        // Where all fit, all show, the empty zero bucket too.
        let all = lines_of(&h, 0, 39, 60);
        assert_eq!(all.len(), 2 + 42, "{all:#?}");
        assert!(all[2].trim_start().starts_with("zero ["), "{all:#?}");
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
