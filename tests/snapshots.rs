//! Every screen of the dashboard rendered with fixed data into a TestBackend and
//! compared with the snapshots in tests/snapshots/ (review changes with `cargo insta review`).

mod dashboard;

use dashboard::hostile::{HOSTILE_VALUES, hostile};
use dashboard::numbers::{self, Table};
use dashboard::{
    T0, apply, draw, every_view, fixture, info, open_detail, open_series, sample, screen,
};
use promscope::app::view::RATE_WINDOW_SECS;
use promscope::app::{Action, App, Tab};
use promscope::ingest::model::{Batch, Outcome, Protocol, WriteData};
use promscope::ingest::server::{Access, ClientCert};
use promscope::store::{Metric, Series, Store, StoreLimits};

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

/// The terminal sizes every view is checked at.
const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 50)];

#[test]
fn every_view_with_values_that_do_not_fit_at_three_sizes() {
    for (view, actions) in every_view() {
        for (width, height) in SIZES {
            let (mut app, mut store) = hostile();
            apply(&mut app, &mut store, &actions);
            insta::assert_snapshot!(
                format!("{view}_{width}x{height}"),
                screen(&app, &store, width, height)
            );
        }
    }
}

/// Every name a column of the metrics, series and samples tables may show.
const HEADERS: &[&str] = &[
    "METRIC",
    "SERIES",
    "SAMPLES/S",
    "LAST 2 MIN",
    "TYPE",
    "LAST",
    "LABELS",
    "VALUE",
    "COUNT",
    "TIMESTAMP",
    "LAG",
    "PER S",
    "/S",
    "RECENT VALUES",
    "RECENT",
    "FLAGS",
    "INTERVAL",
    "ARRIVED",
    "SAMPLE TIME",
];

/// Asserts that each cell of `column` stands for the value of its row.
fn check(column: &[String], values: &[f64], what: &str, screen: &str) {
    assert!(!column.is_empty(), "{what}: no rows\n{screen}");
    for (shown, &value) in column.iter().zip(values) {
        assert!(
            numbers::stands_for(shown, value),
            "{what}: {shown:?} shown for {value:?}\n{screen}"
        );
    }
}

/// [`check`] for rates: one not yet known is shown as such, and only then.
fn check_rates(column: &[String], rates: &[Option<f64>], what: &str, screen: &str) {
    assert!(!column.is_empty(), "{what}: no rows\n{screen}");
    for (shown, &rate) in column.iter().zip(rates) {
        let right = match rate {
            None => shown.trim() == promscope::format::UNKNOWN,
            Some(rate) => numbers::stands_for(shown, rate),
        };
        assert!(right, "{what}: {shown:?} shown for {rate:?}\n{screen}");
    }
}

#[test]
fn numbers_in_the_metrics_list_stand_for_their_values() {
    for (width, height) in SIZES {
        let (app, store) = hostile();
        let buffer = draw(&app, &store, width, height);
        let screen = format!("{width}x{height}\n{}", screen(&app, &store, width, height));
        let table = Table::find(&buffer, HEADERS, &["METRIC", "SAMPLES/S"]).expect(&screen);
        let metrics: Vec<&Metric> = app
            .metrics
            .rows()
            .iter()
            .filter_map(|row| store.metric(row.id))
            .collect();
        let series: Vec<f64> = metrics.iter().map(|m| m.series_count() as f64).collect();
        let rates: Vec<Option<f64>> = metrics
            .iter()
            .map(|m| m.rate.per_second(app.now_ms, RATE_WINDOW_SECS))
            .collect();
        // burst_total's requests came a second apart for ten seconds; the
        // rest in one request, their rates not yet known.
        assert!(
            rates.iter().flatten().any(|&r| r > 1000.0),
            "a rate with a suffix"
        );
        assert!(rates.contains(&None), "a rate not yet known");
        check_rates(&table.column("SAMPLES/S"), &rates, "metric rates", &screen);
        if table.has("SERIES") {
            check(&table.column("SERIES"), &series, "series counts", &screen);
        }
    }
}

