//! Live counters of a send run, shared with whoever watches it (the progress
//! line, a dashboard), and the summary printed at the end.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::format;

/// Longest response body kept per status, in characters.
const BODY_EXCERPT_CHARS: usize = 200;

/// Counters updated by the sending tasks; read them at any time.
#[derive(Debug, Default)]
pub struct SendStats {
    /// Requests finished: answered, or failed in transport.
    pub requests: AtomicU64,
    /// Requests answered 2xx.
    pub ok: AtomicU64,
    /// Requests answered with another status.
    pub rejected: AtomicU64,
    /// Requests that got no response (connection refused or reset, timeout).
    pub transport_errors: AtomicU64,
    /// Float samples in 2xx-answered requests.
    pub samples: AtomicU64,
    /// Native histograms in 2xx-answered requests.
    pub histograms: AtomicU64,
    /// Compressed body bytes of finished requests.
    pub bytes: AtomicU64,
    /// RW2 2xx responses whose Written headers disagree with what was sent.
    pub written_mismatches: AtomicU64,
    details: Mutex<Details>,
}

/// What is kept once per kind of failure: counts by status and first messages.
#[derive(Debug, Default, Clone)]
struct Details {
    statuses: BTreeMap<u16, (u64, String)>,
    first_transport_error: Option<String>,
    first_mismatch: Option<String>,
}

/// A copy of the counters at one moment.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// See [`SendStats::requests`].
    pub requests: u64,
    /// See [`SendStats::ok`].
    pub ok: u64,
    /// See [`SendStats::rejected`].
    pub rejected: u64,
    /// See [`SendStats::transport_errors`].
    pub transport_errors: u64,
    /// See [`SendStats::samples`].
    pub samples: u64,
    /// See [`SendStats::histograms`].
    pub histograms: u64,
    /// See [`SendStats::bytes`].
    pub bytes: u64,
    /// See [`SendStats::written_mismatches`].
    pub written_mismatches: u64,
}

/// How one request ended, as recorded by [`SendStats::record`].
#[derive(Debug)]
pub enum Delivery {
    /// 2xx; `mismatch` describes Written headers that disagree (RW2 only).
    Ok {
        /// Float samples sent.
        samples: u64,
        /// Histograms sent.
        histograms: u64,
        /// What the Written headers got wrong, if anything.
        mismatch: Option<String>,
    },
    /// Any other status, with the response body.
    Rejected {
        /// HTTP status.
        status: u16,
        /// Response body (trimmed when stored).
        body: String,
    },
    /// No response.
    Transport(String),
}

impl SendStats {
    /// Counts one finished request of `bytes` compressed bytes.
    pub fn record(&self, bytes: u64, outcome: Delivery) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        match outcome {
            Delivery::Ok {
                samples,
                histograms,
                mismatch,
            } => {
                self.ok.fetch_add(1, Ordering::Relaxed);
                self.samples.fetch_add(samples, Ordering::Relaxed);
                self.histograms.fetch_add(histograms, Ordering::Relaxed);
                if let Some(m) = mismatch {
                    self.written_mismatches.fetch_add(1, Ordering::Relaxed);
                    self.details().first_mismatch.get_or_insert(m);
                }
            }
            Delivery::Rejected { status, body } => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                let mut d = self.details();
                let entry = d
                    .statuses
                    .entry(status)
                    .or_insert_with(|| (0, excerpt(&body)));
                entry.0 += 1;
            }
            Delivery::Transport(e) => {
                self.transport_errors.fetch_add(1, Ordering::Relaxed);
                self.details().first_transport_error.get_or_insert(e);
            }
        }
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Snapshot {
            requests: load(&self.requests),
            ok: load(&self.ok),
            rejected: load(&self.rejected),
            transport_errors: load(&self.transport_errors),
            samples: load(&self.samples),
            histograms: load(&self.histograms),
            bytes: load(&self.bytes),
            written_mismatches: load(&self.written_mismatches),
        }
    }

    /// Non-2xx statuses seen: (status, count, first response body trimmed).
    pub fn statuses(&self) -> Vec<(u16, u64, String)> {
        self.details()
            .statuses
            .iter()
            .map(|(s, (n, body))| (*s, *n, body.clone()))
            .collect()
    }

    /// The end-of-run report for a run that lasted `elapsed`.
    pub fn report(&self, elapsed: Duration) -> Report {
        Report {
            totals: self.snapshot(),
            details: self.details().clone(),
            elapsed,
        }
    }

    fn details(&self) -> std::sync::MutexGuard<'_, Details> {
        // A panic while holding the lock leaves plain counters: still usable.
        self.details.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn excerpt(body: &str) -> String {
    let trimmed = body.trim();
    match trimmed.char_indices().nth(BODY_EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_owned(),
    }
}

