//! Label values that are not UTF-8, kept losslessly instead of failing the
//! request: Prometheus's receiver decodes them (gogo's unmarshalling does not
//! check UTF-8) and refuses the series when it validates its labels.

use crate::ingest::model::{StrId, WriteData};
use crate::problems::{Problem, Rule, Subject};

/// Label values that are not UTF-8 (`data.raw_values`, RW 1.0 series labels),
/// kept losslessly: each is written again at the end of `buf` as text whose
/// bytes that were not UTF-8 are characters standing for them (shown `\xNN`,
/// see [`crate::text::escape::lossless`]), and fires
/// `label-value-invalid-utf8` on its series as Prometheus's receiver refuses
/// it (RW 1.0: drops the series and answers 204). The series keeps its identity
/// hash of the bytes sent.
pub(super) fn keep_raw_values(data: &mut WriteData, buf: &mut Vec<u8>) {
    let raw = std::mem::take(&mut data.raw_values);
    // The series the rule last fired on: once per series, however many values.
    let mut fired: Option<usize> = None;
    for i in raw {
        let Some(label) = data.labels.get(i as usize).copied() else {
            continue;
        };
        let bytes = buf.get(label.value.range()).unwrap_or(&[]);
        let text = crate::text::escape::lossless(bytes);
        let start = buf.len();
        buf.extend_from_slice(text.as_bytes());
        if let Some(l) = data.labels.get_mut(i as usize) {
            l.value = StrId::new(start, text.len());
        }
        let series = data.series.partition_point(|s| s.labels.end <= i);
        if fired == Some(series) {
            continue;
        }
        fired = Some(series);
        let name = crate::problems::labels::shown(buf.get(label.name.range()).unwrap_or(&[]));
        let message = format!(
            "has label {name} with a value that is not UTF-8: \"{}\"",
            crate::text::escape::escaped(&text)
        );
        let timestamp_ms = data.series.get(series).and_then(|s| {
            let first = data.samples.get(s.samples.start as usize)?;
            (s.samples.start < s.samples.end).then_some(first.timestamp_ms)
        });
        data.problems.push(Problem {
            rule: Rule::LabelValueInvalidUtf8,
            subject: Subject::Series(series as u32),
            count: 1,
            timestamp_ms,
            message: message.into(),
        });
    }
}