#[test]
fn numbers_in_the_series_list_and_detail_stand_for_their_values() {
    for (width, height) in SIZES {
        let (mut app, mut store) = hostile();
        apply(
            &mut app,
            &mut store,
            &open_series(r#"{__name__="hostile_value"}"#),
        );
        let buffer = draw(&app, &store, width, height);
        let screen = format!("{width}x{height}\n{}", screen(&app, &store, width, height));
        // The series list is the only table with a VALUE column here.
        let table = Table::find(&buffer, HEADERS, &["VALUE"]).expect(&screen);
        let series: Vec<&Series> = app
            .series
            .list
            .rows()
            .iter()
            .filter_map(|row| store.series(row.id))
            .collect();
        let last: Vec<f64> = series
            .iter()
            .map(|s| s.points.last().map_or(f64::NAN, |p| p.value))
            .collect();
        check(&table.column("VALUE"), &last, "last values", &screen);
        // Headed so at every size (a column of one-digit rates was headed
        // `S`, a cut of `SAMPLES/S`, beside the lag's seconds).
        let rate = ["SAMPLES/S", "PER S", "/S"]
            .into_iter()
            .find(|&rate| table.has(rate))
            .expect(&screen);
        let rates: Vec<Option<f64>> = series
            .iter()
            .map(|s| store.series_per_second(s, app.now_ms, RATE_WINDOW_SECS))
            .collect();
        check_rates(&table.column(rate), &rates, "series rates", &screen);
    }
    for (case, _) in HOSTILE_VALUES {
        for (width, height) in SIZES {
            let (mut app, mut store) = hostile();
            let selector = format!(r#"{{__name__="hostile_value", case="{case}"}}"#);
            apply(&mut app, &mut store, &open_detail(&selector));
            let buffer = draw(&app, &store, width, height);
            let screen = format!("{width}x{height}\n{}", screen(&app, &store, width, height));
            let table =
                Table::find(&buffer, HEADERS, &["TIMESTAMP", "VALUE", "INTERVAL"]).expect(&screen);
            let id = app.current_detail().expect("a detail is open");
            let s = store.series(id).expect("live");
            let newest_first: Vec<f64> = s.points.iter().rev().map(|p| p.value).collect();
            check(&table.column("VALUE"), &newest_first, case, &screen);
        }
    }
}

#[test]
fn numbers_in_the_header_stand_for_their_values() {
    for (width, height) in SIZES {
        let (app, store) = hostile();
        let screen = screen(&app, &store, width, height);
        let traffic = screen.lines().nth(1).expect("a header");
        let totals = store.totals();
        let now = app.now_ms;
        let expected = [
            (
                "requests ",
                (totals.accepted + totals.rejected_total()) as f64,
            ),
            ("samples ", totals.counts.samples as f64),
            ("histograms ", totals.counts.histograms as f64),
            ("hist ", totals.counts.histograms as f64),
            ("series ", store.active_series(now).0 as f64),
            (" seen", store.distinct_series().value() as f64),
            ("metrics ", store.metric_count() as f64),
        ];
        let sample_rate = store.sample_rate.per_second(now, RATE_WINDOW_SECS);
        let expected = expected.into_iter().chain([(
            "samples and histograms/s ",
            // Not yet known: shown as such (below).
            sample_rate.unwrap_or(f64::NAN),
        )]);
        let mut seen = 0;
        for (label, value) in expected {
            let shown = match label {
                // The rate follows the counts, in parentheses.
                "samples and histograms/s " => traffic
                    .split_once("samples ")
                    .and_then(|(_, rest)| rest.split("  ·  ").next())
                    .and_then(|received| received.split_once(" ("))
                    .and_then(|(_, rest)| rest.split_once("/s)"))
                    .map(|(rate, _)| rate),
                // The count of distinct series comes before its label.
                " seen" => traffic
                    .split_once(label)
                    .and_then(|(before, _)| before.rsplit(' ').next()),
                _ => traffic
                    .split_once(label)
                    .and_then(|(_, rest)| rest.split([' ', ',', '"']).next()),
            };
            let Some(shown) = shown else { continue };
            seen += 1;
            if label == "samples and histograms/s " && sample_rate.is_none() {
                assert_eq!(shown, promscope::format::UNKNOWN, "{label}\n{screen}");
                continue;
            }
            assert!(
                numbers::stands_for(shown, value),
                "{label}{shown:?} shown for {value}\n{screen}"
            );
        }
        assert!(seen >= 4, "{screen}");
        assert!(totals.counts.samples > 10_000, "counts with a suffix");
        // The active series are never left out for want of room.
        assert!(traffic.contains("series "), "{width}x{height}\n{screen}");
        assert!(totals.counts.histograms > 0, "histograms shown too");
    }
}

#[test]
fn the_number_checker_tells_right_from_wrong() {
    let stands_for = numbers::stands_for;
    assert!(stands_for("13.705352776068167", 13.705352776068167));
    assert!(stands_for("~13.7054", 13.705352776068167));
    assert!(!stands_for("01648997", 13.701648997));
    assert!(!stands_for(".705352776068167", 13.705352776068167));
    assert!(!stands_for("~13.7", 13.8));
    assert!(stands_for("3.8k", 3_849.0));
    assert!(!stands_for("3.8k", 3_851.0));
    assert!(stands_for("0.4", 0.41666));
    assert!(!stands_for("0.4", 0.46));
    assert!(stands_for(
        "StaleNaN",
        f64::from_bits(0x7ff0_0000_0000_0002)
    ));
    assert!(!stands_for("NaN", f64::from_bits(0x7ff0_0000_0000_0002)));
    assert!(stands_for("~-2e308", f64::MIN));
    assert!(!stands_for("…", 1.0));
}

/// Asserts that the cells of `column` differ from one another.
fn all_differ(column: &[String], what: &str, screen: &str) {
    assert!(column.len() > 1, "{what}: too few rows\n{screen}");
    for (i, a) in column.iter().enumerate() {
        for b in &column[i + 1..] {
            assert!(a != b, "{what}: two rows read {a:?}\n{screen}");
        }
    }
}

#[test]
fn rows_stay_distinguishable_at_every_size() {
    for (width, height) in SIZES {
        let (app, store) = hostile();
        let buffer = draw(&app, &store, width, height);
        let screen_text = format!("{width}x{height}\n{}", screen(&app, &store, width, height));
        let table = Table::find(&buffer, HEADERS, &["METRIC"]).expect(&screen_text);
        all_differ(&table.column("METRIC"), "metric names", &screen_text);

        for selector in [
            r#"{__name__="avalanche_labels"}"#,
            r#"{__name__="hostile_value"}"#,
        ] {
            let (mut app, mut store) = hostile();
            apply(&mut app, &mut store, &open_series(selector));
            let buffer = draw(&app, &store, width, height);
            let screen_text = format!("{width}x{height}\n{}", screen(&app, &store, width, height));
            let table = Table::find(&buffer, HEADERS, &["VALUE"]).expect(&screen_text);
            all_differ(&table.before("VALUE"), "label sets", &screen_text);
        }
    }
}

/// A small fleet's http_requests_total: series told apart by several labels
/// at once. Cut as one text at 80 columns, every row read
/// `{code=…tance="api-1:8080", method="GET"}`.
fn fleet() -> (App, Store) {
    let mut store = Store::new(StoreLimits::default());
    let mut data = WriteData::default();
    let mut value = 0.0;
    for (code, method) in [
        ("200", "GET"),
        ("201", "POST"),
        ("404", "GET"),
        ("500", "POST"),
    ] {
        for handler in ["/api/orders", "/api/users"] {
            for instance in ["api-1:8080", "api-2:8080", "api-3:8080"] {
                value += 1.0;
                data.push_series(
                    &[
                        ("__name__", "http_requests_total"),
                        ("code", code),
                        ("handler", handler),
                        ("instance", instance),
                        ("job", "api"),
                        ("method", method),
                    ],
                    &[sample(T0 - 1_000, value)],
                    &[],
                );
            }
        }
    }
    data.push_series(
        &[
            ("__name__", "node_network_transmit_bytes_total"),
            ("device", "eth0"),
            ("instance", "node-1:9100"),
            ("job", "node"),
        ],
        &[sample(T0 - 1_000, 1.0)],
        &[],
    );
    store.ingest(&Batch {
        info: info(T0 - 500, Protocol::V2),
        outcome: Outcome::Accepted,
        data,
    });
    let mut app = dashboard::app(T0 - 60_000);
    app.tick(T0, &store);
    (app, store)
}

#[test]
fn rows_of_different_series_read_differently_at_80_columns() {
    for (width, height) in SIZES {
        let (mut app, mut store) = fleet();
        apply(
            &mut app,
            &mut store,
            &open_series(r#"{__name__="http_requests_total"}"#),
        );
        let buffer = draw(&app, &store, width, height);
        let text = format!("{width}x{height}\n{}", screen(&app, &store, width, height));
        let table = Table::find(&buffer, HEADERS, &["VALUE"]).expect(&text);
        let keys = table.before("VALUE");
        assert!(keys.len() >= 10, "{text}");
        all_differ(&keys, "series list", &text);
        if width == 80 {
            // The labels that vary are there whole, under their names.
            let header = buffer_line(&buffer, &text, "VALUE");
            assert!(header.starts_with("code handler"), "{text}");
            assert!(
                keys[0].starts_with("200  /api/orders api-1:8080 GET"),
                "{text}"
            );
        }

        // Every row of Recent samples is another series here.
        let (mut app, mut store) = fleet();
        apply(&mut app, &mut store, &[Action::GoTab(Tab::Log)]);
        let buffer = draw(&app, &store, width, height);
        let text = format!("{width}x{height}\n{}", screen(&app, &store, width, height));
        let table = Table::find(&buffer, HEADERS, &["VALUE", "SERIES"]).expect(&text);
        let series = table.column("SERIES");
        assert!(series.len() >= 10, "{text}");
        all_differ(&series, "recent samples", &text);
    }
}

/// The first line of `buffer` holding `what`.
fn buffer_line(buffer: &ratatui::buffer::Buffer, text: &str, what: &str) -> String {
    let width = usize::from(buffer.area.width);
    let symbols: Vec<&str> = buffer.content.iter().map(|c| c.symbol()).collect();
    symbols
        .chunks(width)
        .map(|line| line.concat())
        .find(|line| line.contains(what))
        .unwrap_or_else(|| panic!("no {what} in\n{text}"))
}

/// The number after `before` and before `after` on `line`.
fn between<'a>(line: &'a str, before: &str, after: &str) -> Option<&'a str> {
    let (_, rest) = line.split_once(before)?;
    Some(rest.split_once(after)?.0)
}

#[test]
fn new_series_per_second_is_one_number_in_the_header_and_the_cardinality_title() {
    // New series at 1/s for 50 s, then 10/s: over the last 10 s and over
    // the minute, 10/s and 2.5/s. The header read the one, the title the other.
    let mut store = Store::new(StoreLimits::default());
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0 - 60_000);
    let mut n = 0;
    for s in 0..60 {
        let at = T0 - 60_000 + s * 1000;
        let mut data = WriteData::default();
        for _ in 0..if s < 50 { 1 } else { 10 } {
            let id = n.to_string();
            data.push_series(
                &[("__name__", "churning"), ("id", &id)],
                &[sample(at, 1.0)],
                &[],
            );
            n += 1;
        }
        store.ingest(&Batch {
            info: info(at, Protocol::V2),
            outcome: Outcome::Accepted,
            data,
        });
    }
    apply(&mut app, &mut store, &[Action::GoTab(Tab::Cardinality)]);
    app.tick(T0, &store);
    let screen = screen(&app, &store, 200, 50);
    let mut lines = screen.lines();
    let header = lines.find(|l| l.contains("new series ")).expect(&screen);
    let title = lines.find(|l| l.contains(" Cardinality ·")).expect(&screen);
    let in_header = between(header, "new series ", "/s (1m)").expect(header);
    let in_title =
        between(title, "gone · ", "/s new").or_else(|| between(title, " in 1m · ", "/s new"));
    assert_eq!(Some(in_header), in_title, "{header}\n{title}");
    let (new, _) = store.churn_per_second(T0);
    assert!(numbers::stands_for(in_header, new), "{in_header} for {new}");
    assert!(new < 5.0, "over the minute, not the last seconds: {new}");
}

