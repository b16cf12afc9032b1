//! Column widths for tables that do not fit their terminal. The key column (the
//! one that tells rows apart: a metric name, the labels that vary) gets width
//! first; the other columns shrink to their minimum, then drop, least useful
//! first, before the key gets less than it needs.

use super::fit;
use crate::format;

/// A column besides the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Width that shows every cell whole (0: nothing to show, dropped).
    pub ideal: u16,
    /// Width it can shrink to (its cells are then shortened or rounded).
    pub min: u16,
    /// Width it can grow to where the key has all it wants (a sparkline
    /// shows more); `ideal` for most columns.
    pub most: u16,
}

impl Column {
    /// A column of `ideal` width that can shrink to `min`.
    pub fn new(ideal: usize, min: usize) -> Self {
        let ideal = u16::try_from(ideal).unwrap_or(u16::MAX);
        Column {
            ideal,
            min: u16::try_from(min).unwrap_or(u16::MAX).min(ideal),
            most: ideal,
        }
    }

    /// The same column, growing up to `most` where room is left.
    pub fn growing(self, most: usize) -> Self {
        Column {
            most: u16::try_from(most).unwrap_or(u16::MAX).max(self.ideal),
            ..self
        }
    }

    /// A column that is shown whole or not at all.
    pub fn fixed(width: usize) -> Self {
        Column::new(width, width)
    }
}

/// Columns that the widest of `header` (its first name, see `widgets::table`)
/// and `cells` takes.
pub fn widest<S: AsRef<str>>(header: &str, cells: impl IntoIterator<Item = S>) -> usize {
    let name = header.split('|').next().unwrap_or(header);
    cells
        .into_iter()
        .map(|c| fit::width(c.as_ref()))
        .fold(fit::width(name), usize::max)
}

/// A column of sample timestamps: whole (`2024-11-19T07:06:40.123Z`) where
/// there is room, else the time of day.
pub struct Timestamps {
    /// Columns the whole form takes.
    whole: usize,
    /// The column's widths.
    pub column: Column,
}

impl Timestamps {
    /// The column for `stamps` (ms since the epoch) under `header`.
    pub fn new(header: &str, stamps: impl Iterator<Item = i64> + Clone) -> Self {
        let whole = widest("", stamps.clone().map(format::timestamp));
        let time_of_day = widest(header, stamps.map(format::time_of_day));
        Timestamps {
            whole,
            column: Column::new(whole.max(time_of_day), time_of_day),
        }
    }

    /// `ms` as it fits the column's `width`.
    pub fn text(&self, ms: i64, width: u16) -> String {
        if usize::from(width) >= self.whole {
            format::timestamp(ms)
        } else {
            format::time_of_day(ms)
        }
    }
}

/// What the key column asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRoom {
    /// Width that shows every row's key whole.
    pub want: usize,
    /// Width that still tells the rows apart (see `fit::distinct_need`).
    pub need: usize,
}

/// Widths for a table `total` columns wide with one space between columns:
/// the key's and each column's (0 when dropped). Columns shrink in the order
/// of `least_useful_first` while the key has less than it wants (up to half
/// the table, or what it needs if more), then drop in that order while it has
/// less than it needs; columns not listed never drop. Room left once the key
/// has all it wants goes to [`Column::growing`] columns; with such columns the
/// key then gets what it wants and the rest stays blank at the end (a name
/// column of 130 blank-padded columns helps nobody); without them the key
/// gets the rest.
pub fn allot(
    total: u16,
    key: KeyRoom,
    columns: &[Column],
    least_useful_first: &[usize],
) -> (u16, Vec<u16>) {
    let total = usize::from(total);
    let mut widths: Vec<usize> = columns.iter().map(|c| usize::from(c.ideal)).collect();
    // Room left for the key: each shown column takes its width and a space.
    let room = |widths: &[usize]| {
        let used: usize = widths.iter().filter(|&&w| w > 0).map(|w| w + 1).sum();
        total.saturating_sub(used)
    };
    let wanted = key.want.min(key.need.max(total / 2));
    let every_column: Vec<usize> = (0..columns.len()).collect();
    for &i in least_useful_first.iter().chain(&every_column) {
        let short = wanted.saturating_sub(room(&widths));
        if short == 0 {
            break;
        }
        if let (Some(w), Some(c)) = (widths.get_mut(i), columns.get(i)) {
            *w -= short.min(w.saturating_sub(usize::from(c.min)));
        }
    }
    for &i in least_useful_first {
        if room(&widths) >= key.need.min(key.want) {
            break;
        }
        if let Some(w) = widths.get_mut(i) {
            *w = 0;
        }
    }
    // A tiny terminal: the columns that may not drop lose their last cells.
    let mut left = total - room(&widths);
    for w in widths.iter_mut().filter(|w| **w > 0) {
        *w = (*w).min(left.saturating_sub(1));
        left = left.saturating_sub(*w + 1);
    }
    let mut key_width = room(&widths);
    let growing = columns.iter().any(|c| c.most > c.ideal);
    if growing {
        for (w, c) in widths.iter_mut().zip(columns) {
            let spare = room_beyond(key_width, key.want);
            if *w == usize::from(c.ideal) && *w > 0 {
                let grown = spare.min(usize::from(c.most) - *w);
                *w += grown;
                key_width -= grown;
            }
        }
        key_width = key_width.min(key.want.max(KEY_FLOOR));
    }
    let narrow = |w: usize| u16::try_from(w).unwrap_or(u16::MAX);
    (narrow(key_width), widths.into_iter().map(narrow).collect())
}

