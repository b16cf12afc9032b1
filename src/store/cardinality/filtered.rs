//! The cardinality view's rows under a filter: the aggregates kept up to date
//! count every series, so with a filter in force the rows are counted by a
//! pass over the matching series (values exactly; the labels of at most
//! [`MAX_FILTERED_SERIES`] series, one count per label-value pair; only the
//! rows shown are sorted). Churn (new and gone per second) is not kept per
//! series: a metric's churn stays that of all its series. A pass gives way
//! to a key (see [`GaveWay`]): over a million series it takes a good part of
//! a second.

use std::cmp::Ordering;

use hashbrown::HashMap;

use super::query::CHURN_SPAN_MS;
use super::values::Distinct;
use super::{LabelCard, MetricCard, Overview, PairCard, churn, ended};
use crate::store::intern::Sym;
use crate::store::series::GIVE_WAY_EVERY;
use crate::store::{GiveWay, MetricId, Series, Store};

/// Series whose labels a filtered pass counts at most (about a second's work).
pub const MAX_FILTERED_SERIES: usize = 500_000;

/// A filtered pass stopped because `give_way` turned true (a key waits):
/// nothing was built; ask again once the key is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GaveWay;

/// Series a pass looked at, and whether to give way every
/// [`GIVE_WAY_EVERY`] of them.
struct Looks<'a> {
    looked: usize,
    give_way: GiveWay<'a>,
}

impl<'a> Looks<'a> {
    fn new(give_way: GiveWay<'a>) -> Self {
        Looks {
            looked: 0,
            give_way,
        }
    }

    /// One more series looked at; `Err` once the pass is to give way.
    fn one_more(&mut self) -> Result<(), GaveWay> {
        self.looked += 1;
        if self.looked.is_multiple_of(GIVE_WAY_EVERY) && (self.give_way)() {
            return Err(GaveWay);
        }
        Ok(())
    }
}

/// Series per label-value pair.
type Pairs = HashMap<(Sym, Sym), u32>;

/// The first `n` of `items` by `order`, in order: only those are sorted
/// (a label of a value per series has as many values as series).
fn first_by<T>(mut items: Vec<T>, n: usize, order: impl Fn(&T, &T) -> Ordering) -> Vec<T> {
    if n == 0 {
        return Vec::new();
    }
    if items.len() > n {
        items.select_nth_unstable_by(n - 1, &order);
        items.truncate(n);
    }
    items.sort_unstable_by(order);
    items
}

impl Store {
    /// Whether a series counts as active at `now_ms`.
    fn is_active(&self, s: &Series, now_ms: i64) -> bool {
        let stale = self.cardinality.stale_after_ms();
        churn::active_at(s.last_arrival_ms, now_ms, stale) && !ended(s)
    }

    /// Adds the labels (but `__name__`) of `s` to `pairs`, while `budget` lasts.
    fn count_labels(&self, s: &Series, pairs: &mut Pairs, budget: &mut usize) {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        for &pair in s.labels.iter().filter(|l| l.0 != self.name_label) {
            *pairs.entry(pair).or_insert(0) += 1;
        }
    }

    /// [`Store::cardinality_overview`] of the series the filter matches,
    /// unless `give_way` turns true before the pass is done.
    pub fn filtered_overview(
        &self,
        now_ms: i64,
        top: usize,
        give_way: GiveWay,
    ) -> Result<Overview, GaveWay> {
        let mut looks = Looks::new(give_way);
        let card = &self.cardinality;
        let stale = card.stale_after_ms();
        let mut pairs = Pairs::new();
        let mut budget = MAX_FILTERED_SERIES;
        let mut metrics = Vec::new();
        // The whole metric's churn, over the time the unfiltered view counts
        // it (over the whole span, it read up to a sixth lower there).
        let counted = self.churn_counted_ms(now_ms);
        for (id, m) in self.metrics().filter(|(_, m)| m.matched > 0) {
            let (mut active, mut kept) = (0, 0);
            for (_, s) in self.series_of(m).filter(|(_, s)| s.matched) {
                looks.one_more()?;
                kept += 1;
                active += u64::from(self.is_active(s, now_ms));
                self.count_labels(s, &mut pairs, &mut budget);
            }
            let churn = card.metric(id).map(|c| &c.churn);
            let turnover = |span| churn.map(|c| c.turnover(now_ms, span, stale));
            let (new_per_s, gone_per_s) = turnover(CHURN_SPAN_MS)
                .unwrap_or_default()
                .per_second(counted);
            metrics.push(MetricCard {
                id,
                name: self.str(m.name).to_owned(),
                active,
                kept,
                change: turnover(churn::HISTORY_MS).unwrap_or_default(),
                new_per_s,
                gone_per_s,
            });
        }
        metrics.sort_by(|a, b| b.active.cmp(&a.active).then_with(|| a.name.cmp(&b.name)));
        let across = card.across(give_way)?;
        let unbounded = |name: Sym| {
            across
                .iter()
                .find(|l| l.name == name)
                .is_some_and(|l| l.unbounded(l.distinct(&self.strings), now_ms))
        };
        let mut label_names = self.label_cards(&pairs, 3, unbounded);
        label_names.sort_by(|a, b| {
            b.distinct
                .value()
                .cmp(&a.distinct.value())
                .then_with(|| a.name.cmp(&b.name))
        });
        label_names.truncate(top);
        let heaviest: Vec<(u32, Sym, Sym)> = pairs.iter().map(|(&(n, v), &c)| (c, n, v)).collect();
        let heaviest = first_by(heaviest, top, |a, b| {
            b.0.cmp(&a.0)
                .then_with(|| (self.str(a.1), self.str(a.2)).cmp(&(self.str(b.1), self.str(b.2))))
        });
        Ok(Overview {
            active: metrics.iter().map(|m| m.active).sum(),
            change: Default::default(),
            // Each metric's churn is the whole metric's, over the spans the
            // unfiltered view says (its column header names the span).
            change_span_ms: self.churn_said_span_ms(now_ms, churn::HISTORY_MS),
            new_per_s: 0.0,
            gone_per_s: 0.0,
            rate_span_ms: self.churn_said_span_ms(now_ms, CHURN_SPAN_MS),
            metrics,
            label_names,
            pairs: heaviest
                .into_iter()
                .map(|(series, n, v)| PairCard {
                    name: self.str(n).to_owned(),
                    value: self.str(v).to_owned(),
                    series: u64::from(series),
                })
                .collect(),
            stale_after_ms: stale,
            counted: MAX_FILTERED_SERIES - budget,
        })
    }

