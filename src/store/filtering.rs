//! The filter in force: judging new series and, when it changes, every
//! series, with the tenant and sender of each as the pseudo-labels
//! `__tenant__` and `__sender__` when a selector names them.

use super::intern::Sym;
use super::parties::Origin;
use super::{GiveWay, Store, counts, verdicts};
use crate::filter::Filter;

impl Store {
    /// Whether a series with these labels, created by `origin`, passes the filter.
    pub(super) fn judge_new(&mut self, labels: &[(Sym, Sym)], origin: Origin) -> bool {
        let strings = &self.strings;
        let pairs = labels
            .iter()
            .map(|&(n, v)| (strings.resolve(n), strings.resolve(v)));
        if self.filter.uses_pseudo_labels() {
            let pseudo = super::parties::pseudo_labels(&self.tenants, &self.senders, origin);
            self.filter.matches(pairs.chain(pseudo), &mut self.scratch)
        } else {
            self.filter.matches(pairs, &mut self.scratch)
        }
    }

    /// Applies a new filter, set at `now_ms`, re-evaluating every series once.
    pub fn set_filter(&mut self, filter: Filter, now_ms: i64) {
        // Never giving way, it always applies.
        let _ = self.try_set_filter(filter, now_ms, &|| false);
    }

    /// Applies a new filter, set at `now_ms`, unless `give_way` turns true
    /// before every series is judged and counted (over a million series that
    /// takes a good part of a second): then the filter in force stays, with
    /// its verdicts and counts, and the new one is handed back.
    pub fn try_set_filter(
        &mut self,
        filter: Filter,
        now_ms: i64,
        give_way: GiveWay,
    ) -> Result<(), Filter> {
        let origins = |o: Origin| super::parties::pseudo_labels(&self.tenants, &self.senders, o);
        let pseudo: Option<verdicts::Pseudo> = filter.uses_pseudo_labels().then_some(&origins);
        let Some(verdicts) = self.series.judge(&filter, &self.strings, pseudo, give_way) else {
            return Err(filter);
        };
        let filtered = !filter.is_all();
        let mut matched_active = self.no_active();
        let counted = self.metrics.recount(
            &self.series,
            &verdicts,
            (now_ms, filtered),
            |s| counts::add_active(&mut matched_active, s),
            give_way,
        );
        if !counted {
            return Err(filter);
        }
        self.series.set_verdicts(&verdicts);
        self.filter = filter;
        self.set_matched_active(filtered.then_some(matched_active));
        Ok(())
    }

    /// The filter in force.
    pub fn filter(&self) -> &Filter {
        &self.filter
    }
}