/// Per-second rates between two snapshots `secs` apart, as a progress line.
pub fn progress_line(before: &Snapshot, now: &Snapshot, secs: f64) -> String {
    let rate = |a: u64, b: u64| format::count(b.saturating_sub(a) as f64 / secs.max(1e-9));
    format!(
        "{} req/s, {} samples/s, {}/s · 2xx {} · non-2xx {} · transport errors {}",
        rate(before.requests, now.requests),
        rate(
            before.samples + before.histograms,
            now.samples + now.histograms
        ),
        format::bytes(now.bytes.saturating_sub(before.bytes) as f64 / secs.max(1e-9)),
        now.ok,
        now.rejected,
        now.transport_errors,
    )
}

/// The final report: totals, rates and the first message of each failure kind.
#[derive(Debug, Clone)]
pub struct Report {
    /// Counters at the end.
    pub totals: Snapshot,
    details: Details,
    /// How long the run took.
    pub elapsed: Duration,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.totals;
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "sent {} requests in {}: 2xx {}, non-2xx {}, transport errors {}",
            t.requests,
            format::duration_secs(self.elapsed.as_secs_f64()),
            t.ok,
            t.rejected,
            t.transport_errors
        )?;
        write!(
            f,
            "accepted {} samples and {} histograms: {} accepted req/s, {} samples/s, {}/s",
            t.samples,
            t.histograms,
            format::count(t.ok as f64 / secs),
            format::count((t.samples + t.histograms) as f64 / secs),
            format::bytes(t.bytes as f64 / secs),
        )?;
        for (status, (n, body)) in &self.details.statuses {
            write!(f, "\n  {status} × {n}: {body}")?;
        }
        if let Some(e) = &self.details.first_transport_error {
            write!(f, "\n  transport error × {}: {e}", t.transport_errors)?;
        }
        if let Some(m) = &self.details.first_mismatch {
            write!(
                f,
                "\n  Written headers mismatch × {}: {m}",
                t.written_mismatches
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_groups_failures_by_status_with_the_first_body() {
        let stats = SendStats::default();
        let ok = || Delivery::Ok {
            samples: 10,
            histograms: 2,
            mismatch: None,
        };
        stats.record(100, ok());
        stats.record(100, ok());
        for body in ["first\n", "second"] {
            stats.record(
                50,
                Delivery::Rejected {
                    status: 400,
                    body: body.into(),
                },
            );
        }
        stats.record(0, Delivery::Transport("connection reset".into()));
        stats.record(
            100,
            Delivery::Ok {
                samples: 10,
                histograms: 0,
                mismatch: Some("samples written 9, sent 10".into()),
            },
        );
        let text = stats.report(Duration::from_secs(2)).to_string();
        assert_eq!(
            text,
            "sent 6 requests in 2s: 2xx 3, non-2xx 2, transport errors 1\n\
             accepted 30 samples and 4 histograms: 1.5 accepted req/s, 17 samples/s, 200 B/s\n  \
             400 × 2: first\n  \
             transport error × 1: connection reset\n  \
             Written headers mismatch × 1: samples written 9, sent 10"
        );
        assert_eq!(stats.statuses(), vec![(400, 2, "first".to_owned())]);
    }

    #[test]
    fn long_bodies_are_cut() {
        let long = "x".repeat(500);
        assert_eq!(excerpt(&long).chars().count(), BODY_EXCERPT_CHARS + 1);
    }
}
