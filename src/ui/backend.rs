//! Forward mode's parts of the screen: the header's backend line, and the
//! backend's side of a request in the Requests view.

use ratatui::text::Span;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::widgets::{Part, SEP, styled};
use super::{fit, theme};
use crate::format;
use crate::ingest::forward::{ForwardSnapshot, MirrorSnapshot};
use crate::store::RequestRow;
use crate::text::escape::escaped;

/// Rejection groups the header names; the rest are counted.
const GROUPS_SHOWN: usize = 3;
/// Columns a group's message keeps at least (its status included) before a
/// group is counted in `N more` instead: `400 out o…`.
const MIN_MESSAGE: usize = 12;

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
        None => format!("{SEP}no answer in the last minute"),
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
    // Mirrors in trouble before the backend's URL, which is cut or left out
    // for them on a narrow screen; those without after it.
    let mirrors = f.mirrors.iter().enumerate().map(|(i, m)| {
        // Where its URL does not fit, a number tells mirrors apart.
        let name = match f.mirrors.len() {
            1 => "mirror".to_owned(),
            _ => format!("mirror {}", i + 1),
        };
        (m.failed + m.overflow > 0, mirror_part(m, name))
    });
    let (troubled, fine): (Vec<_>, Vec<_>) = mirrors.partition(|(troubled, _)| *troubled);
    parts.extend(troubled.into_iter().map(|(_, part)| part));
    parts.push(Part::shrinking(backend, 1));
    parts.extend(fine.into_iter().map(|(_, part)| part));
    parts
}

/// A mirror with its URL, its answers and troubles; where that does not fit,
/// without its URL, then its troubles alone (`mirror failed 3`).
fn mirror_part(m: &MirrorSnapshot, name: String) -> Part {
    let troubles: Vec<Span<'static>> = [("failed", m.failed), ("queue full", m.overflow)]
        .into_iter()
        .filter(|&(_, n)| n > 0)
        .map(|(label, n)| {
            styled(
                format!(" {label} {}", format::count(n as f64)),
                theme::error(),
            )
        })
        .collect();
    let ok = Span::raw(format!(" ok {}", format::count(m.ok as f64)));
    let url = Span::raw(format!(" {}", escaped(&m.url)));
    let form = |url: Option<&Span<'static>>, ok: Option<&Span<'static>>| {
        let head = Span::raw(format!("{SEP}{name}"));
        let rest = url.into_iter().chain(ok).chain(&troubles).cloned();
        std::iter::once(head).chain(rest).collect::<Vec<_>>()
    };
    let mut shorter = vec![form(None, Some(&ok))];
    if !troubles.is_empty() {
        shorter.push(form(None, None));
    }
    Part::or_shorter(form(Some(&url), Some(&ok)), shorter)
}

/// What the backend rejected, and why it could not be reached, grouped by
/// status and message, the most frequent first: as many groups as fit in
/// `width` (up to [`GROUPS_SHOWN`]) with their messages shortened, and the
/// requests of the others counted as `N more`, so that no count is lost to
/// the width.
pub fn rejection_parts(f: &ForwardSnapshot, width: usize) -> Vec<Part> {
    if f.rejections.is_empty() {
        return vec![Part::whole(vec![styled(
            " the backend rejected nothing so far",
            theme::dim(),
        )])];
    }
    let most = f.rejections.len().min(GROUPS_SHOWN);
    (1..=most)
        .rev()
        .find_map(|n| rejection_line(f, n, Some(width)))
        // Narrower still: the label and how many requests.
        .or_else(|| rejection_line(f, 0, None))
        .unwrap_or_default()
}

