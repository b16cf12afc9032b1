//! Resident memory per series: fills a store with a million avalanche series and
//! 64 samples each, and prints the RSS growth per series; then pushes four
//! million more distinct series through it (evicting as many) and prints the
//! RSS growth that churn caused (`cargo bench --bench memory`).
//! `PROMSCOPE_BENCH_NAMES=N` instead pushes N distinct metric names through a
//! 10k-series store and prints the RSS growth that name churn caused;
//! `PROMSCOPE_BENCH_CARDINALITY=1` (tracking on) or `=2` (off) fills the
//! cardinality benchmark's store (10k metrics x 20 labels) instead.
//! `PROMSCOPE_BENCH_RULES=1` instead checks every request with every problem
//! rule on (the series limits too, set out of reach) as the receiver does,
//! then sends every series three requests that each fire a sample rule on it
//! (a duplicate sample, a duplicate timestamp, an out-of-order sample), so that
//! every series keeps three offences; it prints the RSS growth per series after
//! filling and after firing. `PROMSCOPE_BENCH_RULES=2` sends the same requests
//! with every rule off: the store's own growth from the samples sent again
//! (irregular timestamps cost its rings more), the baseline to compare with.

mod fixtures;

use std::time::{Duration, UNIX_EPOCH};

use promscope::ingest::model::{
    Batch, Metadata, MetricType, Outcome, Protocol, Repeats, RequestInfo, Sample, WriteData,
};
use promscope::store::{Store, StoreLimits};

/// The allocator the binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn mib(bytes: f64) -> f64 {
    bytes / (1 << 20) as f64
}

/// A request with `n` series of metric names never seen before (numbered from
/// `first`), one sample and RW1 metadata each: a sender with ids in its metric names.
fn names_batch(first: usize, n: usize) -> Batch {
    let mut data = WriteData::default();
    for i in first..first + n {
        let name = format!("churned_metric_{i}_seconds");
        let labels = [("__name__", name.as_str()), ("job", "bench")];
        let sample = Sample {
            value: i as f64,
            timestamp_ms: fixtures::T0,
            start_timestamp_ms: 0,
        };
        data.push_series(&labels, &[sample], &[]);
        let (family, help) = (data.intern(&name), data.intern("Churned."));
        data.metadata.push(Metadata {
            family,
            metric_type: MetricType::Gauge,
            help,
            unit: WriteData::EMPTY,
        });
    }
    Batch {
        info: RequestInfo {
            received_at: UNIX_EPOCH + Duration::from_millis(fixtures::T0 as u64),
            remote_addr: None,
            path: "/api/v1/write".into(),
            user_agent: Some("bench".into()),
            protocol: Some(Protocol::V1),
            compressed_bytes: 0,
            decoded_bytes: 0,
            retry_attempt: None,
            tenant: None,
            raw: None,
            repeats: Repeats::Alone,
        },
        outcome: Outcome::Accepted,
        data,
    }
}

/// RSS growth while `names` distinct metric names pass through a 10k-series store.
fn name_churn(names: usize) {
    const MAX: usize = 10_000;
    const CHUNK: usize = 10_000;
    let mut store = Store::new(StoreLimits {
        max_series: MAX,
        ..StoreLimits::default()
    });
    let before = rss_bytes();
    // Warm up to a steady state (the store full, then as many evicted).
    let warm = (2 * MAX).min(names);
    for start in (0..warm).step_by(CHUNK) {
        store.ingest(&names_batch(start, CHUNK.min(warm - start)));
    }
    let warmed = rss_bytes();
    for start in (warm..names).step_by(CHUNK) {
        store.ingest(&names_batch(start, CHUNK.min(names - start)));
    }
    let after = rss_bytes();
    println!(
        "memory under metric-name churn: {names} distinct metric names (one series and metadata each) through a {MAX}-series store: RSS +{:.0} MiB after the first {warm}, +{:.0} MiB after all ({:.0} bytes per name past the first {warm}); {} metrics and {} series live",
        mib(warmed.saturating_sub(before) as f64),
        mib(after.saturating_sub(before) as f64),
        after.saturating_sub(warmed) as f64 / names.saturating_sub(warm).max(1) as f64,
        store.metric_count(),
        store.series_count()
    );
}

/// RSS growth per series of the cardinality benchmark's store (a million
/// series in 10k metrics of 20 labels, one sample each), with cardinality
/// tracking on or off, and what tracking counts it holds.
fn ten_k_metrics(tracking: bool) {
    let before = rss_bytes();
    let store = fixtures::ten_k_metrics(tracking);
    let after = rss_bytes();
    let series = store.series_count().max(1) as f64;
    println!(
        "memory, 10k metrics x 20 labels, tracking {}: {} series: RSS +{:.0} MiB, {:.0} bytes per series; the store counts {:.0} bytes per series, {:.0} of them cardinality tracking (label values, churn, tenants and senders)",
        if tracking { "on" } else { "off" },
        store.series_count(),
        mib(after.saturating_sub(before) as f64),
        after.saturating_sub(before) as f64 / series,
        store.held_bytes() as f64 / series,
        store.tracking_bytes() as f64 / series,
    );
}

