//! Forward mode: the series a backend refused are flagged, with its message.

use std::time::Duration;

use bytes::Bytes;

use super::*;
use crate::ingest::model::{Forwarded, Upstream};

/// `batch` with its outcome replaced by the backend's answer.
fn answered(mut batch: Batch, status: u16, body: &str) -> Batch {
    batch.outcome = Outcome::Forwarded(Box::new(Forwarded {
        upstream: Upstream::Answered {
            status,
            headers: Default::default(),
            body: Bytes::from(body.to_owned()),
        },
        backend_latency: Duration::from_millis(2),
        total_latency: Duration::from_millis(3),
        undecodable: None,
        mirrors: Default::default(),
        sender_gave_up: None,
    }));
    batch
}

fn flagged(store: &Store) -> Vec<(u32, Option<String>)> {
    (0..store.series.len())
        .filter_map(|n| nth_series(store, n))
        .map(|s| {
            let message = s.upstream_rejection().map(str::to_owned);
            (s.anomalies().rejected_upstream, message)
        })
        .collect()
}

#[test]
fn the_series_a_backend_names_are_flagged_with_its_message() {
    let mut store = Store::new(StoreLimits::default());
    let message = "out of order sample for series {__name__=\"up\", job=\"b\"}";
    store.ingest(&answered(
        batch(T0, &[(UP_A, T0, 1.0), (UP_B, T0, 1.0)]),
        400,
        message,
    ));
    assert_eq!(
        flagged(&store),
        vec![(0, None), (1, Some(message.to_owned()))]
    );
}

#[test]
fn a_refusal_naming_no_series_of_the_request_flags_them_all() {
    let mut store = Store::new(StoreLimits::default());
    // Prometheus's RW 1.0 answer names no series; this one names another.
    for message in ["out of order sample", "too old for series {__name__=\"x\"}"] {
        store.ingest(&answered(
            batch(T0, &[(UP_A, T0, 1.0), (UP_B, T0, 1.0)]),
            400,
            message,
        ));
    }
    let last = "too old for series {__name__=\"x\"}".to_owned();
    assert_eq!(
        flagged(&store),
        vec![(2, Some(last.clone())), (2, Some(last))]
    );
}

#[test]
fn answers_that_are_retried_or_accepted_flag_nothing() {
    let mut store = Store::new(StoreLimits::default());
    for (status, body) in [
        (204, ""),
        (429, "rate limited"),
        (503, "down"),
        (415, "zstd"),
    ] {
        store.ingest(&answered(batch(T0, &[(UP_A, T0, 1.0)]), status, body));
    }
    let mut failed = batch(T0, &[(UP_A, T0, 1.0)]);
    failed.outcome = Outcome::Forwarded(Box::new(Forwarded {
        upstream: Upstream::Failed {
            status: 502,
            message: "could not connect".into(),
        },
        backend_latency: Duration::ZERO,
        total_latency: Duration::ZERO,
        undecodable: None,
        mirrors: Default::default(),
        sender_gave_up: None,
    }));
    store.ingest(&failed);
    assert_eq!(flagged(&store), vec![(0, None)]);
}

/// A capture recorded in forward mode, replayed: the backend's refusal is a
/// plain rejection of reason `backend`, and flags as live; promscope's own
/// refusal of some series (RW 2.0, the rest written) flags nothing.
#[test]
fn a_replayed_refusal_of_the_backend_flags_as_live() {
    let mut store = Store::new(StoreLimits::default());
    let message = "out of order sample for series {__name__=\"up\", job=\"b\"}";
    for reason in [RejectReason::Invalid, RejectReason::Backend] {
        let mut replayed = batch(T0, &[(UP_A, T0, 1.0), (UP_B, T0, 1.0)]);
        replayed.outcome = Outcome::Rejected {
            status: 400,
            reason,
            message: message.into(),
        };
        store.ingest(&replayed);
    }
    assert_eq!(
        flagged(&store),
        vec![(0, None), (1, Some(message.to_owned()))]
    );
}
