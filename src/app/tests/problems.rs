//! The Problems view: rules, a rule's series, a series' detail, and back.

use super::*;
use crate::problems::{Message, Rule};
use crate::store::problems::Finding;

pub(super) fn id_of(store: &Store, text: &str) -> SeriesId {
    let metrics = store.metrics().flat_map(|(_, m)| store.series_of(m));
    let mut found = metrics.filter(|(_, s)| store.series_text(&s.labels) == text);
    found.next().map(|(id, _)| id).expect(text)
}

pub(super) fn with_problems() -> (App, Store) {
    let (mut app, mut store) = setup();
    fn f(rule: Rule, message: &Message) -> Finding<'_> {
        Finding {
            rule,
            count: 1,
            timestamp_ms: Some(T0 - 500),
            message,
        }
    }
    for text in [r#"up{job="a"}"#, r#"up{job="b"}"#] {
        let id = id_of(&store, text);
        store.record_series_problem(id, &f(Rule::OutOfOrder, &"older".into()), T0);
    }
    let zeta = id_of(&store, r#"zeta{job="a"}"#);
    store.record_series_problem(zeta, &f(Rule::DuplicateSample, &"resent".into()), T0);
    store.record_request_problem(&f(Rule::EmptyRequest, &"no series".into()), T0, "127.0.0.1");
    app.tick(T0, &store);
    (app, store)
}

#[test]
fn rules_are_listed_errors_first_and_enter_leads_to_a_series_detail() {
    let (mut app, mut store) = with_problems();
    app.apply(Action::GoTab(Tab::Problems), &mut store);
    assert_eq!(app.open_list(), OpenList::Problems);
    let rules: Vec<Rule> = app.problems.rules.rows().iter().map(|r| r.rule).collect();
    assert_eq!(
        rules,
        [Rule::OutOfOrder, Rule::EmptyRequest, Rule::DuplicateSample]
    );
    app.apply(Action::Enter, &mut store);
    assert_eq!(app.open_list(), OpenList::ProblemSeries);
    assert_eq!(app.problems.series.rows().len(), 2);
    app.apply(Action::Down(1), &mut store);
    app.apply(Action::Enter, &mut store);
    assert_eq!(app.open_list(), OpenList::Samples);
    assert_eq!(app.current_detail(), Some(id_of(&store, r#"up{job="b"}"#)));
    let screen = draw(&mut app, &store, 120, 40).join("\n");
    assert!(screen.contains("problems out-of-order"), "{screen}");
}

#[test]
fn back_goes_from_a_rule_to_the_rules_to_metrics() {
    let (mut app, mut store) = with_problems();
    app.apply(Action::GoTab(Tab::Problems), &mut store);
    app.apply(Action::Enter, &mut store);
    app.apply(Action::Back, &mut store);
    assert_eq!(app.open_list(), OpenList::Problems);
    app.apply(Action::Back, &mut store);
    assert_eq!(app.open_list(), OpenList::Metrics);
}

#[test]
fn a_request_rule_lists_its_requests_and_the_filter_narrows_a_rules_series() {
    let (mut app, mut store) = with_problems();
    app.apply(Action::GoTab(Tab::Problems), &mut store);
    app.apply(Action::Down(1), &mut store);
    app.apply(Action::Enter, &mut store);
    let screen = draw(&mut app, &store, 100, 24).join("\n");
    assert!(
        screen.contains("empty-request: the latest 1 requests"),
        "{screen}"
    );
    assert!(screen.contains("127.0.0.1"), "{screen}");
    // Moving and Enter in a request list do nothing harmful.
    app.apply(Action::Down(5), &mut store);
    app.apply(Action::Enter, &mut store);
    assert_eq!(app.open_list(), OpenList::ProblemSeries);
    app.apply(Action::Back, &mut store);
    app.apply(Action::Top, &mut store);
    app.apply(Action::FilterSet(r#"{job="b"}"#.into()), &mut store);
    app.apply(Action::Enter, &mut store);
    let rows = app.problems.series.rows();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, id_of(&store, r#"up{job="b"}"#));
}

#[test]
fn the_header_counts_problems_by_severity_in_shorter_forms_when_narrow() {
    let (mut app, store) = with_problems();
    let screen = draw(&mut app, &store, 80, 24).join("\n");
    assert!(
        screen.contains(" problems 2 errors, 1 warning, 1 info  ·  senders"),
        "{screen}"
    );
    let screen = draw(&mut app, &store, 36, 24).join("\n");
    assert!(screen.contains(" ✗2 ⚠1 1 info  ·  senders"), "{screen}");
    let screen = draw(&mut app, &store, 16, 24).join("\n");
    assert!(screen.contains(" ✗2 ⚠1 1 info"), "{screen}");
}

#[test]
fn the_demos_deliberate_sender_is_named_as_such_and_no_other() {
    let (mut app, mut store) = with_problems();
    app.apply(Action::GoTab(Tab::Problems), &mut store);
    let screen = draw(&mut app, &store, 100, 30).join("\n");
    assert!(!screen.contains("deliberate sender"), "{screen}");
    let job = crate::demo::PROBLEMS_JOB;
    store.ingest(&batch(
        T0 + 1000,
        &[(&[("__name__", "up"), ("job", job)], 1.0)],
    ));
    let demo = id_of(&store, &format!(r#"up{{job="{job}"}}"#));
    let f = Finding {
        rule: Rule::LabelNameInvalid,
        count: 1,
        timestamp_ms: None,
        message: &"on purpose".into(),
    };
    store.record_series_problem(demo, &f, T0 + 1000);
    app.tick(T0 + 1000, &store);
    app.apply(Action::Top, &mut store);
    let rule = app.problems.rules.selected().map(|r| r.rule);
    assert_eq!(rule, Some(Rule::OutOfOrder));
    app.apply(Action::Down(1), &mut store);
    assert_eq!(
        app.problems.rules.selected().map(|r| r.rule),
        Some(Rule::LabelNameInvalid)
    );
    let screen = draw(&mut app, &store, 100, 30).join("\n");
    assert!(
        screen.contains("This is the demo's deliberate sender"),
        "{screen}"
    );
}
