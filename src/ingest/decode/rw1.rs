//! Remote-write 1.0: `prometheus.WriteRequest`.

use super::wire::{Reader, WireType, expect};
use super::{DecodeError, at, histogram, sample, utf8};
use crate::ingest::model::{Exemplar, LabelRef, Metadata, MetricType, Series, WriteData};

const MSG: &str = "prometheus.WriteRequest";

/// Decodes a decompressed RW1 body.
pub fn decode(buf: &[u8]) -> Result<WriteData, DecodeError> {
    // Rough sizes so the vectors rarely grow: ~40 bytes of protobuf per string.
    let mut data = WriteData::with_capacity(buf.len() / 40, buf.len() / 2);
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
                series(&mut data, bytes, index)?;
            }
            3 => {
                let index = data.metadata.len();
                let path = || format!("metadata[{index}]");
                expect("metadata", wire, WireType::Len).map_err(at(MSG, path))?;
                let bytes = r.bytes().map_err(at(MSG, path))?;
                metadata(&mut data, bytes, index)?;
            }
            _ => r.skip(wire).map_err(at(MSG, top))?,
        }
    }
    Ok(data)
}

fn series(data: &mut WriteData, buf: &[u8], index: usize) -> Result<(), DecodeError> {
    let label_start = data.labels.len() as u32;
    let sample_start = data.samples.len() as u32;
    let histogram_start = data.histograms.len() as u32;
    // Exemplar labels also live in `data.labels`; decode them after the series'
    // own labels so that those stay one contiguous range.
    let mut exemplars: Vec<&[u8]> = Vec::new();
    let mut r = Reader::new(buf);
    let path = || format!("timeseries[{index}]");
    while !r.is_done() {
        let (field, wire) = r.key().map_err(at(MSG, path))?;
        match field {
            1 => {
                expect("labels", wire, WireType::Len).map_err(at(MSG, path))?;
                let bytes = r.bytes().map_err(at(MSG, path))?;
                let n = data.labels.len() - label_start as usize;
                let label = label(data, bytes, || format!("timeseries[{index}].labels[{n}]"))?;
                data.labels.push(label);
            }
            2 => {
                let n = data.samples.len() as u32 - sample_start;
                let spath = || format!("timeseries[{index}].samples[{n}]");
                expect("samples", wire, WireType::Len).map_err(at(MSG, spath))?;
                let bytes = r.bytes().map_err(at(MSG, spath))?;
                data.samples
                    .push(sample(bytes, false).map_err(at(MSG, spath))?);
            }
            3 => {
                expect("exemplars", wire, WireType::Len).map_err(at(MSG, path))?;
                exemplars.push(r.bytes().map_err(at(MSG, path))?);
            }
            4 => {
                let n = data.histograms.len() as u32 - histogram_start;
                let hpath = || format!("timeseries[{index}].histograms[{n}]");
                expect("histograms", wire, WireType::Len).map_err(at(MSG, hpath))?;
                let bytes = r.bytes().map_err(at(MSG, hpath))?;
                data.histograms.push(histogram(bytes, MSG, hpath)?);
            }
            _ => r.skip(wire).map_err(at(MSG, path))?,
        }
    }
    let labels = label_start..data.labels.len() as u32;
    let exemplar_start = data.exemplars.len() as u32;
    for (n, bytes) in exemplars.into_iter().enumerate() {
        let exemplar = exemplar(data, bytes, || {
            format!("timeseries[{index}].exemplars[{n}]")
        })?;
        data.exemplars.push(exemplar);
    }
    data.check_series_labels(index, labels.clone());
    data.series.push(Series {
        labels,
        samples: sample_start..data.samples.len() as u32,
        histograms: histogram_start..data.histograms.len() as u32,
        exemplars: exemplar_start..data.exemplars.len() as u32,
        metadata: None,
        created_timestamp_ms: 0,
    });
    Ok(())
}

fn label(
    data: &mut WriteData,
    buf: &[u8],
    path: impl Fn() -> String,
) -> Result<LabelRef, DecodeError> {
    let mut name: &[u8] = &[];
    let mut value: &[u8] = &[];
    let mut r = Reader::new(buf);
    while !r.is_done() {
        let (field, wire) = r.key().map_err(at(MSG, &path))?;
        match field {
            1 => {
                expect("name", wire, WireType::Len).map_err(at(MSG, &path))?;
                name = r.bytes().map_err(at(MSG, &path))?;
            }
            2 => {
                expect("value", wire, WireType::Len).map_err(at(MSG, &path))?;
                value = r.bytes().map_err(at(MSG, &path))?;
            }
            _ => r.skip(wire).map_err(at(MSG, &path))?,
        }
    }
    let name = data.intern(utf8(name, MSG, || format!("{}.name", path()))?);
    let value = data.intern(utf8(value, MSG, || format!("{}.value", path()))?);
    Ok(LabelRef { name, value })
}

fn exemplar(
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
                let l = label(data, bytes, || format!("{}.labels[{n}]", path()))?;
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

fn metadata(data: &mut WriteData, buf: &[u8], index: usize) -> Result<(), DecodeError> {
    let path = || format!("metadata[{index}]");
    let mut metric_type = 0;
    let (mut family, mut help, mut unit): (&[u8], &[u8], &[u8]) = (&[], &[], &[]);
    let mut r = Reader::new(buf);
    while !r.is_done() {
        let (field, wire) = r.key().map_err(at(MSG, path))?;
        match field {
            1 => {
                expect("type", wire, WireType::Varint).map_err(at(MSG, path))?;
                metric_type = r.varint().map_err(at(MSG, path))? as i32;
            }
            2 | 4 | 5 => {
                expect("metric_family_name/help/unit", wire, WireType::Len)
                    .map_err(at(MSG, path))?;
                let bytes = r.bytes().map_err(at(MSG, path))?;
                match field {
                    2 => family = bytes,
                    4 => help = bytes,
                    _ => unit = bytes,
                }
            }
            _ => r.skip(wire).map_err(at(MSG, path))?,
        }
    }
    let family = data.intern(utf8(family, MSG, path)?);
    let help = data.intern(utf8(help, MSG, path)?);
    let unit = data.intern(utf8(unit, MSG, path)?);
    data.metadata.push(Metadata {
        family,
        metric_type: MetricType::from_proto(metric_type),
        help,
        unit,
    });
    Ok(())
}
