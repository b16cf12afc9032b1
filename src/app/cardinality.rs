//! The cardinality view's state: three levels (metrics by active series or
//! churn → a metric's labels → a label's values), a cursor on each, and the
//! rows, rebuilt from the store's aggregates every [`REBUILD_MS`] (never per
//! frame); and beside them (`t`) the tenants and senders. Enter on a label,
//! value, tenant or sender sets the filter to exactly its series and opens
//! them in Metrics.

use super::list::Cursor;
use super::navigate::Move;
use super::{App, Drill, Tab};
use crate::filter::Filter;
use crate::store::cardinality::filtered::GaveWay;
use crate::store::cardinality::{LabelCard, Overview};
use crate::store::parties::PartyCard;
use crate::store::{GiveWay, MetricId, Store};
use crate::text::promql;

/// How often the rows are rebuilt while the view is open...
pub const REBUILD_MS: i64 = 2_000;

/// ...and once per this many series whose labels a filtered rebuild counted
/// (a pass over 500k series takes a good part of a second; it gives way to
/// a key, and starts again after it): at most a tenth of the time rebuilding.
pub const COUNTED_PER_REBUILD_MS: usize = 25_000;

/// Label names and label-value pairs listed across metrics.
pub const TOP_ACROSS: usize = 10;

/// Values listed per label.
pub const TOP_VALUES: usize = 20;

/// Which list the view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Metrics by active series (or churn).
    Metrics,
    /// The labels of the open metric.
    Labels,
    /// The values of the open label, after a first row for any value.
    Values,
    /// Tenants, then senders.
    Parties,
}

/// Whom a row of [`Level::Parties`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Tenant,
    Sender,
}

impl Who {
    /// The pseudo-label that picks its series in the filter.
    pub fn pseudo_label(self) -> &'static str {
        let [tenant, sender] = crate::filter::PSEUDO_LABELS;
        match self {
            Who::Tenant => tenant,
            Who::Sender => sender,
        }
    }
}

/// How the metrics are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardSort {
    /// Most active series first.
    Active,
    /// Most new plus gone series per second first.
    Churn,
}

impl CardSort {
    /// What the title says.
    pub fn label(self) -> &'static str {
        match self {
            CardSort::Active => "active series",
            CardSort::Churn => "churn (new + gone /s)",
        }
    }
}

/// The cardinality view.
#[derive(Debug)]
pub struct CardinalityView {
    /// All traffic, as of the last rebuild.
    pub overview: Overview,
    /// When the rows were built (the screen's clock).
    built_ms: Option<i64>,
    pub level: Level,
    pub sort: CardSort,
    /// A cursor per level.
    pub metrics: Cursor,
    pub labels: Cursor,
    pub values: Cursor,
    pub parties: Cursor,
    /// The open metric: its id and name.
    pub metric: Option<(MetricId, String)>,
    /// Its labels (empty once it went).
    pub metric_labels: Vec<LabelCard>,
    /// Rows the open list had room for when drawn.
    pub viewport: usize,
    /// Whether the rows are those of the filter's series.
    pub filtered: bool,
    /// The filter the rows were built under.
    rows_of: Option<String>,
    /// Whether the filter's rows are being counted: a pass gave way to a key
    /// before it was done, and no rows of this filter were built before
    /// (none are shown meanwhile).
    pub counting: bool,
    /// Tenants and senders, most active series first.
    pub tenants: Vec<PartyCard>,
    pub senders: Vec<PartyCard>,
}

impl Default for CardinalityView {
    fn default() -> Self {
        CardinalityView {
            overview: Overview::default(),
            built_ms: None,
            level: Level::Metrics,
            sort: CardSort::Active,
            metrics: Cursor::default(),
            labels: Cursor::default(),
            values: Cursor::default(),
            parties: Cursor::default(),
            metric: None,
            metric_labels: Vec::new(),
            viewport: 20,
            filtered: false,
            rows_of: None,
            counting: false,
            tenants: Vec::new(),
            senders: Vec::new(),
        }
    }
}

impl CardinalityView {
    /// Rebuilds the rows if they are older than [`REBUILD_MS`] at `now_ms`
    /// (a filtered rebuild gives way to a key: see [`CardinalityView::rebuild`]).
    pub fn refresh(&mut self, store: &Store, now_ms: i64, give_way: GiveWay) {
        let every_ms =
            REBUILD_MS.max((self.overview.counted / COUNTED_PER_REBUILD_MS) as i64 * REBUILD_MS);
        let fresh = self
            .built_ms
            .is_some_and(|t| (0..every_ms).contains(&(now_ms - t)));
        if !fresh {
            self.rebuild(store, now_ms, give_way);
        }
    }

