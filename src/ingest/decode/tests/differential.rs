//! The hand-written decoders against prost on random and corrupted requests:
//! the same content, and failing exactly when prost fails.

use super::*;

/// One series of a [`Flat`] request: labels, samples, histograms, exemplars.
type FlatSeries = (
    Vec<(String, String)>,
    Vec<(u64, i64, i64)>,
    // Encoded, so that NaN fields compare equal.
    Vec<Vec<u8>>,
    Vec<(Vec<(String, String)>, u64, i64)>,
);

/// A request in a protocol-neutral form, to compare decoders.
#[derive(Debug, PartialEq)]
struct Flat {
    series: Vec<FlatSeries>,
    metadata: Vec<(String, i32, String, String)>,
}

fn flat_from_data(data: &WriteData) -> Flat {
    let pairs = |r: std::ops::Range<u32>| {
        data.label_pairs(r)
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect::<Vec<_>>()
    };
    Flat {
        series: data
            .series
            .iter()
            .map(|s| {
                (
                    pairs(s.labels.clone()),
                    data.samples_of(s)
                        .iter()
                        .map(|x| (x.value.to_bits(), x.timestamp_ms, x.start_timestamp_ms))
                        .collect(),
                    data.histograms_of(s)
                        .iter()
                        .map(Message::encode_to_vec)
                        .collect(),
                    data.exemplars_of(s)
                        .iter()
                        .map(|e| (pairs(e.labels.clone()), e.value.to_bits(), e.timestamp_ms))
                        .collect(),
                )
            })
            .collect(),
        metadata: data
            .metadata
            .iter()
            .map(|m| {
                (
                    data.str(m.family).to_owned(),
                    m.metric_type as i32,
                    data.str(m.help).to_owned(),
                    data.str(m.unit).to_owned(),
                )
            })
            .collect(),
    }
}

