//! Resident memory per series: fills a store with a million avalanche series and
//! 64 samples each, and prints the RSS growth per series; then pushes four
//! million more distinct series through it (evicting as many) and prints the
//! RSS growth that churn caused (`cargo bench --bench memory`).

mod fixtures;

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

fn main() {
    let series = env_usize("PROMSCOPE_BENCH_SERIES", 1_000_000);
    // Distinct series pushed through the store in all, as a multiple of its size.
    let churn = env_usize("PROMSCOPE_BENCH_CHURN", 5);
    const SAMPLES: usize = 64;
    let before = rss_bytes();
    let mut store = fixtures::store_with(series, SAMPLES);
    let after = rss_bytes();
    let per_series = (after - before) as f64 / series as f64;
    println!(
        "memory: {} series x {SAMPLES} samples: RSS +{:.0} MiB, {:.0} bytes per series (target <= 1024)",
        store.series_count(),
        mib((after - before) as f64),
        per_series
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
        store.evicted_series(),
        mib(churned as f64 - after as f64),
        churned.saturating_sub(before) as f64 / store.series_count().max(1) as f64
    );
}
