//! Headless mode (`--no-tui`): a consumer of the receiver's channel that prints
//! records as text or JSON lines, or only a status line, and a summary at the end.

pub mod budget;
pub mod cardinality;
pub mod json;
pub mod new_file;
pub mod problems;
mod text;

pub use text::write_histogram;

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::io::{self, Write};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use self::budget::{Omitted, OutputBudget, Stop};
use crate::format;
use crate::ingest::model::{
    Batch, Exemplar, Histogram, Metadata, MetricType, ReceivedSeries, Sample, WriteData,
};
use crate::ingest::queue::QueueReceiver;
use crate::problems::Problem;
use crate::summary::RunSummary;

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
        series: &'a ReceivedSeries,
        sample: &'a Sample,
    },
    /// A native histogram sample.
    Histogram {
        series: &'a ReceivedSeries,
        histogram: &'a Histogram,
    },
    Exemplar {
        series: &'a ReceivedSeries,
        exemplar: &'a Exemplar,
    },
    /// A metadata entry.
    Metadata(&'a Metadata),
}

/// RW2 repeats metadata on every series of every request; print it only when it
/// is new or changed for its metric (RW1 metadata messages are always printed).
///
/// A sender controls how many metric names there are, so each is remembered as
/// two hashes (name; type, help and unit), for at most [`DEDUP_METRICS`] names
/// (about [`DEDUP_BYTES`]). When a new name finds it full it starts over: the
/// metadata of names seen before then prints once more.
#[derive(Default)]
pub struct MetadataDedup {
    seen: HashMap<u64, u64, crate::hashing::Keyed>,
}

/// Memory [`MetadataDedup`] may take.
const DEDUP_BYTES: usize = 16 << 20;
/// Names [`MetadataDedup`] remembers: a hash table bucket holds 16 bytes and a
/// control byte, and tables grow by doubling before they are full.
const DEDUP_METRICS: usize = DEDUP_BYTES / 32;

impl MetadataDedup {
    /// Whether this metadata is new or changed for `family` (and remembers it).
    fn is_new(&mut self, family: &str, metric_type: MetricType, help: &str, unit: &str) -> bool {
        let hasher = crate::hashing::state(0x6d65_7461);
        let name = hasher.hash_one(family);
        let content = hasher.hash_one((metric_type, help, unit));
        if self.seen.get(&name) == Some(&content) {
            return false;
        }
        if self.seen.len() >= DEDUP_METRICS && !self.seen.contains_key(&name) {
            self.seen.clear();
        }
        self.seen.insert(name, content);
        true
    }
}

/// Calls `f` with each record of a request, in request order, until it
/// breaks; then returns where it stopped (the last record `f` was given).
pub fn records_of<'a>(
    data: &'a WriteData,
    dedup: &mut MetadataDedup,
    mut f: impl FnMut(Record<'a>) -> ControlFlow<()>,
) -> Option<Stop> {
    for (i, m) in data.metadata.iter().enumerate() {
        if f(Record::Metadata(m)).is_break() {
            return Some(Stop::Metadata(i + 1));
        }
    }
    for (s, series) in data.series.iter().enumerate() {
        let stop = |step, index| {
            Some(Stop::Series {
                series: s,
                step,
                index,
            })
        };
        let new = |m: &&Metadata| {
            dedup.is_new(
                data.str(m.family),
                m.metric_type,
                data.str(m.help),
                data.str(m.unit),
            )
        };
        if let Some(m) = series.metadata.as_ref().filter(new)
            && f(Record::Metadata(m)).is_break()
        {
            return stop(0, 0);
        }
        for (i, sample) in data.samples_of(series).iter().enumerate() {
            if f(Record::Sample { series, sample }).is_break() {
                return stop(1, i + 1);
            }
        }
        for (i, histogram) in data.histograms_of(series).iter().enumerate() {
            if f(Record::Histogram { series, histogram }).is_break() {
                return stop(2, i + 1);
            }
        }
        for (i, exemplar) in data.exemplars_of(series).iter().enumerate() {
            if f(Record::Exemplar { series, exemplar }).is_break() {
                return stop(3, i + 1);
            }
        }
    }
    None
}

