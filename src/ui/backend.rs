//! Forward mode's parts of the screen: the header's backend line, and the
//! backend's side of a request in the Requests view.

use ratatui::text::Span;

use super::theme;
use super::widgets::{Part, styled};
use crate::format;
use crate::ingest::forward::ForwardSnapshot;
use crate::store::RequestRow;
use crate::text::escape::escaped;

/// Separator between the header's items.
const SEP: &str = "  ·  ";

/// Rejection groups the header names; the rest are counted.
const GROUPS_SHOWN: usize = 3;

/// What the backend did with the requests, its latency over the last
/// minute, and the backend itself (last: on a narrow screen its URL is what
/// gets shortened). Requests not inspected are with the header's other
/// troubles ([`uninspected_part`]).
pub fn header_parts(f: &ForwardSnapshot) -> Vec<Part> {
    let counted = |label: &str, n: u64| {
        let style = if n > 0 { theme::error() } else { theme::dim() };
        Part::whole(vec![
            Span::raw(SEP),
            styled(format!("{label} {}", format::count(n as f64)), style),
        ])
    };
    let mut parts = vec![
        Part::whole(vec![Span::raw(format!(
            " forwarded ok {}",
            format::count(f.ok as f64)
        ))]),
        counted("rejected", f.rejected),
        counted("failed", f.failed),
    ];
    let latency = match f.latency {
        Some((p50, p99)) => format!(
            "{SEP}p50 {} p99 {} (1 min)",
            format::quantile_latency(p50),
            format::quantile_latency(p99)
        ),
        None => format!("{SEP}no latency in the last minute"),
    };
    parts.push(Part::whole(vec![Span::raw(latency)]));
    let mut backend = vec![
        Span::raw(format!("{SEP}→ ")),
        Span::raw(escaped(&f.backend).into_owned()),
    ];
    if f.insecure {
        backend.push(Span::raw(" "));
        backend.push(styled(
            " TLS NOT VERIFIED (--forward-insecure-skip-verify) ",
            theme::palette().paused,
        ));
    }
    parts.push(Part::shrinking(backend, 1));
    for m in &f.mirrors {
        let mut spans = vec![
            Span::raw(format!("{SEP}mirror ")),
            Span::raw(escaped(&m.url).into_owned()),
            Span::raw(format!(" ok {}", format::count(m.ok as f64))),
        ];
        for (label, n) in [("failed", m.failed), ("queue full", m.overflow)] {
            if n > 0 {
                spans.push(styled(
                    format!(" {label} {}", format::count(n as f64)),
                    theme::error(),
                ));
            }
        }
        parts.push(Part::shrinking(spans, 1));
    }
    parts
}

/// What the backend rejected, and why it could not be reached, grouped by
/// status and message, the most frequent first.
pub fn rejection_parts(f: &ForwardSnapshot) -> Vec<Part> {
    if f.rejections.is_empty() {
        return vec![Part::whole(vec![styled(
            " the backend rejected nothing so far",
            theme::dim(),
        )])];
    }
    let shown = &f.rejections[..f.rejections.len().min(GROUPS_SHOWN)];
    // promscope's own 502 and 504 are no rejection: the backend never answered.
    let label = match (
        shown.iter().any(|g| g.answered),
        shown.iter().any(|g| !g.answered),
    ) {
        (true, false) => " backend rejected:",
        (false, _) => " no answer from the backend:",
        (true, true) => " backend rejected or did not answer:",
    };
    let mut parts = vec![Part::whole(vec![Span::raw(label)])];
    for (i, group) in shown.iter().enumerate() {
        let lead = if i == 0 { " " } else { "  ·  " };
        let text = format!("{} {}", group.status, escaped(&group.text));
        parts.push(Part::shrinking(
            vec![
                Span::raw(lead),
                styled(text, theme::error()),
                styled(format!(" ×{}", group.count), theme::error()),
            ],
            1,
        ));
    }
    let more = f
        .rejections
        .iter()
        .skip(GROUPS_SHOWN)
        .map(|g| g.count)
        .sum::<u64>()
        + f.other_rejections;
    if more > 0 {
        parts.push(Part::whole(vec![styled(
            format!("  ·  {more} more"),
            theme::error(),
        )]));
    }
    parts
}

/// Requests forwarded while the dashboard was behind, when there are any,
/// after `lead` (a separator, or a space at the start of a line): shorter
/// forms at 80 columns, where it must still show, as it is why the header's
/// request count is under the backend's.
pub fn uninspected_part(f: &ForwardSnapshot, lead: &str) -> Option<Part> {
    (f.uninspected > 0).then(|| {
        let n = format::count(f.uninspected as f64);
        let form = |text: String| vec![Span::raw(lead.to_owned()), styled(text, theme::warn())];
        Part::or_shorter(
            form(format!("{n} forwarded uninspected (dashboard behind)")),
            vec![
                form(format!("{n} uninspected (dashboard behind)")),
                form(format!("{n} uninspected")),
            ],
        )
    })
}

/// A request row's mirrors cell: each mirror's status, in `--mirror` order.
pub fn mirrors_cell(row: &RequestRow) -> String {
    row.backend.as_ref().map_or(String::new(), |b| {
        let statuses: Vec<String> = b.mirrors.get().iter().map(|s| s.text()).collect();
        statuses.join(" ")
    })
}

/// A request row's backend cell: the backend's latency, `no answer`, or
/// `not sent` for a request promscope answered itself.
pub fn cell(row: &RequestRow) -> String {
    match &row.backend {
        Some(b) if b.answered => format::latency(b.latency),
        Some(b) => format!("no answer {}", format::latency(b.latency)),
        None => "not sent".to_owned(),
    }
}
