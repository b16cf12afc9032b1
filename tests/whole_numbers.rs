//! No number on any screen is cut at the edge of its room: every view at
//! 80×24, 120×40 and 200×50 is compared, line by line, with the same view on
//! a terminal wide enough for everything. A number shown whole (not marked
//! `~` as rounded to fit) must read the same on the wide screen's line; one
//! cut at the edge (`(3` for `(30s)`, `1` for `12 distinct`) does not.

mod dashboard;

use dashboard::hostile::hostile;
use dashboard::{apply, draw, every_view};
use promscope::app::App;
use promscope::store::Store;

/// Wide enough for every line of every view.
const WIDE: u16 = 400;

/// The words of `line` that are numbers shown whole: they start with a digit
/// (after a sign), and are neither rounded (`~`) nor shortened (`…`). A `+`
/// is left out (`+0.9/s` where the wide screen says `0.9/s new`).
fn whole_numbers(line: &str) -> Vec<&str> {
    let word_char = |c: char| c.is_alphanumeric() || "._:%/+-~≈…'".contains(c);
    line.split(|c: char| !word_char(c))
        .filter(|w| {
            let digits = w.trim_start_matches(['+', '-', '≈']);
            digits.starts_with(|c: char| c.is_ascii_digit()) && !w.contains('…')
        })
        .map(|w| w.trim_start_matches('+'))
        .collect()
}

/// Box-drawing characters: they part a line into the titles and cells between them.
const BOX: &[char] = &['─', '│', '┌', '┐', '└', '┘', '├', '┤'];

/// Columns of a piece's start that find its line on the wide screen.
const LEAD: usize = 16;

/// Each number shown whole in a piece of a line of `narrow` (text between box
/// lines: a title, a table row, a paragraph's line) that the line of `wide`
/// starting the same way does not show as a word. Pieces whose start the wide
/// screen does not show (timestamps drawn shorter, text wrapped elsewhere)
/// are left to the checks of their own.
fn cut_numbers(narrow: &str, wide: &str) -> Vec<String> {
    let wide: Vec<&str> = wide.lines().collect();
    let mut cut = Vec::new();
    for (row, line) in narrow.lines().enumerate() {
        for piece in line.split(BOX) {
            let numbers = whole_numbers(piece);
            let lead: String = piece.trim().chars().take(LEAD).collect();
            if numbers.is_empty() || lead.is_empty() {
                continue;
            }
            // The lines that start the piece the same way (a rule fired more
            // than once shows on several).
            let same: Vec<Vec<&str>> = wide
                .iter()
                .filter(|w| w.contains(&lead))
                .map(|w| whole_numbers(w))
                .collect();
            if same.is_empty() {
                continue;
            }
            for n in numbers {
                // A count of what did not fit (`… +3 more lines`), which the wide screen shows.
                if piece.contains(&format!("+{n} more ")) {
                    continue;
                }
                let time_of_day = n.len() == 12 && n.as_bytes()[2] == b':';
                let kept = same.iter().any(|words| {
                    words.contains(&n) || time_of_day && words.iter().any(|w| w.contains(n))
                });
                if !kept {
                    cut.push(format!("row {row}: {n:?} in {piece:?}"));
                }
            }
        }
    }
    cut
}

/// The screen drawn at `width`×`height`, a line of text per row.
fn lines(app: &App, store: &Store, width: u16, height: u16) -> String {
    let buffer = draw(app, store, width, height);
    let area = buffer.area;
    let mut text = String::new();
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            text.push_str(buffer[(x, y)].symbol());
        }
        text.push('\n');
    }
    text
}

#[test]
fn no_view_cuts_a_number_at_any_size() {
    let mut found = Vec::new();
    for (view, actions) in every_view() {
        for (width, height) in [(80, 24), (120, 40), (200, 50)] {
            let (mut app, mut store) = hostile();
            apply(&mut app, &mut store, &actions);
            let narrow = lines(&app, &store, width, height);
            let wide = lines(&app, &store, WIDE, height);
            for cut in cut_numbers(&narrow, &wide) {
                found.push(format!("{view} {width}x{height} {cut}\n{narrow}"));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_checker_finds_a_cut_number() {
    let wide = "\" Cardinality · 27 active (5m) · 0.03/s gone (30s) · sorted \"";
    assert!(cut_numbers(wide, wide).is_empty());
    let cut = "\" Cardinality · 27 active (5m) · 0.03/s gone (3\"";
    assert_eq!(
        cut_numbers(cut, wide).len(),
        1,
        "{:?}",
        cut_numbers(cut, wide)
    );
    // Rounded to fit, or a name shortened: not cut.
    assert!(cut_numbers("\" ~1.2e3 12…9 \"", "\" 1234.5678 1234567889 \"").is_empty());
    // A count of the lines that did not fit, which the wide screen shows instead.
    let wide = "\" problems out-of-order 2 \"";
    assert!(cut_numbers("\" problems out-of-o… +1 more lines \"", wide).is_empty());
    assert_eq!(cut_numbers("\" problems out-of-order +1 \"", wide).len(), 1);
}
