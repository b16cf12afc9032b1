//! Headless JSON output: promscope's hand-written writer against the same
//! records written through `serde` derive (borrowing structs) and `serde_json`
//! (issue 10, item 7), in the same run. The serde writer lives here: it is what
//! promscope would use if it cost no more. Both must produce the same bytes,
//! which setup checks, escaping included.

mod fixtures;

/// The allocator the binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use divan::Bencher;
use divan::counter::ItemsCount;
use promscope::ingest::model::{Batch, Protocol};
use promscope::output::{self, Format, MetadataDedup};
use promscope::send::{Workload, WorkloadConfig};

fn main() {
    writers_agree_on_hostile_text();
    divan::main();
}

const CASES: [&str; 3] = [
    "rw1_avalanche_2000_series",
    "rw2_avalanche_with_histograms",
    "rw1_10k_series_9_labels",
];

fn case(name: &str) -> Batch {
    match name {
        "rw1_avalanche_2000_series" => fixtures::batch(
            Protocol::V1,
            &fixtures::avalanche_body(Protocol::V1),
            fixtures::T0,
        ),
        "rw2_avalanche_with_histograms" => {
            let config = WorkloadConfig {
                protocol: Protocol::V2,
                histograms: true,
                ..WorkloadConfig::default()
            };
            let mut workload = Workload::new(config).expect("valid workload");
            let body = workload.build(0, fixtures::T0).bytes;
            fixtures::batch(Protocol::V2, &body, fixtures::T0)
        }
        _ => fixtures::batch(Protocol::V1, &fixtures::ten_k_body(), fixtures::T0),
    }
}

fn hand_written(batch: &Batch) -> String {
    let mut out = String::new();
    output::write_batch(&mut out, Format::Json, batch, &mut MetadataDedup::default());
    out
}

fn serde_derived(batch: &Batch) -> Vec<u8> {
    let mut out = Vec::new();
    serde_records::write_batch(&mut out, batch, &mut MetadataDedup::default());
    out
}

/// A batch and its record count, once both writers are seen to agree on it.
fn checked(name: &str) -> (Batch, usize) {
    let batch = case(name);
    let expected = hand_written(&batch);
    assert_eq!(
        String::from_utf8(serde_derived(&batch)).expect("UTF-8"),
        expected
    );
    (batch, expected.lines().count())
}

#[divan::bench(args = CASES)]
fn json_hand_written(bencher: Bencher, name: &str) {
    let mut out = String::new();
    bench_writer(bencher, name, |batch| {
        out.clear();
        output::write_batch(&mut out, Format::Json, batch, &mut MetadataDedup::default());
        out.len()
    });
}

#[divan::bench(args = CASES)]
fn json_serde_derive(bencher: Bencher, name: &str) {
    let mut out = Vec::new();
    bench_writer(bencher, name, |batch| {
        out.clear();
        serde_records::write_batch(&mut out, batch, &mut MetadataDedup::default());
        out.len()
    });
}

/// Times `write` over the batch of case `name`, counting records.
fn bench_writer(bencher: Bencher, name: &str, mut write: impl FnMut(&Batch) -> usize) {
    let (batch, records) = checked(name);
    bencher
        .counter(ItemsCount::new(records))
        .bench_local(|| write(&batch));
}

/// Sender text that a terminal must not see raw, and repeated label names:
/// the serde writer escapes and groups as the hand-written one does.
fn writers_agree_on_hostile_text() {
    use promscope::ingest::model::{Outcome, Sample, WriteData};
    let mut data = WriteData::default();
    let hostile = "a\u{1b}[31m\u{7f}\u{85}\u{202e}\"\\\n\t\u{8}\u{c}z";
    data.push_series(
        &[
            ("__name__", "m"),
            ("a_b", hostile),
            ("a_b", "y"),
            (hostile, "v"),
        ],
        &[Sample {
            value: f64::NAN,
            timestamp_ms: 1,
            start_timestamp_ms: 0,
        }],
        &[],
    );
    let mut batch = case("rw1_avalanche_2000_series");
    batch.data = data;
    batch.outcome = Outcome::Accepted;
    assert_eq!(
        String::from_utf8(serde_derived(&batch)).expect("UTF-8"),
        hand_written(&batch)
    );
}

