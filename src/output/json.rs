//! `--format json`: one JSON object per line per sample, histogram, exemplar,
//! metadata entry, warning, problem and rejected request, and in forward mode per request;
//! a request whose output reached its limit ends with an `omitted` record.
//!
//! Written by hand, not with `serde` derive: the same records from borrowing
//! `#[derive(Serialize)]` structs through `serde_json` (with a formatter that
//! escapes what [`escape::is_hidden`] names) take 19–27% more instructions per
//! request, 1.1–1.3× the time (`cargo bench --bench output`, which checks that
//! both write the same bytes; figures in BENCHMARKS.md, "Headless JSON output").
//! Most of the difference is `serde_json` looking at every byte of every string
//! for escapes, where this writer skips clean strings 16 bytes at a time.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt::Write;

use super::budget::Omitted;
use super::{RecordWriter, problems};
use crate::format;
use crate::ingest::forward::MirrorStatus;
use crate::ingest::model::{
    Batch, BucketSpan, Forwarded, HistogramExt, NO_HTTP_STATUS, Outcome, Repeats, Upstream,
    WriteData,
};
use crate::problems::Problem;
use crate::text::escape;

/// Appends a JSON string literal. Beyond what JSON requires, every character a
/// terminal must not see raw ([`escape::is_hidden`]: DEL, C1, bidi controls, ...)
/// is written as `\uXXXX`, so the lines are safe to watch in a terminal and still
/// parse to the same strings.
pub(crate) fn string(out: &mut String, s: &str) {
    out.push('"');
    let mut copied = 0;
    if escape::may_hide(s) || memchr::memchr2(b'"', b'\\', s.as_bytes()).is_some() {
        for (i, c) in s.char_indices() {
            let short = match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                '\n' => Some("\\n"),
                '\r' => Some("\\r"),
                '\t' => Some("\\t"),
                c if escape::is_hidden(c) => None,
                _ => continue,
            };
            out.push_str(&s[copied..i]);
            match (short, escape::raw_byte(c)) {
                (Some(short), _) => out.push_str(short),
                // A byte that was not UTF-8: `\xNN` as text (JSON has no bytes).
                (None, Some(b)) => {
                    let _ = write!(out, "\\\\x{b:02x}");
                }
                // Past U+FFFF as its UTF-16 surrogates: JSON's `\u` takes four digits.
                (None, None) => {
                    for unit in c.encode_utf16(&mut [0; 2]) {
                        let _ = write!(out, "\\u{unit:04x}");
                    }
                }
            }
            copied = i + c.len_utf8();
        }
    }
    out.push_str(&s[copied..]);
    out.push('"');
}

/// Labels as the members of a JSON object.
pub enum JsonLabels<'a, I> {
    /// Names sorted and unique, as senders send them: a member per pair.
    Pairs(I),
    /// Names that repeat (invalid, but sent: OpenTelemetry's exporter maps `a.b`
    /// and `a_b` both to `a_b`) or come unsorted: a member per name, in the order
    /// names first appear, with all its values in request order, since `jq` would
    /// keep only the last of repeated keys.
    Grouped(Vec<(&'a str, Vec<&'a str>)>),
}

/// `pairs` as [`JsonLabels`].
pub fn json_labels<'a, I>(pairs: I) -> JsonLabels<'a, I>
where
    I: Iterator<Item = (&'a str, &'a str)> + Clone,
{
    let mut names = pairs.clone().map(|(k, _)| k);
    let mut previous = names.next();
    // Names are unique when each is greater than the last.
    let sorted_and_unique = names.all(|k| {
        let greater = previous.is_none_or(|p| p < k);
        previous = Some(k);
        greater
    });
    if sorted_and_unique {
        return JsonLabels::Pairs(pairs);
    }
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    for (name, value) in pairs {
        match group_of.entry(name) {
            Entry::Occupied(group) => groups[*group.get()].1.push(value),
            Entry::Vacant(group) => {
                group.insert(groups.len());
                groups.push((name, vec![value]));
            }
        }
    }
    JsonLabels::Grouped(groups)
}

