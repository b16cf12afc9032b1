//! Plain text: an unanchored regex over the series text, `!` inverting it,
//! and its errors.

use super::*;

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
