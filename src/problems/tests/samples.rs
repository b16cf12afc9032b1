//! The sample rules: order, duplicates, time limits, counters, with messages
//! that give times as dates; the quick path agrees with the full check.

use super::*;

/// Rules that fire on each of `samples` of a series, in turn; floats are counters.
fn samples(counter: bool, samples: &[(i64, f64)]) -> Vec<Vec<Rule>> {
    let limits = Thresholds::default();
    let mut state = SeriesState::default();
    let mut newest_of_all = i64::MIN;
    samples
        .iter()
        .map(|&(timestamp_ms, value)| {
            let mut found = Found::default();
            let context = SampleContext {
                arrival_ms: T,
                newest_of_all_ms: newest_of_all,
                counter,
            };
            let sample = SampleIn {
                timestamp_ms,
                value,
                start_ms: 0,
                stale: false,
            };
            state.check(sample, &context, &limits, &mut found);
            newest_of_all = newest_of_all.max(timestamp_ms);
            found.rules()
        })
        .collect()
}

#[test]
fn out_of_order_and_duplicates() {
    let none: Vec<Rule> = vec![];
    assert_eq!(
        samples(false, &[(T, 1.0), (T - 1, 1.0), (T + 1, 1.0)]),
        [none.clone(), vec![Rule::OutOfOrder], none.clone()]
    );
    assert_eq!(
        samples(false, &[(T, 1.0), (T, 2.0), (T, 1.0), (T + 1, 1.0)]),
        [
            none.clone(),
            vec![Rule::DuplicateTimestamp],
            vec![Rule::DuplicateSample],
            none.clone()
        ]
    );
    // NaN equals itself bit for bit, as Prometheus compares.
    assert_eq!(
        samples(false, &[(T, f64::NAN), (T, f64::NAN)])[1],
        [Rule::DuplicateSample]
    );
    let context = SampleContext {
        arrival_ms: T,
        newest_of_all_ms: T,
        counter: false,
    };
    let nan = |bits: u64| f64::from_bits(bits);
    let at = "sample at 2023-11-14T22:13:20.000Z sent with value";
    // The first value sent at a time, then each other one; NaNs told apart by
    // their bits, as the rule compares them.
    let cases = [
        ([1.5, 2.0], format!("{at} 1.5, then 2")),
        (
            [nan(0x7ff8_0000_0000_0001), nan(0x7ff8_0000_0000_0002)],
            format!("{at} NaN, then NaN (bits 0x7ff8000000000002)"),
        ),
        (
            [
                nan(0x7ff8_0000_0000_0001),
                nan(crate::proto::STALE_NAN_BITS),
            ],
            format!("{at} NaN, then StaleNaN"),
        ),
    ];
    for (values, message) in cases {
        let mut found = Found::default();
        let mut state = SeriesState::default();
        for value in values {
            let sample = SampleIn {
                timestamp_ms: T,
                value,
                start_ms: 0,
                stale: false,
            };
            state.check(sample, &context, &Thresholds::default(), &mut found);
        }
        assert_eq!(found.0[0].1, message);
    }
}

/// Short enough for the 80 bytes a series keeps of an offence's message.
#[test]
fn messages_give_times_as_dates_and_gaps_with_units() {
    let context = SampleContext {
        arrival_ms: T,
        newest_of_all_ms: T,
        counter: false,
    };
    let after = |timestamps: [i64; 2]| {
        let mut state = SeriesState::default();
        let mut found = Found::default();
        for timestamp_ms in timestamps {
            let sample = SampleIn {
                timestamp_ms,
                value: 1.0,
                start_ms: 0,
                stale: false,
            };
            state.check(sample, &context, &Thresholds::default(), &mut found);
        }
        found
    };
    let found = after([T, T - 12_345]);
    assert_eq!(
        found.0,
        [(
            Rule::OutOfOrder,
            "sample at 2023-11-14T22:13:07.655Z is 12.345 s older than the series' newest"
                .to_owned()
        )]
    );
    let mut found = Found::default();
    let future = SampleIn {
        timestamp_ms: T + 3_600_000,
        value: 1.0,
        start_ms: 0,
        stale: false,
    };
    SeriesState::default().check(future, &context, &Thresholds::default(), &mut found);
    assert_eq!(
        found.0[0].1,
        "sample at 2023-11-14T23:13:20.000Z is 1 h 0 min 0 s past its arrival"
    );
    let limit = crate::store::problems::SERIES_MESSAGE_BYTES;
    assert!(found.0[0].1.len() <= limit);

    // A sample at the oldest time a timestamp holds, after one of now: the
    // gap is more than an i64 of milliseconds, never a negative one.
    let found = after([T, i64::MIN]);
    assert!(!found.0.is_empty());
    for (_, message) in &found.0 {
        assert!(!message.contains(" is -"), "{message}");
        assert!(
            message.contains(" is more than 106751991167 d"),
            "{message}"
        );
    }
}

#[test]
fn too_old_and_too_far_in_future_at_their_limits() {
    let limits = Thresholds::default();
    let old = T - limits.too_old_ms;
    // Another series' sample at T, then this one's.
    let check = |timestamp_ms| {
        let mut found = Found::default();
        let context = SampleContext {
            arrival_ms: T,
            newest_of_all_ms: T,
            counter: false,
        };
        let sample = SampleIn {
            timestamp_ms,
            value: 1.0,
            start_ms: 0,
            stale: false,
        };
        SeriesState::default().check(sample, &context, &limits, &mut found);
        found.rules()
    };
    assert_eq!(check(old), []);
    assert_eq!(check(old - 1), [Rule::TooOld]);
    assert_eq!(check(T + limits.future_ms), []);
    assert_eq!(check(T + limits.future_ms + 1), [Rule::TooFarInFuture]);
    // The first sample of all is never too old.
    assert_eq!(samples(false, &[(0, 1.0)]), [Vec::<Rule>::new()]);
}