    /// Has the rows rebuilt at the next refresh (the filter changed).
    pub fn outdated(&mut self) {
        self.built_ms = None;
    }

    /// Rebuilds the rows now; under a filter, unless `give_way` turns true
    /// before its series are counted: then the rows stay as they were (none,
    /// if they were another filter's) and are rebuilt at the next refresh.
    pub fn rebuild(&mut self, store: &Store, now_ms: i64, give_way: GiveWay) {
        let filtered = !store.filter().is_all();
        self.filtered = filtered;
        let source = store.filter().source();
        let Ok((overview, labels)) = self.count(store, now_ms, give_way) else {
            if self.rows_of.as_deref() != Some(source) {
                self.overview = Overview::default();
                self.metric_labels.clear();
                self.counting = true;
            }
            self.built_ms = None;
            return;
        };
        self.overview = overview;
        self.metric_labels = labels.unwrap_or_default();
        self.tenants = store.tenants(now_ms);
        self.senders = store.senders(now_ms);
        self.sort_metrics();
        self.rows_of = Some(source.to_owned());
        self.counting = false;
        self.built_ms = Some(now_ms);
    }

    /// The rows of all traffic, and the open metric's labels (`None`: it
    /// went); under a filter, those of its series, counted by a pass over
    /// them unless `give_way` turns true meanwhile.
    fn count(
        &self,
        store: &Store,
        now_ms: i64,
        give_way: GiveWay,
    ) -> Result<(Overview, Option<Vec<LabelCard>>), GaveWay> {
        let metric = self.metric.as_ref().map(|(id, _)| *id);
        if store.filter().is_all() {
            let overview = store.cardinality_overview_giving_way(now_ms, TOP_ACROSS, give_way)?;
            let labels = metric.and_then(|id| store.metric_labels(id, now_ms, TOP_VALUES));
            return Ok((overview, labels));
        }
        let overview = store.filtered_overview(now_ms, TOP_ACROSS, give_way)?;
        let labels = match metric {
            Some(id) => store.filtered_metric_labels(id, now_ms, TOP_VALUES, give_way)?,
            None => None,
        };
        Ok((overview, labels))
    }

    fn sort_metrics(&mut self) {
        if self.sort == CardSort::Churn {
            self.overview.metrics.sort_by(|a, b| {
                b.churn_per_s()
                    .total_cmp(&a.churn_per_s())
                    .then_with(|| b.active.cmp(&a.active))
                    .then_with(|| a.name.cmp(&b.name))
            });
        }
    }

    /// Switches between most active and most churning first.
    pub fn cycle_sort(&mut self, store: &Store, now_ms: i64, give_way: GiveWay) {
        self.sort = match self.sort {
            CardSort::Active => CardSort::Churn,
            CardSort::Churn => CardSort::Active,
        };
        self.metrics = Cursor::default();
        self.rebuild(store, now_ms, give_way);
    }

    /// The label the cursor is on (at the values level: the open label).
    pub fn selected_label(&self) -> Option<&LabelCard> {
        self.metric_labels.get(self.labels.selected)
    }

    /// Rows of the list shown.
    pub fn len(&self) -> usize {
        match self.level {
            Level::Metrics => self.overview.metrics.len(),
            Level::Labels => self.metric_labels.len(),
            Level::Values => 1 + self.selected_label().map_or(0, |l| l.top.len()),
            Level::Parties => self.tenants.len() + self.senders.len(),
        }
    }

