//! A scraped target of the demo's fleet: its metric families, their series, and
//! how their values move from one scrape to the next.

use super::values::{
    ClassicHistogram, Latency, NATIVE_SCHEMA, NativeHistogram, Rng, Summary, Wander, arrivals,
};
use crate::proto::{Symbols, rw2};

/// What a family is, as RW 2.0 metadata says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Classic (`_bucket`, `_sum`, `_count` series) or native histogram.
    Histogram,
    /// Quantiles with `_sum` and `_count`.
    Summary,
}

/// How one series of a family moves between scrapes.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// A total that grows at a wandering rate per second.
    Counter {
        /// The total so far.
        total: f64,
        /// Increase per second.
        rate: Wander,
        /// What it counts comes in whole units (requests, bytes), not seconds.
        whole: bool,
    },
    /// A level that wanders.
    Gauge {
        /// Where it is.
        level: Wander,
        /// It counts whole things (goroutines, connections, bytes), as opposed
        /// to a load average or a duration.
        whole: bool,
    },
    /// Latencies arriving at a wandering rate, counted into `into`.
    Observed {
        /// Observations per second.
        rate: Wander,
        /// How long each takes.
        latency: Latency,
        /// Where they are counted.
        into: Observations,
        /// The slowest of the latest scrape interval, kept as an exemplar.
        slowest: Option<f64>,
    },
}

/// Where observed latencies are counted.
#[derive(Debug, Clone)]
pub enum Observations {
    /// A classic histogram.
    Classic(ClassicHistogram),
    /// A native histogram.
    Native(NativeHistogram),
    Summary(Summary),
}

/// One series: its labels beyond the name, job and instance, and how it moves.
#[derive(Debug, Clone)]
pub struct DemoSeries {
    /// Label pairs, any order.
    pub labels: Vec<(&'static str, String)>,
    /// How its value moves.
    pub behaviour: Behaviour,
}

/// A metric family.
#[derive(Debug, Clone)]
pub struct Family {
    /// Metric family name.
    pub name: &'static str,
    /// What it is.
    pub kind: Kind,
    /// HELP text.
    pub help: &'static str,
    /// Unit (`seconds`, `bytes`), or empty.
    pub unit: &'static str,
    /// Its series on one target.
    pub series: Vec<DemoSeries>,
}

/// A scraped instance.
#[derive(Debug, Clone)]
pub struct Target {
    /// `job` label.
    pub job: &'static str,
    /// `instance` label.
    pub instance: String,
    /// What it exposes.
    pub families: Vec<Family>,
    /// When its process started (the start timestamp of its counters).
    pub started_ms: i64,
    last_scrape_ms: Option<i64>,
}

/// Quantiles the summaries report.
pub const QUANTILES: &[f64] = &[0.5, 0.9, 0.99];

impl Target {
    /// A target whose process started at `started_ms`.
    pub fn new(
        job: &'static str,
        instance: String,
        families: Vec<Family>,
        started_ms: i64,
    ) -> Self {
        Target {
            job,
            instance,
            families,
            started_ms,
            last_scrape_ms: None,
        }
    }

