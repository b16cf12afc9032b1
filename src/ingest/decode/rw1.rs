//! Remote-write 1.0: `prometheus.WriteRequest`.

use super::wire::{Reader, WireType, expect};
use super::{DecodeError, LabelCheck, at, hash_labels, read_histogram, read_sample, string};
use crate::ingest::model::{
    Exemplar, LabelRef, Metadata, MetricType, Series, StrId, WriteData, canonical_bytes_hash,
};

const MSG: &str = "prometheus.WriteRequest";

/// Decodes a decompressed RW1 body; strings are spans of `buf`.
pub fn decode(buf: &[u8]) -> Result<WriteData, DecodeError> {
    let mut data = WriteData::default();
    // Generous guesses (a label takes 10 bytes or more, a series with its sample
    // 30 or more), so the vectors rarely grow and copy; untouched capacity costs
    // address space, not memory.
    data.labels.reserve(buf.len() / 10);
    data.series.reserve(buf.len() / 30);
    data.samples.reserve(buf.len() / 30);
    let mut scratch = Vec::new();
    let mut r = Reader::new(buf);
    let top = || String::from("WriteRequest");
    while !r.is_done() {
        let (field, wire) = r.key().map_err(at(MSG, top))?;
        match field {
            1 => {
                let index = data.series.len();
                let path = || format!("timeseries[{index}]");
                expect("timeseries", wire, WireType::Len).map_err(at(MSG, path))?;
                let bytes = r.bytes().map_err(at(MSG, path))?;
                series(buf, &mut data, bytes, index, &mut scratch)?;
            }
            3 => {
                let index = data.metadata.len();
                let path = || format!("metadata[{index}]");
                expect("metadata", wire, WireType::Len).map_err(at(MSG, path))?;
                let bytes = r.bytes().map_err(at(MSG, path))?;
                metadata(buf, &mut data, bytes, index)?;
            }
            _ => r.skip(wire).map_err(at(MSG, top))?,
        }
    }
    Ok(data)
}

fn series(
    base: &[u8],
    data: &mut WriteData,
    buf: &[u8],
    index: usize,
    scratch: &mut Vec<u8>,
) -> Result<(), DecodeError> {
    let label_start = data.labels.len() as u32;
    let sample_start = data.samples.len() as u32;
    let histogram_start = data.histograms.len() as u32;
    // Exemplar labels also live in `data.labels`; decode them after the series'
    // own labels so that those stay one contiguous range.
    let mut exemplars: Vec<&[u8]> = Vec::new();
    // Senders write the labels first, each as `0a <len> <Label>`: take that run
    // in a tight loop, then read the rest (and anything unusual) field by field.
    let mut rest = buf;
    let mut check = LabelCheck::new();
    let mut all_labels_canonical = true;
    while let [0x0a, len @ 0..0x80, tail @ ..] = rest
        && let Some((message, after)) = tail.split_at_checked(usize::from(*len))
        && let Some((label, name)) = label_fast(base, message)
    {
        check.name(name);
        data.labels.push(label);
        rest = after;
    }
    let label_bytes = &buf[..buf.len() - rest.len()];
    let mut r = Reader::new(rest);
    let path = || format!("timeseries[{index}]");
    while !r.is_done() {
        let (field, wire) = r.key().map_err(at(MSG, path))?;
        match field {
            1 => {
                expect("labels", wire, WireType::Len).map_err(at(MSG, path))?;
                let bytes = r.bytes().map_err(at(MSG, path))?;
                let n = data.labels.len() - label_start as usize;
                let label = label(base, bytes, || format!("timeseries[{index}].labels[{n}]"))?;
                check.name(base.get(label.name.range()).unwrap_or(&[]));
                data.labels.push(label);
                all_labels_canonical = false;
            }
            2 => read_sample(&mut r, wire, data, (index, sample_start), false, MSG)?,
            3 => {
                expect("exemplars", wire, WireType::Len).map_err(at(MSG, path))?;
                exemplars.push(r.bytes().map_err(at(MSG, path))?);
            }
            4 => read_histogram(&mut r, wire, data, (index, histogram_start), MSG)?,
            _ => r.skip(wire).map_err(at(MSG, path))?,
        }
    }
    let labels = label_start..data.labels.len() as u32;
    let exemplar_start = data.exemplars.len() as u32;
    for (n, bytes) in exemplars.into_iter().enumerate() {
        let exemplar = exemplar(base, data, bytes, || {
            format!("timeseries[{index}].exemplars[{n}]")
        })?;
        data.exemplars.push(exemplar);
    }
    // Sorted labels that all took the fast path are already in canonical form.
    let label_hash = if all_labels_canonical && check.sorted() {
        canonical_bytes_hash(label_bytes)
    } else {
        hash_labels(base, data, labels.clone(), scratch)
    };
    check.finish(data, index);
    data.series.push(Series {
        labels,
        samples: sample_start..data.samples.len() as u32,
        histograms: histogram_start..data.histograms.len() as u32,
        exemplars: exemplar_start..data.exemplars.len() as u32,
        metadata: None,
        created_timestamp_ms: 0,
        label_hash,
    });
    Ok(())
}

