//! Requests taken a part at a time (see `app::receiving`).

use super::*;
use crate::app::receiving::INGEST_PART;
use std::cell::Cell;

/// One request of `n` series of one metric, one sample each.
fn request(n: usize) -> Batch {
    let ids: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let labels: Vec<[(&str, &str); 2]> = ids
        .iter()
        .map(|id| [("__name__", "big"), ("id", id.as_str())])
        .collect();
    let series: Vec<(&[(&str, &str)], f64)> = labels.iter().map(|l| (&l[..], 1.0)).collect();
    batch(T0, &series)
}

fn empty() -> (App, Store) {
    (
        App::new("127.0.0.1:9201".parse().unwrap(), T0),
        Store::new(StoreLimits::default()),
    )
}

#[test]
fn a_key_waiting_stops_a_big_request_after_a_part_and_the_rest_follows() {
    let (mut app, mut store) = empty();
    let looks = Cell::new(0);
    // A key comes once the second part is in.
    let give_way = || {
        looks.set(looks.get() + 1);
        looks.get() >= 2
    };
    app.receive_giving_way(request(5 * INGEST_PART), &mut store, &give_way);
    assert!(app.receiving());
    assert_eq!(store.log().len(), 2 * INGEST_PART);
    assert!(!app.go_on_receiving(&mut store, &|| false));
    // All in: the same store as taking it whole.
    let (mut whole_app, mut whole) = empty();
    whole_app.receive(request(5 * INGEST_PART), &mut whole);
    assert_eq!(store.log().len(), 5 * INGEST_PART);
    assert_eq!(store.totals().counts, whole.totals().counts);
    assert_eq!(store.requests().len(), 1);
    let metric = |s: &Store| {
        s.metrics()
            .map(|(_, m)| m.series_count())
            .collect::<Vec<_>>()
    };
    assert_eq!(metric(&store), metric(&whole));
}

#[test]
fn pausing_applies_the_rest_of_the_request_under_way_first() {
    let (mut app, mut store) = empty();
    app.receive_giving_way(request(3 * INGEST_PART), &mut store, &|| true);
    assert_eq!(store.log().len(), INGEST_PART);
    app.apply(Action::TogglePause, &mut store);
    assert!(!app.receiving());
    assert_eq!(store.log().len(), 3 * INGEST_PART);
}

#[test]
fn the_next_request_waits_for_the_one_under_way() {
    let (mut app, mut store) = empty();
    app.receive_giving_way(request(2 * INGEST_PART), &mut store, &|| true);
    app.receive_giving_way(request(1), &mut store, &|| true);
    // The first is all in before the second starts.
    assert!(!app.receiving());
    assert_eq!(store.log().len(), 2 * INGEST_PART + 1);
    assert_eq!(store.requests().len(), 2);
}
