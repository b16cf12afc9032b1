//! Filter typing under load, against a control in the same run (issue 8):
//! two release binaries in pseudo-terminals at 200×50, one holding a million
//! series with remote-write traffic coming (`promscope send`), the control
//! holding 2k series at 2k samples/s. A filter is typed into both, keys
//! interleaved (loaded, control, loaded, ...; each gets a key every `GAP_MS`),
//! and each key's echo is timed from writing the key to the pty to reading the
//! bytes that put it on the filter line (each chunk of output is timestamped
//! when read, then parsed by `vt100`, so parsing does not count).
//!
//! The host's own delays (scheduling under load, the pty) are in both figures;
//! what the million series cost is the difference, so the figures are reported
//! as ratios of the loaded to the control's percentiles.
//!
//! Ignored by default (it takes a minute and wants a release binary):
//!
//! ```text
//! cargo build --release
//! PROMSCOPE_BIN=target/release/promscope cargo test --test filter_echo -- --ignored --nocapture
//! ```
//!
//! `SERIES_PER_METRIC` (100000: 1M series), `RATE` (200000 samples/s),
//! `REQUEST_SERIES` (2000 series in each request while typing), `FILTER`
//! (`id="[0-9]{3}9"`), `GAP_MS` (200), `ROUNDS` (4) change the run.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::pty::{Pty, Size, welcome_url};

const SIZE: Size = Size {
    rows: 50,
    cols: 200,
};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A promscope dashboard in a pty.
struct Dashboard {
    name: &'static str,
    pty: Pty,
    url: String,
}

impl Dashboard {
    fn start(name: &'static str, bin: &str) -> Self {
        let args = [
            "--listen",
            "127.0.0.1:0",
            "--max-series",
            "2000000",
            "--max-store-bytes",
            "4294967296",
        ];
        let mut dashboard = Dashboard {
            name,
            pty: Pty::spawn(bin, &args, SIZE, false),
            url: String::new(),
        };
        let welcome = dashboard.wait_contents("the welcome screen", Duration::from_secs(20), |s| {
            s.contains("/api/v1/write")
        });
        dashboard.url = welcome_url(&welcome);
        dashboard
    }

    /// Polls the screen until `ready` holds on it.
    fn wait_contents(&self, what: &str, limit: Duration, ready: impl Fn(&str) -> bool) -> String {
        let what = format!("{}: {what}", self.name);
        self.pty
            .wait_screen(&what, limit, Duration::ZERO, ready)
            .contents()
    }

    fn press(&mut self, keys: &str) {
        self.pty.press(keys);
    }

    /// Writes `key` and waits until the screen contains `echo`: how long that took.
    fn time_echo(&mut self, key: &str, echo: String) -> Duration {
        self.pty.time_echo(key, &echo)
    }

    /// The header's line (the second row).
    fn header(&self) -> String {
        let contents = self.pty.contents();
        contents.lines().nth(1).unwrap_or_default().to_owned()
    }
}

/// `promscope send` to `url` with `args` (split at spaces).
fn send(bin: &str, url: &str, args: &str) -> Child {
    Command::new(bin)
        .arg("send")
        .args(["--url", url])
        .args(args.split_whitespace())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("promscope send")
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn percentile(sorted: &[f64], p: usize) -> f64 {
    sorted[((sorted.len() * p).div_ceil(100)).max(1) - 1]
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
#[ignore = "a minute long; wants PROMSCOPE_BIN (a release build)"]
fn filter_keys_echo_under_load_against_a_control() {
    let bin = std::env::var("PROMSCOPE_BIN").expect("PROMSCOPE_BIN: a release binary");
    let per_metric: u64 = env_or("SERIES_PER_METRIC", 100_000);
    let rate: u64 = env_or("RATE", 200_000);
    let filter: String = env_or("FILTER", r#"id="[0-9]{3}9""#.to_owned());
    let gap = Duration::from_millis(env_or("GAP_MS", 200));
    let rounds: usize = env_or("ROUNDS", 4);
    let request_series: u64 = env_or("REQUEST_SERIES", 2000);

    let mut loaded = Dashboard::start("loaded", &bin);
    let mut control = Dashboard::start("control", &bin);
    let series = 10 * per_metric;
    let metrics = format!("--metrics 10 --series-per-metric {per_metric}");
    let fill = send(
        &bin,
        &loaded.url,
        &format!("{metrics} --requests {} --concurrency 4", series / 2000),
    );
    assert!(
        KillOnDrop(fill).0.wait().unwrap().success(),
        "the fill failed"
    );
    let _load = KillOnDrop(send(
        &bin,
        &loaded.url,
        &format!(
            "{metrics} --rate {rate} --concurrency 8 --samples-per-request {request_series} \
             --precompute 64 --duration 30m"
        ),
    ));
    let _trickle = KillOnDrop(send(&bin, &control.url, "--rate 2000 --duration 30m"));
    // Building the precomputed bodies takes a while; then let the rate settle.
    let filled = format!("requests {} ", series / 2000);
    loaded.wait_contents("traffic after the fill", Duration::from_secs(120), |s| {
        !s.lines().nth(1).unwrap_or_default().contains(&filled)
    });
    control.wait_contents("the control's traffic", Duration::from_secs(30), |s| {
        s.contains("series 2.0k")
    });
    std::thread::sleep(Duration::from_secs(5));
    let load_before = load();
    println!("filter_echo: loaded header:{}", loaded.header());
    println!("filter_echo: control header:{}", control.header());

    let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        let both = [&mut loaded, &mut control];
        for d in both {
            d.time_echo("/", "filter: █".into());
        }
        let mut typed = String::new();
        for c in filter.chars() {
            typed.push(c);
            // Half a gap apart: each dashboard gets a key every `gap`.
            // Which goes first alternates by round.
            for turn in 0..2 {
                let i = (turn + round) % 2;
                let d = if i == 0 { &mut loaded } else { &mut control };
                let started = Instant::now();
                let took = d.time_echo(&c.to_string(), format!("filter: {typed}█"));
                times[i].push(took.as_secs_f64() * 1000.0);
                std::thread::sleep((gap / 2).saturating_sub(started.elapsed()));
            }
        }
        // Clear the filter and let the loaded one apply that before the next round.
        for d in [&mut loaded, &mut control] {
            d.press("\x15\r");
        }
        for d in [&loaded, &control] {
            d.wait_contents("the filter cleared", Duration::from_secs(30), |s| {
                !s.contains("filter: ")
            });
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    let load_after = load();
    let mut summary = Vec::new();
    for (i, name) in ["loaded", "control"].iter().enumerate() {
        let mut sorted = times[i].clone();
        sorted.sort_by(f64::total_cmp);
        let (p50, p95, max) = (
            percentile(&sorted, 50),
            percentile(&sorted, 95),
            sorted[sorted.len() - 1],
        );
        println!(
            "filter_echo: {name}: {} keys, echo ms p50 {p50:.1}, p95 {p95:.1}, max {max:.1}; in order: {:?}",
            sorted.len(),
            times[i]
                .iter()
                .map(|t| t.round() as u64)
                .collect::<Vec<_>>()
        );
        summary.push((p50, p95, max));
    }
    let (l, c) = (summary[0], summary[1]);
    println!(
        "filter_echo: loaded / control: p50 {:.2}, p95 {:.2}, max {:.2}; load {load_before} before, {load_after} after; {} cores",
        l.0 / c.0,
        l.1 / c.1,
        l.2 / c.2,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("filter_echo: loaded header at the end:{}", loaded.header());
}
