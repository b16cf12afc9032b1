use super::*;
use crate::store::arrival::ArrivalRate;
use crate::test_rng::Rng;

#[test]
fn rates_and_series() {
    let mut r = RateBuckets::default();
    for s in 0..10 {
        r.add(1_000_000 + s * 1000, 100);
    }
    // 10 seconds of 100/s (the first, where counting began, left out).
    assert_eq!(r.per_second(1_010_000, 5), Some(100.0));
    assert_eq!(r.per_second(1_010_000, 60), Some(100.0));
    // 20 s of silence after 9 counted seconds of 100/s.
    assert_eq!(r.per_second(1_030_000, 40), Some(900.0 / 29.0));
    assert_eq!(r.series(1_010_000, 3, 2), [100.0, 100.0, 100.0]);
    assert_eq!(r.series(1_012_000, 2, 2), [100.0, 0.0]);
    // A column with fewer events than seconds is not rounded down to nothing.
    let mut sparse = RateBuckets::default();
    sparse.add(1_000_500, 3);
    assert_eq!(sparse.series(1_004_000, 1, 4), [0.75]);
    // Old buckets are cleared when the ring wraps.
    r.add(1_000_000 + 400_000, 7);
    assert_eq!(r.per_second(1_401_000, 5), Some(7.0 / 5.0));
}

#[test]
fn counting_from_a_moment_leaves_what_came_before_unknown() {
    let mut r = RateBuckets::counting_from(1_010_500);
    for s in 10..20 {
        r.add(1_000_000 + s * 1000, 50);
    }
    // Averaged over the 9 whole seconds counted, not the 20 s window.
    assert_eq!(r.per_second(1_020_000, 20), Some(50.0));
    let columns = r.series(1_020_000, 4, 5);
    assert!(columns[0].is_nan() && columns[1].is_nan(), "{columns:?}");
    assert_eq!(columns[2..], [50.0, 50.0]);
    // The first column has 2 of its 5 seconds counted: averaged over those;
    // the last has 3 busy seconds of 5.
    assert_eq!(r.series(1_022_000, 3, 5), [50.0, 50.0, 30.0]);
}

#[test]
fn seeded_from_the_last_two_windows_a_rate_is_right_at_once() {
    // 100 events a second for a minute, per series windows and all in one.
    let (mut series, mut all) = (ArrivalRate::default(), RateBuckets::default());
    let mut last = 0;
    for s in 0..60 {
        series.add(last, 1_000_000 + s * 1000, 100);
        last = 1_000_000 + s * 1000;
        all.add(1_000_000 + s * 1000, 100);
    }
    let now = 1_060_000;
    let seeded = RateBuckets::seeded(now, series.recent(last, now));
    assert_eq!(series.recent(last, now), [1000, 0]);
    assert_eq!(seeded.per_second(now, 10), all.per_second(now, 10));
    assert_eq!(seeded.per_second(now + 3500, 10), Some(70.0));
    let columns = seeded.series(now, 6, 5);
    assert!(columns[..4].iter().all(|c| c.is_nan()), "{columns:?}");
    assert_eq!(columns[4..], [100.0, 100.0]);
}

/// Three minutes of batches of 10 every 5 s from targets `offsets_ms`
/// into each interval, drawn in columns of 1 to 7 s: every column alike.
fn assert_steady_whatever_the_column_width(offsets_ms: &[i64]) {
    let mut r = RateBuckets::default();
    let start = 1_000_000_300;
    for i in 0..36 {
        for offset in offsets_ms {
            r.add(start + i * 5_000 + offset, 10);
        }
    }
    let now = start + 36 * 5_000;
    for secs_per_column in [1, 2, 3, 4, 6, 7] {
        let columns = r.series(now, 20, secs_per_column);
        assert!(
            columns.iter().all(|&c| c == columns[0] && c > 0.0),
            "{secs_per_column} s columns: {columns:?}"
        );
    }
}

#[test]
fn a_steady_sender_draws_a_steady_line_whatever_the_column_width() {
    assert_steady_whatever_the_column_width(&[0]);
}

