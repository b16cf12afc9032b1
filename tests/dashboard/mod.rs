//! Dashboard fixtures shared by the rendering tests: a store fed with ordinary
//! traffic, one fed with hostile values and strings, and helpers to reach a
//! view and render it into a TestBackend.
#![allow(dead_code)] // each test binary uses a different subset

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

/// Value sequences no chart, sparkline or number column can take for granted,
/// each sent as the samples of one series of `hostile_value`.
pub const HOSTILE_VALUES: &[(&str, &[f64])] = &[
    ("zero_to_1e307", &[0.0, 1e307, 0.0, 1e307]),
    ("full_range", &[-1e308, 1e308, f64::MAX, f64::MIN]),
    (
        "non_finite",
        &[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1.0],
    ),
    (
        "only_non_finite",
        &[f64::NAN, f64::INFINITY, f64::NEG_INFINITY],
    ),
    ("all_equal", &[7.25, 7.25, 7.25]),
    ("subnormal", &[5e-324, 1e-323, 0.0, -5e-324]),
    ("long_float", &[13.705352776068167, 90.90144205269057, 0.1]),
    ("huge_tiny", &[1e300, -1e-300, -123456789.125]),
    ("stale", &[1.0, f64::NAN, f64::NAN]),
];

/// Samples of the one `burst_total` series in [`hostile`].
pub const BURST_SAMPLES: usize = 12_345;

/// Requests [`BURST_SAMPLES`] come in, a second apart.
pub const BURST_REQUESTS: usize = 10;

/// Timestamps at the ends of i64 for a series' samples.
const EXTREME_TIMESTAMPS: [i64; 4] = [i64::MIN, i64::MAX, 0, -1];

/// Strings a sender controls, with controls, bidi overrides, zero-width and wide characters.
pub const HOSTILE_TEXT: &[&str] = &[
    "xx\u{8}\u{8}yy",
    "\u{1b}]0;pwned\u{7}\u{1b}[2J",
    "abc\u{202e}cba",
    "a\u{200b}b\u{feff}c\u{2066}d",
    "\u{85}c1\u{9b}31m",
    "宽字符🙂标签",
];

/// A store fed with every entry of [`HOSTILE_VALUES`] (one sample per request,
/// at 5 s intervals, the stale series ending in the stale marker), a series at
/// i64-extreme timestamps, float and integer histograms with non-finite and
/// huge counts and bounds, a histogram with many buckets, metric names and
/// label values that differ only at their end, a burst of
/// [`BURST_SAMPLES`] samples, and metric names, labels, metadata, exemplars,
/// user-agents and paths holding [`HOSTILE_TEXT`].
pub fn hostile() -> (App, Store) {
    let mut store = Store::new(StoreLimits::default());
    let mut app = app(T0 - 120_000);
    let longest = HOSTILE_VALUES
        .iter()
        .map(|(_, v)| v.len())
        .max()
        .unwrap_or(0);
    for step in 0..longest {
        let at = T0 - 30_000 + step as i64 * 5_000;
        let mut data = WriteData::default();
        for (case, values) in HOSTILE_VALUES {
            let Some(&v) = values.get(step) else { continue };
            let v = if *case == "stale" && step + 1 == values.len() {
                stale_nan()
            } else {
                v
            };
            data.push_series(
                &[("__name__", "hostile_value"), ("case", case)],
                &[sample(at - 1_000, v)],
                &[],
            );
        }
        let mut info = info(at, Protocol::V2);
        info.user_agent = Some(HOSTILE_TEXT[step % HOSTILE_TEXT.len()].into());
        info.path = format!(
            "/api/v1/write{}",
            HOSTILE_TEXT[(step + 1) % HOSTILE_TEXT.len()]
        );
        store.ingest(&Batch {
            info,
            outcome: Outcome::Accepted,
            data,
        });
    }
    let mut data = WriteData::default();
    let extremes: Vec<Sample> = EXTREME_TIMESTAMPS
        .iter()
        .zip([1.0, f64::NAN, -0.0, 1e307])
        .map(|(&t, v)| sample(t, v))
        .collect();
    data.push_series(&[("__name__", "extreme_timestamps")], &extremes, &[]);
    for (i, text) in HOSTILE_TEXT.iter().enumerate() {
        let name = format!("hostile_text_{i}_{text}");
        let value = format!("{text}{}", "v".repeat(i * 20));
        let s = data.push_series(
            &[("__name__", &name), (text, &value), ("z", text)],
            &[sample(T0 - 1_000, 13.705352776068167 * i as f64)],
            &[],
        );
        let labels = data.labels.len() as u32;
        let label = LabelRef {
            name: data.intern(text),
            value: data.intern(text),
        };
        data.labels.push(label);
        let exemplar = data.exemplars.len() as u32;
        data.exemplars.push(Exemplar {
            labels: labels..labels + 1,
            value: 1e300,
            timestamp_ms: T0 - 1_500,
        });
        data.series[s].exemplars = exemplar..exemplar + 1;
        data.series[s].metadata = Some(Metadata {
            family: data.intern(&name),
            metric_type: MetricType::Gauge,
            help: data.intern(text),
            unit: data.intern(text),
        });
    }
    // Names and label values alike but for their ends, as load generators make them.
    let long = "m".repeat(60);
    for i in 0..4 {
        let name = format!("avalanche_metric_{long}_0_{i}");
        let value = format!("value_{long}_{i}");
        data.push_series(
            &[("__name__", &name), ("series_id", "0")],
            &[sample(T0 - 1_000, f64::from(i) + 0.5)],
            &[],
        );
        data.push_series(
            &[("__name__", "avalanche_labels"), ("label_key", &value)],
            &[sample(T0 - 1_000, -f64::from(i))],
            &[],
        );
    }
    // Enough samples for counts and rates with SI suffixes (12.3k, 1.2k/s),
    // in one request a second over the last ten seconds, the last with the
    // rest: a rate is known once whole seconds of it are counted.
    let burst: Vec<Sample> = (0..BURST_SAMPLES)
        .map(|i| sample(T0 - 60_000 + i as i64, i as f64 * 0.001))
        .collect();
    let mut chunks = burst
        .chunks(BURST_SAMPLES.div_ceil(BURST_REQUESTS))
        .peekable();
    let mut at = T0 - 500 - (BURST_REQUESTS as i64 - 1) * 1_000;
    while let Some(chunk) = chunks.next() {
        if chunks.peek().is_none() {
            data.push_series(&[("__name__", "burst_total")], chunk, &[]);
            break;
        }
        let mut burst = WriteData::default();
        burst.push_series(&[("__name__", "burst_total")], chunk, &[]);
        store.ingest(&Batch {
            info: info(at, Protocol::V2),
            outcome: Outcome::Accepted,
            data: burst,
        });
        at += 1_000;
    }
    for (name, h) in hostile_histograms() {
        data.push_series(&[("__name__", name)], &[], &[h]);
    }
    store.ingest(&Batch {
        info: info(T0 - 500, Protocol::V2),
        outcome: Outcome::Accepted,
        data,
    });
    hostile_problems(&mut store);
    app.tick(T0, &store);
    (app, store)
}