/// Narrowest a key is given where room is left (its header fits).
const KEY_FLOOR: usize = 10;

/// Columns of `room` beyond what the key `wants`.
fn room_beyond(room: usize, wants: usize) -> usize {
    room.saturating_sub(wants)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [Column; 4] = [
        Column {
            ideal: 16,
            min: 8,
            most: 16,
        },
        Column {
            ideal: 20,
            min: 10,
            most: 20,
        },
        Column {
            ideal: 7,
            min: 7,
            most: 7,
        },
        Column {
            ideal: 0,
            min: 0,
            most: 0,
        },
    ];

    #[test]
    fn room_beyond_what_the_key_wants_grows_a_sparkline_and_the_key_is_capped() {
        let key = KeyRoom { want: 30, need: 10 };
        let mut columns = COLUMNS;
        columns[1] = columns[1].growing(60);
        // 200 - 46 = 154: the sparkline grows by 40 to 60, the key gets
        // what it wants (30), the last 84 columns stay blank.
        assert_eq!(
            allot(200, key, &columns, &[2, 1, 0]),
            (30, vec![16, 60, 7, 0])
        );
        // Where the key wants more than is left, the sparkline does not grow.
        let wide = KeyRoom {
            want: 160,
            need: 10,
        };
        assert_eq!(
            allot(200, wide, &columns, &[2, 1, 0]),
            (154, vec![16, 20, 7, 0])
        );
        // Short of room the key comes first, as without growing columns.
        assert_eq!(
            allot(80, KeyRoom { want: 40, need: 20 }, &columns, &[2, 1, 0]),
            (40, vec![16, 14, 7, 0])
        );
        // Without growing columns the key gets the rest.
        assert_eq!(
            allot(200, key, &COLUMNS, &[2, 1, 0]),
            (154, vec![16, 20, 7, 0])
        );
    }

    #[test]
    fn everything_fits() {
        let key = KeyRoom { want: 30, need: 10 };
        assert_eq!(
            allot(100, key, &COLUMNS, &[2, 1, 0]),
            (54, vec![16, 20, 7, 0])
        );
    }

    #[test]
    fn columns_shrink_least_useful_first_for_the_key() {
        let key = KeyRoom { want: 40, need: 20 };
        // 80 - 46 leaves 34: the sparkline-like column gives 6.
        assert_eq!(
            allot(80, key, &COLUMNS, &[2, 1, 0]),
            (40, vec![16, 14, 7, 0])
        );
    }

    #[test]
    fn columns_drop_before_the_key_gets_less_than_it_needs() {
        let key = KeyRoom { want: 60, need: 40 };
        // Shrunk to 8 + 10 + 7 (+3 spaces) leaves 32 < 40: the fixed column drops.
        assert_eq!(
            allot(60, key, &COLUMNS, &[2, 1, 0]),
            (40, vec![8, 10, 0, 0])
        );
        // Unlisted columns never drop.
        assert_eq!(allot(30, key, &COLUMNS, &[2, 1]), (21, vec![8, 0, 0, 0]));
    }

    #[test]
    fn tiny_tables_never_overflow() {
        let key = KeyRoom { want: 60, need: 40 };
        for total in 0..60 {
            let (k, widths) = allot(total, key, &COLUMNS, &[2, 1]);
            let used = usize::from(k)
                + widths
                    .iter()
                    .filter(|&&w| w > 0)
                    .map(|&w| usize::from(w) + 1)
                    .sum::<usize>();
            assert!(used <= usize::from(total), "{total}: {k} {widths:?}");
        }
    }
}
