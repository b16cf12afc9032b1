//! The filter's parsing and matching, selectors and regexes alike.

use super::*;
use crate::test_rng::Rng;
use crate::text::promql;

fn check(filter: &str, labels: &[(&str, &str)]) -> bool {
    let filter = Filter::parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
    filter.matches(labels.iter().copied(), &mut String::new())
}

fn error(filter: &str) -> String {
    match Filter::parse(filter) {
        Ok(f) => panic!("{filter} parsed as {f:?}"),
        Err(e) => e.to_string(),
    }
}

const NODE: &[(&str, &str)] = &[
    ("__name__", "node_cpu_seconds_total"),
    ("cpu", "0"),
    ("instance", "host:9100"),
    ("job", "node"),
];
const UP: &[(&str, &str)] = &[("__name__", "up"), ("job", "api")];

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

#[test]
fn empty_input_matches_everything() {
    for input in ["", "   ", "\t", "!", "  !  ", "{}", " { } "] {
        let filter = Filter::parse(input).unwrap();
        assert!(filter.is_all(), "{input:?}");
        assert_eq!(filter.source(), input);
        assert!(filter.matches(NODE.iter().copied(), &mut String::new()));
        assert!(filter.matches([], &mut String::new()));
    }
    assert!(Filter::all().is_all());
    assert_eq!(Filter::all().source(), "");
    assert!(!Filter::parse("up").unwrap().is_all());
    assert!(!Filter::parse("{job=\"x\"}").unwrap().is_all());
}

#[test]
fn inverted_empty_selector_matches_nothing() {
    let filter = Filter::parse("!{}").unwrap();
    assert!(!filter.is_all());
    assert!(!check("!{}", NODE));
    assert!(!check("!{}", &[]));
}

