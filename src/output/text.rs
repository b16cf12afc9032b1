//! `--format text`: one aligned, readable line per record.

use std::fmt::Write;

use super::budget::{self, Omitted};
use super::{Record, RecordWriter, problems};
use crate::format;
use crate::ingest::model::{Batch, Histogram, HistogramExt, WriteData, shown_status};
use crate::problems::Problem;
use crate::text::escape;
use crate::text::promql;

/// Width of the kind column (`histogram` is the longest).
const KIND: usize = 9;

/// `--format text`'s [`RecordWriter`].
pub struct Text;

impl RecordWriter for Text {
    fn head(out: &mut String, batch: &Batch) {
        if let Some((status, reason, message)) = batch.outcome.rejection() {
            let _ = write!(
                out,
                "{:24} {:KIND$} {} {} from {} ",
                "",
                "REJECTED",
                shown_status(status),
                reason.name(),
                from(batch),
            );
            escape::write_escaped(out, &batch.info.path);
            out.push_str(": ");
            escape::write_escaped(out, &message);
            out.push('\n');
        }
        for w in &batch.data.warnings {
            let _ = write!(out, "{:24} {:KIND$} ", "", "warning");
            escape::write_escaped(out, w);
            out.push('\n');
        }
    }

    fn problem(out: &mut String, data: &WriteData, problem: &Problem) {
        let rule = problem.rule;
        line_start(out, problem.timestamp_ms, "problem");
        let _ = write!(out, "{} {} ", rule.severity().name(), rule.id());
        let (series, refused) = problems::labels_of(data, problem);
        match series {
            Some(range) => promql::write_series(out, data.label_pairs(range)),
            None => out.push_str("(request)"),
        }
        out.push(' ');
        if refused {
            out.push_str("[refused] ");
        }
        escape::write_escaped(out, &problem.message.text());
        if problem.count > 1 {
            let _ = write!(out, " (×{})", problem.count);
        }
        out.push('\n');
    }

    fn not_listed(out: &mut String, batch: &Batch, n: super::NotListed) {
        omitted_start(out, batch);
        let _ = writeln!(
            out,
            " lists {} problems at most: {} more firings on {} more series are counted, not listed",
            crate::problems::MAX_PROBLEMS,
            n.firings,
            n.series
        );
    }

    fn record(out: &mut String, data: &WriteData, record: Record<'_>) {
        write_record(out, data, record);
    }

    fn omitted(out: &mut String, batch: &Batch, o: &Omitted) {
        omitted_start(out, batch);
        let _ = writeln!(
            out,
            " reached its output limit of {} ({}× what it takes in memory, at least {}); not printed: {} samples, {} histograms, {} exemplars and {} metadata entries of {} series, and {} problems",
            format::bytes(o.limit_bytes as f64),
            budget::OUTPUT_PER_HELD_BYTE,
            format::bytes(budget::MIN_OUTPUT_BYTES as f64),
            o.samples,
            o.histograms,
            o.exemplars,
            o.metadata,
            o.series,
            o.problems,
        );
    }
}

/// `omitted this request from ADDR PATH`, an `omitted` line's start.
fn omitted_start(out: &mut String, batch: &Batch) {
    let _ = write!(out, "{:24} {:KIND$} this request ", "", "omitted");
    if let Some(addr) = batch.info.remote_addr {
        let _ = write!(out, "from {addr} ");
    }
    escape::write_escaped(out, &batch.info.path);
}

/// The sender's address, or nothing when not known.
fn from(batch: &Batch) -> String {
    batch
        .info
        .remote_addr
        .map(|a| a.to_string())
        .unwrap_or_default()
}

/// A native histogram's fields: `count=… sum=… schema=… zero=…@…` and its
/// buckets (as headless text output and the dashboard's request view show it).
pub fn write_histogram(out: &mut String, h: &Histogram) {
    let _ = write!(
        out,
        "count={} sum={} schema={} zero={}@{}",
        format::value(h.total_count()),
        format::value(h.sum),
        h.schema,
        format::value(h.zero_count_value()),
        format::value(h.zero_threshold),
    );
    let buckets = |b: Vec<f64>| {
        b.iter()
            .map(|v| format::value(*v))
            .collect::<Vec<_>>()
            .join(",")
    };
    if !h.positive_spans.is_empty() {
        let _ = write!(out, " positive=[{}]", buckets(h.positive_buckets()));
    }
    if !h.negative_spans.is_empty() {
        let _ = write!(out, " negative=[{}]", buckets(h.negative_buckets()));
    }
    if !h.custom_values.is_empty() {
        let _ = write!(out, " bounds=[{}]", buckets(h.custom_values.clone()));
    }
}

fn line_start(out: &mut String, timestamp_ms: Option<i64>, kind: &str) {
    let ts = timestamp_ms.map(format::timestamp).unwrap_or_default();
    let _ = write!(out, "{ts:24} {kind:KIND$} ");
}

fn write_record(out: &mut String, data: &WriteData, record: Record<'_>) {
    match record {
        Record::Sample { series, sample } => {
            line_start(out, Some(sample.timestamp_ms), "sample");
            promql::write_series(out, data.label_pairs(series.labels.clone()));
            out.push_str("  ");
            format::write_value(out, sample.value);
        }
        Record::Histogram {
            series,
            histogram: h,
        } => {
            line_start(out, Some(h.timestamp), "histogram");
            promql::write_series(out, data.label_pairs(series.labels.clone()));
            out.push_str("  ");
            write_histogram(out, h);
        }
        Record::Exemplar { series, exemplar } => {
            line_start(out, Some(exemplar.timestamp_ms), "exemplar");
            promql::write_series(out, data.label_pairs(series.labels.clone()));
            out.push_str("  ");
            format::write_value(out, exemplar.value);
            out.push(' ');
            promql::write_series(out, data.label_pairs(exemplar.labels.clone()));
        }
        Record::Metadata(m) => {
            line_start(out, None, "metadata");
            escape::write_escaped(out, data.str(m.family));
            let _ = write!(out, " {}", m.metric_type.name());
            if !data.str(m.unit).is_empty() {
                out.push_str(" unit=");
                escape::write_escaped(out, data.str(m.unit));
            }
            out.push(' ');
            promql::write_quoted(out, data.str(m.help));
        }
    }
    out.push('\n');
}