fn flat_from_rw1(req: &pb1::WriteRequest) -> Flat {
    let pairs = |ls: &[pb1::Label]| {
        ls.iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect::<Vec<_>>()
    };
    Flat {
        series: req
            .timeseries
            .iter()
            .map(|ts| {
                (
                    pairs(&ts.labels),
                    ts.samples
                        .iter()
                        .map(|s| (s.value.to_bits(), s.timestamp, 0))
                        .collect(),
                    ts.histograms
                        .iter()
                        .map(|h| {
                            pb2::Histogram::decode(h.encode_to_vec().as_slice())
                                .unwrap()
                                .encode_to_vec()
                        })
                        .collect(),
                    ts.exemplars
                        .iter()
                        .map(|e| (pairs(&e.labels), e.value.to_bits(), e.timestamp))
                        .collect(),
                )
            })
            .collect(),
        metadata: req
            .metadata
            .iter()
            .map(|m| {
                (
                    m.metric_family_name.clone(),
                    // Type numbers the schema does not define read as unknown.
                    MetricType::from_proto(m.r#type) as i32,
                    m.help.clone(),
                    m.unit.clone(),
                )
            })
            .collect(),
    }
}

/// Random request content.
impl Rng {
    fn text(&mut self) -> String {
        const ALPHABET: [&str; 8] = ["a", "b", "_", "ü", "☃", "\n", "9", "\""];
        // Now and then a long one, so that lengths cross the one-byte varint
        // limit and the fast paths hand over to the general ones.
        let len = if self.below(8) == 0 {
            100 + self.below(60)
        } else {
            self.below(6)
        };
        (0..len).map(|_| ALPHABET[self.below(8) as usize]).collect()
    }

    fn float(&mut self) -> f64 {
        match self.below(6) {
            0 => f64::from_bits(STALE_NAN_BITS),
            1 => f64::INFINITY,
            2 => f64::from_bits(self.next()),
            _ => self.below(1000) as f64 / 8.0,
        }
    }
}

/// Fewer than `max` label pairs of random text.
fn random_pairs(rng: &mut Rng, max: u64) -> Vec<(String, String)> {
    (0..rng.below(max))
        .map(|_| (rng.text(), rng.text()))
        .collect()
}

fn random_rw1(rng: &mut Rng) -> pb1::WriteRequest {
    let labels = |rng: &mut Rng| {
        (0..rng.below(5))
            .map(|_| label(&rng.text(), &rng.text()))
            .collect::<Vec<_>>()
    };
    pb1::WriteRequest {
        timeseries: (0..rng.below(8))
            .map(|_| pb1::TimeSeries {
                labels: labels(rng),
                samples: (0..rng.below(4))
                    .map(|_| sample(rng.float(), rng.next() as i64))
                    .collect(),
                exemplars: (0..rng.below(2))
                    .map(|_| pb1::Exemplar {
                        labels: labels(rng),
                        value: rng.float(),
                        timestamp: rng.next() as i64,
                    })
                    .collect(),
                histograms: (0..rng.below(2))
                    .map(|_| {
                        to_rw1_histogram(&if rng.below(2) == 0 {
                            int_histogram()
                        } else {
                            float_custom_histogram()
                        })
                    })
                    .collect(),
            })
            .collect(),
        metadata: (0..rng.below(3))
            .map(|_| pb1::MetricMetadata {
                r#type: rng.below(8) as i32,
                metric_family_name: rng.text(),
                help: rng.text(),
                unit: rng.text(),
            })
            .collect(),
    }
}

#[test]
fn differential_rw1_random_requests_match_prost() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..2000 {
        let req = random_rw1(&mut rng);
        let body = req.encode_to_vec();
        let ours = decode(Protocol::V1, body.clone()).expect("valid request");
        assert_eq!(flat_from_data(&ours), flat_from_rw1(&req));
        // Any prefix either fails in both decoders or (if it ends on a message
        // boundary) succeeds in both with the same content.
        let cut = rng.below(body.len() as u64 + 1) as usize;
        match (
            decode(Protocol::V1, body[..cut].to_vec()),
            pb1::WriteRequest::decode(&body[..cut]),
        ) {
            (Ok(a), Ok(b)) => assert_eq!(flat_from_data(&a), flat_from_rw1(&b)),
            (Err(_), Err(_)) => {}
            (a, b) => panic!(
                "decoders disagree on a {cut}-byte prefix: ours {:?}, prost {:?}",
                a.err(),
                b.err()
            ),
        }
    }
}

/// Changes one to three bytes of `body`: to tags and lengths the decoders
/// special-case, by a flipped bit, or at random.
fn corrupt(rng: &mut Rng, body: &mut [u8]) {
    const INTERESTING: [u8; 9] = [0x00, 0x01, 0x09, 0x0a, 0x10, 0x12, 0x7f, 0x80, 0xff];
    if body.is_empty() {
        return;
    }
    for _ in 0..=rng.below(3) {
        let at = rng.below(body.len() as u64) as usize;
        body[at] = match rng.below(3) {
            0 => INTERESTING[rng.below(INTERESTING.len() as u64) as usize],
            1 => body[at] ^ (1 << rng.below(8)),
            _ => rng.next() as u8,
        };
    }
}

#[test]
fn differential_rw1_corrupted_requests_agree_with_prost() {
    let mut rng = Rng(0x0ddb_a11c_afef_00d1);
    for round in 0..4000 {
        let mut body = random_rw1(&mut rng).encode_to_vec();
        corrupt(&mut rng, &mut body);
        match (
            decode(Protocol::V1, body.clone()),
            pb1::WriteRequest::decode(body.as_slice()),
        ) {
            (Ok(a), Ok(b)) => assert_eq!(flat_from_data(&a), flat_from_rw1(&b), "round {round}"),
            (Err(_), Err(_)) => {}
            // prost checks that strings are UTF-8; Prometheus's (gogo's)
            // unmarshalling does not, and neither do we: such strings are kept
            // losslessly (label names and values fire a rule).
            (Ok(a), Err(b)) if is_utf8_error(&b) => {
                for &id in a.labels.iter().flat_map(|l| [&l.name, &l.value]) {
                    assert!(std::str::from_utf8(a.bytes(id)).is_ok(), "round {round}");
                }
            }
            (a, b) => panic!(
                "round {round}: decoders disagree on {body:02x?}: ours {:?}, prost {:?}",
                a.err(),
                b.err()
            ),
        }
    }
}

