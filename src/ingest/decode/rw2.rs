//! Remote-write 2.0: `io.prometheus.write.v2.Request`, where every string is a
//! reference into the request's `symbols` table.
//!
//! As Prometheus's receiver does, a series that breaks a rule of its own (a
//! symbol reference out of range, no `__name__`, a repeated label name, ...) is
//! refused alone and the rest of the request is kept: the receiver then answers
//! 400 with Written counts of what was kept.

use std::ops::Range;

use super::wire::{Reader, WireError, WireType, expect, repeated_u32};
use super::{
    DecodeError, at, check_growth, exemplar_fields, hash_labels, less, read_histogram, read_sample,
    string,
};
use crate::ingest::model::{
    Exemplar, LabelRef, Metadata, MetricType, ReceivedSeries, StrAt, StrId, WriteData,
    canonical_bytes_hash, label_room, put_label,
};

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
                symbols.push(string(buf, bytes, MSG, path)?);
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
        data.warn(|| "symbols[0] is not the empty string, as the 2.0 spec requires".into());
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
        canonical: Vec::new(),
        name_order: NameOrder::new(),
    };
    let table: Vec<Symbol<'_>> = symbols.iter().map(|&id| Symbol::new(buf, id)).collect();
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

/// Bytes of labels (series' and exemplars'), help and units a request may refer
/// to per byte of its body. Strings are sent once and referred to by number:
/// Prometheus 2.42's captured traffic as Prometheus 3 would send it refers to
/// 1.9 bytes per body byte (3.5 from 100 instances in one request), 2,000
/// kube_pod_labels-like series of 40 shared 40-byte values to 23.5 (see
/// `real_traffic_refers_to_labels_far_below_the_rw2_expansion_bound`). A long
/// symbol referred to by every series multiplies without bound (a 600 KB body
/// referring 20,000 times to a 256 KiB value is 5 GiB of labels to hash, check,
/// store and print).
pub(super) const EXPANSION: usize = 128;

/// What a request may still refer to of [`EXPANSION`].
struct Expansion {
    left: usize,
    body: usize,
}

impl Expansion {
    /// The allowance of a `body`-byte body.
    fn of(body: usize) -> Self {
        Expansion {
            left: body.saturating_mul(EXPANSION),
            body,
        }
    }

    /// Takes the bytes of `strings` from what is left, before anything reads
    /// them; fails the request once there is not enough.
    fn take(&mut self, strings: impl Iterator<Item = StrId>) -> Result<(), DecodeError> {
        self.take_bytes(strings.map(|s| s.range().len()).sum())
    }

    /// Takes `bytes` from what is left; fails the request if there is not enough.
    fn take_bytes(&mut self, bytes: usize) -> Result<(), DecodeError> {
        self.left = self
            .left
            .checked_sub(bytes)
            .ok_or_else(|| self.exceeded())?;
        Ok(())
    }

    /// The error of a request that refers to more than its allowance.
    fn exceeded(&self) -> DecodeError {
        DecodeError::Expanded {
            body: self.body,
            limit: self.body.saturating_mul(EXPANSION),
        }
    }
}

/// The names and values of `labels`.
fn label_strings(data: &WriteData, labels: Range<usize>) -> impl Iterator<Item = StrId> + '_ {
    let pairs = data.labels.get(labels).unwrap_or(&[]);
    pairs.iter().flat_map(|l| [l.name, l.value])
}

/// A symbol: its span of the body, its text ready to be copied, and what the
/// label-name rules ask of it, found once per request rather than per label.
#[derive(Clone, Copy)]
struct Symbol<'a> {
    id: StrId,
    text: StrAt<'a>,
    empty: bool,
    metric_name: bool,
}

impl<'a> Symbol<'a> {
    fn new(base: &'a [u8], id: StrId) -> Self {
        let text = StrAt::in_buffer(base, id);
        Symbol {
            id,
            text,
            empty: text.is_empty(),
            metric_name: text.bytes() == b"__name__",
        }
    }
}

/// Whether label name `a` sorts before `b`, by symbol reference: a request's
/// label names are few and follow each other in the same pairs series after
/// series, so most comparisons are a lookup.
struct NameOrder {
    /// `(a, b, a < b)`, by a hash of `(a, b)`; `u32::MAX` marks a free slot
    /// (no request has that many symbols).
    slots: Vec<(u32, u32, bool)>,
}

impl NameOrder {
    const SLOTS: usize = 256;

    fn new() -> Self {
        NameOrder {
            slots: vec![(u32::MAX, u32::MAX, false); Self::SLOTS],
        }
    }

