//! The header: where promscope listens, totals and rates, filter counts,
//! senders, rejections, evictions, and the PAUSED badge; in forward mode, the
//! backend's line (see [`super::backend`]).

use std::time::UNIX_EPOCH;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::Paragraph;

use super::widgets::{Part, SEP, fitted_line, styled};
use super::{fit, theme};
use crate::app::App;
use crate::app::view::RATE_WINDOW_SECS;
use crate::format;
use crate::store::{Evictions, MAX_EXEMPLAR_LABEL_BYTES, Store};
use crate::summary::distinct::DistinctCount;
use crate::summary::totals::{self, Sender, SenderTotals, Totals};
use crate::text::escape::escaped;

/// Height of the header: two lines more for the backend in forward mode.
pub fn height(app: &App) -> u16 {
    3 + 2 * u16::from(app.forward.is_some())
}

/// Draws the header.
pub fn render(frame: &mut Frame, area: Rect, app: &App, store: &Store) {
    let width = usize::from(area.width);
    let mut text = vec![
        fitted_line(receiving(app), width),
        fitted_line(traffic(app, store), width),
        fitted_line(senders_and_trouble(app, store), width),
    ];
    if let Some(forward) = &app.forward {
        text.push(fitted_line(super::backend::header_parts(forward), width));
        text.push(fitted_line(
            super::backend::rejection_parts(forward, width),
            width,
        ));
    }
    frame.render_widget(Paragraph::new(text), area);
}

/// The badge, PAUSED with what arrived since (first: it matters most then),
/// where promscope listens and for how long.
fn receiving(app: &App) -> Vec<Part> {
    let mut parts = vec![Part::whole(vec![styled(
        " promscope ",
        theme::palette().badge,
    )])];
    if let Some(p) = &app.paused {
        parts.push(Part::whole(vec![
            Span::raw(" "),
            styled(" PAUSED ", theme::palette().paused),
        ]));
        parts.push(Part::whole(vec![styled(
            format!(
                " +{} {}, +{} {} since",
                format::count(p.samples as f64),
                format::plural(p.samples, "sample", "samples"),
                format::count(p.requests as f64),
                format::plural(p.requests, "request", "requests")
            ),
            theme::warn(),
        )]));
        parts.push(Part::whole(vec![styled(
            " (space to resume)",
            theme::warn(),
        )]));
        if p.overflowed {
            parts.push(Part::whole(vec![styled(
                format!(
                    " — pause buffer full (--pause-buffer-bytes): oldest {} {} applied",
                    format::count(p.applied_early as f64),
                    format::plural(p.applied_early, "request", "requests")
                ),
                theme::warn(),
            )]));
        }
        parts.push(Part::whole(vec![Span::raw(" ")]));
    }
    if let Some(replay) = &app.replay {
        parts.extend(super::replay::header_parts(replay));
        return parts;
    }
    let uptime = format::duration_secs((app.now_ms - app.started_ms) as f64 / 1000.0);
    parts.push(Part::whole(vec![Span::raw(format!(
        " receiving on {}://{}",
        app.access.scheme(),
        app.listen
    ))]));
    parts.push(Part::whole(vec![Span::raw(format!("{SEP}up {uptime}"))]));
    parts
}

