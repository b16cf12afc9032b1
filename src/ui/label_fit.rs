//! Series texts fitted to a key column too narrow for them whole, so that rows
//! of different series still read differently. The whole text
//! (`name{code="200", handler="/api", …}`) is kept where it fits; else the
//! label names go, the values inline (`name{200, /api, …}`) or in sub-columns
//! whose header names the labels; where that is still too wide each part is
//! cut by itself, keeping what tells it apart from the same part of the other
//! rows (metric names before label values, the widest first), never the set
//! as a whole.

use std::collections::{HashMap, HashSet};

use super::columns::KeyRoom;
use super::fit::{self, Names};
use crate::text::promql::{self, SeriesPiece};

/// Columns a metric name keeps (when it has them) however narrow the column.
const NAME_FLOOR: usize = 14;

/// One row's series as the key column shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetRow<'a> {
    /// The labels shown, in order (`__name__`, if among them, as the name).
    pub labels: Vec<(&'a str, &'a str)>,
    /// Whether labels were left out (shown as `…`).
    pub more: bool,
    /// Per label: whether it tells the row apart from the rows of its metric
    /// (a narrow column keeps only those).
    pub told: Vec<bool>,
}

impl<'a> SetRow<'a> {
    /// The row with only the labels that tell it apart.
    fn reduced(&self) -> SetRow<'a> {
        let kept: Vec<_> = self
            .labels
            .iter()
            .zip(&self.told)
            .filter(|(_, told)| **told)
            .map(|(l, _)| *l)
            .collect();
        SetRow {
            more: self.more || kept.len() < self.labels.len(),
            told: vec![true; kept.len()],
            labels: kept,
        }
    }
}

/// How a series is written: whole, or shorter for a narrow column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `name{code="200", …}`; as the shorter form, its parts cut.
    Named,
    /// `name{200, …}`: the label names left out, the parts cut.
    Bare,
    /// Values padded into sub-columns, the label names above them.
    Columns,
}

/// The fitted rows, and for [`Form::Columns`] the header naming the labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fitted {
    pub rows: Vec<String>,
    pub header: Option<String>,
}

/// Percent of a table's width that the key may need before the columns that
/// can drop are kept (so that one long label value cannot take every column).
const NEED_SHARE: usize = 75;

/// What the key column of a table `total` columns wide asks for: every row
/// whole, and every part whole in the `shorter` form (what tells the rows
/// apart gets width before the columns that can drop), up to [`NEED_SHARE`]
/// of the table.
pub fn room(rows: &[SetRow], shorter: Form, total: u16) -> KeyRoom {
    let named = Layout::new(rows, Form::Named);
    let want = named.width_at(&named.ideal);
    let reduced: Vec<SetRow> = rows.iter().map(SetRow::reduced).collect();
    let layout = Layout::new(&reduced, shorter);
    let need = layout.width_at(&layout.ideal);
    KeyRoom {
        want,
        need: need.min(want).min(usize::from(total) * NEED_SHARE / 100),
    }
}

/// The rows in at most `width` columns: whole where they fit; else with only
/// the labels that tell each row apart from the rows of its metric, whole or
/// with only metric names and values that tell no row apart cut (down to
/// their floor);
/// else in the `shorter` form, its parts cut where needed (cut at the end
/// where even their floors do not fit).
pub fn fit(rows: &[SetRow], width: usize, shorter: Form) -> Fitted {
    let named = Layout::new(rows, Form::Named);
    if named.width_at(&named.ideal) <= width {
        return named.render(&named.ideal, width);
    }
    let rows: Vec<SetRow> = rows.iter().map(SetRow::reduced).collect();
    let named = Layout::new(&rows, Form::Named);
    if let Some(budgets) = named.solve(width, false) {
        return named.render(&budgets, width);
    }
    let layout = Layout::new(&rows, shorter);
    let budgets = layout.solve(width, true).unwrap_or_else(|| layout.floors());
    layout.render(&budgets, width)
}

