//! The Problems view's state: one row per rule that fired, sorted; the series
//! (or requests) the open rule fired on; Enter on a series opens its detail
//! under Metrics.

use super::list::{Cursor, Identified, SortKey, SortOrder, SortedList, Source};
use super::view::{SeriesRow, SeriesSort, sorted_series};
use super::{App, Tab};
use crate::problems::{Rule, Severity};
use crate::store::Store;
use crate::store::problems::RuleStats;

/// Problems list order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleSort {
    /// Errors first, then by count.
    Severity,
    /// By count.
    Count,
    /// Latest seen first.
    Last,
    /// By id.
    Id,
}

impl SortKey for RuleSort {
    fn next(self) -> Self {
        match self {
            RuleSort::Severity => RuleSort::Count,
            RuleSort::Count => RuleSort::Last,
            RuleSort::Last => RuleSort::Id,
            RuleSort::Id => RuleSort::Severity,
        }
    }

    fn label(self) -> &'static str {
        match self {
            RuleSort::Severity => "severity",
            RuleSort::Count => "count",
            RuleSort::Last => "last seen",
            RuleSort::Id => "rule",
        }
    }

    fn natural_order(self) -> SortOrder {
        match self {
            RuleSort::Id => SortOrder::Ascending,
            _ => SortOrder::Descending,
        }
    }

    fn moves_with_time(self) -> bool {
        false
    }
}

/// A row of the Problems list: the rule and what it was sorted by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleRow {
    pub rule: Rule,
    pub severity: Severity,
    pub count: u64,
    pub last_ms: i64,
}

impl Identified for RuleRow {
    type Id = Rule;
    fn id(&self) -> Rule {
        self.rule
    }
}

impl RuleRow {
    fn of(stats: &RuleStats) -> Self {
        RuleRow {
            rule: stats.rule,
            severity: stats.rule.severity(),
            count: stats.count,
            last_ms: stats.last_ms,
        }
    }
}

/// The rules that fired, in the given order.
pub fn sorted_rules(store: &Store, sort: RuleSort, order: SortOrder) -> Vec<RuleRow> {
    let mut rows: Vec<RuleRow> = store.problems().fired().map(RuleRow::of).collect();
    // Ties by id, in catalogue order.
    let by_id = |a: &RuleRow, b: &RuleRow| b.rule.cmp(&a.rule);
    match sort {
        RuleSort::Severity => rows.sort_by(|a, b| {
            (a.severity, a.count)
                .cmp(&(b.severity, b.count))
                .then_with(|| by_id(a, b))
        }),
        RuleSort::Count => rows.sort_by(|a, b| a.count.cmp(&b.count).then_with(|| by_id(a, b))),
        RuleSort::Last => rows.sort_by(|a, b| a.last_ms.cmp(&b.last_ms).then_with(|| by_id(a, b))),
        RuleSort::Id => rows.sort_by(|a, b| a.rule.id().cmp(b.rule.id())),
    }
    if order != SortOrder::Ascending {
        rows.reverse();
    }
    rows
}

/// The Problems view: the rules, and the series or requests of the open one.
#[derive(Debug)]
pub struct ProblemsView {
    /// One row per rule that fired.
    pub rules: SortedList<RuleRow, RuleSort>,
    /// The rule whose series (or requests) are listed.
    pub open: Option<Rule>,
    /// The open rule's series that match the filter.
    pub series: SortedList<SeriesRow, SeriesSort, Rule>,
    /// The open rule's requests (request rules), newest first.
    pub requests: Cursor,
    /// Rows the requests list showed.
    pub requests_viewport: usize,
}

impl Default for ProblemsView {
    fn default() -> Self {
        ProblemsView {
            rules: SortedList::new(RuleSort::Severity),
            open: None,
            series: SortedList::new(SeriesSort::Labels),
            requests: Cursor::default(),
            requests_viewport: 1,
        }
    }
}

/// Whether a rule is about whole requests (listed by request, not series).
pub fn lists_requests(store: &Store, rule: Rule) -> bool {
    store
        .problems()
        .get(rule)
        .is_some_and(|s| s.series_affected == 0 && s.requests().next().is_some())
}

impl ProblemsView {
    /// Rebuilds the rows when problems fired since.
    pub fn refresh(&mut self, store: &Store, now_ms: i64) {
        let version = store.problems().version() ^ store.metrics_version().rotate_left(32);
        let source = Source {
            version,
            subject: (),
        };
        if self.rules.needs_rebuild(source, now_ms) {
            let rows = sorted_rules(store, self.rules.sort(), self.rules.order());
            self.rules.rebuild(rows, source, now_ms);
        }
        let Some(rule) = self.open else {
            self.series.clear();
            return;
        };
        let source = Source {
            version,
            subject: rule,
        };
        if self.series.needs_rebuild(source, now_ms) {
            let stats = store.problems().get(rule);
            let ids = stats.into_iter().flat_map(RuleStats::series);
            let live = ids.filter_map(|id| Some((id, store.series(id)?)));
            let matched = live.filter(|(_, s)| s.matched);
            let (sort, order) = (self.series.sort(), self.series.order());
            let rows = sorted_series(store, matched, sort, order, now_ms);
            self.series.rebuild(rows, source, now_ms);
        }
    }
}

impl App {
    /// Enter in the Problems view: a rule's series (or requests), then a series'
    /// detail (Back returns to the rule's series).
    pub(super) fn enter_problems(&mut self, store: &Store) {
        let Some(_rule) = self.problems.open else {
            if let Some(row) = self.problems.rules.selected() {
                self.problems.open = Some(row.rule);
                self.problems.series.clear();
                self.problems.requests = Cursor::default();
                self.problems.refresh(store, self.now_ms);
            }
            return;
        };
        let selected = self.problems.series.selected();
        let found = selected.filter(|row| {
            let metric = store.series(row.id).map(|s| s.metric);
            metric.and_then(|m| store.metric(m)).is_some()
        });
        if let Some(row) = found {
            self.open_detail(row.id);
        }
    }

    /// Back in the Problems view: from a rule's series to the rules; from the
    /// rules to Metrics.
    pub(super) fn back_problems(&mut self) {
        if self.problems.open.take().is_none() {
            self.tab = Tab::Metrics;
        }
    }

    /// Moves the selection in the open rule's requests.
    pub(super) fn move_problem_requests(&mut self, delta: isize, store: &Store) {
        let len = self
            .problems
            .open
            .and_then(|rule| store.problems().get(rule))
            .map_or(0, |s| s.requests().count());
        let view = &mut self.problems;
        view.requests.move_by(delta, len, view.requests_viewport);
    }
}