/// The ids of the series whose metric name starts with `prefix`.
fn series_named(store: &Store, prefix: &str) -> Vec<SeriesId> {
    let metrics = store
        .metrics()
        .filter(|(_, m)| store.str(m.name).starts_with(prefix));
    metrics
        .flat_map(|(_, m)| store.series_of(m).map(|(id, _)| id))
        .collect()
}

/// Problems on [`hostile`]'s series, with messages quoting [`HOSTILE_TEXT`],
/// and on requests from a sender named by it.
fn hostile_problems(store: &mut Store) {
    fn finding(
        rule: Rule,
        count: u32,
        timestamp_ms: Option<i64>,
        message: &Message,
    ) -> Finding<'_> {
        Finding {
            rule,
            count,
            timestamp_ms,
            message,
        }
    }
    for (i, id) in series_named(store, "hostile_value").into_iter().enumerate() {
        let message = Message::from(format!(
            "sample at T0-{i}s is {i}000 ms older than the newest, T0"
        ));
        let f = finding(
            Rule::OutOfOrder,
            1 + i as u32,
            Some(T0 - 1000 * i as i64),
            &message,
        );
        store.record_series_problem(id, &f, T0 - 20_000 + 1000 * i as i64);
    }
    for (i, id) in series_named(store, "hostile_text").into_iter().enumerate() {
        let text = HOSTILE_TEXT[i % HOSTILE_TEXT.len()];
        let message = Message::from(format!("label {text:?} has an empty value {text}"));
        for rule in [
            Rule::LabelValueTooLong,
            Rule::LabelNameInvalid,
            Rule::DuplicateSample,
        ] {
            store.record_series_problem(id, &finding(rule, 1, None, &message), T0 - 2_000);
        }
    }
    for text in HOSTILE_TEXT {
        let message = Message::from(*text);
        let f = finding(Rule::EmptyRequest, 1, None, &message);
        store.record_request_problem(&f, T0 - 1_000, text);
    }
}

/// Names of the series of [`hostile_histograms`].
pub const HOSTILE_HISTOGRAMS: &[&str] = &[
    "hostile_histogram_float_counts",
    "hostile_histogram_custom_bounds",
    "hostile_histogram_many_buckets",
];

/// Native histograms with NaN, infinite, huge and negative counts, custom
/// bounds that do not fit a column, and a hundred thousand buckets.
fn hostile_histograms() -> Vec<(&'static str, Histogram)> {
    let float_counts = Histogram {
        count: Some(histogram::Count::CountFloat(f64::INFINITY)),
        sum: f64::NAN,
        schema: 8,
        zero_threshold: 5e-324,
        zero_count: Some(histogram::ZeroCount::ZeroCountFloat(f64::NAN)),
        positive_spans: vec![BucketSpan {
            offset: i32::MIN,
            length: 4,
        }],
        positive_counts: vec![f64::INFINITY, 1e308, -5.0, f64::NAN],
        negative_spans: vec![BucketSpan {
            offset: i32::MAX,
            length: 1,
        }],
        negative_counts: vec![f64::MAX],
        timestamp: T0 - 1_000,
        ..Default::default()
    };
    let custom_bounds = Histogram {
        count: Some(histogram::Count::CountInt(u64::MAX)),
        sum: -1e-300,
        schema: -53,
        positive_spans: vec![BucketSpan {
            offset: 0,
            length: 4,
        }],
        positive_deltas: vec![i64::MAX, i64::MIN, 1, 1],
        custom_values: vec![13.705352776068167, 1e300, 123_456_789.123_456_79],
        timestamp: T0 - 1_000,
        ..Default::default()
    };
    let many_buckets = Histogram {
        count: Some(histogram::Count::CountInt(100_000)),
        sum: 100_000.0,
        schema: -4,
        positive_spans: vec![BucketSpan {
            offset: -50_000,
            length: 100_000,
        }],
        positive_deltas: std::iter::once(1)
            .chain(std::iter::repeat_n(0, 99_999))
            .collect(),
        timestamp: T0 - 1_000,
        ..Default::default()
    };
    HOSTILE_HISTOGRAMS
        .iter()
        .copied()
        .zip([float_counts, custom_bounds, many_buckets])
        .collect()
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
