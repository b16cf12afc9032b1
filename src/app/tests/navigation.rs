//! A series opened from another tab opens in that tab: Back returns where the
//! user came from, and every tab keeps showing its own place.

use super::*;

/// The selected metric's name, as the Metrics list shows it.
fn selected_metric(app: &App, store: &Store) -> String {
    let id = app.current_metric().expect("a metric is open");
    store.str(store.metric(id).unwrap().name).to_owned()
}

#[test]
fn a_series_opened_from_recent_samples_leaves_the_metrics_tab_where_it_was() {
    let (mut app, mut store) = setup();
    // Metrics: into up's series (second by series count).
    app.apply(Action::Down(1), &mut store);
    app.apply(Action::Enter, &mut store);
    assert_eq!(app.open_list(), OpenList::Series);
    assert_eq!(selected_metric(&app, &store), "up");

    // Recent samples: Enter on the newest sample opens its series, there.
    app.apply(Action::GoTab(Tab::Log), &mut store);
    app.apply(Action::Enter, &mut store);
    assert_eq!(app.tab, Tab::Log);
    assert_eq!(app.open_list(), OpenList::Samples);
    let opened = app.current_detail().expect("a series is open");
    let screen = draw(&mut app, &store, 120, 30).join("\n");
    let text = store.series_text(&store.series(opened).unwrap().labels);
    assert!(screen.contains(&text), "{screen}");

    // 1: Metrics shows its own place, up's series, not the series opened.
    app.apply(Action::GoTab(Tab::Metrics), &mut store);
    assert_eq!(app.open_list(), OpenList::Series);
    assert_eq!(selected_metric(&app, &store), "up");
    let screen = draw(&mut app, &store, 120, 30).join("\n");
    assert!(screen.contains(" up · "), "{screen}");
    assert!(!screen.contains("Samples, newest first"), "{screen}");

    // 2: the sample's series is still open there; Back returns to the samples.
    app.apply(Action::GoTab(Tab::Log), &mut store);
    assert_eq!(app.current_detail(), Some(opened));
    app.apply(Action::Back, &mut store);
    assert_eq!(app.open_list(), OpenList::Log);
    // And Metrics is still where the user left it.
    app.apply(Action::NextTab, &mut store);
    app.apply(Action::PrevTab, &mut store);
    app.apply(Action::PrevTab, &mut store);
    assert_eq!(app.tab, Tab::Metrics);
    assert_eq!(app.open_list(), OpenList::Series);
    app.apply(Action::Back, &mut store);
    assert_eq!(app.open_list(), OpenList::Metrics);
}

#[test]
fn back_from_a_series_opened_from_recent_samples_returns_to_the_samples() {
    let (mut app, mut store) = setup();
    app.apply(Action::GoTab(Tab::Log), &mut store);
    app.apply(Action::Up(2), &mut store);
    app.apply(Action::Enter, &mut store);
    assert_eq!(app.open_list(), OpenList::Samples);
    app.apply(Action::Back, &mut store);
    assert_eq!(app.open_list(), OpenList::Log);
    // The Metrics tab never moved.
    app.apply(Action::GoTab(Tab::Metrics), &mut store);
    assert_eq!(app.open_list(), OpenList::Metrics);
    assert!(app.drill().is_empty());
}

#[test]
fn a_series_opened_from_a_problem_closes_back_to_the_rules_series() {
    let (mut app, mut store) = setup();
    let up_a = super::problems::id_of(&store, r#"up{job="a"}"#);
    let message: crate::problems::Message = "older".into();
    let finding = crate::store::problems::Finding {
        rule: crate::problems::Rule::OutOfOrder,
        count: 1,
        timestamp_ms: Some(T0 - 500),
        message: &message,
    };
    store.record_series_problem(up_a, &finding, T0);
    app.tick(T0, &store);
    app.apply(Action::Enter, &mut store); // Metrics: into http_requests_total
    app.apply(Action::GoTab(Tab::Problems), &mut store);
    let screen = draw(&mut app, &store, 120, 30).join("\n");
    assert!(screen.contains(" Problems (1 rule fired) "), "{screen}");
    app.apply(Action::Enter, &mut store);
    app.apply(Action::Enter, &mut store);
    assert_eq!((app.tab, app.current_detail()), (Tab::Problems, Some(up_a)));
    app.apply(Action::GoTab(Tab::Metrics), &mut store);
    assert_eq!(selected_metric(&app, &store), "http_requests_total");
    app.apply(Action::GoTab(Tab::Problems), &mut store);
    app.apply(Action::Back, &mut store);
    assert_eq!(app.open_list(), OpenList::ProblemSeries);
    app.apply(Action::Back, &mut store);
    assert_eq!(app.open_list(), OpenList::Problems);
}

#[test]
fn switching_to_another_tabs_series_shows_its_newest_samples() {
    let (mut app, mut store) = setup();
    for step in 1..30 {
        let at = T0 + step * 1000;
        store.ingest(&batch(at, &[(&[("__name__", "zeta"), ("job", "a")], 2.0)]));
        store.ingest(&batch(at, &[(&[("__name__", "up"), ("job", "a")], 1.0)]));
    }
    app.tick(T0 + 31_000, &store);
    // Metrics: zeta's series, scrolled back in its samples.
    app.apply(Action::Down(2), &mut store);
    app.apply(Action::Enter, &mut store);
    app.apply(Action::Enter, &mut store);
    draw(&mut app, &store, 120, 30);
    app.apply(Action::Down(5), &mut store);
    assert!(!app.samples.is_following());
    // Recent samples: the newest is up's; opened, it follows its newest.
    app.apply(Action::GoTab(Tab::Log), &mut store);
    app.apply(Action::Enter, &mut store);
    assert!(app.samples.is_following());
    let up = app.current_detail();
    draw(&mut app, &store, 120, 30);
    app.apply(Action::Down(3), &mut store);
    assert!(!app.samples.is_following());
    app.apply(Action::GoTab(Tab::Metrics), &mut store);
    assert_ne!(app.current_detail(), up);
    assert!(app.samples.is_following());
}