/// Appends the records of `batch` to `out` in `format` (nothing for
/// [`Format::None`]), up to its output limit ([`budget::limit_of`]).
pub fn write_batch(out: &mut String, format: Format, batch: &Batch, dedup: &mut MetadataDedup) {
    write_batch_spilling(out, format, batch, dedup, &mut |_| {});
}

/// [`write_batch`], handing `out` to `spill` (which empties it) whenever it
/// holds [`FLUSH_BYTES`] or more: what one request prints is not bounded by its
/// size (a label set of a MiB is printed with each of its series' samples), so
/// it is written out as it is formatted, never held whole; and it stops at the
/// request's output limit with a record of what was left out.
pub fn write_batch_spilling(
    out: &mut String,
    format: Format,
    batch: &Batch,
    dedup: &mut MetadataDedup,
    spill: &mut dyn FnMut(&mut String),
) -> Option<Omitted> {
    write_batch_within(out, format, batch, dedup, spill, budget::limit_of(batch))
}

/// [`write_batch_spilling`] with an output limit of `limit` bytes.
fn write_batch_within(
    out: &mut String,
    format: Format,
    batch: &Batch,
    dedup: &mut MetadataDedup,
    spill: &mut dyn FnMut(&mut String),
    limit: usize,
) -> Option<Omitted> {
    // A repeat counted in passing is printed by the entry its while ends with.
    if !batch.info.is_listed() {
        return None;
    }
    let mut budget = OutputBudget::new(limit, out, FLUSH_BYTES, spill);
    match format {
        Format::Text => write_with::<text::Text>(out, batch, dedup, &mut budget),
        Format::Json => write_with::<json::Json>(out, batch, dedup, &mut budget),
        Format::None => None,
    }
}

/// How a format writes each part of a request.
trait RecordWriter {
    /// What is said of the request itself (its rejection, forward mode's
    /// request record) and its warnings.
    fn head(out: &mut String, batch: &Batch);
    /// One problem the rules found.
    fn problem(out: &mut String, data: &WriteData, problem: &Problem);
    /// What the rules found past the problems a request lists: `firings` on
    /// `series` written series (see [`NotListed`]).
    fn not_listed(out: &mut String, batch: &Batch, not_listed: NotListed);
    /// One record of what it carried.
    fn record(out: &mut String, data: &WriteData, record: Record<'_>);
    /// What was left out at the output limit.
    fn omitted(out: &mut String, batch: &Batch, omitted: &Omitted);
}

/// Writes `batch` a line per record with `W` until its output limit; what
/// was left out, if anything.
fn write_with<W: RecordWriter>(
    out: &mut String,
    batch: &Batch,
    dedup: &mut MetadataDedup,
    budget: &mut OutputBudget<'_>,
) -> Option<Omitted> {
    W::head(out, batch);
    // What was written, also when part of the request was rejected.
    let data = &batch.data;
    for (i, problem) in data.problems.iter().enumerate() {
        W::problem(out, data, problem);
        if budget.after_record(out).is_break() {
            let left = data.problems.len() - i - 1;
            let omitted = Omitted::from_problems(data, left, budget.limit());
            return write_omitted::<W>(out, batch, omitted);
        }
    }
    if let Some(not_listed) = NotListed::of(data) {
        W::not_listed(out, batch, not_listed);
    }
    let stop = records_of(data, dedup, |record| {
        W::record(out, data, record);
        budget.after_record(out)
    });
    let omitted = Omitted::after(data, stop?, 0, budget.limit());
    write_omitted::<W>(out, batch, omitted)
}

/// Firings of a request past the [`crate::problems::MAX_PROBLEMS`] problems it
/// lists: counted (in the summary too), not listed one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotListed {
    /// Firings beyond those of the problems listed.
    pub firings: u64,
    /// Written series they fired on that no listed problem names.
    pub series: usize,
}

