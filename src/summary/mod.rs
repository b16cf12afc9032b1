//! Run totals, distinct series and the end-of-run summary: recorded from every
//! request handed to a consumer, outside the dashboard, so it is complete
//! whatever state the dashboard is in. The dashboard's store keeps totals and
//! distinct counts of its own with the same parts.

pub mod distinct;
pub mod totals;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::format;
use crate::ingest::model::Batch;
use crate::ingest::server::ReceiverStats;
use crate::text::escape;
use distinct::{DistinctCount, DistinctCounter};
use totals::Totals;

/// Totals of a run and the distinct series it saw, printed at the end.
pub struct RunSummary {
    totals: Totals,
    series: DistinctCounter,
    started: Instant,
    stats: Arc<ReceiverStats>,
}

impl RunSummary {
    /// An empty summary of a run starting now; `stats` counts what the receiver dropped.
    pub fn new(stats: Arc<ReceiverStats>) -> Self {
        RunSummary {
            totals: Totals::default(),
            series: DistinctCounter::default(),
            started: Instant::now(),
            stats,
        }
    }

    /// Adds one request.
    pub fn record(&mut self, batch: &Batch) {
        self.totals.record(batch);
        for s in &batch.data.series {
            self.series.insert(s.label_hash);
        }
    }

    /// The totals so far.
    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// Distinct series so far.
    pub fn distinct_series(&self) -> DistinctCount {
        self.series.count()
    }
}

impl std::fmt::Display for RunSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = &self.totals;
        let c = &t.counts;
        writeln!(
            f,
            "promscope summary after {}",
            format::duration_secs(self.started.elapsed().as_secs_f64())
        )?;
        write!(
            f,
            "  requests    {} accepted, {} rejected",
            t.accepted,
            t.rejected_total()
        )?;
        if !t.rejected.is_empty() {
            write!(f, " ({})", t.rejected_by_reason())?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "  received    {} samples, {} histograms, {} exemplars, {} metadata",
            c.samples, c.histograms, c.exemplars, c.metadata
        )?;
        writeln!(
            f,
            "  bytes       {} compressed, {} decoded",
            format::bytes(t.compressed_bytes as f64),
            format::bytes(t.decoded_bytes as f64)
        )?;
        let distinct = self.series.count();
        write!(f, "  series      {distinct} distinct")?;
        if let DistinctCount::Estimated(_) = distinct {
            write!(f, " (estimated)")?;
        }
        writeln!(f)?;
        let dropped = self.stats.dropped_requests.load(Ordering::Relaxed);
        let dropped_samples = self.stats.dropped_samples.load(Ordering::Relaxed);
        writeln!(
            f,
            "  dropped     {dropped} requests ({dropped_samples} samples) answered 503 while promscope fell behind"
        )?;
        let mut senders: Vec<_> = t.senders.iter().collect();
        senders.sort_by(|a, b| a.0.cmp(b.0));
        write!(f, "  senders     {}", senders.len())?;
        for (sender, s) in senders {
            let proto = s.protocols();
            write!(
                f,
                "\n    {}  {proto}  {} accepted, {} rejected",
                escape::escaped(&sender.to_string()),
                s.accepted,
                s.rejected
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::model::{Outcome, ReceivedSeries, RequestInfo, WriteData};

    /// An accepted request with one series per hash.
    fn batch_of(hashes: impl IntoIterator<Item = u64>) -> Batch {
        let mut data = WriteData::default();
        data.series = hashes
            .into_iter()
            .map(|label_hash| ReceivedSeries {
                labels: 0..0,
                samples: 0..0,
                histograms: 0..0,
                exemplars: 0..0,
                metadata: None,
                created_timestamp_ms: 0,
                label_hash,
            })
            .collect();
        let info = RequestInfo {
            received_at: std::time::SystemTime::now(),
            remote_addr: None,
            path: "/".into(),
            user_agent: None,
            protocol: None,
            compressed_bytes: 0,
            decoded_bytes: 0,
            retry_attempt: None,
            org_id: None,
            remote_write_version: None,
        };
        Batch {
            info,
            outcome: Outcome::Accepted,
            data,
        }
    }

    #[test]
    fn summary_says_when_the_distinct_series_count_is_an_estimate() {
        let mut summary = RunSummary::new(Arc::default());
        summary.record(&batch_of(0..3));
        let exact = summary.to_string();
        assert!(exact.contains("\n  series      3 distinct\n"), "{exact}");
        summary.record(&batch_of(0..2_000_000));
        let estimated = summary.to_string();
        assert!(
            estimated.contains("\n  series      ≈2.0M distinct (estimated)\n"),
            "{estimated}"
        );
    }
}
