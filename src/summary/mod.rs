//! Run totals, distinct series and the end-of-run summary: recorded from every
//! request handed to a consumer, outside the dashboard, so it is complete
//! whatever state the dashboard is in. The dashboard's store keeps totals and
//! distinct counts of its own with the same parts.

pub mod distinct;
pub mod tenants;
pub mod totals;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::format;
use crate::ingest::model::Batch;
use crate::ingest::server::ReceiverStats;
use crate::problems::Counts;
use crate::text::escape;
use distinct::{DistinctCount, DistinctCounter};
use tenants::Tenants;
use totals::{Answers, Totals};

/// Senders the summary lists, busiest first: a screenful.
const SUMMARY_SENDERS: usize = 20;

/// Totals of a run and the distinct series it saw, printed at the end.
pub struct RunSummary {
    totals: Totals,
    series: DistinctCounter,
    tenants: Tenants,
    problems: Counts,
    /// Requests whose headless output stopped at its limit, and the records
    /// they did not print.
    output_cut: (u64, u64),
    started: Instant,
    stats: Arc<ReceiverStats>,
}

impl RunSummary {
    /// An empty summary of a run starting now; `stats` counts what the receiver dropped.
    pub fn new(stats: Arc<ReceiverStats>) -> Self {
        RunSummary {
            totals: Totals::default(),
            series: DistinctCounter::default(),
            tenants: Tenants::default(),
            problems: Counts::default(),
            output_cut: (0, 0),
            started: Instant::now(),
            stats,
        }
    }

    /// Adds one request.
    pub fn record(&mut self, batch: &Batch) {
        self.totals.record(batch);
        for s in &batch.data.series {
            self.series.insert(s.label_hash);
        }
        self.tenants.record(batch);
        self.problems.add_all(batch.data.problem_counts());
    }

    /// Counts a request whose output stopped at its limit with `records` not printed.
    pub fn record_output_cut(&mut self, records: usize) {
        self.output_cut.0 += 1;
        self.output_cut.1 += records as u64;
    }

    /// Problems per rule found in the requests so far.
    pub fn problems(&self) -> &Counts {
        &self.problems
    }

    /// The totals so far.
    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// Distinct series so far.
    pub fn distinct_series(&self) -> DistinctCount {
        self.series.count()
    }
}

impl std::fmt::Display for RunSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = &self.totals;
        let c = &t.counts;
        writeln!(
            f,
            "promscope summary after {}",
            format::duration_secs(self.started.elapsed().as_secs_f64())
        )?;
        // In forward mode the backend's rejections and silences are not
        // promscope's: the line says whose each is, as the header does.
        let forwarding = self.stats.forward.get().is_some();
        write!(f, "  requests    {}", t.answers().text(forwarding))?;
        let refused = t.refused(forwarding);
        if !refused.is_empty() {
            write!(f, " ({})", totals::by_reason(refused))?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "  received    {} samples, {} histograms, {} exemplars, {} metadata",
            c.samples, c.histograms, c.exemplars, c.metadata
        )?;
        writeln!(
            f,
            "  bytes       {} compressed, {} decoded",
            format::bytes(t.compressed_bytes as f64),
            format::bytes(t.decoded_bytes as f64)
        )?;
        let distinct = self.series.count();
        write!(f, "  series      {distinct} distinct")?;
        if let DistinctCount::Estimated(_) = distinct {
            write!(f, " (estimated)")?;
        }
        writeln!(f)?;
        if self.problems.total() > 0 {
            let by_rule: Vec<String> = self
                .problems
                .fired()
                .map(|(rule, n)| format!("{}: {n}", rule.id()))
                .collect();
            writeln!(
                f,
                "  problems    {} ({})",
                self.problems.total(),
                by_rule.join(", ")
            )?;
        }
        let (cut, not_printed) = self.output_cut;
        if cut > 0 {
            writeln!(
                f,
                "  output      {cut} {} printed up to {} output limit: {not_printed} records not printed (each said so in an `omitted` record)",
                format::plural(cut, "request", "requests"),
                if cut == 1 { "its" } else { "their" },
            )?;
        }
        let dropped = self.stats.dropped_requests.load(Ordering::Relaxed);
        let dropped_samples = self.stats.dropped_samples.load(Ordering::Relaxed);
        writeln!(
            f,
            "  dropped     {dropped} requests ({dropped_samples} samples) answered 503 while promscope fell behind"
        )?;
        if let Some(forward) = self.stats.forward.get() {
            let n = forward.snapshot();
            let latency = n.latency.map_or(String::new(), |(p50, p99)| {
                format!(
                    "; latency p50 {} p99 {} in the last minute",
                    crate::format::quantile_latency(p50),
                    crate::format::quantile_latency(p99)
                )
            });
            writeln!(
                f,
                "  forwarded   to {}: {} ok, {} rejected by the backend, {} without an answer (502/504), {} not inspected{}{latency}",
                crate::text::escape::escaped(&n.backend),
                n.ok,
                n.rejected,
                n.failed,
                n.uninspected + n.pending,
                match n.pending {
                    0 => String::new(),
                    p => format!(" ({p} still waiting to be decoded at exit)"),
                }
            )?;
            for m in &n.mirrors {
                write!(
                    f,
                    "  mirrored    to {}: {} ok, {} failed or unanswered, {} not sent (queue full)",
                    crate::text::escape::escaped(&m.url),
                    m.ok,
                    m.failed,
                    m.overflow
                )?;
                // Nobody waits for mirrors: those still in flight at exit.
                if m.pending > 0 {
                    write!(f, ", {} still pending at exit", m.pending)?;
                }
                writeln!(f)?;
            }
        }
        let senders = &t.senders;
        write!(f, "  senders     {}", senders.seen())?;
        let listed = senders.busiest(SUMMARY_SENDERS);
        for (sender, s) in &listed {
            write!(
                f,
                "\n    {}  {}  {}",
                escape::escaped(&sender.to_string()),
                s.protocols(),
                s.answers.text(forwarding)
            )?;
        }
        let more = senders.seen().value().saturating_sub(listed.len() as u64);
        if more > 0 {
            let all: Answers = (senders.iter().map(|(_, s)| s.answers))
                .chain([senders.others.answers])
                .sum();
            let shown: Answers = listed.iter().map(|(_, s)| s.answers).sum();
            write!(
                f,
                "\n    … {more} more: {}",
                all.less(shown).text(forwarding)
            )?;
        }
        self.write_tenants(f)
    }
}