#[test]
fn equality_operators() {
    assert!(check(r#"{job="node"}"#, NODE));
    assert!(!check(r#"{job="nod"}"#, NODE));
    assert!(!check(r#"{job!="node"}"#, NODE));
    assert!(check(r#"{job!="api"}"#, NODE));
}

#[test]
fn regex_operators_are_fully_anchored() {
    assert!(check(r#"{job=~"no.e"}"#, NODE));
    assert!(!check(r#"{job=~"no"}"#, NODE));
    assert!(!check(r#"{job=~"ode"}"#, NODE));
    assert!(check(r#"{job=~"no|node"}"#, NODE));
    assert!(check(r#"{job!~"no"}"#, NODE));
    assert!(!check(r#"{job!~"n.*"}"#, NODE));
    assert!(check(r#"{__name__=~"node_.*", job="node"}"#, NODE));
    assert!(!check(r#"{__name__=~"node_.*", job="api"}"#, NODE));
    assert!(check(
        r#"http_requests_total{code=~"5..", instance!~"test.*"}"#,
        &[
            ("__name__", "http_requests_total"),
            ("code", "503"),
            ("instance", "prod-1"),
        ]
    ));
    assert!(!check(
        r#"http_requests_total{code=~"5..", instance!~"test.*"}"#,
        &[
            ("__name__", "http_requests_total"),
            ("code", "503"),
            ("instance", "test-1"),
        ]
    ));
}

#[test]
fn anchoring_survives_alternation_and_dot_matches_newline() {
    // Wrapped as ^(?s:…)$, so "a|b" must not become "^a|b$".
    assert!(!check(r#"{job=~"x|nod"}"#, NODE));
    assert!(check(r#"{v=~"a.b"}"#, &[("v", "a\nb")]));
}

#[test]
fn absent_label_is_empty_string() {
    assert!(check(r#"{foo=""}"#, NODE));
    assert!(!check(r#"{foo!=""}"#, NODE));
    assert!(check(r#"{foo=~".*"}"#, NODE));
    assert!(check(r#"{foo=~""}"#, NODE));
    assert!(!check(r#"{foo=~".+"}"#, NODE));
    assert!(check(r#"{foo!~".+"}"#, NODE));
    assert!(!check(r#"{job=""}"#, NODE));
    assert!(check(r#"{job!=""}"#, NODE));
}

#[test]
fn metric_name_before_braces_and_bare_quoted_name() {
    assert!(check(r#"up{job="api"}"#, UP));
    assert!(check(r#"up {}"#, UP));
    assert!(!check(r#"up{}"#, NODE));
    assert!(!check(r#"upp{job="api"}"#, UP));
    assert!(check(r#"{"up"}"#, UP));
    assert!(check(r#"{job="api", "up"}"#, UP));
    assert!(!check(r#"{"down"}"#, UP));
    assert!(check("ns:rule_total{}", &[("__name__", "ns:rule_total")]));
}

#[test]
fn utf8_quoted_names() {
    let labels = &[("__name__", "my.metric"), ("label.name", "x é")];
    assert!(check(r#"{"my.metric", "label.name"="x é"}"#, labels));
    assert!(check(r#"{'label.name'=~"x.*"}"#, labels));
    assert!(check(r#"{`label.name`!="y"}"#, labels));
    assert!(!check(r#"{"my.metric", "label.name"="x"}"#, labels));
    assert!(check(r#"{"my.metric"}"#, labels));
}

#[test]
fn string_quoting_and_escapes() {
    let labels = &[("v", "a\"b\\c\nd\te'f")];
    assert!(check(r#"{v="a\"b\\c\nd\te'f"}"#, labels));
    assert!(check(r#"{v='a"b\\c\nd\te\'f'}"#, labels));
    assert!(check(r#"{v="a\x22b\u005cc\012d\U00000009e'f"}"#, labels));
    assert!(check(r#"{v="\xc3\xa9"}"#, &[("v", "é")]));
    // Backticks are raw: the backslash is a regex escape here.
    assert!(check(r#"{v=~`a\d`}"#, &[("v", "a7")]));
    assert!(check(r#"{v=~"a\\d"}"#, &[("v", "a7")]));
    assert!(!check(r#"{v=`a\n`}"#, &[("v", "a\n")]));
    assert!(check(r#"{v=`a\n`}"#, &[("v", "a\\n")]));
    assert!(check(r#"{v=""}"#, &[("v", "")]));
}

#[test]
fn whitespace_and_trailing_comma() {
    let tight = r#"node_cpu_seconds_total{job="node",cpu="0"}"#;
    let loose = " \t node_cpu_seconds_total \t{ job = \"node\" ,\tcpu=~ \"0\" , } \t";
    assert!(check(tight, NODE));
    assert!(check(loose, NODE));
    assert!(check(r#"{job="node",}"#, NODE));
    assert!(!check(" ! { job = \"node\" , } ", NODE));
}

#[test]
fn label_lookup_takes_the_first_pair_in_any_order() {
    let unsorted = &[
        ("job", "node"),
        ("__name__", "up"),
        ("a", "1"),
        ("job", "x"),
    ];
    assert!(check(r#"up{a="1", job="node"}"#, unsorted));
    assert!(!check(r#"{job="x"}"#, unsorted));
}

#[test]
fn plain_text_is_an_unanchored_regex_over_the_series_text() {
    assert!(check("up", UP));
    assert!(check("up", &[("__name__", "uptime_seconds")]));
    assert!(check("node", NODE));
    assert!(check(r#"job="no"#, NODE));
    assert!(check(r#"cpu="0", instance"#, NODE));
    assert!(check(r#"^up\{job="api"\}$"#, UP));
    assert!(!check("^job", NODE));
    assert!(!check("api", NODE));
    assert!(check("(?i)NODE_CPU", NODE));
    assert!(check(r#"\{"my\.metric""#, &[("__name__", "my.metric")]));
}

#[test]
fn regex_repetition_after_a_name_is_not_a_selector() {
    assert!(check("p{2}", &[("__name__", "app")]));
    assert!(!check("p{2}", UP));
    assert!(check("o{1,}d", NODE));
    assert!(check(" u{ 1 }p", UP));
}

#[test]
fn leading_bang_inverts() {
    assert!(!check("!up", UP));
    assert!(check("!up", NODE));
    assert!(check("! api", NODE));
    assert!(check(r#"!{job="api"}"#, NODE));
    assert!(!check(r#"!{job="node"}"#, NODE));
    assert!(!check(r#"!{job!="node"}"#, UP));
    // Only one "!" is special; the next is regex text.
    assert!(check("!!up", UP));
}

#[test]
fn the_regex_case_reuses_and_overwrites_scratch() {
    // Case-insensitive letters leave no literal to rule the series out first.
    let filter = Filter::parse("(?i)job").unwrap();
    let mut scratch = String::from("job leftover");
    assert!(!filter.matches([("__name__", "up")], &mut scratch));
    assert_eq!(scratch, "up");
    let selector = Filter::parse(r#"{job="x"}"#).unwrap();
    let mut untouched = String::from("kept");
    assert!(selector.matches([("job", "x")], &mut untouched));
    assert_eq!(untouched, "kept");
}

#[test]
fn invalid_selectors_explain_where() {
    let cases = [
        (
            r#"{job="x""#,
            r#"selector: missing closing "}" at position 9"#,
        ),
        (
            r#"{job="x" x}"#,
            r#"selector: expected "," or "}" at position 10"#,
        ),
        (
            r#"{job~"x"}"#,
            r#"selector: expected "=", "!=", "=~" or "!~" after label name "job" at position 5"#,
        ),
        (
            r#"{job!"x"}"#,
            r#"selector: expected "=", "!=", "=~" or "!~" after label name "job" at position 5"#,
        ),
        (
            r#"{job=="x"}"#,
            r#"selector: expected a quoted string after "=" at position 6"#,
        ),
        (
            r#"{job=node}"#,
            r#"selector: expected a quoted string after "=" at position 6"#,
        ),
        (r#"{job="x}"#, "selector: unterminated string at position 6"),
        (r#"{job=`x}"#, "selector: unterminated string at position 6"),
        (r#"{job="x\"#, "selector: unterminated string at position 6"),
        (r#"{,}"#, "selector: expected a label name at position 2"),
        (r#"{="x"}"#, "selector: expected a label name at position 2"),
        (
            r#"{1a="x"}"#,
            "selector: expected a label name at position 2",
        ),
        (
            r#"{a="1",,}"#,
            "selector: expected a label name at position 8",
        ),
        (
            r#"up{}x"#,
            r#"selector: unexpected "x" after "}" at position 5"#,
        ),
        (
            r#"{job="a\d"}"#,
            r#"selector: unknown escape sequence "\d" at position 8"#,
        ),
        (
            r#"{job="\x4"}"#,
            r#"selector: invalid escape sequence "\x" at position 7"#,
        ),
        (
            r#"{job="\ud800"}"#,
            r#"selector: invalid escape sequence "\u" at position 7"#,
        ),
        (
            r#"{job="\xff"}"#,
            "selector: string is not valid UTF-8 at position 6",
        ),
        (
            r#"{job=~"(a"}"#,
            r#"selector: invalid regex for label "job": unclosed group at position 7"#,
        ),
        (
            r#"{job!~"a)|(b"}"#,
            r#"selector: invalid regex for label "job": unopened group at position 7"#,
        ),
        (
            r#"{"é"="x", job~"x"}"#,
            r#"selector: expected "=", "!=", "=~" or "!~" after label name "job" at position 14"#,
        ),
    ];
    for (input, want) in cases {
        assert_eq!(error(input), want, "{input}");
    }
}

#[test]
fn invalid_plain_regex_explains_where() {
    assert_eq!(error("(abc"), "regex: unclosed group at position 1");
    assert_eq!(error("  ! é(abc"), "regex: unclosed group at position 6");
    assert_eq!(error("a)"), "regex: unopened group at position 2");
    assert_eq!(
        error("[z-a]"),
        "regex: invalid character class range, the start must be <= the end at position 2"
    );
    assert_eq!(
        error("*a"),
        "regex: repetition operator missing expression at position 1"
    );
    // Only legacy metric names can precede a selector's braces.
    assert_eq!(
        error(r#" é{job="x"}"#),
        "regex: repetition quantifier expects a valid decimal at position 4"
    );
    assert!(
        error("a{99999}{99999}").starts_with("regex: "),
        "size limit"
    );
    assert!(!error("a{99999}{99999}").contains('\n'));
    // Positions count characters through line breaks too.
    assert_eq!(error("a\n(b"), "regex: unclosed group at position 3");
}

#[test]
fn label_matchers_without_braces_are_the_selector_they_look_like() {
    let series = &[("__name__", "m"), ("series_id", "12"), ("job", "api")];
    let cronjob = &[("__name__", "m"), ("cronjob", "api")];
    // As a regex none of these could match: the series text has no "=~".
    assert!(check(r#"series_id=~"1.""#, series));
    assert!(!check(r#"series_id=~"2.""#, series));
    assert!(check(r#"series_id!~"2.""#, series));
    assert!(check(r#"job!="web""#, series));
    // "=" is exact, as in the selector: a label whose name ends the same is not it.
    assert!(check(r#"job="api""#, series));
    assert!(!check(r#"job="api""#, cronjob));
    assert!(!check(r#"job="ap""#, series));
    // Any spacing, several matchers, a trailing comma, quoted names, inverted.
    assert!(check(r#"  job = "api" ,series_id=~`1\d`, "#, series));
    assert!(check(r#"job="api",series_id="12""#, series));
    assert!(!check(r#"job="api", series_id="13""#, series));
    assert!(check(r#""series_id"=~"1.""#, series));
    assert!(!check(r#"!job="api""#, series));
    assert!(check(r#"! job="web""#, series));
    // Pseudo-labels, as in braces.
    assert!(
        Filter::parse(r#"__tenant__="a""#)
            .unwrap()
            .uses_pseudo_labels()
    );
}

#[test]
fn text_that_is_not_only_label_matchers_stays_a_regex() {
    for text in [
        r#"job="no"#,
        r#"cpu="0", instance"#,
        r#"job="node"|job="api""#,
        r#"job="node".*"#,
        r#""up""#,
        r#"up job="node""#,
        "job=node",
        "up",
    ] {
        let filter = Filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(matches!(filter.kind, Kind::Text(_)), "{text}: {filter:?}");
    }
    assert!(check(r#"job="node"|job="api""#, NODE));
}

#[test]
fn an_invalid_regex_in_braceless_matchers_is_the_selectors_error() {
    assert_eq!(
        error(r#"series_id=~"(1""#),
        r#"selector: invalid regex for label "series_id": unclosed group at position 12"#
    );
    assert_eq!(
        error(r#" ! a="1", b!~"x)""#),
        r#"selector: invalid regex for label "b": unopened group at position 14"#
    );
}

#[test]
fn exact_matchers_with_regex_characters_stay_the_regex_they_were() {
    // `code="5.."` has always found 5xx codes; a selector would find none.
    fn code(c: &str) -> [(&str, &str); 2] {
        [("__name__", "http_requests_total"), ("code", c)]
    }
    assert!(check(r#"code="5..""#, &code("503")));
    assert!(!check(r#"code="5..""#, &code("404")));
    assert!(check(r#"pod="pod-[3-5]""#, &[("pod", "pod-4")]));
    // With an operator no series text has, it is the selector, "=" exact.
    assert!(!check(r#"code="5..", job!="x""#, &code("503")));
    assert!(check(r#"code="5..", job!="x""#, &code("5..")));
}

#[test]
fn the_note_says_how_braceless_matchers_are_read_and_suggests_selectors() {
    let note = |text: &str| Filter::parse(text).unwrap().note().cloned();
    let read_as = |selector: &str, exact_like_regex: bool| {
        Some(Note::ReadAs {
            selector: selector.into(),
            exact_like_regex,
        })
    };
    assert_eq!(
        note(r#"series_id=~"1.""#),
        read_as(r#"{series_id=~"1."}"#, false)
    );
    assert_eq!(note(r#" !job="api" "#), read_as(r#"!{job="api"}"#, false));
    assert_eq!(
        note(r#"job!="a.*", x="1""#),
        read_as(r#"{job!="a.*", x="1"}"#, true)
    );
    assert_eq!(
        note(r#"job!="a.*""#).unwrap().long(),
        r#"read as {job!="a.*"} ("=" is exact; "=~" matches a regex)"#
    );
    assert_eq!(note(r#"job="api""#).unwrap().short(), r#"as {job="api"}"#);
    // Exact matchers with regex characters: a regex, and the selector that finds the same.
    assert_eq!(
        note(r#"code="5..", "my.label"="x""#),
        Some(Note::Regex(r#"{code=~"5..", "my.label"=~"x"}"#.into()))
    );
    assert_eq!(
        note(r#"!code="5..""#).unwrap().long(),
        r#"a regex, as !{code=~"5.."}"#
    );
    // A regex that is matchers without their quotes: the selector meant.
    assert_eq!(
        note("job=api"),
        Some(Note::DidYouMean(r#"{job="api"}"#.into()))
    );
    assert_eq!(
        note(r"!series_id=~1\d, code != 200").unwrap().long(),
        r#"did you mean !{series_id=~"1\\d", code!="200"}?"#
    );
    // What reads as it looks has no note.
    for text in [
        "",
        "up",
        r#"{job="api"}"#,
        r#"up{job="api"}"#,
        r#"job="ap"#,
        "job=",
        "job=api,",
        "job=a b",
        "=api",
        r#"job="a"|b"#,
    ] {
        assert_eq!(note(text), None, "{text}");
    }
    // The suggestion is never an invalid selector (a valid regex across items).
    assert_eq!(note("a=~(, b=~)"), None);
    assert_eq!(note(r#"a="(", b=")""#), None);
}
