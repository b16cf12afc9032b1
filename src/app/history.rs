//! Lists of arriving entries (recent samples, requests, one series' samples)
//! that follow the newest until the user scrolls, and then hold still: the rows
//! on screen are copied when the user scrolls, the highlight is an entry (its
//! position in arrival order), not a row index, and nothing on screen moves
//! while entries keep arriving or leave the kept window.

use std::borrow::Cow;

/// Entries numbered in arrival order from 0, of which the newest are kept,
/// some of them shown (those that pass the filter).
pub trait History {
    /// What a row of the list copies from an entry.
    type Row: Clone;
    /// Position of the oldest kept entry.
    fn start(&self) -> u64;
    /// Position after the newest entry.
    fn end(&self) -> u64;
    /// The row of the entry at `pos`, if it is kept and shown.
    fn get(&self, pos: u64) -> Option<Self::Row>;
    /// Whether the entry at `pos` is kept and shown (cheaper than [`History::get`]).
    fn is_shown(&self, pos: u64) -> bool;
    /// Whether a row copied earlier passes the filter now.
    fn still_shown(&self, row: &Self::Row) -> bool;

    /// Up to `n` shown entries before position `before`, oldest first.
    fn before(&self, before: u64, n: usize) -> Vec<Entry<Self::Row>> {
        let mut out: Vec<_> = (self.start()..before.min(self.end()))
            .rev()
            .filter_map(|pos| self.get(pos).map(|row| Entry { pos, row }))
            .take(n)
            .collect();
        out.reverse();
        out
    }

    /// Up to `n` shown entries from position `from` on, oldest first.
    fn from(&self, from: u64, n: usize) -> Vec<Entry<Self::Row>> {
        (from.max(self.start())..self.end())
            .filter_map(|pos| self.get(pos).map(|row| Entry { pos, row }))
            .take(n)
            .collect()
    }

    /// Shown entries from position `from` on.
    fn count_from(&self, from: u64) -> u64 {
        (from.max(self.start())..self.end())
            .filter(|&pos| self.is_shown(pos))
            .count() as u64
    }
}

/// A row and the position of its entry in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<R> {
    /// Position in arrival order (the entry's identity).
    pub pos: u64,
    /// What the row shows.
    pub row: R,
}

/// What a list shows: its rows, oldest first, and the highlighted one.
#[derive(Debug)]
pub struct Screen<'a, R: Clone> {
    /// The rows on screen.
    pub rows: Cow<'a, [Entry<R>]>,
    /// Index of the highlighted row (none while following).
    pub selected: Option<usize>,
}

impl<R: Clone> Screen<'_, R> {
    /// The highlighted row.
    pub fn highlighted(&self) -> Option<&Entry<R>> {
        self.rows.get(self.selected?)
    }
}

/// Rows shown before the list was first drawn.
const DEFAULT_VIEWPORT: usize = 20;

/// A list of arriving entries: following the newest, or held still.
#[derive(Debug)]
pub struct HistoryList<R> {
    held: Option<Held<R>>,
    viewport: usize,
}

#[derive(Debug)]
struct Held<R> {
    /// What the screen shows, oldest first, copied when taken.
    rows: Vec<Entry<R>>,
    /// Index of the highlighted row.
    selected: usize,
    /// [`History::end`] when the list stopped following.
    end_when_held: u64,
    /// Set when moving back found nothing older.
    reached_oldest: bool,
}

impl<R> Default for HistoryList<R> {
    fn default() -> Self {
        HistoryList {
            held: None,
            viewport: DEFAULT_VIEWPORT,
        }
    }
}

impl<R: Clone> HistoryList<R> {
    /// Whether the list follows new entries.
    pub fn is_following(&self) -> bool {
        self.held.is_none()
    }

    /// Follows new entries again.
    pub fn follow(&mut self) {
        self.held = None;
    }

    /// Rows the screen showed when the list was last drawn.
    pub fn viewport(&self) -> usize {
        self.viewport
    }

