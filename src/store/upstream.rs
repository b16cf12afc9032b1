//! Forward mode: the series a backend refused. Where its message names them
//! (Prometheus writes `for series {…}` per refused series, Mimir quotes the
//! label set), those series are flagged `rejected upstream` with the message;
//! where it names none of the request's series, all of them are.

use std::collections::HashSet;
use std::sync::Arc;

use super::Store;
use crate::ingest::model::{Batch, RejectReason, label_set_hash, resent_after, tenant_series_hash};
use crate::text;
use crate::text::labelsets::label_sets_in;

/// Longest backend message a series keeps for its detail view.
pub const MAX_SERIES_REJECTION_BYTES: usize = 4 << 10;

impl Store {
    /// Flags the series of `batch` its backend refused, if it did.
    pub(super) fn flag_upstream_rejection(&mut self, batch: &Batch) {
        // Live, or replayed from a capture (then a plain rejection of its reason).
        let Some((status, RejectReason::Backend, message)) = batch.outcome.rejection() else {
            return;
        };
        // What the sender sends again still gets there.
        if !(400..500).contains(&status) || resent_after(status) {
            return;
        }
        let data = &batch.data;
        let named: HashSet<u64> = label_sets_in(&message)
            .iter()
            .map(|set| {
                let pairs = set.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes()));
                let hash = label_set_hash(pairs);
                // The request's series are its tenant's (see `tenant_series_hash`).
                match batch.info.tenant.as_deref() {
                    Some(tenant) => tenant_series_hash(hash, tenant),
                    None => hash,
                }
            })
            .collect();
        let any_named = data.series.iter().any(|s| named.contains(&s.label_hash));
        let note: Arc<str> = Arc::from(text::bounded(&message, MAX_SERIES_REJECTION_BYTES));
        for s in &data.series {
            if any_named && !named.contains(&s.label_hash) {
                continue;
            }
            let pairs = data
                .labels
                .get(s.labels.start as usize..s.labels.end as usize)
                .unwrap_or(&[]);
            let found = self
                .series
                .find(data, pairs, s.label_hash, &self.strings, self.seq);
            if let Some(id) = found {
                self.series
                    .update(id, |series| series.reject_upstream(note.clone()));
            }
        }
    }
}
