//! Run totals: requests by outcome, what they carried, and who sent them.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use crate::ingest::model::{Batch, Counts, Outcome, Protocol, RejectReason};

/// A sender: User-Agent and peer IP address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sender {
    /// User-Agent header ("" when absent).
    pub user_agent: String,
    /// Peer address.
    pub ip: Option<IpAddr>,
}

impl std::fmt::Display for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ua = if self.user_agent.is_empty() {
            "(no User-Agent)"
        } else {
            &self.user_agent
        };
        match self.ip {
            Some(ip) => write!(f, "{ua} @ {ip}"),
            None => f.write_str(ua),
        }
    }
}

/// What one sender has sent.
#[derive(Debug, Clone, Default)]
pub struct SenderTotals {
    /// Accepted requests.
    pub accepted: u64,
    /// Rejected requests.
    pub rejected: u64,
    /// Requests per protocol: RW 1.0, RW 2.0.
    pub by_protocol: [u64; 2],
}

impl SenderTotals {
    /// `RW1`, `RW2`, `RW1+RW2`, or `?` when no request had a recognized protocol.
    pub fn protocols(&self) -> &'static str {
        match self.by_protocol {
            [0, 0] => "?",
            [_, 0] => "RW1",
            [0, _] => "RW2",
            _ => "RW1+RW2",
        }
    }
}

/// Totals over the whole run.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// Requests answered 2xx.
    pub accepted: u64,
    /// Rejected requests, by reason.
    pub rejected: BTreeMap<RejectReason, u64>,
    /// What accepted requests carried.
    pub counts: Counts,
    /// Bytes received (compressed).
    pub compressed_bytes: u64,
    /// Bytes after decompression.
    pub decoded_bytes: u64,
    /// Per sender.
    pub senders: HashMap<Sender, SenderTotals>,
}

impl Totals {
    /// Adds one request.
    pub fn record(&mut self, batch: &Batch) {
        let info = &batch.info;
        self.compressed_bytes += info.compressed_bytes as u64;
        self.decoded_bytes += info.decoded_bytes as u64;
        let sender = Sender {
            user_agent: info.user_agent.clone().unwrap_or_default(),
            ip: info.remote_addr.map(|a| a.ip()),
        };
        let per_sender = self.senders.entry(sender).or_default();
        match info.protocol {
            Some(Protocol::V1) => per_sender.by_protocol[0] += 1,
            Some(Protocol::V2) => per_sender.by_protocol[1] += 1,
            None => {}
        }
        match &batch.outcome {
            Outcome::Accepted => {
                self.accepted += 1;
                per_sender.accepted += 1;
                self.counts += batch.data.counts();
            }
            Outcome::Rejected { reason, .. } => {
                *self.rejected.entry(*reason).or_default() += 1;
                per_sender.rejected += 1;
            }
        }
    }

    /// All rejected requests.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }

    /// `bad_snappy: 2, too_large: 1`.
    pub fn rejected_by_reason(&self) -> String {
        self.rejected
            .iter()
            .map(|(reason, n)| format!("{}: {n}", reason.name()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
