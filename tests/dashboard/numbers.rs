//! Reading numbers back off a rendered screen: the cells of a table's column
//! (found by its header), and whether a shown number stands for a value (its
//! exact text, or its rounding to the digits shown).

use promscope::format;
use ratatui::buffer::Buffer;

/// Every name a column of the metrics, series and samples tables may show.
pub const HEADERS: &[&str] = &[
    "METRIC",
    "SERIES",
    "SAMPLES/S",
    "LAST 2 MIN",
    "TYPE",
    "LAST",
    "LABELS",
    "VALUE",
    "COUNT",
    "TIMESTAMP",
    "LAG",
    "PER S",
    "/S",
    "RECENT VALUES",
    "RECENT",
    "FLAGS",
    "INTERVAL",
    "ARRIVED",
    "SAMPLE TIME",
];

/// The text of each row of `screen`, one string per cell (wide characters
/// take two cells, the second empty), so that cell `x` of row `y` is `rows[y][x]`.
fn cells(screen: &Buffer) -> Vec<Vec<String>> {
    let area = screen.area;
    (area.top()..area.bottom())
        .map(|y| {
            (area.left()..area.right())
                .map(|x| screen[(x, y)].symbol().to_owned())
                .collect()
        })
        .collect()
}

/// A table found on screen: the row of its header and where each column starts.
pub struct Table {
    rows: Vec<Vec<String>>,
    header_row: usize,
    /// (header, first cell) of each column, left to right.
    columns: Vec<(String, usize)>,
}

impl Table {
    /// The table whose header row holds every one of `required`, its columns
    /// named by `known` (every header the table may show, shorter forms too).
    pub fn find(screen: &Buffer, known: &[&str], required: &[&str]) -> Option<Table> {
        let rows = cells(screen);
        let header_row = rows.iter().position(|row| {
            let text = row.concat();
            required.iter().all(|h| text.contains(h))
        })?;
        let text = rows[header_row].concat();
        assert!(text.is_ascii(), "header cells are bytes: {text}");
        let mut columns = Vec::new();
        let mut at = 0;
        while let Some(skip) = text[at..].find(|c| c != ' ') {
            at += skip;
            let rest = &text[at..];
            // The longest known name here that ends at a space, else one word.
            let name = known
                .iter()
                .filter(|h| {
                    rest.starts_with(**h) && rest[h.len()..].chars().next().is_none_or(|c| c == ' ')
                })
                .max_by_key(|h| h.len())
                .map_or_else(|| rest.split(' ').next().unwrap_or(rest), |h| *h);
            columns.push((name.to_owned(), at));
            at += name.len();
        }
        Some(Table {
            rows,
            header_row,
            columns,
        })
    }

    /// Whether the column is shown.
    pub fn has(&self, header: &str) -> bool {
        self.columns.iter().any(|(h, _)| h == header)
    }

    /// The trimmed text of `header`'s column in each row below the header, up
    /// to the first blank row.
    /// The text of each row left of column `header` (a key column whose
    /// header is made of label names).
    pub fn before(&self, header: &str) -> Vec<String> {
        let Some(&(_, end)) = self.columns.iter().find(|(h, _)| h == header) else {
            return Vec::new();
        };
        self.rows[self.header_row + 1..]
            .iter()
            .take_while(|row| !row.concat().trim().is_empty())
            .map(|row| row[..end.min(row.len())].concat().trim().to_owned())
            .collect()
    }

    pub fn column(&self, header: &str) -> Vec<String> {
        let Some(i) = self.columns.iter().position(|(h, _)| h == header) else {
            return Vec::new();
        };
        let start = self.columns[i].1;
        let end = self.columns.get(i + 1).map_or(usize::MAX, |c| c.1);
        self.rows[self.header_row + 1..]
            .iter()
            .take_while(|row| !row.concat().trim().is_empty())
            .map(|row| {
                row[start.min(row.len())..end.min(row.len())]
                    .concat()
                    .trim()
                    .to_owned()
            })
            .collect()
    }
}

/// Whether `shown` stands for `v`: its exact text (or one that parses to the
/// same f64), `~` and `v` rounded to the significant digits shown, or a count
/// with an SI suffix (`3.8k`) within half a unit of its last digit.
pub fn stands_for(shown: &str, v: f64) -> bool {
    let shown = shown.trim();
    if shown == format::value(v)
        || shown == "StaleNaN (stale marker)" && format::value(v) == "StaleNaN"
    {
        return true;
    }
    if let Some(rounded) = shown.strip_prefix('~') {
        let Ok(r) = rounded.parse::<f64>() else {
            return false;
        };
        return (1..=17)
            .any(|digits| format!("{v:.prec$e}", prec = digits - 1).parse::<f64>() == Ok(r));
    }
    if let Ok(exact) = shown.parse::<f64>() {
        return exact == v || within_last_digit(shown, 1.0, v);
    }
    let (number, scale) = match shown.char_indices().last() {
        Some((i, 'k')) => (&shown[..i], 1e3),
        Some((i, 'M')) => (&shown[..i], 1e6),
        Some((i, 'G')) => (&shown[..i], 1e9),
        _ => return false,
    };
    within_last_digit(number, scale, v)
}

/// Whether `number` × `scale` is within half a unit of `number`'s last digit of `v`.
fn within_last_digit(number: &str, scale: f64, v: f64) -> bool {
    let Ok(n) = number.parse::<f64>() else {
        return false;
    };
    let decimals = number.split_once('.').map_or(0, |(_, d)| d.len());
    let half_unit = 0.5 * 10f64.powi(-(decimals as i32)) * scale;
    (n * scale - v).abs() <= half_unit * (1.0 + 1e-9)
}
