//! Dashboard state: which view is open, cursors, sort orders, the filter being
//! typed, and pause. [`App::apply`] carries out an [`Action`]; [`App::refresh`]
//! rebuilds the sorted row lists the views show. No I/O here.

mod action;
pub mod cardinality;
mod filter_line;
pub mod history;
pub mod keymap;
pub mod list;
pub mod logs;
mod navigate;
mod pause;
pub mod problems;
pub mod receiving;
pub mod replay;
pub mod request;
pub mod request_content;
mod selector;
mod tab;
pub mod view;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};

use crate::filter::Filter;
use crate::ingest::server::Access;
use crate::store::{MetricId, RequestRow, SeriesId, Store};
pub use action::Action;
pub use filter_line::{FilterLine, TYPING_PAUSE_MS};
use history::HistoryList;
use list::{SortedList, Source};
use logs::{PointRow, RecentSamples, Requests, SampleRow, SeriesSamples};
pub use pause::{CATCH_UP_SLICE, PAUSE_BUFFER_BYTES, Pause};
pub use selector::CopiedSelector;
pub use tab::Tab;
use view::{
    LabelSummary, MetricRow, MetricSort, SeriesRow, SeriesSort, label_summary, sorted_metrics,
    sorted_series,
};

/// A level below the metrics list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drill {
    /// The series of one metric (which may go meanwhile).
    Series { metric: MetricId },
    /// One series (which may be evicted meanwhile).
    Detail { series: SeriesId },
}

/// The series list of the open metric, and which of its labels vary.
#[derive(Debug)]
pub struct SeriesView {
    /// Rows, cursor and sort; rebuilt for the open metric.
    pub list: SortedList<SeriesRow, SeriesSort, MetricId>,
    /// Constant and varying labels of the open metric.
    pub labels: LabelSummary,
}

/// The whole dashboard state.
pub struct App {
    /// Address the receiver listens on.
    pub listen: SocketAddr,
    /// What senders must be set up with (TLS, credentials).
    pub access: Access,
    /// When promscope started (ms since the epoch).
    pub started_ms: i64,
    /// The time the screen shows (frozen while paused).
    pub now_ms: i64,
    /// Current tab.
    pub tab: Tab,
    /// What each tab has opened on top of its own view, by [`Tab::index`]:
    /// under Metrics a metric's series and one series; under the others a
    /// series opened from a sample, a request or a problem. A tab shows its
    /// own, and Back closes the top one, so the user goes back where they came from.
    drills: [Vec<Drill>; Tab::ALL.len()],
    /// The metrics list.
    pub metrics: SortedList<MetricRow, MetricSort>,
    /// The series list of the open metric.
    pub series: SeriesView,
    /// The open series' samples table.
    pub samples: HistoryList<PointRow>,
    /// Recent samples.
    pub log: HistoryList<SampleRow>,
    /// The request log.
    pub requests: HistoryList<RequestRow>,
    /// The Problems view.
    pub problems: problems::ProblemsView,
    /// Filter line.
    pub filter: FilterLine,
    /// Set while paused.
    pub paused: Option<Pause>,
    /// A pause that ended, while what it held is applied (see [`App::catch_up`]).
    resumed: Option<Pause>,
    /// The most a pause holds before applying its oldest batches.
    pub pause_buffer_bytes: usize,
    /// What the receiver decoded and checked with, which an opened request is decoded and checked with.
    pub request_limits: request::RequestLimits,
    /// Whether the help overlay is open.
    pub help: bool,
    /// Lines the help is scrolled by.
    pub help_scroll: usize,
    /// Whether rows show every label, not only those that tell them apart.
    pub all_labels: bool,
    /// The selector last copied.
    pub copied: CopiedSelector,
    /// Set when the user asked to quit.
    pub quit: bool,
    /// Requests the receiver answered 503 because the dashboard fell behind.
    pub dropped_requests: u64,
    /// Forward mode: what forwarding has done, as of the latest frame.
    pub forward: Option<crate::ingest::forward::ForwardSnapshot>,
    /// Keys the terminal sent that are not handled yet.
    pub keys_waiting: KeysWaiting,
    /// A filter chosen but not applied yet: it gave way to a key.
    unapplied: Option<Filter>,
    /// The clock at the last tick (it moves while paused, unless a replay's).
    clock_ms: i64,
    /// The wall clock at the last tick: typing pauses are the user's time.
    wall_ms: i64,
    /// Set when replaying a capture: where the replay is.
    pub replay: Option<replay::ReplayStatus>,
    /// The request opened from the Requests view.
    pub request: Option<request::RequestView>,
    /// A request body the user asked to write, for the loop to write.
    body_to_write: Option<request::BodyFile>,
    /// The cardinality view.
    pub cardinality: cardinality::CardinalityView,
    /// A request applied in part: it gave way to a key (see [`receiving`]).
    ingesting: Option<(crate::ingest::model::Batch, crate::store::Ingesting)>,
}

