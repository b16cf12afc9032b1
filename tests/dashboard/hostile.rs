//! A store fed with what a hostile or broken sender can send: values no chart
//! or column can take for granted, timestamps at the ends of i64, histograms with
//! non-finite counts, and strings with controls, bidi overrides and wide characters.

use super::*;

/// Value sequences no chart, sparkline or number column can take for granted,
/// each sent as the samples of one series of `hostile_value`.
pub const HOSTILE_VALUES: &[(&str, &[f64])] = &[
    ("zero_to_1e307", &[0.0, 1e307, 0.0, 1e307]),
    ("full_range", &[-1e308, 1e308, f64::MAX, f64::MIN]),
    (
        "non_finite",
        &[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1.0],
    ),
    (
        "only_non_finite",
        &[f64::NAN, f64::INFINITY, f64::NEG_INFINITY],
    ),
    ("all_equal", &[7.25, 7.25, 7.25]),
    ("subnormal", &[5e-324, 1e-323, 0.0, -5e-324]),
    ("long_float", &[13.705352776068167, 90.90144205269057, 0.1]),
    ("huge_tiny", &[1e300, -1e-300, -123456789.125]),
    ("stale", &[1.0, f64::NAN, f64::NAN]),
];

/// Samples of the one `burst_total` series in [`hostile`].
pub const BURST_SAMPLES: usize = 12_345;

/// Requests [`BURST_SAMPLES`] come in, a second apart.
pub const BURST_REQUESTS: usize = 10;

/// Timestamps at the ends of i64 for a series' samples.
const EXTREME_TIMESTAMPS: [i64; 4] = [i64::MIN, i64::MAX, 0, -1];

/// Strings a sender controls, with controls, bidi overrides, zero-width and wide characters.
pub const HOSTILE_TEXT: &[&str] = &[
    "xx\u{8}\u{8}yy",
    "\u{1b}]0;pwned\u{7}\u{1b}[2J",
    "abc\u{202e}cba",
    "a\u{200b}b\u{feff}c\u{2066}d",
    "\u{85}c1\u{9b}31m",
    "宽字符🙂标签",
];

/// A store fed with every entry of [`HOSTILE_VALUES`] (one sample per request,
/// at 5 s intervals, the stale series ending in the stale marker), a series at
/// i64-extreme timestamps, float and integer histograms with non-finite and
/// huge counts and bounds, a histogram with many buckets, metric names and
/// label values that differ only at their end, a burst of
/// [`BURST_SAMPLES`] samples, and metric names, labels, metadata, exemplars,
/// user-agents and paths holding [`HOSTILE_TEXT`].
pub fn hostile() -> (App, Store) {
    let mut store = Store::new(StoreLimits::default());
    let mut app = app(T0 - 120_000);
    let longest = HOSTILE_VALUES
        .iter()
        .map(|(_, v)| v.len())
        .max()
        .unwrap_or(0);
    for step in 0..longest {
        let at = T0 - 30_000 + step as i64 * 5_000;
        let mut data = WriteData::default();
        for (case, values) in HOSTILE_VALUES {
            let Some(&v) = values.get(step) else { continue };
            let v = if *case == "stale" && step + 1 == values.len() {
                stale_nan()
            } else {
                v
            };
            data.push_series(
                &[("__name__", "hostile_value"), ("case", case)],
                &[sample(at - 1_000, v)],
                &[],
            );
        }
        let mut info = info(at, Protocol::V2);
        info.user_agent = Some(HOSTILE_TEXT[step % HOSTILE_TEXT.len()].into());
        info.path = format!(
            "/api/v1/write{}",
            HOSTILE_TEXT[(step + 1) % HOSTILE_TEXT.len()]
        );
        store.ingest(&Batch {
            info,
            outcome: Outcome::Accepted,
            data,
        });
    }
    let mut data = WriteData::default();
    let extremes: Vec<Sample> = EXTREME_TIMESTAMPS
        .iter()
        .zip([1.0, f64::NAN, -0.0, 1e307])
        .map(|(&t, v)| sample(t, v))
        .collect();
    data.push_series(&[("__name__", "extreme_timestamps")], &extremes, &[]);
    for (i, text) in HOSTILE_TEXT.iter().enumerate() {
        let name = format!("hostile_text_{i}_{text}");
        let value = format!("{text}{}", "v".repeat(i * 20));
        let s = data.push_series(
            &[("__name__", &name), (text, &value), ("z", text)],
            &[sample(T0 - 1_000, 13.705352776068167 * i as f64)],
            &[],
        );
        let labels = data.labels.len() as u32;
        let label = LabelRef {
            name: data.intern(text),
            value: data.intern(text),
        };
        data.labels.push(label);
        let exemplar = data.exemplars.len() as u32;
        data.exemplars.push(Exemplar {
            labels: labels..labels + 1,
            value: 1e300,
            timestamp_ms: T0 - 1_500,
        });
        data.series[s].exemplars = exemplar..exemplar + 1;
        data.series[s].metadata = Some(Metadata {
            family: data.intern(&name),
            metric_type: MetricType::Gauge,
            help: data.intern(text),
            unit: data.intern(text),
        });
    }
    // Names and label values alike but for their ends, as load generators make them.
    let long = "m".repeat(60);
    for i in 0..4 {
        let name = format!("avalanche_metric_{long}_0_{i}");
        let value = format!("value_{long}_{i}");
        data.push_series(
            &[("__name__", &name), ("series_id", "0")],
            &[sample(T0 - 1_000, f64::from(i) + 0.5)],
            &[],
        );
        data.push_series(
            &[("__name__", "avalanche_labels"), ("label_key", &value)],
            &[sample(T0 - 1_000, -f64::from(i))],
            &[],
        );
    }
    // Enough samples for counts and rates with SI suffixes (12.3k, 1.2k/s),
    // in one request a second over the last ten seconds, the last with the
    // rest: a rate is known once whole seconds of it are counted.
    let burst: Vec<Sample> = (0..BURST_SAMPLES)
        .map(|i| sample(T0 - 60_000 + i as i64, i as f64 * 0.001))
        .collect();
    let mut chunks = burst
        .chunks(BURST_SAMPLES.div_ceil(BURST_REQUESTS))
        .peekable();
    let mut at = T0 - 500 - (BURST_REQUESTS as i64 - 1) * 1_000;
    while let Some(chunk) = chunks.next() {
        if chunks.peek().is_none() {
            data.push_series(&[("__name__", "burst_total")], chunk, &[]);
            break;
        }
        let mut burst = WriteData::default();
        burst.push_series(&[("__name__", "burst_total")], chunk, &[]);
        store.ingest(&Batch {
            info: info(at, Protocol::V2),
            outcome: Outcome::Accepted,
            data: burst,
        });
        at += 1_000;
    }
    for (name, h) in hostile_histograms() {
        data.push_series(&[("__name__", name)], &[], &[h]);
    }
    store.ingest(&Batch {
        info: info(T0 - 500, Protocol::V2),
        outcome: Outcome::Accepted,
        data,
    });
    hostile_problems(&mut store);
    app.tick(T0, &store);
    (app, store)
}