    /// Whether the name of symbol `a` of `table` sorts strictly before that of `b`.
    #[inline(always)]
    fn less(&mut self, table: &[Symbol<'_>], a: u32, b: u32) -> bool {
        let slot = (a.wrapping_mul(0x9e37_79b9) ^ b) as usize % Self::SLOTS;
        match self.slots.get_mut(slot) {
            Some(&mut (x, y, ordered)) if (x, y) == (a, b) => ordered,
            Some(entry) => {
                let ordered = text_less(table, a, b);
                *entry = (a, b, ordered);
                ordered
            }
            None => text_less(table, a, b),
        }
    }
}

/// Whether the text of symbol `a` of `table` sorts strictly before that of `b`.
#[cold]
fn text_less(table: &[Symbol<'_>], a: u32, b: u32) -> bool {
    let text = |r: u32| table.get(r as usize).map_or(&[][..], |s| s.text.bytes());
    less(text(a), text(b))
}

/// The request's symbol table and the body its strings are spans of.
struct Symbols<'a> {
    base: &'a [u8],
    table: &'a [Symbol<'a>],
}

impl<'a> Symbols<'a> {
    /// Resolves a symbol reference, or says which one is out of range.
    /// Inlined: it runs twice per label, and the message only when it fails.
    #[inline(always)]
    fn get(&self, r: u64, what: impl FnOnce() -> String) -> Result<Symbol<'a>, String> {
        match usize::try_from(r).ok().and_then(|r| self.table.get(r)) {
            Some(&symbol) => Ok(symbol),
            None => Err(self.out_of_range(r, what())),
        }
    }

    #[cold]
    fn out_of_range(&self, r: u64, what: String) -> String {
        format!(
            "{what} refers to symbol {r}, but the request has only {} symbols",
            self.table.len()
        )
    }

    /// The bytes of a resolved string.
    fn bytes(&self, id: StrId) -> &[u8] {
        self.base.get(id.range()).unwrap_or(&[])
    }

    /// Appends the label pairs in `refs` to `data.labels`, returning their range.
    fn labels(
        &self,
        data: &mut WriteData,
        refs: &[u32],
        what: impl Fn() -> String,
    ) -> Result<Range<u32>, String> {
        let start = data.labels.len() as u32;
        for (i, &[name, value]) in pairs_of(refs, &what)?.iter().enumerate() {
            let what = &what;
            let at = |n: usize| move || format!("{}.labels_refs[{n}]", what());
            let name = self.get(u64::from(name), at(2 * i))?.id;
            let value = self.get(u64::from(value), at(2 * i + 1))?.id;
            data.labels.push(LabelRef { name, value });
        }
        Ok(start..data.labels.len() as u32)
    }

    /// Resolves the label references of series `index` into `data.labels`,
    /// takes their bytes from `expansion`, and checks their names as
    /// Prometheus's receiver does: a non-empty `__name__`, no empty or repeated
    /// names. Names out of order are only warned about (Prometheus sorts them).
    /// Returns the labels' range and their identity hash, or why the series is
    /// refused; fails the request when its labels are over the allowance.
    fn series_labels(
        &self,
        data: &mut WriteData,
        refs: &[u32],
        index: usize,
        (canonical, order): (&mut Vec<u8>, &mut NameOrder),
        expansion: &mut Expansion,
    ) -> Result<Result<(Range<u32>, u64), String>, DecodeError> {
        let path = || format!("timeseries[{index}]");
        let pairs = match pairs_of(refs, path) {
            Ok(pairs) => pairs,
            Err(reason) => return Ok(Err(reason)),
        };
        let start = data.labels.len();
        let unset = LabelRef {
            name: WriteData::EMPTY,
            value: WriteData::EMPTY,
        };
        data.labels.resize(start + pairs.len(), unset);
        let resolved = loop {
            let labels = data.labels.get_mut(start..).unwrap_or(&mut []);
            let allowance = expansion.left;
            match resolve_pairs(self.table, pairs, labels, order, canonical, allowance) {
                Ok(resolved) => break resolved,
                Err(Stop::Room(room)) => canonical.resize(room.max(2 * canonical.len()), 0),
                Err(Stop::Ref(n)) => {
                    data.labels.truncate(start);
                    let r = refs.get(n).copied().unwrap_or_default();
                    let what = format!("timeseries[{index}].labels_refs[{n}]");
                    return Ok(Err(self.out_of_range(u64::from(r), what)));
                }
                Err(Stop::Expanded) => {
                    // A reference out of range further on refuses the series
                    // alone, as it would before any bytes were counted.
                    data.labels.truncate(start);
                    return match self.labels(data, refs, path) {
                        Ok(_) => Err(expansion.exceeded()),
                        Err(reason) => Ok(Err(reason)),
                    };
                }
            }
        };
        expansion.take_bytes(resolved.taken)?;
        let labels = start as u32..data.labels.len() as u32;
        let Resolved {
            has_name,
            empty_name,
            sorted,
            end,
            ..
        } = resolved;
        let sorted_hash = sorted.then(|| canonical_bytes_hash(canonical.get(..end).unwrap_or(&[])));
        if empty_name {
            return Ok(Err(format!("timeseries[{index}] has an empty label name")));
        }
        let pairs = data
            .labels
            .get(labels.start as usize..labels.end as usize)
            .unwrap_or(&[]);
        if !sorted {
            let mut names: Vec<&[u8]> = pairs.iter().map(|l| self.bytes(l.name)).collect();
            names.sort_unstable();
            if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
                return Ok(Err(format!(
                    "timeseries[{index}] repeats the label name {:?}",
                    String::from_utf8_lossy(pair[0])
                )));
            }
        }
        if !has_name {
            return Ok(Err(format!(
                "timeseries[{index}] has no __name__ label (or an empty one)"
            )));
        }
        let hash = match sorted_hash {
            Some(hash) => hash,
            None => {
                data.warn(|| format!("timeseries[{index}] has labels that are not sorted by name"));
                hash_labels(self.base, data, labels.clone(), false, canonical)
            }
        };
        Ok(Ok((labels, hash)))
    }
}

