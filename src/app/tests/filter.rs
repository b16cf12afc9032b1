//! Editing the filter: it applies when typing pauses, where the user is; Esc
//! cancels the edit; Enter on an invalid filter changes nothing.

use super::*;

/// Types `text` a key every 50 ms from `at` (faster than the typing pause).
fn type_text(app: &mut App, store: &mut Store, at: i64, text: &str) -> i64 {
    let mut now = at;
    for c in text.chars() {
        app.tick(now, store);
        app.apply(Action::FilterType(c), store);
        app.apply_typed_filter(now, store);
        now += 50;
    }
    now
}

/// Lets typing pause: what was typed applies.
fn pause_typing(app: &mut App, store: &mut Store, at: i64) -> i64 {
    let now = at + TYPING_PAUSE_MS;
    app.tick(now, store);
    app.apply_typed_filter(now, store);
    app.refresh(store);
    now
}

#[test]
fn a_typed_filter_applies_once_typing_pauses() {
    let (mut app, mut store) = setup();
    app.apply(Action::FilterEdit, &mut store);
    let now = type_text(&mut app, &mut store, T0 + 2000, r#"{job="b"}"#);
    // Keys came every 50 ms: nothing applied while typing.
    assert!(store.filter().is_all());
    assert_eq!(names(&app, &store).len(), 3);
    pause_typing(&mut app, &mut store, now);
    assert_eq!(store.filter().source(), r#"{job="b"}"#);
    assert_eq!(names(&app, &store), ["up"]);
    assert!(app.filter.editing);
    app.apply(Action::FilterAccept, &mut store);
    assert!(!app.filter.editing);
    assert_eq!(store.filter().source(), r#"{job="b"}"#);
}

#[test]
fn enter_applies_what_was_typed_without_waiting() {
    let (mut app, mut store) = setup();
    app.apply(Action::FilterEdit, &mut store);
    type_text(&mut app, &mut store, T0 + 2000, "zeta");
    app.apply(Action::FilterAccept, &mut store);
    assert_eq!(store.filter().source(), "zeta");
    assert_eq!(names(&app, &store), ["zeta"]);
}

#[test]
fn filtering_inside_a_drill_down_narrows_its_series_where_the_user_is() {
    let (mut app, mut store) = setup();
    // Into http_requests_total (most series, first), on its second series (code 404).
    app.apply(Action::Enter, &mut store);
    app.apply(Action::Down(1), &mut store);
    let selected = app.series.list.selected().unwrap().id;
    app.apply(Action::FilterEdit, &mut store);
    let now = type_text(&mut app, &mut store, T0 + 2000, r#"{code=~"4..|5.."}"#);
    pause_typing(&mut app, &mut store, now);
    app.apply(Action::FilterAccept, &mut store);
    // Still in that metric's series, on the same series; only those matching.
    assert!(matches!(app.drill().last(), Some(Drill::Series { .. })));
    assert_eq!(app.series.list.rows().len(), 2);
    assert_eq!(app.series.list.selected().unwrap().id, selected);
    let screen = draw(&mut app, &store, 140, 30);
    let title = screen
        .iter()
        .find(|l| l.contains("http_requests_total ·"))
        .unwrap();
    assert!(title.contains("2 of 3 series match the filter"), "{title}");
    // The same inside a series' detail: it stays open.
    app.apply(Action::Enter, &mut store);
    let open = app.current_detail();
    app.apply(Action::FilterEdit, &mut store);
    app.apply(Action::FilterSet(r#"{code="404"}"#.into()), &mut store);
    app.apply(Action::FilterAccept, &mut store);
    assert_eq!(app.current_detail(), open);
    app.apply(Action::Back, &mut store);
    assert_eq!(app.series.list.rows().len(), 1);
}

#[test]
fn esc_while_editing_goes_back_to_the_filter_in_force_before() {
    let (mut app, mut store) = setup();
    app.apply(Action::FilterEdit, &mut store);
    app.apply(Action::FilterSet("up".into()), &mut store);
    app.apply(Action::FilterAccept, &mut store);
    assert_eq!(names(&app, &store), ["up"]);
    app.apply(Action::FilterEdit, &mut store);
    app.apply(Action::FilterBackspace, &mut store);
    app.apply(Action::FilterBackspace, &mut store);
    let now = type_text(&mut app, &mut store, T0 + 2000, "zeta");
    pause_typing(&mut app, &mut store, now);
    assert_eq!(names(&app, &store), ["zeta"]);
    app.apply(Action::FilterCancel, &mut store);
    assert!(!app.filter.editing);
    assert_eq!(store.filter().source(), "up");
    assert_eq!(app.filter.text, "up");
    assert_eq!(names(&app, &store), ["up"]);
    // Ctrl-u then Enter clears it.
    app.apply(Action::FilterEdit, &mut store);
    app.apply(Action::FilterSet(String::new()), &mut store);
    app.apply(Action::FilterAccept, &mut store);
    assert!(store.filter().is_all());
    assert_eq!(names(&app, &store).len(), 3);
}

#[test]
fn enter_on_an_invalid_filter_changes_nothing_and_says_so() {
    let (mut app, mut store) = setup();
    app.apply(Action::FilterEdit, &mut store);
    let now = type_text(&mut app, &mut store, T0 + 2000, "http_re");
    let now = pause_typing(&mut app, &mut store, now);
    assert_eq!(store.filter().source(), "http_re");
    type_text(&mut app, &mut store, now, "(1");
    assert!(app.filter.error.is_some());
    app.apply(Action::FilterAccept, &mut store);
    // Still editing what was typed; the last valid filter stays in force.
    assert!(app.filter.editing);
    assert_eq!(app.filter.text, "http_re(1");
    assert_eq!(store.filter().source(), "http_re");
    // Wide enough for four tabs, the line and the message whole.
    let screen = draw(&mut app, &store, 160, 30);
    let line = screen.iter().find(|l| l.contains("filter:")).unwrap();
    assert!(line.contains("http_re(1"), "{line}");
    assert!(line.contains("not applied; in force: http_re"), "{line}");
    // Fixed, it applies.
    app.apply(Action::FilterType(')'), &mut store);
    app.apply(Action::FilterAccept, &mut store);
    assert!(!app.filter.editing);
    assert_eq!(store.filter().source(), "http_re(1)");
}

/// A second of traffic at `at`: `up` has one series with job="a" and four
/// with job="b"; `zeta` two with job="a"; one sample each.
fn second_of_traffic(at: i64) -> Batch {
    let up_b: Vec<[(&str, String); 3]> = (0..4)
        .map(|i| {
            [
                ("__name__", "up".into()),
                ("job", "b".into()),
                ("i", i.to_string()),
            ]
        })
        .collect();
    let mut series: Vec<Vec<(&str, &str)>> = vec![
        vec![("__name__", "up"), ("job", "a")],
        vec![("__name__", "zeta"), ("job", "a"), ("i", "0")],
        vec![("__name__", "zeta"), ("job", "a"), ("i", "1")],
    ];
    series.extend(
        up_b.iter()
            .map(|l| l.iter().map(|(n, v)| (*n, v.as_str())).collect()),
    );
    let series: Vec<(&[(&str, &str)], f64)> = series.iter().map(|l| (l.as_slice(), 1.0)).collect();
    batch(at, &series)
}

#[test]
fn a_filter_narrows_each_metrics_rate_and_sparkline_to_its_matching_series() {
    let mut store = Store::new(StoreLimits::default());
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0);
    for s in 0..60 {
        store.ingest(&second_of_traffic(T0 + s * 1000));
    }
    app.tick(T0 + 60_000, &store);
    app.apply(Action::FilterSet(r#"{job="a"}"#.into()), &mut store);
    for s in 60..90 {
        store.ingest(&second_of_traffic(T0 + s * 1000));
    }
    app.tick(T0 + 90_000, &store);
    // By samples/s: zeta's two matching series send more than up's one.
    app.apply(Action::CycleSort, &mut store);
    assert_eq!(app.metrics.sort(), MetricSort::Rate);
    assert_eq!(names(&app, &store), ["zeta", "up"]);
    let screen = draw(&mut app, &store, 100, 12);
    let row = |name: &str| -> Vec<String> {
        let line = screen.iter().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace().map(str::to_owned).collect()
    };
    // Series, samples/s, then the sparkline.
    assert_eq!(row("up")[1..3], ["1/5", "1"], "{screen:#?}");
    assert_eq!(row("zeta")[1..3], ["2/2", "2"], "{screen:#?}");
    // up's matching series were counted from the filter change on, and for
    // the 10 s window before it (40 s of the 2 minutes): the sparkline is
    // blank before; zeta's all match, so its whole history is theirs.
    let up = store.metric(app.metrics.rows()[1].id).unwrap();
    let columns = up.matched_rate().unwrap().series(T0 + 90_000, 30, 4);
    assert!(columns[..20].iter().all(|c| c.is_nan()), "{columns:?}");
    assert!(columns[20..].iter().all(|&c| c == 1.0), "{columns:?}");
    // Drawn in 2 s columns: zeta's since the start (90 s, 45 columns; before
    // it nothing was listening: blank), up's for its last 40 s (20 columns).
    assert_eq!(row("zeta")[3], "█".repeat(45), "{screen:#?}");
    assert_eq!(row("up")[3], "█".repeat(20), "{screen:#?}");
}

#[test]
fn a_filter_gives_way_to_a_waiting_key_and_applies_once_keys_are_handled() {
    let (mut app, mut store) = setup();
    app.apply(Action::FilterEdit, &mut store);
    let now = type_text(&mut app, &mut store, T0 + 2000, r#"{job="b"}"#);
    // A key arrives as typing pauses: the filter waits for it.
    app.keys_waiting.sent();
    let now = pause_typing(&mut app, &mut store, now);
    assert!(store.filter().is_all());
    assert!(app.filter_waiting());
    // The key is handled (another one typed, then erased): the same filter applies.
    app.keys_waiting.taken();
    app.apply(Action::FilterType('x'), &mut store);
    app.apply(Action::FilterBackspace, &mut store);
    let now = pause_typing(&mut app, &mut store, now);
    assert_eq!(store.filter().source(), r#"{job="b"}"#);
    assert!(!app.filter_waiting());

    // Enter while a key waits: the accepted filter applies after it.
    app.apply(Action::FilterSet(r#"{job="a"}"#.into()), &mut store);
    app.keys_waiting.sent();
    app.apply(Action::FilterSet(r#"{code="500"}"#.into()), &mut store);
    app.apply(Action::FilterAccept, &mut store);
    assert_eq!(store.filter().source(), r#"{job="a"}"#);
    // Editing again starts from the filter chosen, not the one in force.
    app.apply(Action::FilterEdit, &mut store);
    assert_eq!(app.filter.text, r#"{code="500"}"#);
    app.apply(Action::FilterCancel, &mut store);
    app.keys_waiting.taken();
    app.tick(now + 1000, &store);
    app.apply_typed_filter(now + 1000, &mut store);
    assert_eq!(store.filter().source(), r#"{code="500"}"#);
    assert!(!app.filter_waiting());
}

#[test]
fn a_drill_down_filtered_to_nothing_says_so_in_a_whole_title() {
    let (mut app, mut store) = (
        App::new("127.0.0.1:9201".parse().unwrap(), T0),
        Store::new(StoreLimits::default()),
    );
    let name = "pg_statement_duration_seconds_bucket";
    let les = ["0.1", "0.5", "1", "+Inf"];
    let labels: Vec<[(&str, &str); 3]> = les
        .iter()
        .map(|le| [("__name__", name), ("job", "postgres"), ("le", le)])
        .collect();
    let rows: Vec<(&[(&str, &str)], f64)> = labels.iter().map(|l| (&l[..], 4.0)).collect();
    store.ingest(&batch(T0 + 1000, &rows));
    app.tick(T0 + 2000, &store);
    app.apply(Action::Enter, &mut store);
    assert_eq!(
        app.current_metric()
            .and_then(|id| store.metric(id))
            .map(|m| store.str(m.name)),
        Some(name)
    );
    app.apply(Action::FilterEdit, &mut store);
    let now = type_text(&mut app, &mut store, T0 + 3000, r#"{le="5"}"#);
    app.apply(Action::FilterAccept, &mut store);
    app.tick(now, &store);
    app.refresh(&store);
    let screen = draw(&mut app, &store, 80, 24);
    let all = screen.join("\n");
    let title = screen
        .iter()
        .find(|l| l.contains(name))
        .unwrap_or_else(|| panic!("{all}"));
    // The order shows whole, after a shorter count.
    assert!(
        title.contains(&format!("{name} · 0 of 4 series match sorted by labels")),
        "{all}"
    );
    // Float series (a classic histogram's buckets): their values, not counts.
    let header = screen
        .iter()
        .find(|l| l.starts_with("LABELS"))
        .unwrap_or_else(|| panic!("{all}"));
    assert!(
        header.contains("VALUE") && !header.contains("COUNT"),
        "{all}"
    );
    assert!(all.contains("None of its series match the filter"), "{all}");
}
