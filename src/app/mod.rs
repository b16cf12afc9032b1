//! Dashboard state: which view is open, cursors, sort orders, the filter being
//! typed, and pause. [`App::apply`] carries out an [`Action`]; [`App::refresh`]
//! rebuilds the sorted row lists the views show. No I/O here.

pub mod keymap;
pub mod view;

use std::collections::VecDeque;
use std::net::SocketAddr;

use crate::filter::Filter;
use crate::ingest::model::Batch;
use crate::store::{MetricId, SeriesId, Store};
use view::{LabelSummary, MetricSort, SeriesSort, ViewCache};

/// Top-level views, cycled with Tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Metric names, drilling into series and one series.
    Metrics,
    /// The latest samples across all series.
    Log,
    /// The latest requests.
    Requests,
}

impl Tab {
    /// All tabs, in order.
    pub const ALL: [Tab; 3] = [Tab::Metrics, Tab::Log, Tab::Requests];

    /// Title shown in the tab bar.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Metrics => "Metrics",
            Tab::Log => "Recent samples",
            Tab::Requests => "Requests",
        }
    }

    fn offset(self, by: isize) -> Tab {
        let i = Tab::ALL.iter().position(|t| *t == self).unwrap_or(0) as isize;
        Tab::ALL[(i + by).rem_euclid(Tab::ALL.len() as isize) as usize]
    }
}

/// A level below the metrics list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drill {
    /// The series of one metric (which may go meanwhile).
    Series {
        /// The metric.
        metric: MetricId,
    },
    /// One series (which may be evicted meanwhile).
    Detail {
        /// The series.
        series: SeriesId,
    },
}

/// Something the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Leave the program.
    Quit,
    /// Redraw (terminal resized).
    Redraw,
    /// Move up n rows.
    Up(usize),
    /// Move down n rows.
    Down(usize),
    /// Move up a page.
    PageUp,
    /// Move down a page.
    PageDown,
    /// Go to the first row.
    Top,
    /// Go to the last row (in logs: follow new data).
    Bottom,
    /// Drill into the selected row.
    Enter,
    /// Go back up one level.
    Back,
    /// Next tab.
    NextTab,
    /// Previous tab.
    PrevTab,
    /// Go to a tab.
    GoTab(Tab),
    /// Next sort key.
    CycleSort,
    /// Reverse the sort order.
    ReverseSort,
    /// Pause or resume.
    TogglePause,
    /// Show or hide help.
    ToggleHelp,
    /// Start editing the filter.
    FilterEdit,
    /// Type a character into the filter.
    FilterType(char),
    /// Delete the last character of the filter.
    FilterBackspace,
    /// Replace the filter text.
    FilterSet(String),
    /// Keep the filter and stop editing.
    FilterAccept,
    /// Clear the filter and stop editing.
    FilterClear,
}

/// A selected row and the first visible row of a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Selected row.
    pub selected: usize,
    /// First visible row.
    pub offset: usize,
}

impl Cursor {
    /// Moves by `delta` rows within `len` rows, keeping the selection in a window of `height`.
    pub fn move_by(&mut self, delta: isize, len: usize, height: usize) {
        let max = len.saturating_sub(1) as isize;
        self.selected = (self.selected as isize + delta).clamp(0, max) as usize;
        self.offset = self.visible_offset(len, height);
    }

    /// The first visible row for a window of `height`, keeping the selection visible.
    pub fn visible_offset(&self, len: usize, height: usize) -> usize {
        let height = height.max(1);
        let selected = self.selected.min(len.saturating_sub(1));
        let mut offset = self.offset.min(selected);
        if selected >= offset + height {
            offset = selected + 1 - height;
        }
        offset.min(len.saturating_sub(height))
    }
}

/// Position in a log-like list (recent samples, requests), newest at the bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogCursor {
    /// Whether the view follows new entries.
    pub follow: bool,
    /// Absolute position of the selected (bottom) entry when not following.
    pub anchor: u64,
}

