//! `--report cardinality`: at exit, which metrics hold the most series, which
//! of their labels have the most values (unbounded ones first), label names
//! and pairs across metrics, and churn; as one JSON object or as text. Taken
//! from a store that tracked the run (see [`CardinalityTracker`]).

use std::fmt::Write;

use super::Format;
use super::json::string;
use crate::format;
use crate::ingest::model::Batch;
use crate::store::cardinality::{Distinct, LabelCard, Overview};
use crate::store::parties::PartyCard;
use crate::store::{MetricId, Store, StoreLimits};
use crate::text::escape::escaped;

/// Metrics the report lists, most active series first.
pub const REPORT_METRICS: usize = 20;

/// Label names and pairs across metrics the report lists.
pub const REPORT_ACROSS: usize = 10;

/// Values listed per label.
pub const REPORT_VALUES: usize = 5;

/// Tenants, and senders, the report lists, most active series first.
pub const REPORT_PARTIES: usize = 20;

/// The tenants and the senders of a report.
struct Parties {
    tenants: Vec<PartyCard>,
    senders: Vec<PartyCard>,
}

/// What a report needs of a run: a store that keeps series and their labels
/// but next to no samples.
pub struct CardinalityTracker {
    store: Store,
}

impl CardinalityTracker {
    /// A tracker keeping up to `max_series` series, gone after `stale_after_ms`.
    pub fn new(max_series: usize, stale_after_ms: i64) -> Self {
        CardinalityTracker {
            store: Store::new(StoreLimits {
                max_series,
                samples_per_series: 1,
                log_len: 1,
                requests_len: 1,
                exemplars_per_series: 0,
                stale_after_ms,
                ..StoreLimits::default()
            }),
        }
    }

    /// Adds one request.
    pub fn record(&mut self, batch: &Batch) {
        self.store.ingest(batch);
    }

    /// The report at `now_ms` in `format` (text for anything but JSON).
    pub fn report(&self, format: Format, now_ms: i64) -> String {
        let overview = self.store.cardinality_overview(now_ms, REPORT_ACROSS);
        let metrics: Vec<(MetricId, &str, u64, Vec<LabelCard>)> = overview
            .metrics
            .iter()
            .take(REPORT_METRICS)
            .map(|m| {
                let labels = self.store.metric_labels(m.id, now_ms, REPORT_VALUES);
                (m.id, m.name.as_str(), m.active, labels.unwrap_or_default())
            })
            .collect();
        let parties = Parties {
            tenants: self.store.tenants(now_ms),
            senders: self.store.senders(now_ms),
        };
        match format {
            Format::Json => json(&overview, &metrics, &parties),
            _ => text(&overview, &metrics, &parties),
        }
    }
}