impl RunSummary {
    /// The tenants, when requests had any: per tenant its distinct series and
    /// samples, each also per second of the run, and its requests.
    fn write_tenants(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tenants = &self.tenants;
        let seen = tenants.seen();
        if seen.value() == 0 {
            return Ok(());
        }
        let secs = self.started.elapsed().as_secs_f64().max(1.0);
        let per_s = |n: u64| format::rate(n as f64 / secs);
        write!(f, "\n  tenants     {seen}")?;
        let listed = tenants.busiest(SUMMARY_SENDERS);
        for (tenant, t) in &listed {
            let series = t.series();
            write!(
                f,
                "\n    {}  {series} series ({} new/s), {} samples ({}/s), {} {}",
                escape::escaped(tenant),
                per_s(series.value()),
                t.samples,
                per_s(t.samples),
                t.requests,
                format::plural(t.requests, "request", "requests"),
            )?;
        }
        let more = seen.value().saturating_sub(listed.len() as u64);
        if more > 0 {
            let (samples, requests) = tenants
                .iter()
                .chain(&tenants.others)
                .fold((0, 0), |(s, r), t| (s + t.samples, r + t.requests));
            let (listed_samples, listed_requests) = listed
                .iter()
                .fold((0, 0), |(s, r), (_, t)| (s + t.samples, r + t.requests));
            write!(
                f,
                "\n    … {more} more: {} samples, {} requests",
                samples - listed_samples,
                requests - listed_requests
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::model::{Outcome, ReceivedSeries, Repeats, RequestInfo, WriteData};

    /// An accepted request with one series per hash.
    fn batch_of(hashes: impl IntoIterator<Item = u64>) -> Batch {
        batch_from("test", hashes)
    }

    /// An accepted request from `user_agent` with one series per hash.
    fn batch_from(user_agent: &str, hashes: impl IntoIterator<Item = u64>) -> Batch {
        let mut data = WriteData::default();
        data.series = hashes
            .into_iter()
            .map(|label_hash| ReceivedSeries {
                labels: 0..0,
                samples: 0..0,
                histograms: 0..0,
                exemplars: 0..0,
                metadata: None,
                created_timestamp_ms: 0,
                label_hash,
                labels_sorted: false,
            })
            .collect();
        let info = RequestInfo {
            received_at: std::time::SystemTime::now(),
            remote_addr: None,
            path: "/".into(),
            user_agent: Some(user_agent.into()),
            protocol: None,
            compressed_bytes: 0,
            decoded_bytes: 0,
            retry_attempt: None,
            tenant: None,
            raw: None,
            repeats: Repeats::Alone,
        };
        Batch {
            info,
            outcome: Outcome::Accepted,
            data,
        }
    }

    /// A request from `user_agent` refused for `reason`.
    fn refused_from(user_agent: &str, reason: crate::ingest::model::RejectReason) -> Batch {
        let mut batch = batch_from(user_agent, []);
        batch.outcome = Outcome::Rejected {
            status: 400,
            reason,
            message: String::new(),
        };
        batch
    }

    #[test]
    fn in_forward_mode_the_backends_rejections_are_not_called_promscopes() {
        use crate::ingest::forward::ForwardStats;
        use crate::ingest::forward::mirror::MirrorCounts;
        use crate::ingest::model::RejectReason::{Backend, BackendUnavailable, TooLarge};
        let mirror = Arc::new(MirrorCounts::new("http://mirror/api/v1/write"));
        let forward = ForwardStats::new("http://backend", false, vec![mirror.clone()]);
        let stats = ReceiverStats::forwarding(Some(Arc::new(forward)));
        let mut summary = RunSummary::new(Arc::new(stats));
        for _ in 0..3 {
            summary.record(&batch_from("Prometheus/3.16.0", []));
        }
        summary.record(&refused_from("Prometheus/3.16.0", Backend));
        summary.record(&refused_from("Prometheus/3.16.0", BackendUnavailable));
        summary.record(&refused_from("Prometheus/3.16.0", BackendUnavailable));
        summary.record(&refused_from("curl/8.5.0", TooLarge));
        let text = summary.to_string();
        assert!(
            text.contains(
                "\n  requests    3 accepted, 1 rejected and 2 not answered by the backend, 1 refused by promscope (too_large: 1)\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("\n    Prometheus/3.16.0  ?  3 accepted, 1 rejected and 2 not answered by the backend, 0 refused by promscope\n"),
            "{text}"
        );
        assert!(
            text.contains("\n    curl/8.5.0  ?  0 accepted, 0 rejected and 0 not answered by the backend, 1 refused by promscope"),
            "{text}"
        );

        // 6 to mirror: 1 not sent, 5 sent (2 ok, 1 failed, 2 still in flight).
        mirror.sent.store(5, std::sync::atomic::Ordering::Relaxed);
        mirror.ok.store(2, std::sync::atomic::Ordering::Relaxed);
        mirror.failed.store(1, std::sync::atomic::Ordering::Relaxed);
        mirror
            .overflow
            .store(1, std::sync::atomic::Ordering::Relaxed);
        let text = summary.to_string();
        assert!(
            text.contains("\n  mirrored    to http://mirror/api/v1/write: 2 ok, 1 failed or unanswered, 1 not sent (queue full), 2 still pending at exit\n"),
            "{text}"
        );
    }

    #[test]
    fn outside_forward_mode_every_rejection_is_a_rejection() {
        use crate::ingest::model::RejectReason::{Backend, TooLarge};
        let mut summary = RunSummary::new(Arc::default());
        summary.record(&batch_from("a", []));
        // An old capture's backend refusals, replayed without forward mode.
        summary.record(&refused_from("a", Backend));
        summary.record(&refused_from("a", TooLarge));
        let text = summary.to_string();
        assert!(
            text.contains("\n  requests    1 accepted, 2 rejected (too_large: 1, backend: 1)\n"),
            "{text}"
        );
        assert!(
            text.contains("\n    a  ?  1 accepted, 2 rejected"),
            "{text}"
        );
    }

    #[test]
    fn summary_says_when_the_distinct_series_count_is_an_estimate() {
        let mut summary = RunSummary::new(Arc::default());
        summary.record(&batch_of(0..3));
        let exact = summary.to_string();
        assert!(exact.contains("\n  series      3 distinct\n"), "{exact}");
        summary.record(&batch_of(0..2_000_000));
        let estimated = summary.to_string();
        assert!(
            estimated.contains("\n  series      ≈2.0M distinct (estimated)\n"),
            "{estimated}"
        );
    }

    #[test]
    fn the_summary_lists_tenants_with_their_series_and_samples() {
        let mut summary = RunSummary::new(Arc::default());
        summary.record(&batch_of(0..3));
        assert!(!summary.to_string().contains("tenants"));
        let as_tenant = |tenant: &str, hashes: std::ops::Range<u64>| {
            let mut b = batch_of(hashes);
            b.info.tenant = Some(tenant.into());
            b.data.belong_to_tenant(tenant);
            b
        };
        // The same label sets from two tenants are two tenants' series.
        summary.record(&as_tenant("team-a", 0..3));
        summary.record(&as_tenant("team-a", 0..4));
        summary.record(&as_tenant("team-b\u{1b}", 0..3));
        for i in 0..300 {
            summary.record(&as_tenant(&format!("one-off-{i}"), 0..1));
        }
        let text = summary.to_string();
        assert!(text.contains("\n  series      310 distinct\n"), "{text}");
        assert!(
            text.contains("\n  tenants     302\n    team-a  4 series"),
            "{text}"
        );
        // Batches of series without samples: 0 samples.
        assert!(
            text.contains("\n    team-a  4 series (4 new/s), 0 samples (0/s), 2 requests\n"),
            "{text}"
        );
        assert!(
            text.contains("\n    team-b\\x1b  3 series (3 new/s), 0 samples (0/s), 1 request\n"),
            "{text}"
        );
        let last = text.lines().last().unwrap();
        assert_eq!(last, "    … 282 more: 0 samples, 282 requests");
    }

    #[test]
    fn the_summary_lists_a_screenful_of_senders_and_counts_the_rest() {
        let mut summary = RunSummary::new(Arc::default());
        for i in 0..5_000 {
            if i % 2 == 0 {
                summary.record(&batch_from("Prometheus/3.5.3", []));
            }
            summary.record(&batch_from(&format!("one-off/{i}"), []));
        }
        let text = summary.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() <= 30, "{} lines:\n{text}", lines.len());
        assert!(text.contains("\n  senders     5001\n"), "{text}");
        assert!(
            text.contains("\n    Prometheus/3.5.3  ?  2500 accepted, 0 rejected\n"),
            "{text}"
        );
        let last = lines.last().unwrap();
        assert_eq!(*last, "    … 4981 more: 4981 accepted, 0 rejected");
    }
}
