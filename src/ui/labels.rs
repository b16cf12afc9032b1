//! Which labels a row of Recent samples or the series list shows. Long label
//! sets (Kubernetes series carry a dozen) would push what tells the rows apart
//! off the edge, so by default a row shows only the labels whose values differ
//! between the rows on screen, and `…` stands for the ones left out; with all
//! labels on (a key of the key table) it shows every one.

use std::collections::HashSet;

use crate::text::promql;

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

/// Each row's series text: with `all`, every label; else the labels that
/// tell the rows apart, with `…` for those left out. Rows that nothing tells
/// apart (one row, or one series on every row) show every label.
pub fn rows_text(rows: &[Vec<(&str, &str)>], all: bool) -> Vec<String> {
    let shown = telling_apart(rows);
    rows.iter()
        .map(|labels| {
            if all || shown.is_empty() {
                promql::series(labels.iter().copied())
            } else {
                only(labels, &shown)
            }
        })
        .collect()
}

/// A series' text with its name and the labels in `shown`; `…` stands for the
/// others.
fn only(labels: &[(&str, &str)], shown: &HashSet<&str>) -> String {
    let kept = labels
        .iter()
        .copied()
        .filter(|(n, _)| *n == NAME || shown.contains(n));
    let mut text = promql::series(kept);
    if labels.iter().any(|(n, _)| *n != NAME && !shown.contains(n)) {
        // The text ends with the closing brace, with `{}` for a series with
        // neither name nor label, or with a bare name.
        if text.ends_with("{}") {
            text.truncate(text.len() - 2);
            text.push_str("{…}");
        } else if text.ends_with('}') {
            text.pop();
            text.push_str(", …}");
        } else {
            text.push_str("{…}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            rows_text(&r, false),
            [r#"up{pod="a", …}"#, r#"up{pod="b", …}"#]
        );
        assert_eq!(
            rows_text(&r, true),
            [r#"up{job="node", pod="a"}"#, r#"up{job="node", pod="b"}"#]
        );
        // One row: nothing to tell apart, every label.
        assert_eq!(rows_text(&r[..1], false), [r#"up{job="node", pod="a"}"#]);
    }

    #[test]
    fn the_mark_fits_every_shape_of_series_text() {
        let shown = HashSet::from(["b"]);
        assert_eq!(only(&[(NAME, "up"), ("a", "1")], &shown), "up{…}");
        assert_eq!(only(&[("a", "1")], &shown), "{…}");
        assert_eq!(
            only(&[(NAME, "my.metric"), ("a", "1")], &shown),
            r#"{"my.metric", …}"#
        );
        assert_eq!(
            only(&[(NAME, "up"), ("a", "1"), ("b", "}")], &shown),
            r#"up{b="}", …}"#
        );
        assert_eq!(only(&[(NAME, "up"), ("b", "2")], &shown), r#"up{b="2"}"#);
    }
}
