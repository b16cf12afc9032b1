//! The store's hooks into what it tracks beside its series: label cardinality
//! and churn ([`super::cardinality`]), and tenants and senders
//! ([`super::parties`]), told as requests arrive, series are created, get
//! samples and are evicted. Off with [`super::StoreLimits::track_cardinality`].

use super::Store;
use super::cardinality::{self, SeriesRef};
use super::metrics::MetricId;
use super::parties::{NO_PARTY, Origin, PartyCard};
use super::series::{Series, SeriesId};
use crate::ingest::model::Batch;
use crate::summary::totals::Sender;

/// Series of one tenant and sender whose latest arrival moved alike (from
/// the same request to this one): told to the parties and to all traffic's
/// churn once, not per series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct SeenRun {
    origin: Origin,
    before_ms: i64,
    after_ms: i64,
    marked: bool,
    series: u32,
}

/// A series' latest arrival before and after a request, and whether its
/// latest sample was a stale marker before and after.
pub(super) struct Seen {
    pub metric: MetricId,
    pub origin: Origin,
    pub times: (i64, i64),
    pub ended: (bool, bool),
}

impl Store {
    /// The tenant and sender of a request now arriving, numbered.
    pub(super) fn origin_of(&mut self, batch: &Batch) -> Origin {
        if !self.limits.track_cardinality {
            return Origin::NONE;
        }
        let info = &batch.info;
        let tenant = info
            .tenant
            .as_deref()
            .map_or(NO_PARTY, |t| self.tenants.number(t));
        let sender = self.senders.number(&Sender::of(info).agent_and_ip());
        Origin { tenant, sender }
    }

    /// The request of `origin` carried `samples` samples and histograms.
    pub(super) fn track_request(&mut self, origin: Origin, arrival_ms: i64, samples: u64) {
        self.tenants.sent(origin.tenant, arrival_ms, samples);
        self.senders.sent(origin.sender, arrival_ms, samples);
    }

    /// Series `id` was just created at `arrival_ms`.
    pub(super) fn track_created(&mut self, id: SeriesId, arrival_ms: i64) {
        let Some(series) = self
            .series
            .get(id)
            .filter(|_| self.limits.track_cardinality)
        else {
            return;
        };
        let place = SeriesRef {
            metric: series.metric,
            labels: &series.labels,
        };
        let origin = series.origin;
        let strings = &mut self.strings;
        self.cardinality
            .added(place, self.name_label, arrival_ms, strings);
        self.tenants.created(origin.tenant, arrival_ms);
        self.senders.created(origin.sender, arrival_ms);
    }

    /// A series got samples (see [`Seen`]).
    pub(super) fn track_seen(&mut self, seen: Seen) {
        let (before_ms, after_ms) = seen.times;
        let unchanged = after_ms == before_ms && seen.ended.0 == seen.ended.1;
        if !self.limits.track_cardinality || unchanged || seen.ended == (true, true) {
            return;
        }
        let before = if seen.ended.0 { 0 } else { before_ms };
        let marked = seen.ended.1;
        self.cardinality.seen(seen.metric, before, after_ms, marked);
        let run = SeenRun {
            origin: seen.origin,
            before_ms: before,
            after_ms,
            marked,
            series: 1,
        };
        match &mut self.seen_run {
            Some(r) if SeenRun { series: 1, ..*r } == run => r.series += 1,
            _ => {
                self.flush_seen();
                self.seen_run = Some(run);
            }
        }
    }

    /// Tells the parties the series seen since the last time.
    pub(super) fn flush_seen(&mut self) {
        if let Some(r) = self.seen_run.take() {
            let to = (r.after_ms, r.marked);
            let (tenant, sender) = (r.origin.tenant, r.origin.sender);
            self.cardinality
                .seen_n(r.before_ms, r.after_ms, r.marked, r.series);
            self.tenants.seen(tenant, r.before_ms, to, r.series);
            self.senders.seen(sender, r.before_ms, to, r.series);
        }
    }

    /// Series `old` was removed; it was its metric's last if `metric_gone`.
    pub(super) fn track_removed(&mut self, old: &Series, metric_gone: bool) {
        if !self.limits.track_cardinality {
            return;
        }
        let last_ms = if cardinality::ended(old) {
            0
        } else {
            old.last_arrival_ms
        };
        let place = SeriesRef {
            metric: old.metric,
            labels: &old.labels,
        };
        self.cardinality.removed(
            place,
            (self.name_label, last_ms),
            metric_gone,
            &mut self.strings,
        );
        self.tenants.removed(old.origin.tenant, last_ms);
        self.senders.removed(old.origin.sender, last_ms);
    }

    /// Every tenant with series or samples lately, most active series first.
    pub fn tenants(&self, now_ms: i64) -> Vec<PartyCard> {
        self.tenants.cards(now_ms, self.churn_counted_ms(now_ms))
    }

    /// How many tenants have series or samples lately, and the one with the
    /// most active series.
    pub fn top_tenant(&self, now_ms: i64) -> (usize, Option<PartyCard>) {
        self.tenants.top(now_ms, self.churn_counted_ms(now_ms))
    }

    /// Every sender (`User-Agent @ address`) with series or samples lately,
    /// most active series first.
    pub fn senders(&self, now_ms: i64) -> Vec<PartyCard> {
        self.senders.cards(now_ms, self.churn_counted_ms(now_ms))
    }

    /// The tenant and sender that created `series`, as the filter's
    /// `__tenant__` and `__sender__` see them ("" when unknown).
    pub fn origin_names(&self, origin: Origin) -> [(&'static str, &str); 2] {
        super::parties::pseudo_labels(&self.tenants, &self.senders, origin)
    }
}