/// A label value longer than the labels box, and thousands of labels: the box
/// ends in `…` and counts the labels it has no row for, at every size.
#[test]
fn detail_cut_where_its_labels_do_not_fit() {
    fn store() -> Store {
        let mut store = Store::new(StoreLimits::default());
        let mut data = WriteData::default();
        let long = "L".repeat(20_000);
        data.push_series(
            &[("__name__", "long_value"), ("v", &long)],
            &[sample(T0 - 1_000, 1.0)],
            &[],
        );
        let names: Vec<String> = (0..5000).map(|i| format!("l{i:04}")).collect();
        let mut labels = vec![("__name__", "many_labels")];
        labels.extend(names.iter().map(|n| (n.as_str(), "v")));
        data.push_series(&labels, &[sample(T0 - 1_000, 2.0)], &[]);
        store.ingest(&Batch {
            info: info(T0 - 1_000, Protocol::V1),
            outcome: Outcome::Accepted,
            data,
        });
        store
    }
    let mut shown = Vec::new();
    for (selector, end) in [("long_value", "LLL…"), ("many_labels", " more labels")] {
        let (mut app, mut store) = (dashboard::app(T0 - 60_000), store());
        apply(&mut app, &mut store, &open_detail(&format!("^{selector}")));
        for (width, height) in [(80, 24), (120, 40), (200, 50)] {
            let screen = screen(&app, &store, width, height);
            assert!(
                screen.contains(end),
                "{selector} at {width}x{height}:\n{screen}"
            );
            if width == 80 {
                shown.push(screen);
            }
        }
    }
    insta::assert_snapshot!(shown.join("\n"));
}

/// A series sent without a metric name is listed under a name that says so in
/// every view that names metrics, never as a blank.
#[test]
fn a_series_without_a_name_is_named_so_in_every_view() {
    let mut store = Store::new(StoreLimits::default());
    let mut app = dashboard::app(T0 - 60_000);
    let mut data = WriteData::default();
    data.push_series(&[("job", "x")], &[sample(T0 - 1_000, 1.0)], &[]);
    store.ingest(&Batch {
        info: info(T0 - 1_000, Protocol::V1),
        outcome: Outcome::Accepted,
        data,
    });
    app.tick(T0, &store);
    let views = [
        ("metrics", vec![]),
        ("series", vec![Action::Enter]),
        ("cardinality", vec![Action::GoTab(Tab::Cardinality)]),
        ("cardinality labels", vec![Action::Enter]),
    ];
    for (view, actions) in views {
        apply(&mut app, &mut store, &actions);
        let shown = screen(&app, &store, 80, 24);
        assert!(shown.contains("(no __name__)"), "{view}:\n{shown}");
    }
}