/// Appends labels as an object (see [`JsonLabels`]): `"a_b":["x","y"]` for a
/// repeated name.
fn labels<'a>(out: &mut String, pairs: impl Iterator<Item = (&'a str, &'a str)> + Clone) {
    out.push('{');
    match json_labels(pairs) {
        JsonLabels::Pairs(pairs) => {
            for (i, (name, value)) in pairs.enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(out, name);
                out.push(':');
                string(out, value);
            }
        }
        JsonLabels::Grouped(groups) => {
            for (i, (name, values)) in groups.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(out, name);
                out.push(':');
                match values.as_slice() {
                    [value] => string(out, value),
                    values => {
                        out.push('[');
                        for (n, value) in values.iter().enumerate() {
                            if n > 0 {
                                out.push(',');
                            }
                            string(out, value);
                        }
                        out.push(']');
                    }
                }
            }
        }
    }
    out.push('}');
}

fn value(out: &mut String, v: f64) {
    out.push('"');
    format::write_value(out, v);
    out.push('"');
}

fn values(out: &mut String, vs: &[f64]) {
    out.push('[');
    for (i, v) in vs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        value(out, *v);
    }
    out.push(']');
}

fn spans(out: &mut String, spans: &[BucketSpan]) {
    out.push('[');
    for (i, s) in spans.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, r#"{{"offset":{},"length":{}}}"#, s.offset, s.length);
    }
    out.push(']');
}

/// `--format json`'s [`RecordWriter`].
pub struct Json;