/// The usual encoding of a Label, `0a <len> name 12 <len> value` with ASCII
/// strings under 128 bytes, read without the general field loop: the hot path of
/// RW1. Tags and one-byte lengths are ASCII too, so one check covers the message.
#[inline(always)]
fn label_fast<'a>(base: &[u8], buf: &'a [u8]) -> Option<(LabelRef, &'a [u8])> {
    if !buf.is_ascii() {
        return None;
    }
    let [0x0a, name_len, rest @ ..] = buf else {
        return None;
    };
    let (name, rest) = rest.split_at_checked(usize::from(*name_len))?;
    let [0x12, value_len, value @ ..] = rest else {
        return None;
    };
    if value.len() != usize::from(*value_len) {
        return None;
    }
    // Both are subslices of `base`, even when empty.
    let span = |s: &[u8]| StrId::new(s.as_ptr() as usize - base.as_ptr() as usize, s.len());
    let label = LabelRef {
        name: span(name),
        value: span(value),
    };
    Some((label, name))
}

/// Reads a message of string fields 1 and 2 (a Label); other fields are skipped.
fn label(base: &[u8], buf: &[u8], path: impl Fn() -> String) -> Result<LabelRef, DecodeError> {
    if let Some((label, _)) = label_fast(base, buf) {
        return Ok(label);
    }
    let (mut name, mut value): (&[u8], &[u8]) = (&[], &[]);
    let mut r = Reader::new(buf);
    while !r.is_done() {
        let (field, wire) = r.key().map_err(at(MSG, &path))?;
        match field {
            1 | 2 => {
                expect(
                    if field == 1 { "name" } else { "value" },
                    wire,
                    WireType::Len,
                )
                .map_err(at(MSG, &path))?;
                let bytes = r.bytes().map_err(at(MSG, &path))?;
                if field == 1 {
                    name = bytes;
                } else {
                    value = bytes;
                }
            }
            _ => r.skip(wire).map_err(at(MSG, &path))?,
        }
    }
    Ok(LabelRef {
        name: string(base, name, MSG, || format!("{}.name", path()))?,
        value: string(base, value, MSG, || format!("{}.value", path()))?,
    })
}

fn exemplar(
    base: &[u8],
    data: &mut WriteData,
    buf: &[u8],
    path: impl Fn() -> String,
) -> Result<Exemplar, DecodeError> {
    let label_start = data.labels.len() as u32;
    let mut value = 0.0;
    let mut timestamp_ms = 0;
    let mut r = Reader::new(buf);
    while !r.is_done() {
        let (field, wire) = r.key().map_err(at(MSG, &path))?;
        match field {
            1 => {
                expect("labels", wire, WireType::Len).map_err(at(MSG, &path))?;
                let bytes = r.bytes().map_err(at(MSG, &path))?;
                let n = data.labels.len() - label_start as usize;
                let l = label(base, bytes, || format!("{}.labels[{n}]", path()))?;
                data.labels.push(l);
            }
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
    Ok(Exemplar {
        labels: label_start..data.labels.len() as u32,
        value,
        timestamp_ms,
    })
}

fn metadata(
    base: &[u8],
    data: &mut WriteData,
    buf: &[u8],
    index: usize,
) -> Result<(), DecodeError> {
    let path = || format!("metadata[{index}]");
    let mut metric_type = 0;
    let mut texts: [&[u8]; 3] = [&[], &[], &[]]; // family, help, unit
    let mut r = Reader::new(buf);
    while !r.is_done() {
        let (field, wire) = r.key().map_err(at(MSG, path))?;
        let slot = match field {
            1 => {
                expect("type", wire, WireType::Varint).map_err(at(MSG, path))?;
                metric_type = r.varint().map_err(at(MSG, path))? as i32;
                continue;
            }
            2 => 0,
            4 => 1,
            5 => 2,
            _ => {
                r.skip(wire).map_err(at(MSG, path))?;
                continue;
            }
        };
        expect("metric_family_name/help/unit", wire, WireType::Len).map_err(at(MSG, path))?;
        texts[slot] = r.bytes().map_err(at(MSG, path))?;
    }
    let [family, help, unit] = texts.map(|t| string(base, t, MSG, path));
    data.metadata.push(Metadata {
        family: family?,
        metric_type: MetricType::from_proto(metric_type),
        help: help?,
        unit: unit?,
    });
    Ok(())
}