/// Requests, samples and histograms, bytes, series and metrics, with rates.
fn traffic(app: &App, store: &Store) -> Vec<Part> {
    let now = app.now_ms;
    let totals = store.totals();
    let filtered = !store.filter().is_all();
    let of = |matched: usize, total: usize| {
        if filtered {
            format!(
                "{}/{}",
                format::count(matched as f64),
                format::count(total as f64)
            )
        } else {
            format::count(total as f64)
        }
    };
    let requests = totals.accepted + totals.rejected_total();
    let (active, matched_active) = store.active_series(now);
    let active_series = format!(
        "{SEP}series {} active",
        of(matched_active as usize, active as usize)
    );
    let window = super::cardinality::window_text(store.stale_after_ms());
    // Distinct series since the start, evicted ones included.
    let seen = match store.distinct_series() {
        DistinctCount::Exact(n) => format::count(n as f64),
        DistinctCount::Estimated(n) => format!("≈{}", format::count(n as f64)),
    };
    let counts = &totals.counts;
    // The rate counts samples and histograms together, as the store does:
    // joined with "+" so that it reads as the rate of both, not of histograms.
    let samples = format!("samples {}", format::count(counts.samples as f64));
    let sample_rate = format!(
        " ({}/s)",
        format::count_or_unknown(store.sample_rate.per_second(now, RATE_WINDOW_SECS))
    );
    // With histograms, shorter forms (their name shortened, then the rate
    // left out) make room for the series count at 80 columns.
    let received = if counts.histograms > 0 {
        let histograms = format::count(counts.histograms as f64);
        Part::or_shorter(
            vec![Span::raw(format!(
                "{SEP}{samples} + histograms {histograms}{sample_rate}"
            ))],
            vec![
                vec![Span::raw(format!(
                    "{SEP}{samples} + hist {histograms}{sample_rate}"
                ))],
                vec![Span::raw(format!("{SEP}{samples}, hist {histograms}"))],
            ],
        )
    } else {
        Part::whole(vec![Span::raw(format!("{SEP}{samples}{sample_rate}"))])
    };
    let mut parts = vec![
        Part::whole(vec![Span::raw(format!(
            " requests {} ({}/s)",
            format::count(requests as f64),
            format::count_or_unknown(store.request_rate.per_second(now, RATE_WINDOW_SECS))
        ))]),
        received,
        Part::or_shorter(
            vec![Span::raw(format!(
                "{active_series} ({window}), {seen} seen"
            ))],
            vec![
                vec![Span::raw(format!("{active_series} ({window})"))],
                vec![Span::raw(active_series)],
            ],
        ),
        Part::whole(vec![Span::raw(format!(
            "{SEP}metrics {}",
            of(store.matched_metrics(), store.metric_count())
        ))]),
    ];
    if filtered {
        parts.push(Part::whole(vec![styled(" (matched/total)", theme::dim())]).optional());
    }
    // Last, and only where room is left: nothing else is shortened for it.
    // Its unit says what it is (`4.3 KiB/s`); not yet known, a bare `…/s`
    // said nothing.
    parts.push(
        Part::whole(vec![Span::raw(format!(
            "{SEP}{}/s",
            store
                .byte_rate
                .per_second(now, RATE_WINDOW_SECS)
                .map_or_else(|| format!("{} B", format::UNKNOWN), format::bytes)
        ))])
        .optional(),
    );
    let since = app.counting_since_ms(store);
    parts.push(super::cardinality::new_series_part(now, since, store));
    parts
}

/// A sender counts as idle once no request came from it for this long:
/// Prometheus sends at least every 5 s (`batch_send_deadline`) while it has
/// samples, so twice that without a request means it stopped, or scrapes
/// rarely; either way the header should not list it as if it were live.
const IDLE_AFTER_SECS: f64 = 10.0;

/// Seconds since `sender`'s latest request, once that is [`IDLE_AFTER_SECS`] or more.
fn idle_secs(sender: &SenderTotals, now_ms: i64) -> Option<f64> {
    let last = sender.last_seen?.duration_since(UNIX_EPOCH).ok()?;
    let secs = (now_ms as f64 - last.as_millis() as f64) / 1000.0;
    (secs >= IDLE_AFTER_SECS).then_some(secs)
}