impl RecordWriter for Json {
    fn head(out: &mut String, batch: &Batch) {
        if let Outcome::Rejected {
            status,
            reason,
            message,
        } = &batch.outcome
        {
            // No HTTP status for a failed TLS handshake: null.
            let status = Some(*status).filter(|&s| s != NO_HTTP_STATUS);
            let status = status.map_or("null".into(), |s| s.to_string());
            let _ = write!(
                out,
                r#"{{"kind":"rejected","status":{status},"reason":"{}","message":"#,
                reason.name()
            );
            string(out, message);
            request_fields(out, batch);
            out.push_str("}\n");
        }
        if let Outcome::Forwarded(forwarded) = &batch.outcome {
            request_record(out, batch, forwarded);
        }
        for w in &batch.data.warnings {
            out.push_str(r#"{"kind":"warning","message":"#);
            string(out, w);
            request_fields(out, batch);
            out.push_str("}\n");
        }
    }

    fn problem(out: &mut String, data: &WriteData, problem: &Problem) {
        let rule = problem.rule;
        let _ = write!(
            out,
            r#"{{"kind":"problem","rule":"{}","severity":"{}","labels":"#,
            rule.id(),
            rule.severity().name()
        );
        let (series, refused) = problems::labels_of(data, problem);
        match series {
            Some(range) => labels(out, data.label_pairs(range)),
            None => out.push_str("null"),
        }
        match problem.timestamp_ms {
            Some(ts) => {
                let _ = write!(out, r#","timestamp_ms":{ts}"#);
            }
            None => out.push_str(r#","timestamp_ms":null"#),
        }
        let _ = write!(
            out,
            r#","count":{},"refused":{refused},"message":"#,
            problem.count
        );
        string(out, &problem.message.text());
        out.push_str("}\n");
    }

    /// `{"kind":"omitted","reason":"max_problems",...}`: firings past the
    /// problems a request lists.
    fn not_listed(out: &mut String, batch: &Batch, n: super::NotListed) {
        let _ = write!(
            out,
            r#"{{"kind":"omitted","reason":"max_problems","max_problems":{},"firings":{},"series":{}"#,
            crate::problems::MAX_PROBLEMS,
            n.firings,
            n.series
        );
        request_fields(out, batch);
        out.push_str("}\n");
    }

    fn record(out: &mut String, data: &WriteData, record: super::Record<'_>) {
        write_record(out, data, record);
    }

    /// `{"kind":"omitted", ...}`: the request's output reached its limit;
    /// how many records of each kind were not printed.
    fn omitted(out: &mut String, batch: &Batch, o: &Omitted) {
        let _ = write!(
            out,
            r#"{{"kind":"omitted","reason":"output_limit","limit_bytes":{},"series":{},"samples":{},"histograms":{},"exemplars":{},"metadata":{},"problems":{}"#,
            o.limit_bytes, o.series, o.samples, o.histograms, o.exemplars, o.metadata, o.problems
        );
        request_fields(out, batch);
        out.push_str("}\n");
    }
}

fn request_fields(out: &mut String, batch: &Batch) {
    let info = &batch.info;
    out.push_str(r#","path":"#);
    string(out, &info.path);
    if let Some(addr) = info.remote_addr {
        let _ = write!(out, r#","remote_addr":"{addr}""#);
    }
    if let Some(ua) = &info.user_agent {
        out.push_str(r#","user_agent":"#);
        string(out, ua);
    }
    if let Some(protocol) = info.protocol {
        let _ = write!(out, r#","protocol":"{}""#, protocol.name());
    }
    if let Some(tenant) = &info.tenant {
        out.push_str(r#","tenant":"#);
        string(out, tenant);
    }
    if let Repeats::Shown { more } = info.repeats
        && more > 0
    {
        let _ = write!(out, r#","repeats":{more}"#);
    }
}

/// Forward mode's record of a request: the sender's side (the status it got,
/// how long it waited, what it sent) and the backend's (its status, latency
/// and message), so that `jq` can pick out what a backend refused.
fn request_record(out: &mut String, batch: &Batch, forwarded: &Forwarded) {
    let millis = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    // When it arrived, and which resend it says it is: what ties retries to
    // an outage's times.
    let received_ms = batch
        .info
        .received_at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    // The sender's side: what it got and how long it waited; nothing, if it
    // gave up waiting.
    let _ = match forwarded.sender_gave_up {
        Some(after) => write!(
            out,
            r#"{{"kind":"request","received_ms":{received_ms},"status":null,"latency_ms":{:.3},"gave_up":true"#,
            millis(after)
        ),
        None => write!(
            out,
            r#"{{"kind":"request","received_ms":{received_ms},"status":{},"latency_ms":{:.3}"#,
            forwarded.status(),
            millis(forwarded.total_latency)
        ),
    };
    request_fields(out, batch);
    if let Some(attempt) = &batch.info.retry_attempt {
        out.push_str(r#","retry_attempt":"#);
        string(out, attempt);
    }
    let counts = batch.data.counts();
    let _ = write!(
        out,
        r#","compressed_bytes":{},"series":{},"samples":{},"histograms":{},"exemplars":{}"#,
        batch.info.compressed_bytes,
        counts.series,
        counts.samples,
        counts.histograms,
        counts.exemplars
    );
    let answered = matches!(forwarded.upstream, Upstream::Answered { .. });
    let _ = write!(out, r#","backend":{{"answered":{answered}"#);
    if answered {
        let _ = write!(out, r#","status":{}"#, forwarded.status());
    }
    let _ = write!(
        out,
        r#","latency_ms":{:.3}"#,
        millis(forwarded.backend_latency)
    );
    if let Some(message) = forwarded.message() {
        out.push_str(r#","message":"#);
        string(out, &message);
    }
    out.push('}');
    if !forwarded.mirrors.is_empty() {
        // As known when printed: mirrors nobody waits for may still be pending.
        out.push_str(r#","mirrors":["#);
        for (i, status) in forwarded.mirrors.get().into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match status {
                MirrorStatus::Answered(code) => {
                    let _ = write!(out, "{code}");
                }
                other => string(out, &other.text()),
            }
        }
        out.push(']');
    }
    if let Some(undecodable) = &forwarded.undecodable {
        let _ = write!(
            out,
            r#","undecodable":{{"reason":"{}","message":"#,
            undecodable.reason.name()
        );
        string(out, &undecodable.message);
        out.push('}');
    }
    out.push_str("}\n");
}

fn write_record(out: &mut String, data: &WriteData, record: super::Record<'_>) {
    use super::Record;
    match record {
        Record::Sample { series, sample } => {
            out.push_str(r#"{"kind":"sample","labels":"#);
            labels(out, data.label_pairs(series.labels.clone()));
            let _ = write!(out, r#","timestamp_ms":{},"value":"#, sample.timestamp_ms);
            value(out, sample.value);
            start_timestamp(out, sample.effective_start_ts(series));
        }
        Record::Histogram {
            series,
            histogram: h,
        } => {
            out.push_str(r#"{"kind":"histogram","labels":"#);
            labels(out, data.label_pairs(series.labels.clone()));
            let _ = write!(out, r#","timestamp_ms":{},"count":"#, h.timestamp);
            value(out, h.total_count());
            out.push_str(r#","sum":"#);
            value(out, h.sum);
            let _ = write!(out, r#","schema":{},"zero_threshold":"#, h.schema);
            value(out, h.zero_threshold);
            out.push_str(r#","zero_count":"#);
            value(out, h.zero_count_value());
            out.push_str(r#","positive_spans":"#);
            spans(out, &h.positive_spans);
            out.push_str(r#","positive_buckets":"#);
            values(out, &h.positive_buckets());
            out.push_str(r#","negative_spans":"#);
            spans(out, &h.negative_spans);
            out.push_str(r#","negative_buckets":"#);
            values(out, &h.negative_buckets());
            if !h.custom_values.is_empty() {
                out.push_str(r#","custom_values":"#);
                values(out, &h.custom_values);
            }
            let _ = write!(
                out,
                r#","counts":"{}","reset_hint":"{}""#,
                if h.is_float() { "float" } else { "integer" },
                h.reset_hint_name()
            );
            start_timestamp(out, h.effective_start_ts(series));
        }
        Record::Exemplar { series, exemplar } => {
            out.push_str(r#"{"kind":"exemplar","labels":"#);
            labels(out, data.label_pairs(series.labels.clone()));
            out.push_str(r#","exemplar_labels":"#);
            labels(out, data.label_pairs(exemplar.labels.clone()));
            let _ = write!(out, r#","timestamp_ms":{},"value":"#, exemplar.timestamp_ms);
            value(out, exemplar.value);
        }
        Record::Metadata(m) => {
            out.push_str(r#"{"kind":"metadata","metric":"#);
            string(out, data.str(m.family));
            let _ = write!(out, r#","type":"{}","help":"#, m.metric_type.name());
            string(out, data.str(m.help));
            out.push_str(r#","unit":"#);
            string(out, data.str(m.unit));
        }
    }
    out.push_str("}\n");
}

/// Adds `start_timestamp_ms` when the sample (RW2 ≥ 3.10) or its series (RW2 ≤ 3.9) has one.
fn start_timestamp(out: &mut String, ts: i64) {
    if ts != 0 {
        let _ = write!(out, r#","start_timestamp_ms":{ts}"#);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels_json(pairs: &[(&str, &str)]) -> String {
        let mut out = String::new();
        labels(&mut out, pairs.iter().copied());
        out
    }

    /// Hidden characters past U+FFFF (tag characters) are escaped as JSON
    /// has it, as UTF-16 surrogates: `\ue0041` parsed as U+E004 and a `1`.
    #[test]
    fn hidden_characters_parse_back_to_themselves() {
        for s in [
            "api\u{e0041}",
            "x\u{1bca0}y",
            "a\u{202e}b\u{fe0f}",
            "\u{1d173}",
        ] {
            let mut out = String::new();
            string(&mut out, s);
            assert!(out.is_ascii(), "{out}");
            let parsed: String = serde_json::from_str(&out).expect(&out);
            assert_eq!(parsed, s, "{out}");
        }
    }

    #[test]
    fn repeated_label_names_keep_every_value() {
        assert_eq!(
            labels_json(&[("__name__", "m"), ("a_b", "x"), ("a_b", "y"), ("z", "1")]),
            r#"{"__name__":"m","a_b":["x","y"],"z":"1"}"#
        );
        // Unsorted: members in the order names first appear, values in request order.
        assert_eq!(
            labels_json(&[
                ("z", "1"),
                ("a", "2"),
                ("z", "3"),
                ("__name__", "m"),
                ("z", "4")
            ]),
            r#"{"z":["1","3","4"],"a":"2","__name__":"m"}"#
        );
        assert_eq!(
            labels_json(&[("b", "1"), ("a", "2")]),
            r#"{"b":"1","a":"2"}"#
        );
        assert_eq!(labels_json(&[("a", "1")]), r#"{"a":"1"}"#);
        assert_eq!(labels_json(&[]), "{}");
        assert_eq!(labels_json(&[("", ""), ("", "")]), r#"{"":["",""]}"#);
    }
}
