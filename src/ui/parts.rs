//! Lines of items fitted to their width ([`fitted_line`]): each item shown
//! whole, in a shorter form, shortened where it allows (names, never numbers),
//! or left out, so that no number is ever cut off at the edge.

use ratatui::text::{Line, Span};

use super::fit;

/// Where a shortened span is cut.
enum Cut {
    /// `start…`
    End,
    /// `…end`: a line being typed, whose end is where the cursor is.
    Start,
    /// By the item's own function, to at most the columns given: a name
    /// whose parts matter unequally (a sender, see [`fit::sender`]).
    Own(Box<dyn Fn(usize) -> String>),
}

/// One item of a line built by [`fitted_line`]: its spans, and which one (if
/// any) may be shortened with `…` to fit (text, never a number).
pub struct Part {
    spans: Vec<Span<'static>>,
    shrinkable: Option<usize>,
    /// Where the shrinkable span is cut.
    cut: Cut,
    /// Others take shorter forms before this one is cut.
    first_in_width: bool,
    /// What to show instead when it does not fit, longest first.
    shorter: Vec<Vec<Span<'static>>>,
    /// Shown only if room is left: no reason to shorten others.
    optional: bool,
    /// Items before it that are not reserved leave room for it.
    reserved: bool,
}

impl Part {
    /// An item shown whole or not at all.
    pub fn whole(spans: Vec<Span<'static>>) -> Self {
        Part {
            spans,
            shrinkable: None,
            cut: Cut::End,
            first_in_width: false,
            shorter: Vec::new(),
            optional: false,
            reserved: false,
        }
    }

    /// An item whose span at `index` may be shortened.
    pub fn shrinking(spans: Vec<Span<'static>>, index: usize) -> Self {
        Part {
            spans,
            shrinkable: Some(index),
            cut: Cut::End,
            first_in_width: false,
            shorter: Vec::new(),
            optional: false,
            reserved: false,
        }
    }

    /// [`Part::shrinking`], cut at the start of the span (`…end`): for a
    /// line being typed, whose end is where the cursor is.
    pub fn shrinking_at_start(spans: Vec<Span<'static>>, index: usize) -> Self {
        Part {
            cut: Cut::Start,
            ..Part::shrinking(spans, index)
        }
    }

    /// [`Part::shrinking`], cut by `cut` (to at most the columns it is
    /// given), and the item that gets width first: other items take their
    /// shorter forms before its name is cut to less than three quarters. For
    /// a name whose parts matter unequally (a sender, see [`fit::sender`]).
    pub fn name_at(
        spans: Vec<Span<'static>>,
        index: usize,
        cut: impl Fn(usize) -> String + 'static,
    ) -> Self {
        Part {
            cut: Cut::Own(Box::new(cut)),
            first_in_width: true,
            ..Part::shrinking(spans, index)
        }
    }

