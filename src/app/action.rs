//! What the user asks for ([`Action`]) and [`App::apply`], which carries it out.

use super::navigate::Move;
use super::{App, OpenList, Tab};
use crate::store::Store;

/// Something the user asked for (the key table says which keys ask for what).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Quit,
    /// The terminal was resized.
    Redraw,
    Up(usize),
    Down(usize),
    PageUp,
    PageDown,
    Top,
    /// In logs: follow new entries.
    Bottom,
    /// Drill into the selected row.
    Enter,
    Back,
    NextTab,
    PrevTab,
    GoTab(Tab),
    CycleSort,
    ReverseSort,
    TogglePause,
    ToggleHelp,
    /// Start editing the filter.
    FilterEdit,
    FilterType(char),
    FilterBackspace,
    /// Replace the whole line (erased, pasted): it applies at once.
    FilterSet(String),
    /// Apply the filter typed and stop editing (not if it is invalid).
    FilterAccept,
    /// Stop editing and go back to the filter in force before.
    FilterCancel,
    /// Rows show every label, or only those that tell them apart.
    ToggleAllLabels,
    /// Copy the selected series as a selector.
    CopySelector,
    /// Write the open request's body to a file: as received, or decoded (JSON).
    WriteBody {
        decoded: bool,
    },
    /// Open the cardinality view on the selected metric.
    OpenCardinality,
    /// Open the cardinality view's tenants and senders.
    OpenParties,
}

impl App {
    /// Carries out an action.
    pub fn apply(&mut self, action: Action, store: &mut Store) {
        if self.help && self.scroll_help(&action) {
            return;
        }
        // A copied selector stays on screen until the next key.
        if action != Action::Redraw {
            self.copied.shown = None;
            if let Some(view) = &mut self.request {
                view.status = None;
            }
        }
        let detail = self.current_detail();
        match action {
            Action::Quit => self.quit = true,
            Action::ToggleAllLabels => self.all_labels = !self.all_labels,
            Action::CopySelector => self.copy_selector(store),
            Action::WriteBody { decoded } => self.write_body(decoded),
            Action::OpenCardinality => self.open_cardinality(store),
            Action::OpenParties => self.open_parties(store),
            Action::Redraw => {}
            Action::ToggleHelp => {
                self.help = !self.help;
                self.help_scroll = 0;
            }
            Action::TogglePause => {
                self.finish_receiving(store);
                self.toggle_pause();
            }
            Action::FilterEdit => {
                let chosen = self.unapplied.as_ref().unwrap_or(store.filter());
                self.filter.begin(chosen);
            }
            // What is typed now replaces a filter that gave way to the key.
            Action::FilterType(c) => {
                self.filter.text.push(c);
                self.filter.typed(self.wall_ms);
                self.unapplied = None;
            }
            Action::FilterBackspace => {
                self.filter.text.pop();
                self.filter.typed(self.wall_ms);
                self.unapplied = None;
            }
            Action::FilterSet(text) => {
                self.unapplied = None;
                self.filter.text = text;
                if let Some(filter) = self.filter.replaced() {
                    self.set_filter(filter, store);
                }
            }
            Action::FilterAccept => {
                if let Some(filter) = self.filter.accept() {
                    self.set_filter(filter, store);
                }
            }
            Action::FilterCancel => {
                if let Some(filter) = self.filter.cancel() {
                    self.set_filter(filter, store);
                }
            }
            Action::NextTab => self.tab = self.tab.offset(1),
            Action::PrevTab => self.tab = self.tab.offset(-1),
            Action::GoTab(tab) => self.tab = tab,
            Action::CycleSort => match self.open_list() {
                OpenList::Metrics => self.metrics.cycle_sort(),
                OpenList::Series => self.series.list.cycle_sort(),
                OpenList::Problems => self.problems.rules.cycle_sort(),
                OpenList::ProblemSeries => self.problems.series.cycle_sort(),
                OpenList::Cardinality => {
                    let keys = self.keys_waiting.clone();
                    self.cardinality
                        .cycle_sort(store, self.now_ms, &|| keys.any())
                }
                _ => {}
            },
            Action::ReverseSort => match self.open_list() {
                OpenList::Metrics => self.metrics.reverse(),
                OpenList::Series => self.series.list.reverse(),
                OpenList::Problems => self.problems.rules.reverse(),
                OpenList::ProblemSeries => self.problems.series.reverse(),
                _ => {}
            },
            Action::Enter => self.enter(store),
            Action::Back => self.back(),
            Action::Up(n) => self.move_by(Move::Rows(-(n as isize)), store),
            Action::Down(n) => self.move_by(Move::Rows(n as isize), store),
            Action::PageUp => self.move_by(Move::Pages(-1), store),
            Action::PageDown => self.move_by(Move::Pages(1), store),
            Action::Top => self.move_by(Move::First, store),
            Action::Bottom => self.move_by(Move::Last, store),
        }
        // Another tab's series on screen: its newest samples, not the other's place.
        if self.current_detail() != detail {
            self.samples.follow();
        }
        self.refresh(store);
    }

    /// Scrolls the help if the action is a move; says whether it was.
    fn scroll_help(&mut self, action: &Action) -> bool {
        const PAGE: usize = 10;
        self.help_scroll = match *action {
            Action::Up(n) => self.help_scroll.saturating_sub(n),
            Action::Down(n) => self.help_scroll.saturating_add(n),
            Action::PageUp => self.help_scroll.saturating_sub(PAGE),
            Action::PageDown => self.help_scroll.saturating_add(PAGE),
            _ => return false,
        };
        true
    }

    /// Keeps the help's scroll within what the screen showed could scroll.
    pub fn limit_help_scroll(&mut self, max: usize) {
        self.help_scroll = self.help_scroll.min(max);
    }
}
