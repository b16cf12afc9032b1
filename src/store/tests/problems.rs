//! Problems as the store keeps them: per rule and per series, bounded.

use super::*;
use crate::problems::{Message, Rule, Severity};
use crate::store::offences::{FiredSets, MAX_OFFENCE_TEXT_BYTES, Offence, Offences};
use crate::store::problems::{Finding, MAX_OFFENCES, SERIES_MESSAGE_BYTES, SERIES_PER_RULE};

fn finding(rule: Rule, ts: i64, message: &Message) -> Finding<'_> {
    Finding {
        rule,
        count: 1,
        timestamp_ms: Some(ts),
        message,
    }
}

fn ids(store: &Store) -> Vec<SeriesId> {
    store.series.iter().map(|(id, _)| id).collect()
}

#[test]
fn a_rule_counts_firings_series_and_keeps_its_first_example() {
    let mut store = Store::new(StoreLimits::default());
    store.ingest(&batch(T0, &[(UP_A, T0, 1.0), (UP_B, T0, 1.0)]));
    let [a, b] = ids(&store)[..] else {
        panic!("two series")
    };
    store.record_series_problem(a, &finding(Rule::OutOfOrder, T0 - 5, &"first".into()), T0);
    store.record_series_problem(
        a,
        &finding(Rule::OutOfOrder, T0 - 4, &"second".into()),
        T0 + 1000,
    );
    store.record_series_problem(
        b,
        &finding(Rule::OutOfOrder, T0 - 3, &"third".into()),
        T0 + 2000,
    );
    store.record_series_problem(
        b,
        &finding(Rule::LabelValueEmpty, T0, &"empty".into()),
        T0 + 2000,
    );
    let problems = store.problems();
    let ooo = problems.get(Rule::OutOfOrder).expect("fired");
    assert_eq!((ooo.count, ooo.series_affected), (3, 2));
    assert_eq!((ooo.first_ms, ooo.last_ms), (T0, T0 + 2000));
    assert_eq!(ooo.example_series.as_deref(), Some(r#"up{job="a"}"#));
    assert_eq!(&*ooo.example_message, "first");
    assert_eq!(ooo.series().collect::<Vec<_>>(), [b, a]);
    assert_eq!(problems.count(Severity::Error), 3);
    assert_eq!(problems.count(Severity::Warning), 1);
    let rules: Vec<Rule> = problems.fired().map(|r| r.rule).collect();
    assert_eq!(rules, [Rule::LabelValueEmpty, Rule::OutOfOrder]);
    let fired: Vec<Rule> = store.fired_rules(b).iter().collect();
    assert_eq!(fired, [Rule::LabelValueEmpty, Rule::OutOfOrder]);
    let offences: Vec<String> = store
        .offences()
        .of(b)
        .map(|o| o.message.text().into_owned())
        .collect();
    assert_eq!(offences, ["empty", "third"]);
    assert!(store.fired_rules(a).contains(Rule::OutOfOrder));
    let latest = store.offences().latest(a, Rule::OutOfOrder);
    assert_eq!(latest.map(|o| o.arrival_ms), Some(T0 + 1000));
}

#[test]
fn request_rules_list_requests() {
    let mut store = Store::new(StoreLimits::default());
    for i in 0..200 {
        let f = Finding {
            rule: Rule::EmptyRequest,
            count: 1,
            timestamp_ms: None,
            message: &"no series".into(),
        };
        store.record_request_problem(&f, T0 + i, "10.0.0.1");
    }
    let stats = store.problems().get(Rule::EmptyRequest).expect("fired");
    assert_eq!((stats.count, stats.series_affected), (200, 0));
    assert_eq!(stats.requests().count(), 100);
    assert_eq!(
        stats.requests().next().map(|r| r.arrival_ms),
        Some(T0 + 199)
    );
    assert_eq!(stats.example_series, None);
}

#[test]
fn problems_are_bounded_and_counted_in_held_bytes() {
    let mut store = Store::new(StoreLimits::default());
    let names: Vec<String> = (0..SERIES_PER_RULE + 10).map(|i| format!("s{i}")).collect();
    let labels: Vec<[(&str, &str); 2]> = names
        .iter()
        .map(|n| [("__name__", "up"), ("job", n.as_str())])
        .collect();
    let series: Vec<TestSeries> = labels.iter().map(|l| (&l[..], T0, 1.0)).collect();
    store.ingest(&batch(T0, &series));
    let before = store.held_bytes();
    let long = "x".repeat(10_000);
    // 40,400 offences: more than the store keeps.
    for id in ids(&store) {
        for ts in 0..40 {
            store.record_series_problem(
                id,
                &finding(Rule::DuplicateTimestamp, ts, &Message::from(long.as_str())),
                T0,
            );
        }
    }
    let stats = store
        .problems()
        .get(Rule::DuplicateTimestamp)
        .expect("fired");
    assert_eq!(stats.series_affected, names.len() as u64);
    assert_eq!(stats.series().count(), SERIES_PER_RULE);
    // Every series keeps its rule; the offending samples are bounded all
    // together, whatever the series fire.
    let added = store.held_bytes() - before;
    let bound = MAX_OFFENCES * size_of::<Offence>() + MAX_OFFENCE_TEXT_BYTES;
    assert!(added <= bound + 64 * 1024, "{added} bytes");
    let kept = store.offences().len();
    assert!(kept <= MAX_OFFENCES && kept > 0, "{kept}");
    assert_eq!(store.offences().dropped(), (40 * names.len() - kept) as u64);
    let fired_everywhere = ids(&store)
        .into_iter()
        .all(|id| store.fired_rules(id).contains(Rule::DuplicateTimestamp));
    assert!(fired_everywhere);
}

#[test]
fn an_evicted_series_leaves_its_rule_counted_and_its_row_unresolved() {
    let limits = StoreLimits {
        max_series: 1,
        ..StoreLimits::default()
    };
    let mut store = Store::new(limits);
    store.ingest(&batch(T0, &[(UP_A, T0, 1.0)]));
    let a = ids(&store)[0];
    store.record_series_problem(a, &finding(Rule::OutOfOrder, T0, &"m".into()), T0);
    store.ingest(&batch(T0 + 1000, &[(UP_B, T0, 1.0)]));
    assert!(store.series(a).is_none());
    store.record_series_problem(a, &finding(Rule::OutOfOrder, T0, &"late".into()), T0 + 1000);
    let stats = store.problems().get(Rule::OutOfOrder).expect("fired");
    assert_eq!((stats.count, stats.series_affected), (2, 1));
    assert_eq!(
        stats
            .series()
            .filter(|&id| store.series(id).is_some())
            .count(),
        0
    );
}

#[test]
fn a_batchs_problems_are_recorded_under_its_series_or_the_request() {
    use crate::problems::{Problem, Subject};
    let mut store = Store::new(StoreLimits::default());
    let mut b = batch(T0, &[(UP_A, T0, 1.0), (UP_B, T0, 1.0)]);
    let refused = b.data.labels.len() as u32;
    b.data
        .push_series(&[("__name__", "gone"), ("job", "c")], &[], &[]);
    b.data.series.pop();
    let problem = |rule, subject, message: &str| Problem {
        rule,
        subject,
        count: 2,
        timestamp_ms: Some(T0),
        message: message.into(),
    };
    b.data.problems = vec![
        Problem::of_request(Rule::ContentTypeMismatch, "announced as RW 1.0".into()),
        problem(Rule::OutOfOrder, Subject::Series(1), "older"),
        problem(
            Rule::LabelValueTooLong,
            Subject::Refused {
                labels: refused..refused + 2,
                label_hash: 7,
            },
            "too long",
        ),
    ];
    store.ingest(&b);
    let problems = store.problems();
    let ooo = problems.get(Rule::OutOfOrder).expect("recorded");
    assert_eq!((ooo.count, ooo.series_affected), (2, 1));
    let on = ooo
        .series()
        .next()
        .and_then(|id| store.series(id))
        .expect("live");
    assert_eq!(store.series_text(&on.labels), r#"up{job="b"}"#);
    let request = problems.get(Rule::ContentTypeMismatch).expect("recorded");
    let hit = request.requests().next().expect("a request");
    assert!(hit.subject.contains("10.0.0.1"), "{}", hit.subject);
    let refused = problems.get(Rule::LabelValueTooLong).expect("recorded");
    let hit = refused.requests().next().expect("a request");
    assert!(
        hit.subject.starts_with(r#"gone{job="c"} (refused)"#),
        "{}",
        hit.subject
    );
    assert_eq!(refused.series_affected, 0);
}

#[test]
fn counts_stay_exact_past_the_problems_a_request_carries() {
    use crate::ingest::check::Checker;
    use crate::problems::MAX_PROBLEMS;
    let mut store = Store::new(StoreLimits::default());
    let n = MAX_PROBLEMS + 904;
    let names: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
    let mut b = batch(T0, &[]);
    for name in &names {
        // A resend within the request: duplicate-sample (info) once per series.
        let twice = [sample(T0, 1.0), sample(T0, 1.0)];
        b.data
            .push_series(&[("__name__", "up"), ("job", name)], &twice, &[]);
    }
    Checker::default().check(&mut b.data, Some(Protocol::V1), T0);
    assert_eq!(b.data.problems.len(), MAX_PROBLEMS);
    assert_eq!(b.data.problem_counts().get(Rule::DuplicateSample), n as u64);
    store.ingest(&b);
    let stats = store.problems().get(Rule::DuplicateSample).expect("fired");
    assert_eq!(stats.count, n as u64);
    assert_eq!(store.problems().count(Severity::Info), n as u64);
    // Every series counts, also those past the problems carried; the
    // example is a real one.
    assert_eq!(b.data.uncarried.len(), n - MAX_PROBLEMS);
    assert_eq!(stats.series_affected, n as u64);
    assert_eq!(stats.series().count(), SERIES_PER_RULE);
    let last = stats.series().next().expect("listed");
    let listed = store.series(last).map(|s| store.series_text(&s.labels));
    assert_eq!(
        listed.as_deref(),
        names
            .last()
            .map(|n| format!(r#"up{{job="{n}"}}"#))
            .as_deref()
    );
    assert!(store.fired_rules(last).contains(Rule::DuplicateSample));
    assert!(
        stats.example_message.contains("sent again"),
        "{}",
        stats.example_message
    );
    // Sent again: counted again, affecting no more series.
    let mut again = batch(T0, &[]);
    for name in &names {
        let twice = [sample(T0, 1.0), sample(T0, 1.0)];
        again
            .data
            .push_series(&[("__name__", "up"), ("job", name)], &twice, &[]);
    }
    Checker::default().check(&mut again.data, Some(Protocol::V1), T0);
    store.ingest(&again);
    let stats = store.problems().get(Rule::DuplicateSample).expect("fired");
    assert_eq!(stats.series_affected, n as u64);
}

#[test]
fn the_latest_offences_are_kept_within_their_bounds() {
    let mut store = Store::new(StoreLimits::default());
    store.ingest(&batch(T0, &[(UP_A, T0, 1.0), (UP_B, T0, 1.0)]));
    let [a, b] = ids(&store)[..] else {
        panic!("two series")
    };
    let mut offences = Offences::default();
    let text = Message::from("x".repeat(1000));
    let finding = |rule, message| Finding {
        rule,
        count: 1,
        timestamp_ms: Some(5),
        message,
    };
    offences.push(a, &finding(Rule::LabelValueEmpty, &text), 1);
    let sample = Message::from("y");
    for i in 0..MAX_OFFENCES as i64 {
        offences.push(b, &finding(Rule::OutOfOrder, &sample), 2 + i);
    }
    assert_eq!(offences.len(), MAX_OFFENCES);
    assert_eq!((offences.dropped(), offences.of(a).count()), (1, 0));
    let latest = offences.latest(b, Rule::OutOfOrder).map(|o| o.arrival_ms);
    assert_eq!(latest, Some(1 + MAX_OFFENCES as i64));
    assert_eq!(
        offences.of(b).next().and_then(Offence::timestamp_ms),
        Some(5)
    );
    // Text is cut, and bounded in all.
    let long = Message::from("z".repeat(10_000));
    for _ in 0..MAX_OFFENCES {
        offences.push(a, &finding(Rule::LabelValueTooLong, &long), 3);
    }
    let held = offences.bytes();
    assert!(
        held <= MAX_OFFENCES * size_of::<Offence>() + MAX_OFFENCE_TEXT_BYTES,
        "{held}"
    );
    let kept = offences.of(a).next().map(|o| o.message.heap_bytes());
    assert!(kept.is_some_and(|n| n <= SERIES_MESSAGE_BYTES), "{kept:?}");
    assert!(offences.len() < MAX_OFFENCES);
}

#[test]
fn series_share_their_sets_of_rules_and_spill_past_the_index() {
    let mut store = Store::new(StoreLimits::default());
    store.fired_sets = FiredSets::with_most(2);
    let up_c: &[(&str, &str)] = &[("__name__", "up"), ("job", "c")];
    let series: Vec<TestSeries> = vec![(UP_A, T0, 1.0), (UP_B, T0, 1.0), (up_c, T0, 1.0)];
    store.ingest(&batch(T0, &series));
    let [a, b, c] = ids(&store)[..] else {
        panic!("three series")
    };
    let message = Message::from("m");
    let fire = |store: &mut Store, id, rule| {
        store.record_series_problem(id, &finding(rule, T0, &message), T0);
    };
    // {} and {out-of-order} take the index; the rest spill.
    fire(&mut store, a, Rule::OutOfOrder);
    fire(&mut store, b, Rule::OutOfOrder);
    fire(&mut store, b, Rule::DuplicateTimestamp);
    fire(&mut store, c, Rule::DuplicateTimestamp);
    fire(&mut store, c, Rule::OutOfOrder);
    let rules = |store: &Store, id| store.fired_rules(id).iter().collect::<Vec<Rule>>();
    assert_eq!(rules(&store, a), [Rule::OutOfOrder]);
    let both = [Rule::OutOfOrder, Rule::DuplicateTimestamp];
    assert_eq!(rules(&store, b), both);
    assert_eq!(rules(&store, c), both);
    assert_eq!(store.fired_sets.spilled_len(), 2);
    // Counted once per series however the sets are kept.
    let stats = |rule| store.problems().get(rule).map(|s| s.series_affected);
    assert_eq!(stats(Rule::OutOfOrder), Some(3));
    assert_eq!(stats(Rule::DuplicateTimestamp), Some(2));
    store.remove_series(b);
    assert_eq!(store.fired_sets.spilled_len(), 1);
    assert_eq!(rules(&store, b), []);
}