impl LogCursor {
    /// The selected entry's absolute position in a list whose first kept entry
    /// is at `start` and which keeps `len` entries: the newest when following.
    pub fn position(&self, start: u64, len: usize) -> u64 {
        let last = (start + len as u64).saturating_sub(1);
        if self.follow {
            last
        } else {
            self.anchor.clamp(start, last.max(start))
        }
    }
}

impl Default for LogCursor {
    fn default() -> Self {
        LogCursor {
            follow: true,
            anchor: 0,
        }
    }
}

/// The filter line.
#[derive(Debug, Clone, Default)]
pub struct FilterInput {
    /// Whether keys go to the filter.
    pub editing: bool,
    /// The text typed.
    pub text: String,
    /// Why `text` is not a valid filter (the last valid one stays in force).
    pub error: Option<String>,
}

/// What arrived while paused; applied to the store on resume.
#[derive(Debug, Default)]
pub struct Pause {
    /// When the pause began (ms since the epoch).
    pub since_ms: i64,
    /// Batches waiting to be applied.
    pub pending: VecDeque<Batch>,
    /// Requests that arrived since the pause.
    pub requests: u64,
    /// Samples and histograms that arrived since the pause.
    pub samples: u64,
    /// Whether the buffer filled up and batches had to be applied while paused.
    pub overflowed: bool,
}

/// Samples buffered while paused before the oldest batches are applied anyway
/// (to keep memory bounded); the header then says so.
pub const PAUSE_BUFFER_SAMPLES: u64 = 20_000_000;

/// The whole dashboard state.
pub struct App {
    /// Address the receiver listens on.
    pub listen: SocketAddr,
    /// When promscope started (ms since the epoch).
    pub started_ms: i64,
    /// The time the screen shows (frozen while paused).
    pub now_ms: i64,
    /// Current tab.
    pub tab: Tab,
    /// Drill-down below the metrics list.
    pub drill: Vec<Drill>,
    /// Metrics list cursor.
    pub metrics_cursor: Cursor,
    /// Series list cursor.
    pub series_cursor: Cursor,
    /// Cursor in a series' samples table.
    pub detail_cursor: Cursor,
    /// Recent-samples position.
    pub log: LogCursor,
    /// Requests position.
    pub requests: LogCursor,
    /// Metrics sort.
    pub metric_sort: (MetricSort, bool),
    /// Series sort.
    pub series_sort: (SeriesSort, bool),
    /// Filter line.
    pub filter: FilterInput,
    /// Set while paused.
    pub paused: Option<Pause>,
    /// Whether the help overlay is open.
    pub help: bool,
    /// Set when the user asked to quit.
    pub quit: bool,
    /// Rows available to list bodies (from the terminal size).
    pub body_rows: usize,
    /// Requests the receiver answered 503 because the dashboard fell behind.
    pub dropped_requests: u64,
    /// Sorted rows, rebuilt by [`App::refresh`].
    pub view: ViewCache,
}

impl App {
    /// A dashboard for a receiver on `listen`, started at `now_ms`.
    pub fn new(listen: SocketAddr, now_ms: i64) -> Self {
        App {
            listen,
            started_ms: now_ms,
            now_ms,
            tab: Tab::Metrics,
            drill: Vec::new(),
            metrics_cursor: Cursor::default(),
            series_cursor: Cursor::default(),
            detail_cursor: Cursor::default(),
            log: LogCursor::default(),
            requests: LogCursor::default(),
            metric_sort: (MetricSort::Name, false),
            series_sort: (SeriesSort::Labels, false),
            filter: FilterInput::default(),
            paused: None,
            help: false,
            quit: false,
            body_rows: 20,
            dropped_requests: 0,
            view: ViewCache::default(),
        }
    }

    /// Takes a received batch: into the store, or into the pause buffer.
    pub fn receive(&mut self, batch: Batch, store: &mut Store) {
        let Some(pause) = &mut self.paused else {
            store.ingest(&batch);
            return;
        };
        let c = batch.data.counts();
        pause.requests += 1;
        pause.samples += c.samples + c.histograms;
        pause.pending.push_back(batch);
        let mut buffered: u64 = pause
            .pending
            .iter()
            .map(|b| b.data.samples.len() as u64)
            .sum();
        while buffered > PAUSE_BUFFER_SAMPLES {
            let Some(oldest) = pause.pending.pop_front() else {
                break;
            };
            buffered -= oldest.data.samples.len() as u64;
            store.ingest(&oldest);
            pause.overflowed = true;
        }
    }

