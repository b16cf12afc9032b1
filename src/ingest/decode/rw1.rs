//! Remote-write 1.0: `prometheus.WriteRequest`.

use super::raw::text;
use super::wire::{Reader, WireType, expect, key_byte};
use super::{
    DecodeError, LabelCheck, at, check_growth, exemplar_fields, hash_labels, is_ascii,
    read_histogram, read_sample, sample_fast,
};
use crate::ingest::model::{
    Exemplar, LabelRef, LabelSetHash, Metadata, MetricType, ReceivedSeries, StrId, WriteData,
};

const MSG: &str = "prometheus.WriteRequest";

// Field numbers (prompb/remote.proto, prompb/types.proto). Sample and Exemplar
// share theirs with RW2: see the parent module.
const WRITE_REQUEST_TIMESERIES: u32 = 1;
const WRITE_REQUEST_METADATA: u32 = 3;
const TIME_SERIES_LABELS: u32 = 1;
const TIME_SERIES_SAMPLES: u32 = 2;
const TIME_SERIES_EXEMPLARS: u32 = 3;
const TIME_SERIES_HISTOGRAMS: u32 = 4;
const LABEL_NAME: u32 = 1;
const LABEL_VALUE: u32 = 2;
const METADATA_TYPE: u32 = 1;
const METADATA_FAMILY_NAME: u32 = 2;
const METADATA_HELP: u32 = 4;
const METADATA_UNIT: u32 = 5;

// The keys the fast paths match: `0a` (a label), `0a` (its name), `12` (its
// value), `12` (a sample).
const LABELS_KEY: u8 = key_byte(TIME_SERIES_LABELS, WireType::Len);
const LABEL_NAME_KEY: u8 = key_byte(LABEL_NAME, WireType::Len);
const LABEL_VALUE_KEY: u8 = key_byte(LABEL_VALUE, WireType::Len);
const SAMPLES_KEY: u8 = key_byte(TIME_SERIES_SAMPLES, WireType::Len);
/// A label's first four bytes with its two one-byte lengths zeroed.
const LABEL_HEAD: u32 = u32::from_le_bytes([LABELS_KEY, 0, LABEL_NAME_KEY, 0]);

/// Decodes a decompressed RW1 body; strings are spans of `buf`.
pub fn decode(buf: &[u8]) -> Result<WriteData, DecodeError> {
    let mut data = WriteData::default();
    // Generous guesses (a label takes 10 bytes or more, a series with its sample
    // 30 or more), so the vectors rarely grow and copy; untouched capacity costs
    // address space, not memory.
    data.labels.reserve(buf.len() / 10);
    data.series.reserve(buf.len() / 30);
    data.samples.reserve(buf.len() / 30);
    let mut r = Reader::new(buf);
    let top = || String::from("WriteRequest");
    while !r.is_done() {
        let (field, wire) = r.key().map_err(at(MSG, top))?;
        match field {
            WRITE_REQUEST_TIMESERIES => {
                let index = data.series.len();
                let path = || format!("timeseries[{index}]");
                expect("timeseries", wire, WireType::Len).map_err(at(MSG, path))?;
                let bytes = r.bytes().map_err(at(MSG, path))?;
                series(buf, &mut data, bytes, index)?;
                check_growth(&data, buf.len())?;
            }
            WRITE_REQUEST_METADATA => {
                let index = data.metadata.len();
                let path = || format!("metadata[{index}]");
                expect("metadata", wire, WireType::Len).map_err(at(MSG, path))?;
                let bytes = r.bytes().map_err(at(MSG, path))?;
                metadata(buf, &mut data, bytes, index)?;
            }
            _ => r.skip(field, wire).map_err(at(MSG, top))?,
        }
    }
    Ok(data)
}

