use super::*;
use crate::ingest::decode;
use crate::ingest::model::HistogramExt;

fn small(protocol: Protocol) -> WorkloadConfig {
    WorkloadConfig {
        protocol,
        metrics: 3,
        series_per_metric: 4,
        samples_per_request: 5,
        churn_every: Some(3),
        histograms: true,
    }
}

#[test]
fn avalanche_label_layout() {
    let labels = series_labels(7, 42, 3);
    assert_eq!(labels.len(), LABELS_PER_SERIES);
    assert_eq!(LABELS_PER_SERIES, 13);
    let names: Vec<_> = labels.iter().map(|(n, _)| n.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "sorted by name");
    assert_eq!(names[0], "__name__");
    assert_eq!(labels[0].1, "avalanche_metric_mmmmm_0_7");
    assert_eq!(labels[1], ("cycle_id".into(), "3".into()));
    assert_eq!(
        labels[2],
        ("label_key_kkkkk_0".into(), "label_val_vvvvv_0".into())
    );
    assert_eq!(
        labels[11],
        ("label_key_kkkkk_9".into(), "label_val_vvvvv_9".into())
    );
    assert_eq!(labels[12], ("series_id".into(), "42".into()));
}

#[test]
fn zero_counts_are_rejected() {
    let config = WorkloadConfig {
        series_per_metric: 0,
        ..WorkloadConfig::default()
    };
    assert_eq!(
        Workload::new(config).err(),
        Some(WorkloadError::Zero("series-per-metric"))
    );
}

#[test]
fn bodies_decode_to_the_configured_shape_in_every_protocol() {
    for protocol in Protocol::ALL {
        let mut w = Workload::new(small(protocol)).unwrap();
        let mut seen = std::collections::HashSet::new();
        for seq in 0..12 {
            let body = w.build(seq, 1_000 + seq as i64);
            let raw = decode::Compression::of(protocol)
                .decompress(&body.bytes, 1 << 20)
                .unwrap();
            let data = decode::decode(protocol, raw).unwrap();
            assert!(data.warnings.is_empty(), "{:?}", data.warnings);
            assert_eq!(data.series.len(), 5);
            assert_eq!(data.samples.len() as u64, body.samples);
            assert_eq!(data.histograms.len() as u64, body.histograms);
            for s in &data.series {
                let labels: Vec<_> = data.label_pairs(s.labels.clone()).collect();
                assert_eq!(labels.len(), 13);
                let cycle = labels.iter().find(|(n, _)| *n == "cycle_id").unwrap().1;
                assert_eq!(cycle, (seq / 3).to_string());
                let name = data.metric_name(s.labels.clone());
                let series_id = labels.iter().find(|(n, _)| *n == "series_id").unwrap().1;
                seen.insert((name.to_owned(), series_id.to_owned()));
                if name == "avalanche_metric_mmmmm_0_2" {
                    let h = &data.histograms_of(s)[0];
                    let buckets: f64 = h.positive_buckets().iter().sum();
                    assert_eq!(h.total_count(), h.zero_count_value() + buckets);
                    assert_eq!(h.timestamp, 1_000 + seq as i64);
                } else {
                    assert_eq!(data.samples_of(s)[0].timestamp_ms, 1_000 + seq as i64);
                }
            }
        }
        assert_eq!(seen.len(), 12, "every series is visited");
    }
}

#[test]
fn rw2_symbols_start_empty_and_carry_metadata() {
    let mut w = Workload::new(small(Protocol::V2)).unwrap();
    let raw = snap::raw::Decoder::new()
        .decompress_vec(&w.build(0, 1).bytes)
        .unwrap();
    let request = rw2::Request::decode(raw.as_slice()).unwrap();
    assert_eq!(request.symbols[0], "");
    let meta = request.timeseries[0].metadata.unwrap();
    assert_eq!(meta.r#type, rw2::metadata::MetricType::Gauge as i32);
    assert_eq!(request.symbols[meta.help_ref as usize], HELP);
}

#[test]
fn requests_cap_at_one_sample_per_series() {
    let config = WorkloadConfig {
        metrics: 2,
        series_per_metric: 3,
        ..WorkloadConfig::default()
    };
    assert_eq!(config.series_per_request(), 6);
    let mut w = Workload::new(config).unwrap();
    assert_eq!(w.build(0, 1).samples, 6);
}
