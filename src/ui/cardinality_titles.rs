//! The titles of the cardinality view's lists, fitted to their width: counts
//! and rates are shown whole or not at all, names are cut in the middle, and
//! the order and notes are left out first.

use ratatui::text::{Line, Span};

use super::cardinality::{change_text, distinct_text, rate_text, window_text};
use super::fit;
use super::theme;
use super::widgets::{Part, fitted_line};
use crate::app::cardinality::CardinalityView;
use crate::format;
use crate::store::cardinality::Distinct;

/// The metrics list's title: active series, their change and churn rates
/// (`+new/s −gone/s` where the words do not fit), then the order.
pub fn overview(view: &CardinalityView, width: u16) -> Line<'static> {
    let o = &view.overview;
    let stale = window_text(o.stale_after_ms);
    let strong = theme::palette().strong;
    let sorted = Part::whole(vec![Span::styled(
        format!("· sorted by {} ", view.sort.label()),
        theme::dim(),
    )])
    .optional();
    let active = Part::whole(vec![Span::raw(format!(
        "· {} active ({stale}) ",
        format::count(o.active as f64)
    ))]);
    let parts = if view.filtered {
        // Churn is kept per metric, not per series: NEW/S and GONE/S are all of each metric's.
        let churn = |text: &str| vec![Span::styled(text.to_owned(), theme::dim())];
        vec![
            Part::or_shorter(
                vec![Span::styled(" Cardinality of the filter's series ", strong)],
                vec![vec![Span::styled(" Cardinality (filtered) ", strong)]],
            ),
            active,
            Part::or_shorter(
                churn("· churn columns: all series "),
                vec![churn("· churn: all series ")],
            ),
            sorted,
        ]
    } else {
        let span = window_text(o.rate_span_ms);
        let (new, gone) = (rate_text(o.new_per_s), rate_text(o.gone_per_s));
        vec![
            Part::whole(vec![Span::styled(" Cardinality ", strong)]),
            active,
            Part::whole(vec![Span::raw(format!(
                "· {} in {} ",
                change_text(o.change),
                window_text(o.change_span_ms)
            ))]),
            Part::or_shorter(
                vec![Span::raw(format!(
                    "· {new}/s new · {gone}/s gone ({span}) "
                ))],
                vec![vec![Span::raw(format!("· +{new}/s −{gone}/s ({span}) "))]],
            ),
            sorted,
        ]
    };
    fitted_line(parts, width.into())
}

/// The room each of `names` gets of `room` columns: all it needs where they
/// fit; else a name narrower than its share keeps its width and the others
/// share the rest.
fn shares(names: &[&str], room: usize) -> Vec<usize> {
    let mut widths: Vec<usize> = names.iter().map(|n| fit::width(n)).collect();
    let mut left = room;
    let mut open: Vec<usize> = (0..names.len()).collect();
    // Narrow names first: what they leave goes to the wider ones.
    open.sort_by_key(|&i| widths[i]);
    for (k, &i) in open.iter().enumerate() {
        let share = left / (open.len() - k);
        widths[i] = widths[i].min(share);
        left -= widths[i];
    }
    widths
}

/// `names` cut in the middle so that they take at most `room` columns together.
fn fitted_names(names: &[&str], room: usize) -> Vec<String> {
    names
        .iter()
        .zip(shares(names, room))
        .map(|(n, w)| fit::middle(n, w).into_owned())
        .collect()
}

/// A title of `words` (strong) around `names` (escaped), then `count` (shown
/// whole) and an optional `note` (dimmed): the names get what the rest leaves.
fn named(
    words: &[&str],
    names: &[&str],
    count: String,
    note: Option<(&str, &str)>,
    width: u16,
) -> Line<'static> {
    let fixed: usize = words.iter().map(|w| fit::width(w)).sum::<usize>() + fit::width(&count);
    let names = fitted_names(names, usize::from(width).saturating_sub(fixed));
    let mut text = String::new();
    for (i, word) in words.iter().enumerate() {
        text.push_str(word);
        text.push_str(names.get(i).map_or("", |n| n.as_str()));
    }
    let mut parts = vec![
        Part::whole(vec![Span::styled(text, theme::palette().strong)]),
        Part::whole(vec![Span::raw(count)]),
    ];
    if let Some((long, short)) = note {
        let dim = |t: &str| vec![Span::styled(t.to_owned(), theme::dim())];
        parts.push(Part::or_shorter(dim(long), vec![dim(short)]).optional());
    }
    fitted_line(parts, width.into())
}

