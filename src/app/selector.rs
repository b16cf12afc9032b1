//! Copying the selected series as a PromQL selector: for the terminal's
//! clipboard (OSC 52, which the dashboard's loop writes where the terminal
//! supports it) and for the screen, which shows it on a line of its own to
//! select with the mouse where the terminal does not.

use super::logs::RecentSamples;
use super::{App, OpenList};
use crate::store::Store;
use crate::text::promql;

/// A selector the user asked to copy.
#[derive(Debug, Default)]
pub struct CopiedSelector {
    /// What the screen shows, until the next key.
    pub shown: Option<String>,
    /// What the terminal's clipboard has yet to get.
    unsent: Option<String>,
}

impl CopiedSelector {
    /// The selector the clipboard has yet to get (once).
    pub fn take_unsent(&mut self) -> Option<String> {
        self.unsent.take()
    }
}

impl App {
    /// Copies the selector of what is selected: the metric, the series, the
    /// open series, or the highlighted sample's series. The Requests view
    /// selects no series: nothing is copied there.
    pub(super) fn copy_selector(&mut self, store: &Store) {
        let selector = match self.open_list() {
            OpenList::Metrics => self
                .metrics
                .selected()
                .and_then(|row| store.metric(row.id))
                .map(|m| promql::series([("__name__", store.str(m.name))])),
            OpenList::Series => self
                .series
                .list
                .selected()
                .and_then(|row| store.series(row.id))
                .map(|s| store.series_text(&s.labels)),
            OpenList::Samples => self
                .current_detail()
                .and_then(|id| store.series(id))
                .map(|s| store.series_text(&s.labels)),
            OpenList::Log => self
                .log
                .selected_or_newest(&RecentSamples(store))
                .and_then(|e| e.row.labels)
                .map(|labels| promql::series(labels.iter().map(|(n, v)| (&**n, &**v)))),
            OpenList::ProblemSeries => self
                .problems
                .series
                .selected()
                .and_then(|row| store.series(row.id))
                .map(|s| store.series_text(&s.labels)),
            OpenList::Problems => None,
            OpenList::Requests => None,
            // The highlighted series of an open request.
            OpenList::Request => self.request.as_ref().and_then(|view| {
                let line = view.lines.get(view.cursor)?;
                matches!(line.kind, super::request_content::LineKind::Series(_))
                    .then(|| line.text.clone())
            }),
            OpenList::Cardinality => self.cardinality.selector(),
        };
        self.copied.unsent.clone_from(&selector);
        self.copied.shown = selector;
    }
}