/// How many keys the terminal sent that the dashboard has not handled yet,
/// shared by the thread that reads them and the loop that handles them.
#[derive(Debug, Clone, Default)]
pub struct KeysWaiting(Arc<AtomicIsize>);

impl KeysWaiting {
    /// A key was sent on to the loop.
    pub fn sent(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    /// The loop took a key. (It may take it before `sent` counts it: the
    /// count is then briefly below zero.)
    pub fn taken(&self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }

    /// Whether a key waits.
    pub fn any(&self) -> bool {
        self.0.load(Ordering::SeqCst) > 0
    }
}

/// Which list the screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenList {
    /// Metric names.
    Metrics,
    /// The series of the open metric.
    Series,
    /// The open series' samples.
    Samples,
    /// Recent samples across series.
    Log,
    Requests,
    /// The rules that fired.
    Problems,
    /// The series (or requests) one rule fired on.
    ProblemSeries,
    /// One request, opened from the Requests view.
    Request,
    /// The cardinality view's open list.
    Cardinality,
}

impl App {
    /// A dashboard for a receiver on `listen`, started at `now_ms`.
    pub fn new(listen: SocketAddr, now_ms: i64) -> Self {
        App {
            listen,
            access: Access::default(),
            started_ms: now_ms,
            now_ms,
            tab: Tab::Metrics,
            drills: Default::default(),
            metrics: SortedList::new(MetricSort::Series),
            series: SeriesView {
                list: SortedList::new(SeriesSort::Labels),
                labels: LabelSummary::default(),
            },
            samples: HistoryList::default(),
            log: HistoryList::default(),
            requests: HistoryList::default(),
            problems: problems::ProblemsView::default(),
            filter: FilterLine::default(),
            keys_waiting: KeysWaiting::default(),
            unapplied: None,
            clock_ms: now_ms,
            wall_ms: now_ms,
            replay: None,
            request: None,
            body_to_write: None,
            paused: None,
            resumed: None,
            pause_buffer_bytes: PAUSE_BUFFER_BYTES,
            request_limits: request::RequestLimits::default(),
            help: false,
            help_scroll: 0,
            all_labels: false,
            copied: CopiedSelector::default(),
            quit: false,
            dropped_requests: 0,
            forward: None,
            cardinality: cardinality::CardinalityView::default(),
            ingesting: None,
        }
    }

    /// Advances the clock (the screen's only unless paused) and rebuilds the
    /// row lists if needed.
    pub fn tick(&mut self, now_ms: i64, store: &Store) {
        self.tick_at(now_ms, now_ms, store);
    }

    /// Since when the rates on screen were counted: the dashboard's start, or
    /// in a replay the first request recorded (the capture began before it).
    /// Sparkline columns before then are unknown, not zero.
    pub fn counting_since_ms(&self, store: &Store) -> i64 {
        let first = store.request_rate.first_ms().unwrap_or(self.started_ms);
        first.min(self.started_ms)
    }

    /// [`App::tick`] for a clock other than the wall clock (a replay's), at
    /// wall-clock `wall_ms`.
    pub fn tick_at(&mut self, now_ms: i64, wall_ms: i64, store: &Store) {
        self.clock_ms = now_ms;
        self.wall_ms = wall_ms;
        if self.paused.is_none() {
            self.now_ms = now_ms;
        }
        self.refresh(store);
    }

    /// Applies the filter typed, once typing has paused at wall-clock `now_ms`,
    /// or one that gave way to a key before.
    pub fn apply_typed_filter(&mut self, now_ms: i64, store: &mut Store) {
        if let Some(filter) = self.filter.due(now_ms).or_else(|| self.unapplied.take()) {
            self.set_filter(filter, store);
        }
    }

    /// Whether a filter waits to be applied.
    pub fn filter_waiting(&self) -> bool {
        self.filter.is_waiting() || self.unapplied.is_some()
    }

