//! The per-request problems headless mode prints: the stateless label rules of
//! [`crate::problems`] applied to each series of a request.

use crate::ingest::model::{ReceivedSeries, WriteData};
use crate::problems::labels::LabelCheck;
use crate::problems::{Counts, Report, Rule, Thresholds};

/// Hands each firing to a closure, with the series it fired on.
struct Each<'s, 'f, F> {
    series: &'s ReceivedSeries,
    f: &'f mut F,
}

impl<'s, F> Report for Each<'s, '_, F>
where
    F: FnMut(&'s ReceivedSeries, Rule, &dyn Fn() -> String),
{
    fn found(&mut self, rule: Rule, message: &dyn Fn() -> String) {
        (self.f)(self.series, rule, message);
    }
}

/// Calls `f` with each label problem of `data`'s series, in request order (each
/// rule at most once per series, on its first offender); the message is built
/// only when `f` asks for it.
pub fn label_problems<'a>(
    data: &'a WriteData,
    limits: &Thresholds,
    mut f: impl FnMut(&'a ReceivedSeries, Rule, &dyn Fn() -> String),
) {
    for series in &data.series {
        let mut report = Each { series, f: &mut f };
        let mut check = LabelCheck::new();
        for (name, value) in data.label_pairs(series.labels.clone()) {
            check.label(name.as_bytes(), value.as_bytes(), limits, &mut report);
        }
        check.finish(limits, &mut report);
    }
}

/// Counts the label problems of `data` without printing them.
pub fn count(data: &WriteData, limits: &Thresholds, counts: &mut Counts) {
    label_problems(data, limits, |_, rule, _| counts.add(rule));
}

/// The timestamp a problem record of `series` carries: its first sample's or
/// histogram's, if it has any.
pub fn timestamp(data: &WriteData, series: &ReceivedSeries) -> Option<i64> {
    data.samples_of(series)
        .first()
        .map(|s| s.timestamp_ms)
        .or_else(|| data.histograms_of(series).first().map(|h| h.timestamp))
}
