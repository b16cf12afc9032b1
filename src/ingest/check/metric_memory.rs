//! What the checker remembers of metric names (type, help), and the epoch
//! that tells a series whether what it found out from them still holds.

use super::CheckerMemory;
use super::memory::Generations;
use crate::ingest::model::MetricType;

/// Metric names whose type and help a generation remembers.
const METRICS_PER_GENERATION: usize = 1 << 16;

/// What is remembered of a metric name: its type and a hash of its help, and
/// whether `metadata-type-unspecified` was reported for it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct MetricFacts {
    pub(super) metric_type: MetricType,
    pub(super) help: u64,
    pub(super) untyped_reported: bool,
}

/// What is remembered of metric names, and an epoch that moves on whenever
/// what it says of any name's type may have changed, so that a series can
/// keep what it found out from it ([`Remembered`]'s `counter`) until then.
#[derive(Debug)]
pub(super) struct MetricMemory {
    facts: Generations<MetricFacts>,
    /// Starts at 1; never 0 (what a series that never looked holds).
    pub(super) epoch: u32,
}

/// [`MetricMemory::epoch`] is started again from 1 before it gets this far
/// (a request moves it on at most a few times a series or metadata entry), so
/// that it never comes round to an epoch a series kept.
pub(super) const EPOCH_RENEWED_AT: u32 = u32::MAX - (1 << 24);

impl CheckerMemory {
    /// Starts [`MetricMemory::epoch`] again when it is due, forgetting what
    /// every series found out under the old epochs.
    #[inline]
    pub(super) fn renew_epoch_if_due(&mut self) {
        if self.metrics.epoch >= EPOCH_RENEWED_AT {
            self.renew_epoch();
        }
    }

    #[inline(never)]
    fn renew_epoch(&mut self) {
        for r in self.series.values_mut() {
            r.counter_epoch = 0;
        }
        self.metrics.epoch = 1;
    }
}

impl MetricMemory {
    pub(super) fn new() -> Self {
        MetricMemory {
            facts: Generations::new(METRICS_PER_GENERATION),
            epoch: 1,
        }
    }

    /// What is remembered of metric `name` (hashed), made if there is none.
    /// A generation dropped on the way changes what is known of its names.
    pub(super) fn entry(&mut self, name_hash: u64) -> (&mut MetricFacts, &mut u32) {
        if self.facts.turns_next() {
            self.epoch = self.epoch.wrapping_add(1);
        }
        (self.facts.entry(name_hash), &mut self.epoch)
    }

    /// The type remembered for metric `name` (hashed), if any.
    pub(super) fn metric_type(&self, name_hash: u64) -> Option<MetricType> {
        if self.facts.is_empty() {
            return None;
        }
        self.facts.get(name_hash).map(|f| f.metric_type)
    }
}
