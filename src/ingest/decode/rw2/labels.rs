//! A RW 2.0 series' labels: the request's symbol table (each symbol's string
//! hash computed once a request), the byte allowance that bounds what its
//! references may expand to, and the name rules and identity hash of what the
//! hot loop ([`resolve`]) resolved.

use crate::problems::Rule;
use std::ops::Range;

use super::super::wire::packed_u32;
use super::super::{DecodeError, at, hash_labels, less};
use super::MSG;
use crate::hashing::Keys;
use crate::ingest::model::{LabelRef, StrId, WriteData};

mod resolve;
use resolve::{PackedPairs, Resolved, Unresolved, resolve_pairs};

/// Bytes of labels (series' and exemplars'), help and units a request may refer
/// to per byte of its body. Strings are sent once and referred to by number:
/// Prometheus 2.42's captured traffic as Prometheus 3 would send it refers to
/// 1.9 bytes per body byte (3.5 from 100 instances in one request), 2,000
/// kube_pod_labels-like series of 40 shared 40-byte values to 23.5 (see
/// `real_traffic_refers_to_labels_far_below_the_rw2_expansion_bound`). A long
/// symbol referred to by every series multiplies without bound (a 600 KB body
/// referring 20,000 times to a 256 KiB value is 5 GiB of labels to hash, check,
/// store and print).
pub(in crate::ingest::decode) const EXPANSION: usize = 128;

/// What a request may still refer to of [`EXPANSION`].
pub(super) struct Expansion {
    left: usize,
    body: usize,
}

impl Expansion {
    /// The allowance of a `body`-byte body.
    pub(super) fn of(body: usize) -> Self {
        Expansion {
            left: body.saturating_mul(EXPANSION),
            body,
        }
    }

    /// Takes the bytes of `strings` from what is left, before anything reads
    /// them; fails the request once there is not enough.
    pub(super) fn take(&mut self, strings: impl Iterator<Item = StrId>) -> Result<(), DecodeError> {
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
pub(super) fn label_strings(
    data: &WriteData,
    labels: Range<usize>,
) -> impl Iterator<Item = StrId> + '_ {
    let pairs = data.labels.get(labels).unwrap_or(&[]);
    pairs.iter().flat_map(|l| [l.name, l.value])
}

/// A symbol: its span of the body, its string hash (what the identity hash of
/// a label set folds, see [`label_set_hash`](crate::ingest::model::label_set_hash))
/// and what the label-name rules ask of it, found once per request rather
/// than per label.
#[derive(Clone, Copy)]
pub(super) struct Symbol {
    pub(super) id: StrId,
    hash: u64,
    empty: bool,
    metric_name: bool,
}

impl Symbol {
    /// The symbol `id` of `base`, hashed with `keys` (this process's).
    pub(super) fn new(keys: &Keys, base: &[u8], id: StrId) -> Self {
        let text = base.get(id.range()).unwrap_or(&[]);
        Symbol {
            id,
            hash: keys.string(text),
            empty: text.is_empty(),
            metric_name: text == b"__name__",
        }
    }

    /// The text's length.
    #[inline(always)]
    fn len(&self) -> usize {
        self.id.range().len()
    }
}

/// Whether label name `a` sorts before `b`, by symbol reference: a request's
/// label names are few and follow each other in the same pairs series after
/// series, so most comparisons are a lookup.
pub(super) struct NameOrder {
    /// `(a, b, a < b)`, by a hash of `(a, b)`; `u32::MAX` marks a free slot
    /// (no request has that many symbols).
    slots: Box<[(u32, u32, bool); NameOrder::SLOTS]>,
}

impl NameOrder {
    const SLOTS: usize = 256;

    pub(super) fn new() -> Self {
        NameOrder {
            slots: Box::new([(u32::MAX, u32::MAX, false); Self::SLOTS]),
        }
    }

    /// Whether the name of symbol `a` sorts strictly before that of `b`
    /// (`symbols` holds them).
    #[inline(always)]
    fn less(&mut self, symbols: &Symbols<'_>, a: u32, b: u32) -> bool {
        let slot = (a.wrapping_mul(0x9e37_79b9) ^ b) as u8;
        let entry = &mut self.slots[usize::from(slot)];
        match *entry {
            (x, y, ordered) if (x, y) == (a, b) => ordered,
            _ => {
                let ordered = text_less(symbols, a, b);
                *entry = (a, b, ordered);
                ordered
            }
        }
    }
}

/// Whether the text of symbol `a` sorts strictly before that of `b`.
#[cold]
fn text_less(symbols: &Symbols<'_>, a: u32, b: u32) -> bool {
    let text = |r: u32| {
        let symbol = symbols.table.get(r as usize);
        symbol.map_or(&[][..], |s| symbols.bytes(s.id))
    };
    less(text(a), text(b))
}

/// The request's symbol table and the body its strings are spans of.
pub(super) struct Symbols<'a> {
    pub(super) base: &'a [u8],
    pub(super) table: &'a [Symbol],
}

