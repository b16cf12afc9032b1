//! A series' samples, each against the newest one the series sent before (kept
//! in [`SeriesState`], in the series' slot) and the newest sample of all.

use super::{At, Report, Rule, Span, Thresholds};
use crate::proto::STALE_NAN_BITS;

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

/// What a sample rule found, kept as these values and written when read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SampleFact {
    /// `too-far-in-future`: the sample's timestamp and its arrival.
    Future { ts: i64, arrival_ms: i64 },
    /// `too-old`: the sample's timestamp and the newest of all series.
    TooOld { ts: i64, newest_ms: i64 },
    /// `nan-on-counter`.
    NanOnCounter { ts: i64 },
    /// `out-of-order`: the sample's timestamp and the series' newest.
    OutOfOrder { ts: i64, newest_ms: i64 },
    /// `duplicate-sample`: sent again with the same value.
    Resent { ts: i64, value: f64 },
    /// `duplicate-timestamp`: the value sent first, then this one.
    Rewritten { ts: i64, previous: f64, value: f64 },
    /// `counter-decrease`: from the series' newest value to this one.
    Decrease { ts: i64, previous: f64, value: f64 },
}

impl std::fmt::Display for SampleFact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            SampleFact::Future { ts, arrival_ms } => {
                let past = Span::between(ts, arrival_ms);
                write!(f, "sample at {} is {past} past its arrival", At(ts))
            }
            SampleFact::TooOld { ts, newest_ms } => {
                let behind = Span::between(newest_ms, ts);
                write!(
                    f,
                    "sample at {} is {behind} behind the newest of all series",
                    At(ts)
                )
            }
            SampleFact::NanOnCounter { ts } => write!(f, "counter sample at {} is NaN", At(ts)),
            SampleFact::OutOfOrder { ts, newest_ms } => {
                let older = Span::between(newest_ms, ts);
                write!(
                    f,
                    "sample at {} is {older} older than the series' newest",
                    At(ts)
                )
            }
            SampleFact::Resent { ts, value } => {
                let value = Value(value);
                write!(f, "sample at {} sent again with value {value}", At(ts))
            }
            SampleFact::Rewritten {
                ts,
                previous,
                value,
            } => write!(
                f,
                "sample at {} sent with value {}, then {}",
                At(ts),
                Value(previous),
                Value(value)
            ),
            SampleFact::Decrease {
                ts,
                previous,
                value,
            } => write!(f, "counter went from {previous} to {value} at {}", At(ts)),
        }
    }
}

/// A sample value as messages write it: NaNs told apart, as duplicates
/// compare their bits (`NaN, then NaN` read as no change).
struct Value(f64);

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        /// Prometheus's own NaN (`value.NormalNaN`).
        const NORMAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0001;
        let bits = self.0.to_bits();
        match bits {
            STALE_NAN_BITS => f.write_str("StaleNaN"),
            NORMAL_NAN_BITS => f.write_str("NaN"),
            _ if self.0.is_nan() => write!(f, "NaN (bits {bits:#018x})"),
            _ => write!(f, "{}", self.0),
        }
    }
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
            let arrival_ms = context.arrival_ms;
            report.found_sample(Rule::TooFarInFuture, SampleFact::Future { ts, arrival_ms });
        }
        let floor = context.newest_of_all_ms.saturating_sub(limits.too_old_ms);
        if ts < floor && report.wants(Rule::TooOld) {
            let newest_ms = context.newest_of_all_ms;
            report.found_sample(Rule::TooOld, SampleFact::TooOld { ts, newest_ms });
        }
        if context.counter && value.is_nan() && !sample.stale && report.wants(Rule::NanOnCounter) {
            report.found_sample(Rule::NanOnCounter, SampleFact::NanOnCounter { ts });
        }
        let newest = self.newest_ms;
        if newest == i64::MIN {
            // The first sample.
        } else if ts < newest {
            if report.wants(Rule::OutOfOrder) {
                let newest_ms = newest;
                report.found_sample(Rule::OutOfOrder, SampleFact::OutOfOrder { ts, newest_ms });
            }
            return;
        } else if ts == newest {
            let previous = self.newest_value;
            if same_value(previous, value) {
                if report.wants(Rule::DuplicateSample) {
                    report.found_sample(Rule::DuplicateSample, SampleFact::Resent { ts, value });
                }
            } else if report.wants(Rule::DuplicateTimestamp) {
                let fact = SampleFact::Rewritten {
                    ts,
                    previous,
                    value,
                };
                report.found_sample(Rule::DuplicateTimestamp, fact);
            }
            return;
        } else if context.counter
            && value < self.newest_value
            && !(sample.start_ms != 0 && sample.start_ms > self.start_ms)
            && report.wants(Rule::CounterDecrease)
        {
            // NaN compares false: stale markers and NaN neither fire nor hide a reset.
            let previous = self.newest_value;
            let fact = SampleFact::Decrease {
                ts,
                previous,
                value,
            };
            report.found_sample(Rule::CounterDecrease, fact);
        }
        self.take(sample);
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
            self.take(sample);
        }
        plain
    }

    /// [`SeriesState::take_plain`] for a series known to be checked as no
    /// counter, whose value may go anywhere: takes `sample` and returns true
    /// if it is newer than the series' newest and within the time windows,
    /// when [`SeriesState::check`] would fire nothing on it and take it.
    #[inline(always)]
    pub fn take_in_order(&mut self, sample: SampleIn, horizon: i64, floor: i64) -> bool {
        let ts = sample.timestamp_ms;
        let plain = ts <= horizon && ts >= floor && ts > self.newest_ms;
        if plain {
            self.take(sample);
        }
        plain
    }

    /// Takes `sample` as the series' newest.
    #[inline(always)]
    fn take(&mut self, sample: SampleIn) {
        self.newest_ms = sample.timestamp_ms;
        self.newest_value = sample.value;
        if sample.start_ms != 0 {
            self.start_ms = sample.start_ms;
        }
    }

    /// Whether [`SeriesState::check`] of `sample` could depend on the series
    /// being a counter (`nan-on-counter`, `counter-decrease`): when not, the
    /// caller need not find out (which reads the metric name). A sample sent
    /// again at the series' newest timestamp, most of a resent request, does not.
    #[inline]
    pub fn counter_matters(&self, sample: SampleIn) -> bool {
        let nan = sample.value.is_nan() && !sample.stale;
        let lower = sample.timestamp_ms > self.newest_ms && sample.value < self.newest_value;
        nan || lower
    }

    /// The newest timestamp taken, if any.
    pub fn newest_ms(&self) -> Option<i64> {
        (self.newest_ms != i64::MIN).then_some(self.newest_ms)
    }
}
