//! A pass over many series answers as matching each series on its text does.

use super::*;
use crate::test_rng::Rng;
use crate::text::promql;

#[test]
fn a_pass_agrees_with_matching_each_series_on_its_text() {
    // Patterns across pieces, anchored at either end, over quoted UTF-8 names,
    // with a Unicode word boundary (the lazy DFA gives up on non-ASCII bytes
    // there, and the pass searches the text), inverted, and a selector.
    let patterns = [
        "[0-9]{3}",
        r#"job="a.*", x"#,
        "^up",
        r#"^\{"#,
        r#"b"}$"#,
        r"(?i)ZÜRICH",
        r"\bnode\b",
        r#"\\n|\\""#,
        "!api",
        "",
        r#"{job=~"a.*"}"#,
        "not-there",
    ];
    let values = [
        "a", "api", "node", "zürich", "12345", "x\ny", "q\"", "", "b",
    ];
    let names = ["__name__", "job", "cpu", "my.label", "x"];
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut next = |len: usize| rng.index(len);
    let series: Vec<Vec<(&str, &str)>> = (0..3000)
        .map(|_| {
            (0..next(5))
                .map(|_| (names[next(names.len())], values[next(values.len())]))
                .collect()
        })
        .collect();
    // Interned ids as keys: equal pairs, equal keys.
    let mut ids = std::collections::HashMap::new();
    let key = |pair: (&str, &str), ids: &mut std::collections::HashMap<(String, String), u64>| {
        let n = ids.len() as u64;
        *ids.entry((pair.0.to_owned(), pair.1.to_owned()))
            .or_insert(n)
    };
    let keyed: Vec<Vec<((&str, &str), u64)>> = series
        .iter()
        .map(|labels| labels.iter().map(|&p| (p, key(p, &mut ids))).collect())
        .collect();
    for pattern in patterns {
        let filter = Filter::parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        let mut pass = filter.pass();
        // Twice over, so the second round answers from what the first remembered.
        for round in 0..2 {
            for (labels, items) in series.iter().zip(&keyed) {
                let expected = filter.matches(labels.iter().copied(), &mut String::new());
                let got = pass.matches(items.iter().copied(), |(p, _)| p, |(_, k)| k);
                assert_eq!(
                    got,
                    expected,
                    "{pattern} on {} (round {round})",
                    promql::series(labels.iter().copied())
                );
            }
        }
    }
}
