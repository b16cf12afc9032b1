//! Run totals: requests by outcome, what they carried, and who sent them.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::time::SystemTime;

use super::distinct::{DistinctCount, DistinctCounter};
use crate::ingest::model::{Batch, Counts, Protocol, RejectReason, RequestInfo};
pub use crate::ingest::model::{MAX_USER_AGENT_BYTES, Sender};

/// Requests by what became of them, and whose doing it was: in forward mode
/// the backend's part (taken, rejected, never answered) apart from what
/// promscope refused itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Answers {
    /// Answered 2xx (in forward mode: taken by the backend).
    pub accepted: u64,
    /// Refused by promscope's own checks.
    pub refused: u64,
    /// Forward mode: refused by the backend.
    pub backend_rejected: u64,
    /// Forward mode: the backend never answered (promscope's 502 or 504).
    pub unanswered: u64,
}

impl Answers {
    /// Counts `n` requests refused for `reason` (`None`: accepted).
    fn add(&mut self, reason: Option<RejectReason>, n: u64) {
        let counter = match reason {
            None => &mut self.accepted,
            Some(RejectReason::Backend) => &mut self.backend_rejected,
            Some(RejectReason::BackendUnavailable) => &mut self.unanswered,
            Some(_) => &mut self.refused,
        };
        *counter += n;
    }

    /// Requests not accepted, whoever refused them.
    pub fn rejected(&self) -> u64 {
        self.refused + self.backend_rejected + self.unanswered
    }

    /// All requests.
    pub fn total(&self) -> u64 {
        self.accepted + self.rejected()
    }

    /// Each count less `other`'s (never below 0).
    pub fn less(self, other: Answers) -> Answers {
        Answers {
            accepted: self.accepted.saturating_sub(other.accepted),
            refused: self.refused.saturating_sub(other.refused),
            backend_rejected: self.backend_rejected.saturating_sub(other.backend_rejected),
            unanswered: self.unanswered.saturating_sub(other.unanswered),
        }
    }

    /// `3 accepted, 2 rejected`; in forward mode, where the backend's
    /// rejections and silences are not promscope's, `3 accepted, 1 rejected
    /// and 0 not answered by the backend, 1 refused by promscope`.
    pub fn text(&self, forwarding: bool) -> String {
        if forwarding {
            format!(
                "{} accepted, {} rejected and {} not answered by the backend, {} refused by promscope",
                self.accepted, self.backend_rejected, self.unanswered, self.refused
            )
        } else {
            format!("{} accepted, {} rejected", self.accepted, self.rejected())
        }
    }
}

impl std::ops::AddAssign for Answers {
    fn add_assign(&mut self, other: Answers) {
        self.accepted += other.accepted;
        self.refused += other.refused;
        self.backend_rejected += other.backend_rejected;
        self.unanswered += other.unanswered;
    }
}

impl std::iter::Sum for Answers {
    fn sum<I: Iterator<Item = Answers>>(iter: I) -> Answers {
        iter.fold(Answers::default(), |mut sum, a| {
            sum += a;
            sum
        })
    }
}

/// What one sender has sent.
#[derive(Debug, Clone, Default)]
pub struct SenderTotals {
    /// Its requests by what became of them.
    pub answers: Answers,
    /// Requests per protocol, in the order of [`Protocol::ALL`].
    pub by_protocol: [u64; 3],
    /// When its latest request arrived.
    pub last_seen: Option<SystemTime>,
}

impl SenderTotals {
    /// Accepted and rejected requests.
    pub fn requests(&self) -> u64 {
        self.answers.total()
    }

    fn add(&mut self, other: &SenderTotals) {
        self.answers += other.answers;
        for (mine, theirs) in self.by_protocol.iter_mut().zip(other.by_protocol) {
            *mine += theirs;
        }
        self.last_seen = self.last_seen.max(other.last_seen);
    }