fn series(base: &[u8], data: &mut WriteData, buf: &[u8], index: usize) -> Result<(), DecodeError> {
    let label_start = data.labels.len() as u32;
    let sample_start = data.samples.len() as u32;
    let histogram_start = data.histograms.len() as u32;
    // Exemplar labels also live in `data.labels`; decode them after the series'
    // own labels so that those stay one contiguous range.
    let mut exemplars: Vec<&[u8]> = Vec::new();
    // Senders write the labels first, in the usual short ASCII encoding: take
    // that run in a tight loop, then read the rest (and anything unusual) field
    // by field.
    let mut check = LabelCheck::new();
    let mut run_hash = LabelSetHash::new();
    let mut run = label_run(base, buf, &mut data.labels, &mut check, &mut run_hash);
    if !is_ascii(&buf[..run]) {
        // Some name or value needs a real UTF-8 check: start over, field by field.
        data.labels.truncate(label_start as usize);
        check = LabelCheck::new();
        run = 0;
    }
    let (_, mut rest) = buf.split_at(run);
    // Then, as a rule, the samples, also in their usual encoding.
    while let [SAMPLES_KEY, len @ 0..0x80, tail @ ..] = rest
        && let Some((message, after)) = tail.split_at_checked(usize::from(*len))
        && let Some(sample) = sample_fast(message)
    {
        data.samples.push(sample);
        rest = after;
    }
    let mut all_labels_in_run = run > 0;
    let mut r = Reader::new(rest);
    let path = || format!("timeseries[{index}]");
    while !r.is_done() {
        let (field, wire) = r.key().map_err(at(MSG, path))?;
        match field {
            TIME_SERIES_LABELS => {
                expect("labels", wire, WireType::Len).map_err(at(MSG, path))?;
                let bytes = r.bytes().map_err(at(MSG, path))?;
                let n = data.labels.len() - label_start as usize;
                let path = || format!("timeseries[{index}].labels[{n}]");
                let label = label(base, bytes, &mut data.raw_strings, path)?;
                check.name(base.get(label.name.range()).unwrap_or(&[]));
                data.labels.push(label);
                all_labels_in_run = false;
            }
            TIME_SERIES_SAMPLES => {
                read_sample(&mut r, wire, data, (index, sample_start), false, MSG)?;
            }
            TIME_SERIES_EXEMPLARS => {
                expect("exemplars", wire, WireType::Len).map_err(at(MSG, path))?;
                exemplars.push(r.bytes().map_err(at(MSG, path))?);
            }
            TIME_SERIES_HISTOGRAMS => {
                let body = base.len();
                read_histogram(
                    &mut r,
                    wire,
                    data,
                    (index, histogram_start),
                    false,
                    MSG,
                    body,
                )?;
            }
            _ => r.skip(field, wire).map_err(at(MSG, path))?,
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
    // Sorted labels that all took the fast path were hashed on the way.
    let label_hash = if all_labels_in_run && check.sorted() {
        run_hash.finish()
    } else {
        hash_labels(base, data, labels.clone(), check.sorted())
    };
    data.series.push(ReceivedSeries {
        labels,
        samples: sample_start..data.samples.len() as u32,
        histograms: histogram_start..data.histograms.len() as u32,
        exemplars: exemplar_start..data.exemplars.len() as u32,
        metadata: None,
        created_timestamp_ms: 0,
        label_hash,
        labels_sorted: check.sorted(),
    });
    Ok(())
}

/// Reads the run of labels at the start of `buf` that use the usual encoding,
/// `0a <len> 0a <len> name 12 <len> value` with one-byte lengths, into `labels`;
/// returns its length in bytes, and folds the labels' string hashes into `hash`
/// (their identity hash, if they are all and in order). The hot path of RW1: one
/// four-byte compare per label for its header and one for the value's; the
/// caller checks the run is ASCII (so UTF-8) in one pass.
#[inline(always)]
fn label_run<'a>(
    base: &[u8],
    buf: &'a [u8],
    labels: &mut Vec<LabelRef>,
    check: &mut LabelCheck<'a>,
    hash: &mut LabelSetHash,
) -> usize {
    // `buf` is a subslice of `base`.
    let origin = buf.as_ptr() as usize - base.as_ptr() as usize;
    let keys = crate::hashing::keys();
    let mut pos = 0;
    while let Some(&head) = buf.get(pos..).and_then(|b| b.first_chunk::<4>()) {
        // `0a`, message length < 128, `0a`, name length < 128.
        let head = u32::from_le_bytes(head);
        if head & 0x80ff_80ff != LABEL_HEAD {
            break;
        }
        let name_len = (head >> 24) as usize;
        let name_at = pos + 4;
        let value_at = name_at + name_len + 2;
        let end = pos + 2 + ((head >> 8) & 0xff) as usize;
        if value_at > end || end > buf.len() {
            break;
        }
        let value_len = end - value_at;
        // `12 <value length>`: with the message under 128 bytes, so is the value.
        if buf[value_at - 2..value_at] != [LABEL_VALUE_KEY, value_len as u8] {
            break;
        }
        let name = &buf[name_at..name_at + name_len];
        check.name(name);
        hash.push(keys.string(name), keys.string(&buf[value_at..end]));
        labels.push(LabelRef {
            name: StrId::new(origin + name_at, name_len),
            value: StrId::new(origin + value_at, value_len),
        });
        pos = end;
    }
    pos
}

/// Reads a message of string fields 1 and 2 (a Label); other fields are skipped.
/// A repeated field wins with its last occurrence. A name or value that is not
/// UTF-8 is noted in `raw`: Prometheus decodes it (gogo's unmarshalling does
/// not check) and refuses the series later, so it is kept losslessly.
fn label(
    base: &[u8],
    buf: &[u8],
    raw: &mut Vec<StrId>,
    path: impl Fn() -> String,
) -> Result<LabelRef, DecodeError> {
    let mut label = LabelRef {
        name: WriteData::EMPTY,
        value: WriteData::EMPTY,
    };
    let mut r = Reader::new(buf);
    while !r.is_done() {
        let (field, wire) = r.key().map_err(at(MSG, &path))?;
        let (slot, name) = match field {
            LABEL_NAME => (&mut label.name, "name"),
            LABEL_VALUE => (&mut label.value, "value"),
            _ => {
                r.skip(field, wire).map_err(at(MSG, &path))?;
                continue;
            }
        };
        expect(name, wire, WireType::Len).map_err(at(MSG, &path))?;
        *slot = text(base, r.bytes().map_err(at(MSG, &path))?, raw);
    }
    Ok(label)
}

fn exemplar(
    base: &[u8],
    data: &mut WriteData,
    buf: &[u8],
    path: impl Fn() -> String,
) -> Result<Exemplar, DecodeError> {
    let label_start = data.labels.len() as u32;
    let (value, timestamp_ms) = exemplar_fields(buf, MSG, &path, |r, wire| {
        expect("labels", wire, WireType::Len).map_err(at(MSG, &path))?;
        let bytes = r.bytes().map_err(at(MSG, &path))?;
        let n = data.labels.len() - label_start as usize;
        let l = label(base, bytes, &mut data.raw_strings, || {
            format!("{}.labels[{n}]", path())
        })?;
        data.labels.push(l);
        Ok(())
    })?;
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
    let mut texts = [WriteData::EMPTY; 3]; // family, help, unit
    let mut r = Reader::new(buf);
    while !r.is_done() {
        let (field, wire) = r.key().map_err(at(MSG, path))?;
        let slot = match field {
            METADATA_TYPE => {
                expect("type", wire, WireType::Varint).map_err(at(MSG, path))?;
                metric_type = r.varint().map_err(at(MSG, path))? as i32;
                continue;
            }
            METADATA_FAMILY_NAME => 0,
            METADATA_HELP => 1,
            METADATA_UNIT => 2,
            _ => {
                r.skip(field, wire).map_err(at(MSG, path))?;
                continue;
            }
        };
        expect("metric_family_name/help/unit", wire, WireType::Len).map_err(at(MSG, path))?;
        let bytes = r.bytes().map_err(at(MSG, path))?;
        texts[slot] = text(base, bytes, &mut data.raw_strings);
    }
    let [family, help, unit] = texts;
    data.metadata.push(Metadata {
        family,
        metric_type: MetricType::from_proto(metric_type),
        help,
        unit,
    });
    Ok(())
}