    /// Advances the clock (unless paused) and rebuilds the row lists if needed.
    pub fn tick(&mut self, now_ms: i64, store: &Store) {
        if self.paused.is_none() {
            self.now_ms = now_ms;
        }
        self.refresh(store);
    }

    /// Rebuilds the sorted rows of the open view when their inputs changed.
    pub fn refresh(&mut self, store: &Store) {
        let metric = self.current_metric();
        self.view.refresh(
            store,
            metric,
            self.metric_sort,
            self.series_sort,
            self.now_ms,
        );
    }

    /// The metric whose series are listed, if drilled in.
    pub fn current_metric(&self) -> Option<MetricId> {
        self.drill.iter().rev().find_map(|d| match d {
            Drill::Series { metric } => Some(*metric),
            Drill::Detail { .. } => None,
        })
    }

    /// The open series detail, if any.
    pub fn current_detail(&self) -> Option<SeriesId> {
        match self.drill.last() {
            Some(Drill::Detail { series }) => Some(*series),
            _ => None,
        }
    }

    /// Carries out an action.
    pub fn apply(&mut self, action: Action, store: &mut Store) {
        match action {
            Action::Quit => self.quit = true,
            Action::Redraw => {}
            Action::ToggleHelp => self.help = !self.help,
            Action::TogglePause => self.toggle_pause(store),
            Action::FilterEdit => {
                self.filter.editing = true;
                self.filter.text = store.filter().source().to_owned();
            }
            Action::FilterType(c) => {
                self.filter.text.push(c);
                self.apply_filter_text(store);
            }
            Action::FilterBackspace => {
                self.filter.text.pop();
                self.apply_filter_text(store);
            }
            Action::FilterSet(text) => {
                self.filter.text = text;
                self.apply_filter_text(store);
            }
            Action::FilterAccept => {
                self.filter.editing = false;
                // Keep showing what is in force, not an invalid draft.
                self.filter.text = store.filter().source().to_owned();
                self.filter.error = None;
            }
            Action::FilterClear => {
                self.filter = FilterInput::default();
                store.set_filter(Filter::all());
                self.reset_cursors();
            }
            Action::NextTab => self.tab = self.tab.offset(1),
            Action::PrevTab => self.tab = self.tab.offset(-1),
            Action::GoTab(tab) => self.tab = tab,
            Action::CycleSort => self.cycle_sort(),
            Action::ReverseSort => self.reverse_sort(),
            Action::Enter => self.enter(store),
            Action::Back => {
                if self.tab == Tab::Metrics && self.drill.pop().is_some() {
                    self.detail_cursor = Cursor::default();
                } else if self.tab != Tab::Metrics {
                    self.tab = Tab::Metrics;
                }
            }
            Action::Up(n) => self.move_by(-(n as isize), store),
            Action::Down(n) => self.move_by(n as isize, store),
            Action::PageUp => self.move_by(-(self.body_rows.max(2) as isize - 1), store),
            Action::PageDown => self.move_by(self.body_rows.max(2) as isize - 1, store),
            Action::Top => self.move_by(isize::MIN / 2, store),
            Action::Bottom => self.move_by(isize::MAX / 2, store),
        }
        self.refresh(store);
    }

    fn apply_filter_text(&mut self, store: &mut Store) {
        match Filter::parse(&self.filter.text) {
            Ok(filter) => {
                self.filter.error = None;
                if filter.source() != store.filter().source() {
                    store.set_filter(filter);
                    self.reset_cursors();
                }
            }
            Err(e) => self.filter.error = Some(e.to_string()),
        }
    }

    /// After a filter change the open metric or series may no longer match:
    /// go back to the top of the metrics list.
    fn reset_cursors(&mut self) {
        self.metrics_cursor = Cursor::default();
        self.series_cursor = Cursor::default();
        self.drill.clear();
    }

