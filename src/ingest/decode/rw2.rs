//! Remote-write 2.0: `io.prometheus.write.v2.Request`, where every string is a
//! reference into the request's `symbols` table.

use super::wire::{Reader, WireError, WireType, expect, repeated_u32};
use super::{DecodeError, at, check_labels, hash_labels, read_histogram, read_sample, string};
use crate::ingest::model::{
    Exemplar, LabelRef, Metadata, MetricType, ReceivedSeries, StrId, WriteData,
};

const MSG: &str = "io.prometheus.write.v2.Request";

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
            4 => {
                let index = symbols.len();
                let path = || format!("symbols[{index}]");
                expect("symbols", wire, WireType::Len).map_err(at(MSG, path))?;
                let bytes = r.bytes().map_err(at(MSG, path))?;
                symbols.push(string(buf, bytes, MSG, path)?);
            }
            5 => {
                let path = || format!("timeseries[{}]", series_bytes.len());
                expect("timeseries", wire, WireType::Len).map_err(at(MSG, path))?;
                series_bytes.push(r.bytes().map_err(at(MSG, path))?);
            }
            _ => r.skip(wire).map_err(at(MSG, top))?,
        }
    }
    if !series_bytes.is_empty() && symbols.first().is_some_and(|s| !s.range().is_empty()) {
        data.warn(|| "symbols[0] is not the empty string, as the 2.0 spec requires".into());
    }
    // Room for one sample per series and, as a guess, a label per three bytes
    // of series (a pair of references takes two to six): fewer copies on growth.
    let series_len: usize = series_bytes.iter().map(|b| b.len()).sum();
    data.series.reserve(series_bytes.len());
    data.samples.reserve(series_bytes.len());
    data.labels.reserve(series_len / 3);
    let (mut refs, mut scratch) = (Vec::new(), Vec::new());
    for (index, bytes) in series_bytes.into_iter().enumerate() {
        series(
            buf,
            &mut data,
            &symbols,
            bytes,
            index,
            &mut refs,
            &mut scratch,
        )?;
    }
    Ok(data)
}

/// Resolves a symbol reference, or says which one is out of range.
fn symbol(symbols: &[StrId], r: u32, what: impl FnOnce() -> String) -> Result<StrId, DecodeError> {
    symbols.get(r as usize).copied().ok_or_else(|| {
        DecodeError::Invalid(format!(
            "{} refers to symbol {r}, but the request has only {} symbols",
            what(),
            symbols.len()
        ))
    })
}

/// Appends the label pairs in `refs` to `data.labels`, returning their range.
fn labels(
    data: &mut WriteData,
    symbols: &[StrId],
    refs: &[u32],
    what: impl Fn() -> String,
) -> Result<std::ops::Range<u32>, DecodeError> {
    if !refs.len().is_multiple_of(2) {
        return Err(DecodeError::Invalid(format!(
            "{}.labels_refs has {} entries; it must hold name/value pairs (an even number)",
            what(),
            refs.len()
        )));
    }
    let start = data.labels.len() as u32;
    for (i, pair) in refs.chunks_exact(2).enumerate() {
        let name = symbol(symbols, pair[0], || {
            format!("{}.labels_refs[{}]", what(), 2 * i)
        })?;
        let value = symbol(symbols, pair[1], || {
            format!("{}.labels_refs[{}]", what(), 2 * i + 1)
        })?;
        data.labels.push(LabelRef { name, value });
    }
    Ok(start..data.labels.len() as u32)
}

