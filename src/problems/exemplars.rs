//! An exemplar on its own: its timestamp (RW 2.0) and the length of its labels.

use super::{Report, Rule, Thresholds};

/// UTF-8 characters in `bytes` (bytes that do not continue a character).
fn chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xc0 != 0x80).count()
}

/// Checks one exemplar with labels `pairs` and timestamp `timestamp_ms`, sent
/// over RW 2.0 if `rw2`.
pub fn check_exemplar<'a>(
    pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
    timestamp_ms: i64,
    rw2: bool,
    limits: &Thresholds,
    report: &mut impl Report,
) {
    if rw2 && timestamp_ms == 0 {
        report.found(Rule::ExemplarWithoutTimestamp, &|| {
            "exemplar has no timestamp".to_owned()
        });
    }
    let length: usize = pairs.into_iter().map(|(n, v)| chars(n) + chars(v)).sum();
    if length > limits.max_exemplar_label_chars {
        report.found(Rule::ExemplarLabelsTooLong, &|| {
            format!(
                "exemplar labels take {length} characters, over {}",
                limits.max_exemplar_label_chars
            )
        });
    }
}
