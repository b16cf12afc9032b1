//! A request checked without keeping its samples (one its backend did not
//! take, which its sender sends again): every rule runs on it, against what
//! its series sent before, and its resend is checked as if it came first.

use super::*;

/// The rules that compare a sample with its series' newest.
const SERIES_STATE_RULES: [Rule; 3] = [
    Rule::OutOfOrder,
    Rule::DuplicateSample,
    Rule::DuplicateTimestamp,
];

/// A request of `up{job="a"}` with samples at `times`, and of a series whose
/// metric name is invalid with a sample at the last of them.
fn request(times: &[i64]) -> WriteData {
    let samples: Vec<Sample> = times.iter().map(|&t| sample(t, 1.0)).collect();
    let mut data = one_series("up", &samples, &[]);
    let last = times.last().copied().unwrap_or(NOW);
    data.push_series(&[("__name__", "bad-name")], &[sample(last, 1.0)], &[]);
    data
}

fn rules(data: &WriteData) -> Vec<Rule> {
    data.problems.iter().map(|p| p.rule).collect()
}

fn series_state_rules(data: &WriteData) -> Vec<Rule> {
    let mut found = rules(data);
    found.retain(|r| SERIES_STATE_RULES.contains(r));
    found
}

#[test]
fn the_resend_of_an_unkept_request_is_checked_against_what_was_kept() {
    let checker = Checker::default();
    // `up` seen before with nothing wrong: it takes the quick path.
    let mut before = one_series("up", &[sample(NOW - 3_000, 1.0)], &[]);
    checker.check(&mut before, Some(Protocol::V1), NOW);
    assert_eq!(rules(&before), []);
    let times = [NOW - 2_000, NOW - 1_000, NOW];
    // Two attempts the backend did not take: checked all the same.
    for _ in 0..2 {
        let mut failed = request(&times);
        checker.check_unkept(&mut failed, Some(Protocol::V1), NOW, None);
        assert_eq!(rules(&failed), [Rule::MetricNameInvalid]);
    }
    // Taken: checked against what was kept, as if it came first.
    let mut resent = request(&times);
    checker.check(&mut resent, Some(Protocol::V1), NOW);
    assert_eq!(rules(&resent), [Rule::MetricNameInvalid]);
    // Kept now: sent once more, it repeats itself.
    let mut again = request(&times);
    checker.check(&mut again, Some(Protocol::V1), NOW);
    assert!(
        series_state_rules(&again).contains(&Rule::DuplicateSample),
        "{:?}",
        rules(&again)
    );
}

#[test]
fn an_unkept_request_is_checked_against_itself_as_when_kept() {
    let checker = Checker::default();
    // Going back in time within the request.
    let mut backwards = one_series("up", &[sample(NOW, 1.0), sample(NOW - 1_000, 1.0)], &[]);
    checker.check_unkept(&mut backwards, Some(Protocol::V1), NOW, None);
    assert_eq!(series_state_rules(&backwards), [Rule::OutOfOrder]);
    // One series twice in one request, with the same sample.
    let mut twice = one_series("up", &[sample(NOW, 1.0)], &[]);
    twice.push_series(
        &[("__name__", "up"), ("job", "a")],
        &[sample(NOW, 1.0)],
        &[],
    );
    checker.check_unkept(&mut twice, Some(Protocol::V1), NOW, None);
    assert_eq!(series_state_rules(&twice), [Rule::DuplicateSample]);
    // Neither was kept.
    let mut taken = one_series("up", &[sample(NOW - 2_000, 1.0)], &[]);
    checker.check(&mut taken, Some(Protocol::V1), NOW);
    assert_eq!(rules(&taken), []);
}

#[test]
fn an_unkept_request_does_not_move_the_newest_sample_of_all() {
    let checker = Checker::default();
    let too_old_ms = checker.settings().thresholds.too_old_ms;
    let old = NOW - too_old_ms - 1_000;
    let mut newest = one_series("a", &[sample(NOW, 1.0)], &[]);
    checker.check_unkept(&mut newest, Some(Protocol::V1), NOW, None);
    let mut older = one_series("b", &[sample(old, 1.0)], &[]);
    checker.check(&mut older, Some(Protocol::V1), NOW);
    assert_eq!(rules(&older), []);
    // Kept, the same newest sample makes the older series too old.
    let mut newest = one_series("a", &[sample(NOW, 1.0)], &[]);
    checker.check(&mut newest, Some(Protocol::V1), NOW);
    let mut older = one_series("b", &[sample(old + 1, 1.0)], &[]);
    checker.check(&mut older, Some(Protocol::V1), NOW);
    assert_eq!(rules(&older), [Rule::TooOld]);
}
