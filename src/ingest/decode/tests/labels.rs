//! Label sets however they arrive: the same hash in RW 1.0 and RW 2.0, and RW
//! 2.0 label references in every encoding, bounded and checked.

use super::*;

#[test]
fn label_hash_is_the_same_however_the_label_set_arrives() {
    let long = "x".repeat(300);
    let sets: Vec<Vec<(&str, &str)>> = vec![
        vec![("__name__", "up"), ("job", "node")],
        vec![("__name__", "up"), ("empty", ""), ("long", long.as_str())],
    ];
    for set in sets {
        let mut sorted = set.clone();
        sorted.sort();
        let rw1_of = |pairs: &[(&str, &str)]| {
            let req = pb1::WriteRequest {
                timeseries: vec![pb1::TimeSeries {
                    labels: pairs.iter().map(|(k, v)| label(k, v)).collect(),
                    samples: vec![sample(1.0, 1)],
                    ..Default::default()
                }],
                metadata: vec![],
            };
            decode(Protocol::V1, req.encode_to_vec()).unwrap().series[0].label_hash
        };
        let in_order = rw1_of(&sorted);
        let mut reversed = sorted.clone();
        reversed.reverse();
        assert_eq!(rw1_of(&reversed), in_order, "{set:?} unsorted");
        let mut b = Rw2Builder::new();
        let refs = b.refs(&reversed);
        let rw2 = pb2::Request {
            symbols: b.symbols.clone(),
            timeseries: vec![pb2::TimeSeries {
                labels_refs: refs,
                ..Default::default()
            }],
        };
        assert_eq!(
            decode(Protocol::V2, rw2.encode_to_vec()).unwrap().series[0].label_hash,
            in_order,
            "{set:?} RW2"
        );
        let mut built = WriteData::default();
        built.push_series(&set, &[], &[]);
        assert_eq!(
            built.series[0].label_hash, in_order,
            "{set:?} built in memory"
        );
    }
    let other = {
        let mut d = WriteData::default();
        d.push_series(&[("__name__", "up"), ("job", "nodes")], &[], &[]);
        d.series[0].label_hash
    };
    let mut d = WriteData::default();
    d.push_series(&[("__name__", "up"), ("job", "node")], &[], &[]);
    assert_ne!(d.series[0].label_hash, other);
}

