//! Which labels a row of Recent samples or the series list shows. Long label
//! sets (Kubernetes series carry a dozen) would push what tells the rows apart
//! off the edge, so by default a row shows only the labels whose values differ
//! between the rows on screen of its metric, and `…` stands for the ones left
//! out; with all
//! labels on (a key of the key table) it shows every one.

use std::collections::{HashMap, HashSet};

use super::label_fit::SetRow;

/// A row's label pairs.
type Row<'a> = Vec<(&'a str, &'a str)>;

/// The label holding the metric name, shown whatever the mode.
const NAME: &str = "__name__";

/// Label names whose value differs between some of `rows`, each row a series'
/// label pairs (a label missing from a row differs from any value it has on
/// another). The metric name is left out: it is always shown.
pub fn telling_apart<'a>(rows: &[Vec<(&'a str, &'a str)>]) -> HashSet<&'a str> {
    let mut differ = HashSet::new();
    let Some((first, rest)) = rows.split_first() else {
        return differ;
    };
    // Same as the first row on every row means the same on all of them.
    for row in rest {
        for &(name, value) in row {
            if name != NAME && !first.contains(&(name, value)) {
                differ.insert(name);
            }
        }
        for &(name, _) in first {
            if name != NAME && !row.iter().any(|&(n, _)| n == name) {
                differ.insert(name);
            }
        }
    }
    differ
}

/// Each row's labels as shown: with `all`, every label; else the name and
/// the labels that tell the rows apart, the others marked as left out. Each
/// label says whether it tells its row apart from the rows of the same metric
/// (rows of other metrics differ by their name): a narrow column keeps only
/// those (with `all`, every label). Rows that nothing tells apart (one row, or one series on every row)
/// show every label.
pub fn shown_sets<'a>(rows: &[Vec<(&'a str, &'a str)>], all: bool) -> Vec<SetRow<'a>> {
    let name =
        |labels: &[(&'a str, &'a str)]| labels.iter().find(|(n, _)| *n == NAME).map(|&(_, v)| v);
    let shown = telling_apart(rows);
    let one_series = shown.is_empty() && rows.windows(2).all(|w| name(&w[0]) == name(&w[1]));
    let mut groups: HashMap<Option<&str>, Vec<Row>> = HashMap::new();
    for labels in rows {
        groups.entry(name(labels)).or_default().push(labels.clone());
    }
    let within: HashMap<Option<&str>, HashSet<&str>> = groups
        .iter()
        .map(|(&name, rows)| (name, telling_apart(rows)))
        .collect();
    rows.iter()
        .map(|labels| {
            let kept = |n: &str| all || one_series || n == NAME || shown.contains(n);
            let group = within.get(&name(labels));
            let more = labels.iter().any(|(n, _)| !kept(n));
            let labels: Vec<_> = labels.iter().copied().filter(|(n, _)| kept(n)).collect();
            SetRow {
                told: labels
                    .iter()
                    .map(|(n, _)| all || *n == NAME || group.is_some_and(|g| g.contains(n)))
                    .collect(),
                more,
                labels,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::label_fit::{Form, fit};

    fn rows<'a>(rows: &[&[(&'a str, &'a str)]]) -> Vec<Vec<(&'a str, &'a str)>> {
        rows.iter().map(|r| r.to_vec()).collect()
    }

    #[test]
    fn labels_that_differ_or_are_missing_tell_rows_apart() {
        let r = rows(&[
            &[(NAME, "up"), ("job", "node"), ("pod", "a")],
            &[
                (NAME, "cpu"),
                ("job", "node"),
                ("pod", "b"),
                ("mode", "idle"),
            ],
            &[(NAME, "cpu"), ("job", "node"), ("pod", "a")],
        ]);
        let mut differ: Vec<_> = telling_apart(&r).into_iter().collect();
        differ.sort();
        assert_eq!(differ, ["mode", "pod"]);
        assert!(telling_apart(&r[..1]).is_empty());
        assert!(telling_apart(&[]).is_empty());
    }

    #[test]
    fn rows_show_what_tells_them_apart_and_mark_the_rest() {
        let r = rows(&[
            &[(NAME, "up"), ("job", "node"), ("pod", "a")],
            &[(NAME, "up"), ("job", "node"), ("pod", "b")],
        ]);
        let text = |rows: Vec<SetRow>| fit(&rows, 100, Form::Bare).rows;
        assert_eq!(
            text(shown_sets(&r, false)),
            [r#"up{pod="a", …}"#, r#"up{pod="b", …}"#]
        );
        assert_eq!(
            text(shown_sets(&r, true)),
            [r#"up{job="node", pod="a"}"#, r#"up{job="node", pod="b"}"#]
        );
        // One row: nothing to tell apart, every label.
        assert_eq!(
            text(shown_sets(&r[..1], false)),
            [r#"up{job="node", pod="a"}"#]
        );
        // Rows of other metrics differ by their name: a narrow column keeps
        // only the labels that tell rows of one metric apart.
        let mixed = rows(&[
            &[(NAME, "up"), ("job", "node"), ("pod", "a"), ("x", "1")],
            &[(NAME, "load"), ("job", "api"), ("pod", "a"), ("x", "1")],
            &[(NAME, "up"), ("job", "node"), ("pod", "b"), ("x", "1")],
        ]);
        assert_eq!(
            text(shown_sets(&mixed, false)),
            [
                r#"up{job="node", pod="a", …}"#,
                r#"load{job="api", pod="a", …}"#,
                r#"up{job="node", pod="b", …}"#
            ]
        );
        let narrow = fit(&shown_sets(&mixed, false), 20, Form::Bare).rows;
        assert_eq!(
            narrow,
            [r#"up{pod="a", …}"#, "load{…}", r#"up{pod="b", …}"#]
        );
    }
}
