//! A sortable list's state in one place: its rows in order, the cursor, the sort
//! key and order, what the rows were built from, and how many rows the screen
//! showed (as tokio-console's `TableListState` and bottom's `DataTableState`).

/// Which way a list is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// Smallest (or A) first.
    Ascending,
    /// Largest (or Z) first.
    Descending,
}

impl SortOrder {
    /// The other order.
    pub fn rev(self) -> Self {
        match self {
            SortOrder::Ascending => SortOrder::Descending,
            SortOrder::Descending => SortOrder::Ascending,
        }
    }
}

/// A key a list can be sorted by.
pub trait SortKey: Copy + PartialEq {
    /// The key after this one (`s` cycles through them).
    fn next(self) -> Self;
    /// What the title calls it.
    fn label(self) -> &'static str;
    /// The order that shows the most useful rows first (names A to Z, counts
    /// and rates highest first): `r` reverses it.
    fn natural_order(self) -> SortOrder;
    /// Whether the key changes with time alone (rates, values), so the rows
    /// are re-sorted now and then even when no row came or went.
    fn moves_with_time(self) -> bool;
}

/// A row's identity across rebuilds, so the cursor stays on the same entry
/// when rows are re-sorted.
pub trait Identified {
    /// What stays the same while it is the same entry.
    type Id: PartialEq;
    /// This row's identity.
    fn id(&self) -> Self::Id;
}

/// A selected row and the first visible row of a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Selected row.
    pub selected: usize,
    /// First visible row.
    pub offset: usize,
}

impl Cursor {
    /// Moves by `delta` rows within `len` rows, keeping the selection in a window of `height`.
    pub fn move_by(&mut self, delta: isize, len: usize, height: usize) {
        let max = len.saturating_sub(1) as isize;
        self.selected = (self.selected as isize).saturating_add(delta).clamp(0, max) as usize;
        self.offset = self.visible_offset(len, height);
    }

    /// The first visible row for a window of `height`, keeping the selection visible.
    pub fn visible_offset(&self, len: usize, height: usize) -> usize {
        let height = height.max(1);
        let selected = self.selected.min(len.saturating_sub(1));
        let mut offset = self.offset.min(selected);
        if selected >= offset + height {
            offset = selected + 1 - height;
        }
        offset.min(len.saturating_sub(height))
    }

    /// The visible window `[offset, offset + height)` of a list of `len` rows.
    pub fn window(&self, len: usize, height: usize) -> std::ops::Range<usize> {
        let offset = self.visible_offset(len, height);
        offset..(offset + height).min(len)
    }
}

/// Rows a list shows before it was first drawn.
const DEFAULT_VIEWPORT: usize = 20;
/// How often rows sorted by a key that moves with time are re-sorted.
const RESORT_MS: i64 = 1_000;
/// Lists longer than this are re-sorted at most every [`LARGE_RESORT_MS`].
const LARGE_LIST: usize = 20_000;
const LARGE_RESORT_MS: i64 = 3_000;

/// What a list's rows were built from: when it changes, they are rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source<S> {
    /// The store's count of changes to what the list shows.
    pub version: u64,
    /// What the list is of (the open metric of a series list).
    pub subject: S,
}

#[derive(Debug, Clone, Copy)]
struct Built<K, S> {
    source: Source<S>,
    sort: K,
    order: SortOrder,
    at_ms: i64,
}

/// A sorted list: rows, cursor, sort key and order, and what the rows were built from.
#[derive(Debug)]
pub struct SortedList<Row, K, S = ()> {
    rows: Vec<Row>,
    /// Selected row and scroll position.
    pub cursor: Cursor,
    sort: K,
    order: SortOrder,
    built: Option<Built<K, S>>,
    viewport: usize,
    /// Whether the user moved the selection since the list was opened: until
    /// then it stays on the first row, whatever sorts in there.
    moved: bool,
}

impl<Row: Identified, K: SortKey, S: Copy + PartialEq> SortedList<Row, K, S> {
    /// An empty list sorted by `sort` in its natural order.
    pub fn new(sort: K) -> Self {
        SortedList {
            rows: Vec::new(),
            cursor: Cursor::default(),
            sort,
            order: sort.natural_order(),
            built: None,
            viewport: DEFAULT_VIEWPORT,
            moved: false,
        }
    }

    /// The rows, in order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The selected row.
    pub fn selected(&self) -> Option<&Row> {
        self.rows.get(self.cursor.selected)
    }

    /// The sort key.
    pub fn sort(&self) -> K {
        self.sort
    }

