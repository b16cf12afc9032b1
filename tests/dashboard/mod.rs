//! Dashboard fixtures shared by the rendering tests: a store fed with ordinary
//! traffic, one fed with hostile values and strings, and helpers to reach a
//! view and render it into a TestBackend.
#![allow(dead_code)] // each test binary uses a different subset

pub mod hostile;
pub mod numbers;
pub mod request;

use std::time::{Duration, UNIX_EPOCH};

use promscope::app::{Action, App, Tab};
use promscope::ingest::model::{
    Batch, Exemplar, Histogram, LabelRef, Metadata, MetricType, Outcome, Protocol, RejectReason,
    Repeats, RequestInfo, Sample, WriteData,
};
use promscope::problems::{Message, Rule};
use promscope::proto::rw2::{BucketSpan, histogram};
use promscope::store::problems::Finding;
use promscope::store::{SeriesId, Store, StoreLimits};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

/// The fixtures' "now".
pub const T0: i64 = 1_732_000_000_000;

/// The terminal sizes every view is checked at.
pub const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 50)];

/// Prometheus's stale marker.
pub fn stale_nan() -> f64 {
    f64::from_bits(0x7ff0_0000_0000_0002)
}

pub fn info(arrival_ms: i64, protocol: Protocol) -> RequestInfo {
    RequestInfo {
        received_at: UNIX_EPOCH + Duration::from_millis(arrival_ms as u64),
        remote_addr: Some("10.1.2.3:51234".parse().unwrap()),
        path: "/api/v1/write".into(),
        user_agent: Some("Prometheus/3.1.0".into()),
        protocol: Some(protocol),
        compressed_bytes: 2_345,
        decoded_bytes: 9_876,
        retry_attempt: None,
        tenant: None,
        raw: None,
        repeats: Repeats::Alone,
    }
}

pub fn sample(timestamp_ms: i64, value: f64) -> Sample {
    Sample {
        value,
        timestamp_ms,
        start_timestamp_ms: 0,
    }
}

pub fn histogram_at(timestamp: i64, scale: u64) -> Histogram {
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

/// A new dashboard over the fixtures' receiver address.
pub fn app(started_ms: i64) -> App {
    App::new("127.0.0.1:9201".parse().unwrap(), started_ms)
}

/// The dashboard before any data arrived.
pub fn welcome() -> (App, Store) {
    (app(T0), Store::new(StoreLimits::default()))
}

/// A store with three metrics fed for a minute, one rejected request, a stale
/// marker and an out-of-order sample.
pub fn fixture() -> (App, Store) {
    fixture_checked_by(None)
}

/// [`fixture`] with every request checked by `checker` first, as the receiver
/// checks them: the out-of-order sample fires its rule.
pub fn fixture_checked_by(checker: Option<&promscope::ingest::check::Checker>) -> (App, Store) {
    let mut store = Store::new(StoreLimits::default());
    let mut app = app(T0 - 120_000);
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
            stale_nan()
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
        if let Some(checker) = checker {
            checker.check(&mut data, Some(Protocol::V2), at);
        }
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

/// Each view of the dashboard (welcome aside), as the actions that reach it
/// from the start in [`hostile`]'s dashboard.
pub fn every_view() -> Vec<(&'static str, Vec<Action>)> {
    vec![
        ("metrics", vec![]),
        ("series", open_series(r#"{__name__="hostile_value"}"#)),
        (
            "detail_of_floats",
            open_detail(r#"{__name__="hostile_value", case="long_float"}"#),
        ),
        (
            "detail_of_a_histogram",
            open_detail(r#"{__name__="hostile_histogram_custom_bounds"}"#),
        ),
        (
            "detail_with_hostile_text",
            open_detail(r#"{__name__=~"hostile_text_1.*"}"#),
        ),
        ("recent_samples", vec![Action::GoTab(Tab::Log)]),
        (
            "recent_samples_scrolled_back",
            vec![Action::GoTab(Tab::Log), Action::Up(3)],
        ),
        ("requests", vec![Action::GoTab(Tab::Requests)]),
        ("problems", vec![Action::GoTab(Tab::Problems)]),
        (
            "problem_series",
            vec![Action::GoTab(Tab::Problems), Action::Down(1), Action::Enter],
        ),
        (
            "problem_requests",
            // Sorted by rule id: duplicate-sample, then empty-request.
            vec![
                Action::GoTab(Tab::Problems),
                Action::CycleSort,
                Action::CycleSort,
                Action::CycleSort,
                Action::Top,
                Action::Down(1),
                Action::Enter,
            ],
        ),
        ("help", vec![Action::ToggleHelp]),
        (
            "filter_editing",
            vec![Action::FilterEdit, Action::FilterSet("hostile_(".into())],
        ),
        ("paused", vec![Action::TogglePause]),
        ("cardinality", vec![Action::GoTab(Tab::Cardinality)]),
        (
            "cardinality_labels",
            cardinality_of(r#"{__name__=~"hostile_text_1.*"}"#),
        ),
        (
            "cardinality_values",
            [
                cardinality_of(r#"{__name__=~"hostile_text_1.*"}"#),
                vec![Action::Enter, Action::Down(1)],
            ]
            .concat(),
        ),
    ]
}

/// Actions that open the cardinality of the first metric matching `selector`.
pub fn cardinality_of(selector: &str) -> Vec<Action> {
    [open_series(selector), vec![Action::OpenCardinality]].concat()
}

/// Applies `actions`, then advances the clock to [`T0`].
pub fn apply(app: &mut App, store: &mut Store, actions: &[Action]) {
    for a in actions {
        app.apply(a.clone(), store);
    }
    app.tick(T0, store);
}

/// Actions that narrow the dashboard to the series matching `selector` and
/// open the first metric's series list.
pub fn open_series(selector: &str) -> Vec<Action> {
    vec![
        Action::FilterEdit,
        Action::FilterSet(selector.into()),
        Action::FilterAccept,
        Action::Enter,
    ]
}

/// Actions that narrow the dashboard to the series matching `selector` and
/// open the first one's detail.
pub fn open_detail(selector: &str) -> Vec<Action> {
    let mut actions = open_series(selector);
    actions.push(Action::Enter);
    actions
}

/// The screen drawn at `width`×`height`.
pub fn draw(app: &App, store: &Store, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| promscope::ui::render(f, app, store))
        .unwrap();
    terminal.backend().buffer().clone()
}

/// The screen drawn at `width`×`height`, as text.
pub fn screen(app: &App, store: &Store, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| promscope::ui::render(f, app, store))
        .unwrap();
    terminal.backend().to_string()
}
