//! `series-per-tenant` and `series-per-metric`: the active series of each
//! tenant and of each metric name, counted as a backend with those limits
//! counts them (Mimir's `-ingester.max-global-series-per-user` and
//! `-per-metric`). A series is identified by its tenant and labels and is
//! active until not seen for the staleness window. A new series that would
//! be one past a limit fires the rule, and is not counted: like a backend
//! refusing it, every request carrying it fires again while the tenant or
//! metric is at its limit. Tracked only when a limit is set.

use std::hash::BuildHasher;

use hashbrown::HashMap;

use super::dense::DenseMap;
use super::memory::Identity;
use crate::problems::{Report, Rule, RuleSet, Thresholds};
use crate::text::promql;

/// Series remembered at most; past it new series are not counted (a sender
/// with this many active series has crossed any limit worth setting).
pub const MAX_LIMITED_SERIES: usize = 1 << 21;

/// Tenants, and metric names, counted at most (each a few dozen bytes).
const MAX_OWNERS: usize = 1 << 16;

/// How often series not seen for the staleness window are let go.
const SWEEP_EVERY_MS: i64 = 10_000;

type Map<V> = HashMap<u64, V, std::hash::BuildHasherDefault<Identity>>;

/// What a series of a tenant and metric remembers.
#[derive(Debug, Clone, Copy)]
struct Seen {
    last_ms: i64,
    tenant: u64,
    metric: u64,
}

/// A tenant's or metric's active series, and when it first reached its limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct Owner {
    pub active: u64,
    /// Arrival time of the first request that found it at its limit.
    pub crossed_at_ms: Option<i64>,
}

/// Which limit a new series would cross.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crossed {
    Tenant { limit: usize, since_ms: i64 },
    Metric { limit: usize, since_ms: i64 },
}

/// Active series per tenant and per metric name, against the limits.
#[derive(Debug)]
pub struct SeriesLimits {
    per_tenant: Option<usize>,
    per_metric: Option<usize>,
    stale_after_ms: i64,
    /// Dense: at a million series about 42 bytes a series (32 an entry, 10
    /// of index) where a hash map of entries takes about 66.
    series: DenseMap<Seen>,
    tenants: Map<Owner>,
    metrics: Map<Owner>,
    next_sweep_ms: i64,
}

/// The hash a tenant is counted under (0: no tenant).
pub fn tenant_hash(tenant: Option<&str>) -> u64 {
    tenant.map_or(0, |t| {
        crate::hashing::state(0x7465_6e61_6e74).hash_one(t.as_bytes()) | 1
    })
}

impl SeriesLimits {
    /// Limits of `per_tenant` and `per_metric` active series (0: none), a
    /// series active until not seen for `stale_after_ms`.
    pub fn new(per_tenant: usize, per_metric: usize, stale_after_ms: i64) -> Self {
        SeriesLimits {
            per_tenant: (per_tenant > 0).then_some(per_tenant),
            per_metric: (per_metric > 0).then_some(per_metric),
            stale_after_ms: stale_after_ms.max(1),
            series: if per_tenant > 0 || per_metric > 0 {
                DenseMap::with_capacity(MAX_LIMITED_SERIES)
            } else {
                DenseMap::default()
            },
            tenants: Map::default(),
            metrics: Map::default(),
            next_sweep_ms: i64::MIN,
        }
    }

    /// The limits `thresholds` set, of the rules `wanted` (not off).
    pub fn of(thresholds: &Thresholds, wanted: RuleSet) -> Self {
        let set = |rule, limit| if wanted.contains(rule) { limit } else { 0 };
        SeriesLimits::new(
            set(Rule::SeriesPerTenant, thresholds.max_series_per_tenant),
            set(Rule::SeriesPerMetric, thresholds.max_series_per_metric),
            thresholds.series_stale_after_ms,
        )
    }

    /// Whether any limit is set.
    pub fn is_on(&self) -> bool {
        self.per_tenant.is_some() || self.per_metric.is_some()
    }

    /// Lets go of series not seen for the staleness window, now and then.
    pub fn sweep(&mut self, now_ms: i64) {
        if now_ms < self.next_sweep_ms {
            return;
        }
        self.next_sweep_ms = now_ms.saturating_add(SWEEP_EVERY_MS);
        let oldest = now_ms.saturating_sub(self.stale_after_ms);
        let (tenants, metrics) = (&mut self.tenants, &mut self.metrics);
        self.series.retain(|_, s| {
            let keep = s.last_ms >= oldest;
            if !keep {
                for (map, key) in [(&mut *tenants, s.tenant), (&mut *metrics, s.metric)] {
                    if let Some(o) = map.get_mut(&key) {
                        o.active = o.active.saturating_sub(1);
                    }
                }
            }
            keep
        });
        let under = |limit: Option<usize>| {
            move |_: &u64, o: &mut Owner| {
                if limit.is_some_and(|l| o.active < l as u64) {
                    o.crossed_at_ms = None;
                }
                o.active > 0 || o.crossed_at_ms.is_some()
            }
        };
        self.tenants.retain(under(self.per_tenant));
        self.metrics.retain(under(self.per_metric));
    }

