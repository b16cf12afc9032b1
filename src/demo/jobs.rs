//! The demo's fleet: a few jobs and their instances, each exposing metric
//! families as real exporters do (names, help, units, label sets).

use super::fleet::{Behaviour, DemoSeries, Family, Kind, Observations, Target};
use super::values::{ClassicHistogram, Latency, NativeHistogram, Rng, Summary, Wander};

/// Bounds of the classic histogram, as client libraries default to.
pub const LATENCY_BOUNDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// `(handler, method, code, requests per second)` of the API's routes.
const ROUTES: &[(&str, &str, &str, f64)] = &[
    ("/api/orders", "GET", "200", 12.0),
    ("/api/orders", "GET", "404", 0.4),
    ("/api/orders", "POST", "201", 3.0),
    ("/api/orders", "POST", "500", 0.05),
    ("/api/users", "GET", "200", 8.0),
    ("/api/users", "GET", "500", 0.1),
    ("/healthz", "GET", "200", 0.2),
];

/// `(handler, median latency in seconds)`.
const HANDLERS: &[(&str, f64)] = &[
    ("/api/orders", 0.045),
    ("/api/users", 0.012),
    ("/healthz", 0.001),
];

/// The fleet, its processes started at different times before `now_ms`.
pub fn fleet(now_ms: i64, rng: &mut Rng) -> Vec<Target> {
    let mut targets = Vec::new();
    for i in 1..=3 {
        targets.push(target("api", format!("api-{i}:8080"), api(), now_ms, rng));
    }
    for i in 1..=2 {
        targets.push(target(
            "node",
            format!("node-{i}:9100"),
            node(),
            now_ms,
            rng,
        ));
    }
    targets.push(target(
        "postgres",
        "db-1:9187".into(),
        postgres(),
        now_ms,
        rng,
    ));
    for i in 1..=2 {
        targets.push(target(
            "worker",
            format!("worker-{i}:9000"),
            worker(),
            now_ms,
            rng,
        ));
    }
    targets
}

fn target(
    job: &'static str,
    instance: String,
    mut families: Vec<Family>,
    now_ms: i64,
    rng: &mut Rng,
) -> Target {
    // What Prometheus adds to every scrape.
    families.push(gauge(
        "up",
        "1 if the target was scraped, 0 if not.",
        "",
        vec![level(&[], 1.0, 0.0)],
    ));
    families.push(gauge(
        "scrape_duration_seconds",
        "How long the scrape took.",
        "seconds",
        vec![reading(&[], 0.012, 0.004)],
    ));
    let hours = 1.0 + 70.0 * rng.uniform();
    Target::new(
        job,
        instance,
        families,
        now_ms - (hours * 3_600_000.0) as i64,
    )
}

/// Labels from `(name, value)` pairs.
fn labels(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|&(k, v)| (k, v.to_owned())).collect()
}

