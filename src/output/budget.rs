//! What one request may print: a sender controls how much text its request
//! turns into (a label of 16 MiB is printed again with each of a million
//! samples, which takes hours), so each request's records stop at a limit
//! proportional to what the request takes in memory, and one more record says
//! what was left out. Nothing is cut in the middle of a record: JSON lines
//! stay whole.

use std::ops::ControlFlow;

use crate::ingest::model::{Batch, ReceivedSeries, WriteData};
use crate::ingest::queue;

/// Output any request may print, however small: one of Prometheus's requests
/// (2,000 samples) with label sets of 32 KiB each prints whole.
pub const MIN_OUTPUT_BYTES: usize = 64 << 20;
/// Beyond [`MIN_OUTPUT_BYTES`], output per byte the request holds in memory
/// (its decoded body and what was decoded from it).
pub const OUTPUT_PER_HELD_BYTE: usize = 4;

/// The output limit of `batch`, in bytes.
pub fn limit_of(batch: &Batch) -> usize {
    MIN_OUTPUT_BYTES.max(queue::held_bytes(batch).saturating_mul(OUTPUT_PER_HELD_BYTE))
}

/// Counts a request's output against its limit, and hands full chunks of it
/// to be written.
pub struct OutputBudget<'s> {
    limit: usize,
    /// Bytes written out of `out` for this request so far.
    spilled: usize,
    /// Where this request's output starts in `out`.
    start: usize,
    flush_bytes: usize,
    spill: &'s mut dyn FnMut(&mut String),
}

impl<'s> OutputBudget<'s> {
    /// A budget of `limit` bytes for output appended to `out` from now on;
    /// `out` goes to `spill` (which empties it) once it holds `flush_bytes`.
    pub fn new(
        limit: usize,
        out: &str,
        flush_bytes: usize,
        spill: &'s mut dyn FnMut(&mut String),
    ) -> Self {
        OutputBudget {
            limit,
            spilled: 0,
            start: out.len(),
            flush_bytes,
            spill,
        }
    }

    /// The limit, in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Called after each record: spills `out` when full; `Break` once the
    /// request's output reached its limit.
    pub fn after_record(&mut self, out: &mut String) -> ControlFlow<()> {
        let printed = self.spilled + out.len().saturating_sub(self.start);
        if out.len() >= self.flush_bytes {
            self.spilled = printed;
            self.start = 0;
            (self.spill)(out);
        }
        if printed >= self.limit {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// What a request's output left out when it reached its limit.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Omitted {
    /// The limit it reached, in bytes.
    pub limit_bytes: usize,
    /// Problem records not printed.
    pub problems: usize,
    /// Series with records not printed.
    pub series: usize,
    /// Float samples not printed.
    pub samples: usize,
    /// Native histograms not printed.
    pub histograms: usize,
    /// Exemplars not printed.
    pub exemplars: usize,
    /// Metadata entries not looked at (RW 2.0's repeats, which would not have
    /// printed, included).
    pub metadata: usize,
}

/// Where the records of a request stopped: the last record printed.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    /// The `n`th RW 1.0 metadata message (from 1).
    Metadata(usize),
    /// In the series at `series`, after its metadata (`step` 0) or after
    /// the `index`th (from 1) record of its samples (`step` 1), histograms (2)
    /// or exemplars (3).
    Series {
        series: usize,
        step: usize,
        index: usize,
    },
}

impl Omitted {
    /// What is left of `data`'s records after `stop`, besides `problems`
    /// problem records, under a limit of `limit_bytes`.
    pub fn after(data: &WriteData, stop: Stop, problems: usize, limit_bytes: usize) -> Self {
        let mut left = Omitted {
            limit_bytes,
            problems,
            ..Omitted::default()
        };
        let next_series = match stop {
            Stop::Metadata(n) => {
                left.metadata += data.metadata.len().saturating_sub(n);
                0
            }
            Stop::Series {
                series,
                step,
                index,
            } => {
                if let Some(s) = data.series.get(series) {
                    left.add_series(data, s, step, index);
                }
                series + 1
            }
        };
        for s in data.series.get(next_series..).unwrap_or(&[]) {
            left.metadata += usize::from(s.metadata.is_some());
            left.add_series(data, s, 1, 0);
        }
        left
    }

    /// Problems alone left out (the records after them are all left too).
    pub fn from_problems(data: &WriteData, problems: usize, limit_bytes: usize) -> Self {
        Omitted::after(data, Stop::Metadata(0), problems, limit_bytes)
    }

