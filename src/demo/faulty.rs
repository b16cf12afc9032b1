//! The demo's deliberate sender: now and then, one RW 2.0 request that breaks a
//! few rules on purpose, so that a new user sees the Problems view at work. Its
//! series carry `job="demo-problems"`, which the view names as the demo's.
//!
//! It sends seldom ([`FAULTY_EVERY`]): the header colours problem counts only
//! for a minute after they fire, so it is not red all the time.

use std::time::Duration;

use crate::proto::{Symbols, rw2};

/// The `job` of the deliberate sender's series (see `ui::problems`).
pub const JOB: &str = "demo-problems";

/// When the first faulty request goes, after the demo starts.
pub const FAULTY_FIRST: Duration = Duration::from_secs(8);

/// How often a faulty request goes after the first.
pub const FAULTY_EVERY: Duration = Duration::from_secs(300);

/// Bytes of the over-long label value: past the 2048 bytes of
/// `label-value-too-long`.
const LONG_VALUE_BYTES: usize = 2100;

/// The faulty request at `now_ms`:
/// - `demo_queue_depth{instance="agent-a"}` with a sample 5 s older than the
///   one before it (an out-of-order pair, as two agents writing one series);
/// - `demo_queue_depth{pod.name="worker-1"}`: a label name outside the legacy
///   charset;
/// - `demo_build_info{commit="…"}` with a value of [`LONG_VALUE_BYTES`].
pub fn request(now_ms: i64) -> rw2::Request {
    let mut symbols = Symbols::default();
    let mut series = |labels: &[(&str, &str)], samples: &[(i64, f64)]| {
        let mut pairs = labels.to_vec();
        pairs.push(("job", JOB));
        pairs.sort_unstable();
        rw2::TimeSeries {
            labels_refs: pairs
                .iter()
                .flat_map(|&(k, v)| [k, v])
                .map(|s| symbols.intern(s))
                .collect(),
            samples: samples
                .iter()
                .map(|&(timestamp, value)| rw2::Sample {
                    value,
                    timestamp,
                    start_timestamp: 0,
                })
                .collect(),
            metadata: Some(rw2::Metadata {
                r#type: rw2::metadata::MetricType::Gauge as i32,
                help_ref: symbols.intern("Sent wrong on purpose by promscope --demo."),
                unit_ref: 0,
            }),
            ..Default::default()
        }
    };
    let commit = "0123456789abcdef".repeat(LONG_VALUE_BYTES.div_ceil(16));
    let timeseries = vec![
        series(
            &[("__name__", "demo_queue_depth"), ("instance", "agent-a")],
            &[(now_ms, 3.0), (now_ms - 5_000, 2.0)],
        ),
        series(
            &[("__name__", "demo_queue_depth"), ("pod.name", "worker-1")],
            &[(now_ms, 1.0)],
        ),
        series(
            &[("__name__", "demo_build_info"), ("commit", &commit)],
            &[(now_ms, 1.0)],
        ),
    ];
    rw2::Request {
        symbols: symbols.into_strings(),
        timeseries,
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::ingest::check::Checker;
    use crate::ingest::decode;
    use crate::ingest::model::Protocol;
    use crate::problems::{Rule, Severity};

    const T0: i64 = 1_732_000_000_000;

    #[test]
    fn the_faulty_request_breaks_the_rules_it_says_and_no_other() {
        let bytes = request(T0).encode_to_vec();
        let mut data = decode::decode(Protocol::V2, bytes).expect("it decodes");
        assert!(data.warnings.is_empty(), "{:?}", data.warnings);
        // What the receiver does with it.
        Checker::default().check(&mut data, Some(Protocol::V2), T0);
        let mut rules: Vec<Rule> = data
            .problems
            .iter()
            .map(|p| p.rule)
            .filter(|r| r.severity() > Severity::Info)
            .collect();
        rules.sort();
        assert_eq!(
            rules,
            [
                Rule::LabelNameInvalid,
                Rule::LabelValueTooLong,
                Rule::OutOfOrder
            ]
        );
        for s in &data.series {
            let labels = crate::text::promql::series(data.label_pairs(s.labels.clone()));
            assert!(labels.contains(r#"job="demo-problems""#), "{labels}");
        }
    }
}
