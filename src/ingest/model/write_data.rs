//! The decoded content of a request: flat vectors of labels, series, samples,
//! histograms, exemplars and metadata over the request's body, which holds the
//! strings.

use std::ops::Range;

use crate::problems::{Problem, ProblemCounts, Uncarried};

use super::body_buf::BodyBuf;
use super::{
    Exemplar, Histogram, LabelRef, Metadata, ReceivedSeries, Sample, StrId, histogram_heap_bytes,
    label_set_hash,
};

/// Decoded content of a request, in flat vectors that [`ReceivedSeries`] index into.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct WriteData {
    /// The decompressed body (or, for data built in memory, the strings added),
    /// kept for a later body once dropped.
    buf: BodyBuf,
    /// All label pairs: series labels and exemplar labels.
    pub labels: Vec<LabelRef>,
    /// The series, in request order.
    pub series: Vec<ReceivedSeries>,
    /// All float samples.
    pub samples: Vec<Sample>,
    /// All native histograms.
    pub histograms: Vec<Histogram>,
    /// All exemplars.
    pub exemplars: Vec<Exemplar>,
    /// RW1 metadata messages (RW2 metadata sits on each [`ReceivedSeries`]).
    pub metadata: Vec<Metadata>,
    /// Things the sender got wrong that do not make the request invalid
    /// (unsorted labels, missing `__name__`, ...); the first few only.
    pub warnings: Vec<String>,
    /// Why parts of the request were refused while the rest was kept (RW 2.0
    /// series that break a rule); the first few only.
    pub refused: Vec<String>,
    /// How many parts were refused in all.
    pub refused_count: usize,
    /// What the rules found, in request order (the first
    /// [`MAX_PROBLEMS`](crate::problems::MAX_PROBLEMS)): the decoder's
    /// request-level findings, then the [`Checker`](crate::problems::Checker)'s.
    pub problems: Vec<Problem>,
    /// The rules that fired on written series past the problems carried, in
    /// series order: no message, no count, just which series.
    pub uncarried: Vec<Uncarried>,
    /// Firings per rule, all of them (a problem counts each firing on its
    /// subject); `None` when nothing fired. Read it with
    /// [`WriteData::problem_counts`].
    pub problem_totals: Option<Box<ProblemCounts>>,
    /// While decoding: the spans of the body that are not UTF-8 (fields of
    /// RW 1.0, symbols of RW 2.0), to be kept losslessly once decoded (empty
    /// after).
    pub(crate) raw_strings: Vec<StrId>,
    /// The tenant its series belong to ("" for none: a request's tenant is
    /// never empty), set by [`WriteData::belong_to_tenant`].
    tenant: Box<str>,
}

impl WriteData {
    /// The empty string.
    pub const EMPTY: StrId = StrId::new(0, 0);

    /// Its body buffer, once dropped, is kept for a later body only within
    /// `budget` (see [`super::body_buf`]).
    pub(crate) fn keep_buffer_within(&mut self, budget: &crate::ingest::body::Budget) {
        self.buf.keep_within(budget);
    }

    /// Takes ownership of the buffer that the decoder's [`StrId`]s point into.
    pub(crate) fn set_buffer(&mut self, buf: Vec<u8>) {
        self.buf = buf.into();
    }

    /// Adds a string (for data built in memory).
    pub fn intern(&mut self, s: &str) -> StrId {
        let id = StrId::new(self.buf.len(), s.len());
        self.buf.extend_from_slice(s.as_bytes());
        id
    }

    /// The bytes of a string: for hashing and comparing without UTF-8 checks.
    pub fn bytes(&self, id: StrId) -> &[u8] {
        self.buf.get(id.range()).unwrap_or(&[])
    }

    /// The string with the given id ("" for an id of another request).
    pub fn str(&self, id: StrId) -> &str {
        std::str::from_utf8(self.bytes(id)).unwrap_or("")
    }

