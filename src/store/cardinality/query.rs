//! What the cardinality view and report show, taken from the aggregates kept
//! up to date (per metric and per label name, never a pass over all series):
//! metrics by active series with their churn, a metric's labels by distinct
//! values, label names across metrics by distinct values, label-value pairs
//! by series. Owned rows: they outlive the frame (interned ids may be reused).

use super::across::AcrossLabel;
pub use super::churn::CHURN_SPAN_MS;
use super::churn::Turnover;
use super::filtered::GaveWay;
use super::values::{Distinct, LabelValues, heaviest};
use crate::store::{GiveWay, MetricId, Store};

/// A metric's series and churn.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricCard {
    pub id: MetricId,
    /// Its name (as it was when the row was made).
    pub name: String,
    /// Series seen within the staleness window.
    pub active: u64,
    /// Series kept (active or not).
    pub kept: u64,
    /// Series created and gone over the last [`super::churn::HISTORY_MS`].
    pub change: Turnover,
    /// New and gone series per second over the last [`CHURN_SPAN_MS`].
    pub new_per_s: f64,
    pub gone_per_s: f64,
}

impl MetricCard {
    /// New plus gone series per second: how fast its series turn over.
    pub fn churn_per_s(&self) -> f64 {
        self.new_per_s + self.gone_per_s
    }
}

/// A label name's values.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelCard {
    pub name: String,
    pub distinct: Distinct,
    /// Live series carrying it.
    pub series: u64,
    /// Values with the most series, most first.
    pub top: Vec<(String, u64)>,
    /// Many values, each in few series, new ones still coming.
    pub unbounded: bool,
}

/// A label-value pair and its live series.
#[derive(Debug, Clone, PartialEq)]
pub struct PairCard {
    pub name: String,
    pub value: String,
    pub series: u64,
}

/// The whole traffic's cardinality.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    /// Every metric, most active series first (ties by name).
    pub metrics: Vec<MetricCard>,
    /// Series seen within the staleness window.
    pub active: u64,
    /// Series created and gone over the last [`super::churn::HISTORY_MS`].
    pub change: Turnover,
    /// The span `change` is over, as said (see [`Store::churn_said_span_ms`]).
    pub change_span_ms: i64,
    pub new_per_s: f64,
    pub gone_per_s: f64,
    /// The span the rates are over, as said.
    pub rate_span_ms: i64,
    /// Label names across metrics, most distinct values first.
    pub label_names: Vec<LabelCard>,
    /// Label-value pairs, most series first.
    pub pairs: Vec<PairCard>,
    /// The staleness window.
    pub stale_after_ms: i64,
    /// Series whose labels a pass counted (under a filter; 0 when taken from
    /// the aggregates kept up to date): what the rows cost to build.
    pub counted: usize,
}

impl Store {
    /// The cardinality of all traffic at `now_ms`: every metric, and the
    /// first `top` label names and pairs.
    pub fn cardinality_overview(&self, now_ms: i64, top: usize) -> Overview {
        // Never giving way, it is always built.
        let built = self.cardinality_overview_giving_way(now_ms, top, &|| false);
        built.unwrap_or_default()
    }

    /// [`Store::cardinality_overview`], unless `give_way` turns true while
    /// the label names across metrics are derived.
    pub fn cardinality_overview_giving_way(
        &self,
        now_ms: i64,
        top: usize,
        give_way: GiveWay,
    ) -> Result<Overview, GaveWay> {
        let card = &self.cardinality;
        let stale = card.stale_after_ms();
        // Every row's rates over the same time, counted since traffic began.
        let counted = self.churn_counted_ms(now_ms);
        let mut metrics: Vec<MetricCard> = self
            .metrics()
            .filter_map(|(id, m)| {
                let churn = &card.metric(id)?.churn;
                let (new_per_s, gone_per_s) = churn
                    .turnover(now_ms, CHURN_SPAN_MS, stale)
                    .per_second(counted);
                Some(MetricCard {
                    id,
                    name: self.str(m.name).to_owned(),
                    active: churn.active(now_ms, stale),
                    kept: m.series_count() as u64,
                    change: churn.turnover(now_ms, super::churn::HISTORY_MS, stale),
                    new_per_s,
                    gone_per_s,
                })
            })
            .collect();
        metrics.sort_by(|a, b| b.active.cmp(&a.active).then_with(|| a.name.cmp(&b.name)));
        let across = card.across(give_way)?;
        let mut label_names: Vec<(&AcrossLabel, Distinct)> = across
            .iter()
            .map(|l| (l, l.distinct(&self.strings)))
            .collect();
        label_names.sort_by_cached_key(|(l, d)| (std::cmp::Reverse(d.value()), self.str(l.name)));
        label_names.truncate(top);
        let (new_per_s, gone_per_s) = self.churn_per_second(now_ms);
        Ok(Overview {
            metrics,
            active: card.churn.active(now_ms, stale),
            change: card.churn.turnover(now_ms, super::churn::HISTORY_MS, stale),
            change_span_ms: self.churn_said_span_ms(now_ms, super::churn::HISTORY_MS),
            new_per_s,
            gone_per_s,
            rate_span_ms: self.churn_said_span_ms(now_ms, CHURN_SPAN_MS),
            label_names: label_names
                .into_iter()
                .map(|(l, distinct)| self.across_card(l, distinct, now_ms))
                .collect(),
            pairs: self.top_pairs(&across, top),
            stale_after_ms: stale,
            counted: 0,
        })
    }