mod serde_records {
    use std::cell::RefCell;
    use std::io::{self, Write};

    use promscope::format;
    use promscope::ingest::model::{Batch, BucketSpan, HistogramExt, WriteData};
    use promscope::output::json::{JsonLabels, json_labels};
    use promscope::output::{MetadataDedup, Record, records_of};
    use promscope::text::escape;
    use serde::Serialize;
    use serde::ser::{SerializeMap, SerializeSeq, Serializer};
    use serde_json::ser::{CharEscape, Formatter};

    /// serde_json's compact output, but every character a terminal must not
    /// see raw written as `\uXXXX`, and `\b`, `\f` as the hand-written writer
    /// writes them.
    struct TerminalSafe;

    impl Formatter for TerminalSafe {
        fn write_string_fragment<W: ?Sized + Write>(
            &mut self,
            writer: &mut W,
            fragment: &str,
        ) -> io::Result<()> {
            if !escape::may_hide(fragment) {
                return writer.write_all(fragment.as_bytes());
            }
            let mut copied = 0;
            for (i, c) in fragment.char_indices() {
                if escape::is_hidden(c) {
                    writer.write_all(&fragment.as_bytes()[copied..i])?;
                    write!(writer, "\\u{:04x}", c as u32)?;
                    copied = i + c.len_utf8();
                }
            }
            writer.write_all(&fragment.as_bytes()[copied..])
        }

        fn write_char_escape<W: ?Sized + Write>(
            &mut self,
            writer: &mut W,
            char_escape: CharEscape,
        ) -> io::Result<()> {
            let text: &[u8] = match char_escape {
                CharEscape::Quote => b"\\\"",
                CharEscape::ReverseSolidus => b"\\\\",
                CharEscape::Solidus => b"\\/",
                CharEscape::LineFeed => b"\\n",
                CharEscape::CarriageReturn => b"\\r",
                CharEscape::Tab => b"\\t",
                CharEscape::Backspace => b"\\u0008",
                CharEscape::FormFeed => b"\\u000c",
                CharEscape::AsciiControl(byte) => {
                    return write!(writer, "\\u{:04x}", byte);
                }
            };
            writer.write_all(text)
        }
    }

    /// A sample value as a JSON string (`"NaN"`, `"+Inf"` and exact decimals).
    struct Value(f64);

