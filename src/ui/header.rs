//! The header: where promscope listens, totals and rates, filter counts,
//! senders, rejections, evictions, and the PAUSED badge.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::widgets::{dim_style, error_style, styled, warn_style};
use crate::app::App;
use crate::format;
use crate::store::Store;

/// Height of the header.
pub const HEIGHT: u16 = 3;

/// Seconds the header's current rates average over (senders batch every few
/// seconds; a shorter window makes the rates jump).
const RATE_SECS: i64 = 10;

/// Draws the header.
pub fn render(frame: &mut Frame, area: Rect, app: &App, store: &Store) {
    let now = app.now_ms;
    let totals = store.totals();
    let uptime = format::duration_secs((now - app.started_ms) as f64 / 1000.0);
    let mut first = vec![
        styled(
            " promscope ",
            Style::new()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(
            " receiving on http://{}  ·  up {uptime}",
            app.listen
        )),
    ];
    if let Some(p) = &app.paused {
        first.push(Span::raw("  "));
        first.push(styled(
            " PAUSED ",
            Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
        ));
        let mut since = format!(
            " +{} samples, +{} requests since (space to resume)",
            format::count(p.samples as f64),
            format::count(p.requests as f64)
        );
        if p.overflowed {
            since.push_str(&format!(
                " — pause buffer full (--pause-buffer-bytes): oldest {} requests applied",
                format::count(p.applied_early as f64)
            ));
        }
        first.push(styled(since, warn_style()));
    }
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
    let rejected = totals.rejected_total();
    let mut second = vec![Span::raw(format!(
        " requests {} ({}/s)  ·  samples {} ({}/s)  ·  {}/s  ·  series {}  ·  metrics {}",
        format::count((totals.accepted + rejected) as f64),
        format::count(store.request_rate.per_second(now, RATE_SECS)),
        format::count((totals.counts.samples + totals.counts.histograms) as f64),
        format::count(store.sample_rate.per_second(now, RATE_SECS)),
        format::bytes(store.byte_rate.per_second(now, RATE_SECS)),
        of(store.matched_series(), store.series_count()),
        of(store.matched_metrics(), store.metric_count()),
    ))];
    if filtered {
        second.push(styled(" (matched/total)", dim_style()));
    }
    let mut third = vec![Span::raw(" senders ")];
    let mut senders: Vec<_> = totals.senders.iter().collect();
    senders.sort_by(|a, b| {
        (b.1.accepted + b.1.rejected)
            .cmp(&(a.1.accepted + a.1.rejected))
            .then(a.0.cmp(b.0))
    });
    match senders.split_first() {
        None => third.push(styled("none yet", dim_style())),
        Some(((sender, s), rest)) => {
            let proto = s.protocols();
            third.push(Span::raw(format!("{sender} {proto}")));
            // Senders beyond those kept are counted, not listed.
            let more = totals.senders.seen().value().max(rest.len() as u64 + 1) - 1;
            if more > 0 {
                third.push(styled(format!(" +{more} more"), dim_style()));
            }
        }
    }
    if rejected > 0 {
        third.push(Span::raw("  ·  "));
        third.push(styled(
            format!("rejected {rejected} ({})", totals.rejected_by_reason()),
            error_style(),
        ));
    }
    let evicted = store.evicted_series();
    if evicted > 0 {
        third.push(Span::raw("  ·  "));
        third.push(styled(
            format!(
                "evicted {} series (--max-series)",
                format::count(evicted as f64)
            ),
            warn_style(),
        ));
    }
    if app.dropped_requests > 0 {
        third.push(Span::raw("  ·  "));
        third.push(styled(
            format!(
                "dropped {} requests (503, dashboard behind)",
                app.dropped_requests
            ),
            error_style(),
        ));
    }
    let text = vec![Line::from(first), Line::from(second), Line::from(third)];
    frame.render_widget(Paragraph::new(text), area);
}
