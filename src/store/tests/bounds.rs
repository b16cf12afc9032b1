//! The store's memory is bounded by bytes, whatever senders put in it: the
//! store's own accounting ([`Store::held_bytes`]) is checked here; RSS in the
//! memory bench and the soak script.

use super::*;
use crate::proto::rw2::BucketSpan;
use crate::proto::rw2::histogram::Count;
use crate::store::histogram::MAX_BUCKETS;
use crate::store::metadata::ORPHAN_METADATA_BYTES;

/// A store that keeps at most `max_bytes`.
fn store_of_bytes(max_bytes: usize) -> Store {
    Store::new(StoreLimits {
        max_bytes,
        ..StoreLimits::default()
    })
}

/// `n` float series, each with a label value of `bytes` bytes unique to it.
fn wide_batch(round: usize, n: usize, bytes: usize) -> Batch {
    let mut data = WriteData::default();
    for i in 0..n {
        let id = format!("{round}-{i}");
        let wide = format!("{id}:{}", "x".repeat(bytes));
        let labels = [("__name__", "wide"), ("id", id.as_str()), ("blob", &wide)];
        data.push_series(&labels, &[sample(T0, 1.0)], &[]);
    }
    accepted(round, data)
}

/// Recounts what the series hold, to check the running count.
fn recounted_series_bytes(store: &Store) -> usize {
    store.series.iter().map(|(_, s)| s.bytes()).sum()
}

#[test]
fn series_with_large_labels_are_evicted_by_bytes() {
    const MAX: usize = 4 << 20;
    const LABEL: usize = 64 << 10;
    let mut store = store_of_bytes(MAX);
    // 400 series of 64 KiB labels: 25 MiB, where --max-series alone keeps them all.
    for round in 0..200 {
        store.ingest(&wide_batch(round, 2, LABEL));
        let held = store.held_bytes();
        assert!(held <= MAX, "{held} bytes held after request {round}");
        assert_eq!(store.series.bytes(), recounted_series_bytes(&store));
    }
    let kept = store.series_count();
    assert!((40..64).contains(&kept), "{kept} series kept");
    assert_eq!(store.evictions().for_bytes, 400 - kept as u64);
    assert_eq!(store.evictions().for_count, 0);
    // The newest are kept, the oldest went with their strings.
    assert!(store.sym("199-1").is_some() && store.sym("0-0").is_none());
    assert!(store.strings.bytes() < MAX);
}

#[test]
fn one_request_over_the_bound_stays_until_the_next() {
    let mut store = store_of_bytes(1 << 20);
    store.ingest(&wide_batch(0, 4, 1 << 20));
    // Never the series of the request being ingested.
    assert_eq!(store.series_count(), 4);
    store.ingest(&wide_batch(1, 1, 10));
    assert_eq!(store.series_count(), 1);
    assert!(store.held_bytes() < 1 << 20);
}

/// Requests kept as they arrived (to open them) are counted in `max_bytes`,
/// within a sixteenth of it: a store of 1 MiB keeps 64 KiB of bodies, not
/// 64 MiB beside its bound.
#[test]
fn kept_requests_count_in_the_bytes_within_a_sixteenth() {
    const MAX: usize = 1 << 20;
    let mut store = store_of_bytes(MAX);
    for round in 0..40 {
        let mut batch = wide_batch(round, 2, 8 << 10);
        batch.info.raw = Some(std::sync::Arc::new(crate::ingest::model::RawRequest {
            body: bytes::Bytes::from(vec![7; 20 << 10]),
            body_complete: true,
            ..Default::default()
        }));
        store.ingest(&batch);
        let (held, kept) = (store.held_bytes(), store.kept.bytes());
        assert!(kept <= MAX / 16, "{kept} bytes of requests kept");
        assert!(held <= MAX, "{held} bytes held after request {round}");
        assert!(held >= kept + store.series.bytes() + store.strings.bytes());
    }
    assert!(
        store.kept.bytes() > MAX / 32,
        "the latest requests are kept"
    );
    // The newest request is kept to open, the oldest let go.
    let newest = store.requests.entries().back().map(|r| r.taken);
    assert!(store.kept_request(newest.unwrap()).is_some());
    assert!(store.kept_request(1).is_none());
}

/// Metadata of `n` families named after `round`, without series, with `help_bytes` of help each.
fn metadata_batch(round: usize, n: usize, help_bytes: usize) -> Batch {
    let mut data = WriteData::default();
    for i in 0..n {
        let help = format!("{round}-{i} {}", "h".repeat(help_bytes));
        push_metadata(&mut data, &format!("family_{round}_{i}"), &help);
    }
    accepted(round, data)
}