    /// The protocols used, `RW1`, `RW2`, `VM` joined with `+`, or `?` when no
    /// request had a recognized protocol.
    pub fn protocols(&self) -> String {
        let used: Vec<&str> = Protocol::ALL
            .iter()
            .filter(|p| self.by_protocol[p.index()] > 0)
            .map(|p| p.name())
            .collect();
        if used.is_empty() {
            "?".to_owned()
        } else {
            used.join("+")
        }
    }
}

/// Senders kept with totals of their own; beyond, the least busy is folded into
/// [`Senders::others`] to make room. With the User-Agent cut, this bounds the
/// map to well under a megabyte, however many senders there are.
pub const MAX_SENDERS: usize = 1000;

/// Who sent requests: the busiest [`MAX_SENDERS`] with their own totals, the
/// rest together, and how many there were.
#[derive(Debug, Default)]
pub struct Senders {
    kept: HashMap<Sender, SenderTotals>,
    /// What the senders that were folded away had sent.
    pub others: SenderTotals,
    distinct: DistinctCounter,
}

impl Senders {
    /// Adds a request from `info`'s sender, refused for `rejected` (`None`: accepted).
    fn record(&mut self, info: &RequestInfo, rejected: Option<RejectReason>) {
        let sender = Sender::of(info);
        self.distinct
            .insert(crate::hashing::state(0x7365_6e64).hash_one(&sender));
        if self.kept.len() >= MAX_SENDERS && !self.kept.contains_key(&sender) {
            self.fold_least_busy();
        }
        let totals = self.kept.entry(sender).or_default();
        let requests = info.counted();
        if let Some(protocol) = info.protocol {
            totals.by_protocol[protocol.index()] += requests;
        }
        totals.answers.add(rejected, requests);
        totals.last_seen = totals.last_seen.max(Some(info.received_at));
    }

    /// Moves the sender with the fewest requests (the longest idle among those)
    /// into [`Senders::others`]. Linear, but only when a new sender finds the map full.
    fn fold_least_busy(&mut self) {
        let least = self
            .kept
            .iter()
            .min_by_key(|(_, t)| (t.requests(), t.last_seen))
            .map(|(sender, _)| sender.clone());
        if let Some(totals) = least.and_then(|sender| self.kept.remove(&sender)) {
            self.others.add(&totals);
        }
    }

    /// The senders kept, in no order.
    pub fn iter(&self) -> impl Iterator<Item = (&Sender, &SenderTotals)> {
        self.kept.iter()
    }

    /// Senders kept.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    /// Whether no request came yet.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// The `n` kept senders with the most requests, busiest first (ties by name).
    /// The header asks for one every frame: only those `n` are sorted.
    pub fn busiest(&self, n: usize) -> Vec<(&Sender, &SenderTotals)> {
        type Entry<'a> = (&'a Sender, &'a SenderTotals);
        let busier = |a: &Entry, b: &Entry| b.1.requests().cmp(&a.1.requests()).then(a.0.cmp(b.0));
        let mut all: Vec<Entry> = self.kept.iter().collect();
        if n < all.len() {
            all.select_nth_unstable_by(n, busier);
            all.truncate(n);
        }
        all.sort_by(busier);
        all
    }

    /// Distinct senders seen, the folded ones included.
    pub fn seen(&self) -> DistinctCount {
        self.distinct.count()
    }
}

/// Totals over the whole run.
#[derive(Debug, Default)]
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
    pub senders: Senders,
}

impl Totals {
    /// Adds one request.
    pub fn record(&mut self, batch: &Batch) {
        let info = &batch.info;
        self.compressed_bytes += info.compressed_bytes as u64;
        self.decoded_bytes += info.decoded_bytes as u64;
        let rejected = batch.outcome.rejection().map(|(_, reason, _)| reason);
        self.senders.record(info, rejected);
        // What was written counts, also from a partly rejected request.
        self.counts += batch.data.counts();
        // None for a folded entry: its repeats were counted as they came.
        let requests = info.counted();
        match rejected {
            None => self.accepted += requests,
            Some(reason) => *self.rejected.entry(reason).or_default() += requests,
        }
    }

    /// All requests by what became of them.
    pub fn answers(&self) -> Answers {
        let mut answers = Answers::default();
        answers.add(None, self.accepted);
        for (&reason, &n) in &self.rejected {
            answers.add(Some(reason), n);
        }
        answers
    }