/// A piece of a row: fixed text, or the part of one kind (the metric name, a
/// label's value) that is cut to that kind's budget.
#[derive(Debug, Clone, Copy)]
enum Piece {
    Fixed(&'static str),
    /// Owned text that does not shrink (label names).
    Text(usize),
    /// Kind, and which of its texts (`None`: blank, in a sub-column).
    Part(usize, Option<usize>),
}

/// The texts of one kind of part.
struct Kind {
    /// Whether this is the metric name.
    is_name: bool,
    /// The label name (sub-column header).
    title: String,
    /// Its distinct texts.
    texts: Vec<String>,
}

struct Layout {
    form: Form,
    kinds: Vec<Kind>,
    /// Label-name texts the rows use.
    words: Vec<String>,
    rows: Vec<Vec<Piece>>,
    /// What shrinks as one, each with its kind: a sub-column (a kind), or
    /// inline one text of a kind (so that a long name cuts only itself).
    units: Vec<usize>,
    /// Per kind and text: its unit.
    unit_of: Vec<Vec<usize>>,
    /// Per unit: the width that shows it whole.
    ideal: Vec<usize>,
}

/// Label values written bare where that cannot be misread.
fn bare(value: &str) -> String {
    let mut quoted = String::new();
    promql::write_quoted(&mut quoted, value);
    let inner = &quoted[1..quoted.len() - 1];
    if inner.is_empty() || inner.contains([' ', ',', '{', '}', '"', '=']) {
        quoted
    } else {
        inner.to_owned()
    }
}

impl Layout {
    fn new(rows: &[SetRow], form: Form) -> Self {
        let mut layout = Layout {
            form,
            kinds: Vec::new(),
            words: Vec::new(),
            rows: Vec::new(),
            units: Vec::new(),
            unit_of: Vec::new(),
            ideal: Vec::new(),
        };
        let mut kinds: HashMap<Option<String>, usize> = HashMap::new();
        let mut texts: Vec<HashMap<String, usize>> = Vec::new();
        let mut part = |layout: &mut Layout, kind: Option<&str>, text: String| {
            let k = *kinds.entry(kind.map(str::to_owned)).or_insert_with(|| {
                layout.kinds.push(Kind {
                    is_name: kind.is_none(),
                    title: kind.map(fit_title).unwrap_or_default(),
                    texts: Vec::new(),
                });
                texts.push(HashMap::new());
                layout.kinds.len() - 1
            });
            let texts_k = &mut texts[k];
            let i = *texts_k.entry(text.clone()).or_insert_with(|| {
                layout.kinds[k].texts.push(text);
                layout.kinds[k].texts.len() - 1
            });
            Piece::Part(k, Some(i))
        };
        for row in rows {
            let mut pieces = Vec::new();
            if form == Form::Columns {
                for &(name, value) in &row.labels {
                    pieces.push(part(&mut layout, Some(name), bare(value)));
                }
            } else {
                let pairs = row.labels.iter().copied();
                promql::series_pieces(
                    pairs,
                    |p| p,
                    |piece, _| match piece {
                        SeriesPiece::Name(n) => {
                            let mut text = String::new();
                            piece.write(&mut text);
                            if let Some(quoted) = text.strip_prefix('{') {
                                pieces.push(Piece::Fixed("{"));
                                pieces.push(part(&mut layout, None, quoted.to_owned()));
                            } else {
                                pieces.push(part(&mut layout, None, n.to_owned()));
                            }
                        }
                        SeriesPiece::Label { open, name, value } => {
                            pieces.push(Piece::Fixed(if open { ", " } else { "{" }));
                            if form == Form::Named {
                                let mut written = String::new();
                                let nameless = SeriesPiece::Label {
                                    open: false,
                                    name,
                                    value: "",
                                };
                                nameless.write(&mut written);
                                // `{name=""` → `name="`
                                let word = written[1..written.len() - 1].to_owned();
                                layout.words.push(word);
                                pieces.push(Piece::Text(layout.words.len() - 1));
                                let mut quoted = String::new();
                                promql::write_quoted(&mut quoted, value);
                                let inner = quoted[1..quoted.len() - 1].to_owned();
                                pieces.push(part(&mut layout, Some(name), inner));
                                pieces.push(Piece::Fixed("\""));
                            } else {
                                pieces.push(part(&mut layout, Some(name), bare(value)));
                            }
                        }
                        SeriesPiece::End { open, named } => {
                            pieces.push(Piece::Fixed(match (row.more, open, named) {
                                (true, true, _) => ", …}",
                                (true, false, _) => "{…}",
                                (false, true, _) => "}",
                                (false, false, false) => "{}",
                                (false, false, true) => "",
                            }))
                        }
                    },
                );
            }
            layout.rows.push(pieces);
        }
        if form == Form::Columns {
            // Every row has every sub-column, blank where it lacks the label.
            let count = layout.kinds.len();
            for pieces in &mut layout.rows {
                let mut cells: Vec<Piece> = (0..count).map(|k| Piece::Part(k, None)).collect();
                for &p in pieces.iter() {
                    if let Piece::Part(k, Some(i)) = p {
                        cells[k] = Piece::Part(k, Some(i));
                    }
                }
                *pieces = cells;
            }
        }
        for (k, kind) in layout.kinds.iter().enumerate() {
            let widest = kind.texts.iter().map(|t| fit::width(t)).max();
            if form == Form::Columns {
                layout
                    .unit_of
                    .push(vec![layout.units.len(); kind.texts.len()]);
                layout.units.push(k);
                let title = fit::width(&kind.title);
                layout.ideal.push(widest.unwrap_or(0).max(title));
            } else {
                let first = layout.units.len();
                layout
                    .unit_of
                    .push((first..first + kind.texts.len()).collect());
                layout
                    .units
                    .extend(std::iter::repeat_n(k, kind.texts.len()));
                layout
                    .ideal
                    .extend(kind.texts.iter().map(|t| fit::width(t)));
            }
        }
        layout
    }

