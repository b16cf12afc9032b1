//! The dashboard's pure state under load: ingesting known and new series,
//! re-filtering a million series, and rendering each view over a million series.

mod fixtures;

/// The allocator the binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use divan::Bencher;
use divan::counter::ItemsCount;
use promscope::app::cardinality::REBUILD_MS;
use promscope::app::list::SortOrder;
use promscope::app::view::{SeriesSort, sorted_series};
use promscope::app::{Action, App, Tab};
use promscope::filter::Filter;
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

/// The cardinality view at 200×50 over a million series in 10k metrics of 20
/// labels: `first` builds its rows from the store's aggregates and draws
/// them (the first frame, and every rebuild after [`REBUILD_MS`] ms); `after`
/// draws the rows built (every other frame). `labels` is a metric's labels.
/// Under a filter (`filter_*`: a fifteenth of the series, `{label_05="v0"}`;
/// `filter_all_*`: every series, `{label_00="constant_0"}`) the rows are
/// counted by a pass over the matching series.
#[divan::bench(args = [
    "first",
    "after",
    "labels_first",
    "labels_after",
    "filter_first",
    "filter_after",
    "filter_labels_first",
    "filter_all_first",
    "filter_all_after",
])]
fn cardinality_200x50_1m_series_10k_metrics(bencher: Bencher, case: &str) {
    let mut store = fixtures::ten_k_metrics(true);
    let open_metric = case.contains("labels");
    let filter = match case {
        c if c.starts_with("filter_all") => Some(r#"{label_00="constant_0"}"#),
        c if c.starts_with("filter") => Some(r#"{label_05="v0"}"#),
        _ => None,
    };
    let mut actions = vec![Action::GoTab(Tab::Cardinality)];
    actions.extend(filter.map(|f| Action::FilterSet(f.into())));
    let mut app = app_at(&mut store, &actions);
    assert_eq!(store.filter().is_all(), filter.is_none());
    if open_metric {
        app.apply(Action::Enter, &mut store);
    }
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
    let rebuild = case.ends_with("first");
    let now = fixtures::T0 + REBUILD_MS;
    bencher.bench_local(|| {
        if rebuild {
            app.cardinality.rebuild(&store, now, &|| false);
        }
        terminal
            .draw(|f| promscope::ui::render(f, &app, &store))
            .map(drop)
    });
}

/// The metrics list at 200×50 (a sparkline a row) over 100 metrics of 10
/// series that sent every 5 s for three minutes: `regular` on time, `jittery`
/// each request up to a second off its schedule (its columns are read
/// between its requests, over 40 s each).
#[divan::bench(args = ["regular", "jittery"])]
fn sparklines_200x50_100_metrics(bencher: Bencher, sender: &str) {
    let mut store = Store::new(StoreLimits::default());
    let mut last = fixtures::T0;
    for i in 0..36i64 {
        // Spread over -1000..=1000 ms, the same every run.
        let off = if sender == "jittery" {
            (i * 7919).rem_euclid(2001) - 1000
        } else {
            0
        };
        last = fixtures::T0 + i * 5_000 + off;
        store.ingest(&fixtures::series_batch(0, 1000, last, 1));
    }
    let now = last + 500;
    let mut app = App::new("127.0.0.1:9201".parse().expect("valid"), fixtures::T0);
    app.set_viewport(44, &store);
    app.tick(now, &store);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
    bencher.bench_local(|| {
        terminal
            .draw(|f| promscope::ui::render(f, &app, &store))
            .map(drop)
    });
}

/// Rebuilding the series list of a metric of 10k series (of a million, in
/// 100 metrics, each sent 6 times 5 s apart so that rates are known), sorted
/// by label values or by samples/s: what the series view pays when its rows
/// are rebuilt (each series' rate read).
#[divan::bench(args = ["labels", "rate"])]
fn series_rows_10k_series_of_1m(bencher: Bencher, sort: &str) {
    let mut store = Store::new(StoreLimits {
        max_series: MILLION,
        ..StoreLimits::default()
    });
    for k in 0..6 {
        store.ingest(&fixtures::series_batch(
            0,
            MILLION,
            fixtures::T0 + k * 5_000,
            1,
        ));
    }
    let now = fixtures::T0 + 26_000;
    let sort = if sort == "rate" {
        SeriesSort::Rate
    } else {
        SeriesSort::Labels
    };
    let (_, metric) = store.metrics().next().expect("a metric");
    let rows = || {
        sorted_series(
            &store,
            store.series_of(metric),
            sort,
            SortOrder::Descending,
            now,
        )
    };
    assert!(rows().iter().all(|r| r.rate.is_some()), "rates known");
    bencher
        .counter(ItemsCount::new(rows().len()))
        .bench_local(|| rows().len());
}
