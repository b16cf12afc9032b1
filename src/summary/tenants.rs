//! Per tenant, for the end-of-run summary: requests, samples and distinct
//! series (a series is its tenant and labels), so that a multi-tenant run
//! says who sent what. Tenants are sender-chosen text: past [`MAX_TENANTS`],
//! newcomers are counted together.

use hashbrown::HashMap;

use super::distinct::{DistinctCount, DistinctCounter};
use crate::ingest::model::Batch;

/// Tenants with totals of their own.
pub const MAX_TENANTS: usize = 256;

/// Series counted exactly per tenant, and the estimate's precision past them
/// (4 KiB, about 1.6%): at most about 5 MiB for all tenants.
const EXACT_SERIES: usize = 1_000;
const SKETCH_PRECISION: u32 = 12;

/// What one tenant (or all past [`MAX_TENANTS`]) sent.
#[derive(Debug)]
pub struct TenantTotals {
    /// Requests, accepted or not.
    pub requests: u64,
    /// Samples and histograms written.
    pub samples: u64,
    series: DistinctCounter,
}

impl Default for TenantTotals {
    fn default() -> Self {
        TenantTotals {
            requests: 0,
            samples: 0,
            series: DistinctCounter::bounded(EXACT_SERIES, SKETCH_PRECISION),
        }
    }
}

impl TenantTotals {
    /// Distinct series written.
    pub fn series(&self) -> DistinctCount {
        self.series.count()
    }

    fn record(&mut self, batch: &Batch) {
        let counts = batch.data.counts();
        self.requests += batch.info.counted();
        self.samples += counts.samples + counts.histograms;
        for s in &batch.data.series {
            self.series.insert(s.label_hash);
        }
    }
}

/// Tenants of the requests, the first [`MAX_TENANTS`] apart.
#[derive(Debug, Default)]
pub struct Tenants {
    /// Keyed (see [`crate::hashing`]): a sender names its tenants.
    kept: HashMap<String, TenantTotals, crate::hashing::Keyed>,
    /// Tenants past [`MAX_TENANTS`], together.
    pub others: Option<TenantTotals>,
    /// Distinct tenants, the others included.
    distinct: DistinctCounter,
}

impl Tenants {
    /// Adds a request (nothing for one without a tenant).
    pub fn record(&mut self, batch: &Batch) {
        use std::hash::BuildHasher;
        let Some(tenant) = batch.info.tenant.as_deref() else {
            return;
        };
        self.distinct
            .insert(crate::hashing::state(0x7465_6e61_6e74).hash_one(tenant));
        let room = self.kept.len() < MAX_TENANTS;
        let totals = if room || self.kept.contains_key(tenant) {
            self.kept.entry_ref(tenant).or_default()
        } else {
            self.others.get_or_insert_with(TenantTotals::default)
        };
        totals.record(batch);
    }

    /// Distinct tenants seen.
    pub fn seen(&self) -> DistinctCount {
        self.distinct.count()
    }

    /// The `n` kept tenants with the most series first, then the most
    /// samples (then by name).
    pub fn busiest(&self, n: usize) -> Vec<(&str, &TenantTotals)> {
        let mut all: Vec<(&str, &TenantTotals)> =
            self.kept.iter().map(|(t, v)| (t.as_str(), v)).collect();
        let key = |t: &TenantTotals| (t.series().value(), t.samples);
        all.sort_by(|a, b| key(b.1).cmp(&key(a.1)).then(a.0.cmp(b.0)));
        all.truncate(n);
        all
    }

    /// Every kept tenant's totals, in no order.
    pub fn iter(&self) -> impl Iterator<Item = &TenantTotals> {
        self.kept.values()
    }
}