/// The ids of the series whose metric name starts with `prefix`.
fn series_named(store: &Store, prefix: &str) -> Vec<SeriesId> {
    let metrics = store
        .metrics()
        .filter(|(_, m)| store.str(m.name).starts_with(prefix));
    metrics
        .flat_map(|(_, m)| store.series_of(m).map(|(id, _)| id))
        .collect()
}

/// Problems on [`hostile`]'s series, with messages quoting [`HOSTILE_TEXT`],
/// and on requests from a sender named by it.
fn hostile_problems(store: &mut Store) {
    fn finding(
        rule: Rule,
        count: u32,
        timestamp_ms: Option<i64>,
        message: &Message,
    ) -> Finding<'_> {
        Finding {
            rule,
            count,
            timestamp_ms,
            message,
        }
    }
    for (i, id) in series_named(store, "hostile_value").into_iter().enumerate() {
        let message = Message::from(format!(
            "sample at T0-{i}s is {i}000 ms older than the newest, T0"
        ));
        let f = finding(
            Rule::OutOfOrder,
            1 + i as u32,
            Some(T0 - 1000 * i as i64),
            &message,
        );
        store.record_series_problem(id, &f, T0 - 20_000 + 1000 * i as i64);
    }
    for (i, id) in series_named(store, "hostile_text").into_iter().enumerate() {
        let text = HOSTILE_TEXT[i % HOSTILE_TEXT.len()];
        let message = Message::from(format!("label {text:?} has an empty value {text}"));
        for rule in [
            Rule::LabelValueTooLong,
            Rule::LabelNameInvalid,
            Rule::DuplicateSample,
        ] {
            store.record_series_problem(id, &finding(rule, 1, None, &message), T0 - 2_000);
        }
    }
    for text in HOSTILE_TEXT {
        let message = Message::from(*text);
        let f = finding(Rule::EmptyRequest, 1, None, &message);
        store.record_request_problem(&f, T0 - 1_000, text);
    }
}

/// Names of the series of [`hostile_histograms`].
pub const HOSTILE_HISTOGRAMS: &[&str] = &[
    "hostile_histogram_float_counts",
    "hostile_histogram_custom_bounds",
    "hostile_histogram_many_buckets",
];

/// Native histograms with NaN, infinite, huge and negative counts, custom
/// bounds that do not fit a column, and a hundred thousand buckets.
fn hostile_histograms() -> Vec<(&'static str, Histogram)> {
    let float_counts = Histogram {
        count: Some(histogram::Count::CountFloat(f64::INFINITY)),
        sum: f64::NAN,
        schema: 8,
        zero_threshold: 5e-324,
        zero_count: Some(histogram::ZeroCount::ZeroCountFloat(f64::NAN)),
        positive_spans: vec![BucketSpan {
            offset: i32::MIN,
            length: 4,
        }],
        positive_counts: vec![f64::INFINITY, 1e308, -5.0, f64::NAN],
        negative_spans: vec![BucketSpan {
            offset: i32::MAX,
            length: 1,
        }],
        negative_counts: vec![f64::MAX],
        timestamp: T0 - 1_000,
        ..Default::default()
    };
    let custom_bounds = Histogram {
        count: Some(histogram::Count::CountInt(u64::MAX)),
        sum: -1e-300,
        schema: -53,
        positive_spans: vec![BucketSpan {
            offset: 0,
            length: 4,
        }],
        positive_deltas: vec![i64::MAX, i64::MIN, 1, 1],
        custom_values: vec![13.705352776068167, 1e300, 123_456_789.123_456_79],
        timestamp: T0 - 1_000,
        ..Default::default()
    };
    let many_buckets = Histogram {
        count: Some(histogram::Count::CountInt(100_000)),
        sum: 100_000.0,
        schema: -4,
        positive_spans: vec![BucketSpan {
            offset: -50_000,
            length: 100_000,
        }],
        positive_deltas: std::iter::once(1)
            .chain(std::iter::repeat_n(0, 99_999))
            .collect(),
        timestamp: T0 - 1_000,
        ..Default::default()
    };
    HOSTILE_HISTOGRAMS
        .iter()
        .copied()
        .zip([float_counts, custom_bounds, many_buckets])
        .collect()
}
