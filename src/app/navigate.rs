//! Moving around: the selection within a list, a page at a time, to either
//! end, and into what is selected.

use super::history::{History, HistoryList};
use super::list::{Identified, SortKey, SortedList};
use super::logs::{RecentSamples, Requests, SeriesSamples};
use super::{App, Drill, OpenList, Tab};
use crate::store::{SeriesId, Store};

/// A move of the selection.
#[derive(Debug, Clone, Copy)]
pub(super) enum Move {
    /// Rows down (negative: up).
    Rows(isize),
    /// Pages down (negative: up).
    Pages(isize),
    /// To the first row.
    First,
    /// To the last row.
    Last,
}

impl App {
    pub(super) fn enter(&mut self, store: &mut Store) {
        match self.open_list() {
            OpenList::Metrics => {
                // A row whose metric went since the list was built opens nothing.
                let selected = self.metrics.selected().map(|r| r.id);
                if let Some(metric) = selected.filter(|&id| store.metric(id).is_some()) {
                    self.drill_mut().push(Drill::Series { metric });
                }
            }
            OpenList::Series => {
                let selected = self.series.list.selected();
                if let Some(row) = selected.filter(|r| store.series(r.id).is_some()) {
                    self.open_detail(row.id);
                }
            }
            OpenList::Log => {
                // Open the highlighted sample's series.
                let entry = self.log.selected_or_newest(&RecentSamples(store));
                let series = entry.and_then(|e| {
                    let id = e.row.entry.series;
                    store.metric(store.series(id)?.metric)?;
                    Some(id)
                });
                if let Some(id) = series {
                    self.open_detail(id);
                }
            }
            OpenList::Problems | OpenList::ProblemSeries => self.enter_problems(store),
            OpenList::Requests => self.open_request(store),
            OpenList::Request => self.enter_in_request(store),
            OpenList::Cardinality => self.enter_cardinality(store),
            OpenList::Samples => {}
        }
    }

    /// Opens a series on top of the open tab's view: Back returns to it.
    pub(super) fn open_detail(&mut self, series: SeriesId) {
        self.drill_mut().push(Drill::Detail { series });
        self.samples.follow();
    }

    /// Back: closes what the open tab opened last, else steps back in the
    /// tab's own view; from a tab's top level to Metrics.
    pub(super) fn back(&mut self) {
        if self.drill_mut().pop().is_some() {
            return;
        }
        match self.tab {
            Tab::Metrics => {}
            Tab::Requests if self.request.is_some() => self.request = None,
            Tab::Problems => self.back_problems(),
            Tab::Cardinality if self.cardinality.back() => {}
            _ => self.tab = Tab::Metrics,
        }
    }

    pub(super) fn move_by(&mut self, m: Move, store: &Store) {
        // Logs list the newest at the bottom, a series' samples at the top.
        fn in_history<R: Clone, H: History<Row = R>>(
            list: &mut HistoryList<R>,
            m: Move,
            newest_first: bool,
            src: &H,
        ) {
            let older = if newest_first { -1 } else { 1 };
            match m {
                Move::Rows(n) => list.move_by(n * older, src),
                Move::Pages(n) => list.page(n * older, src),
                Move::First if newest_first => list.follow(),
                Move::Last if !newest_first => list.follow(),
                Move::First | Move::Last => list.to_oldest(src),
            }
        }
        fn in_sorted<R: Identified, K: SortKey, S: Copy + PartialEq>(
            list: &mut SortedList<R, K, S>,
            m: Move,
        ) {
            match m {
                Move::Rows(n) => list.move_by(n),
                Move::Pages(n) => list.page(n),
                Move::First => list.move_by(isize::MIN / 2),
                Move::Last => list.move_by(isize::MAX / 2),
            }
        }
        match self.open_list() {
            OpenList::Metrics => in_sorted(&mut self.metrics, m),
            OpenList::Series => in_sorted(&mut self.series.list, m),
            OpenList::Samples => {
                let open = self.current_detail();
                if let Some(s) = open.and_then(|id| store.series(id)) {
                    in_history(&mut self.samples, m, true, &SeriesSamples(s));
                }
            }
            OpenList::Log => in_history(&mut self.log, m, false, &RecentSamples(store)),
            OpenList::Requests => in_history(&mut self.requests, m, false, &Requests(store)),
            OpenList::Problems => in_sorted(&mut self.problems.rules, m),
            OpenList::ProblemSeries => match self.problems.open {
                Some(rule) if super::problems::lists_requests(store, rule) => {
                    let delta = match m {
                        Move::Rows(n) => n,
                        Move::Pages(n) => {
                            n.saturating_mul(self.problems.requests_viewport as isize)
                        }
                        Move::First => isize::MIN / 2,
                        Move::Last => isize::MAX / 2,
                    };
                    self.move_problem_requests(delta, store);
                }
                _ => in_sorted(&mut self.problems.series, m),
            },
            OpenList::Request => {
                if let Some(view) = &mut self.request {
                    let page = view.viewport as isize;
                    view.move_by(match m {
                        Move::Rows(n) => n,
                        Move::Pages(n) => n * page,
                        Move::First => isize::MIN / 2,
                        Move::Last => isize::MAX / 2,
                    });
                }
            }
            OpenList::Cardinality => self.cardinality.move_by(m),
        }
    }
}