#[test]
fn targets_scraped_at_different_offsets_draw_a_steady_line() {
    // Three targets of one job, 0, 1.2 and 2.4 s apart: busy seconds 1 to
    // 3 s apart, repeating every 5 s.
    assert_steady_whatever_the_column_width(&[0, 1_200, 2_400]);
}

/// Batches of `n` every `interval` s for three minutes: the rate read at
/// every second once the interval is known (four batches in, the last in a
/// complete second).
fn rates_read_each_second(interval: i64, n: u64) -> Vec<f64> {
    let mut r = RateBuckets::default();
    let start = 1_000_000_400;
    let mut read = Vec::new();
    for sec in 0..360 {
        if sec % interval == 0 {
            r.add(start + sec * 1000, n);
        }
        let rate = r.per_second(start + sec * 1000 + 500, 10);
        if sec > 3 * interval {
            read.push(rate.unwrap_or(f64::NAN));
        }
    }
    read
}

#[test]
fn a_sender_slower_than_the_window_reads_its_rate_at_every_second() {
    // 15 s and 60 s scrape intervals: 10 s windows held one scrape or none,
    // and read 15 and 0 (or 10 and 0) in turn.
    for (interval, n, rate) in [
        (15, 150, 10.0),
        (60, 600, 10.0),
        (5, 50, 10.0),
        (1, 10, 10.0),
    ] {
        let read = rates_read_each_second(interval, n);
        assert!(
            read.iter().all(|&r| (r - rate).abs() < 1e-9),
            "every {interval} s: {read:?}"
        );
    }
}

#[test]
fn before_a_window_has_passed_the_rate_is_over_whole_intervals() {
    // Every 5 s, 50 events: 10/s. 17 s after the first batch (four of them,
    // the interval known), three whole intervals: 150 events in 15 s.
    let mut r = RateBuckets::default();
    let start = 1_000_000_400;
    for i in 0..4 {
        r.add(start + i * 5_000, 50);
    }
    assert_eq!(r.per_second(start + 17_000, 30), Some(10.0));
}

#[test]
fn the_first_columns_after_a_start_show_no_ramp_and_no_gap() {
    // A job every 5 s (50 events) and one every 15 s (30 events): 12/s,
    // repeating every 15 s. Drawn 90 s in at 5 s a column, windows of 15 s
    // reaching back before the first batch read 5.3 and 8.7 before 12 (a
    // real Prometheus with such jobs drew ▂▃▄▅▆▇█ over its first 30 s);
    // drawn blank instead, they left a gap after the start (`▁ ███`).
    let mut r = RateBuckets::default();
    let start = 1_000_000_400;
    for i in 0..18 {
        r.add(start + i * 5_000, 50);
        if i % 3 == 0 {
            r.add(start + i * 5_000 + 2_000, 30);
        }
    }
    let now = start + 90_000;
    for secs_per_column in [1, 2, 3, 5] {
        let columns = r.series(now, 90 / secs_per_column + 4, secs_per_column);
        let first = columns.iter().position(|&c| c != 0.0).expect("the start");
        assert!(
            columns[first..].iter().all(|&c| c == 12.0),
            "{secs_per_column} s columns: nothing, then 12/s in every column: {columns:?}"
        );
        assert!(first >= 4, "{columns:?}");
    }
    // The demo's jobs: 40 series every 5 s, in 2 s columns, read at every
    // second once the interval is known: nothing, then 8/s, no gap.
    let mut r = RateBuckets::default();
    for sec in 0..60 {
        if sec % 5 == 0 {
            r.add(start + sec * 1000, 40);
        }
        let columns = r.series(start + sec * 1000 + 500, 40, 2);
        if r.period(start.div_euclid(1000) + sec).is_some() {
            let first = columns.iter().position(|&c| c != 0.0).expect("the start");
            assert!(
                columns[first..].iter().all(|&c| c == 8.0),
                "{sec} s in: {columns:?}"
            );
        }
    }
}

