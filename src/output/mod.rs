//! Headless mode (`--no-tui`): a consumer of the receiver's channel that prints
//! records as text or JSON lines, or only a status line, and a summary at the end.

mod json;
mod text;

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use crate::format;
use crate::ingest::model::{Batch, Exemplar, Histogram, Metadata, Sample, Series, WriteData};
use crate::ingest::server::ReceiverStats;
use crate::store::distinct::{DistinctCount, DistinctCounter};
use crate::store::totals::Totals;
use crate::text::escape;

/// What headless mode prints per record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One aligned line per record.
    Text,
    /// One JSON object per line.
    Json,
    /// No records; a status line on stderr every few seconds.
    None,
}

/// One printable record of a request.
pub enum Record<'a> {
    /// A float sample.
    Sample {
        /// Its series.
        series: &'a Series,
        /// The sample.
        sample: &'a Sample,
    },
    /// A native histogram sample.
    Histogram {
        /// Its series.
        series: &'a Series,
        /// The histogram.
        histogram: &'a Histogram,
    },
    /// An exemplar.
    Exemplar {
        /// Its series.
        series: &'a Series,
        /// The exemplar.
        exemplar: &'a Exemplar,
    },
    /// A metadata entry.
    Metadata(&'a Metadata),
}

/// RW2 repeats metadata on every series of every request; print it only when it
/// is new or changed for its metric (RW1 metadata messages are always printed).
#[derive(Default)]
pub struct MetadataDedup {
    seen: std::collections::HashMap<String, (crate::ingest::model::MetricType, String, String)>,
}

impl MetadataDedup {
    fn is_new(&mut self, data: &WriteData, m: &Metadata) -> bool {
        let family = data.str(m.family);
        let (help, unit) = (data.str(m.help), data.str(m.unit));
        match self.seen.get(family) {
            Some((t, h, u)) if *t == m.metric_type && h == help && u == unit => false,
            _ => {
                self.seen.insert(
                    family.to_owned(),
                    (m.metric_type, help.to_owned(), unit.to_owned()),
                );
                true
            }
        }
    }
}

/// Calls `f` with each record of a request, in request order.
pub fn records_of<'a>(
    data: &'a WriteData,
    dedup: &mut MetadataDedup,
    mut f: impl FnMut(Record<'a>),
) {
    for m in &data.metadata {
        f(Record::Metadata(m));
    }
    for series in &data.series {
        if let Some(m) = series.metadata.as_ref().filter(|m| dedup.is_new(data, m)) {
            f(Record::Metadata(m));
        }
        for sample in data.samples_of(series) {
            f(Record::Sample { series, sample });
        }
        for histogram in data.histograms_of(series) {
            f(Record::Histogram { series, histogram });
        }
        for exemplar in data.exemplars_of(series) {
            f(Record::Exemplar { series, exemplar });
        }
    }
}

/// How the headless consumer ended.
pub enum Ended {
    /// Asked to stop: the summary should be printed.
    Shutdown(Box<Summary>),
    /// Standard output was closed (e.g. `| head`): exit quietly.
    PipeClosed,
}

/// What the end-of-run summary reports.
pub struct Summary {
    totals: Totals,
    distinct_series: DistinctCount,
    started: Instant,
    stats: Arc<ReceiverStats>,
}

impl Summary {
    /// A summary of a run that started at `started`.
    pub fn new(
        totals: Totals,
        distinct_series: DistinctCount,
        started: Instant,
        stats: Arc<ReceiverStats>,
    ) -> Self {
        Summary {
            totals,
            distinct_series,
            started,
            stats,
        }
    }
}

impl std::fmt::Display for Summary {
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
        write!(f, "  series      {} distinct", self.distinct_series)?;
        if let DistinctCount::Estimated(_) = self.distinct_series {
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

/// How often `--format none` prints its status line.
const STATUS_EVERY: Duration = Duration::from_secs(5);
/// Output is written in chunks of about this size (or when the queue is empty).
const FLUSH_BYTES: usize = 256 << 10;

/// Consumes batches until `shutdown` turns true (then drains the queue) or
/// stdout is closed.
pub async fn run(
    mut rx: mpsc::Receiver<Batch>,
    format: Format,
    stats: Arc<ReceiverStats>,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<Ended> {
    let mut totals = Totals::default();
    let mut series = DistinctCounter::default();
    let mut dedup = MetadataDedup::default();
    let mut out = String::with_capacity(FLUSH_BYTES * 2);
    let started = Instant::now();
    let mut status =
        tokio::time::interval_at(tokio::time::Instant::now() + STATUS_EVERY, STATUS_EVERY);
    let mut last_status = (Instant::now(), 0u64);
    loop {
        tokio::select! {
            biased;
            batch = rx.recv() => {
                let Some(batch) = batch else { break };
                totals.record(&batch);
                for s in &batch.data.series {
                    series.insert(s.label_hash);
                }
                match format {
                    Format::Text => text::write_batch(&mut out, &batch, &mut dedup),
                    Format::Json => json::write_batch(&mut out, &batch, &mut dedup),
                    Format::None => {}
                }
                if (out.len() >= FLUSH_BYTES || rx.is_empty()) && !flush(&mut out)? {
                    return Ok(Ended::PipeClosed);
                }
            }
            _ = status.tick(), if format == Format::None => {
                let now = Instant::now();
                let samples = totals.counts.samples + totals.counts.histograms;
                let rate = (samples - last_status.1) as f64 / (now - last_status.0).as_secs_f64();
                last_status = (now, samples);
                eprintln!(
                    "promscope: {} requests ({} rejected), {} samples, {}/s, {} series",
                    totals.accepted + totals.rejected_total(),
                    totals.rejected_total(),
                    format::count(samples as f64),
                    format::count(rate),
                    series.count()
                );
            }
            _ = shutdown.changed() => {
                // Stop taking new requests but keep what is already queued.
                rx.close();
            }
        }
    }
    if !flush(&mut out)? {
        return Ok(Ended::PipeClosed);
    }
    Ok(Ended::Shutdown(Box::new(Summary::new(
        totals,
        series.count(),
        started,
        stats,
    ))))
}

/// Writes `out` to stdout; `Ok(false)` when stdout is a closed pipe.
fn flush(out: &mut String) -> io::Result<bool> {
    if out.is_empty() {
        return Ok(true);
    }
    let result = tokio::task::block_in_place(|| {
        let mut stdout = io::stdout().lock();
        stdout
            .write_all(out.as_bytes())
            .and_then(|()| stdout.flush())
    });
    out.clear();
    match result {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary_with(series: &DistinctCounter) -> String {
        let stats = Arc::new(ReceiverStats::default());
        Summary::new(Totals::default(), series.count(), Instant::now(), stats).to_string()
    }

    #[test]
    fn summary_says_when_the_distinct_series_count_is_an_estimate() {
        let mut series = DistinctCounter::default();
        for h in 0..3 {
            series.insert(h);
        }
        let exact = summary_with(&series);
        assert!(exact.contains("\n  series      3 distinct\n"), "{exact}");
        for h in 0..2_000_000 {
            series.insert(h);
        }
        let estimated = summary_with(&series);
        assert!(
            estimated.contains("\n  series      ≈2.0M distinct (estimated)\n"),
            "{estimated}"
        );
    }
}