#[test]
fn metadata_without_series_is_bounded_by_bytes_of_help() {
    let mut store = Store::new(StoreLimits::default());
    // 2000 entries of 64 KiB help: 125 MiB, far below the 10,000 entries kept by count.
    for round in 0..100 {
        store.ingest(&metadata_batch(round, 20, 64 << 10));
        let text = store.strings.bytes();
        assert!(text <= ORPHAN_METADATA_BYTES + (2 << 20), "{text}");
    }
    assert!(store.metadata.len() <= ORPHAN_METADATA_BYTES / (64 << 10) + 20);
    assert!(
        store.metadata_for("family_99_19").is_some(),
        "the newest stay"
    );
    assert!(store.metadata_for("family_0_0").is_none());
}

#[test]
fn metadata_in_use_stays_and_goes_once_its_metric_does() {
    let mut store = Store::new(StoreLimits {
        max_series: 1,
        ..StoreLimits::default()
    });
    let mut data = WriteData::default();
    push_metadata(&mut data, "up", "Up.");
    data.push_series(UP_A, &[sample(T0, 1.0)], &[]);
    store.ingest(&accepted(0, data));
    assert_eq!(store.metadata.orphans(), 0);
    // Far more orphan text than kept: "up" is in use, so it stays.
    for round in 1..40 {
        store.ingest(&metadata_batch(round, 1, 1 << 20));
    }
    assert_eq!(store.str(store.metadata_for("up").unwrap().help), "Up.");
    // Its series evicted, "up" is the oldest orphan, and goes first.
    store.ingest(&batch(T0, &[(REQ, T0, 1.0)]));
    assert_eq!(store.metadata.orphans(), store.metadata.len());
    for round in 40..80 {
        store.ingest(&metadata_batch(round, 1, 1 << 20));
    }
    assert!(store.metadata_for("up").is_none());
    assert_eq!(store.sym("Up."), None);
}

#[test]
fn a_family_suffix_counts_as_a_use() {
    let mut store = Store::new(StoreLimits::default());
    store.ingest(&batch(
        T0,
        &[(&[("__name__", "rpc_seconds_bucket"), ("le", "1")], T0, 1.0)],
    ));
    let mut data = WriteData::default();
    push_metadata(&mut data, "rpc_seconds", "RPC latency.");
    push_metadata(&mut data, "unused", "No series.");
    store.ingest(&accepted(1, data));
    assert_eq!(store.metadata.orphans(), 1);
}

#[test]
fn exemplars_with_oversized_labels_are_counted_not_kept() {
    let mut store = Store::new(StoreLimits::default());
    let mut data = WriteData::default();
    data.push_series(UP_A, &[sample(T0, 1.0)], &[]);
    trace_exemplar(&mut data, &"t".repeat(MAX_EXEMPLAR_LABEL_BYTES), 1.0, T0);
    store.ingest(&accepted(0, data));
    let mut data = WriteData::default();
    data.push_series(UP_A, &[sample(T0 + 1, 1.0)], &[]);
    trace_exemplar(&mut data, "abc", 2.0, T0 + 1);
    store.ingest(&accepted(1, data));
    let series = nth_series(&store, 0).unwrap();
    let kept: Vec<_> = series.exemplars().map(|e| e.value).collect();
    assert_eq!(kept, [2.0]);
    assert_eq!(store.oversized_exemplars(), 1);
}

#[test]
fn a_histogram_with_millions_of_buckets_keeps_a_bounded_part() {
    const SENT: usize = 2_000_000;
    let histogram = Histogram {
        count: Some(Count::CountInt(SENT as u64)),
        schema: 8,
        positive_spans: vec![BucketSpan {
            offset: 0,
            length: SENT as u32,
        }],
        positive_deltas: vec![1; SENT],
        timestamp: T0,
        ..Histogram::default()
    };
    let mut store = Store::new(StoreLimits::default());
    let mut data = WriteData::default();
    data.push_series(&[("__name__", "huge")], &[], &[histogram]);
    store.ingest(&accepted(0, data));
    let series = nth_series(&store, 0).unwrap();
    let kept = series.histogram().unwrap();
    assert_eq!(kept.positive_deltas.len(), MAX_BUCKETS);
    assert_eq!(
        series.histogram_dropped_buckets(),
        (SENT - MAX_BUCKETS) as u64
    );
    assert_eq!(kept.total_count(), SENT as f64);
    assert!(series.bytes() < 32 << 10, "{} bytes", series.bytes());
    assert_eq!(store.series.bytes(), recounted_series_bytes(&store));
}

