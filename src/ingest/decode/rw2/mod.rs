//! Remote-write 2.0: `io.prometheus.write.v2.Request`, where every string is a
//! reference into the request's `symbols` table.
//!
//! As Prometheus's receiver does, a series that breaks a rule of its own (a
//! symbol reference out of range, no `__name__`, a repeated label name, ...) is
//! refused alone and the rest of the request is kept: the receiver then answers
//! 400 with Written counts of what was kept.

mod labels;

use std::ops::Range;

use super::raw::text;
use super::wire::{Reader, WireError, WireType, expect, packed_u32, repeated_u32};
use super::{DecodeError, at, check_growth, exemplar_fields, read_histogram, read_sample};
use crate::ingest::model::{Exemplar, Metadata, MetricType, ReceivedSeries, StrId, WriteData};
use crate::problems::{Problem, Rule, Subject};
pub(super) use labels::EXPANSION;
use labels::{Expansion, NameOrder, Symbol, Symbols, label_strings};

const MSG: &str = "io.prometheus.write.v2.Request";

// Field numbers (io/prometheus/write/v2/types.proto). Sample and Exemplar share
// theirs with RW1: see the parent module.
const REQUEST_SYMBOLS: u32 = 4;
const REQUEST_TIMESERIES: u32 = 5;
const TIME_SERIES_LABELS_REFS: u32 = 1;
const TIME_SERIES_SAMPLES: u32 = 2;
const TIME_SERIES_HISTOGRAMS: u32 = 3;
const TIME_SERIES_EXEMPLARS: u32 = 4;
const TIME_SERIES_METADATA: u32 = 5;
/// Removed from the spec in rc.4 (Prometheus 3.8+), still sent by older senders.
const TIME_SERIES_CREATED_TIMESTAMP: u32 = 6;
const METADATA_TYPE: u32 = 1;
const METADATA_HELP_REF: u32 = 3;
const METADATA_UNIT_REF: u32 = 4;

/// Decodes a decompressed RW2 body.
pub fn decode(buf: &[u8]) -> Result<WriteData, DecodeError> {
    let mut data = WriteData::default();
    // Symbols may in principle follow the series on the wire: collect first.
    let mut symbols: Vec<StrId> = Vec::new();
    let mut series_bytes: Vec<&[u8]> = Vec::new();
    let mut r = Reader::new(buf);
    let top = || String::from("Request");
    while !r.is_done() {
        let (field, wire) = r.key().map_err(at(MSG, top))?;
        match field {
            REQUEST_SYMBOLS => {
                let index = symbols.len();
                let path = || format!("symbols[{index}]");
                expect("symbols", wire, WireType::Len).map_err(at(MSG, path))?;
                let bytes = r.bytes().map_err(at(MSG, path))?;
                symbols.push(text(buf, bytes, &mut data.raw_strings));
            }
            REQUEST_TIMESERIES => {
                let path = || format!("timeseries[{}]", series_bytes.len());
                expect("timeseries", wire, WireType::Len).map_err(at(MSG, path))?;
                series_bytes.push(r.bytes().map_err(at(MSG, path))?);
            }
            _ => r.skip(field, wire).map_err(at(MSG, top))?,
        }
    }
    if !series_bytes.is_empty() && symbols.first().is_some_and(|s| !s.range().is_empty()) {
        let first = symbols.first().map_or(&[][..], |s| &buf[s.range()]);
        data.problems.push(Problem::of_request(
            Rule::Rw2FirstSymbolNotEmpty,
            format!(
                "symbols[0] is {}, not the empty string",
                crate::problems::labels::shown(first)
            ),
        ));
    }
    // Room for one sample per series and, as a guess, a label per three bytes
    // of series (a pair of references takes two to six): fewer copies on growth.
    let series_len: usize = series_bytes.iter().map(|b| b.len()).sum();
    data.series.reserve(series_bytes.len());
    data.samples.reserve(series_bytes.len());
    data.labels.reserve(series_len / 3);
    let mut scratch = Scratch {
        refs: Vec::new(),
        exemplar_refs: Vec::new(),
        name_order: NameOrder::new(),
    };
    let keys = crate::hashing::keys();
    let table: Vec<Symbol> = symbols
        .iter()
        .map(|&id| Symbol::new(keys, buf, id))
        .collect();
    let symbols = Symbols {
        base: buf,
        table: &table,
    };
    let mut expansion = Expansion::of(buf.len());
    for (index, bytes) in series_bytes.into_iter().enumerate() {
        series(
            &symbols,
            &mut data,
            bytes,
            index,
            &mut scratch,
            &mut expansion,
        )?;
        check_growth(&data, buf.len())?;
    }
    Ok(data)
}