    /// An item shown whole, or as the first of `shorter` (each whole) that
    /// fits where it does not.
    pub fn or_shorter(spans: Vec<Span<'static>>, shorter: Vec<Vec<Span<'static>>>) -> Self {
        Part {
            spans,
            shrinkable: None,
            cut: Cut::End,
            first_in_width: false,
            shorter,
            optional: false,
            reserved: false,
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

    /// The same item, which those before it that are not reserved leave
    /// room for (in the form it takes at the layout's step): they are
    /// shortened or left out for it, as if it came first. For a count that
    /// must show beside a name as long as its sender likes.
    pub fn reserved(self) -> Self {
        Part {
            reserved: true,
            ..self
        }
    }
}

/// Separator between items: an item's first span, where it is this alone,
/// is a space instead at the start of a line.
pub const SEP: &str = "  ·  ";

/// Narrowest a shortened span gets before its item is left out instead.
const MIN_SHRUNK: usize = 6;

/// `parts` in order on one line of `width` columns: an item that does not fit
/// is shortened where it allows, else left out (a later, shorter one may still
/// fit), so that no number is ever cut off at the edge. Items with shorter
/// forms take them, all to the same step, where that lets more items that
/// are not [`Part::optional`] show (`series 2 active (5m)  ·  metrics 3`
/// rather than `series 2 active (5m), 2 seen` alone), or as many with an
/// earlier one among them (`samples 9, hist 2  ·  series 2 active` rather
/// than `samples 9, histograms 2 (3/s)  ·  metrics 3`). Among layouts that
/// show as many, the one that cuts least of a [`Part::name_at`] wins. Items
/// before a [`Part::reserved`] one leave room for it.
pub fn fitted_line(parts: Vec<Part>, width: usize) -> Line<'static> {
    let steps = parts.iter().map(|p| p.shorter.len()).max().unwrap_or(0);
    // The least shortened of the best layouts: the first step of the most.
    let best = (0..=steps)
        .map(|step| laid_out(&parts, width, step))
        .map(|layout| {
            let count = layout.shown.iter().filter(|&&s| s).count();
            (
                (count, std::cmp::Reverse(layout.names_cut), layout.shown),
                layout.spans,
            )
        })
        .rev()
        .max_by(|(a, _), (b, _)| a.cmp(b));
    Line::from(best.map(|(_, spans)| spans).unwrap_or_default())
}

/// One way to lay out the items of a line.
struct Layout {
    /// Whether each item not optional is shown.
    shown: Vec<bool>,
    /// Columns cut from the names that get width first, where they lost more
    /// than a quarter.
    names_cut: usize,
    spans: Vec<Span<'static>>,
}

/// [`fitted_line`] with each item starting from its `step`th shorter form
/// (or its shortest).
fn laid_out(parts: &[Part], width: usize, step: usize) -> Layout {
    let mut spans = Vec::new();
    let mut shown = Vec::new();
    let mut names_cut = 0;
    let mut left = width;
    let width_of = |spans: &[Span]| spans.iter().map(|s| s.width()).sum::<usize>();
    // Columns the reserved items after each one take at this step.
    let mut reserve = vec![0; parts.len()];
    for (i, part) in parts.iter().enumerate().skip(1).rev() {
        let form = match step.min(part.shorter.len()) {
            0 => &part.spans,
            n => &part.shorter[n - 1],
        };
        reserve[i - 1] = reserve[i] + if part.reserved { width_of(form) } else { 0 };
    }
    // Past the last item that is not reserved, a reserved item takes the
    // longest form that leaves the reserved ones after it theirs: nothing
    // else is shortened for it any more.
    let last_unreserved = parts.iter().rposition(|p| !p.reserved);
    for (i, (part, reserve)) in parts.iter().zip(reserve).enumerate() {
        // Reserved items take what is left; the others leave room for them.
        let room = if part.reserved {
            left
        } else {
            left.saturating_sub(reserve)
        };
        let all_forms = || std::iter::once(&part.spans).chain(&part.shorter);
        let longer = (part.reserved && last_unreserved.is_none_or(|last| i > last))
            .then(|| {
                all_forms()
                    .take(step.min(part.shorter.len()))
                    .position(|form| width_of(form) <= left.saturating_sub(reserve))
            })
            .flatten();
        let mut forms = all_forms().skip(longer.unwrap_or(step.min(part.shorter.len())));
        if !part.optional {
            shown.push(false);
        }
        let Some(mut chosen) = forms.next().cloned() else {
            continue;
        };
        while width_of(&chosen) > room
            && let Some(next) = forms.next()
        {
            chosen = next.clone();
        }
        let needed = width_of(&chosen);
        if needed > room {
            let Some(span) = part.shrinkable.and_then(|i| chosen.get_mut(i)) else {
                continue;
            };
            let keep = span.width().saturating_sub(needed - room);
            if keep < MIN_SHRUNK {
                continue;
            }
            // A name that keeps most of itself still tells what it is.
            if part.first_in_width && keep * 4 < span.width() * 3 {
                names_cut += span.width() - keep;
            }
            span.content = match &part.cut {
                Cut::End => fit::end(&span.content, keep).into_owned(),
                Cut::Start => fit::start(&span.content, keep).into_owned(),
                Cut::Own(cut) => cut(keep),
            }
            .into();
        }
        // Nothing before it to separate it from.
        if spans.is_empty()
            && let Some(first) = chosen.first_mut()
            && first.content == SEP
        {
            first.content = " ".into();
        }
        left -= width_of(&chosen).min(left);
        if let Some(last) = shown.last_mut().filter(|_| !part.optional) {
            *last = true;
        }
        spans.extend(chosen);
    }
    Layout {
        shown,
        names_cut,
        spans,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_name_cut_to_less_than_three_quarters_makes_others_take_shorter_forms() {
        let parts = || {
            vec![
                Part::or_shorter(
                    vec![Span::raw("problems 51 errors, 12 warnings  · ")],
                    vec![vec![Span::raw("problems ✗51 ⚠12  · ")]],
                ),
                Part::name_at(
                    vec![
                        Span::raw("senders "),
                        Span::raw("Prometheus/3.16.0 @ 10.1.2.3"),
                        Span::raw(" RW2"),
                    ],
                    1,
                    |w| fit::sender("Prometheus/3.16.0", &[" @ 10.1.2.3"], w),
                ),
            ]
        };
        let line = |width| fitted_line(parts(), width).to_string();
        assert_eq!(
            line(75),
            "problems 51 errors, 12 warnings  · senders Prometheus/3.16.0 @ 10.1.2.3 RW2"
        );
        // Most of the name kept, its address left out (not its product
        // and version): the long form stays.
        assert_eq!(
            line(70),
            "problems 51 errors, 12 warnings  · senders Prometheus/3.16.0 … RW2"
        );
        // Less than three quarters of it: the problems in short instead.
        assert_eq!(
            line(61),
            "problems ✗51 ⚠12  · senders Prometheus/3.16.0 @ 10.1.2.3 RW2"
        );
    }

    #[test]
    fn a_name_is_cut_for_a_reserved_item_after_it() {
        let parts = |reserved: bool| {
            let count = Part::whole(vec![Span::raw(SEP), Span::raw("evicted 3")]);
            vec![
                Part::shrinking(vec![Span::raw("senders "), Span::raw("x".repeat(40))], 1),
                Part::whole(vec![Span::raw(" tenant a")]),
                if reserved { count.reserved() } else { count },
            ]
        };
        let line = |reserved, width| fitted_line(parts(reserved), width).to_string();
        // Where it all fits, as without.
        assert_eq!(line(true, 71), line(false, 71));
        assert!(line(true, 71).ends_with(" tenant a  ·  evicted 3"));
        // Else the name is cut for it (the tenant, not reserved, left out),
        // rather than it left out for the name.
        assert_eq!(line(false, 40), format!("senders {}…", "x".repeat(31)));
        assert_eq!(
            line(true, 40),
            format!("senders {}…  ·  evicted 3", "x".repeat(17))
        );
        // Alone on the line, without its separator.
        assert_eq!(line(true, 14), " evicted 3");
    }
}