    /// Records how many rows the screen shows: a held screen that no longer
    /// fits keeps the highlighted row; one that has more room takes more rows.
    pub fn set_viewport<H: History<Row = R>>(&mut self, rows: usize, src: &H) {
        self.viewport = rows.max(1);
        if let Some(held) = &mut self.held {
            let excess = held.rows.len().saturating_sub(self.viewport);
            let above = excess.min(held.selected);
            held.rows.drain(..above);
            held.selected -= above;
            held.rows.truncate(self.viewport);
            held.fill(src, self.viewport);
        }
    }

    /// The rows on screen in `height` rows, oldest first: the newest shown
    /// entries while following, else what was taken when the user scrolled
    /// (those around the highlighted one if the screen got smaller).
    pub fn screen<'a, H: History<Row = R>>(&'a self, src: &H, height: usize) -> Screen<'a, R> {
        match &self.held {
            Some(held) => {
                let excess = held.rows.len().saturating_sub(height);
                let above = excess.min(held.selected);
                let shown = above..held.rows.len() - (excess - above);
                Screen {
                    rows: Cow::Borrowed(&held.rows[shown]),
                    selected: Some(held.selected - above),
                }
            }
            None => Screen {
                rows: Cow::Owned(src.before(src.end(), height)),
                selected: None,
            },
        }
    }

    /// The highlighted entry, or while following the newest shown one.
    pub fn selected_or_newest<H: History<Row = R>>(&self, src: &H) -> Option<Entry<R>> {
        match &self.held {
            Some(held) => held.rows.get(held.selected).cloned(),
            None => src.before(src.end(), 1).pop(),
        }
    }

    /// Shown entries that arrived since the list stopped following.
    pub fn newer<H: History<Row = R>>(&self, src: &H) -> u64 {
        self.held
            .as_ref()
            .map_or(0, |held| src.count_from(held.end_when_held))
    }

    /// Whether the last move back found nothing older to show.
    pub fn reached_oldest(&self) -> bool {
        self.held.as_ref().is_some_and(|h| h.reached_oldest)
    }

    /// Whether the rows on screen are older than any entry still kept.
    pub fn older_than_kept<H: History<Row = R>>(&self, src: &H) -> bool {
        self.held
            .as_ref()
            .and_then(|h| h.rows.last())
            .is_some_and(|e| e.pos < src.start())
    }

    /// Moves the highlight by `delta` entries (negative: older). Following, a
    /// move back first holds the screen as it is with the newest entry
    /// highlighted; a move past the newest entry follows again.
    pub fn move_by<H: History<Row = R>>(&mut self, delta: isize, src: &H) {
        if self.held.is_none() {
            if delta >= 0 {
                return;
            }
            let rows = src.before(src.end(), self.viewport);
            let Some(selected) = rows.len().checked_sub(1) else {
                return;
            };
            self.held = Some(Held {
                rows,
                selected,
                end_when_held: src.end(),
                reached_oldest: false,
            });
        }
        let viewport = self.viewport;
        let Some(held) = &mut self.held else {
            return;
        };
        let target = (held.selected as isize).saturating_add(delta);
        if target < 0 {
            let want = target.unsigned_abs();
            let older = held
                .rows
                .first()
                .map_or_else(Vec::new, |first| src.before(first.pos, want));
            held.reached_oldest = older.len() < want;
            held.selected = older.len().saturating_sub(want);
            held.rows.splice(0..0, older);
            held.rows.truncate(viewport.max(held.selected + 1));
            return;
        }
        let target = target as usize;
        held.reached_oldest = held.reached_oldest && delta <= 0;
        if target < held.rows.len() {
            held.selected = target;
            return;
        }
        let want = target + 1 - held.rows.len();
        let newer = held
            .rows
            .last()
            .map_or_else(Vec::new, |last| src.from(last.pos + 1, want));
        if newer.len() < want {
            self.held = None;
            return;
        }
        held.rows.extend(newer);
        let excess = held.rows.len().saturating_sub(viewport).min(target);
        held.rows.drain(..excess);
        held.selected = target - excess;
    }

    /// Moves by a page (what the screen shows, less one row of context).
    pub fn page<H: History<Row = R>>(&mut self, pages: isize, src: &H) {
        let step = self.viewport.saturating_sub(1).max(1) as isize;
        self.move_by(pages.saturating_mul(step), src);
    }

    /// Holds the oldest shown entries, the oldest highlighted.
    pub fn to_oldest<H: History<Row = R>>(&mut self, src: &H) {
        let rows = src.from(src.start(), self.viewport);
        self.held = (!rows.is_empty()).then(|| Held {
            rows,
            selected: 0,
            end_when_held: self.held.as_ref().map_or(src.end(), |h| h.end_when_held),
            reached_oldest: true,
        });
    }

    /// After a filter change: keeps the held rows that still pass it (and the
    /// highlighted entry, or the nearest older one), then fills the screen with
    /// other shown entries around them.
    pub fn refilter<H: History<Row = R>>(&mut self, src: &H) {
        let viewport = self.viewport;
        let Some(held) = &mut self.held else {
            return;
        };
        let Some(anchor) = held.rows.get(held.selected).map(|e| e.pos) else {
            self.held = None;
            return;
        };
        held.rows.retain(|e| src.still_shown(&e.row));
        if held.rows.is_empty() {
            held.rows = src.before(anchor + 1, viewport);
            if held.rows.is_empty() {
                held.rows = src.from(anchor, viewport);
            }
        }
        if held.rows.is_empty() {
            self.held = None;
            return;
        }
        held.selected = held.rows.iter().rposition(|e| e.pos <= anchor).unwrap_or(0);
        held.fill(src, viewport);
        held.reached_oldest = false;
    }
}

