use super::*;

fn point(timestamp_ms: i64, value: f64) -> Point {
    Point {
        timestamp_ms,
        value,
    }
}

/// Points as (timestamp, value bits), so NaN payloads compare exactly.
fn bits(points: impl Iterator<Item = Point>) -> Vec<(i64, u64)> {
    points
        .map(|p| (p.timestamp_ms, p.value.to_bits()))
        .collect()
}

/// Pushes `points` into a ring and a plain queue, checking after every push
/// that the ring reads back the same from the front, the back and both ends.
fn check_against_queue(points: &[Point], capacity: usize) -> Ring {
    let mut ring = Ring::default();
    let mut queue = VecDeque::new();
    for &p in points {
        ring.push(p, capacity);
        if capacity > 0 {
            if queue.len() == capacity {
                queue.pop_front();
            }
            queue.push_back(p);
        }
        let want = bits(queue.iter().copied());
        assert_eq!(bits(ring.iter()), want, "capacity {capacity}");
        assert_eq!(ring.len(), want.len());
        assert_eq!(ring.iter().len(), want.len());
        let mut reversed = bits(ring.iter().rev());
        reversed.reverse();
        assert_eq!(reversed, want);
        // Alternate ends so the two cursors meet in the middle.
        let mut it = ring.iter();
        let (mut front, mut back) = (Vec::new(), Vec::new());
        while let Some(p) = it.next() {
            front.push(p);
            back.extend(it.next_back());
            assert_eq!(it.len(), want.len() - front.len() - back.len());
        }
        back.reverse();
        assert_eq!(bits(front.into_iter().chain(back)), want);
        assert_eq!(
            ring.last().map(|p| (p.timestamp_ms, p.value.to_bits())),
            want.last().copied()
        );
    }
    ring
}

fn random(seed: u64) -> impl Iterator<Item = u64> {
    let mut rng = crate::test_rng::Rng(seed);
    std::iter::repeat_with(move || rng.next())
}

#[test]
fn keeps_the_newest_up_to_capacity() {
    let points: Vec<_> = (0..10).map(|i| point(i, i as f64)).collect();
    let r = check_against_queue(&points, 4);
    assert_eq!(
        r.iter().map(|p| p.timestamp_ms).collect::<Vec<_>>(),
        [6, 7, 8, 9]
    );
}

#[test]
fn capacity_zero_keeps_nothing_and_one_keeps_the_newest() {
    let points: Vec<_> = (0..5).map(|i| point(1000 * i, i as f64)).collect();
    assert!(check_against_queue(&points, 0).is_empty());
    assert_eq!(check_against_queue(&points, 1).last(), Some(points[4]));
}

#[test]
fn steady_scrapes_store_no_timestamps_and_fill_slots_gradually() {
    let mut r = Ring::default();
    r.push(point(1_732_000_000_000, 1.0), 64);
    r.push(point(1_732_000_015_000, 2.0), 64);
    assert_eq!(r.values.len(), 2, "two samples must not reserve 64");
    let steady: Vec<_> = (0..200)
        .map(|i| point(1_732_000_000_000 + 15_000 * i, i as f64))
        .collect();
    let r = check_against_queue(&steady, 64);
    assert!(r.irregular.is_none());
    assert_eq!(r.values.len(), 64);
}

#[test]
fn jitter_codes_in_a_byte_per_sample() {
    let jittered: Vec<_> = (0..200)
        .map(|i| point(1_732_000_000_000 + 15_000 * i + (i * 7919) % 100, i as f64))
        .collect();
    let r = check_against_queue(&jittered, 64);
    let irregular = r.irregular.as_deref().expect("jitter is stored");
    assert!(
        irregular.escapes.is_none(),
        "changes under 127 ms fit a code"
    );
    assert_eq!(irregular.codes.len(), 64);
}

#[test]
fn escapes_round_trip_and_everything_irregular_is_freed_once_gone() {
    let mut points: Vec<_> = (0..10).map(|i| point(1000 * i, 0.5)).collect();
    // Interval changes on either side of what a code holds.
    let mut t = 9000;
    for change in [127, -127, 128, -128, 129, -129] {
        for delta in [1000 + change, 1000] {
            t += delta;
            points.push(point(t, 0.75));
        }
    }
    // A restarted sender: back in time, then out of order and a new interval.
    points.extend((0..10).map(|i| point(-5_000_000 + 1_000 * (i % 3), 0.25)));
    points.extend((0..10).map(|i| point(60_000 * i, 0.0)));
    let r = check_against_queue(&points, 30);
    assert!(r.escapes().is_some());
    let r = check_against_queue(&points, 8);
    assert!(
        r.irregular.is_none(),
        "the last 8 are a steady minute apart"
    );
}

#[test]
fn any_i64_timestamps_round_trip_without_overflow() {
    let extremes = [i64::MIN, i64::MAX, 0, -1, 1, i64::MIN + 1, i64::MAX - 1];
    let mut points: Vec<_> = extremes
        .iter()
        .chain(extremes.iter().rev())
        .enumerate()
        .map(|(i, &t)| point(t, i as f64))
        .collect();
    points.extend(
        random(7)
            .take(300)
            .map(|x| point(x as i64, f64::from_bits(x))),
    );
    for capacity in [1, 2, 3, 5, 16, 64, 1000] {
        check_against_queue(&points, capacity);
    }
}

#[test]
fn values_keep_their_exact_bits() {
    const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;
    let values = [
        f64::from_bits(STALE_NAN),
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff8_dead_beef_0001),
        -0.0,
        f64::INFINITY,
        f64::MIN_POSITIVE / 2.0,
    ];
    let points: Vec<_> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| point(1000 * i as i64, v))
        .collect();
    let r = check_against_queue(&points, 8);
    let want: Vec<_> = values.iter().map(|v| v.to_bits()).collect();
    assert_eq!(
        r.iter().map(|p| p.value.to_bits()).collect::<Vec<_>>(),
        want
    );
    check_against_queue(&points, 3);
}

#[test]
fn codes_cover_exactly_what_fits_in_a_byte() {
    for dod in -130..=130 {
        match encode(dod) {
            Some(code) => {
                assert_ne!(code, ESCAPE);
                assert_eq!(decode(code), dod);
            }
            None => assert!(!(-127..=127).contains(&dod), "{dod} should fit"),
        }
    }
    assert_eq!(encode(i64::MIN), None);
    assert_eq!(encode(i64::MAX), None);
}