fn series(
    base: &[u8],
    data: &mut WriteData,
    symbols: &[StrId],
    buf: &[u8],
    index: usize,
    refs: &mut Vec<u32>,
    scratch: &mut Vec<u8>,
) -> Result<(), DecodeError> {
    let path = || format!("timeseries[{index}]");
    refs.clear();
    let sample_start = data.samples.len() as u32;
    let histogram_start = data.histograms.len() as u32;
    let mut exemplars: Vec<&[u8]> = Vec::new();
    // Type, help_ref and unit_ref, merged over the occurrences of field 5 as
    // protobuf merges a repeated singular message.
    let mut metadata_refs: Option<[u64; 3]> = None;
    let mut created_timestamp_ms = 0;
    let mut r = Reader::new(buf);
    while !r.is_done() {
        let (field, wire) = r.key().map_err(at(MSG, path))?;
        match field {
            1 => repeated_u32(&mut r, wire, "labels_refs", refs).map_err(at(MSG, path))?,
            2 => read_sample(&mut r, wire, data, (index, sample_start), true, MSG)?,
            3 => read_histogram(&mut r, wire, data, (index, histogram_start), true, MSG)?,
            4 => {
                expect("exemplars", wire, WireType::Len).map_err(at(MSG, path))?;
                exemplars.push(r.bytes().map_err(at(MSG, path))?);
            }
            5 => {
                expect("metadata", wire, WireType::Len).map_err(at(MSG, path))?;
                let bytes = r.bytes().map_err(at(MSG, path))?;
                let merged = metadata_refs.get_or_insert_default();
                read_metadata(bytes, merged)
                    .map_err(at(MSG, || format!("timeseries[{index}].metadata")))?;
            }
            6 => {
                expect("created_timestamp", wire, WireType::Varint).map_err(at(MSG, path))?;
                created_timestamp_ms = r.varint().map_err(at(MSG, path))? as i64;
            }
            _ => r.skip(wire).map_err(at(MSG, path))?,
        }
    }
    let label_range = labels(data, symbols, refs, path)?;
    let exemplar_start = data.exemplars.len() as u32;
    for (n, bytes) in exemplars.into_iter().enumerate() {
        let epath = || format!("timeseries[{index}].exemplars[{n}]");
        let exemplar = exemplar(data, symbols, bytes, epath, refs)?;
        data.exemplars.push(exemplar);
    }
    let metadata = match metadata_refs {
        Some(refs) => metadata(base, data, symbols, refs, label_range.clone(), index)?,
        None => None,
    };
    let sorted = check_labels(base, data, index, label_range.clone());
    let label_hash = hash_labels(base, data, label_range.clone(), sorted, scratch);
    let series = ReceivedSeries {
        labels: label_range,
        samples: sample_start..data.samples.len() as u32,
        histograms: histogram_start..data.histograms.len() as u32,
        exemplars: exemplar_start..data.exemplars.len() as u32,
        metadata,
        created_timestamp_ms,
        label_hash,
    };
    if !series.samples.is_empty() && !series.histograms.is_empty() {
        data.warn(|| format!("timeseries[{index}] has both samples and histograms; the 2.0 spec allows one kind per series"));
    }
    data.series.push(series);
    Ok(())
}

fn exemplar(
    data: &mut WriteData,
    symbols: &[StrId],
    buf: &[u8],
    path: impl Fn() -> String,
    refs: &mut Vec<u32>,
) -> Result<Exemplar, DecodeError> {
    refs.clear();
    let mut value = 0.0;
    let mut timestamp_ms = 0;
    let mut r = Reader::new(buf);
    while !r.is_done() {
        let (field, wire) = r.key().map_err(at(MSG, &path))?;
        match field {
            1 => repeated_u32(&mut r, wire, "labels_refs", refs).map_err(at(MSG, &path))?,
            2 => {
                expect("value", wire, WireType::Fixed64).map_err(at(MSG, &path))?;
                value = r.double().map_err(at(MSG, &path))?;
            }
            3 => {
                expect("timestamp", wire, WireType::Varint).map_err(at(MSG, &path))?;
                timestamp_ms = r.varint().map_err(at(MSG, &path))? as i64;
            }
            _ => r.skip(wire).map_err(at(MSG, &path))?,
        }
    }
    let labels = labels(data, symbols, refs, &path)?;
    if timestamp_ms == 0 {
        data.warn(|| format!("{} has no timestamp, which the 2.0 spec requires", path()));
    }
    Ok(Exemplar {
        labels,
        value,
        timestamp_ms,
    })
}

/// Merges the fields of a Metadata message into `[type, help_ref, unit_ref]`.
fn read_metadata(buf: &[u8], fields: &mut [u64; 3]) -> Result<(), WireError> {
    let mut r = Reader::new(buf);
    while !r.is_done() {
        let (field, wire) = r.key()?;
        let slot = match field {
            1 => 0,
            3 => 1,
            4 => 2,
            _ => {
                r.skip(wire)?;
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
    base: &[u8],
    data: &WriteData,
    symbols: &[StrId],
    [metric_type, help_ref, unit_ref]: [u64; 3],
    series_labels: std::ops::Range<u32>,
    index: usize,
) -> Result<Option<Metadata>, DecodeError> {
    let path = || format!("timeseries[{index}].metadata");
    if metric_type == 0 && help_ref == 0 && unit_ref == 0 {
        return Ok(None);
    }
    let resolve = |r: u64, what: &str| {
        u32::try_from(r)
            .map_err(|_| DecodeError::Invalid(format!("{}.{what} = {r} is out of range", path())))
            .and_then(|r| symbol(symbols, r, || format!("{}.{what}", path())))
    };
    let help = resolve(help_ref, "help_ref")?;
    let unit = resolve(unit_ref, "unit_ref")?;
    let family = series_labels
        .clone()
        .filter_map(|i| data.labels.get(i as usize))
        .find(|l| base.get(l.name.range()) == Some(b"__name__".as_slice()))
        .map_or(WriteData::EMPTY, |l| l.value);
    Ok(Some(Metadata {
        family,
        metric_type: MetricType::from_proto(metric_type as i32),
        help,
        unit,
    }))
}