#[test]
fn the_column_of_a_start_is_not_higher_than_the_rate() {
    // 54 events every 5 s (10.8/s), drawn in 5 s columns (as wide as the
    // interval) at every phase: the column holding the first batch read
    // 54 over the 1 to 4 s since it, up to 54/s.
    for phase in 0..5_000 {
        let mut r = RateBuckets::default();
        let first = 1_000_000_700 + phase;
        for i in 0..12 {
            r.add(first + i * 5_000, 54);
        }
        let columns = r.series(first + 58_000, 20, 5);
        assert!(
            columns.iter().all(|&c| c.is_nan() || c <= 10.8),
            "phase {phase}: {columns:?}"
        );
        assert_eq!(columns[19], 10.8);
    }
}

/// The rates read every 100 ms for two minutes from the first batch of
/// `n` events from each of `offsets_ms`, every 5 s.
fn read_after_a_start(offsets_ms: &[i64], n: u64) -> Vec<Option<f64>> {
    let mut r = RateBuckets::default();
    let start = 1_000_000_700;
    let mut read = Vec::new();
    for at in (start..start + 120_000).step_by(100) {
        for offset in offsets_ms {
            if (at - start - offset).rem_euclid(5_000) == 0 {
                r.add(at, n);
            }
        }
        read.push(r.per_second(at, 10));
    }
    read
}

#[test]
fn after_a_start_a_rate_is_unknown_until_a_whole_interval_is_counted() {
    // 162 series every 5 s: 32.4/s. Over the time since the first batch
    // it read 162, then 54; a job of three targets at different offsets
    // (54 each) read 54, 81, then 36.
    for (offsets, n) in [(&[0][..], 162), (&[0, 1_200, 2_400][..], 54)] {
        let read = read_after_a_start(offsets, n);
        let wrong: Vec<_> = read.iter().flatten().filter(|&&r| r != 32.4).collect();
        assert!(wrong.is_empty(), "{offsets:?}: {wrong:?}");
        let known = read
            .iter()
            .position(Option::is_some)
            .expect("known at last");
        assert!(read[known..].iter().all(Option::is_some));
        // Known within a few intervals (10 to 16 s in).
        assert!(known <= 160, "{offsets:?}: unknown for {known} reads");
    }
    // Nothing came at all: nothing, known.
    assert_eq!(RateBuckets::default().per_second(5_000, 10), Some(0.0));
    // Counting only began: unknown.
    assert_eq!(
        RateBuckets::counting_from(5_000).per_second(5_500, 10),
        None
    );
}

#[test]
fn a_job_every_minute_reads_its_rate_and_a_stopped_one_zero() {
    // Three targets 1 s apart every minute, 60 events each: 3/s. Their
    // counts shifted by 1 s nearly repeat (`███` then 57 s of nothing).
    let mut r = RateBuckets::default();
    let start = 1_000_000_000;
    for sec in 0..300 {
        if sec % 60 < 3 {
            r.add(start + sec * 1000, 60);
        }
        let rate = r.per_second(start + sec * 1000 + 500, 10);
        assert!(rate.is_none() || rate == Some(3.0), "{sec} s in: {rate:?}");
        if sec > 125 {
            assert_eq!(rate, Some(3.0), "{sec} s in");
        }
    }
    // Stopped: 0 once the interval has passed and the history holds it.
    assert_eq!(r.per_second(start + 500_000, 10), Some(0.0));
    assert_eq!(r.per_second(start + 900_000, 10), Some(0.0));
}