    fn toggle_pause(&mut self, store: &mut Store) {
        match self.paused.take() {
            Some(pause) => {
                for batch in &pause.pending {
                    store.ingest(batch);
                }
            }
            None => {
                self.paused = Some(Pause {
                    since_ms: self.now_ms,
                    ..Pause::default()
                });
            }
        }
    }

    fn cycle_sort(&mut self) {
        match (self.tab, self.current_detail(), self.current_metric()) {
            (Tab::Metrics, None, None) => self.metric_sort.0 = self.metric_sort.0.next(),
            (Tab::Metrics, None, Some(_)) => self.series_sort.0 = self.series_sort.0.next(),
            _ => {}
        }
    }

    fn reverse_sort(&mut self) {
        match (self.tab, self.current_detail(), self.current_metric()) {
            (Tab::Metrics, None, None) => self.metric_sort.1 = !self.metric_sort.1,
            (Tab::Metrics, None, Some(_)) => self.series_sort.1 = !self.series_sort.1,
            _ => {}
        }
    }

    fn enter(&mut self, store: &Store) {
        match self.tab {
            Tab::Metrics => match self.drill.last() {
                None => {
                    let selected = self.view.metrics.get(self.metrics_cursor.selected).copied();
                    if let Some(metric) = selected.filter(|&id| store.metric(id).is_some()) {
                        self.drill.push(Drill::Series { metric });
                        self.series_cursor = Cursor::default();
                    }
                }
                Some(Drill::Series { .. }) => {
                    let selected = self.view.series.get(self.series_cursor.selected).copied();
                    if let Some(series) = selected.filter(|&id| store.series(id).is_some()) {
                        self.drill.push(Drill::Detail { series });
                        self.detail_cursor = Cursor::default();
                    }
                }
                Some(Drill::Detail { .. }) => {}
            },
            Tab::Log => {
                // Open the selected sample's series.
                let entry = view::log_entry_at(store, self.log_position(store));
                let series = entry.and_then(|e| {
                    let s = store.series(e.series)?;
                    store.metric(s.metric)?;
                    Some((e.series, s.metric))
                });
                if let Some((series, metric)) = series {
                    self.drill = vec![Drill::Series { metric }, Drill::Detail { series }];
                    self.detail_cursor = Cursor::default();
                    self.tab = Tab::Metrics;
                }
            }
            Tab::Requests => {}
        }
    }

    /// Absolute position of the selected (bottom) recent-samples entry.
    pub fn log_position(&self, store: &Store) -> u64 {
        self.log.position(store.log_start(), store.log().len())
    }

    /// Absolute position of the selected request.
    pub fn request_position(&self, store: &Store) -> u64 {
        self.requests
            .position(store.requests_start(), store.requests().len())
    }

    fn move_by(&mut self, delta: isize, store: &Store) {
        let rows = self.body_rows;
        match self.tab {
            Tab::Metrics => match self.drill.last() {
                None => self
                    .metrics_cursor
                    .move_by(delta, self.view.metrics.len(), rows),
                Some(Drill::Series { .. }) => {
                    self.series_cursor
                        .move_by(delta, self.view.series.len(), rows)
                }
                Some(Drill::Detail { series, .. }) => {
                    let len = store.series(*series).map_or(0, |s| s.points.len());
                    self.detail_cursor
                        .move_by(delta, len, view::DETAIL_TABLE_ROWS);
                }
            },
            Tab::Log => {
                let from = self.log_position(store);
                let (pos, at_end) = view::step_log(store, from, delta);
                self.log = LogCursor {
                    follow: at_end && delta > 0,
                    anchor: pos,
                };
            }
            Tab::Requests => {
                let start = store.requests_start();
                let end = start + store.requests().len() as u64;
                let from = self.request_position(store) as i64;
                let pos =
                    (from + delta as i64).clamp(start as i64, end.saturating_sub(1) as i64) as u64;
                self.requests = LogCursor {
                    follow: delta > 0 && pos + 1 >= end,
                    anchor: pos,
                };
            }
        }
    }

    /// Label summary of the metric being viewed.
    pub fn label_summary(&self) -> &LabelSummary {
        &self.view.labels
    }
}

#[cfg(test)]
mod tests;
