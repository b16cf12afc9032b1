//! Every screen of the dashboard rendered with fixed data into a TestBackend and
//! compared with the snapshots in tests/snapshots/ (review changes with `cargo insta review`).

use std::time::{Duration, UNIX_EPOCH};

use promscope::app::{Action, App, Tab};
use promscope::ingest::model::{
    Batch, Histogram, Outcome, Protocol, RejectReason, RequestInfo, Sample, WriteData,
};
use promscope::proto::rw2::{BucketSpan, histogram};
use promscope::store::{Store, StoreLimits};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const T0: i64 = 1_732_000_000_000;

fn info(arrival_ms: i64, protocol: Protocol) -> RequestInfo {
    RequestInfo {
        received_at: UNIX_EPOCH + Duration::from_millis(arrival_ms as u64),
        remote_addr: Some("10.1.2.3:51234".parse().unwrap()),
        path: "/api/v1/write".into(),
        user_agent: Some("Prometheus/3.1.0".into()),
        protocol: Some(protocol),
        compressed_bytes: 2_345,
        decoded_bytes: 9_876,
        retry_attempt: None,
        org_id: None,
        remote_write_version: Some("2.0.0".into()),
    }
}

fn sample(timestamp_ms: i64, value: f64) -> Sample {
    Sample {
        value,
        timestamp_ms,
        start_timestamp_ms: 0,
    }
}

fn histogram_at(timestamp: i64, scale: u64) -> Histogram {
    Histogram {
        count: Some(histogram::Count::CountInt(6 * scale)),
        sum: 1.25 * scale as f64,
        schema: 0,
        zero_threshold: 1e-128,
        zero_count: Some(histogram::ZeroCount::ZeroCountInt(scale)),
        positive_spans: vec![BucketSpan {
            offset: -1,
            length: 3,
        }],
        positive_deltas: vec![scale as i64, scale as i64, -(scale as i64)],
        timestamp,
        ..Default::default()
    }
}

/// A store with three metrics fed for a minute, one rejected request, a stale
/// marker and an out-of-order sample.
fn fixture() -> (App, Store) {
    let mut store = Store::new(StoreLimits::default());
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0 - 120_000);
    for step in 0..12 {
        let at = T0 - 60_000 + step * 5_000;
        let ts = at - 1_200;
        let mut data = WriteData::default();
        for (instance, up) in [
            ("node-a:9100", 1.0),
            ("node-b:9100", if step == 11 { 0.0 } else { 1.0 }),
        ] {
            data.push_series(
                &[("__name__", "up"), ("instance", instance), ("job", "node")],
                &[sample(ts, up)],
                &[],
            );
        }
        for (code, base) in [("200", 1000.0), ("500", 3.0), ("404", 40.0)] {
            let v = base + step as f64 * base / 10.0;
            data.push_series(
                &[
                    ("__name__", "http_requests_total"),
                    ("code", code),
                    ("handler", "/api"),
                    ("job", "api"),
                ],
                &[sample(ts, v)],
                &[],
            );
        }
        let last_temp = if step == 11 {
            f64::from_bits(0x7ff0_0000_0000_0002)
        } else {
            21.5 + (step % 4) as f64 * 0.25
        };
        // Step 6 arrives with a timestamp older than step 5's.
        let temp_ts = if step == 6 { ts - 10_000 } else { ts };
        data.push_series(
            &[("__name__", "room_temperature_celsius"), ("room", "lab")],
            &[sample(temp_ts, last_temp)],
            &[],
        );
        data.push_series(
            &[("__name__", "rpc_duration_seconds"), ("service", "auth")],
            &[],
            &[histogram_at(ts, step as u64 + 1)],
        );
        store.ingest(&Batch {
            info: info(at, Protocol::V2),
            outcome: Outcome::Accepted,
            data,
        });
    }
    store.ingest(&Batch {
        info: info(T0 - 500, Protocol::V1),
        outcome: Outcome::Rejected {
            status: 400,
            reason: RejectReason::Snappy,
            message: "body is not valid snappy block data: snappy: corrupt input (it looks gzip-compressed)".into(),
        },
        data: WriteData::default(),
    });
    app.tick(T0, &store);
    (app, store)
}

fn render(app: &App, store: &Store) -> String {
    let mut terminal = Terminal::new(TestBackend::new(140, 32)).unwrap();
    terminal
        .draw(|f| promscope::ui::render(f, app, store))
        .unwrap();
    terminal.backend().to_string()
}

fn apply(app: &mut App, store: &mut Store, actions: &[Action]) {
    for a in actions {
        app.apply(a.clone(), store);
    }
    app.tick(T0, store);
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
