//! Decoding remote-write bodies: snappy, protobuf, and both, per request.

mod fixtures;

/// The allocator the binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use divan::Bencher;
use divan::counter::ItemsCount;
use promscope::ingest::decode;
use promscope::ingest::model::Protocol;

fn main() {
    divan::main();
}

const MAX: usize = 64 << 20;

fn cases() -> [(&'static str, Protocol, Vec<u8>); 3] {
    [
        (
            "rw1_10k_series_9_labels",
            Protocol::V1,
            fixtures::ten_k_body(),
        ),
        (
            "rw1_avalanche_2000_series",
            Protocol::V1,
            fixtures::avalanche_body(Protocol::V1),
        ),
        (
            "rw2_avalanche_2000_series",
            Protocol::V2,
            fixtures::avalanche_body(Protocol::V2),
        ),
    ]
}

fn case(name: &str) -> (Protocol, Vec<u8>, usize) {
    let (_, protocol, body) = cases()
        .into_iter()
        .find(|c| c.0 == name)
        .expect("known case");
    let raw = decode::decompress(&body, MAX).expect("valid snappy");
    let samples = decode::decode(protocol, raw).expect("valid").samples.len();
    (protocol, body, samples)
}

const CASES: [&str; 3] = [
    "rw1_10k_series_9_labels",
    "rw1_avalanche_2000_series",
    "rw2_avalanche_2000_series",
];

/// Snappy decompression and protobuf decoding: what the receiver does per request.
#[divan::bench(args = CASES)]
fn decompress_and_decode(bencher: Bencher, name: &str) {
    let (protocol, body, samples) = case(name);
    bencher.counter(ItemsCount::new(samples)).bench(|| {
        let raw = decode::decompress(divan::black_box(&body), MAX).expect("valid");
        decode::decode(protocol, raw).expect("valid")
    });
}

/// Protobuf decoding alone.
#[divan::bench(args = CASES)]
fn decode_only(bencher: Bencher, name: &str) {
    let (protocol, body, samples) = case(name);
    let raw = decode::decompress(&body, MAX).expect("valid");
    bencher
        .counter(ItemsCount::new(samples))
        .with_inputs(|| raw.clone())
        .bench_values(|raw| decode::decode(protocol, raw).expect("valid"));
}

/// The same RW1 bodies decoded by prost's generated types, the peer our decoder is compared with.
#[divan::bench(args = ["rw1_10k_series_9_labels", "rw1_avalanche_2000_series"])]
fn prost_generated_decode(bencher: Bencher, name: &str) {
    use prost::Message;
    let (_, body, samples) = case(name);
    let raw = decode::decompress(&body, MAX).expect("valid");
    bencher.counter(ItemsCount::new(samples)).bench(|| {
        promscope::proto::rw1::WriteRequest::decode(divan::black_box(raw.as_slice()))
            .expect("valid")
    });
}

/// The problem rules over a decoded request (`Checker::check`), every rule on
/// or every rule off, in the steady state: each request's samples come later
/// than the last one's (as a sender's do), so the series are all remembered
/// and nothing fires. Compare with `decompress_and_decode` for the share of
/// ingest the rules take.
#[divan::bench(args = CASES, consts = [true, false])]
fn check<const ON: bool>(bencher: Bencher, name: &str) {
    use promscope::ingest::check::{Action, Checker, Settings};
    use promscope::problems::Rule;
    use std::sync::atomic::{AtomicI64, Ordering};
    let (protocol, body, samples) = case(name);
    let raw = decode::decompress(&body, MAX).expect("valid");
    let data = decode::decode(protocol, raw).expect("valid");
    let mut settings = Settings::default();
    if !ON {
        for &rule in Rule::ALL {
            settings.set(rule, Action::Off);
        }
    }
    let checker = Checker::new(settings);
    let newest = data
        .samples
        .iter()
        .map(|s| s.timestamp_ms)
        .max()
        .unwrap_or(0);
    let round = AtomicI64::new(0);
    bencher
        .counter(ItemsCount::new(samples))
        .with_inputs(|| {
            let mut data = data.clone();
            let shift = round.fetch_add(1, Ordering::Relaxed) * 15_000;
            for s in &mut data.samples {
                s.timestamp_ms += shift;
            }
            (data, newest + shift)
        })
        .bench_refs(|(data, arrival)| checker.check(data, Some(protocol), *arrival));
}

/// What the receiver does with a request, all but HTTP and the queue:
/// snappy, decoding, the problem rules at their defaults (every rule on),
/// then the dashboard's store. The series are already in the store and the
/// checker, and each request's samples are 15 s newer than the last one's,
/// as a sender's are. RW1 and RW2 carry the same series and samples.
#[divan::bench(args = ["rw1_avalanche_2000_series", "rw2_avalanche_2000_series"])]
fn receive(bencher: Bencher, name: &str) {
    use promscope::ingest::check::Checker;
    use promscope::send::{Workload, WorkloadConfig};
    use promscope::store::{Store, StoreLimits};
    let (protocol, _, samples) = case(name);
    let config = WorkloadConfig {
        protocol,
        ..WorkloadConfig::default()
    };
    let mut workload = Workload::new(config).expect("default workload is valid");
    let checker = Checker::default();
    let mut store = Store::new(StoreLimits::default());
    let mut seq = 0;
    let mut next = move || {
        seq += 1;
        let arrival_ms = fixtures::T0 + seq as i64 * 15_000;
        (workload.build(seq, arrival_ms).bytes, arrival_ms)
    };
    let (body, arrival_ms) = next();
    received(&checker, &mut store, protocol, &body, arrival_ms);
    bencher
        .counter(ItemsCount::new(samples))
        .with_inputs(next)
        .bench_local_values(|(body, arrival_ms)| {
            received(&checker, &mut store, protocol, &body, arrival_ms)
        });
}

/// [`receive`]'s work on one request; not inlined, so that callgrind can
/// count it alone (`--toggle-collect=decode::received`).
#[inline(never)]
fn received(
    checker: &promscope::ingest::check::Checker,
    store: &mut promscope::store::Store,
    protocol: Protocol,
    body: &[u8],
    arrival_ms: i64,
) {
    let raw = decode::decompress(body, MAX).expect("valid snappy");
    let mut data = decode::decode(protocol, raw).expect("valid");
    checker.check(&mut data, Some(protocol), arrival_ms);
    store.ingest(&fixtures::received(protocol, data, arrival_ms));
}