#[test]
fn the_running_count_follows_every_change_and_returns_to_empty() {
    let mut store = Store::new(StoreLimits {
        max_series: 50,
        samples_per_series: 16,
        ..StoreLimits::default()
    });
    let empty = store.held_bytes();
    let native = Histogram {
        count: Some(Count::CountInt(3)),
        positive_spans: vec![BucketSpan {
            offset: 0,
            length: 3,
        }],
        positive_deltas: vec![1, 0, 0],
        ..Histogram::default()
    };
    for round in 0..100 {
        let mut data = WriteData::default();
        for i in 0..20 {
            let id = (round * 7 + i) % 120;
            let labels = [("__name__", "m"), ("id", &id.to_string())];
            // Jittered timestamps, some escaping a code, grow and shrink the rings' extras.
            let ts = T0 + (round * 1000 + (round * i * 37) % 500) as i64;
            let ts = if i % 5 == 0 { ts * 3 } else { ts };
            if i % 3 == 0 {
                data.push_series(&labels, &[], std::slice::from_ref(&native));
            } else {
                data.push_series(&labels, &[sample(ts, 1.0)], &[]);
            }
        }
        trace_exemplar(&mut data, &format!("t{round}"), 1.0, T0);
        push_metadata(&mut data, &format!("fam{}", round % 7), "help");
        store.ingest(&accepted(round, data));
        assert_eq!(store.series.bytes(), recounted_series_bytes(&store));
    }
    assert!(store.evictions().total() > 0);
    // Everything evicted: what is left is the pinned strings and metadata.
    let ids: Vec<_> = store.series.iter().map(|(id, _)| id).collect();
    for id in ids {
        store.remove_series(id);
    }
    assert_eq!(store.series.bytes(), 0);
    assert_eq!(store.metrics.bytes(), 0);
    let metadata_text: usize = (0..7).map(|f| format!("fam{f}").len()).sum::<usize>() + 4;
    let metadata = 7 + 1;
    assert_eq!(
        store.strings.bytes(),
        store
            .strings
            .bytes()
            .min(empty + metadata_text + metadata * intern::STRING_OVERHEAD)
    );
    assert_eq!(store.strings.len(), 2 + metadata);
}

#[test]
fn the_request_log_keeps_a_bounded_part_of_what_senders_wrote() {
    use crate::store::history::{MAX_REQUEST_NOTE_BYTES, MAX_REQUEST_TEXT_BYTES};
    let mut store = Store::new(StoreLimits::default());
    // What the receiver takes in a request line and headers: hundreds of KiB.
    let huge = "x".repeat(200 << 10);
    let mut request = info(T0);
    request.path = format!("/{huge}");
    request.retry_attempt = Some(huge.clone());
    request.user_agent = Some(huge.clone());
    let rejected = Batch {
        info: request.clone(),
        outcome: Outcome::Rejected {
            status: 400,
            reason: RejectReason::Protobuf,
            message: format!("invalid label name {huge}"),
        },
        data: WriteData::default(),
    };
    let mut warned = WriteData::default();
    warned.warnings.push(huge.clone());
    for batch in [rejected, accepted(1, warned)] {
        let batch = Batch {
            info: request.clone(),
            ..batch
        };
        store.ingest(&batch);
        let row = store.requests().back().unwrap();
        assert!(row.path.len() <= MAX_REQUEST_TEXT_BYTES && row.path.ends_with('…'));
        let retry = row.retry_attempt.as_deref().unwrap();
        assert!(retry.len() <= MAX_REQUEST_TEXT_BYTES);
        let note = row.note.as_deref().unwrap();
        assert!(
            note.len() <= MAX_REQUEST_NOTE_BYTES && note.ends_with('…'),
            "{note}"
        );
        assert!(row.sender.len() < 2 * MAX_REQUEST_TEXT_BYTES);
    }
}

#[test]
fn past_64k_series_the_tables_are_grown_once_for_max_series() {
    let max_series = 300_000;
    let mut store = Store::new(StoreLimits {
        max_series,
        ..StoreLimits::default()
    });
    let mut capacities = Vec::new();
    for round in 0..20 {
        let mut data = WriteData::default();
        for i in 0..10_000 {
            let id = (round * 10_000 + i).to_string();
            data.push_series(&[("__name__", "m"), ("id", &id)], &[sample(T0, 1.0)], &[]);
        }
        store.ingest(&accepted(round, data));
        capacities.push(store.series.table_capacity());
    }
    assert_eq!(store.series_count(), 200_000);
    // Doubled up to 64k series, then room for max_series at once: never
    // rehashed again on the way to 200k (before: at 57k, 115k and 229k).
    assert!(capacities[6] >= max_series, "{capacities:?}");
    assert!(
        capacities[6..].iter().all(|&c| c == capacities[6]),
        "{capacities:?}"
    );
}