    /// What promscope refused, by reason: every rejection, but in forward
    /// mode (`forwarding`) not the backend's rejections and failures, which
    /// are the backend's to count.
    pub fn refused(&self, forwarding: bool) -> Vec<(RejectReason, u64)> {
        self.rejected
            .iter()
            .filter(|(reason, _)| !(forwarding && reason.is_upstream()))
            .map(|(&reason, &n)| (reason, n))
            .collect()
    }

    /// All rejected requests.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }

    /// `bad_snappy: 2, too_large: 1`.
    pub fn rejected_by_reason(&self) -> String {
        by_reason(self.rejected.iter().map(|(&reason, &n)| (reason, n)))
    }
}

/// Counts by reason as shown: `bad_snappy: 2, too_large: 1`.
pub fn by_reason(counts: impl IntoIterator<Item = (RejectReason, u64)>) -> String {
    let named: Vec<String> = counts
        .into_iter()
        .map(|(reason, n)| format!("{}: {n}", reason.name()))
        .collect();
    named.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::model::Repeats;

    fn request(user_agent: &str, ip: u8) -> RequestInfo {
        RequestInfo {
            received_at: SystemTime::UNIX_EPOCH,
            remote_addr: Some(([10, 0, 0, ip], 9000).into()),
            path: "/".into(),
            user_agent: Some(user_agent.into()),
            protocol: Some(Protocol::V2),
            compressed_bytes: 0,
            decoded_bytes: 0,
            retry_attempt: None,
            tenant: None,
            raw: None,
            repeats: Repeats::Alone,
        }
    }

    #[test]
    fn a_flood_of_senders_keeps_the_busy_ones_and_counts_the_rest() {
        let mut senders = Senders::default();
        for i in 0..5_000 {
            // A real sender among 5k one-off User-Agents, each up to 100 KB.
            if i % 10 == 0 {
                senders.record(&request("Prometheus/3.5.3", 1), None);
            }
            let junk = format!("{i}{}", "x".repeat(i % 7 * 16_000));
            senders.record(&request(&junk, 2), Some(RejectReason::Snappy));
        }
        assert_eq!(senders.len(), MAX_SENDERS);
        assert!(
            senders
                .iter()
                .all(|(s, _)| s.user_agent.len() <= MAX_USER_AGENT_BYTES)
        );
        let busiest = senders.busiest(1);
        assert_eq!(busiest[0].0.user_agent, "Prometheus/3.5.3");
        assert_eq!(busiest[0].1.answers.accepted, 500);
        assert_eq!(senders.seen(), DistinctCount::Exact(5_001));
        let kept: u64 = senders.iter().map(|(_, t)| t.requests()).sum();
        assert_eq!(kept + senders.others.requests(), 5_500);
    }

    #[test]
    fn long_user_agents_are_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_USER_AGENT_BYTES);
        let sender = Sender::of(&request(&long, 1));
        assert!(sender.user_agent.len() <= MAX_USER_AGENT_BYTES);
        assert!(sender.user_agent.ends_with("é…"));
        assert_eq!(Sender::of(&request("short", 1)).user_agent, "short");
    }

    #[test]
    fn a_sender_writing_as_two_tenants_is_two_senders_showing_theirs() {
        let mut senders = Senders::default();
        for tenant in ["team-a", "team-b", "team-a"] {
            let info = RequestInfo {
                tenant: Some(tenant.into()),
                ..request("Prometheus/3.5.3", 1)
            };
            senders.record(&info, None);
        }
        senders.record(&request("Prometheus/3.5.3", 1), None);
        assert_eq!(senders.len(), 3);
        let (busiest, totals) = &senders.busiest(1)[0];
        assert_eq!(totals.answers.accepted, 2);
        assert_eq!(
            busiest.to_string(),
            "Prometheus/3.5.3 @ 10.0.0.1 tenant team-a"
        );
        assert_eq!(busiest.agent_and_ip(), "Prometheus/3.5.3 @ 10.0.0.1");
    }
}
