//! The rule catalogue: one row per rule, in the order of [`Rule`].

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing, harmless to a backend (a resend, a counter reset).
    Info,
    /// A SHOULD of a spec, or a likely mistake some backends refuse.
    Warning,
    /// A MUST of a spec, or what a backend refuses with its default limits.
    Error,
}

impl Severity {
    /// As in flags and JSON: `info`, `warning`, `error`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

macro_rules! rules {
    ($($variant:ident = $id:literal),* $(,)?) => {
        /// A rule, by its stable id (kebab-case; used in flags, JSON and docs).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u8)]
        pub enum Rule {
            $($variant),*
        }

        impl Rule {
            /// Every rule, in catalogue order.
            pub const ALL: &[Rule] = &[$(Rule::$variant),*];

            /// Its stable id.
            pub fn id(self) -> &'static str {
                match self {
                    $(Rule::$variant => $id),*
                }
            }
        }
    };
}

rules! {
    LabelsUnsorted = "labels-unsorted",
    LabelNameRepeated = "label-name-repeated",
    LabelNameEmpty = "label-name-empty",
    LabelValueEmpty = "label-value-empty",
    MetricNameMissing = "metric-name-missing",
    MetricNameInvalid = "metric-name-invalid",
    LabelNameInvalid = "label-name-invalid",
    LabelNameInvalidUtf8 = "label-name-invalid-utf8",
    LabelValueInvalidUtf8 = "label-value-invalid-utf8",
    TooManyLabels = "too-many-labels",
    LabelNameTooLong = "label-name-too-long",
    LabelValueTooLong = "label-value-too-long",
    MetricNameTooLong = "metric-name-too-long",
    OutOfOrder = "out-of-order",
    DuplicateTimestamp = "duplicate-timestamp",
    DuplicateSample = "duplicate-sample",
    TooOld = "too-old",
    TooFarInFuture = "too-far-in-future",
    CounterDecrease = "counter-decrease",
    NanOnCounter = "nan-on-counter",
    HistogramCountMismatch = "histogram-count-mismatch",
    HistogramNegativeCount = "histogram-negative-count",
    HistogramSpansMismatch = "histogram-spans-mismatch",
    HistogramSchemaInvalid = "histogram-schema-invalid",
    HistogramCustomBoundsInvalid = "histogram-custom-bounds-invalid",
    HistogramTooManyBuckets = "histogram-too-many-buckets",
    ExemplarWithoutTimestamp = "exemplar-without-timestamp",
    ExemplarLabelsTooLong = "exemplar-labels-too-long",
    ExemplarOnlySeries = "exemplar-only-series",
    MetadataTypeUnspecified = "metadata-type-unspecified",
    MetadataConflict = "metadata-conflict",
    Rw2FirstSymbolNotEmpty = "rw2-first-symbol-not-empty",
    SamplesAndHistogramsMixed = "samples-and-histograms-mixed",
    Rw2CreatedTimestampLegacy = "rw2-created-timestamp-legacy",
    EmptyRequest = "empty-request",
    ContentTypeMismatch = "content-type-mismatch",
    SeriesPerTenant = "series-per-tenant",
    SeriesPerMetric = "series-per-metric",
}

impl Rule {
    /// Its row of the catalogue.
    pub fn info(self) -> &'static RuleInfo {
        &CATALOGUE[self as usize]
    }

    /// Its default severity.
    pub fn severity(self) -> Severity {
        self.info().severity
    }

    /// The rule with id `id`.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.id() == id)
    }
}

/// A set of rules, one bit each: what fired on a series, in 8 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RuleSet(u64);

const _: () = assert!(Rule::ALL.len() <= 64, "RuleSet holds 64 rules");

impl RuleSet {
    pub fn insert(&mut self, rule: Rule) {
        self.0 |= 1 << rule as u8;
    }

