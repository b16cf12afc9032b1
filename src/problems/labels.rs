//! A series' label set, checked label by label as it is read: order, repeats,
//! empty and invalid names and values, lengths, the number of labels, the
//! metric name.

use super::{Report, Rule, RuleSet, Thresholds};
use std::borrow::Cow;

/// Whether `name` is a metric name of the legacy charset `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_legacy_metric_name(name: &[u8]) -> bool {
    legacy(name, true)
}

/// Whether `name` is a label name of the legacy charset `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_legacy_label_name(name: &[u8]) -> bool {
    legacy(name, false)
}

/// Per byte: bit 0 set for `[a-zA-Z0-9_]`, bit 1 for those and `:`, bit 2
/// for a digit (not allowed first).
const LEGACY: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'_' {
            table[b] = 0b011;
        }
        if c == b':' {
            table[b] = 0b010;
        }
        if c.is_ascii_digit() {
            table[b] |= 0b100;
        }
        b += 1;
    }
    table
};

/// A byte-table walk: this runs for every label of every series, and the
/// chain of character-class tests it replaced took a quarter of the checks'
/// instructions (callgrind, `cargo bench --bench decode -- check`).
fn legacy(name: &[u8], colon: bool) -> bool {
    let mask = if colon { 0b010 } else { 0b001 };
    match name.first() {
        Some(&first) if LEGACY[usize::from(first)] & 0b100 == 0 => {
            name.iter().fold(mask, |ok, &b| ok & LEGACY[usize::from(b)]) != 0
        }
        _ => false,
    }
}

/// Longest part of a name or value a message quotes.
const SHOWN_BYTES: usize = 64;

/// `bytes` quoted for a message as a PromQL string, cut at [`SHOWN_BYTES`]:
/// bytes kept losslessly that were not UTF-8 read `\xNN`, as in every view.
pub fn shown(bytes: &[u8]) -> String {
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(&s[..s.floor_char_boundary(SHOWN_BYTES)]),
        Err(_) => String::from_utf8_lossy(&bytes[..bytes.len().min(SHOWN_BYTES)]),
    };
    let mut out = String::with_capacity(text.len() + 2);
    crate::text::promql::write_quoted(&mut out, &text);
    if text.len() < bytes.len() {
        out.push_str(&format!("… ({} bytes)", bytes.len()));
    }
    out
}

/// The checks of one label set, fed its labels in the order sent. Each rule
/// fires at most once per set, on its first offender.
#[derive(Debug, Default)]
pub struct LabelCheck<'a> {
    previous: Option<&'a [u8]>,
    count: usize,
    has_name: bool,
    fired: RuleSet,
}

impl<'a> LabelCheck<'a> {
    pub fn new() -> Self {
        LabelCheck::default()
    }

    /// Whether the names so far were strictly ascending (sorted, no repeats).
    pub fn sorted(&self) -> bool {
        !self.fired.contains(Rule::LabelsUnsorted) && !self.fired.contains(Rule::LabelNameRepeated)
    }

    fn fire(&mut self, report: &mut impl Report, rule: Rule, message: &dyn Fn() -> String) {
        if !self.fired.contains(rule) && report.wants(rule) {
            self.fired.insert(rule);
            report.found(rule, message);
        }
    }

    /// Takes the next label.
    #[inline]
    pub fn label(
        &mut self,
        name: &'a [u8],
        value: &[u8],
        limits: &Thresholds,
        report: &mut impl Report,
    ) {
        self.count += 1;
        if let Some(previous) = self.previous.replace(name) {
            match previous.cmp(name) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => self.fire(report, Rule::LabelNameRepeated, &|| {
                    format!("repeats label name {}", shown(name))
                }),
                std::cmp::Ordering::Greater => self.fire(report, Rule::LabelsUnsorted, &|| {
                    format!(
                        "has labels that are not sorted by name ({} after {})",
                        shown(name),
                        shown(previous)
                    )
                }),
            }
        }
        if name == b"__name__" {
            self.has_name |= !value.is_empty();
            if !value.is_empty() && !is_legacy_metric_name(value) {
                self.fire(report, Rule::MetricNameInvalid, &|| {
                    format!(
                        "has metric name {} outside the legacy charset",
                        shown(value)
                    )
                });
            }
            if value.len() > limits.max_metric_name_bytes {
                self.fire(report, Rule::MetricNameTooLong, &|| {
                    format!(
                        "has a metric name of {} bytes, over {}",
                        value.len(),
                        limits.max_metric_name_bytes
                    )
                });
            }
        } else if name.is_empty() {
            self.fire(report, Rule::LabelNameEmpty, &|| {
                format!("has an empty label name (value {})", shown(value))
            });
        } else {
            if !is_legacy_label_name(name) {
                self.fire(report, Rule::LabelNameInvalid, &|| {
                    format!("has label name {} outside the legacy charset", shown(name))
                });
            }
            if value.is_empty() {
                self.fire(report, Rule::LabelValueEmpty, &|| {
                    format!("has label {} with an empty value", shown(name))
                });
            }
        }
        if name.len() > limits.max_label_name_bytes {
            self.fire(report, Rule::LabelNameTooLong, &|| {
                format!(
                    "has a label name of {} bytes, over {}: {}",
                    name.len(),
                    limits.max_label_name_bytes,
                    shown(name)
                )
            });
        }
        if value.len() > limits.max_label_value_bytes {
            self.fire(report, Rule::LabelValueTooLong, &|| {
                format!(
                    "has label {} with a value of {} bytes, over {}",
                    shown(name),
                    value.len(),
                    limits.max_label_value_bytes
                )
            });
        }
        if !value.is_ascii() && std::str::from_utf8(value).is_err() {
            self.fire(report, Rule::LabelValueInvalidUtf8, &|| {
                format!("has label {} with a value that is not UTF-8", shown(name))
            });
        }
    }

    /// Checks what needs the whole set; returns the rules that fired on it.
    pub fn finish(mut self, limits: &Thresholds, report: &mut impl Report) -> RuleSet {
        if !self.has_name {
            self.fire(report, Rule::MetricNameMissing, &|| {
                "has no __name__ label (or an empty one)".to_owned()
            });
        }
        if self.count > limits.max_labels {
            let count = self.count;
            self.fire(report, Rule::TooManyLabels, &|| {
                format!("has {count} labels, over {}", limits.max_labels)
            });
        }
        self.fired
    }
}

/// Checks a whole label set at once.
pub fn check_labels<'a>(
    pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
    limits: &Thresholds,
    report: &mut impl Report,
) -> RuleSet {
    let mut check = LabelCheck::new();
    for (name, value) in pairs {
        check.label(name, value, limits, report);
    }
    check.finish(limits, report)
}
