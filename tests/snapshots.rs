//! Every screen of the dashboard rendered with fixed data into a TestBackend and
//! compared with the snapshots in tests/snapshots/ (review changes with `cargo insta review`).

mod dashboard;

use dashboard::{T0, apply, fixture, info, sample};
use promscope::app::{Action, App, Tab};
use promscope::ingest::model::{Batch, Outcome, Protocol, WriteData};
use promscope::store::{Store, StoreLimits};

fn render(app: &App, store: &Store) -> String {
    dashboard::screen(app, store, 140, 32)
}

#[test]
fn welcome() {
    let store = Store::new(StoreLimits::default());
    let app = App::new("127.0.0.1:9201".parse().unwrap(), T0);
    insta::assert_snapshot!(render(&app, &store));
}

#[test]
fn metrics() {
    let (app, store) = fixture();
    insta::assert_snapshot!(render(&app, &store));
}

#[test]
fn metrics_sorted_by_series_count() {
    let (mut app, mut store) = fixture();
    apply(&mut app, &mut store, &[Action::CycleSort]);
    insta::assert_snapshot!(render(&app, &store));
}

#[test]
fn series() {
    let (mut app, mut store) = fixture();
    apply(&mut app, &mut store, &[Action::Enter]);
    insta::assert_snapshot!(render(&app, &store));
}

#[test]
fn series_with_flags() {
    let (mut app, mut store) = fixture();
    apply(&mut app, &mut store, &[Action::Down(1), Action::Enter]);
    insta::assert_snapshot!(render(&app, &store));
}

#[test]
fn detail_with_histogram() {
    let (mut app, mut store) = fixture();
    apply(
        &mut app,
        &mut store,
        &[Action::Down(2), Action::Enter, Action::Enter],
    );
    insta::assert_snapshot!(render(&app, &store));
}

#[test]
fn detail_of_float_series() {
    let (mut app, mut store) = fixture();
    apply(
        &mut app,
        &mut store,
        &[
            Action::Down(1),
            Action::Enter,
            Action::Enter,
            Action::Down(2),
        ],
    );
    insta::assert_snapshot!(render(&app, &store));
}

#[test]
fn recent_samples() {
    let (mut app, mut store) = fixture();
    apply(&mut app, &mut store, &[Action::GoTab(Tab::Log)]);
    insta::assert_snapshot!(render(&app, &store));
}

#[test]
fn recent_samples_scrolled_back() {
    let (mut app, mut store) = fixture();
    apply(
        &mut app,
        &mut store,
        &[Action::GoTab(Tab::Log), Action::Up(30)],
    );
    insta::assert_snapshot!(render(&app, &store));
}

#[test]
fn requests() {
    let (mut app, mut store) = fixture();
    apply(&mut app, &mut store, &[Action::GoTab(Tab::Requests)]);
    insta::assert_snapshot!(render(&app, &store));
}

#[test]
fn help() {
    let (mut app, mut store) = fixture();
    apply(&mut app, &mut store, &[Action::ToggleHelp]);
    insta::assert_snapshot!(render(&app, &store));
}

#[test]
fn filter_selector() {
    let (mut app, mut store) = fixture();
    apply(
        &mut app,
        &mut store,
        &[
            Action::FilterEdit,
            Action::FilterSet(r#"{code=~"[45].."}"#.into()),
        ],
    );
    insta::assert_snapshot!(render(&app, &store));
}

#[test]
fn filter_error() {
    let (mut app, mut store) = fixture();
    apply(
        &mut app,
        &mut store,
        &[
            Action::FilterEdit,
            Action::FilterSet("up".into()),
            Action::FilterType('('),
        ],
    );
    insta::assert_snapshot!(render(&app, &store));
}

#[test]
fn paused() {
    let (mut app, mut store) = fixture();
    apply(&mut app, &mut store, &[Action::TogglePause]);
    let (_, mut more) = fixture();
    let mut data = WriteData::default();
    data.push_series(&[("__name__", "late_metric")], &[sample(T0, 1.0)], &[]);
    app.receive(
        Batch {
            info: info(T0 + 1_000, Protocol::V1),
            outcome: Outcome::Accepted,
            data,
        },
        &mut more,
    );
    app.tick(T0 + 5_000, &store);
    insta::assert_snapshot!(render(&app, &store));
}

#[test]
fn extreme_timestamps_render_without_panicking() {
    let weird = || {
        let mut store = Store::new(StoreLimits::default());
        let mut data = WriteData::default();
        let samples = [
            sample(i64::MIN, 1.0),
            sample(i64::MAX, f64::NAN),
            sample(0, -0.0),
        ];
        data.push_series(&[("__name__", "weird")], &samples, &[]);
        store.ingest(&Batch {
            info: info(T0, Protocol::V1),
            outcome: Outcome::Accepted,
            data,
        });
        store
    };
    let views: [&[Action]; 4] = [
        &[],
        &[Action::Enter],
        &[Action::Enter, Action::Enter],
        &[Action::GoTab(Tab::Log)],
    ];
    for actions in views {
        let mut store = weird();
        let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0);
        apply(&mut app, &mut store, actions);
        let screen = render(&app, &store);
        assert!(screen.contains("weird"), "{screen}");
    }
}