#[test]
fn a_window_partly_observed_at_a_start_is_not_drawn_as_a_whole_one() {
    // A sender already running when promscope started: 400 samples every
    // 200 ms (2000/s), the first request `phase` ms into a second. 15 s
    // in, the column whose window began before the first request averaged
    // what came after it with the seconds before, as if nothing had come
    // then: `▁███` (1 s of a 4 s column read 500/s; the first, partial
    // second's 2 requests in 1 s columns read 800/s).
    for phase in (0..1_000).step_by(100) {
        let mut r = RateBuckets::default();
        let first = 1_000_000_000 + phase;
        for i in 0..75 {
            r.add(first + i * 200, 400);
        }
        let now = first + 15_000;
        for secs_per_column in 1..=12 {
            let columns = r.series(now, 30, secs_per_column);
            let drawn: Vec<f64> = columns
                .iter()
                .copied()
                .filter(|c| !c.is_nan() && *c != 0.0)
                .collect();
            assert!(
                drawn.iter().all(|&c| c == 2000.0) && drawn.len() * secs_per_column >= 10,
                "phase {phase}, {secs_per_column} s columns: {columns:?}"
            );
            let start = columns.iter().position(|&c| c != 0.0).expect("the start");
            assert!(
                columns[start..].iter().all(|&c| c == 2000.0),
                "phase {phase}, {secs_per_column} s columns: a gap after the start: {columns:?}"
            );
        }
    }
}

/// A real Prometheus 3.16 scraping every 5 s, remote-writing each scrape in
/// one request: the gaps between its requests as they arrived (5.0 s on
/// average, 4.0 to 6.1 s).
const PROMETHEUS_GAPS_MS: [i64; 9] = [
    3_245, 5_062, 5_212, 5_166, 5_071, 5_073, 4_030, 5_059, 6_055,
];

/// The rate read at every second from the first of `arrivals` (ms, in
/// order) of `n` events each, to `secs` seconds after the last, with the
/// sparkline in 4 s columns then.
fn read_each_second(arrivals: &[i64], n: u64, secs: i64) -> Vec<(Option<f64>, Vec<f64>)> {
    let mut r = RateBuckets::default();
    let first = arrivals[0];
    let mut next = arrivals.iter().peekable();
    (0..secs)
        .map(|sec| {
            let now = first + sec * 1_000 + 500;
            while let Some(&a) = next.next_if(|&&a| a <= now) {
                r.add(a, n);
            }
            (r.per_second(now, 10), r.series(now, 30, 4))
        })
        .collect()
}

/// From `from` s on, every rate is known and reads `rate` within a tenth,
/// and so does every sparkline column after the start.
fn assert_right_at_every_second(reads: &[(Option<f64>, Vec<f64>)], rate: f64, from: usize) {
    let within = |r: f64| (r / rate - 1.0).abs() <= 0.1;
    for (sec, (read, columns)) in reads.iter().enumerate().skip(from) {
        assert!(
            read.is_some_and(within),
            "{sec} s in: {read:?}, not {rate:.1}/s"
        );
        let drawn: Vec<f64> = columns.iter().copied().filter(|c| !c.is_nan()).collect();
        let start = drawn.iter().position(|&c| c > 0.0).expect("the start");
        assert!(
            drawn[start..].iter().all(|&c| within(c)),
            "{sec} s in: columns not {rate:.1}/s: {columns:?}"
        );
    }
}

#[test]
fn a_sender_whose_requests_come_a_second_early_or_late_reads_its_rate_at_every_second() {
    // 555 samples a request, 9 requests every 43.973 s: 113.6/s. The
    // counts shifted by 5 s differed by more than they may for an
    // interval, and the median gap was taken only after 2 minutes: the rate
    // read `…` for 70 s, then came and went (known at 81 s, `…` at 101 s).
    // Then, known from 30 s, in windows of two intervals (10 s) that held
    // 1, 2 or 3 requests it read 55.5, 111 and 166.5 in turn (16 of 210
    // seconds off), and 4 s sparkline columns with it.
    let mut at = 1_000_000_702;
    let mut arrivals = Vec::new();
    for i in 0..60 {
        arrivals.push(at);
        at += PROMETHEUS_GAPS_MS[i % PROMETHEUS_GAPS_MS.len()];
    }
    let cycle_secs = PROMETHEUS_GAPS_MS.iter().sum::<i64>() as f64 / 1000.0;
    let rate = 555.0 * PROMETHEUS_GAPS_MS.len() as f64 / cycle_secs;
    let reads = read_each_second(&arrivals, 555, 240);
    assert!(reads[..30].iter().all(|(r, _)| r.is_none()));
    assert_right_at_every_second(&reads, rate, 30);
}

