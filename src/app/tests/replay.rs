//! A replayed capture on the dashboard: with the replay's clock, the header's
//! rates and "idle" say what they said live when the requests arrived, flat
//! out or paced, across a pause; the wall clock would not.

use std::time::Instant;

use super::*;
use crate::app::replay::{ReplayClock, Speed};

/// Ten requests a second apart from one sender, 100 samples each, the first at `T0`.
fn recorded() -> Vec<Batch> {
    let names: Vec<String> = (0..100).map(|i| format!("pod-{i}")).collect();
    let labels: Vec<[(&str, &str); 2]> = names
        .iter()
        .map(|n| [("__name__", "up"), ("pod", n.as_str())])
        .collect();
    let series: Vec<(&[(&str, &str)], f64)> = labels.iter().map(|l| (&l[..], 1.0)).collect();
    (0..10).map(|i| batch(T0 + i * 1000, &series)).collect()
}

/// The header's traffic and senders lines, as the live dashboard drew them at `now`
/// with the requests that had arrived by then.
fn live_header(now: i64) -> Vec<String> {
    let mut store = Store::new(StoreLimits::default());
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0);
    for b in recorded().iter().filter(|b| arrival(b) <= now) {
        store.ingest(b);
    }
    app.tick(now, &store);
    draw(&mut app, &store, 160, 10)[1..3].to_vec()
}

fn arrival(b: &Batch) -> i64 {
    crate::app::replay::epoch_ms(b.info.received_at)
}

/// Months after the recording: what the wall clock says while replaying.
const WALL_MS: i64 = T0 + 90 * 86_400_000;

/// The dashboard replaying with `clock`: the screen's time is the clock's at
/// `wall`, the typing pause's the wall clock's.
fn header_at(app: &mut App, store: &Store, clock: &ReplayClock, wall: Instant) -> Vec<String> {
    let now = clock.now_ms(wall).expect("a request was taken");
    app.tick_at(now, WALL_MS, store);
    draw(app, store, 160, 10)[1..3].to_vec()
}

#[test]
fn flat_out_the_header_says_what_it_said_live_at_the_last_request() {
    let (mut app, mut store) = (
        App::new("0.0.0.0:0".parse().unwrap(), WALL_MS),
        Store::new(StoreLimits::default()),
    );
    let mut clock = ReplayClock::new(Speed::Max);
    let wall = Instant::now();
    for b in recorded() {
        assert_eq!(clock.due(arrival(&b), wall), None, "flat out: never waits");
        clock.taken(arrival(&b));
        app.receive(b, &mut store);
    }
    clock.end();
    // An hour of wall time after the end, rates are those of the recording.
    let replayed = header_at(&mut app, &store, &clock, wall + Duration::from_secs(3600));
    assert_eq!(replayed, live_header(T0 + 9_000));
    assert!(replayed[0].contains("samples 1.0k ("), "{replayed:#?}");
    assert!(!replayed[1].contains("idle"), "{replayed:#?}");
    // The wall clock would show a stopped sender and no traffic.
    app.tick(WALL_MS, &store);
    let by_wall = draw(&mut app, &store, 160, 10)[1..3].to_vec();
    assert_ne!(by_wall, replayed);
    assert!(by_wall[1].contains("idle"), "{by_wall:#?}");
}

#[test]
fn paced_through_a_pause_the_header_follows_the_recorded_time() {
    let (mut app, mut store) = (
        App::new("0.0.0.0:0".parse().unwrap(), WALL_MS),
        Store::new(StoreLimits::default()),
    );
    let mut clock = ReplayClock::new(Speed::Times(2.0));
    let start = Instant::now();
    let secs = |s: f64| start + Duration::from_secs_f64(s);
    let mut batches = recorded().into_iter();
    // At twice the pace the first five requests (0..4 s recorded) take 2 s.
    for b in batches.by_ref().take(5) {
        let due = clock.due(arrival(&b), start).unwrap_or(start);
        assert_eq!(due, secs((arrival(&b) - T0) as f64 / 2000.0));
        clock.taken(arrival(&b));
        app.receive(b, &mut store);
    }
    assert_eq!(
        header_at(&mut app, &store, &clock, secs(2.25)),
        live_header(T0 + 4_500)
    );
    // Paused for a minute: the screen and the clock stand still.
    app.apply(Action::TogglePause, &mut store);
    clock.pause(secs(2.25));
    let paused = header_at(&mut app, &store, &clock, secs(62.25));
    assert_eq!(paused, live_header(T0 + 4_500));
    app.apply(Action::TogglePause, &mut store);
    clock.resume(secs(62.25));
    // The rest come at their recorded gaps after the pause, not all at once.
    for b in batches {
        let due = clock.due(arrival(&b), secs(62.25));
        assert_eq!(due, Some(secs(60.0 + (arrival(&b) - T0) as f64 / 2000.0)));
        clock.taken(arrival(&b));
        app.receive(b, &mut store);
    }
    // 15 s of recorded time after the last request: the sender had stopped.
    let idle = header_at(&mut app, &store, &clock, secs(60.0 + 12.0));
    assert_eq!(idle, live_header(T0 + 24_000));
    assert!(idle[1].contains("idle 15s"), "{idle:#?}");
}