/// Buffers reused from series to series.
struct Scratch {
    refs: Vec<u32>,
    /// The label references of a series' exemplars, one after the other.
    exemplar_refs: Vec<u32>,
    name_order: NameOrder,
}

/// An exemplar read but not yet resolved: its references are a range of
/// [`Scratch::exemplar_refs`].
struct ReadExemplar {
    value: f64,
    timestamp_ms: i64,
    refs: Range<usize>,
}

/// Where a series' data starts in the flat vectors, to drop it if it is refused.
struct Marks {
    labels: usize,
    samples: usize,
    histograms: usize,
    exemplars: usize,
}

impl Marks {
    fn of(data: &WriteData) -> Self {
        Marks {
            labels: data.labels.len(),
            samples: data.samples.len(),
            histograms: data.histograms.len(),
            exemplars: data.exemplars.len(),
        }
    }

    fn truncate(&self, data: &mut WriteData) {
        data.labels.truncate(self.labels);
        data.samples.truncate(self.samples);
        data.histograms.truncate(self.histograms);
        data.exemplars.truncate(self.exemplars);
    }
}

fn series(
    symbols: &Symbols<'_>,
    data: &mut WriteData,
    buf: &[u8],
    index: usize,
    scratch: &mut Scratch,
    expansion: &mut Expansion,
) -> Result<(), DecodeError> {
    let path = || format!("timeseries[{index}]");
    let marks = Marks::of(data);
    let Scratch {
        refs,
        exemplar_refs,
        name_order,
    } = scratch;
    refs.clear();
    exemplar_refs.clear();
    let (sample_start, histogram_start) = (marks.samples as u32, marks.histograms as u32);
    let mut exemplars: Vec<ReadExemplar> = Vec::new();
    // Type, help_ref and unit_ref, merged over the occurrences of field 5 as
    // protobuf merges a repeated singular message.
    let mut metadata_refs: Option<[u64; 3]> = None;
    let mut created_timestamp_ms = 0;
    // The usual packed `labels_refs`, read where they are resolved (see
    // `Symbols::packed_series_labels`); others are read into `refs` here.
    let mut packed: Option<&[u8]> = None;
    let mut r = Reader::new(buf);
    let mut read_fields = || -> Result<(), DecodeError> {
        while !r.is_done() {
            let (field, wire) = r.key().map_err(at(MSG, path))?;
            match field {
                TIME_SERIES_LABELS_REFS
                    if wire == WireType::Len && refs.is_empty() && packed.is_none() =>
                {
                    packed = Some(r.bytes().map_err(at(MSG, path))?);
                }
                TIME_SERIES_LABELS_REFS => {
                    if let Some(first) = packed.take() {
                        packed_u32(first, refs).map_err(at(MSG, path))?;
                    }
                    repeated_u32(&mut r, wire, "labels_refs", refs).map_err(at(MSG, path))?;
                }
                TIME_SERIES_SAMPLES => {
                    read_sample(&mut r, wire, data, (index, sample_start), true, MSG)?;
                }
                TIME_SERIES_HISTOGRAMS => {
                    let body = symbols.base.len();
                    read_histogram(
                        &mut r,
                        wire,
                        data,
                        (index, histogram_start),
                        true,
                        MSG,
                        body,
                    )?;
                }
                TIME_SERIES_EXEMPLARS => {
                    expect("exemplars", wire, WireType::Len).map_err(at(MSG, path))?;
                    let bytes = r.bytes().map_err(at(MSG, path))?;
                    let n = exemplars.len();
                    let epath = || format!("timeseries[{index}].exemplars[{n}]");
                    let start = exemplar_refs.len();
                    let (value, timestamp_ms) = exemplar_fields(bytes, MSG, &epath, |r, wire| {
                        repeated_u32(r, wire, "labels_refs", exemplar_refs).map_err(at(MSG, &epath))
                    })?;
                    exemplars.push(ReadExemplar {
                        value,
                        timestamp_ms,
                        refs: start..exemplar_refs.len(),
                    });
                }
                TIME_SERIES_METADATA => {
                    expect("metadata", wire, WireType::Len).map_err(at(MSG, path))?;
                    let bytes = r.bytes().map_err(at(MSG, path))?;
                    let merged = metadata_refs.get_or_insert_default();
                    read_metadata(bytes, merged)
                        .map_err(at(MSG, || format!("timeseries[{index}].metadata")))?;
                }
                TIME_SERIES_CREATED_TIMESTAMP => {
                    expect("created_timestamp", wire, WireType::Varint).map_err(at(MSG, path))?;
                    created_timestamp_ms = r.varint().map_err(at(MSG, path))? as i64;
                }
                _ => r.skip(field, wire).map_err(at(MSG, path))?,
            }
        }
        Ok(())
    };
    if let Err(e) = read_fields() {
        // Malformed references read before the error fail the request
        // first, as they did when they were read on the spot.
        if let Some(first) = packed {
            packed_u32(first, refs).map_err(at(MSG, path))?;
        }
        return Err(e);
    }
    // The whole series has been read (so a malformed one still fails the
    // request as protobuf); now the rules that refuse it alone.
    let labels = match packed {
        Some(packed) => {
            symbols.packed_series_labels(data, packed, refs, index, name_order, expansion)
        }
        None => symbols.series_labels(data, refs, index, name_order, expansion),
    };
    let accepted = labels?.and_then(|(labels, label_hash, labels_sorted)| {
        let metadata = match metadata_refs {
            Some(refs) => {
                metadata(symbols, data, refs, labels.clone(), index).map_err(|r| (None, r))?
            }
            None => None,
        };
        Ok((labels, label_hash, labels_sorted, metadata))
    });
    let (label_range, label_hash, labels_sorted, metadata) = match accepted {
        Ok(parts) => parts,
        Err((rule, reason)) => {
            marks.truncate(data);
            if let Some(rule) = rule {
                // Prometheus refuses it: a problem of a series that was not written.
                let mut problem = Problem::of_request(rule, reason.clone());
                problem.subject = Subject::Refused {
                    labels: 0..0,
                    label_hash: 0,
                };
                data.problems.push(problem);
            }
            data.refuse(|| format!("{reason}: series not written"));
            return Ok(());
        }
    };
    for (n, e) in exemplars.into_iter().enumerate() {
        let epath = || format!("timeseries[{index}].exemplars[{n}]");
        let refs = &exemplar_refs[e.refs.clone()];
        exemplar(symbols, data, e, refs, epath);
    }
    let exemplar_labels = label_range.end as usize..data.labels.len();
    let texts = metadata.iter().flat_map(|m| [m.help, m.unit]);
    expansion.take(label_strings(data, exemplar_labels).chain(texts))?;
    let series = ReceivedSeries {
        labels: label_range,
        samples: sample_start..data.samples.len() as u32,
        histograms: histogram_start..data.histograms.len() as u32,
        exemplars: marks.exemplars as u32..data.exemplars.len() as u32,
        metadata,
        created_timestamp_ms,
        label_hash,
        labels_sorted,
    };
    data.series.push(series);
    Ok(())
}