/// The rejection line with the first `n` groups, their messages cut to
/// share `width` (none when that leaves one under [`MIN_MESSAGE`]); with no
/// width, uncut.
fn rejection_line(f: &ForwardSnapshot, n: usize, width: Option<usize>) -> Option<Vec<Part>> {
    let shown = f.rejections.get(..n)?;
    // promscope's own 502 and 504 are no rejection: the backend never answered.
    // The label speaks of every request on the line, those counted as `N more`
    // too: `no answer from the backend: 502 … ×75 · 3 more` hid three 400s.
    let kinds = (
        f.rejections.iter().any(|g| g.answered),
        f.rejections.iter().any(|g| !g.answered),
    );
    // Shorter when the line is only a count, as it is where nothing else fits.
    let label = match (kinds, n) {
        ((true, false), _) => " backend rejected:",
        ((false, _), 0) => " no answer from backend:",
        ((false, _), _) => " no answer from the backend:",
        ((true, true), 0) => " rejected or no answer:",
        ((true, true), _) => " backend rejected or did not answer:",
    };
    let more = f.rejections[n..].iter().map(|g| g.count).sum::<u64>() + f.other_rejections;
    let more = match n {
        0 => Some(format!(" {more} requests")),
        _ => (more > 0).then(|| format!("{SEP}{more} more")),
    };
    let groups: Vec<(&str, String, String)> = shown
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let lead = if i == 0 { " " } else { SEP };
            let text = format!("{} {}", g.status, escaped(&g.text));
            (lead, text, format!(" ×{}", g.count))
        })
        .collect();
    let texts: Vec<usize> = groups.iter().map(|(_, text, _)| text.width()).collect();
    let cut_to = match width {
        None => texts.clone(),
        Some(width) => {
            let fixed = label.width()
                + groups
                    .iter()
                    .map(|(lead, _, count)| lead.width() + count.width())
                    .sum::<usize>()
                + more.as_ref().map_or(0, |m| m.width());
            let room = width.checked_sub(fixed)?;
            let least: usize = texts.iter().map(|&w| w.min(MIN_MESSAGE)).sum();
            let cut_to = (least <= room).then(|| shares(&texts, room))?;
            // A group cut to what reads as the start of another's message
            // (`400 out of orde…` beside `400 out of order sample`) tells
            // nothing apart: fewer groups, longer.
            let cut = |i: usize| cut_to[i] < texts[i];
            let seen: Vec<&str> = groups
                .iter()
                .enumerate()
                .map(|(i, (_, text, _))| {
                    if cut(i) {
                        visible(text, cut_to[i])
                    } else {
                        text
                    }
                })
                .collect();
            let hides = |i: usize, j: usize| cut(i) && seen[j].starts_with(seen[i]);
            let alike = (0..seen.len()).any(|i| (0..seen.len()).any(|j| i != j && hides(i, j)));
            (!alike).then_some(cut_to)?
        }
    };
    let mut parts = vec![Part::whole(vec![Span::raw(label)])];
    for ((lead, text, count), keep) in groups.into_iter().zip(cut_to) {
        let text = fit::end(&text, keep).into_owned();
        parts.push(Part::shrinking(
            vec![
                Span::raw(lead),
                styled(text, theme::error()),
                styled(count, theme::error()),
            ],
            1,
        ));
    }
    if let Some(more) = more {
        parts.push(Part::whole(vec![styled(more, theme::error())]).reserved());
    }
    Some(parts)
}

/// What is left of `text` cut to `keep` columns (fewer than it has), its
/// `…` left out.
fn visible(text: &str, keep: usize) -> &str {
    let mut width = 0;
    let end = text
        .char_indices()
        .find(|&(_, c)| {
            width += c.width().unwrap_or(0);
            width >= keep
        })
        .map_or(text.len(), |(i, _)| i);
    text[..end].trim_end()
}

/// `room` columns shared among texts `widths` wide: the narrow ones whole,
/// the rest alike.
fn shares(widths: &[usize], room: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..widths.len()).collect();
    order.sort_by_key(|&i| widths[i]);
    let mut shares = vec![0; widths.len()];
    let mut left = room;
    for (done, i) in order.into_iter().enumerate() {
        let share = widths[i].min(left / (widths.len() - done));
        shares[i] = share;
        left -= share;
    }
    shares
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
        // `no answer, 204`: two mirrors, not one status of two words.
        statuses.join(", ")
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