    /// [`Store::metric_labels`] of the series of metric `id` the filter
    /// matches (`None` if the metric went), unless `give_way` turns true
    /// before the pass is done.
    pub fn filtered_metric_labels(
        &self,
        id: MetricId,
        now_ms: i64,
        top: usize,
        give_way: GiveWay,
    ) -> Result<Option<Vec<LabelCard>>, GaveWay> {
        let Some(metric) = self.metric(id) else {
            return Ok(None);
        };
        let mut looks = Looks::new(give_way);
        let mut pairs = Pairs::new();
        let mut budget = MAX_FILTERED_SERIES;
        for (_, s) in self.series_of(metric).filter(|(_, s)| s.matched) {
            looks.one_more()?;
            self.count_labels(s, &mut pairs, &mut budget);
        }
        let whole = self.cardinality.metric(id);
        let unbounded = |name: Sym| {
            whole.is_some_and(|m| {
                m.labels()
                    .iter()
                    .any(|l| l.name == name && l.unbounded(now_ms))
            })
        };
        let mut cards = self.label_cards(&pairs, top, unbounded);
        cards.sort_by(|a, b| {
            (b.unbounded, b.distinct.value())
                .cmp(&(a.unbounded, a.distinct.value()))
                .then_with(|| a.name.cmp(&b.name))
        });
        Ok(Some(cards))
    }

    /// A card per label name of `pairs`, with its `top` values; flagged
    /// unbounded as all of the traffic shows it.
    fn label_cards(
        &self,
        pairs: &Pairs,
        top: usize,
        unbounded: impl Fn(Sym) -> bool,
    ) -> Vec<LabelCard> {
        let mut by_name: HashMap<Sym, Vec<(Sym, u32)>> = HashMap::new();
        for (&(name, value), &n) in pairs {
            by_name.entry(name).or_default().push((value, n));
        }
        by_name
            .into_iter()
            .map(|(name, values)| {
                let (distinct, series) = (
                    values.len() as u64,
                    values.iter().map(|v| u64::from(v.1)).sum(),
                );
                let heaviest = first_by(values, top, |a, b| {
                    b.1.cmp(&a.1).then_with(|| self.str(a.0).cmp(self.str(b.0)))
                });
                LabelCard {
                    name: self.str(name).to_owned(),
                    distinct: Distinct::Exact(distinct),
                    series,
                    top: heaviest
                        .into_iter()
                        .map(|(v, n)| (self.str(v).to_owned(), u64::from(n)))
                        .collect(),
                    unbounded: unbounded(name),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;

    #[test]
    fn the_first_by_an_order_are_those_a_whole_sort_puts_first() {
        let mut rng = Rng(7);
        for len in [0, 1, 5, 30, 500] {
            // Many ties, broken by the second field.
            let items: Vec<(u32, u32)> = (0..len)
                .map(|_| (rng.below(4) as u32, rng.below(1000) as u32))
                .collect();
            let order = |a: &(u32, u32), b: &(u32, u32)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
            for n in [0, 1, 3, 10, 1000] {
                let mut all = items.clone();
                all.sort_by(order);
                all.truncate(n);
                assert_eq!(
                    first_by(items.clone(), n, order),
                    all,
                    "{len} items, first {n}"
                );
            }
        }
    }
}