    /// Advances to `now_ms`. A counter's first value is what it would have counted
    /// since its process started.
    pub fn advance(&mut self, now_ms: i64, rng: &mut Rng) {
        let secs = match self.last_scrape_ms {
            Some(last) => (now_ms - last).max(0) as f64 / 1000.0,
            None => 0.0,
        };
        let uptime = (now_ms - self.started_ms).max(0) as f64 / 1000.0;
        let first = self.last_scrape_ms.is_none();
        self.last_scrape_ms = Some(now_ms);
        for series in self.families.iter_mut().flat_map(|f| &mut f.series) {
            match &mut series.behaviour {
                Behaviour::Counter { total, rate, .. } => {
                    let per_sec = rate.step(secs, rng);
                    *total += per_sec * if first { uptime } else { secs };
                }
                Behaviour::Gauge { level, .. } => {
                    level.step(secs, rng);
                }
                Behaviour::Observed {
                    rate,
                    latency,
                    into,
                    slowest,
                } => {
                    let per_sec = rate.step(secs, rng);
                    // A running process has counted a while already; keep the
                    // catch-up small, it is drawn one observation at a time.
                    let n = arrivals(per_sec, if first { secs.max(60.0) } else { secs }, rng);
                    *slowest = None;
                    for _ in 0..n {
                        let v = latency.sample(rng);
                        *slowest = Some(slowest.map_or(v, |s: f64| s.max(v)));
                        match into {
                            Observations::Classic(h) => h.observe(v),
                            Observations::Native(h) => h.observe(v),
                            Observations::Summary(s) => s.observe(v),
                        }
                    }
                }
            }
        }
    }
}

/// An RW 2.0 request being built: the symbol table and series referring to it.
#[derive(Default)]
struct RequestBuilder {
    symbols: Symbols,
    series: Vec<rw2::TimeSeries>,
}

impl RequestBuilder {
    /// References of label pairs, sorted by name as the spec asks.
    fn labels(&mut self, mut pairs: Vec<(&str, &str)>) -> Vec<u32> {
        pairs.sort_unstable();
        pairs
            .iter()
            .flat_map(|&(k, v)| [k, v])
            .map(|s| self.symbols.intern(s))
            .collect()
    }

    /// Adds a series with `labels`, `metadata` of `family`, and what `fill` puts in it.
    fn series(
        &mut self,
        family: &Family,
        name: &str,
        labels: &[(&str, &str)],
        fill: impl FnOnce(&mut rw2::TimeSeries),
    ) {
        let mut pairs = vec![("__name__", name)];
        pairs.extend_from_slice(labels);
        let mut series = rw2::TimeSeries {
            labels_refs: self.labels(pairs),
            metadata: Some(rw2::Metadata {
                r#type: family.kind.rw2() as i32,
                help_ref: self.symbols.intern(family.help),
                unit_ref: self.symbols.intern(family.unit),
            }),
            ..Default::default()
        };
        fill(&mut series);
        self.series.push(series);
    }