    /// Adds what `s` has from `step` on, `index` records of that step printed.
    fn add_series(&mut self, data: &WriteData, s: &ReceivedSeries, step: usize, index: usize) {
        let lens = [
            data.samples_of(s).len(),
            data.histograms_of(s).len(),
            data.exemplars_of(s).len(),
        ];
        let mut left = [0; 3];
        for (i, len) in lens.into_iter().enumerate() {
            let step_here = i + 1;
            left[i] = match step_here.cmp(&step) {
                std::cmp::Ordering::Less => 0,
                std::cmp::Ordering::Equal => len.saturating_sub(index),
                std::cmp::Ordering::Greater => len,
            };
        }
        self.samples += left[0];
        self.histograms += left[1];
        self.exemplars += left[2];
        if left.iter().any(|&n| n > 0) {
            self.series += 1;
        }
    }

    /// Records left out, of every kind.
    pub fn records(&self) -> usize {
        self.problems + self.samples + self.histograms + self.exemplars + self.metadata
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Format, MetadataDedup, write_batch_within};
    use super::*;
    use crate::ingest::model::Sample;

    fn samples(n: usize) -> Vec<Sample> {
        (0..n)
            .map(|i| Sample {
                timestamp_ms: i as i64,
                value: 1.0,
                start_timestamp_ms: 0,
            })
            .collect()
    }

    #[test]
    fn what_is_left_counts_from_the_stop_on() {
        let mut data = WriteData::default();
        data.push_series(&[("__name__", "a")], &samples(5), &[]);
        data.push_series(&[("__name__", "b")], &samples(3), &[]);
        data.push_series(&[("__name__", "c")], &samples(0), &[]);
        let stop = Stop::Series {
            series: 0,
            step: 1,
            index: 2,
        };
        let left = Omitted::after(&data, stop, 0, 10);
        assert_eq!((left.samples, left.series), (6, 2));
        let last = Stop::Series {
            series: 1,
            step: 1,
            index: 3,
        };
        assert_eq!(Omitted::after(&data, last, 0, 10).records(), 0);
        let before = Omitted::from_problems(&data, 4, 10);
        assert_eq!((before.problems, before.samples, before.series), (4, 8, 2));
    }

    #[test]
    fn the_budget_breaks_once_the_limit_is_printed_and_spills_full_chunks() {
        let mut chunks = Vec::new();
        let mut spill = |out: &mut String| {
            chunks.push(out.len());
            out.clear();
        };
        let mut out = String::from("earlier request's line\n");
        let mut budget = OutputBudget::new(25, &out, 16, &mut spill);
        out.push_str("0123456789\n");
        assert!(budget.after_record(&mut out).is_continue(), "11 of 25");
        out.push_str("0123456789\n");
        assert!(budget.after_record(&mut out).is_continue(), "22 of 25");
        out.push_str("0123456789\n");
        assert!(budget.after_record(&mut out).is_break(), "33 of 25");
        assert_eq!(chunks, [34, 22]);
    }

    /// The lines `format` writes for `batch` under `limit`.
    fn print(format: Format, batch: &Batch, limit: usize) -> Vec<String> {
        let mut printed = String::new();
        let mut out = String::new();
        let mut spill = |out: &mut String| {
            printed.push_str(out);
            out.clear();
        };
        let mut dedup = MetadataDedup::default();
        write_batch_within(&mut out, format, batch, &mut dedup, &mut spill, limit);
        printed.push_str(&out);
        printed.lines().map(str::to_owned).collect()
    }

    #[test]
    fn each_format_stops_at_the_limit_with_a_line_of_what_is_left() {
        let mut data = WriteData::default();
        let wide = "w".repeat(1000);
        data.push_series(&[("__name__", "a"), ("x", &wide)], &samples(100), &[]);
        data.push_series(&[("__name__", "b")], &samples(7), &[]);
        let batch = Batch {
            info: Default::default(),
            outcome: crate::ingest::model::Outcome::Accepted,
            data,
        };
        // Whole: 107 records.
        assert_eq!(print(Format::Json, &batch, usize::MAX).len(), 107);
        // Lines of ~1 KiB: the 9th passes 9,000 bytes.
        let json = print(Format::Json, &batch, 9_000);
        assert_eq!(json.len(), 10, "{json:?}");
        let omitted: serde_json::Value = serde_json::from_str(&json[9]).unwrap();
        assert_eq!(
            omitted,
            serde_json::json!({"kind":"omitted","reason":"output_limit","limit_bytes":9_000,
                "series":2,"samples":98,"histograms":0,"exemplars":0,"metadata":0,"problems":0,"path":""})
        );
        for line in &json[..9] {
            serde_json::from_str::<serde_json::Value>(line).expect(line);
        }
        let text = print(Format::Text, &batch, 9_000);
        assert_eq!(text.len(), 10);
        assert!(
            text[9].ends_with("reached its output limit of 8.8 KiB (4× what it takes in memory, at least 64.0 MiB); not printed: 98 samples, 0 histograms, 0 exemplars and 0 metadata entries of 2 series, and 0 problems"),
            "{}",
            text[9]
        );
        assert!(
            text[9]
                .trim_start()
                .starts_with("omitted   this request  reached")
        );
    }
}