#[test]
fn a_sender_a_second_early_or_late_at_random_reads_its_rate_at_every_second_and_zero_once_stopped()
{
    // Requests every 5 s and every 15 s for 10 minutes, 500 samples each,
    // each up to a second early or late against its schedule (a late
    // request does not make the next scrape later), then nothing. Known
    // from 50 s in (a 5 s sender's window of 40 s counted for 30 s, a 15 s
    // one's of 60 s for 45 s) to the end, once a request came off its time.
    // Until then a sender whose requests all kept time is read as one that
    // does (as it must be to be known in 16 s, see above): the first six of
    // the 15 s sender's did, and in the second the seventh was late, a
    // window of whole intervals missed it (0/s).
    for (interval_ms, seed) in [(5_000, 0x5eed_0005), (15_000, 0x5eed_0015)] {
        let mut rng = Rng(seed);
        let start = 1_000_000_000 + rng.below(1_000) as i64;
        let arrivals: Vec<i64> = (0..600_000 / interval_ms)
            .map(|i| start + i * interval_ms + rng.below(2_001) as i64 - 1_000)
            .collect();
        let off_time = arrivals
            .windows(2)
            .find(|w| w[1] / 1_000 - w[0] / 1_000 != interval_ms / 1_000)
            .expect("a request off its time")[1];
        // The interval is worked out again within 5 s.
        let from = 50.max((off_time - arrivals[0]) as usize / 1_000 + 6);
        let rate = 500_000.0 / interval_ms as f64;
        let reads = read_each_second(&arrivals, 500, 680);
        let last = arrivals.last().expect("arrivals") - arrivals[0];
        let (running, stopped) = reads.split_at(last as usize / 1_000 + 1);
        assert_right_at_every_second(running, rate, from);
        // Stopped: no higher, and 0 a minute on (its window, which the last
        // request leaves, is 40 s for 5 s, 60 s for 15 s).
        let after: Vec<f64> = stopped.iter().map(|(r, _)| r.unwrap_or(f64::NAN)).collect();
        assert!(
            after.iter().all(|&r| r <= rate * 1.1) && after[60..].iter().all(|&r| r == 0.0),
            "every {interval_ms} ms, stopped: {after:?}"
        );
    }
}

#[test]
fn a_sender_that_stopped_before_its_interval_was_known_reads_zero_once_silent_a_minute() {
    // Two requests 3 s apart, then nothing: no interval to tell. The rate
    // read `…` (not yet known) for the 3 minutes of history; once nothing
    // came for longer than any interval looked for, it stopped.
    let mut r = RateBuckets::default();
    r.add(1_000_000_400, 500);
    r.add(1_000_003_400, 500);
    assert_eq!(r.per_second(1_000_030_000, 10), None);
    assert_eq!(r.per_second(1_000_064_500, 10), Some(0.0));
}

#[test]
fn a_jittery_senders_columns_read_what_its_rate_read_at_their_ends() {
    // Every 5 s, each request up to a second off, for 3 minutes, then
    // nothing: each 2 s column (read from the busy seconds of the whole
    // history at once) is the rate read at its end, while sending and after.
    let mut rng = Rng(0x5eed_0205);
    let mut r = RateBuckets::default();
    let start = 1_000_000_000;
    for i in 0..36 {
        r.add(start + i * 5_000 + rng.below(2_001) as i64 - 1_000, 500);
    }
    for now in [start + 150_500, start + 185_500, start + 230_500] {
        let columns = r.series(now, 40, 2);
        assert!(r.period(now / 1000).is_some_and(|p| p.jittery));
        for (c, &column) in columns.iter().rev().enumerate() {
            let at = now - 2_000 * c as i64;
            if let Some(rate) = r.per_second(at, 10) {
                assert_eq!(column, rate, "{} s before {now}: {columns:?}", 2 * c);
            }
        }
    }
}
