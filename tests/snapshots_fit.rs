//! Every view of the dashboard at the terminal sizes of [`SIZES`], fed with
//! values and labels that do not fit: compared with the snapshots in
//! tests/snapshots/ (review changes with `cargo insta review`), rows told
//! apart, labels cut where they do not fit.

mod dashboard;

use dashboard::hostile::hostile;
use dashboard::numbers::{HEADERS, Table};
use dashboard::{
    SIZES, T0, apply, draw, every_view, info, open_detail, open_series, sample, screen,
};
use promscope::app::{Action, App, Tab};
use promscope::ingest::model::{Batch, Outcome, Protocol, WriteData};
use promscope::store::{Store, StoreLimits};

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