    /// Rebuilds the sorted rows of the lists when their inputs changed.
    pub fn refresh(&mut self, store: &Store) {
        let now = self.now_ms;
        self.problems.refresh(store, now);
        if self.tab == Tab::Cardinality {
            let keys = self.keys_waiting.clone();
            self.cardinality.refresh(store, now, &|| keys.any());
        }
        let source = Source {
            version: store.metrics_version(),
            subject: (),
        };
        if self.metrics.needs_rebuild(source, now) {
            let rows = sorted_metrics(store, self.metrics.sort(), self.metrics.order(), now);
            self.metrics.rebuild(rows, source, now);
        }
        // Gone (all its series evicted): the series view says so.
        let Some((id, metric)) = self
            .current_metric()
            .and_then(|id| Some((id, store.metric(id)?)))
        else {
            self.series.list.clear();
            return;
        };
        let source = Source {
            version: metric.version,
            subject: id,
        };
        let list = &mut self.series.list;
        if list.needs_rebuild(source, now) {
            let matched = || store.series_of(metric).filter(|(_, s)| s.matched);
            self.series.labels = label_summary(store, matched().map(|(_, s)| s));
            let rows = sorted_series(store, matched(), list.sort(), list.order(), now);
            list.rebuild(rows, source, now);
        }
    }

    /// Records how many rows the list on screen showed when drawn.
    pub fn set_viewport(&mut self, rows: usize, store: &Store) {
        match self.open_list() {
            OpenList::Metrics => self.metrics.set_viewport(rows),
            OpenList::Series => self.series.list.set_viewport(rows),
            OpenList::Samples => {
                let open = self.current_detail();
                if let Some(s) = open.and_then(|id| store.series(id)) {
                    self.samples.set_viewport(rows, &SeriesSamples(s));
                }
            }
            OpenList::Log => self.log.set_viewport(rows, &RecentSamples(store)),
            OpenList::Requests => self.requests.set_viewport(rows, &Requests(store)),
            OpenList::Problems => self.problems.rules.set_viewport(rows),
            OpenList::ProblemSeries => {
                self.problems.series.set_viewport(rows);
                self.problems.requests_viewport = rows.max(1);
            }
            OpenList::Request => {
                if let Some(view) = &mut self.request {
                    view.viewport = rows.max(1);
                }
            }
            OpenList::Cardinality => self.cardinality.viewport = rows,
        }
    }

    /// What the open tab has opened on top of its own view (see `drills`).
    pub fn drill(&self) -> &[Drill] {
        &self.drills[self.tab.index()]
    }

    /// What `tab` has opened on top of its own view.
    pub fn drill_of(&self, tab: Tab) -> &[Drill] {
        &self.drills[tab.index()]
    }

    fn drill_mut(&mut self) -> &mut Vec<Drill> {
        &mut self.drills[self.tab.index()]
    }

    /// The metric whose series are listed, if drilled in.
    pub fn current_metric(&self) -> Option<MetricId> {
        self.drill().iter().rev().find_map(|d| match d {
            Drill::Series { metric } => Some(*metric),
            Drill::Detail { .. } => None,
        })
    }

    /// The open series detail, if any.
    pub fn current_detail(&self) -> Option<SeriesId> {
        match self.drill().last() {
            Some(Drill::Detail { series }) => Some(*series),
            _ => None,
        }
    }

    /// Applies a filter where the user is: the lists keep their place (the
    /// selected entry, if it still matches) and the drill-down stays open.
    /// Applies `filter`, unless a key comes meanwhile: re-filtering a million
    /// series takes a good part of a second, and a key must not wait for it.
    /// The filter then applies once the keys are handled.
    fn set_filter(&mut self, filter: Filter, store: &mut Store) {
        self.unapplied = None;
        if filter.source() == store.filter().source() {
            return;
        }
        let keys = self.keys_waiting.clone();
        match store.try_set_filter(filter, self.clock_ms, &|| keys.any()) {
            Ok(()) => {
                self.log.refilter(&RecentSamples(store));
                self.requests.refilter(&Requests(store));
                if let Some(view) = &mut self.request {
                    view.refilter(store.filter());
                }
                self.cardinality.outdated();
            }
            Err(filter) => self.unapplied = Some(filter),
        }
    }

    /// Where keys go now.
    pub fn key_mode(&self) -> keymap::Mode {
        keymap::mode(self.filter.editing, self.help)
    }

    /// The list the screen shows.
    pub fn open_list(&self) -> OpenList {
        match (self.tab, self.drill().last()) {
            (_, Some(Drill::Series { .. })) => OpenList::Series,
            (_, Some(Drill::Detail { .. })) => OpenList::Samples,
            (Tab::Metrics, None) => OpenList::Metrics,
            (Tab::Log, _) => OpenList::Log,
            (Tab::Requests, _) if self.request.is_some() => OpenList::Request,
            (Tab::Requests, _) => OpenList::Requests,
            (Tab::Problems, _) if self.problems.open.is_some() => OpenList::ProblemSeries,
            (Tab::Problems, _) => OpenList::Problems,
            (Tab::Cardinality, _) => OpenList::Cardinality,
        }
    }
}

#[cfg(test)]
mod tests;