    /// Adds a series with one float sample.
    fn sample(
        &mut self,
        family: &Family,
        name: &str,
        labels: &[(&str, &str)],
        sample: rw2::Sample,
    ) {
        self.series(family, name, labels, |s| s.samples.push(sample));
    }
}

impl Kind {
    fn rw2(self) -> rw2::metadata::MetricType {
        use rw2::metadata::MetricType;
        match self {
            Kind::Counter => MetricType::Counter,
            Kind::Gauge => MetricType::Gauge,
            Kind::Histogram => MetricType::Histogram,
            Kind::Summary => MetricType::Summary,
        }
    }
}

/// A bucket bound or quantile as a label value, as Prometheus 3 normalizes them
/// (`1.0`, `0.25`, `+Inf`).
fn float_label(v: f64) -> String {
    if v.is_infinite() {
        "+Inf".into()
    } else if v.fract() == 0.0 {
        format!("{v:.1}")
    } else {
        crate::format::value(v)
    }
}

impl Target {
    /// Scrapes the target at `now_ms`: advances its values and returns what it
    /// exposes, as a Prometheus server would remote-write it.
    pub fn scrape(&mut self, now_ms: i64, rng: &mut Rng) -> rw2::Request {
        self.advance(now_ms, rng);
        let mut out = RequestBuilder::default();
        let at = |value: f64, start: i64| rw2::Sample {
            value,
            timestamp: now_ms,
            start_timestamp: start,
        };
        let started = self.started_ms;
        for family in &self.families {
            let name = family.name;
            for series in &family.series {
                let mut labels = vec![("job", self.job), ("instance", self.instance.as_str())];
                labels.extend(series.labels.iter().map(|(k, v)| (*k, v.as_str())));
                match &series.behaviour {
                    Behaviour::Counter { total, whole, .. } => {
                        // A count is exposed once whole: the fraction is still to come.
                        let total = if *whole { total.floor() } else { *total };
                        out.sample(family, name, &labels, at(total, started));
                    }
                    Behaviour::Gauge { level, whole } => {
                        let value = if *whole {
                            level.value.round()
                        } else {
                            level.value
                        };
                        out.sample(family, name, &labels, at(value, 0))
                    }
                    Behaviour::Observed { into, slowest, .. } => {
                        let (sum, count) = match into {
                            Observations::Classic(h) => {
                                let bucket = format!("{name}_bucket");
                                let infinite = [(f64::INFINITY, h.count)];
                                for (bound, n) in h.cumulative().chain(infinite) {
                                    let le = float_label(bound);
                                    let mut with_le = labels.clone();
                                    with_le.push(("le", &le));
                                    out.sample(family, &bucket, &with_le, at(n as f64, started));
                                }
                                (h.sum, h.count)
                            }
                            Observations::Summary(s) => {
                                for &q in QUANTILES {
                                    let quantile = float_label(q);
                                    let mut with_q = labels.clone();
                                    with_q.push(("quantile", &quantile));
                                    out.sample(family, name, &with_q, at(s.quantile(q), 0));
                                }
                                (s.sum, s.count)
                            }
                            Observations::Native(h) => {
                                // The slowest request of the interval, as a tracing
                                // library would attach it.
                                let exemplar = slowest.map(|value| {
                                    let trace_id = format!("{:016x}", rng.next_u64());
                                    rw2::Exemplar {
                                        labels_refs: out.labels(vec![("trace_id", &trace_id)]),
                                        value,
                                        timestamp: now_ms,
                                    }
                                });
                                out.series(family, name, &labels, |s| {
                                    s.histograms.push(native(h, now_ms, started));
                                    s.exemplars.extend(exemplar);
                                });
                                continue;
                            }
                        };
                        out.sample(family, &format!("{name}_sum"), &labels, at(sum, started));
                        out.sample(
                            family,
                            &format!("{name}_count"),
                            &labels,
                            at(count as f64, started),
                        );
                    }
                }
            }
        }
        rw2::Request {
            symbols: out.symbols.into_strings(),
            timeseries: out.series,
        }
    }
}

/// A native histogram sample with integer counts and Prometheus's default zero bucket.
fn native(h: &NativeHistogram, now_ms: i64, started_ms: i64) -> rw2::Histogram {
    use rw2::histogram::{Count, ZeroCount};
    let (spans, deltas) = h.spans_and_deltas();
    rw2::Histogram {
        count: Some(Count::CountInt(h.count)),
        sum: h.sum,
        schema: NATIVE_SCHEMA,
        zero_threshold: 2f64.powi(-128),
        zero_count: Some(ZeroCount::ZeroCountInt(0)),
        positive_spans: spans
            .into_iter()
            .map(|(offset, length)| rw2::BucketSpan { offset, length })
            .collect(),
        positive_deltas: deltas,
        timestamp: now_ms,
        start_timestamp: started_ms,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use prost::Message;

    use super::super::jobs;
    use super::*;
    use crate::ingest::decode;
    use crate::ingest::model::{HistogramExt, MetricType, Protocol, WriteData};

    const T0: i64 = 1_732_000_000_000;

    /// Every target scraped at `at`, as promscope's decoder reads the requests.
    fn scrape_all(targets: &mut [Target], at: i64, rng: &mut Rng) -> Vec<WriteData> {
        targets
            .iter_mut()
            .map(|t| {
                let bytes = t.scrape(at, rng).encode_to_vec();
                decode::decode(Protocol::V2, bytes).expect("the demo's requests decode")
            })
            .collect()
    }

    /// `series text -> (metric type, value)` of every float sample.
    fn values(scrapes: &[WriteData]) -> BTreeMap<String, (MetricType, f64)> {
        let mut out = BTreeMap::new();
        for data in scrapes {
            for s in &data.series {
                let text = crate::text::promql::series(data.label_pairs(s.labels.clone()));
                let kind = s
                    .metadata
                    .as_ref()
                    .map(|m| m.metric_type)
                    .unwrap_or_default();
                for sample in data.samples_of(s) {
                    out.insert(text.clone(), (kind, sample.value));
                }
            }
        }
        out
    }

    #[test]
    fn scrapes_look_like_a_small_fleet_and_decode_without_warnings() {
        let mut rng = Rng::new(7);
        let mut targets = jobs::fleet(T0, &mut rng);
        let scrapes = scrape_all(&mut targets, T0, &mut rng);
        let mut names = BTreeSet::new();
        let (mut series, mut histograms, mut exemplars) = (0, 0, 0);
        let mut kinds = BTreeSet::new();
        for data in &scrapes {
            assert!(data.warnings.is_empty(), "{:?}", data.warnings);
            for s in &data.series {
                let m = s.metadata.as_ref().expect("every series carries metadata");
                assert!(!data.str(m.help).is_empty());
                kinds.insert(m.metric_type.name());
                let labels: BTreeMap<&str, &str> = data.label_pairs(s.labels.clone()).collect();
                names.insert(labels["__name__"].to_owned());
                assert!(labels.contains_key("job") && labels.contains_key("instance"));
            }
            series += data.series.len();
            for h in &data.histograms {
                assert_eq!(h.total_count(), h.positive_buckets().iter().sum::<f64>());
            }
            histograms += data.histograms.len();
            exemplars += data.exemplars.len();
        }
        assert!((150..300).contains(&series), "{series} series");
        assert!(names.len() >= 20, "{names:?}");
        for expected in [
            "http_requests_total",
            "node_cpu_seconds_total",
            "process_resident_memory_bytes",
            "pg_statement_duration_seconds_bucket",
            "job_duration_seconds",
            "up",
        ] {
            assert!(
                names.contains(expected),
                "{expected} missing from {names:?}"
            );
        }
        assert_eq!(
            kinds,
            BTreeSet::from(["counter", "gauge", "histogram", "summary"])
        );
        assert_eq!(histograms, 9, "3 API instances × 3 handlers");
        assert!(exemplars > 0);
    }

    #[test]
    fn counters_grow_and_gauges_wander_between_scrapes() {
        let mut rng = Rng::new(11);
        let mut targets = jobs::fleet(T0, &mut rng);
        let before = values(&scrape_all(&mut targets, T0, &mut rng));
        let after = values(&scrape_all(&mut targets, T0 + 5_000, &mut rng));
        assert_eq!(
            before.keys().collect::<Vec<_>>(),
            after.keys().collect::<Vec<_>>()
        );
        let (mut grew, mut moved) = (0, 0);
        for (series, &(kind, v0)) in &before {
            let v1 = after[series].1;
            match kind {
                MetricType::Counter => {
                    assert!(v1 >= v0, "{series}: {v0} -> {v1}");
                    grew += usize::from(v1 > v0);
                }
                MetricType::Gauge => moved += usize::from(v1 != v0),
                _ => {}
            }
        }
        assert!(grew > 50, "{grew} counters grew");
        assert!(moved > 20, "{moved} gauges moved");
        // A counter that has run for hours is not near zero.
        let requests = r#"http_requests_total{code="200", handler="/api/orders", instance="api-1:8080", job="api", method="GET"}"#;
        assert!(before[requests].1 > 10_000.0, "{}", before[requests].1);
        // Things counted are whole, as exporters expose them; durations are not.
        for (series, &(_, v)) in &after {
            let counts_things = [
                "http_requests_total",
                "go_goroutines",
                "_bytes",
                "queue_depth",
            ]
            .iter()
            .any(|name| series.contains(name));
            if counts_things {
                assert_eq!(v, v.trunc(), "{series}");
            }
        }
        let load = r#"node_load1{instance="node-1:9100", job="node"}"#;
        assert_ne!(after[load].1, after[load].1.trunc());
    }
}
