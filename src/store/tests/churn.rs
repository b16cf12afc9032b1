//! Series and metric names that come and go: interned strings, metric slots and
//! metadata stay bounded while survivors keep resolving.

use super::*;

/// A request carrying `survivors` (seen every time), `fresh` series never seen
/// before (`series_id` and `pod` unique to each), an exemplar with a new trace
/// id on the first survivor, and metadata whose help text changes every time.
fn churn_batch(round: usize, survivors: &[String], fresh: Range<usize>) -> Batch {
    let mut data = WriteData::default();
    for s in survivors {
        data.push_series(
            &[("__name__", "kept"), ("job", "api"), ("series_id", s)],
            &[sample(T0, 1.0)],
            &[],
        );
    }
    trace_exemplar(&mut data, &format!("trace-{round}"), 1.0, T0);
    for n in fresh {
        let (id, pod) = (format!("churn-{n}"), format!("pod-{n}"));
        data.push_series(
            &[("__name__", "churn"), ("pod", &pod), ("series_id", &id)],
            &[sample(T0, n as f64)],
            &[],
        );
    }
    push_metadata(&mut data, "churn", &format!("help {round}"));
    accepted(round, data)
}

#[test]
fn series_churn_keeps_interned_strings_bounded_and_survivors_resolve() {
    const MAX: usize = 1000;
    const PER_BATCH: usize = 100;
    let mut store = store_of(MAX);
    let survivors: Vec<String> = (0..10).map(|i| format!("survivor-{i}")).collect();
    // 10x max_series distinct series pass through.
    let rounds = 10 * MAX / PER_BATCH;
    let mut most_strings = 0;
    for round in 0..rounds {
        let fresh = round * PER_BATCH..(round + 1) * PER_BATCH;
        store.ingest(&churn_batch(round, &survivors, fresh));
        most_strings = most_strings.max(store.strings.len());
    }
    assert!(store.evictions().total() >= 9 * MAX as u64);
    // Two strings of their own per churning series, plus a few shared ones
    // (names, "kept", "api", survivor ids, the latest trace id and help text).
    let live = store.series_count();
    let own = 2 * live;
    assert!(
        store.strings.len() <= own + 40,
        "{} strings for {live} series",
        store.strings.len()
    );
    // Within a request, before evicting, the store holds up to max_series plus
    // that request's new series.
    let peak = 2 * (MAX + PER_BATCH) + 40;
    assert!(most_strings <= peak, "{most_strings}");
    // Ids are reused, so they stay below that peak instead of growing with churn.
    let highest = store
        .series
        .iter()
        .flat_map(|(_, s)| s.labels.iter().flat_map(|&(n, v)| [n.0, v.0]))
        .max()
        .unwrap_or(0);
    assert!((highest as usize) < peak, "{highest}");

    // Every live series still reads back as what was sent.
    for (_, s) in store.series.iter() {
        let text = store.series_text(&s.labels);
        let label = |name: &str| {
            s.labels
                .iter()
                .find(|l| store.str(l.0) == name)
                .map(|l| store.str(l.1))
        };
        match label("__name__") {
            Some("kept") => {
                let sid = label("series_id").unwrap();
                assert!(survivors.iter().any(|v| v == sid), "{text}");
                assert_eq!(text, format!(r#"kept{{job="api", series_id="{sid}"}}"#));
            }
            Some("churn") => {
                let n = label("series_id").unwrap().strip_prefix("churn-").unwrap();
                assert!(n.parse::<usize>().unwrap() >= rounds * PER_BATCH - MAX);
                assert_eq!(
                    text,
                    format!(r#"churn{{pod="pod-{n}", series_id="churn-{n}"}}"#)
                );
                let value = s.points.last().unwrap().value;
                assert_eq!(value.to_string(), n);
            }
            _ => panic!("unexpected series {text}"),
        }
    }
    let kept = store
        .metrics()
        .find(|(_, m)| store.str(m.name) == "kept")
        .unwrap()
        .1;
    assert_eq!(kept.series_count(), survivors.len());
    let (_, first) = store.series_of(kept).next().unwrap();
    let traces: Vec<String> = first
        .exemplars()
        .map(|e| store.series_text(&e.labels))
        .collect();
    let expected: Vec<String> = (rounds - 8..rounds)
        .map(|r| format!(r#"{{trace_id="trace-{r}"}}"#))
        .collect();
    assert_eq!(traces, expected);
    let help = store.metadata_for("churn").unwrap().help;
    assert_eq!(store.str(help), format!("help {}", rounds - 1));
    assert_eq!(store.sym("help 0"), None, "replaced help texts are freed");
    assert_eq!(
        store.distinct_series(),
        DistinctCount::Exact((rounds * PER_BATCH + survivors.len()) as u64)
    );
}

/// A request carrying the `kept` counter (seen every time) and one series of each
/// new metric name `churn_{n}_total` for `n` in `fresh`, with metadata for every
/// family (`churn_{n}`, help text unique to it), RW 2.0-style on the series too.
fn name_churn_batch(round: usize, fresh: Range<usize>) -> Batch {
    let mut data = WriteData::default();
    data.push_series(
        &[("__name__", "kept_total"), ("job", "api")],
        &[sample(T0, round as f64)],
        &[],
    );
    push_metadata(&mut data, "kept", "Kept.");
    for n in fresh {
        let (name, family, help) = (
            format!("churn_{n}_total"),
            format!("churn_{n}"),
            format!("help {n}"),
        );
        let i = data.push_series(
            &[("__name__", &name), ("job", "churn")],
            &[sample(T0, n as f64)],
            &[],
        );
        let (family_id, help_id) = (data.intern(&family), data.intern(&help));
        data.series[i].metadata = Some(crate::ingest::model::Metadata {
            family: family_id,
            metric_type: MetricType::Counter,
            help: help_id,
            unit: WriteData::EMPTY,
        });
        push_metadata(&mut data, &family, &help);
    }
    accepted(round, data)
}

#[test]
fn metric_name_churn_keeps_metric_slots_metadata_and_strings_bounded() {
    const MAX: usize = 1000;
    const PER_BATCH: usize = 100;
    const NAMES: usize = 50_000;
    let mut store = store_of(MAX);
    store.ingest(&name_churn_batch(0, 0..PER_BATCH));
    let first = store
        .metrics()
        .find(|(_, m)| store.str(m.name) == "churn_0_total")
        .map(|(id, _)| id)
        .unwrap();
    let (mut most_slots, mut most_strings, mut most_metadata) = (0, 0, 0);
    for round in 1..NAMES / PER_BATCH {
        store.ingest(&name_churn_batch(
            round,
            round * PER_BATCH..(round + 1) * PER_BATCH,
        ));
        most_slots = most_slots.max(store.metrics.slots().0);
        most_strings = most_strings.max(store.strings.len());
        most_metadata = most_metadata.max(store.metadata.len());
    }
    assert!(store.evictions().total() >= (NAMES - MAX) as u64);
    // Within a request the store holds up to max_series plus that request's new series.
    let peak_series = MAX + PER_BATCH + 1;
    assert!(most_slots <= peak_series, "{most_slots} metric slots");
    assert_eq!(store.metrics.names(), store.metric_count());
    let (slots, free) = store.metrics.slots();
    assert_eq!(store.metric_count() + free, slots);
    let peak_metadata = 2 * peak_series + ORPHAN_METADATA + PER_BATCH + 1;
    assert!(most_metadata <= peak_metadata, "{most_metadata} metadata");
    // A name per metric; a family and a help text per metadata entry; a few shared.
    let peak_strings = peak_series + 2 * peak_metadata + 20;
    assert!(most_strings <= peak_strings, "{most_strings} strings");
    assert!(peak_strings < NAMES, "the bound must be below what churned");

    // Every live metric reads back as what was sent, with its own metadata.
    let mut live = 0;
    for (id, m) in store.metrics() {
        live += 1;
        let name = store.str(m.name);
        assert_eq!(store.metrics.named(m.name), Some(id), "{name}");
        assert_eq!(store.series_of(m).count(), m.series_count());
        for (_, s) in store.series_of(m) {
            assert_eq!(s.metric, id);
            let text = store.series_text(&s.labels);
            assert!(text.starts_with(&format!("{name}{{")), "{text} in {name}");
        }
        let help = store.str(store.metadata_for(name).unwrap().help);
        match name
            .strip_prefix("churn_")
            .and_then(|n| n.strip_suffix("_total"))
        {
            Some(n) => {
                assert!(n.parse::<usize>().unwrap() >= NAMES - MAX - PER_BATCH);
                assert_eq!(help, format!("help {n}"));
            }
            None => assert_eq!((name, help), ("kept_total", "Kept.")),
        }
    }
    assert_eq!(live, store.metric_count());
    // The first churned name's slot went to another name: its old id and
    // generation no longer resolve.
    assert!(store.metric(first).is_none());
    assert!(
        store
            .metric_in_slot_of(first)
            .is_none_or(|m| store.str(m.name) != "churn_0_total")
    );
    assert_eq!(store.sym("churn_0_total"), None, "a freed name is released");
    assert!(store.metadata_for("churn_0_total").is_none());
}