    impl Serialize for Value {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            thread_local! {
                static TEXT: RefCell<String> = const { RefCell::new(String::new()) };
            }
            TEXT.with_borrow_mut(|text| {
                text.clear();
                format::write_value(text, self.0);
                serializer.serialize_str(text)
            })
        }
    }

    struct Values<'a>(&'a [f64]);

    impl Serialize for Values<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
            for v in self.0 {
                seq.serialize_element(&Value(*v))?;
            }
            seq.end()
        }
    }

    #[derive(Serialize)]
    struct Span {
        offset: i32,
        length: u32,
    }

    struct Spans<'a>(&'a [BucketSpan]);

    impl Serialize for Spans<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(self.0.iter().map(|s| Span {
                offset: s.offset,
                length: s.length,
            }))
        }
    }

    /// Labels as an object (see [`JsonLabels`]).
    struct Labels<'a> {
        data: &'a WriteData,
        range: std::ops::Range<u32>,
    }

    impl Serialize for Labels<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            match json_labels(self.data.label_pairs(self.range.clone())) {
                JsonLabels::Pairs(pairs) => serializer.collect_map(pairs),
                JsonLabels::Grouped(groups) => {
                    let mut map = serializer.serialize_map(Some(groups.len()))?;
                    for (name, values) in &groups {
                        match values.as_slice() {
                            [value] => map.serialize_entry(name, value)?,
                            values => map.serialize_entry(name, values)?,
                        }
                    }
                    map.end()
                }
            }
        }
    }

    fn is_zero(ts: &i64) -> bool {
        *ts == 0
    }

    #[derive(Serialize)]
    #[serde(tag = "kind", rename_all = "lowercase")]
    enum JsonRecord<'a> {
        Sample {
            labels: Labels<'a>,
            timestamp_ms: i64,
            value: Value,
            #[serde(skip_serializing_if = "is_zero")]
            start_timestamp_ms: i64,
        },
        Histogram {
            labels: Labels<'a>,
            timestamp_ms: i64,
            count: Value,
            sum: Value,
            schema: i32,
            zero_threshold: Value,
            zero_count: Value,
            positive_spans: Spans<'a>,
            positive_buckets: Values<'a>,
            negative_spans: Spans<'a>,
            negative_buckets: Values<'a>,
            #[serde(skip_serializing_if = "Option::is_none")]
            custom_values: Option<Values<'a>>,
            counts: &'static str,
            reset_hint: &'static str,
            #[serde(skip_serializing_if = "is_zero")]
            start_timestamp_ms: i64,
        },
        Exemplar {
            labels: Labels<'a>,
            exemplar_labels: Labels<'a>,
            timestamp_ms: i64,
            value: Value,
        },
        Metadata {
            metric: &'a str,
            #[serde(rename = "type")]
            metric_type: &'static str,
            help: &'a str,
            unit: &'a str,
        },
    }

    /// The batch's data records (benchmarked batches are accepted and carry no
    /// warnings; the hand-written writer's rejected and warning lines are left out).
    pub fn write_batch(out: &mut Vec<u8>, batch: &Batch, dedup: &mut MetadataDedup) {
        let data = &batch.data;
        records_of(data, dedup, |record| {
            let labels = |range| Labels { data, range };
            let (positive, negative);
            let json = match record {
                Record::Sample { series, sample } => JsonRecord::Sample {
                    labels: labels(series.labels.clone()),
                    timestamp_ms: sample.timestamp_ms,
                    value: Value(sample.value),
                    start_timestamp_ms: sample.effective_start_ts(series),
                },
                Record::Histogram {
                    series,
                    histogram: h,
                } => {
                    positive = h.positive_buckets();
                    negative = h.negative_buckets();
                    JsonRecord::Histogram {
                        labels: labels(series.labels.clone()),
                        timestamp_ms: h.timestamp,
                        count: Value(h.total_count()),
                        sum: Value(h.sum),
                        schema: h.schema,
                        zero_threshold: Value(h.zero_threshold),
                        zero_count: Value(h.zero_count_value()),
                        positive_spans: Spans(&h.positive_spans),
                        positive_buckets: Values(&positive),
                        negative_spans: Spans(&h.negative_spans),
                        negative_buckets: Values(&negative),
                        custom_values: (!h.custom_values.is_empty())
                            .then_some(Values(&h.custom_values)),
                        counts: if h.is_float() { "float" } else { "integer" },
                        reset_hint: h.reset_hint_name(),
                        start_timestamp_ms: h.effective_start_ts(series),
                    }
                }
                Record::Exemplar { series, exemplar } => JsonRecord::Exemplar {
                    labels: labels(series.labels.clone()),
                    exemplar_labels: labels(exemplar.labels.clone()),
                    timestamp_ms: exemplar.timestamp_ms,
                    value: Value(exemplar.value),
                },
                Record::Metadata(m) => JsonRecord::Metadata {
                    metric: data.str(m.family),
                    metric_type: m.metric_type.name(),
                    help: data.str(m.help),
                    unit: data.str(m.unit),
                },
            };
            let mut serializer = serde_json::Serializer::with_formatter(&mut *out, TerminalSafe);
            // Writing to a Vec cannot fail, and every field serializes.
            let _ = json.serialize(&mut serializer);
            out.push(b'\n');
            std::ops::ControlFlow::Continue(())
        });
    }
}