/// `labels_refs` as name/value pairs, or why it is not (`what` names its message).
fn pairs_of(refs: &[u32], what: impl Fn() -> String) -> Result<&[[u32; 2]], String> {
    match refs.as_chunks::<2>() {
        (pairs, []) => Ok(pairs),
        _ => Err(format!(
            "{}.labels_refs has {} entries; it must hold name/value pairs (an even number)",
            what(),
            refs.len()
        )),
    }
}

/// What [`resolve_pairs`] found out about a series' labels.
struct Resolved {
    has_name: bool,
    empty_name: bool,
    /// Names strictly ascending.
    sorted: bool,
    /// End of the labels' canonical form in the buffer.
    end: usize,
    /// Bytes of the labels' names and values, for [`Expansion`].
    taken: usize,
}

/// Why [`resolve_pairs`] stopped.
enum Stop {
    /// The canonical form needs a buffer this long.
    Room(usize),
    /// Reference `n` is out of range.
    Ref(usize),
    /// The labels refer to more bytes than the allowance.
    Expanded,
}

/// The hot loop of RW 2.0: resolves a series' label reference `pairs` into
/// `labels` (as many), notes what the name rules ask, and writes the labels'
/// canonical form into `out`, as long as their bytes stay within `allowance`
/// (see [`Expansion`]). Not inlined, and given plain slices, so that it keeps
/// its state in registers.
#[inline(never)]
fn resolve_pairs(
    table: &[Symbol<'_>],
    pairs: &[[u32; 2]],
    labels: &mut [LabelRef],
    order: &mut NameOrder,
    out: &mut [u8],
    allowance: usize,
) -> Result<Resolved, Stop> {
    let (mut has_name, mut empty_name, mut sorted) = (false, false, true);
    let mut previous: Option<u32> = None;
    let (mut end, mut taken) = (0, 0);
    for (i, (&[name_ref, value_ref], slot)) in pairs.iter().zip(labels).enumerate() {
        let Some(name) = table.get(name_ref as usize) else {
            return Err(Stop::Ref(2 * i));
        };
        let Some(value) = table.get(value_ref as usize) else {
            return Err(Stop::Ref(2 * i + 1));
        };
        *slot = LabelRef {
            name: name.id,
            value: value.id,
        };
        empty_name |= name.empty;
        has_name |= name.metric_name && !value.empty;
        if let Some(previous) = previous {
            sorted &= order.less(table, previous, name_ref);
        }
        previous = Some(name_ref);
        taken += name.text.len() + value.text.len();
        if taken > allowance {
            return Err(Stop::Expanded);
        }
        let room = end + label_room(name.text, value.text);
        if out.len() < room {
            return Err(Stop::Room(room));
        }
        end = put_label(out, end, name.text, value.text);
    }
    Ok(Resolved {
        has_name,
        empty_name,
        sorted,
        end,
        taken,
    })
}

/// Buffers reused from series to series.
struct Scratch {
    refs: Vec<u32>,
    /// The label references of a series' exemplars, one after the other.
    exemplar_refs: Vec<u32>,
    /// Where the canonical form of a series' labels is written.
    canonical: Vec<u8>,
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
        canonical,
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
    let mut r = Reader::new(buf);
    while !r.is_done() {
        let (field, wire) = r.key().map_err(at(MSG, path))?;
        match field {
            TIME_SERIES_LABELS_REFS => {
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
    // The whole series has been read (so a malformed one still fails the
    // request as protobuf); now the rules that refuse it alone.
    let accepted = symbols
        .series_labels(data, refs, index, (canonical, name_order), expansion)?
        .and_then(|(labels, label_hash)| {
            let metadata = match metadata_refs {
                Some(refs) => metadata(symbols, data, refs, labels.clone(), index)?,
                None => None,
            };
            Ok((labels, label_hash, metadata))
        });
    let (label_range, label_hash, metadata) = match accepted {
        Ok(parts) => parts,
        Err(reason) => {
            marks.truncate(data);
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
    };
    if !series.samples.is_empty() && !series.histograms.is_empty() {
        data.warn(|| format!("timeseries[{index}] has both samples and histograms; the 2.0 spec allows one kind per series"));
    }
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
    if e.timestamp_ms == 0 {
        data.warn(|| format!("{} has no timestamp, which the 2.0 spec requires", path()));
    }
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