    pub fn contains(self, rule: Rule) -> bool {
        self.0 & 1 << rule as u8 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The set of `rules`.
    pub fn of(rules: &[Rule]) -> Self {
        let mut set = RuleSet::default();
        for &rule in rules {
            set.insert(rule);
        }
        set
    }

    /// Whether it holds any rule of `other`.
    pub fn meets(self, other: RuleSet) -> bool {
        self.0 & other.0 != 0
    }

    /// Its rules, in catalogue order.
    pub fn iter(self) -> impl Iterator<Item = Rule> {
        Rule::ALL.iter().copied().filter(move |&r| self.contains(r))
    }
}

/// What the documentation, `--rule` and the JSON records say about a rule.
#[derive(Debug)]
pub struct RuleInfo {
    pub rule: Rule,
    pub severity: Severity,
    /// One line: what is wrong.
    pub explanation: &'static str,
    /// The usual cause, and the fix.
    pub hint: &'static str,
    /// Where the rule comes from: a spec section, a backend's behaviour.
    pub source: &'static str,
}

use Severity::{Error, Info, Warning};

const fn rule(
    rule: Rule,
    severity: Severity,
    explanation: &'static str,
    hint: &'static str,
    source: &'static str,
) -> RuleInfo {
    RuleInfo {
        rule,
        severity,
        explanation,
        hint,
        source,
    }
}

/// Every rule, in the order of [`Rule::ALL`] (a test checks).
pub static CATALOGUE: [RuleInfo; Rule::ALL.len()] = [
    rule(
        Rule::LabelsUnsorted,
        Error,
        "label names are not sorted in byte order, as both remote-write specs require",
        "the sender builds label sets without sorting them (vmagent and OpenTelemetry exporters put target labels first); sort by name before sending",
        "RW 1.0 \"Labels\" and RW 2.0 \"labels_refs\": names MUST be sorted; receivers that look labels up by binary search miss them",
    ),
    rule(
        Rule::LabelNameRepeated,
        Error,
        "a label name appears twice in one series",
        "two names mapped to one (OpenTelemetry's `a.b` and `a_b` both become `a_b`) or a relabel rule adding a label that exists; drop or rename one",
        "RW 1.0/2.0: names MUST be unique; Prometheus answers 400 (duplicate label names), Mimir refuses the series",
    ),
    rule(
        Rule::LabelNameEmpty,
        Error,
        "a label has an empty name",
        "a relabel rule or exporter writing a label from an empty source; give it a name or drop it",
        "RW 1.0/2.0: label names MUST NOT be empty; Prometheus answers 400 (invalid labels)",
    ),
    rule(
        Rule::LabelValueEmpty,
        Warning,
        "a label has an empty value, which in Prometheus is the same as not having the label",
        "a relabel rule or exporter that fills a label from a missing source; the sender sends noise: leave the label out",
        "RW 1.0 \"Labels\": label values MUST NOT be empty; Prometheus drops such labels on ingestion",
    ),
    rule(
        Rule::MetricNameMissing,
        Error,
        "the series has no (or an empty) __name__ label",
        "a relabel rule dropped or emptied __name__, or the sender sets the name under another label; keep __name__",
        "RW 1.0/2.0: every series MUST have a __name__ label; Prometheus answers 400, Mimir refuses the series (missing metric name)",
    ),
    rule(
        Rule::MetricNameInvalid,
        Warning,
        "the metric name is outside the legacy charset [a-zA-Z_:][a-zA-Z0-9_:]*",
        "dots or dashes from OpenTelemetry or StatsD names; Prometheus 3 accepts any UTF-8 name, but backends and queries with legacy validation do not: translate to underscores, or make sure every consumer allows UTF-8",
        "Prometheus data model (legacy name validation; UTF-8 names since Prometheus 3.0)",
    ),
    rule(
        Rule::LabelNameInvalid,
        Warning,
        "a label name is outside the legacy charset [a-zA-Z_][a-zA-Z0-9_]*",
        "dots or dashes from OpenTelemetry attributes or Kubernetes labels; Prometheus 3 accepts any UTF-8 name, but backends and queries with legacy validation do not: translate to underscores, or make sure every consumer allows UTF-8",
        "Prometheus data model (legacy name validation; UTF-8 names since Prometheus 3.0)",
    ),
    rule(
        Rule::LabelNameInvalidUtf8,
        Error,
        "a label name is not valid UTF-8",
        "a name built from bytes of a binary source or a wrong character set (an attribute key, a header); convert to UTF-8 or drop the label",
        "Protocol Buffers: `string` fields MUST be UTF-8; Prometheus decodes the request and then drops the series (RW 1.0, still answering 204) or refuses it (RW 2.0: 400, invalid labels); promscope keeps the name losslessly, shown \\xNN (exemplar labels too)",
    ),
    rule(
        Rule::LabelValueInvalidUtf8,
        Error,
        "a label value is not valid UTF-8",
        "bytes from a binary source or a wrong character set copied into a label; convert to UTF-8 or drop the label",
        "Protocol Buffers: `string` fields MUST be UTF-8; Prometheus decodes the request and then drops the series (RW 1.0, still answering 204) or refuses it (RW 2.0: 400, invalid labels); promscope keeps the value losslessly, shown \\xNN (exemplar labels, help and units too)",
    ),
    rule(
        Rule::TooManyLabels,
        Error,
        "the series has more labels than the backend's limit (default 30)",
        "target labels from service discovery (pod labels, annotations) copied wholesale; drop what is not needed with labeldrop",
        "Mimir -validation.max-label-names-per-series (default 30)",
    ),
    rule(
        Rule::LabelNameTooLong,
        Error,
        "a label name is longer than the backend's limit (default 1024 bytes)",
        "a generated name (an escaped URL, a hash); shorten it in relabeling",
        "Mimir -validation.max-length-label-name (default 1024)",
    ),
    rule(
        Rule::LabelValueTooLong,
        Error,
        "a label value is longer than the backend's limit (default 2048 bytes)",
        "a stack trace, query or URL in a label; move it out of the labels or truncate it with relabeling",
        "Mimir -validation.max-length-label-value (default 2048)",
    ),
    rule(
        Rule::MetricNameTooLong,
        Warning,
        "the metric name is longer than the backend's limit for metadata (default 1024 bytes)",
        "a generated metric name; shorten it: Mimir refuses its metadata, and past 2048 bytes the series",
        "Mimir -validation.max-metadata-length (default 1024)",
    ),
    rule(
        Rule::OutOfOrder,
        Error,
        "a sample is older than the newest sample already received for its series",
        "two senders writing one series (HA pairs without deduplication, a relabel collision), a sender replaying its queue, or parallel requests overtaking each other (vmagent -remoteWrite.queues > 1); make series unique per sender (an external label) or deduplicate",
        "Prometheus TSDB: out of order sample (refused unless out_of_order_time_window is set); Mimir's default out-of-order window is 0",
    ),
    rule(
        Rule::DuplicateTimestamp,
        Error,
        "a sample has the timestamp of the series' newest sample but another value",
        "two senders writing one series with the same timestamps (HA pairs, duplicate scrape jobs, a relabel collision); make the series unique per sender",
        "Prometheus TSDB: duplicate sample for timestamp (refused); Mimir: sample-duplicate-timestamp",
    ),
    rule(
        Rule::DuplicateSample,
        Info,
        "a sample repeats the series' newest sample, timestamp and value",
        "a sender retrying a request the receiver had taken (a timeout, a 5xx after the write); harmless, backends ignore it",
        "Prometheus TSDB accepts an identical sample again and keeps one",
    ),
    rule(
        Rule::TooOld,
        Error,
        "a sample is older than the newest sample of all by more than a window (default 1 h)",
        "a sender catching up on a long backlog, or a clock far behind; backends refuse what lies before their head block",
        "Prometheus TSDB: out of bounds (older than the head's lower bound, about 1 h behind its newest sample)",
    ),
    rule(
        Rule::TooFarInFuture,
        Error,
        "a sample is stamped further in the future than the backend allows (default 10 min past arrival)",
        "a sender's clock running ahead, or timestamps in the wrong unit (µs or ns instead of ms); fix the clock or the unit",
        "Mimir -validation.create-grace-period (default 10m): too far in future",
    ),
    rule(
        Rule::CounterDecrease,
        Info,
        "a counter went down: a reset",
        "usually a restart of the process exporting it, which rate() handles; if there was none, two processes share the series or the metric is not a counter",
        "Prometheus: counters only go up; rate() and increase() treat any decrease as a reset",
    ),
    rule(
        Rule::NanOnCounter,
        Warning,
        "a counter has the value NaN (not a staleness marker)",
        "a division by zero or an unset value in the exporter; counters should count, NaN breaks rate() for the whole range",
        "Prometheus/OpenMetrics: a counter's value is a non-negative count",
    ),
    rule(
        Rule::HistogramCountMismatch,
        Error,
        "an integer native histogram's count is not its zero count plus its bucket counts",
        "a hand-built or converted histogram whose count and buckets were taken at different times; compute the count from the buckets",
        "Prometheus histogram validation: histogram's observation count should equal the number of observations found in the buckets",
    ),
    rule(
        Rule::HistogramNegativeCount,
        Error,
        "a native histogram has a negative bucket, zero-bucket or total count",
        "bucket deltas added up wrongly, or counts that are deltas to the previous histogram; send absolute counts (deltas only between neighbouring buckets)",
        "Prometheus histogram validation: negative bucket count",
    ),
    rule(
        Rule::HistogramSpansMismatch,
        Error,
        "a native histogram's spans describe another number of buckets than it has",
        "spans and bucket counts built separately; span lengths must add up to the number of deltas (or counts)",
        "Prometheus histogram validation: spans need N buckets, have M buckets",
    ),
    rule(
        Rule::HistogramSchemaInvalid,
        Error,
        "a native histogram's schema is outside -4..8 and is not -53 (custom buckets)",
        "a schema from a newer or foreign encoder; use -4..8 for exponential buckets, -53 for custom bounds",
        "Prometheus native histograms: valid schemas are -4 to 8, and -53",
    ),
    rule(
        Rule::HistogramCustomBoundsInvalid,
        Error,
        "a native histogram's custom bounds are not strictly increasing, or come with a schema other than -53",
        "custom bounds (NHCB) must be sorted, distinct, and sent only with schema -53",
        "Prometheus native histograms with custom buckets (schema -53)",
    ),
    rule(
        Rule::HistogramTooManyBuckets,
        Warning,
        "a native histogram has more buckets than the limit (default 160)",
        "a high resolution with a wide spread of values; set the client's bucket limit (NativeHistogramMaxBucketNumber, 160 suggested) or a lower schema",
        "Prometheus client libraries' suggested bucket limit; Prometheus native_histogram_bucket_limit refuses or reduces past a configured one",
    ),
    rule(
        Rule::ExemplarWithoutTimestamp,
        Error,
        "an RW 2.0 exemplar has no timestamp",
        "the sender does not stamp exemplars; use the time of the observation",
        "RW 2.0 \"Exemplar\": timestamp MUST be set",
    ),
    rule(
        Rule::ExemplarLabelsTooLong,
        Error,
        "an exemplar's labels take more than 128 UTF-8 characters, names and values together",
        "a long trace or span id, or extra labels on the exemplar; keep only trace_id (and span_id)",
        "OpenMetrics: exemplar label set MUST NOT exceed 128 UTF-8 characters; Prometheus drops the exemplar",
    ),
    rule(
        Rule::ExemplarOnlySeries,
        Info,
        "an RW 2.0 series has exemplars but no samples or histograms",
        "a sender flushing exemplars apart from their samples: Prometheus 3.16 itself does when an exemplar is queued apart from its sample (seen end to end), which is why this is not an error; some receivers refuse such a series, so if yours does, send exemplars with a sample of the series",
        "RW 2.0 TimeSeries: exemplars belong to the series' samples or histograms; receivers differ on series without any",
    ),
    rule(
        Rule::MetadataTypeUnspecified,
        Info,
        "an RW 2.0 metric is sent with no type (counted once per metric name, not per series)",
        "Prometheus sends types over RW 2.0 only with `--enable-feature=metadata-wal-records`, so without it every metric fires once; even with it `up`, `scrape_*` and recording rules have no type, which is why this is not a warning. Backends then guess counters by name",
        "RW 2.0 \"Metadata\": type SHOULD be set",
    ),
    rule(
        Rule::MetadataConflict,
        Warning,
        "one metric name is sent with different types or help texts",
        "two exporters or versions of one exposing the same name differently; give the metrics distinct names",
        "Prometheus metadata is per metric name; backends keep one and queries treat the series alike",
    ),
    rule(
        Rule::Rw2FirstSymbolNotEmpty,
        Error,
        "an RW 2.0 request's first symbol is not the empty string",
        "a hand-written symbol table; put \"\" first",
        "RW 2.0 \"symbols\": the first element MUST be an empty string",
    ),
    rule(
        Rule::SamplesAndHistogramsMixed,
        Error,
        "an RW 2.0 series has both float samples and native histograms",
        "one series name used for a float and a histogram; a series carries one or the other",
        "RW 2.0 \"TimeSeries\": samples and histograms MUST NOT both be set",
    ),
    rule(
        Rule::Rw2CreatedTimestampLegacy,
        Warning,
        "an RW 2.0 series has field 6 (created_timestamp), the layout of rc.3",
        "a sender built against RW 2.0 rc.3; rc.4 and later carry start_timestamp per sample: update its protobuf definitions",
        "RW 2.0 rc.4 replaced TimeSeries.created_timestamp with Sample/Histogram.start_timestamp",
    ),
    rule(
        Rule::EmptyRequest,
        Warning,
        "a request with no series and no metadata",
        "a sender flushing an empty queue; harmless but wasteful",
        "a likely mistake: a remote-write request carries series or metadata",
    ),
    rule(
        Rule::ContentTypeMismatch,
        Error,
        "the body decodes to nothing in the announced protocol: an RW 2.0 body sent as RW 1.0, or the reverse",
        "the sender's Content-Type does not match what it encodes; set it (application/x-protobuf;proto=io.prometheus.write.v2.Request for RW 2.0)",
        "RW 2.0 \"Content-Type\": the receiver decodes the message the header names",
    ),
    rule(
        Rule::SeriesPerTenant,
        Error,
        "a new series is one past the tenant's limit of active series (--limit series-per-tenant=N; off unless set)",
        "the tenant sends more series than its backend allows: find the metric and label that grow in the Cardinality view (filter {__tenant__=\"…\"}), drop or aggregate them, or raise the tenant's limit",
        "Mimir -ingester.max-global-series-per-user (err-mimir-max-series-per-user), Cortex and Thanos receive per-tenant series limits",
    ),
    rule(
        Rule::SeriesPerMetric,
        Error,
        "a new series is one past the metric name's limit of active series (--limit series-per-metric=N; off unless set)",
        "one metric's labels explode (ids, timestamps, URLs): find the label in the Cardinality view and drop it or bound its values",
        "Mimir -ingester.max-global-series-per-metric (err-mimir-max-series-per-metric)",
    ),
];