    /// The sort order.
    pub fn order(&self) -> SortOrder {
        self.order
    }

    /// Whether the order is the opposite of the key's natural one.
    pub fn reversed(&self) -> bool {
        self.order != self.sort.natural_order()
    }

    /// Sorts by the next key, in its natural order.
    pub fn cycle_sort(&mut self) {
        self.sort = self.sort.next();
        self.order = self.sort.natural_order();
    }

    /// Reverses the order.
    pub fn reverse(&mut self) {
        self.order = self.order.rev();
    }

    /// Rows the screen showed when the list was last drawn.
    pub fn viewport(&self) -> usize {
        self.viewport
    }

    /// Records how many rows the screen shows (paging moves by that much).
    pub fn set_viewport(&mut self, rows: usize) {
        self.viewport = rows.max(1);
    }

    /// Moves the selection by `delta` rows.
    pub fn move_by(&mut self, delta: isize) {
        self.moved = true;
        self.cursor.move_by(delta, self.rows.len(), self.viewport);
    }

    /// Moves the selection by a page (what the screen shows, less one row of context).
    pub fn page(&mut self, pages: isize) {
        let step = self.viewport.saturating_sub(1).max(1) as isize;
        self.move_by(pages.saturating_mul(step));
    }

    /// The visible window of rows.
    pub fn window(&self) -> std::ops::Range<usize> {
        self.cursor.window(self.rows.len(), self.viewport)
    }

    /// Whether the rows are out of date: built from another source, sort or
    /// order; or the source changed (large lists: at most every few seconds);
    /// or the key moves with time and a second went by; or the clock went
    /// back (a replay's clock starts at its capture's first request).
    pub fn needs_rebuild(&self, source: Source<S>, now_ms: i64) -> bool {
        let Some(built) = self.built else {
            return true;
        };
        if built.sort != self.sort
            || built.order != self.order
            || built.source.subject != source.subject
        {
            return true;
        }
        let since = now_ms.saturating_sub(built.at_ms);
        if since < 0 {
            return true;
        }
        let min_gap = if self.rows.len() > LARGE_LIST {
            LARGE_RESORT_MS
        } else {
            0
        };
        (built.source.version != source.version && since >= min_gap)
            || (self.sort.moves_with_time() && since >= RESORT_MS.max(min_gap))
    }

    /// Replaces the rows, keeping the cursor on the same entry when it is
    /// still listed; on the first row while the user has not moved it.
    pub fn rebuild(&mut self, rows: Vec<Row>, source: Source<S>, now_ms: i64) {
        let same_subject = self
            .built
            .is_some_and(|b| b.source.subject == source.subject);
        // Followed while untouched, the first row of a list filling up (a
        // real Prometheus's 320 metrics in its first requests) was pushed down
        // past the screen, and the list opened scrolled to its middle.
        self.moved &= same_subject;
        let kept = self
            .selected()
            .filter(|_| same_subject)
            .map(Identified::id)
            .and_then(|id| rows.iter().position(|r| r.id() == id));
        self.rows = rows;
        // The window stays where it was and the selection moves within it
        // (drawing scrolls only if the entry left the window): keeping the
        // entry on its screen line instead hid rows that sorted in above it,
        // such as a bigger metric arriving above the first row.
        self.cursor = match kept {
            _ if !self.moved => Cursor::default(),
            Some(at) => Cursor {
                selected: at,
                offset: self.cursor.offset,
            },
            None if same_subject => Cursor {
                selected: self.cursor.selected.min(self.rows.len().saturating_sub(1)),
                offset: self.cursor.offset,
            },
            None => Cursor::default(),
        };
        self.built = Some(Built {
            source,
            sort: self.sort,
            order: self.order,
            at_ms: now_ms,
        });
    }

    /// Empties the list (its subject is gone).
    pub fn clear(&mut self) {
        self.rows.clear();
        self.cursor = Cursor::default();
        self.moved = false;
        self.built = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_window_keeps_the_selection_visible() {
        let mut c = Cursor::default();
        c.move_by(15, 100, 10);
        assert_eq!((c.selected, c.offset), (15, 6));
        c.move_by(-3, 100, 10);
        assert_eq!((c.selected, c.offset), (12, 6));
        c.move_by(-10, 100, 10);
        assert_eq!((c.selected, c.offset), (2, 2));
        assert_eq!(
            Cursor {
                selected: 50,
                offset: 0
            }
            .visible_offset(100, 10),
            41
        );
        assert_eq!(
            Cursor {
                selected: 5,
                offset: 0
            }
            .visible_offset(3, 10),
            0
        );
    }
}