/// A counter series of whole things (requests, bytes) growing about `per_sec`.
fn count(pairs: &[(&'static str, &str)], per_sec: f64) -> DemoSeries {
    growing(pairs, per_sec, true)
}

/// A counter series of seconds (CPU time) growing about `per_sec`.
fn seconds(pairs: &[(&'static str, &str)], per_sec: f64) -> DemoSeries {
    growing(pairs, per_sec, false)
}

fn growing(pairs: &[(&'static str, &str)], per_sec: f64, whole: bool) -> DemoSeries {
    DemoSeries {
        labels: labels(pairs),
        behaviour: Behaviour::Counter {
            total: 0.0,
            rate: Wander::new(per_sec, per_sec * 0.3, 0.0, per_sec * 4.0),
            whole,
        },
    }
}

/// A gauge series of whole things (goroutines, connections, bytes) around
/// `mean`, straying about `spread` (never below zero).
fn level(pairs: &[(&'static str, &str)], mean: f64, spread: f64) -> DemoSeries {
    wandering(pairs, mean, spread, true)
}

/// A gauge series of a measurement (load average, duration) around `mean`,
/// straying about `spread` (never below zero).
fn reading(pairs: &[(&'static str, &str)], mean: f64, spread: f64) -> DemoSeries {
    wandering(pairs, mean, spread, false)
}

fn wandering(pairs: &[(&'static str, &str)], mean: f64, spread: f64, whole: bool) -> DemoSeries {
    DemoSeries {
        labels: labels(pairs),
        behaviour: Behaviour::Gauge {
            level: Wander::new(mean, spread, 0.0, mean + 6.0 * spread),
            whole,
        },
    }
}

/// Latencies around `median` at about `per_sec`, counted into `into`.
fn observed(
    pairs: &[(&'static str, &str)],
    per_sec: f64,
    median: f64,
    into: Observations,
) -> DemoSeries {
    DemoSeries {
        labels: labels(pairs),
        behaviour: Behaviour::Observed {
            rate: Wander::new(per_sec, per_sec * 0.3, 0.0, per_sec * 4.0),
            latency: Latency { median, sigma: 0.6 },
            into,
            slowest: None,
        },
    }
}

fn family(
    name: &'static str,
    kind: Kind,
    help: &'static str,
    unit: &'static str,
    series: Vec<DemoSeries>,
) -> Family {
    Family {
        name,
        kind,
        help,
        unit,
        series,
    }
}

fn counter(
    name: &'static str,
    help: &'static str,
    unit: &'static str,
    series: Vec<DemoSeries>,
) -> Family {
    family(name, Kind::Counter, help, unit, series)
}

fn gauge(
    name: &'static str,
    help: &'static str,
    unit: &'static str,
    series: Vec<DemoSeries>,
) -> Family {
    family(name, Kind::Gauge, help, unit, series)
}

const GIB: f64 = (1u64 << 30) as f64;
const MIB: f64 = (1u64 << 20) as f64;

/// An HTTP API written in Go.
fn api() -> Vec<Family> {
    let routes = ROUTES
        .iter()
        .map(|&(handler, method, code, rate)| {
            count(
                &[("handler", handler), ("method", method), ("code", code)],
                rate,
            )
        })
        .collect();
    let latencies = HANDLERS
        .iter()
        .map(|&(handler, median)| {
            let rate: f64 = ROUTES.iter().filter(|r| r.0 == handler).map(|r| r.3).sum();
            let into = Observations::Native(NativeHistogram::default());
            observed(&[("handler", handler)], rate, median, into)
        })
        .collect();
    vec![
        counter(
            "http_requests_total",
            "Total HTTP requests handled, by handler, method and status code.",
            "",
            routes,
        ),
        family(
            "http_request_duration_seconds",
            Kind::Histogram,
            "Latency of HTTP requests.",
            "seconds",
            latencies,
        ),
        gauge(
            "http_requests_in_flight",
            "HTTP requests being served.",
            "",
            vec![level(&[], 4.0, 2.0)],
        ),
        gauge(
            "go_goroutines",
            "Number of goroutines that currently exist.",
            "",
            vec![level(&[], 85.0, 12.0)],
        ),
        counter(
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            "seconds",
            vec![seconds(&[], 0.35)],
        ),
        gauge(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            "bytes",
            vec![level(&[], 180.0 * MIB, 15.0 * MIB)],
        ),
    ]
}

/// A Linux host (node_exporter).
fn node() -> Vec<Family> {
    let mut cpu = Vec::new();
    for core in ["0", "1", "2", "3"] {
        for (mode, share) in [
            ("idle", 0.72),
            ("user", 0.18),
            ("system", 0.07),
            ("iowait", 0.03),
        ] {
            cpu.push(seconds(&[("cpu", core), ("mode", mode)], share));
        }
    }
    let eth0 = &[("device", "eth0")];
    let root = &[
        ("device", "/dev/sda1"),
        ("fstype", "ext4"),
        ("mountpoint", "/"),
    ];
    vec![
        counter(
            "node_cpu_seconds_total",
            "Seconds the CPUs spent in each mode.",
            "seconds",
            cpu,
        ),
        gauge(
            "node_load1",
            "1m load average.",
            "",
            vec![reading(&[], 1.2, 0.5)],
        ),
        gauge(
            "node_memory_MemAvailable_bytes",
            "Memory information field MemAvailable_bytes.",
            "bytes",
            vec![level(&[], 5.2 * GIB, 0.5 * GIB)],
        ),
        gauge(
            "node_memory_MemTotal_bytes",
            "Memory information field MemTotal_bytes.",
            "bytes",
            vec![level(&[], 8.0 * GIB, 0.0)],
        ),
        counter(
            "node_network_receive_bytes_total",
            "Network device statistic receive_bytes.",
            "bytes",
            vec![count(eth0, 250e3)],
        ),
        counter(
            "node_network_transmit_bytes_total",
            "Network device statistic transmit_bytes.",
            "bytes",
            vec![count(eth0, 120e3)],
        ),
        gauge(
            "node_filesystem_avail_bytes",
            "Filesystem space available to non-root users in bytes.",
            "bytes",
            vec![level(root, 42.0 * GIB, 1.0 * GIB)],
        ),
    ]
}

/// A PostgreSQL server with an exporter that times statements.
fn postgres() -> Vec<Family> {
    let statements = [
        ("select", 40.0, 0.004),
        ("insert", 6.0, 0.009),
        ("update", 3.0, 0.012),
    ]
    .iter()
    .map(|&(statement, rate, median)| {
        let into = Observations::Classic(ClassicHistogram::new(LATENCY_BOUNDS));
        observed(&[("statement", statement)], rate, median, into)
    })
    .collect();
    vec![
        family(
            "pg_statement_duration_seconds",
            Kind::Histogram,
            "Time spent executing statements.",
            "seconds",
            statements,
        ),
        gauge(
            "pg_stat_activity_count",
            "Number of connections in each state.",
            "",
            vec![
                level(&[("state", "active")], 6.0, 3.0),
                level(&[("state", "idle")], 18.0, 4.0),
            ],
        ),
    ]
}

/// A background job runner (Python client library: summaries).
fn worker() -> Vec<Family> {
    let queues = [
        ("emails", 2.0, 0.8, 15.0),
        ("reports", 0.1, 12.0, 2.0),
        ("thumbnails", 5.0, 0.3, 40.0),
    ];
    let processed = queues
        .iter()
        .map(|&(q, rate, ..)| count(&[("queue", q)], rate))
        .collect();
    let durations = queues
        .iter()
        .map(|&(q, rate, median, _)| {
            observed(
                &[("queue", q)],
                rate,
                median,
                Observations::Summary(Summary::default()),
            )
        })
        .collect();
    let depth = queues
        .iter()
        .map(|&(q, .., depth)| level(&[("queue", q)], depth, depth * 0.6))
        .collect();
    vec![
        counter(
            "jobs_processed_total",
            "Jobs processed, by queue.",
            "",
            processed,
        ),
        family(
            "job_duration_seconds",
            Kind::Summary,
            "Time spent processing a job.",
            "seconds",
            durations,
        ),
        gauge("queue_depth", "Jobs waiting, by queue.", "", depth),
        gauge(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            "bytes",
            vec![level(&[], 95.0 * MIB, 10.0 * MIB)],
        ),
    ]
}