/// Problems, requests forwarded uninspected or dropped, the busiest sender
/// (with its idle time, once it stopped sending), then rejections,
/// evictions and exemplars not kept: the sender's name is cut for any of
/// these (all [`Part::reserved`]), never one of them left out for it.
fn senders_and_trouble(app: &App, store: &Store) -> Vec<Part> {
    let totals = store.totals();
    let senders = &totals.senders;
    // Problems first, then requests forwarded uninspected or dropped (why
    // the counts are short of what was sent). These, and the troubles after
    // the sender, are reserved: at 80 columns the sender's name shrinks for
    // them (or goes), never one of them for it.
    let mut parts: Vec<Part> = problems_part(app, store)
        .map(Part::reserved)
        .into_iter()
        .collect();
    let lead = if parts.is_empty() { " " } else { SEP };
    parts.extend(
        app.forward
            .as_ref()
            .and_then(|f| super::backend::uninspected_part(f, lead))
            .map(Part::reserved),
    );
    let lead = if parts.is_empty() { " " } else { SEP };
    parts.extend(dropped_part(app.dropped_requests, lead).map(Part::reserved));
    // After the problems, apart from them; the separator goes with the
    // senders, so that it is not left alone where they do not fit.
    let label = if parts.is_empty() {
        " senders ".to_owned()
    } else {
        format!("{SEP}senders ")
    };
    // The busiest of those still sending, else the busiest: one that
    // stopped long ago (or a flood of connections refused before any
    // request was read) is not who is sending now.
    // In forward mode a sender whose requests wait on a stalled backend
    // sends nothing new, and is heard of only when they are answered: it is
    // waiting, not idle.
    let waiting = |s: &Sender| app.forward.as_ref().and_then(|f| f.waiting_for(s));
    let idle =
        |s: &Sender, t: &SenderTotals| idle_secs(t, app.now_ms).filter(|_| waiting(s).is_none());
    let ranked = senders.busiest(senders.len());
    let shown = ranked
        .iter()
        .find(|(s, t)| idle(s, t).is_none())
        .or(ranked.first());
    match shown.copied() {
        None => parts.push(Part::whole(vec![
            Span::raw(label),
            styled("none yet", theme::dim()),
        ])),
        Some((sender, s)) => {
            let mut spans = vec![
                Span::raw(label),
                Span::raw(escaped(&sender.to_string()).into_owned()),
                Span::raw(format!(" {}", s.protocols())),
            ];
            let agent = escaped(sender.agent()).into_owned();
            let extras: Vec<String> = [
                sender.ip.map(|ip| format!(" @ {ip}")),
                sender
                    .tenant
                    .as_deref()
                    .map(|t| format!(" tenant {}", escaped(t))),
            ]
            .into_iter()
            .flatten()
            .collect();
            let cut = move |width| {
                let extras: Vec<&str> = extras.iter().map(String::as_str).collect();
                fit::sender(&agent, &extras, width)
            };
            if let Some(secs) = idle(sender, s) {
                spans.push(styled(
                    format!(" idle {}", format::duration_secs(secs)),
                    theme::warn(),
                ));
            } else if let Some(wait) =
                waiting(sender).filter(|w| w.as_secs_f64() >= IDLE_AFTER_SECS)
            {
                spans.push(styled(
                    format!(
                        " waiting on the backend {}",
                        format::duration_secs(wait.as_secs_f64())
                    ),
                    theme::warn(),
                ));
            }
            // Senders beyond those kept are counted, not listed.
            let more = senders.seen().value().max(senders.len() as u64) - 1;
            if more > 0 {
                let idle_others = senders
                    .iter()
                    .filter(|(other, t)| other != &sender && idle(other, t).is_some())
                    .count();
                let idle_others = if idle_others > 0 {
                    format!(", {idle_others} idle")
                } else {
                    String::new()
                };
                spans.push(styled(format!(" +{more} more{idle_others}"), theme::dim()));
            }
            parts.push(Part::name_at(spans, 1, cut));
        }
    }
    parts.extend(tenants_part(app, store));
    // After the sender where there is room; where there is not, its name
    // (and the tenants) make room for them: a long name leaves none out.
    parts.extend(rejected_part(totals, app.forward.is_some()));
    parts.extend(evicted_part(store.evictions()));
    parts.extend(oversized_part(store.oversized_exemplars()));
    parts
}

/// Rejected requests, and by reason (`rejected 3 (bad_snappy: 2,
/// too_large: 1)`): at 80 columns with the most frequent reason only
/// (`rejected 3 (bad_snappy: 2, …)`), then none, rather than the sender's
/// name cut further. One item, so that reasons never show without the count.
/// In forward mode only what promscope refused itself, said so (`promscope
/// refused 3 (...)`): the backend's rejections and failures are the forward
/// line's, which tells them apart.
fn rejected_part(totals: &Totals, forwarding: bool) -> Option<Part> {
    let reasons = totals.refused(forwarding);
    let rejected: u64 = reasons.iter().map(|(_, n)| n).sum();
    (rejected > 0).then(|| {
        let label = if forwarding {
            "promscope refused"
        } else {
            "rejected"
        };
        let form = |reasons: Option<String>| {
            let reasons = reasons.map_or_else(String::new, |r| format!(" ({r})"));
            vec![
                Span::raw(SEP),
                styled(format!("{label} {rejected}{reasons}"), theme::error()),
            ]
        };
        let all = totals::by_reason(reasons.iter().copied());
        // The first of the most frequent (the reasons are in reason order).
        let most = reasons.iter().rev().max_by_key(|&(_, n)| n);
        let first = match most {
            Some(&most) if reasons.len() > 1 => format!("{}, …", totals::by_reason([most])),
            _ => all.clone(),
        };
        Part::or_shorter(form(Some(all)), vec![form(Some(first)), form(None)]).reserved()
    })
}

/// Series evicted, and which bound evicted them, if any; shorter forms
/// (`evicted 1.2k series`, `evicted 1.2k`) at 80 columns.
fn evicted_part(evictions: Evictions) -> Option<Part> {
    (evictions.total() > 0).then(|| {
        let over = match (evictions.for_count > 0, evictions.for_bytes > 0) {
            (true, false) => "--max-series",
            (false, true) => "--max-store-bytes",
            _ => "--max-series, --max-store-bytes",
        };
        let n = format::count(evictions.total() as f64);
        let form = |text: String| vec![Span::raw(SEP), styled(text, theme::warn())];
        Part::or_shorter(
            form(format!("evicted {n} series ({over})")),
            vec![
                form(format!("evicted {n} series")),
                form(format!("evicted {n}")),
            ],
        )
        .reserved()
    })
}

