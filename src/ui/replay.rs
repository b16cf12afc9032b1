//! What the header says while replaying a capture: that it is a replay, how
//! far in (recorded time and requests, of the capture's totals once counted),
//! how reading ended, at what pace, and of which file.

use ratatui::text::Span;

use super::theme;
use super::widgets::{Part, SEP, styled};
use crate::app::replay::{ReplayStatus, Speed};
use crate::format;
use crate::text::escape::escaped;

/// The header's items for `replay`, after the promscope badge.
pub fn header_parts(replay: &ReplayStatus) -> Vec<Part> {
    let secs = |ms: i64| format::duration_secs(ms as f64 / 1000.0);
    let count = |n: u64| format::count(n as f64);
    let mut parts = vec![Part::whole(vec![
        Span::raw(" "),
        styled(" REPLAY ", theme::palette().paused),
    ])];
    let (at, requests) = match replay.totals {
        Some(totals) => (
            format!("{} of {}", secs(replay.position_ms), secs(totals.span_ms)),
            format!("{} of {}", count(replay.requests), count(totals.requests)),
        ),
        None => (secs(replay.position_ms), count(replay.requests)),
    };
    parts.push(Part::whole(vec![Span::raw(format!(" at {at}"))]));
    parts.push(Part::whole(vec![Span::raw(format!(
        "{SEP}requests {requests}"
    ))]));
    match &replay.ended {
        None => {}
        Some(Ok(())) => parts.push(Part::whole(vec![
            Span::raw(SEP),
            styled("end of capture", theme::dim()),
        ])),
        Some(Err(damage)) => parts.push(Part::shrinking(
            vec![
                Span::raw(SEP),
                styled(escaped(damage).into_owned(), theme::error()),
            ],
            1,
        )),
    }
    let pace = match replay.speed {
        Speed::Max => "flat out".to_owned(),
        Speed::Times(n) => format!("×{n}"),
    };
    parts.push(Part::whole(vec![Span::raw(format!("{SEP}{pace}"))]).optional());
    // Last: the numbers above matter more than a long path.
    parts.push(Part::shrinking(
        vec![
            Span::raw(SEP),
            Span::raw(escaped(&replay.file).into_owned()),
        ],
        1,
    ));
    parts
}
