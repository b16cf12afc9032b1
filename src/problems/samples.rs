//! A series' samples, each against the newest one the series sent before (kept
//! in [`SeriesState`], in the series' slot) and the newest sample of all.

use super::{At, Report, Rule, Span, Thresholds};

/// What the sample rules keep of a series: its newest sample, and the start
/// timestamp that came with it. 24 bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesState {
    /// `i64::MIN` before the first sample.
    newest_ms: i64,
    newest_value: f64,
    start_ms: i64,
}

impl Default for SeriesState {
    fn default() -> Self {
        SeriesState {
            newest_ms: i64::MIN,
            newest_value: 0.0,
            start_ms: 0,
        }
    }
}

/// A sample as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleIn {
    pub timestamp_ms: i64,
    /// A float sample's value, a histogram's count.
    pub value: f64,
    /// Created/start timestamp, 0 when the sender gave none.
    pub start_ms: i64,
    /// Whether `value` is Prometheus's staleness marker.
    pub stale: bool,
}

/// What the sample rules need to know beyond the series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleContext {
    /// When the request arrived (ms since the epoch).
    pub arrival_ms: i64,
    /// The newest sample timestamp seen of all series before this one
    /// (`i64::MIN` for none).
    pub newest_of_all_ms: i64,
    /// Whether the series is a counter: typed so, or named `_total`, `_count`,
    /// `_sum` or `_bucket`.
    pub counter: bool,
}

/// Whether a series named `name` (with metadata type `typed_counter` or not)
/// is checked as a counter.
pub fn is_counter(name: impl AsRef<[u8]>, typed_counter: bool) -> bool {
    let name = name.as_ref();
    typed_counter
        || [&b"_total"[..], b"_count", b"_sum", b"_bucket"]
            .iter()
            .any(|s| name.ends_with(s))
}

/// Bits of a float as Prometheus compares them for duplicates: NaN equals
/// itself, 0.0 and -0.0 differ.
fn same_value(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits()
}

impl SeriesState {
    /// Checks `sample` against the series so far, then takes it as the newest
    /// unless it is older or at the same timestamp.
    pub fn check(
        &mut self,
        sample: SampleIn,
        context: &SampleContext,
        limits: &Thresholds,
        report: &mut impl Report,
    ) {
        let ts = sample.timestamp_ms;
        let value = sample.value;
        if ts > context.arrival_ms.saturating_add(limits.future_ms)
            && report.wants(Rule::TooFarInFuture)
        {
            report.found(Rule::TooFarInFuture, &|| {
                format!(
                    "sample at {} is {} past its arrival",
                    At(ts),
                    Span(ts - context.arrival_ms)
                )
            });
        }
        let floor = context.newest_of_all_ms.saturating_sub(limits.too_old_ms);
        if ts < floor && report.wants(Rule::TooOld) {
            report.found(Rule::TooOld, &|| {
                format!(
                    "sample at {} is {} behind the newest of all series",
                    At(ts),
                    Span(context.newest_of_all_ms - ts)
                )
            });
        }
        if context.counter && value.is_nan() && !sample.stale && report.wants(Rule::NanOnCounter) {
            report.found(Rule::NanOnCounter, &|| {
                format!("counter sample at {} is NaN", At(ts))
            });
        }
        let newest = self.newest_ms;
        if newest == i64::MIN {
            // The first sample.
        } else if ts < newest {
            if report.wants(Rule::OutOfOrder) {
                report.found(Rule::OutOfOrder, &|| {
                    format!(
                        "sample at {} is {} older than the series' newest",
                        At(ts),
                        Span(newest - ts)
                    )
                });
            }
            return;
        } else if ts == newest {
            let previous = self.newest_value;
            let (rule, kind) = if same_value(previous, value) {
                (Rule::DuplicateSample, "again with value")
            } else {
                (Rule::DuplicateTimestamp, "with value")
            };
            if report.wants(rule) {
                report.found(rule, &|| {
                    if rule == Rule::DuplicateSample {
                        format!("sample at {} sent {kind} {value}", At(ts))
                    } else {
                        format!("sample at {} sent {kind} {previous}, then {value}", At(ts))
                    }
                });
            }
            return;
        } else if context.counter
            && value < self.newest_value
            && !(sample.start_ms != 0 && sample.start_ms > self.start_ms)
            && report.wants(Rule::CounterDecrease)
        {
            // NaN compares false: stale markers and NaN neither fire nor hide a reset.
            let previous = self.newest_value;
            report.found(Rule::CounterDecrease, &|| {
                format!("counter went from {previous} to {value} at {}", At(ts))
            });
        }
        self.newest_ms = ts;
        self.newest_value = value;
        if sample.start_ms != 0 {
            self.start_ms = sample.start_ms;
        }
    }

    /// The common case, decided without the counter flag: takes `sample` as
    /// the newest and returns true if [`SeriesState::check`] would fire
    /// nothing on it (counter or not) and take it; else changes nothing and
    /// returns false, and the caller checks it in full. `horizon` is its
    /// arrival plus the `too-far-in-future` window, `floor` the newest sample
    /// of all minus the `too-old` window.
    #[inline(always)]
    pub fn take_plain(&mut self, sample: SampleIn, horizon: i64, floor: i64) -> bool {
        let ts = sample.timestamp_ms;
        // Not NaN, and no lower than the newest (any number for the first).
        let rises = sample.value >= self.newest_value
            || (self.newest_ms == i64::MIN && !sample.value.is_nan());
        let plain = ts <= horizon && ts >= floor && ts > self.newest_ms && rises;
        if plain {
            self.newest_ms = ts;
            self.newest_value = sample.value;
            if sample.start_ms != 0 {
                self.start_ms = sample.start_ms;
            }
        }
        plain
    }

    /// The newest timestamp taken, if any.
    pub fn newest_ms(&self) -> Option<i64> {
        (self.newest_ms != i64::MIN).then_some(self.newest_ms)
    }
}
