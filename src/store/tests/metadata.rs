//! Metric types and help texts from metadata (RW 1.0 requests, RW 2.0 series)
//! and the bound on metadata of families without series.

use super::*;

#[test]
fn metric_types_come_from_metadata_or_the_name() {
    let mut store = Store::new(StoreLimits::default());
    let mut data = WriteData::default();
    let family = data.intern("rpc_seconds");
    let help = data.intern("RPC latency.");
    data.metadata.push(crate::ingest::model::Metadata {
        family,
        metric_type: MetricType::Summary,
        help,
        unit: WriteData::EMPTY,
    });
    store.ingest(&Batch {
        info: info(T0),
        outcome: Outcome::Accepted,
        data,
    });
    store.ingest(&batch(
        T0,
        &[
            (&[("__name__", "rpc_seconds_count")], T0, 1.0),
            (&[("__name__", "http_requests_total")], T0, 1.0),
            (&[("__name__", "temperature")], T0, 1.0),
        ],
    ));
    let mut native = WriteData::default();
    native.push_series(&[("__name__", "latency")], &[], &[Histogram::default()]);
    store.ingest(&Batch {
        info: info(T0),
        outcome: Outcome::Accepted,
        data: native,
    });
    let type_of = |name: &str| {
        let m = store
            .metrics()
            .find(|(_, m)| store.str(m.name) == name)
            .unwrap()
            .1;
        store.metric_type(m)
    };
    assert_eq!(type_of("rpc_seconds_count"), (MetricType::Summary, false));
    assert_eq!(
        store.str(store.metadata_for("rpc_seconds_sum").unwrap().help),
        "RPC latency."
    );
    assert_eq!(type_of("http_requests_total"), (MetricType::Counter, true));
    assert_eq!(type_of("temperature"), (MetricType::Unknown, true));
    assert_eq!(type_of("latency"), (MetricType::Histogram, true));
}

#[test]
fn metadata_of_families_without_series_is_bounded_and_the_oldest_goes_first() {
    let mut store = Store::new(StoreLimits::default());
    // Metadata before its series, as RW 1.0 may send it; it is the oldest.
    let mut data = WriteData::default();
    push_metadata(&mut data, "up", "Up.");
    store.ingest(&Batch {
        info: info(T0),
        outcome: Outcome::Accepted,
        data,
    });
    store.ingest(&batch(T0, &[(UP_A, T0, 1.0)]));
    const FAMILIES: usize = 3 * ORPHAN_METADATA;
    const PER_REQUEST: usize = 500;
    for start in (0..FAMILIES).step_by(PER_REQUEST) {
        let mut data = WriteData::default();
        for n in start..start + PER_REQUEST {
            push_metadata(&mut data, &format!("orphan_{n}"), &format!("help {n}"));
        }
        store.ingest(&Batch {
            info: info(T0),
            outcome: Outcome::Accepted,
            data,
        });
        assert!(store.metadata.len() <= 2 + ORPHAN_METADATA + PER_REQUEST);
    }
    assert_eq!(store.str(store.metadata_for("up").unwrap().help), "Up.");
    let last = format!("orphan_{}", FAMILIES - 1);
    assert!(store.metadata_for(&last).is_some(), "the newest are kept");
    assert!(store.metadata_for("orphan_0").is_none());
    assert_eq!(
        store.sym("help 0"),
        None,
        "dropped entries release their strings"
    );
    assert!(store.strings.len() <= 2 * (ORPHAN_METADATA + PER_REQUEST) + 10);
}

#[test]
fn rw2_metadata_on_every_series_ends_as_the_last_series_says() {
    let mut store = Store::new(StoreLimits::default());
    // One family's series, each with its metadata as RW 2.0 sends it (equal
    // texts by the same symbol); the help changes within the request and
    // back in the next.
    let request = |helps: &[&str], metric_type: MetricType| {
        let mut data = WriteData::default();
        let family = data.intern("jobs");
        let texts = [("a", data.intern("a")), ("b", data.intern("b"))];
        for (i, help) in helps.iter().enumerate() {
            let id = i.to_string();
            data.push_series(
                &[("__name__", "jobs"), ("id", &id)],
                &[sample(T0, 1.0)],
                &[],
            );
            let help = texts.iter().find(|(text, _)| text == help).map(|t| t.1);
            if let Some(s) = data.series.last_mut() {
                s.metadata = Some(crate::ingest::model::Metadata {
                    family,
                    metric_type,
                    help: help.unwrap_or(WriteData::EMPTY),
                    unit: WriteData::EMPTY,
                });
            }
        }
        Batch {
            info: info(T0),
            outcome: Outcome::Accepted,
            data,
        }
    };
    let help = |store: &Store| {
        store
            .str(store.metadata_for("jobs").unwrap().help)
            .to_owned()
    };
    store.ingest(&request(&["a", "a", "b", "b"], MetricType::Gauge));
    assert_eq!(help(&store), "b");
    store.ingest(&request(&["b", "a", "a"], MetricType::Gauge));
    assert_eq!(help(&store), "a");
    store.ingest(&request(&["a", "a"], MetricType::Counter));
    let info = store.metadata_for("jobs").unwrap();
    assert_eq!(
        (info.metric_type, store.str(info.help)),
        (MetricType::Counter, "a")
    );
}