    /// Label pairs in a range, as strings.
    pub fn label_pairs(
        &self,
        range: Range<u32>,
    ) -> impl Iterator<Item = (&str, &str)> + Clone + '_ {
        let slice = self
            .labels
            .get(range.start as usize..range.end as usize)
            .unwrap_or(&[]);
        slice.iter().map(|l| (self.str(l.name), self.str(l.value)))
    }

    /// Samples of a series.
    pub fn samples_of(&self, s: &ReceivedSeries) -> &[Sample] {
        self.samples
            .get(s.samples.start as usize..s.samples.end as usize)
            .unwrap_or(&[])
    }

    /// Histograms of a series.
    pub fn histograms_of(&self, s: &ReceivedSeries) -> &[Histogram] {
        self.histograms
            .get(s.histograms.start as usize..s.histograms.end as usize)
            .unwrap_or(&[])
    }

    /// Exemplars of a series.
    pub fn exemplars_of(&self, s: &ReceivedSeries) -> &[Exemplar] {
        self.exemplars
            .get(s.exemplars.start as usize..s.exemplars.end as usize)
            .unwrap_or(&[])
    }

    /// The value of `__name__` in a label range, or "".
    pub fn metric_name(&self, range: Range<u32>) -> &str {
        self.label_pairs(range)
            .find(|(n, _)| *n == "__name__")
            .map_or("", |(_, v)| v)
    }

    /// Appends a series built in memory (tests, demos): labels as given, samples
    /// and histograms, no exemplars or metadata. Returns its index.
    pub fn push_series(
        &mut self,
        labels: &[(&str, &str)],
        samples: &[Sample],
        histograms: &[Histogram],
    ) -> usize {
        let start = self.labels.len() as u32;
        for (name, value) in labels {
            let label = LabelRef {
                name: self.intern(name),
                value: self.intern(value),
            };
            self.labels.push(label);
        }
        let sample_start = self.samples.len() as u32;
        self.samples.extend_from_slice(samples);
        let histogram_start = self.histograms.len() as u32;
        self.histograms.extend_from_slice(histograms);
        let exemplars = self.exemplars.len() as u32;
        let label_hash = label_set_hash(labels.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes())));
        self.series.push(ReceivedSeries {
            labels: start..self.labels.len() as u32,
            samples: sample_start..self.samples.len() as u32,
            histograms: histogram_start..self.histograms.len() as u32,
            exemplars: exemplars..exemplars,
            metadata: None,
            created_timestamp_ms: 0,
            label_hash,
            labels_sorted: false,
        });
        self.series.len() - 1
    }

    /// Makes its series those of `tenant` (see [`super::tenant_series_hash`]):
    /// done once, as the request is decoded, before the checks and the store
    /// look series up by their hash.
    pub fn belong_to_tenant(&mut self, tenant: &str) {
        for s in &mut self.series {
            s.label_hash = super::tenant_series_hash(s.label_hash, tenant);
        }
        self.tenant = tenant.into();
    }

    /// The tenant its series belong to ("" for none; see
    /// [`WriteData::belong_to_tenant`]): a series is its tenant and its
    /// labels, whatever their hashes.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// Firings per rule of every problem found in it.
    pub fn problem_counts(&self) -> &ProblemCounts {
        self.problem_totals
            .as_deref()
            .unwrap_or(&ProblemCounts::ZERO)
    }

    /// Records a warning, keeping only the first [`MAX_WARNINGS`].
    pub fn warn(&mut self, message: impl FnOnce() -> String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(message());
        }
    }

    /// Bytes its decoded elements take (lengths, not capacities, and not the
    /// buckets of histograms): what decoding added to the body.
    pub fn element_bytes(&self) -> usize {
        self.labels.len() * size_of::<LabelRef>()
            + self.series.len() * size_of::<ReceivedSeries>()
            + self.samples.len() * size_of::<Sample>()
            + self.histograms.len() * size_of::<Histogram>()
            + self.exemplars.len() * size_of::<Exemplar>()
            + self.metadata.len() * size_of::<Metadata>()
    }

    /// Heap bytes it holds (capacities, not lengths: what keeping it costs),
    /// body and decoded vectors alike.
    pub fn heap_bytes(&self) -> usize {
        fn vec<T>(v: &Vec<T>) -> usize {
            v.capacity() * size_of::<T>()
        }
        let histograms: usize = self.histograms.iter().map(histogram_heap_bytes).sum();
        let texts: usize = self
            .warnings
            .iter()
            .chain(&self.refused)
            .map(String::capacity)
            .sum::<usize>()
            + self
                .problems
                .iter()
                .map(|p| p.message.heap_bytes())
                .sum::<usize>();
        vec(&self.buf)
            + vec(&self.labels)
            + vec(&self.series)
            + vec(&self.samples)
            + vec(&self.histograms)
            + histograms
            + vec(&self.exemplars)
            + vec(&self.metadata)
            + vec(&self.warnings)
            + vec(&self.refused)
            + vec(&self.problems)
            + vec(&self.uncarried)
            + self
                .problem_totals
                .as_ref()
                .map_or(0, |_| size_of::<ProblemCounts>())
            + texts
            + self.tenant.len()
    }

    /// Gives back capacity reserved beyond what the request holds.
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
        self.labels.shrink_to_fit();
        self.series.shrink_to_fit();
        self.samples.shrink_to_fit();
        self.histograms.shrink_to_fit();
        self.exemplars.shrink_to_fit();
        self.metadata.shrink_to_fit();
        self.problems.shrink_to_fit();
        self.uncarried.shrink_to_fit();
    }

    /// Records that part of the request was refused, keeping the first
    /// [`MAX_WARNINGS`] reasons.
    pub fn refuse(&mut self, reason: impl FnOnce() -> String) {
        self.refused_count += 1;
        if self.refused.len() < MAX_WARNINGS {
            self.refused.push(reason());
        }
    }

    /// Totals of what the request carried: of its written series (a series
    /// refused by a rule leaves its samples behind, belonging to none).
    pub fn counts(&self) -> Counts {
        let len = |r: &Range<u32>| u64::from(r.end.saturating_sub(r.start));
        let (mut samples, mut histograms, mut exemplars) = (0, 0, 0);
        for s in &self.series {
            samples += len(&s.samples);
            histograms += len(&s.histograms);
            exemplars += len(&s.exemplars);
        }
        Counts {
            series: self.series.len() as u64,
            samples,
            histograms,
            exemplars,
            metadata: (self.metadata.len()
                + self.series.iter().filter(|s| s.metadata.is_some()).count())
                as u64,
        }
    }
}

/// How many warnings a request keeps.
pub const MAX_WARNINGS: usize = 8;

/// How much a request (or a run) carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub series: u64,
    /// Float samples.
    pub samples: u64,
    /// Native histogram samples.
    pub histograms: u64,
    pub exemplars: u64,
    /// Metadata entries.
    pub metadata: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.series += o.series;
        self.samples += o.samples;
        self.histograms += o.histograms;
        self.exemplars += o.exemplars;
        self.metadata += o.metadata;
    }
}