impl<'a> Symbols<'a> {
    /// Resolves a symbol reference, or says which one is out of range.
    /// Inlined: it runs twice per label, and the message only when it fails.
    #[inline(always)]
    pub(super) fn get(&self, r: u64, what: impl FnOnce() -> String) -> Result<Symbol, String> {
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
    pub(super) fn bytes(&self, id: StrId) -> &[u8] {
        self.base.get(id.range()).unwrap_or(&[])
    }

    /// Appends the label pairs in `refs` to `data.labels`, returning their range.
    pub(super) fn labels(
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
    /// Returns the labels' range, their identity hash and whether their names
    /// are strictly ascending, or why the series is
    /// refused (and the problem rule it breaks, if one does); fails the
    /// request when its labels are over the allowance.
    pub(super) fn series_labels(
        &self,
        data: &mut WriteData,
        refs: &[u32],
        index: usize,
        order: &mut NameOrder,
        expansion: &mut Expansion,
    ) -> Result<Result<SeriesLabels, Refusal>, DecodeError> {
        let path = || format!("timeseries[{index}]");
        let pairs = match pairs_of(refs, path) {
            Ok(pairs) => pairs,
            Err(reason) => return Ok(Err((None, reason))),
        };
        let start = data.labels.len();
        data.labels.resize(start + pairs.len(), UNSET);
        let labels = data.labels.get_mut(start..).unwrap_or(&mut []);
        let allowance = expansion.left;
        let resolved = match resolve_pairs(self, pairs.iter().copied(), labels, order, allowance) {
            Ok(resolved) => resolved,
            Err(Unresolved::Ref(n)) => {
                data.labels.truncate(start);
                let r = refs.get(n).copied().unwrap_or_default();
                let what = format!("timeseries[{index}].labels_refs[{n}]");
                return Ok(Err((None, self.out_of_range(u64::from(r), what))));
            }
            Err(Unresolved::Expanded) => {
                // Every reference was in range (an out-of-range one refuses
                // the series alone, before any bytes are counted).
                data.labels.truncate(start);
                return Err(expansion.exceeded());
            }
        };
        self.judge(data, start, resolved, index, expansion)
    }

    /// [`Symbols::series_labels`] for references sent as they nearly always
    /// are: one packed `labels_refs` field (`packed`, its bytes) of one- and
    /// two-byte varints, every one in range, within the allowance. Those are
    /// read in the loop that resolves them; anything else is read into `refs`
    /// and resolved as [`Symbols::series_labels`] does, with the same errors and
    /// refusals.
    pub(super) fn packed_series_labels(
        &self,
        data: &mut WriteData,
        packed: &[u8],
        refs: &mut Vec<u32>,
        index: usize,
        order: &mut NameOrder,
        expansion: &mut Expansion,
    ) -> Result<Result<SeriesLabels, Refusal>, DecodeError> {
        let start = data.labels.len();
        // Each reference takes a byte or more: room for every pair.
        data.labels.resize(start + packed.len() / 2, UNSET);
        let labels = data.labels.get_mut(start..).unwrap_or(&mut []);
        let pairs = PackedPairs { bytes: packed };
        let allowance = expansion.left;
        if let Ok(resolved) = resolve_pairs(self, pairs, labels, order, allowance)
            && resolved.complete
        {
            data.labels.truncate(start + resolved.labels);
            return self.judge(data, start, resolved, index, expansion);
        }
        data.labels.truncate(start);
        packed_u32(packed, refs).map_err(at(MSG, || format!("timeseries[{index}]")))?;
        self.series_labels(data, refs, index, order, expansion)
    }

    /// The name rules and the identity hash of series `index`'s labels,
    /// `data.labels[start..]`, as [`resolve_pairs`] found them.
    fn judge(
        &self,
        data: &WriteData,
        start: usize,
        resolved: Resolved,
        index: usize,
        expansion: &mut Expansion,
    ) -> Result<Result<SeriesLabels, Refusal>, DecodeError> {
        expansion.take_bytes(resolved.taken)?;
        let labels = start as u32..data.labels.len() as u32;
        let Resolved {
            has_name,
            empty_name,
            sorted,
            hash,
            ..
        } = resolved;
        if empty_name {
            return Ok(Err((
                Some(Rule::LabelNameEmpty),
                format!("timeseries[{index}] has an empty label name"),
            )));
        }
        let pairs = data
            .labels
            .get(labels.start as usize..labels.end as usize)
            .unwrap_or(&[]);
        if !sorted {
            let mut names: Vec<&[u8]> = pairs.iter().map(|l| self.bytes(l.name)).collect();
            names.sort_unstable();
            if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
                return Ok(Err((
                    Some(Rule::LabelNameRepeated),
                    format!(
                        "timeseries[{index}] repeats the label name {:?}",
                        String::from_utf8_lossy(pair[0])
                    ),
                )));
            }
        }
        if !has_name {
            return Ok(Err((
                Some(Rule::MetricNameMissing),
                format!("timeseries[{index}] has no __name__ label (or an empty one)"),
            )));
        }
        let hash = if sorted {
            hash
        } else {
            hash_labels(self.base, data, labels.clone(), false)
        };
        Ok(Ok((labels, hash, sorted)))
    }
}

/// A label not yet resolved.
const UNSET: LabelRef = LabelRef {
    name: WriteData::EMPTY,
    value: WriteData::EMPTY,
};

/// A series' labels resolved: their range, identity hash and whether their
/// names are strictly ascending.
pub(super) type SeriesLabels = (Range<u32>, u64, bool);

/// Why a series is refused, and the problem rule it breaks if one does.
pub(super) type Refusal = (Option<Rule>, String);

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
