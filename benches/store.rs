//! The dashboard's pure state under load: ingesting known and new series,
//! re-filtering a million series, and rendering each view over a million series.

mod fixtures;

/// The allocator the binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use divan::Bencher;
use divan::counter::ItemsCount;
use promscope::app::{Action, App, Tab};
use promscope::filter::Filter;
use promscope::store::{Store, StoreLimits};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn main() {
    divan::main();
}

const MILLION: usize = 1_000_000;

/// A 2000-series request whose series are all already in the store.
#[divan::bench]
fn ingest_known_series(bencher: Bencher) {
    let mut store = Store::new(StoreLimits::default());
    let batch = fixtures::series_batch(0, 2000, fixtures::T0, 1);
    store.ingest(&batch);
    bencher
        .counter(ItemsCount::new(2000usize))
        .bench_local(|| store.ingest(divan::black_box(&batch)));
}

/// A 2000-series request of series never seen before (eviction keeps the store at 100k).
#[divan::bench]
fn ingest_new_series(bencher: Bencher) {
    let mut store = Store::new(StoreLimits {
        max_series: 100_000,
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
