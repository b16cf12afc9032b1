//! The numbers the dashboard shows, read back off the rendered screen at the
//! terminal sizes of [`SIZES`]: each stands for the value it shows.

mod dashboard;

use dashboard::hostile::{HOSTILE_VALUES, hostile};
use dashboard::numbers::{self, HEADERS, Table};
use dashboard::{SIZES, T0, apply, draw, info, open_detail, open_series, sample, screen};
use promscope::app::view::RATE_WINDOW_SECS;
use promscope::app::{Action, App, Tab};
use promscope::ingest::model::{Batch, Outcome, Protocol, WriteData};
use promscope::store::{Metric, Series, Store, StoreLimits};

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
