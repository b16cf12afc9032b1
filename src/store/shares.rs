//! A series' samples per second: its share of its metric's rate, read over
//! the same seconds, so that a metric's series add up to it at every second.
//!
//! Read on its own (from the gaps between its arrivals), a series fell to a
//! third of its metric's rate share within 4 s of its sender stopping (1 s
//! gaps: over the silence so far), while the metric's rate, over whole
//! intervals or between a jittery sender's requests, fell over 10 s or more.

use std::sync::{Mutex, PoisonError};

use super::{Series, Store};

/// The sum of a metric's series' samples in the seconds its rate was last
/// read over, for its series and for those matching the filter: a drill-down
/// of 100 000 series asks for each one's share every frame.
#[derive(Debug, Default)]
pub struct SharesMemo(Mutex<[Option<(SharesKey, f64)>; 2]>);

/// What a sum of series' samples depends on: the seconds, the samples the
/// metric received (its series' arrivals) and its version (its series and
/// their filter verdicts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SharesKey {
    counted: (i64, i64),
    samples_total: u64,
    version: u64,
}

impl Store {
    /// Samples per second of `series` at `now_ms`, read over `window` s at
    /// least (`None`: not yet known): the rate of its metric (of the
    /// metric's matching series, for one that matches while those are
    /// counted apart and their rate is known) times the share of the samples
    /// counted that it brought, as its arrivals tell.
    pub fn series_per_second(&self, series: &Series, now_ms: i64, window: i64) -> Option<f64> {
        let metric = self.metrics.get(series.metric)?;
        let (rate, matching_only) = metric.rate_shared_by(series.matched);
        let (reading, matching_only) = match rate.reading(now_ms, window) {
            Some(reading) => (reading, matching_only),
            // The matching series' rate, counted apart since the filter was
            // set, is not yet known: a share of the metric's own. (Of theirs
            // only, every series of a job filtered out of a steady 5 s
            // sender read `…/s` for over a minute after the filter was set.)
            None if matching_only => (metric.rate.reading(now_ms, window)?, false),
            None => return None,
        };
        let samples_in = |s: &Series| {
            s.rate
                .samples_in(s.last_arrival_ms, reading.counted, s.samples_total)
        };
        let own = samples_in(series);
        if own == 0.0 {
            return Some(0.0);
        }
        let key = SharesKey {
            counted: reading.counted,
            samples_total: metric.samples_total,
            version: metric.version,
        };
        let mut memo = metric
            .shares
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let slot = &mut memo[usize::from(matching_only)];
        let all = match *slot {
            Some((k, sum)) if k == key => sum,
            _ => {
                let sum = self
                    .series_of(metric)
                    .filter(|(_, s)| s.matched || !matching_only)
                    .map(|(_, s)| samples_in(s))
                    .sum();
                *slot = Some((key, sum));
                sum
            }
        };
        // `all` holds `own`: at most the whole rate.
        Some(reading.per_second * (own / all).min(1.0))
    }
}