    /// A series of `tenant` (its [`tenant_hash`]) and `metric` (its name's
    /// hash) with labels hashed to `label_hash` arrived at `now_ms`: counted,
    /// or, if it is new and its tenant or metric is at its limit, the limit
    /// it crosses (and it is not counted).
    pub fn arrived(
        &mut self,
        (tenant, metric, label_hash): (u64, u64, u64),
        now_ms: i64,
    ) -> Option<Crossed> {
        // The series is its hash alone, as in the checker's memory (see
        // `Pass::series`): a collision, 2^-64 a pair, would count two as one.
        let key = label_hash ^ tenant.rotate_left(17);
        if let Some(seen) = self.series.get_mut(key) {
            seen.last_ms = seen.last_ms.max(now_ms);
            return None;
        }
        let at_limit = |map: &mut Map<Owner>, key: u64, limit: Option<usize>| {
            let limit = limit?;
            let owner = map.get_mut(&key).filter(|o| o.active >= limit as u64)?;
            let since = *owner.crossed_at_ms.get_or_insert(now_ms);
            Some((limit, since))
        };
        if let Some((limit, since_ms)) = at_limit(&mut self.tenants, tenant, self.per_tenant) {
            return Some(Crossed::Tenant { limit, since_ms });
        }
        if let Some((limit, since_ms)) = at_limit(&mut self.metrics, metric, self.per_metric) {
            return Some(Crossed::Metric { limit, since_ms });
        }
        let room = self.series.len() < MAX_LIMITED_SERIES
            && (self.tenants.len() < MAX_OWNERS || self.tenants.contains_key(&tenant))
            && (self.metrics.len() < MAX_OWNERS || self.metrics.contains_key(&metric));
        if room {
            let last_ms = now_ms;
            self.series.entry_or_insert_with(key, || Seen {
                last_ms,
                tenant,
                metric,
            });
            self.tenants.entry(tenant).or_default().active += 1;
            self.metrics.entry(metric).or_default().active += 1;
        }
        None
    }

    /// A tenant's active series and when it reached its limit.
    pub fn tenant(&self, tenant: Option<&str>) -> Owner {
        self.tenants
            .get(&tenant_hash(tenant))
            .copied()
            .unwrap_or_default()
    }

    /// Bytes its tables take.
    pub fn heap_bytes(&self) -> usize {
        self.series.heap_bytes()
            + (self.tenants.capacity() + self.metrics.capacity()) * (size_of::<(u64, Owner)>() + 1)
    }
}