impl<R: Clone> Held<R> {
    /// Adds shown entries older, then newer, than the rows held until they
    /// fill `viewport` rows.
    fn fill<H: History<Row = R>>(&mut self, src: &H, viewport: usize) {
        let Some(first) = self.rows.first().map(|e| e.pos) else {
            return;
        };
        let older = src.before(first, viewport.saturating_sub(self.rows.len()));
        self.selected += older.len();
        self.rows.splice(0..0, older);
        if let Some(last) = self.rows.last().map(|e| e.pos) {
            let newer = src.from(last + 1, viewport.saturating_sub(self.rows.len()));
            self.rows.extend(newer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries `start..end` of which the multiples of `shown_every` are shown.
    struct Numbers {
        start: u64,
        end: u64,
        shown_every: u64,
    }

    impl History for Numbers {
        type Row = u64;
        fn start(&self) -> u64 {
            self.start
        }
        fn end(&self) -> u64 {
            self.end
        }
        fn get(&self, pos: u64) -> Option<u64> {
            self.is_shown(pos).then_some(pos * 10)
        }
        fn is_shown(&self, pos: u64) -> bool {
            (self.start..self.end).contains(&pos) && pos.is_multiple_of(self.shown_every)
        }
        fn still_shown(&self, row: &u64) -> bool {
            (row / 10).is_multiple_of(self.shown_every)
        }
    }

    fn positions(list: &HistoryList<u64>, src: &Numbers) -> Vec<u64> {
        let screen = list.screen(src, list.viewport());
        screen.rows.iter().map(|e| e.pos).collect()
    }

    fn selected(list: &HistoryList<u64>, src: &Numbers) -> Option<u64> {
        let screen = list.screen(src, list.viewport());
        screen.highlighted().map(|e| e.pos)
    }

    fn numbers(start: u64, end: u64) -> Numbers {
        Numbers {
            start,
            end,
            shown_every: 1,
        }
    }

    fn list(viewport: usize) -> HistoryList<u64> {
        let mut list = HistoryList::default();
        list.set_viewport(viewport, &numbers(0, 0));
        list
    }

    #[test]
    fn follows_the_newest_until_moved_back() {
        let mut list = list(4);
        let mut src = numbers(0, 10);
        assert_eq!(positions(&list, &src), [6, 7, 8, 9]);
        list.move_by(1, &src);
        assert!(list.is_following());
        list.move_by(-2, &src);
        // The screen is full and the highlight moves within it.
        assert_eq!(positions(&list, &src), [6, 7, 8, 9]);
        assert_eq!(selected(&list, &src), Some(7));
        src.end = 12;
        assert_eq!(list.newer(&src), 2);
        list.move_by(2, &src);
        assert_eq!(selected(&list, &src), Some(9));
        // Past the newest held row: newer rows come in below.
        list.move_by(1, &src);
        assert_eq!(positions(&list, &src), [7, 8, 9, 10]);
        assert_eq!(selected(&list, &src), Some(10));
        list.move_by(5, &src);
        assert!(list.is_following());
        assert_eq!(positions(&list, &src), [8, 9, 10, 11]);
    }

    #[test]
    fn held_rows_stay_while_the_kept_window_moves_past_them() {
        let mut list = list(3);
        let mut src = numbers(0, 10);
        list.move_by(-1, &src);
        let held: Vec<_> = list.screen(&src, 3).rows.into_owned();
        // Everything on screen leaves the kept window.
        src.start = 50;
        src.end = 60;
        assert_eq!(list.screen(&src, 3).rows.into_owned(), held);
        assert_eq!(selected(&list, &src), Some(8));
        assert!(list.older_than_kept(&src));
        assert_eq!(list.newer(&src), 10);
        // Nothing older is kept: the highlight stops at the top, and says so.
        list.move_by(-5, &src);
        assert_eq!(selected(&list, &src), Some(7));
        assert!(list.reached_oldest());
        assert_eq!(list.screen(&src, 3).rows.into_owned(), held);
        // Forward again: the next kept entries.
        list.move_by(3, &src);
        assert_eq!(positions(&list, &src), [8, 9, 50]);
        assert_eq!(selected(&list, &src), Some(50));
        assert!(!list.reached_oldest());
    }

    #[test]
    fn moving_back_past_the_top_scrolls_older_rows_in() {
        let mut list = list(3);
        let src = numbers(0, 10);
        list.move_by(-2, &src);
        assert_eq!(selected(&list, &src), Some(7));
        list.move_by(-2, &src);
        assert_eq!(positions(&list, &src), [5, 6, 7]);
        assert_eq!(selected(&list, &src), Some(5));
        list.page(-1, &src);
        assert_eq!(positions(&list, &src), [3, 4, 5]);
        assert_eq!(selected(&list, &src), Some(3));
        list.to_oldest(&src);
        assert_eq!(positions(&list, &src), [0, 1, 2]);
        assert_eq!(selected(&list, &src), Some(0));
    }

    #[test]
    fn a_filter_change_keeps_the_highlight_on_a_matching_entry() {
        let mut list = list(3);
        let mut src = numbers(0, 20);
        list.move_by(-3, &src);
        assert_eq!(selected(&list, &src), Some(16));
        src.shown_every = 4;
        list.refilter(&src);
        assert_eq!(positions(&list, &src), [8, 12, 16]);
        assert_eq!(selected(&list, &src), Some(16));
        src.shown_every = 5;
        list.refilter(&src);
        // 16 is filtered out: the nearest older shown entry.
        assert_eq!(positions(&list, &src), [5, 10, 15]);
        assert_eq!(selected(&list, &src), Some(15));
        // Nothing passes: follow (an empty list).
        src.start = 1;
        src.shown_every = 1000;
        list.refilter(&src);
        assert!(list.is_following());
        assert!(positions(&list, &src).is_empty());
    }

    #[test]
    fn a_resized_screen_keeps_the_highlighted_row() {
        let mut list = list(5);
        let src = numbers(0, 10);
        list.move_by(-4, &src);
        assert_eq!(selected(&list, &src), Some(5));
        let screen = list.screen(&src, 3);
        assert_eq!(
            screen.rows.iter().map(|e| e.pos).collect::<Vec<_>>(),
            [5, 6, 7]
        );
        assert_eq!(screen.selected, Some(0));
        list.set_viewport(2, &src);
        assert_eq!(positions(&list, &src), [5, 6]);
        assert_eq!(selected(&list, &src), Some(5));
        // More room: older rows above, then newer ones.
        list.set_viewport(4, &src);
        assert_eq!(positions(&list, &src), [3, 4, 5, 6]);
        assert_eq!(selected(&list, &src), Some(5));
    }
}
