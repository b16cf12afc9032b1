//! The dashboard's screens rendered with fixed data into a TestBackend at
//! 140×32 and compared with the snapshots in tests/snapshots/ (review changes
//! with `cargo insta review`).

mod dashboard;

use dashboard::{T0, apply, fixture, info, sample, screen};
use promscope::app::{Action, App, Tab};
use promscope::ingest::model::{Batch, Outcome, Protocol, WriteData};
use promscope::ingest::server::{Access, ClientCert};
use promscope::store::{Store, StoreLimits};

fn render(app: &App, store: &Store) -> String {
    screen(app, store, 140, 32)
}

#[test]
fn welcome() {
    let store = Store::new(StoreLimits::default());
    let app = App::new("127.0.0.1:9201".parse().unwrap(), T0);
    insta::assert_snapshot!(render(&app, &store));
}

#[test]
fn welcome_with_tls_and_credentials_shows_the_sender_side() {
    let store = Store::new(StoreLimits::default());
    let mut app = App::new("0.0.0.0:9201".parse().unwrap(), T0);
    app.access = Access {
        tls: true,
        client_cert: ClientCert::Required,
        basic_auth: true,
        bearer_token: true,
    };
    let screen = render(&app, &store);
    for shown in [
        "https://0.0.0.0:9201/api/v1/write",
        "tls_config:",
        "cert_file: client.pem",
        "basic_auth:",
        "#   credentials_file: token",
        "protobuf_message: io.prometheus.write.v2.Request",
    ] {
        assert!(screen.contains(shown), "{shown} not in\n{screen}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn metrics() {
    let (app, store) = fixture();
    insta::assert_snapshot!(render(&app, &store));
}

#[test]
fn metrics_sorted_by_name() {
    let (mut app, mut store) = fixture();
    // From the default (series) through samples/s to name.
    apply(
        &mut app,
        &mut store,
        &[Action::CycleSort, Action::CycleSort],
    );
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
    // Its flags are the rules the receiver's checker found.
    let checker = promscope::ingest::check::Checker::default();
    let (mut app, mut store) = dashboard::fixture_checked_by(Some(&checker));
    // room_temperature_celsius: third by series count, after up.
    apply(&mut app, &mut store, &[Action::Down(2), Action::Enter]);
    insta::assert_snapshot!(render(&app, &store));
}

#[test]
fn detail_with_histogram() {
    let (mut app, mut store) = fixture();
    apply(
        &mut app,
        &mut store,
        // rpc_duration_seconds: last by series count.
        &[Action::Down(3), Action::Enter, Action::Enter],
    );
    insta::assert_snapshot!(render(&app, &store));
}

#[test]
fn detail_of_float_series() {
    let checker = promscope::ingest::check::Checker::default();
    let (mut app, mut store) = dashboard::fixture_checked_by(Some(&checker));
    apply(
        &mut app,
        &mut store,
        &[
            Action::Down(2),
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

/// Label matchers typed without braces filter as the selector, and the filter
/// line says so while typing and once in force, at 80 and 140 columns.
#[test]
fn filter_without_braces() {
    let (mut app, mut store) = fixture();
    let typed = r#"code=~"[45]..""#;
    apply(
        &mut app,
        &mut store,
        &[Action::FilterEdit, Action::FilterSet(typed.into())],
    );
    let editing = render(&app, &store);
    assert!(
        editing.contains(r#"→ read as {code=~"[45].."}"#),
        "{editing}"
    );
    assert!(editing.contains("http_requests_total    2/3"), "{editing}");
    let small = screen(&app, &store, 80, 24);
    assert!(small.contains(r#"as {code=~"[45].."}"#), "{small}");
    apply(&mut app, &mut store, &[Action::FilterAccept]);
    let in_force = screen(&app, &store, 80, 24);
    assert!(in_force.contains(r#"as {code=~"[45].."}"#), "{in_force}");
    insta::assert_snapshot!(format!("{editing}\n{small}\n{in_force}"));
}

/// A regex that is label matchers with their quotes left out matches no
/// series text: the filter line suggests the selector.
#[test]
fn filter_suggests_quotes() {
    let (mut app, mut store) = fixture();
    apply(
        &mut app,
        &mut store,
        &[Action::FilterEdit, Action::FilterSet("code=500".into())],
    );
    let shown = render(&app, &store);
    assert!(shown.contains(r#"→ did you mean {code="500"}?"#), "{shown}");
    insta::assert_snapshot!(shown);
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

/// The header's sender is one still sending: a flood of connections that
/// never finished a request (600 refused, long ago, from a client without a
/// User-Agent) out-numbered a live Prometheus's requests, and the header
/// read `senders (no User-Agent) @ 127.0.0.1 RW1 idle 6m44s` while it sent
/// every 2 s.
#[test]
fn the_headers_sender_is_one_still_sending() {
    use promscope::ingest::model::RejectReason;
    let mut store = Store::new(StoreLimits::default());
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0 - 600_000);
    for i in 0..600 {
        let mut flood = info(T0 - 400_000 + i, Protocol::V1);
        flood.user_agent = None;
        flood.remote_addr = Some("10.9.9.9:4000".parse().unwrap());
        store.ingest(&Batch {
            info: flood,
            outcome: Outcome::Rejected {
                status: 408,
                reason: RejectReason::BodyRead,
                message: "body not received in time".into(),
            },
            data: WriteData::default(),
        });
    }
    for i in 0..5 {
        let mut data = WriteData::default();
        data.push_series(
            &[("__name__", "up")],
            &[sample(T0 - 10_000 + i * 2_000, 1.0)],
            &[],
        );
        store.ingest(&Batch {
            info: info(T0 - 10_000 + i * 2_000, Protocol::V1),
            outcome: Outcome::Accepted,
            data,
        });
    }
    apply(&mut app, &mut store, &[]);
    let screen = screen(&app, &store, 120, 40);
    let line = screen.lines().find(|l| l.contains("senders")).unwrap();
    assert!(
        line.contains("senders Prometheus/3.1.0 @ 10.1.2.3 RW1 +1 more, 1 idle"),
        "{screen}"
    );
}