/// RSS per series of a store and a checker with every rule on (`on`) or
/// off, before and after every series was sent three requests that fire a
/// sample rule each.
fn rules_firing(series: usize, on: bool) {
    use promscope::ingest::check::{Checker, Settings};
    use promscope::problems::Rule;
    const SAMPLES: usize = 64;
    // Requests of 2000 series (avalanche's): a request carries at most 4096
    // problems (the rest are counted only), so that every series keeps its own.
    const CHUNK: usize = 2000;
    let mut settings = Settings::default();
    if !on {
        for rule in Rule::ALL {
            settings.set_rule(rule.id(), "off").expect("a rule");
        }
    }
    for limit in ["series-per-tenant", "series-per-metric"] {
        settings
            .apply_limit_flag(&format!("{limit}=100000000"))
            .expect("a limit");
    }
    let before = rss_bytes();
    let checker = Checker::new(settings);
    let mut store = Store::new(StoreLimits {
        max_series: series.max(1),
        ..StoreLimits::default()
    });
    let send = |store: &mut Store, arrival_ms: i64, samples: usize| {
        for start in (0..series).step_by(CHUNK) {
            let n = CHUNK.min(series - start);
            let mut batch = fixtures::series_batch(start, n, arrival_ms, samples);
            checker.check(&mut batch.data, Some(Protocol::V1), fixtures::T0);
            store.ingest(&batch);
        }
    };
    send(&mut store, fixtures::T0, SAMPLES);
    let filled = rss_bytes();
    // The same 64 samples again; the latest again with another value; one older.
    send(&mut store, fixtures::T0, SAMPLES);
    send(&mut store, fixtures::T0, 1);
    send(&mut store, fixtures::T0 - 1000, 1);
    let fired = rss_bytes();
    let problems = store.problems();
    let affected = |rule| problems.get(rule).map_or(0, |r| r.series_affected);
    println!(
        "memory with every rule {}: {} series x {SAMPLES} samples: RSS +{:.0} MiB, {:.0} bytes per series; after three sample rules fired on every series ({} duplicate-sample, {} duplicate-timestamp, {} out-of-order series): +{:.0} MiB, {:.0} bytes per series (target <= 1024); the checker remembers {} series in {:.0} MiB; the store counts {:.0} bytes per series",
        if on { "on" } else { "off" },
        store.series_count(),
        mib((filled - before) as f64),
        (filled - before) as f64 / series as f64,
        affected(Rule::DuplicateSample),
        affected(Rule::DuplicateTimestamp),
        affected(Rule::OutOfOrder),
        mib((fired - before) as f64),
        (fired - before) as f64 / series as f64,
        checker.remembered().0,
        mib(checker.remembered().1 as f64),
        store.held_bytes() as f64 / series as f64
    );
}

fn main() {
    let names = env_usize("PROMSCOPE_BENCH_NAMES", 0);
    if names > 0 {
        name_churn(names);
        return;
    }
    let rules = env_usize("PROMSCOPE_BENCH_RULES", 0);
    if rules > 0 {
        rules_firing(env_usize("PROMSCOPE_BENCH_SERIES", 1_000_000), rules == 1);
        return;
    }
    // 1: tracking on, 2: off.
    match env_usize("PROMSCOPE_BENCH_CARDINALITY", 0) {
        0 => {}
        mode => return ten_k_metrics(mode == 1),
    }
    let series = env_usize("PROMSCOPE_BENCH_SERIES", 1_000_000);
    // Distinct series pushed through the store in all, as a multiple of its size.
    let churn = env_usize("PROMSCOPE_BENCH_CHURN", 5);
    const SAMPLES: usize = 64;
    let before = rss_bytes();
    let mut store = fixtures::store_with(series, SAMPLES);
    let after = rss_bytes();
    let per_series = (after - before) as f64 / series as f64;
    println!(
        "memory: {} series x {SAMPLES} samples: RSS +{:.0} MiB, {:.0} bytes per series (target <= 1024); the store counts {:.0} bytes per series against --max-store-bytes",
        store.series_count(),
        mib((after - before) as f64),
        per_series,
        store.held_bytes() as f64 / series as f64
    );
    if churn <= 1 {
        return;
    }
    // Fresh series (new series_id values) in requests of 10k, like a sender
    // whose pods keep changing; the store evicts the least recently seen.
    const CHUNK: usize = 10_000;
    for start in (series..series * churn).step_by(CHUNK) {
        let n = CHUNK.min(series * churn - start);
        store.ingest(&fixtures::series_batch(start, n, fixtures::T0, SAMPLES));
    }
    let churned = rss_bytes();
    println!(
        "memory under churn: {} distinct series through a {series}-series store ({} evicted): RSS +{:.0} MiB over the full store, {:.0} bytes per series in all (target <= 1024)",
        series * churn,
        store.evictions().total(),
        mib(churned as f64 - after as f64),
        churned.saturating_sub(before) as f64 / store.series_count().max(1) as f64
    );
}