/// Whether prost failed on a `string` field that is not UTF-8.
fn is_utf8_error(e: &prost::DecodeError) -> bool {
    e.to_string().contains("not UTF-8")
}

#[test]
fn corrupted_rw2_requests_fail_exactly_when_prost_fails() {
    let mut rng = Rng(0x5eed_0f2b_0d1e_5eed);
    for round in 0..4000 {
        let mut b = Rw2Builder::new();
        let timeseries = (0..rng.below(4))
            .map(|_| {
                let pairs = random_pairs(&mut rng, 4);
                let exemplar_refs = b.refs(&[("trace_id", "abc")]);
                pb2::TimeSeries {
                    labels_refs: b.refs(&borrowed(&pairs)),
                    samples: (0..rng.below(3))
                        .map(|_| pb2::Sample {
                            value: rng.float(),
                            timestamp: rng.next() as i64,
                            start_timestamp: rng.below(3) as i64,
                        })
                        .collect(),
                    histograms: (0..rng.below(2)).map(|_| int_histogram()).collect(),
                    exemplars: (0..rng.below(2))
                        .map(|_| pb2::Exemplar {
                            labels_refs: exemplar_refs.clone(),
                            value: rng.float(),
                            timestamp: rng.next() as i64,
                        })
                        .collect(),
                    metadata: Some(pb2::Metadata {
                        r#type: rng.below(8) as i32,
                        help_ref: b.sym("help"),
                        unit_ref: b.sym("seconds"),
                    }),
                    ..Default::default()
                }
            })
            .collect();
        let req = pb2::Request {
            symbols: b.symbols.clone(),
            timeseries,
        };
        let mut body = req.encode_to_vec();
        corrupt(&mut rng, &mut body);
        // RW2's own rules (symbol references in range, ...) refuse series
        // but never the request: ours fails exactly when prost does.
        let (ours, theirs) = (
            decode(Protocol::V2, body.clone()),
            pb2::Request::decode(body.as_slice()),
        );
        // Symbols that are not UTF-8 are kept losslessly where prost fails.
        let kept = ours.is_ok() && theirs.as_ref().is_err_and(is_utf8_error);
        assert!(
            ours.is_ok() == theirs.is_ok() || kept,
            "round {round}: {body:02x?}: ours {:?}, prost {:?}",
            ours.err(),
            theirs.err()
        );
    }
}

#[test]
fn differential_rw2_random_requests_match_prost() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..2000 {
        let mut b = Rw2Builder::new();
        let mut expected = Vec::new();
        let mut timeseries = Vec::new();
        let mut refused = 0;
        for _ in 0..rng.below(6) {
            let mut pairs = random_pairs(&mut rng, 5);
            // Most series name their metric, as senders do.
            if rng.below(4) > 0 {
                pairs.insert(0, ("__name__".into(), rng.text()));
            }
            let refs = borrowed(&pairs);
            let samples: Vec<pb2::Sample> = (0..rng.below(4))
                .map(|_| pb2::Sample {
                    value: rng.float(),
                    timestamp: rng.next() as i64,
                    start_timestamp: rng.below(3) as i64,
                })
                .collect();
            timeseries.push(pb2::TimeSeries {
                labels_refs: b.refs(&refs),
                samples: samples.clone(),
                ..Default::default()
            });
            if !prometheus_takes(&pairs) {
                refused += 1;
                continue;
            }
            expected.push((
                pairs.clone(),
                samples
                    .iter()
                    .map(|s| (s.value.to_bits(), s.timestamp, s.start_timestamp))
                    .collect::<Vec<_>>(),
                vec![],
                vec![],
            ));
        }
        let req = pb2::Request {
            symbols: b.symbols.clone(),
            timeseries,
        };
        let body = req.encode_to_vec();
        let ours = decode(Protocol::V2, body.clone()).expect("valid request");
        assert_eq!(ours.refused_count, refused);
        assert_eq!(
            flat_from_data(&ours),
            Flat {
                series: expected,
                metadata: vec![]
            }
        );
        let cut = rng.below(body.len() as u64 + 1) as usize;
        let theirs = pb2::Request::decode(&body[..cut]);
        assert_eq!(
            decode(Protocol::V2, body[..cut].to_vec()).is_ok(),
            theirs.is_ok(),
            "{cut}-byte prefix"
        );
    }
}

