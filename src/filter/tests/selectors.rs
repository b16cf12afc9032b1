//! Selectors in braces: their operators, names, strings and errors.

use super::*;

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
