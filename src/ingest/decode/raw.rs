//! Strings that are not UTF-8, kept losslessly instead of failing the request:
//! Prometheus's receiver decodes them (gogo's unmarshalling does not check
//! UTF-8) and refuses the series when it validates its labels.

use crate::ingest::model::{LabelRef, StrId, WriteData};
use crate::problems::{Problem, Rule, Subject};
use crate::text::escape::lossless;

/// The [`StrId`] of `s`, a subslice of `base`, whether it is UTF-8 or not; one
/// that is not is noted in `raw` to be kept losslessly once decoded (see
/// [`keep_raw_strings`]).
#[inline]
pub(super) fn text(base: &[u8], s: &[u8], raw: &mut Vec<StrId>) -> StrId {
    let id = span(base, s);
    // Label names and values are nearly always ASCII, which is valid UTF-8 and
    // much cheaper to check.
    if !s.is_ascii() && std::str::from_utf8(s).is_err() {
        raw.push(id);
    }
    id
}

/// The [`StrId`] of `s`, a subslice of `base`.
fn span(base: &[u8], s: &[u8]) -> StrId {
    // An absent field is an empty slice that need not lie inside `base`.
    let offset = (s.as_ptr() as usize).checked_sub(base.as_ptr() as usize);
    match offset {
        Some(start) if !s.is_empty() && start + s.len() <= base.len() => StrId::new(start, s.len()),
        _ => WriteData::EMPTY,
    }
}

/// Rewrites every string of `data` that is a span of `data.raw_strings` (the
/// spans of the body that are not UTF-8: RW 1.0 fields, RW 2.0 symbols) to the
/// same bytes as text, written again at the end of `buf`, whose bytes that
/// were not UTF-8 are characters standing for them (shown `\xNN`, see
/// [`lossless`]). A series with such a label name or value (its own or an
/// exemplar's) gets `label-name-invalid-utf8` or `label-value-invalid-utf8`,
/// once each, as Prometheus's receiver refuses it (RW 1.0: drops the series
/// and answers 204; RW 2.0: 400). Series keep the identity hash of the bytes
/// sent; help and unit texts are kept the same way.
pub(super) fn keep_raw_strings(data: &mut WriteData, buf: &mut Vec<u8>) {
    let mut raw = std::mem::take(&mut data.raw_strings);
    raw.sort_unstable_by_key(|id| (id.start(), id.range().len()));
    raw.dedup();
    let kept: Vec<(StrId, StrId)> = raw
        .into_iter()
        .map(|id| {
            let text = lossless(buf.get(id.range()).unwrap_or(&[]));
            let start = buf.len();
            buf.extend_from_slice(text.as_bytes());
            (id, StrId::new(start, text.len()))
        })
        .collect();
    let keep = |id: &mut StrId| {
        let i = kept.partition_point(|(raw, _)| {
            (raw.start(), raw.range().len()) < (id.start(), id.range().len())
        });
        match kept.get(i) {
            Some(&(raw, text)) if raw == *id => {
                *id = text;
                true
            }
            _ => false,
        }
    };
    // The labels (indices of `data.labels`) rewritten: (index, name, value).
    let mut rewritten: Vec<(u32, bool, bool)> = Vec::new();
    for (i, label) in data.labels.iter_mut().enumerate() {
        let (name, value) = (keep(&mut label.name), keep(&mut label.value));
        if name || value {
            rewritten.push((i as u32, name, value));
        }
    }
    let series_texts = data.series.iter_mut().filter_map(|s| s.metadata.as_mut());
    for m in data.metadata.iter_mut().chain(series_texts) {
        keep(&mut m.family);
        keep(&mut m.help);
        keep(&mut m.unit);
    }
    if !rewritten.is_empty() {
        fire(data, buf, &rewritten);
    }
}

/// Fires the rules of the series that have a rewritten label among their own
/// (or their exemplars').
fn fire(data: &mut WriteData, buf: &[u8], rewritten: &[(u32, bool, bool)]) {
    let mut problems = Vec::new();
    for (index, series) in data.series.iter().enumerate() {
        let exemplars = (series.exemplars.start as usize..series.exemplars.end as usize)
            .filter_map(|e| data.exemplars.get(e));
        let ranges = std::iter::once((series.labels.clone(), "label"))
            .chain(exemplars.map(|e| (e.labels.clone(), "exemplar label")));
        let (mut name, mut value): (Option<String>, Option<String>) = (None, None);
        for (range, what) in ranges {
            let from = rewritten.partition_point(|r| r.0 < range.start);
            let within = rewritten[from..].iter().take_while(|r| r.0 < range.end);
            for &(i, bad_name, bad_value) in within {
                let Some(&LabelRef { name: n, value: v }) = data.labels.get(i as usize) else {
                    continue;
                };
                if bad_name && name.is_none() {
                    let article = if what == "label" { "a" } else { "an" };
                    name = Some(format!(
                        "has {article} {what} name that is not UTF-8: {}",
                        quoted(buf, n)
                    ));
                }
                if bad_value && value.is_none() {
                    value = Some(format!(
                        "has {what} {} with a value that is not UTF-8: {}",
                        quoted(buf, n),
                        quoted(buf, v)
                    ));
                }
            }
        }
        let timestamp_ms = data
            .samples
            .get(series.samples.start as usize..series.samples.end as usize)
            .and_then(|s| s.first())
            .map(|s| s.timestamp_ms);
        let found = [
            (Rule::LabelNameInvalidUtf8, name),
            (Rule::LabelValueInvalidUtf8, value),
        ];
        for (rule, message) in found {
            if let Some(message) = message {
                problems.push(Problem {
                    rule,
                    subject: Subject::Series(index as u32),
                    count: 1,
                    timestamp_ms,
                    message: message.into(),
                });
            }
        }
    }
    data.problems.extend(problems);
}

/// String `id` of `buf` quoted for a message.
fn quoted(buf: &[u8], id: StrId) -> String {
    crate::problems::labels::shown(buf.get(id.range()).unwrap_or(&[]))
}