#[test]
fn counters_going_down_or_nan() {
    let none: Vec<Rule> = vec![];
    assert_eq!(
        samples(true, &[(T, 5.0), (T + 1, 5.0), (T + 2, 4.0), (T + 3, 4.5)]),
        [
            none.clone(),
            none.clone(),
            vec![Rule::CounterDecrease],
            none.clone()
        ]
    );
    // Not a counter: a gauge may go down.
    assert_eq!(
        samples(false, &[(T, 5.0), (T + 1, 4.0)]),
        [none.clone(), none.clone()]
    );
    assert_eq!(samples(true, &[(T, f64::NAN)]), [vec![Rule::NanOnCounter]]);
    assert_eq!(samples(false, &[(T, f64::NAN)]), [Vec::<Rule>::new()]);
    // A staleness marker is no NaN value, and hides no reset after it.
    let limits = Thresholds::default();
    let mut state = SeriesState::default();
    let mut found = Found::default();
    let context = SampleContext {
        arrival_ms: T,
        newest_of_all_ms: T,
        counter: true,
    };
    let stale = f64::from_bits(0x7ff0_0000_0000_0002);
    for (i, (value, is_stale)) in [(5.0, false), (stale, true), (1.0, false)]
        .into_iter()
        .enumerate()
    {
        let sample = SampleIn {
            timestamp_ms: T + i as i64,
            value,
            start_ms: 0,
            stale: is_stale,
        };
        state.check(sample, &context, &limits, &mut found);
    }
    assert_eq!(found.rules(), []);
    // A later start timestamp says the counter was reset on purpose.
    let mut state = SeriesState::default();
    for (i, (value, start_ms)) in [(5.0, T - 10), (1.0, T)].into_iter().enumerate() {
        let sample = SampleIn {
            timestamp_ms: T + i as i64,
            value,
            start_ms,
            stale: false,
        };
        state.check(sample, &context, &limits, &mut found);
    }
    assert_eq!(found.rules(), []);
    assert!(is_counter("http_requests_total", false) && is_counter("x_bucket", false));
    assert!(is_counter("x", true) && !is_counter("temperature", false));
}

#[test]
fn series_state_stays_small() {
    assert!(size_of::<SeriesState>() <= 24);
}

/// `take_plain` is the common case of `check`: when it takes a sample, `check`
/// would have fired nothing and taken it the same way, counter or not; when it
/// does not, it changed nothing. Random samples around a series' newest, with
/// NaN, stale markers, start timestamps and the time windows' edges.
#[test]
fn take_plain_agrees_with_check() {
    let limits = Thresholds::default();
    let mut rng = crate::test_rng::Rng(0x5eed_0f7a);
    let values = [
        0.0,
        -0.0,
        1.0,
        2.0,
        -1.0,
        f64::NAN,
        f64::from_bits(STALE),
        1e300,
    ];
    let (mut taken, mut declined, mut unconcerned) = (0, 0, 0);
    for _ in 0..20_000 {
        let mut state = SeriesState::default();
        for _ in 0..rng.below(4) {
            let context = SampleContext {
                arrival_ms: 1_000_000,
                newest_of_all_ms: i64::MIN,
                counter: false,
            };
            let sample = SampleIn {
                timestamp_ms: 1_000_000 - rng.below(3) as i64 * 1000,
                value: values[rng.index(values.len())],
                start_ms: rng.below(3) as i64 * 10,
                stale: false,
            };
            state.check(sample, &context, &limits, &mut Found::default());
        }
        let arrival_ms = 1_000_000 + rng.below(3) as i64 * 1000 - 1000;
        let newest_of_all_ms = [i64::MIN, 1_000_000, 1_000_000 + limits.too_old_ms][rng.index(3)];
        let value = values[rng.index(values.len())];
        let edges = [
            -1000,
            0,
            1000,
            limits.future_ms,
            limits.future_ms + 1,
            -limits.too_old_ms,
        ];
        let sample = SampleIn {
            timestamp_ms: 1_000_000 + edges[rng.index(edges.len())],
            value,
            start_ms: rng.below(3) as i64 * 10,
            stale: value.to_bits() == STALE,
        };
        let horizon = arrival_ms.saturating_add(limits.future_ms);
        let floor = newest_of_all_ms.saturating_sub(limits.too_old_ms);
        // The full check, counter or not: the state after (as text, where a
        // NaN value equals itself) and what fired.
        let full = |counter| {
            let context = SampleContext {
                arrival_ms,
                newest_of_all_ms,
                counter,
            };
            let (mut full, mut found) = (state, Found::default());
            full.check(sample, &context, &limits, &mut found);
            (format!("{full:?}"), found)
        };
        let mut plain = state;
        if plain.take_plain(sample, horizon, floor) {
            taken += 1;
            for counter in [false, true] {
                let (after, found) = full(counter);
                assert_eq!(found, Found::default(), "{state:?} {sample:?} {counter}");
                assert_eq!(after, format!("{plain:?}"), "{sample:?} {counter}");
            }
        } else {
            declined += 1;
            assert_eq!(
                format!("{plain:?}"),
                format!("{state:?}"),
                "declined: {sample:?}"
            );
            if !state.counter_matters(sample) {
                // Counter or not, the same findings and the same state.
                let checked = [false, true].map(full);
                assert_eq!(checked[0], checked[1], "{state:?} {sample:?}");
                unconcerned += 1;
            }
        }
    }
    assert!(
        taken > 1000 && declined > 1000 && unconcerned > 1000,
        "{taken} taken, {declined} declined, {unconcerned} not concerning counters"
    );
}