    /// The labels of metric `id`, those that look unbounded first, then by
    /// distinct values; `None` if the metric went.
    pub fn metric_labels(&self, id: MetricId, now_ms: i64, top: usize) -> Option<Vec<LabelCard>> {
        self.metric(id)?;
        let metric = self.cardinality.metric(id)?;
        let mut cards: Vec<LabelCard> = metric
            .labels()
            .iter()
            .map(|l| self.label_card(l, now_ms, top))
            .collect();
        cards.sort_by(|a, b| {
            (b.unbounded, b.distinct.value())
                .cmp(&(a.unbounded, a.distinct.value()))
                .then_with(|| a.name.cmp(&b.name))
        });
        Some(cards)
    }

    fn label_card(&self, l: &LabelValues, now_ms: i64, top: usize) -> LabelCard {
        LabelCard {
            name: self.str(l.name).to_owned(),
            distinct: l.distinct(),
            series: l.series(),
            top: l
                .top(top)
                .into_iter()
                .map(|(v, n)| (self.str(v).to_owned(), n))
                .collect(),
            unbounded: l.unbounded(now_ms),
        }
    }

    /// A label name's card across metrics, with its 3 values with the most series.
    fn across_card(&self, l: &AcrossLabel, distinct: Distinct, now_ms: i64) -> LabelCard {
        let values = l.values.iter().map(|(&v, &n)| (v, n)).collect();
        LabelCard {
            name: self.str(l.name).to_owned(),
            distinct,
            series: l.series,
            top: heaviest(values, 3)
                .into_iter()
                .map(|(v, n)| (self.str(v).to_owned(), n))
                .collect(),
            unbounded: l.unbounded(distinct, now_ms),
        }
    }

    /// Label-value pairs across metrics with the most series.
    fn top_pairs(&self, across: &[AcrossLabel], top: usize) -> Vec<PairCard> {
        let mut pairs: Vec<(u64, &str, &str)> = across
            .iter()
            .flat_map(|l| {
                let values = l.values.iter().map(|(&v, &n)| (v, n)).collect();
                heaviest(values, top)
                    .into_iter()
                    .map(move |(v, n)| (n, self.str(l.name), self.str(v)))
            })
            .collect();
        pairs.sort_unstable_by(|a, b| b.0.cmp(&a.0).then((a.1, a.2).cmp(&(b.1, b.2))));
        pairs.truncate(top);
        pairs
            .into_iter()
            .map(|(series, name, value)| PairCard {
                name: name.to_owned(),
                value: value.to_owned(),
                series,
            })
            .collect()
    }

    /// New and gone series per second, of all traffic: [`super::Churn::per_second`].
    pub fn churn_per_second(&self, now_ms: i64) -> (f64, f64) {
        let card = &self.cardinality;
        card.churn.per_second(now_ms, card.stale_after_ms())
    }

    /// The time the rates of new and gone series are over, for all traffic
    /// and for every row of it (metrics, tenants, senders): rows over the
    /// same time add up to the total.
    pub fn churn_counted_ms(&self, now_ms: i64) -> i64 {
        self.cardinality.churn.counted_ms(now_ms, CHURN_SPAN_MS)
    }

    /// The span to say churn figures over `span_ms` are over: all of it, or
    /// the time since the first series when that is shorter.
    pub fn churn_said_span_ms(&self, now_ms: i64, span_ms: i64) -> i64 {
        self.cardinality.churn.said_span_ms(now_ms, span_ms)
    }

    /// New series per second over recent seconds (the header's sparkline).
    pub fn new_series_rate(&self) -> &crate::store::rate::RateBuckets {
        &self.cardinality.new_series
    }
}