/// Wraps `fields` as length-delimited field `field`.
fn len_field(field: u8, fields: &[u8]) -> Vec<u8> {
    let mut out = vec![(field << 3) | 2, fields.len() as u8];
    out.extend_from_slice(fields);
    out
}

#[test]
fn unknown_groups_are_skipped_and_overflowing_varints_refused_as_prost_does() {
    // Group 9 holding a varint and a nested group 10: unknown everywhere.
    let group: &[u8] = &[0x4b, 0x08, 0x01, 0x53, 0x54, 0x4c];
    let label = [
        len_field(1, b"__name__"),
        len_field(2, b"up"),
        group.to_vec(),
    ]
    .concat();
    let sample = [&[0x09][..], &1.5f64.to_le_bytes(), &[0x10, 0x2a], group].concat();
    let series = [len_field(1, &label), group.to_vec(), len_field(2, &sample)].concat();
    let body = [group.to_vec(), len_field(1, &series), group.to_vec()].concat();
    let ours = decode(Protocol::V1, body.clone()).expect("groups are skipped");
    let theirs = pb1::WriteRequest::decode(body.as_slice()).expect("prost skips them");
    assert_eq!(flat_from_data(&ours), flat_from_rw1(&theirs));
    assert_eq!(ours.samples[0].value, 1.5);
    // The same in RW 2.0.
    let rw2 = [
        len_field(4, b""),
        group.to_vec(),
        len_field(4, b"__name__"),
        len_field(4, b"up"),
        len_field(5, &[&[0x0a, 0x02, 0x01, 0x02][..], group].concat()),
    ]
    .concat();
    let ours = decode(Protocol::V2, rw2.clone()).expect("groups are skipped");
    pb2::Request::decode(rw2.as_slice()).expect("prost skips them");
    assert_eq!(labels_of(&ours, 0), [("__name__".into(), "up".into())]);
    // An end without its start, and a group left open, fail in both.
    for bad in [&[0x4c][..], &[0x4b, 0x08, 0x01]] {
        assert!(decode(Protocol::V1, bad.to_vec()).is_err());
        assert!(pb1::WriteRequest::decode(bad).is_err());
    }
    // A timestamp whose tenth varint byte is above 1, on the fast path and the
    // general one (an unknown field first), fails in both.
    let mut timestamp = vec![0xff; 9];
    timestamp.push(0x02);
    for extra in [&[][..], &[0x18, 0x00]] {
        let sample = [
            &[0x09][..],
            &1.0f64.to_le_bytes(),
            extra,
            &[0x10],
            &timestamp,
        ]
        .concat();
        let series = [len_field(1, &label), len_field(2, &sample)].concat();
        let body = len_field(1, &series);
        assert!(pb1::WriteRequest::decode(body.as_slice()).is_err());
        let err = decode(Protocol::V1, body).unwrap_err();
        assert!(err.to_string().contains("overflows 64 bits"), "{err}");
    }
}
