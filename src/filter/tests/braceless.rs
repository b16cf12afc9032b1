//! Label matchers typed without braces: read as the selector they look like,
//! or left the regex they were, and the note that says which.

use super::*;

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