    /// The unit of a part (a blank sub-column cell: its column's).
    fn unit(&self, kind: usize, text: Option<usize>) -> usize {
        match text {
            Some(i) => self.unit_of[kind][i],
            None => self.unit_of[kind].first().copied().unwrap_or(kind),
        }
    }

    fn names(&self) -> Vec<Names<'_>> {
        self.kinds
            .iter()
            .map(|k| Names::new(k.texts.iter().map(String::as_str).collect()))
            .collect()
    }

    /// Per unit: the narrowest budget that keeps the texts of its kind apart
    /// (at one width), and readable.
    fn floors(&self) -> Vec<usize> {
        let names = self.names();
        let kind_floors: Vec<usize> = self
            .kinds
            .iter()
            .zip(&names)
            .map(|(kind, names)| {
                let widest = kind.texts.iter().map(|t| fit::width(t)).max();
                let widest = widest.unwrap_or(0);
                let apart = (1..=widest)
                    .find(|&w| {
                        let mut seen = HashSet::new();
                        (0..kind.texts.len()).all(|i| seen.insert(names.shown(i, narrow(w))))
                    })
                    .unwrap_or(widest);
                let readable = if kind.is_name { NAME_FLOOR } else { 4 };
                let floor = apart.max(readable);
                if self.form == Form::Columns {
                    floor.max(fit::width(&kind.title).min(4))
                } else {
                    floor
                }
            })
            .collect();
        self.units
            .iter()
            .zip(&self.ideal)
            .map(|(&k, &ideal)| kind_floors[k].min(ideal))
            .collect()
    }