impl NotListed {
    /// What `data`'s problems do not list, if anything.
    pub fn of(data: &WriteData) -> Option<NotListed> {
        let listed: u64 = data.problems.iter().map(|p| u64::from(p.count)).sum();
        let firings = data.problem_counts().total().saturating_sub(listed);
        (firings > 0).then_some(NotListed {
            firings,
            series: data.uncarried.len(),
        })
    }
}

/// Writes `W`'s record of what was left out, when anything was.
fn write_omitted<W: RecordWriter>(
    out: &mut String,
    batch: &Batch,
    omitted: Omitted,
) -> Option<Omitted> {
    if omitted.records() == 0 {
        return None;
    }
    W::omitted(out, batch, &omitted);
    Some(omitted)
}

/// How the headless consumer ended.
pub enum HeadlessExit {
    /// Asked to stop: the summary should be printed, and the cardinality
    /// report if one was asked for.
    Shutdown(
        Box<RunSummary>,
        Option<Box<cardinality::CardinalityTracker>>,
    ),
    /// Standard output was closed (e.g. `| head`): exit quietly.
    PipeClosed,
}

/// How often `--format none` prints its status line.
const STATUS_EVERY: Duration = Duration::from_secs(5);
/// Output is written in chunks of about this size (or when the queue is empty).
const FLUSH_BYTES: usize = 256 << 10;