/// Prometheus 2.42's captured series (`fuzz/corpus`) as Prometheus 3 sends them
/// in RW 2.0, from `instances` instances: each series with its family's
/// metadata. Returns the body and the bytes of labels, help and units its
/// series refer to.
fn captured_as_rw2(instances: usize) -> (Vec<u8>, usize) {
    let corpus = |bytes: &[u8]| pb1::WriteRequest::decode(bytes).expect("a captured request");
    let series = corpus(include_bytes!(
        "../../../../fuzz/corpus/decode_rw1/prometheus-2.42-series.pb"
    ));
    let metadata = corpus(include_bytes!(
        "../../../../fuzz/corpus/decode_rw1/prometheus-2.42-metadata.pb"
    ));
    let mut symbols = crate::proto::Symbols::default();
    let (mut timeseries, mut referred) = (Vec::new(), 0);
    for instance in 0..instances {
        for s in &series.timeseries {
            let mut refs = Vec::new();
            for l in &s.labels {
                let mut value = l.value.clone();
                if l.name == "instance" {
                    value.push_str(&format!("-{instance}"));
                }
                referred += l.name.len() + value.len();
                refs.extend([symbols.intern(&l.name), symbols.intern(&value)]);
            }
            let name = &s.labels[0].value;
            let family = ["_bucket", "_sum", "_count", "_total", "_created"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .unwrap_or(name);
            let metadata = metadata
                .metadata
                .iter()
                .find(|m| m.metric_family_name == family || m.metric_family_name == *name)
                .map(|m| {
                    referred += m.help.len() + m.unit.len();
                    pb2::Metadata {
                        r#type: m.r#type,
                        help_ref: symbols.intern(&m.help),
                        unit_ref: symbols.intern(&m.unit),
                    }
                });
            let samples = s.samples.iter().map(|s| pb2::Sample {
                value: s.value,
                timestamp: s.timestamp,
                ..Default::default()
            });
            timeseries.push(pb2::TimeSeries {
                labels_refs: refs,
                samples: samples.collect(),
                metadata,
                ..Default::default()
            });
        }
    }
    let symbols = symbols.into_strings();
    let body = pb2::Request {
        symbols,
        timeseries,
    }
    .encode_to_vec();
    (body, referred)
}

#[test]
fn real_traffic_refers_to_labels_far_below_the_rw2_expansion_bound() {
    // Measured: 1.9 label bytes per body byte for the 27 captured series, 3.5
    // for the same from 100 instances (2,700 series, a request's worth).
    for instances in [1, 100] {
        let (body, referred) = captured_as_rw2(instances);
        let ratio = referred as f64 / body.len() as f64;
        assert!(ratio < 4.0, "{instances} instances: {ratio:.2} per byte");
        let data = decode(Protocol::V2, body).expect("within bounds");
        assert_eq!(data.series.len(), 27 * instances);
    }
    // kube_pod_labels-like: 2,000 series of 40 labels with 40-byte values, all
    // but one shared: 23.5 per byte, a fifth of the bound.
    let mut symbols = crate::proto::Symbols::default();
    let mut referred = 0;
    let timeseries = (0..2_000)
        .map(|i| {
            let mut pairs = vec![("__name__".to_owned(), "kube_pod_labels".to_owned())];
            pairs.extend((0..39).map(|l| {
                (
                    format!("label_app_kubernetes_io_{l:02}"),
                    format!("{l:040}"),
                )
            }));
            pairs.push(("pod".into(), format!("pod-{i}")));
            let labels_refs = pairs
                .iter()
                .flat_map(|(name, value)| {
                    referred += name.len() + value.len();
                    [symbols.intern(name), symbols.intern(value)]
                })
                .collect();
            pb2::TimeSeries {
                labels_refs,
                samples: vec![pb2::Sample {
                    value: 1.0,
                    timestamp: 1,
                    ..Default::default()
                }],
                ..Default::default()
            }
        })
        .collect();
    let body = pb2::Request {
        symbols: symbols.into_strings(),
        timeseries,
    }
    .encode_to_vec();
    let ratio = referred as f64 / body.len() as f64;
    assert!(ratio * 4.0 < rw2::EXPANSION as f64, "{ratio:.2} per byte");
    let data = decode(Protocol::V2, body).expect("within bounds");
    assert_eq!(data.series.len(), 2_000);
}

/// Key of an RW2 `TimeSeries.labels_refs` reference sent unpacked.
const LABELS_REFS_VARINT: u8 = 0x08;

/// An RW2 request of one series whose label references are written by
/// `refs_field` (each encoding a sender may use), then a sample.
fn rw2_body_with_refs(symbols: &[String], refs_field: &[u8]) -> Vec<u8> {
    let mut series = refs_field.to_vec();
    let sample = pb2::Sample {
        value: 1.0,
        timestamp: 2,
        start_timestamp: 0,
    };
    series.extend(long_field(2, &sample.encode_to_vec()));
    let mut body = pb2::Request {
        symbols: symbols.to_vec(),
        timeseries: vec![],
    }
    .encode_to_vec();
    body.extend(long_field(5, &series));
    body
}

/// `refs` as one packed field, as two, or one unpacked field per reference.
fn refs_fields(refs: &[u32], layout: u64) -> Vec<u8> {
    let varints = |refs: &[u32]| {
        let mut out = Vec::new();
        for &r in refs {
            prost::encoding::encode_varint(u64::from(r), &mut out);
        }
        out
    };
    match layout {
        0 => long_field(1, &varints(refs)),
        1 => {
            let (a, b) = refs.split_at(refs.len() / 2);
            [long_field(1, &varints(a)), long_field(1, &varints(b))].concat()
        }
        _ => refs
            .iter()
            .flat_map(|&r| [vec![LABELS_REFS_VARINT], varints(&[r])].concat())
            .collect(),
    }
}

#[test]
fn rw2_labels_and_hashes_match_rw1_whatever_the_reference_encoding() {
    let mut rng = Rng(0x0dd_ba11_5eed_2222);
    for round in 0..600 {
        // Lengths on both sides of the 32 bytes a symbol keeps at hand and
        // of the one-byte varint, ASCII and not.
        let text = |rng: &mut Rng| {
            let len = match rng.below(4) {
                0 => rng.below(4),
                1 => 28 + rng.below(8),
                2 => 60 + rng.below(10),
                _ => 120 + rng.below(16),
            };
            let alphabet = ["a", "b", "_", "ü", "9"];
            (0..len)
                .map(|_| alphabet[rng.below(5) as usize])
                .collect::<String>()
        };
        let mut pairs: Vec<(String, String)> = (0..rng.below(5))
            .map(|_| (text(&mut rng), text(&mut rng)))
            .collect();
        if rng.below(4) > 0 {
            let at = rng.below(pairs.len() as u64 + 1) as usize;
            pairs.insert(at, ("__name__".into(), text(&mut rng)));
        }
        // References of one, two or three bytes.
        let fillers = [0, 300, 17_000][rng.below(3) as usize];
        let mut b = Rw2Builder::new();
        b.symbols.extend((0..fillers).map(|i| format!("filler{i}")));
        let refs = b.refs(&borrowed(&pairs));
        let layout = rng.below(3);
        let body = rw2_body_with_refs(&b.symbols, &refs_fields(&refs, layout));
        let ours = decode(Protocol::V2, body).expect("valid request");
        let context = format!("round {round}, layout {layout}, fillers {fillers}: {pairs:?}");
        if !prometheus_takes(&pairs) {
            assert_eq!(ours.refused_count, 1, "{context}");
            continue;
        }
        let rw1 = pb1::WriteRequest {
            timeseries: vec![pb1::TimeSeries {
                labels: pairs.iter().map(|(k, v)| label(k, v)).collect(),
                samples: vec![sample(1.0, 2)],
                ..Default::default()
            }],
            metadata: vec![],
        };
        let theirs = decode(Protocol::V1, rw1.encode_to_vec()).expect("valid request");
        assert_eq!(labels_of(&ours, 0), pairs, "{context}");
        assert_eq!(
            ours.series[0].label_hash, theirs.series[0].label_hash,
            "{context}"
        );
        let ascending = pairs.windows(2).all(|w| w[0].0 < w[1].0);
        assert_eq!(ours.series[0].labels_sorted, ascending, "{context}");
    }
}

#[test]
fn rw2_malformed_label_references_fail_the_request_as_when_read_on_the_spot() {
    let symbols: Vec<String> = ["", "__name__", "up"].map(String::from).to_vec();
    // A varint over 64 bits, in a packed field that ends like a whole one.
    let overflowing = [[0xff; 11].as_slice(), &[0x01]].concat();
    // An out-of-range reference first: the series is not merely refused.
    let out_of_range = [[1, 2, 9].as_slice(), &overflowing].concat();
    for refs in [overflowing.clone(), out_of_range] {
        let body = rw2_body_with_refs(&symbols, &long_field(1, &refs));
        let err = decode(Protocol::V2, body).unwrap_err();
        assert!(err.to_string().contains("overflows 64 bits"), "{err}");
    }
    // Followed by a malformed field: the references fail first, as before.
    let mut series = long_field(1, &overflowing);
    series.extend([0x12, 0x02, 0x08, 0x01]);
    let mut body = pb2::Request {
        symbols,
        timeseries: vec![],
    }
    .encode_to_vec();
    body.extend(long_field(5, &series));
    let err = decode(Protocol::V2, body).unwrap_err();
    assert!(
        err.to_string()
            .contains("timeseries[0]: varint at byte 0 overflows 64 bits"),
        "{err}"
    );
}