/// Exemplars not kept for their labels' size, if any; shorter (`3
/// exemplars not kept`) at 80 columns.
fn oversized_part(oversized: u64) -> Option<Part> {
    (oversized > 0).then(|| {
        let n = format::count(oversized as f64);
        let exemplars = format::plural(oversized, "exemplar", "exemplars");
        let form = |text: String| vec![Span::raw(SEP), styled(text, theme::warn())];
        let short = form(format!("{n} {exemplars} not kept"));
        Part::or_shorter(
            form(format!(
                "{n} {exemplars} not kept (labels over {MAX_EXEMPLAR_LABEL_BYTES} bytes)"
            )),
            vec![short.clone(), short],
        )
        .reserved()
    })
}

/// Requests answered 503 because the dashboard was behind, when there are
/// any, after `lead`; shorter forms at 80 columns, where it must still show.
fn dropped_part(dropped: u64, lead: &str) -> Option<Part> {
    (dropped > 0).then(|| {
        let requests = format::plural(dropped, "request", "requests");
        let form = |text: String| vec![Span::raw(lead.to_owned()), styled(text, theme::error())];
        Part::or_shorter(
            form(format!(
                "dropped {dropped} {requests} (503, dashboard behind)"
            )),
            vec![
                form(format!("dropped {dropped} (503, dashboard behind)")),
                form(format!("dropped {dropped} (503)")),
            ],
        )
    })
}

/// With tenants: the one with the most active series, and how many more
/// (`tenants team-a 1.2k active +2 more`); the Cardinality view's `t` lists them.
fn tenants_part(app: &App, store: &Store) -> Option<Part> {
    let (count, top) = store.top_tenant(app.now_ms);
    let top = top?;
    let mut spans = vec![
        Span::raw(format!(
            "{SEP}{} ",
            format::plural(count as u64, "tenant", "tenants")
        )),
        Span::raw(escaped(&top.name).into_owned()),
        Span::raw(format!(" {} active", format::count(top.active as f64))),
    ];
    if count > 1 {
        spans.push(styled(format!(" +{} more", count - 1), theme::dim()));
    }
    Some(Part::shrinking(spans, 1))
}

/// How long after a rule of a severity last fired its count keeps the
/// severity's colour (then it is dimmed: seen, but not happening now).
const PROBLEM_RECENT_MS: i64 = 60_000;

/// Problem counts by severity, coloured while recent; shorter forms for
/// narrow terminals (`problems 2 errors, 5 warnings, 1 info` to `✗2 ⚠5 1 info`:
/// info keeps its word, as a dot would read as the separator),
/// followed by the separator from what comes after.
fn problems_part(app: &App, store: &Store) -> Option<Part> {
    use crate::problems::Severity::{Error, Info, Warning};
    let problems = store.problems();
    let counts = [Error, Warning, Info].map(|s| (s, problems.count(s)));
    if counts.iter().all(|&(_, n)| n == 0) {
        return None;
    }
    let style = |s| {
        let recent = problems
            .last_fired(s)
            .is_some_and(|last| app.now_ms - last < PROBLEM_RECENT_MS);
        if recent {
            super::problems::severity_style(s)
        } else {
            theme::dim()
        }
    };
    let form = |label: &str, names: [(&str, &str); 3], sep: &str| {
        let mut spans = vec![Span::raw(" "), Span::raw(label.to_owned())];
        let shown = counts.iter().zip(names).filter(|((_, n), _)| *n > 0);
        for (i, ((severity, n), (one, many))) in shown.enumerate() {
            let name = if *n == 1 { one } else { many };
            let count = format::count(*n as f64);
            let text = if name.chars().count() == 1 {
                format!("{name}{count}")
            } else {
                format!("{count} {name}")
            };
            spans.push(Span::raw(if i == 0 { "" } else { sep }.to_owned()));
            spans.push(styled(text, style(*severity)));
        }
        spans
    };
    let long = [
        ("error", "errors"),
        ("warning", "warnings"),
        ("info", "info"),
    ];
    let short = [("✗", "✗"), ("⚠", "⚠"), ("info", "info")];
    Some(Part::or_shorter(
        form("problems ", long, ", "),
        vec![form("problems ", short, " "), form("", short, " ")],
    ))
}