    fn row_width(&self, pieces: &[Piece], budgets: &[usize]) -> usize {
        let separators = if self.form == Form::Columns {
            pieces.len().saturating_sub(1)
        } else {
            0
        };
        separators
            + pieces
                .iter()
                .map(|&p| match p {
                    Piece::Fixed(s) => fit::width(s),
                    Piece::Text(i) => fit::width(&self.words[i]),
                    // Sub-columns are padded to their budget.
                    Piece::Part(k, text) if self.form == Form::Columns => {
                        budgets[self.unit(k, text)]
                    }
                    Piece::Part(k, None) => budgets[self.unit(k, None)],
                    Piece::Part(k, Some(i)) => {
                        fit::width(&self.kinds[k].texts[i]).min(budgets[self.unit(k, Some(i))])
                    }
                })
                .sum::<usize>()
    }

    /// The widest row with `budgets`.
    fn width_at(&self, budgets: &[usize]) -> usize {
        self.rows
            .iter()
            .map(|r| self.row_width(r, budgets))
            .max()
            .unwrap_or(0)
    }

    /// Whether a part is the value of a label with more than one value on the
    /// rows (so it tells them apart). Metric names, and values the same on
    /// every row, shrink first.
    fn tells_apart(&self, unit: usize) -> bool {
        let kind = &self.kinds[self.units[unit]];
        !kind.is_name && kind.texts.len() > 1
    }

    /// Budgets that fit every row in `width`: the parts of a row too wide
    /// shrink, the widest first, each down to its floor: metric names and
    /// values that tell no row apart, then (with `values`) the others; `None`
    /// if that does not fit.
    fn solve(&self, width: usize, values: bool) -> Option<Vec<usize>> {
        let floors = self.floors();
        let mut budgets = self.ideal.clone();
        loop {
            let mut over = vec![false; budgets.len()];
            let mut any = false;
            for r in &self.rows {
                if self.row_width(r, &budgets) > width {
                    any = true;
                    for p in r {
                        if let Piece::Part(k, text) = *p {
                            over[self.unit(k, text)] = true;
                        }
                    }
                }
            }
            if !any {
                return Some(budgets);
            }
            let shrinkable = |u: &usize| over[*u] && budgets[*u] > floors[*u];
            let pick = |telling: bool| {
                (0..budgets.len())
                    .filter(|&u| self.tells_apart(u) == telling)
                    .filter(shrinkable)
                    .max_by_key(|&u| (budgets[u], std::cmp::Reverse(u)))
            };
            let widest = pick(false).or_else(|| pick(true).filter(|_| values))?;
            budgets[widest] -= 1;
        }
    }

    fn render(&self, budgets: &[usize], width: usize) -> Fitted {
        let names = self.names();
        let rows = self
            .rows
            .iter()
            .map(|pieces| {
                let mut out = String::new();
                for (n, &p) in pieces.iter().enumerate() {
                    match p {
                        Piece::Fixed(s) => out.push_str(s),
                        Piece::Text(i) => out.push_str(&self.words[i]),
                        Piece::Part(k, text) => {
                            let budget = budgets[self.unit(k, text)];
                            let shown =
                                text.map_or(String::new(), |i| names[k].shown(i, narrow(budget)));
                            out.push_str(&shown);
                            if self.form == Form::Columns && n + 1 < pieces.len() {
                                let pad = budget.saturating_sub(fit::width(&shown));
                                out.extend(std::iter::repeat_n(' ', pad + 1));
                            }
                        }
                    }
                }
                fit::end(out.trim_end(), width).into_owned()
            })
            .collect();
        let header = (self.form == Form::Columns).then(|| {
            let titles: Vec<String> = self
                .units
                .iter()
                .zip(budgets)
                .map(|(&k, &b)| format!("{:b$}", fit::end(&self.kinds[k].title, b)))
                .collect();
            fit::end(titles.join(" ").trim_end(), width).into_owned()
        });
        Fitted { rows, header }
    }
}

/// A label name as a sub-column header (escaped; `|` separates a header's
/// alternatives in `widgets::table`).
fn fit_title(name: &str) -> String {
    crate::text::escape::escaped(name).replace('|', "¦")
}

fn narrow(w: usize) -> u16 {
    u16::try_from(w).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests;