/// Counts a series of `tenant` (hashed, and as text) and metric `name`
/// with labels hashed to `label_hash`, arrived at `now_ms`, reporting the
/// limit it crosses, if any.
pub fn check(
    limits: &mut SeriesLimits,
    (now_ms, label_hash): (i64, u64),
    name: &[u8],
    (hash, tenant): (u64, &str),
    out: &mut impl Report,
) {
    let key = (hash, super::name_hash(name), label_hash);
    let Some(crossed) = limits.arrived(key, now_ms) else {
        return;
    };
    let (rule, limit, since_ms, whose) = match crossed {
        Crossed::Tenant { limit, since_ms } => {
            let whose = match tenant {
                "" => "requests without a tenant".to_owned(),
                t => format!("tenant {}", promql::quoted(t.as_bytes())),
            };
            (Rule::SeriesPerTenant, limit, since_ms, whose)
        }
        Crossed::Metric { limit, since_ms } => {
            let whose = format!("metric {}", promql::quoted(name));
            (Rule::SeriesPerMetric, limit, since_ms, whose)
        }
    };
    out.found(rule, &|| {
        format!(
            "is a new series past the {limit} active series of {whose} (--limit {}={limit}), at its limit since {}",
            rule.id(),
            crate::format::timestamp(since_ms)
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_732_000_000_000;

    #[test]
    fn a_tenant_limit_fires_at_the_series_one_past_it_and_again_until_room_is_made() {
        let mut limits = SeriesLimits::new(3, 0, 300_000);
        let (a, b) = (tenant_hash(Some("a")), tenant_hash(Some("b")));
        for i in 0..3 {
            assert_eq!(limits.arrived((a, 1, i), T0), None, "series {i}");
        }
        // Seen again: not new.
        assert_eq!(limits.arrived((a, 1, 0), T0 + 1000), None);
        let crossed = Some(Crossed::Tenant {
            limit: 3,
            since_ms: T0 + 2000,
        });
        assert_eq!(limits.arrived((a, 1, 3), T0 + 2000), crossed);
        assert_eq!(
            limits.arrived((a, 1, 4), T0 + 3000),
            crossed,
            "since the first time"
        );
        assert_eq!(
            limits.arrived((a, 1, 3), T0 + 4000),
            crossed,
            "never counted"
        );
        // Another tenant, the same labels: its own series.
        assert_eq!(limits.arrived((b, 1, 3), T0 + 4000), None);
        assert_eq!(limits.tenant(Some("a")).active, 3);
        assert_eq!(limits.tenant(Some("a")).crossed_at_ms, Some(T0 + 2000));
        // Series 1 and 2 go stale; 0 was seen later and stays.
        limits.sweep(T0 + 300_500);
        assert_eq!(limits.tenant(Some("a")).active, 1);
        assert_eq!(limits.tenant(Some("a")).crossed_at_ms, None);
        assert_eq!(limits.arrived((a, 1, 3), T0 + 300_600), None);
    }

    #[test]
    fn a_metric_limit_counts_the_series_of_each_name_across_tenants() {
        let mut limits = SeriesLimits::new(0, 2, 300_000);
        assert!(limits.is_on());
        let (a, b) = (tenant_hash(Some("a")), tenant_hash(None));
        assert_eq!(limits.arrived((a, 7, 1), T0), None);
        assert_eq!(limits.arrived((b, 7, 1), T0), None);
        let crossed = Some(Crossed::Metric {
            limit: 2,
            since_ms: T0,
        });
        assert_eq!(limits.arrived((b, 7, 2), T0), crossed);
        assert_eq!(limits.arrived((b, 8, 2), T0), None, "another metric");
        assert!(!SeriesLimits::new(0, 0, 1).is_on());
    }

    /// A request of `n` series `m{id="<from + k>"}`, one sample each.
    fn request(metric: &str, ids: std::ops::Range<usize>) -> crate::ingest::model::WriteData {
        let mut data = crate::ingest::model::WriteData::default();
        for id in ids {
            let id = id.to_string();
            let sample = crate::ingest::model::Sample {
                value: 1.0,
                timestamp_ms: T0,
                start_timestamp_ms: 0,
            };
            data.push_series(&[("__name__", metric), ("id", &id)], &[sample], &[]);
        }
        data
    }

    fn checker(flags: &[&str]) -> super::super::Checker {
        let mut settings = super::super::Settings::default();
        for flag in flags {
            match flag.strip_prefix("rule:") {
                Some(rule) => settings.apply_rule_flag(rule).unwrap(),
                None => settings.apply_limit_flag(flag).unwrap(),
            }
        }
        super::super::Checker::new(settings)
    }

    fn fired(data: &crate::ingest::model::WriteData, rule: Rule) -> Vec<String> {
        data.problems
            .iter()
            .filter(|p| p.rule == rule)
            .map(|p| format!("{:?} {}", p.subject, p.message))
            .collect()
    }

    #[test]
    fn the_checker_fires_series_per_tenant_at_the_one_past_the_limit_only() {
        use crate::ingest::model::Protocol;
        let checker = checker(&["series-per-tenant=3"]);
        let mut first = request("up", 0..2);
        checker.check_as(&mut first, Some(Protocol::V1), T0, Some("team-a"));
        assert!(fired(&first, Rule::SeriesPerTenant).is_empty());
        // The third is at the limit, the fourth one past it.
        let mut second = request("up", 1..4);
        checker.check_as(&mut second, Some(Protocol::V1), T0 + 1000, Some("team-a"));
        let found = fired(&second, Rule::SeriesPerTenant);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("Series(2) is a new series past the 3 active series of tenant \"team-a\" (--limit series-per-tenant=3), at its limit since 2024-11-19T07:06:41.000Z"),
            "{found:?}"
        );
        assert_eq!(second.series.len(), 3, "warned, written");
        // Another tenant has room of its own; with no limit set nothing is counted.
        let mut other = request("up", 0..3);
        checker.check_as(&mut other, Some(Protocol::V1), T0, Some("team-b"));
        assert!(fired(&other, Rule::SeriesPerTenant).is_empty());
        let unlimited = self::checker(&[]);
        let mut many = request("up", 0..100);
        unlimited.check_as(&mut many, Some(Protocol::V1), T0, Some("team-a"));
        assert!(many.problems.is_empty());
        assert_eq!(unlimited.memory.lock().unwrap().limits.series.len(), 0);
    }

    #[test]
    fn series_per_metric_at_reject_refuses_the_series_past_it() {
        use crate::ingest::model::Protocol;
        let checker = checker(&["series-per-metric=2", "rule:series-per-metric=reject"]);
        let mut data = request("http_requests", 0..3);
        data.push_series(&[("__name__", "other")], &[], &[]);
        checker.check_as(&mut data, Some(Protocol::V1), T0, None);
        let found = fired(&data, Rule::SeriesPerMetric);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("of metric \"http_requests\""),
            "{found:?}"
        );
        // The third series of the metric is refused; the others are written.
        assert_eq!(data.series.len(), 3);
        assert_eq!(data.refused_count, 1);
    }
}
