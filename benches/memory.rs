//! Resident memory per series: fills a store with a million avalanche series and
//! 64 samples each, and prints the RSS growth per series (`cargo bench --bench memory`).

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

fn main() {
    let series: usize = std::env::var("PROMSCOPE_BENCH_SERIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    const SAMPLES: usize = 64;
    let before = rss_bytes();
    let store = fixtures::store_with(series, SAMPLES);
    let after = rss_bytes();
    let per_series = (after - before) as f64 / series as f64;
    println!(
        "memory: {} series x {SAMPLES} samples: RSS +{:.0} MiB, {:.0} bytes per series (target <= 1024)",
        store.series_count(),
        (after - before) as f64 / (1 << 20) as f64,
        per_series
    );
}