    /// Whether the list shown has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn cursor(&mut self) -> &mut Cursor {
        match self.level {
            Level::Metrics => &mut self.metrics,
            Level::Labels => &mut self.labels,
            Level::Values => &mut self.values,
            Level::Parties => &mut self.parties,
        }
    }

    pub(super) fn move_by(&mut self, m: Move) {
        let (len, height) = (self.len(), self.viewport);
        let delta = match m {
            Move::Rows(n) => n,
            Move::Pages(n) => n.saturating_mul(height.max(1) as isize),
            Move::First => isize::MIN / 2,
            Move::Last => isize::MAX / 2,
        };
        self.cursor().move_by(delta, len, height);
    }

    /// Opens the labels of `metric`.
    pub fn open_metric(&mut self, metric: MetricId, store: &Store, now_ms: i64, give_way: GiveWay) {
        let name = store.metric(metric).map(|m| store.str(m.name).to_owned());
        self.metric = name.map(|n| (metric, n));
        self.level = Level::Labels;
        self.labels = Cursor::default();
        self.values = Cursor::default();
        self.rebuild(store, now_ms, give_way);
    }

    /// Row `i` of [`Level::Parties`]: tenants first, then senders.
    pub fn party(&self, i: usize) -> Option<(Who, &PartyCard)> {
        match self.tenants.get(i) {
            Some(t) => Some((Who::Tenant, t)),
            None => Some((Who::Sender, self.senders.get(i - self.tenants.len())?)),
        }
    }

    /// Opens the list of tenants and senders.
    pub fn open_parties(&mut self, store: &Store, now_ms: i64, give_way: GiveWay) {
        self.level = Level::Parties;
        self.parties = Cursor::default();
        self.rebuild(store, now_ms, give_way);
    }

    /// One level up; false at the top.
    pub fn back(&mut self) -> bool {
        self.level = match self.level {
            Level::Metrics => return false,
            Level::Labels | Level::Parties => Level::Metrics,
            Level::Values => Level::Labels,
        };
        true
    }

    /// The selector of the row under the cursor: a metric, its series with
    /// the label (at the values level, first row), or with the value.
    pub fn selector(&self) -> Option<String> {
        if self.level == Level::Parties {
            let (who, card) = self.party(self.parties.selected)?;
            return Some(promql::series([(who.pseudo_label(), card.name.as_str())]));
        }
        let metric = match self.level {
            Level::Metrics => &self.overview.metrics.get(self.metrics.selected)?.name,
            _ => &self.metric.as_ref()?.1,
        };
        let Some(label) = self
            .selected_label()
            .filter(|_| self.level != Level::Metrics)
        else {
            return Some(promql::series([("__name__", metric.as_str())]));
        };
        let value = match self.level {
            Level::Values => self.values.selected.checked_sub(1),
            _ => None,
        };
        let pair =
            |value: &str| promql::series([("__name__", metric.as_str()), (&label.name, value)]);
        Some(match value {
            Some(i) => pair(&label.top.get(i)?.0),
            // `m{label=""}` written as a selector, then turned into `!=`.
            None => {
                let mut text = pair("");
                text.truncate(text.len() - r#"="""#.len() - 1);
                text.push_str(r#"!=""}"#);
                text
            }
        })
    }
}

impl App {
    /// Opens the cardinality of the metric selected in Metrics or open in Series.
    pub(super) fn open_cardinality(&mut self, store: &Store) {
        let metric = match self.open_list() {
            super::OpenList::Metrics => self.metrics.selected().map(|r| r.id),
            super::OpenList::Samples => {
                let open = self.current_detail().and_then(|id| store.series(id));
                open.map(|s| s.metric)
            }
            _ => self.current_metric(),
        };
        self.tab = Tab::Cardinality;
        let keys = self.keys_waiting.clone();
        let give_way = &|| keys.any();
        match metric.filter(|&id| store.metric(id).is_some()) {
            Some(id) => self
                .cardinality
                .open_metric(id, store, self.now_ms, give_way),
            None => self.cardinality.refresh(store, self.now_ms, give_way),
        }
    }

    /// Opens the tenants and senders of the cardinality view.
    pub(super) fn open_parties(&mut self, store: &Store) {
        self.tab = Tab::Cardinality;
        let keys = self.keys_waiting.clone();
        self.cardinality
            .open_parties(store, self.now_ms, &|| keys.any());
    }

    /// Enter in the cardinality view: into a metric, into a label, or (on a
    /// value, a tenant or a sender) the filter set to its series, shown in
    /// Metrics.
    pub(super) fn enter_cardinality(&mut self, store: &mut Store) {
        let keys = self.keys_waiting.clone();
        let view = &mut self.cardinality;
        match view.level {
            Level::Metrics => {
                let id = view
                    .overview
                    .metrics
                    .get(view.metrics.selected)
                    .map(|m| m.id);
                if let Some(id) = id.filter(|&id| store.metric(id).is_some()) {
                    view.open_metric(id, store, self.now_ms, &|| keys.any());
                }
            }
            Level::Labels => {
                if view.selected_label().is_some() {
                    view.level = Level::Values;
                    view.values = Cursor::default();
                }
            }
            Level::Parties => {
                let Some(text) = view.selector() else {
                    return;
                };
                if let Ok(filter) = Filter::parse(&text) {
                    self.filter.text = text;
                    self.set_filter(filter, store);
                    // Their metrics: the series may be of any.
                    self.tab = Tab::Metrics;
                    self.drill_mut().clear();
                }
            }
            Level::Values => {
                let Some(text) = view.selector() else {
                    return;
                };
                let metric = view.metric.as_ref().map(|m| m.0);
                // Built from quoted names and values: always valid.
                let Ok(filter) = Filter::parse(&text) else {
                    return;
                };
                self.filter.text = text;
                self.set_filter(filter, store);
                self.tab = Tab::Metrics;
                if let Some(metric) = metric.filter(|&id| store.metric(id).is_some()) {
                    *self.drill_mut() = vec![Drill::Series { metric }];
                }
            }
        }
    }
}