/// Adds exemplar `path`, read as `e` with label references `refs`, to
/// `data.exemplars`; one whose references are out of range is refused alone,
/// as Prometheus does.
fn exemplar(
    symbols: &Symbols<'_>,
    data: &mut WriteData,
    e: ReadExemplar,
    refs: &[u32],
    path: impl Fn() -> String,
) {
    let labels = match symbols.labels(data, refs, &path) {
        Ok(labels) => labels,
        Err(reason) => {
            data.refuse(|| format!("{reason}: exemplar not written"));
            return;
        }
    };
    data.exemplars.push(Exemplar {
        labels,
        value: e.value,
        timestamp_ms: e.timestamp_ms,
    });
}

/// Merges the fields of a Metadata message into `[type, help_ref, unit_ref]`.
fn read_metadata(buf: &[u8], fields: &mut [u64; 3]) -> Result<(), WireError> {
    let mut r = Reader::new(buf);
    while !r.is_done() {
        let (field, wire) = r.key()?;
        let slot = match field {
            METADATA_TYPE => 0,
            METADATA_HELP_REF => 1,
            METADATA_UNIT_REF => 2,
            _ => {
                r.skip(field, wire)?;
                continue;
            }
        };
        expect("metadata field", wire, WireType::Varint)?;
        fields[slot] = r.varint()?;
    }
    Ok(())
}

/// Resolves a series' metadata fields; `None` when all are unset.
fn metadata(
    symbols: &Symbols<'_>,
    data: &WriteData,
    [metric_type, help_ref, unit_ref]: [u64; 3],
    series_labels: Range<u32>,
    index: usize,
) -> Result<Option<Metadata>, String> {
    let path = || format!("timeseries[{index}].metadata");
    if metric_type == 0 && help_ref == 0 && unit_ref == 0 {
        return Ok(None);
    }
    let help = symbols.get(help_ref, || format!("{}.help_ref", path()))?.id;
    let unit = symbols.get(unit_ref, || format!("{}.unit_ref", path()))?.id;
    let family = series_labels
        .filter_map(|i| data.labels.get(i as usize))
        .find(|l| symbols.bytes(l.name) == b"__name__")
        .map_or(WriteData::EMPTY, |l| l.value);
    Ok(Some(Metadata {
        family,
        metric_type: MetricType::from_proto(metric_type as i32),
        help,
        unit,
    }))
}