/// The title of a metric's labels.
pub fn labels(metric: &str, active: u64, width: u16) -> Line<'static> {
    named(
        &[" Labels of ", " "],
        &[metric],
        format!("· {} active series ", format::count(active as f64)),
        Some((
            "· unbounded first, then by distinct values ",
            "· unbounded first ",
        )),
        width,
    )
}

/// The title of a label's values in a metric.
pub fn values(label: &str, metric: &str, distinct: Distinct, width: u16) -> Line<'static> {
    let estimated = matches!(distinct, Distinct::Estimated(_));
    let note = if estimated {
        "the heaviest kept, counts estimated · "
    } else {
        ""
    };
    let long = format!("{note}Enter: filter to these series ");
    named(
        &[" Values of ", " in ", " "],
        &[label, metric],
        format!("· {} distinct ", distinct_text(distinct)),
        Some((&long, note)),
        width,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &Line) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn the_title_formats_the_active_count_as_every_count() {
        let mut view = CardinalityView::default();
        view.overview.active = 1_234_567;
        view.overview.stale_after_ms = 300_000;
        view.overview.new_per_s = 19.25;
        (view.overview.change_span_ms, view.overview.rate_span_ms) = (300_000, 60_000);
        let shown = text(&overview(&view, 200));
        assert!(shown.contains("· 1.2M active (5m) ·"), "{shown}");
        assert!(
            shown.contains("0 in 5m · 19.2/s new · 0/s gone (1m)"),
            "{shown}"
        );
        // Twenty seconds after the first series, the spans said are those counted.
        (view.overview.change_span_ms, view.overview.rate_span_ms) = (20_000, 20_000);
        let shown = text(&overview(&view, 200));
        assert!(
            shown.contains("0 in 20s · 19.2/s new · 0/s gone (20s)"),
            "{shown}"
        );
        view.filtered = true;
        let shown = text(&overview(&view, 200));
        assert!(shown.contains("· 1.2M active (5m) ·"), "{shown}");
    }

    #[test]
    fn narrow_titles_leave_out_words_never_cut_a_number() {
        let mut view = CardinalityView::default();
        view.overview.active = 27;
        view.overview.stale_after_ms = 300_000;
        (view.overview.new_per_s, view.overview.gone_per_s) = (0.93, 0.03);
        (view.overview.change_span_ms, view.overview.rate_span_ms) = (30_000, 30_000);
        let at = |w| text(&overview(&view, w));
        assert_eq!(
            at(200),
            " Cardinality · 27 active (5m) · 0 in 30s · 0.93/s new · 0.03/s gone (30s) \
             · sorted by active series "
        );
        // 60% of 120 columns: the rates in short, the order left out.
        assert_eq!(
            at(71),
            " Cardinality · 27 active (5m) · 0 in 30s · +0.93/s −0.03/s (30s) "
        );
        assert_eq!(at(41), " Cardinality · 27 active (5m) · 0 in 30s ");
        assert_eq!(at(40), " Cardinality · 27 active (5m) ");
        for w in 0..120 {
            assert!(fit::width(&at(w)) <= usize::from(w), "{w}: {}", at(w));
        }
    }

    #[test]
    fn names_in_a_title_give_way_to_the_count() {
        let metric = "avalanche_metric_mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm_0_1";
        let shown = text(&labels(metric, 12_345, 60));
        assert_eq!(
            shown,
            " Labels of avalan…mmmmmmmmmmmmmmm_0_1 · 12.3k active series "
        );
        let shown = text(&values("instance", metric, Distinct::Exact(123), 60));
        assert!(shown.contains("· 123 distinct"), "{shown}");
        assert!(shown.contains(" Values of instance in "), "{shown}");
        assert!(shown.contains("…mmmmmmmmmm_0_1 · 123"), "{shown}");
        for w in 0..100 {
            let shown = text(&values("instance", metric, Distinct::Exact(123), w));
            assert!(fit::width(&shown) <= usize::from(w), "{w}: {shown}");
        }
        assert_eq!(shares(&["instance", metric], 30), [8, 22]);
        assert_eq!(shares(&[metric, metric], 31), [15, 16]);
    }
}
