//! The dashboard's pure state under load: ingesting known and new series,
//! re-filtering a million series, and rendering each view over a million series.

mod fixtures;

/// The allocator the binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use divan::Bencher;
use divan::counter::ItemsCount;
use promscope::app::cardinality::REBUILD_MS;
use promscope::app::{Action, App, Tab};
use promscope::filter::Filter;
use promscope::ingest::model::{Sample, WriteData};
use promscope::store::{Store, StoreLimits};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn main() {
    divan::main();
}

const MILLION: usize = 1_000_000;

/// A 2000-series request whose series are all already in the store, with
/// cardinality tracking on and off (`tracking`).
#[divan::bench(args = [true, false])]
fn ingest_known_series(bencher: Bencher, tracking: bool) {
    let mut store = Store::new(StoreLimits {
        track_cardinality: tracking,
        ..StoreLimits::default()
    });
    // Arriving 10 s apart, so that every series moves on in the churn counts.
    let batches: Vec<_> = (0..64)
        .map(|i| fixtures::series_batch(0, 2000, fixtures::T0 + i * 10_000, 1))
        .collect();
    store.ingest(&batches[0]);
    let mut next = 0;
    bencher.counter(ItemsCount::new(2000usize)).bench_local(|| {
        store.ingest(divan::black_box(&batches[next % batches.len()]));
        next += 1;
    });
}

/// A 2000-series request of series never seen before (eviction keeps the
/// store at 100k), with cardinality tracking on and off.
#[divan::bench(args = [true, false])]
fn ingest_new_series(bencher: Bencher, tracking: bool) {
    let mut store = Store::new(StoreLimits {
        max_series: 100_000,
        track_cardinality: tracking,
        ..StoreLimits::default()
    });
    let batches: Vec<_> = (0..64)
        .map(|i| fixtures::series_batch(i * 2000, 2000, fixtures::T0, 1))
        .collect();
    let mut next = 0usize;
    let mut offset = 0usize;
    bencher.counter(ItemsCount::new(2000usize)).bench_local(|| {
        // Rotate through fresh label sets: once all 64 batches were seen, shift
        // the series ids so they are new again.
        if next == batches.len() {
            next = 0;
            offset += 1;
        }
        let batch = if offset == 0 {
            &batches[next]
        } else {
            &fixtures::series_batch((offset * 64 + next) * 2000, 2000, fixtures::T0, 1)
        };
        store.ingest(divan::black_box(batch));
        next += 1;
    });
}

fn million() -> Store {
    fixtures::store_with(MILLION, 1)
}

/// Applying a filter re-evaluates every series once.
#[divan::bench(args = [
    r#"{series_id=~"12.*"}"#,
    r#"{__name__="avalanche_metric_mmmmm_0_7"}"#,
    "series_id=\"4242\"",
    // No literal to rule series out by: every series' text is built and matched.
    "[0-9]{6}",
])]
fn set_filter_1m_series(bencher: Bencher, filter: &str) {
    let mut store = million();
    let f = Filter::parse(filter).expect("valid filter");
    bencher
        .counter(ItemsCount::new(MILLION))
        .bench_local(|| store.set_filter(divan::black_box(f.clone()), fixtures::T0));
}

fn app_at(store: &mut Store, actions: &[Action]) -> App {
    let mut app = App::new("127.0.0.1:9201".parse().expect("valid"), fixtures::T0);
    app.set_viewport(44, store);
    for a in actions {
        app.apply(a.clone(), store);
    }
    app.tick(fixtures::T0 + 1_000, store);
    app
}

/// One frame of each view at 200×50 with a million series in the store.
#[divan::bench(args = ["metrics", "series", "detail", "recent_samples", "requests"])]
fn render_200x50_1m_series(bencher: Bencher, view: &str) {
    let mut store = million();
    let actions: &[Action] = match view {
        "metrics" => &[],
        "series" => &[Action::Enter],
        "detail" => &[Action::Enter, Action::Enter],
        "recent_samples" => &[Action::GoTab(Tab::Log)],
        _ => &[Action::GoTab(Tab::Requests)],
    };
    let app = app_at(&mut store, actions);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
    bencher.bench_local(|| {
        terminal
            .draw(|f| promscope::ui::render(f, &app, &store))
            .map(drop)
    });
}

/// A store of a million series in 10k metrics of 100 series, each with 20
/// labels: a few constant, some of a few values, one per series (`pod`), as
/// the issue's cardinality benchmark asks.
fn ten_k_metrics() -> Store {
    let mut store = Store::new(StoreLimits {
        max_series: MILLION,
        ..StoreLimits::default()
    });
    let names: Vec<String> = (0..20).map(|k| format!("label_{k:02}")).collect();
    for chunk in 0..100 {
        let mut data = WriteData::default();
        for i in chunk * 10_000..(chunk + 1) * 10_000 {
            let metric = format!("metric_{:05}", i / 100);
            let values: Vec<String> = (0..20)
                .map(|k| match k {
                    0..=4 => format!("constant_{k}"),
                    5..=14 => format!("v{}", i % (k * 3)),
                    15..=18 => format!("v{}", i % (k * 5)),
                    _ => format!("pod-{i:07}"),
                })
                .collect();
            let mut labels: Vec<(&str, &str)> = vec![("__name__", metric.as_str())];
            labels.extend(
                names
                    .iter()
                    .zip(&values)
                    .map(|(n, v)| (n.as_str(), v.as_str())),
            );
            let sample = Sample {
                value: 1.0,
                timestamp_ms: fixtures::T0,
                start_timestamp_ms: 0,
            };
            data.push_series(&labels, &[sample], &[]);
        }
        store.ingest(&fixtures::batch_of(data, fixtures::T0));
    }
    store
}

/// The cardinality view at 200×50 over a million series in 10k metrics of 20
/// labels: `first` builds its rows from the store's aggregates and draws
/// them (the first frame, and every rebuild after [`REBUILD_MS`] ms); `after`
/// draws the rows built (every other frame). `labels` is a metric's labels.
#[divan::bench(args = ["first", "after", "labels_first", "labels_after"])]
fn cardinality_200x50_1m_series_10k_metrics(bencher: Bencher, case: &str) {
    let mut store = ten_k_metrics();
    let open_metric = case.starts_with("labels");
    let mut app = app_at(&mut store, &[Action::GoTab(Tab::Cardinality)]);
    if open_metric {
        app.apply(Action::Enter, &mut store);
    }
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
    let rebuild = case.ends_with("first");
    let now = fixtures::T0 + REBUILD_MS;
    bencher.bench_local(|| {
        if rebuild {
            app.cardinality.rebuild(&store, now);
        }
        terminal
            .draw(|f| promscope::ui::render(f, &app, &store))
            .map(drop)
    });
}