/// Consumes batches, recording them in `summary` (and in `report`, when a
/// cardinality report was asked for), until `shutdown` turns true (then
/// prints what is queued: the receiver acknowledged it) or stdout (stderr for
/// `--format none`) is closed.
pub async fn print_batches(
    mut rx: QueueReceiver,
    format: Format,
    (mut summary, mut report): (RunSummary, Option<Box<cardinality::CardinalityTracker>>),
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<HeadlessExit> {
    let mut dedup = MetadataDedup::default();
    let mut out = String::with_capacity(FLUSH_BYTES * 2);
    let mut status =
        tokio::time::interval_at(tokio::time::Instant::now() + STATUS_EVERY, STATUS_EVERY);
    let mut last_status = (Instant::now(), 0u64);
    loop {
        tokio::select! {
            biased;
            batch = rx.recv() => {
                let Some(batch) = batch else { break };
                let batch = batch.into_batch();
                summary.record(&batch);
                if let Some(report) = &mut report {
                    report.record(&batch);
                }
                // Once a flush fails, the rest of the batch is formatted for nothing.
                let mut failed = Ok(true);
                let mut spill = |out: &mut String| match &failed {
                    Ok(true) => failed = flush(out),
                    _ => out.clear(),
                };
                let omitted = write_batch_spilling(&mut out, format, &batch, &mut dedup, &mut spill);
                if let Some(omitted) = omitted {
                    summary.record_output_cut(omitted.records());
                }
                if !failed? {
                    return Ok(HeadlessExit::PipeClosed);
                }
                if (out.len() >= FLUSH_BYTES || rx.is_empty()) && !flush(&mut out)? {
                    return Ok(HeadlessExit::PipeClosed);
                }
            }
            _ = status.tick(), if format == Format::None => {
                let now = Instant::now();
                let line = status_line(&summary, &mut last_status, now);
                match writeln!(io::stderr().lock(), "{line}") {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(HeadlessExit::PipeClosed),
                    Err(e) => return Err(e),
                }
            }
            _ = shutdown.changed() => {
                // Stop taking new requests but keep what is already queued.
                rx.close();
            }
        }
    }
    if !flush(&mut out)? {
        return Ok(HeadlessExit::PipeClosed);
    }
    Ok(HeadlessExit::Shutdown(Box::new(summary), report))
}

/// `--format none`'s line: requests, samples and their rate since `last`, series.
fn status_line(summary: &RunSummary, last: &mut (Instant, u64), now: Instant) -> String {
    let totals = summary.totals();
    let samples = totals.counts.samples + totals.counts.histograms;
    let rate = (samples - last.1) as f64 / (now - last.0).as_secs_f64();
    *last = (now, samples);
    format!(
        "promscope: {} requests ({} rejected), {} samples, {}/s, {} series",
        totals.accepted + totals.rejected_total(),
        totals.rejected_total(),
        format::count(samples as f64),
        format::count(rate),
        summary.distinct_series()
    )
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

    #[test]
    fn firings_past_the_problems_listed_are_said_to_be_counted() {
        use crate::ingest::check::Checker;
        use crate::ingest::model::{Outcome, Protocol, RequestInfo, Sample};
        use crate::problems::MAX_PROBLEMS;
        let mut data = WriteData::default();
        let n = MAX_PROBLEMS + 10;
        for i in 0..n {
            let sample = Sample {
                value: 1.0,
                timestamp_ms: 1000,
                start_timestamp_ms: 0,
            };
            let job = format!("j{i}");
            data.push_series(&[("__name__", "up"), ("job", &job)], &[sample, sample], &[]);
        }
        Checker::default().check(&mut data, Some(Protocol::V1), 1000);
        let batch = Batch {
            info: RequestInfo::default(),
            outcome: Outcome::Accepted,
            data,
        };
        assert_eq!(
            NotListed::of(&batch.data),
            Some(NotListed {
                firings: 10,
                series: 10
            })
        );
        let mut dedup = MetadataDedup::default();
        let mut write = |format| {
            let (mut out, mut all) = (String::new(), String::new());
            let mut spill = |out: &mut String| all.push_str(&std::mem::take(out));
            write_batch_spilling(&mut out, format, &batch, &mut dedup, &mut spill);
            all + &out
        };
        let out = write(Format::Json);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[MAX_PROBLEMS - 1].starts_with(r#"{"kind":"problem""#));
        let expected = format!(
            r#"{{"kind":"omitted","reason":"max_problems","max_problems":{MAX_PROBLEMS},"firings":10,"series":10,"#
        );
        assert!(
            lines[MAX_PROBLEMS].starts_with(&expected),
            "{}",
            lines[MAX_PROBLEMS]
        );
        let out = write(Format::Text);
        let line = out.lines().nth(MAX_PROBLEMS).unwrap_or_default();
        assert!(
            line.contains("10 more firings on 10 more series are counted, not listed"),
            "{line}"
        );
        // Nothing said when everything is listed.
        let mut small = WriteData::default();
        small.push_series(&[("__name__", "up")], &[], &[]);
        assert_eq!(NotListed::of(&small), None);
    }

    #[test]
    fn metadata_prints_when_new_or_changed() {
        let mut dedup = MetadataDedup::default();
        let counter = MetricType::Counter;
        assert!(dedup.is_new("http_requests_total", counter, "Requests.", ""));
        assert!(!dedup.is_new("http_requests_total", counter, "Requests.", ""));
        assert!(dedup.is_new("http_requests_total", counter, "Requests served.", ""));
        assert!(dedup.is_new(
            "http_requests_total",
            MetricType::Gauge,
            "Requests served.",
            ""
        ));
        assert!(dedup.is_new(
            "http_requests_total",
            MetricType::Gauge,
            "Requests served.",
            "1"
        ));
        assert!(dedup.is_new("up", counter, "Requests.", ""));
    }

    #[test]
    fn remembering_metric_names_stays_within_its_bytes() {
        let mut dedup = MetadataDedup::default();
        // Only hashes are kept, so the length of names and help does not matter.
        let help = "Help.";
        for i in 0..DEDUP_METRICS + 10 {
            assert!(dedup.is_new(&format!("metric_{i}"), MetricType::Gauge, help, ""));
        }
        assert!(dedup.seen.len() <= DEDUP_METRICS);
        let bucket = std::mem::size_of::<(u64, u64)>() + 1;
        assert!(dedup.seen.capacity() * bucket <= DEDUP_BYTES * 9 / 8);
        // Started over: the first names print again, once.
        assert!(dedup.is_new("metric_0", MetricType::Gauge, help, ""));
        assert!(!dedup.is_new("metric_0", MetricType::Gauge, help, ""));
    }
}