fn distinct_json(out: &mut String, d: Distinct) {
    let estimated = matches!(d, Distinct::Estimated(_));
    let _ = write!(out, r#""distinct":{},"estimated":{estimated}"#, d.value());
}

fn label_json(out: &mut String, l: &LabelCard) {
    out.push_str(r#"{"label":"#);
    string(out, &l.name);
    out.push(',');
    distinct_json(out, l.distinct);
    let _ = write!(
        out,
        r#","series":{},"unbounded":{},"top":["#,
        l.series, l.unbounded
    );
    for (i, (value, series)) in l.top.iter().enumerate() {
        out.push_str(if i == 0 {
            r#"{"value":"#
        } else {
            r#",{"value":"#
        });
        string(out, value);
        let _ = write!(out, r#","series":{series}}}"#);
    }
    out.push_str("]}");
}

fn rate(r: f64) -> f64 {
    (r * 1000.0).round() / 1000.0
}

/// A rate not yet known (see [`crate::store::rate::RateBuckets::per_second`])
/// as JSON `null`, or in text as [`crate::format::UNKNOWN`].
fn rate_or(r: Option<f64>, unknown: &str) -> String {
    r.map_or_else(|| unknown.to_owned(), |r| rate(r).to_string())
}

/// `,"tenants":[{"tenant":…,"active":…,…},…]`: the first [`REPORT_PARTIES`].
fn parties_json(out: &mut String, key: &str, field: &str, cards: &[PartyCard]) {
    let _ = write!(out, r#","{key}":["#);
    for (i, c) in cards.iter().take(REPORT_PARTIES).enumerate() {
        let _ = write!(out, r#"{}{{"{field}":"#, if i == 0 { "" } else { "," });
        string(out, &c.name);
        let _ = write!(
            out,
            r#","active":{},"kept":{},"samples_per_s":{},"new_series_per_s":{}}}"#,
            c.active,
            c.kept,
            rate_or(c.samples_per_s, "null"),
            rate(c.new_per_s)
        );
    }
    out.push(']');
}

/// Lines for the first [`REPORT_PARTIES`] tenants or senders.
fn parties_text(out: &mut String, title: &str, cards: &[PartyCard]) {
    if cards.is_empty() {
        return;
    }
    let _ = writeln!(out, "  {title} by active series:");
    for c in cards.iter().take(REPORT_PARTIES) {
        let _ = writeln!(
            out,
            "    {}  {} active, {} kept, {} samples/s, {} new series/s",
            escaped(&c.name),
            c.active,
            c.kept,
            rate_or(c.samples_per_s, crate::format::UNKNOWN),
            rate(c.new_per_s)
        );
    }
    if cards.len() > REPORT_PARTIES {
        let _ = writeln!(out, "    … {} more", cards.len() - REPORT_PARTIES);
    }
}

fn json(
    o: &Overview,
    metrics: &[(MetricId, &str, u64, Vec<LabelCard>)],
    parties: &Parties,
) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"{{"kind":"cardinality","active_series":{},"stale_after_s":{},"new_series_per_s":{},"gone_series_per_s":{},"created_5m":{},"gone_5m":{},"metrics":["#,
        o.active,
        o.stale_after_ms / 1000,
        rate(o.new_per_s),
        rate(o.gone_per_s),
        o.change.created,
        o.change.gone,
    );
    for (i, (id, name, active, labels)) in metrics.iter().enumerate() {
        let m = o.metrics.iter().find(|m| m.id == *id);
        let (new, gone) = m.map_or((0.0, 0.0), |m| (m.new_per_s, m.gone_per_s));
        out.push_str(if i == 0 {
            r#"{"metric":"#
        } else {
            r#",{"metric":"#
        });
        string(&mut out, name);
        let share = *active as f64 / o.active.max(1) as f64;
        let _ = write!(
            out,
            r#","active":{active},"share":{},"new_per_s":{},"gone_per_s":{},"labels":["#,
            rate(share),
            rate(new),
            rate(gone)
        );
        for (j, l) in labels.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            label_json(&mut out, l);
        }
        out.push_str("]}");
    }
    out.push_str(r#"],"label_names":["#);
    for (i, l) in o.label_names.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        label_json(&mut out, l);
    }
    out.push_str(r#"],"pairs":["#);
    for (i, p) in o.pairs.iter().enumerate() {
        out.push_str(if i == 0 {
            r#"{"label":"#
        } else {
            r#",{"label":"#
        });
        string(&mut out, &p.name);
        out.push_str(r#","value":"#);
        string(&mut out, &p.value);
        let _ = write!(out, r#","series":{}}}"#, p.series);
    }
    out.push(']');
    parties_json(&mut out, "tenants", "tenant", &parties.tenants);
    parties_json(&mut out, "senders", "sender", &parties.senders);
    out.push_str("}\n");
    out
}

fn distinct_text(d: Distinct) -> String {
    match d {
        Distinct::Exact(n) => n.to_string(),
        Distinct::Estimated(n) => format!("≈{n}"),
    }
}

fn text(
    o: &Overview,
    metrics: &[(MetricId, &str, u64, Vec<LabelCard>)],
    parties: &Parties,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "cardinality: {} active series (not seen for {} or ended by a stale marker: gone), {} new/s, {} gone/s over the last minute; {} created, {} gone in 5m",
        o.active,
        format::duration_secs(o.stale_after_ms as f64 / 1000.0),
        rate(o.new_per_s),
        rate(o.gone_per_s),
        o.change.created,
        o.change.gone,
    );
    let _ = writeln!(out, "  metrics by active series:");
    for (_, name, active, labels) in metrics {
        let share = *active as f64 * 100.0 / o.active.max(1) as f64;
        let _ = writeln!(out, "    {}  {active} ({share:.1}%)", escaped(name));
        for l in labels {
            let flag = if l.unbounded { "  UNBOUNDED" } else { "" };
            let top: Vec<String> = l
                .top
                .iter()
                .map(|(v, n)| format!("{} ({n})", escaped(v)))
                .collect();
            let _ = writeln!(
                out,
                "      {}  {} distinct in {} series{flag}  top: {}",
                escaped(&l.name),
                distinct_text(l.distinct),
                l.series,
                top.join(", ")
            );
        }
    }
    let names: Vec<String> = o
        .label_names
        .iter()
        .map(|l| format!("{} {}", escaped(&l.name), distinct_text(l.distinct)))
        .collect();
    let _ = writeln!(
        out,
        "  label names by distinct values: {}",
        names.join(", ")
    );
    let pairs: Vec<String> = o
        .pairs
        .iter()
        .map(|p| format!("{}={} {}", escaped(&p.name), escaped(&p.value), p.series))
        .collect();
    let _ = writeln!(out, "  label pairs by series: {}", pairs.join(", "));
    parties_text(&mut out, "tenants", &parties.tenants);
    parties_text(&mut out, "senders", &parties.senders);
    out
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::ingest::model::{Outcome, Protocol, RequestInfo, Sample, WriteData};

    const T0: i64 = 1_732_000_000_000;

    fn tracked() -> CardinalityTracker {
        let mut tracker = CardinalityTracker::new(1000, 300_000);
        for step in 0..10i64 {
            let mut data = WriteData::default();
            for i in 0..10 {
                let id = format!("{}", step * 10 + i);
                let labels = [("__name__", "http_requests"), ("request_id", id.as_str())];
                let sample = Sample {
                    value: 1.0,
                    timestamp_ms: T0,
                    start_timestamp_ms: 0,
                };
                data.push_series(&labels, &[sample], &[]);
            }
            let hostile = [("__name__", "odd\u{1b}[2J\"name"), ("job", "a\u{202e}b")];
            let sample = Sample {
                value: 1.0,
                timestamp_ms: T0,
                start_timestamp_ms: 0,
            };
            data.push_series(&hostile, &[sample], &[]);
            let arrival = T0 + step * 1000;
            tracker.record(&Batch {
                info: RequestInfo {
                    received_at: UNIX_EPOCH + Duration::from_millis(arrival as u64),
                    protocol: Some(Protocol::V1),
                    tenant: Some("team\u{1b}[31m\"red".into()),
                    user_agent: Some("agent\u{202e}x".into()),
                    ..RequestInfo::default()
                },
                outcome: Outcome::Accepted,
                data,
            });
        }
        tracker
    }

    #[test]
    fn the_json_report_parses_and_names_the_exploding_label_first() {
        let report = tracked().report(Format::Json, T0 + 10_000);
        let v: serde_json::Value = serde_json::from_str(&report).expect(&report);
        assert_eq!(v["kind"], "cardinality");
        assert_eq!(v["active_series"], 101);
        assert_eq!(v["metrics"][0]["metric"], "http_requests");
        assert_eq!(v["metrics"][0]["active"], 100);
        let label = &v["metrics"][0]["labels"][0];
        assert_eq!(label["label"], "request_id");
        // Past the exact limit: an estimate within the sketch's error.
        assert_eq!(label["estimated"], true);
        let distinct = label["distinct"].as_f64().unwrap();
        assert!((90.0..110.0).contains(&distinct), "{distinct}");
        assert_eq!(label["unbounded"], true);
        assert_eq!(v["metrics"][1]["metric"], "odd\u{1b}[2J\"name");
        assert_eq!(v["label_names"][0]["label"], "request_id");
        assert!(!report.contains('\u{1b}'), "escaped for terminals");
        assert_eq!(v["tenants"][0]["tenant"], "team\u{1b}[31m\"red");
        assert_eq!(v["tenants"][0]["active"], 101);
        assert_eq!(v["senders"][0]["sender"], "agent\u{202e}x");
        assert_eq!(v["senders"][0]["kept"], 101);
        let per_s = v["senders"][0]["samples_per_s"].as_f64().unwrap();
        assert!(per_s > 0.0, "{per_s}");
    }

    #[test]
    fn the_text_report_escapes_sender_text() {
        let report = tracked().report(Format::Text, T0 + 10_000);
        assert!(report.contains("http_requests  100 (99.0%)"), "{report}");
        assert!(
            report.contains("distinct in 100 series  UNBOUNDED"),
            "{report}"
        );
        assert!(report.contains(r"odd\x1b[2J"), "{report}");
        assert!(report.contains(r"a\u202eb"), "{report}");
        assert!(
            report.contains(
                "  tenants by active series:\n    team\\x1b[31m\"red  101 active, 101 kept"
            ),
            "{report}"
        );
        assert!(report.contains(r"    agent\u202ex  101 active"), "{report}");
    }
}
