//! The filter line while it is edited: the text typed, why it is not a valid
//! filter, the filter in force before editing (Esc goes back to it), and a
//! typed filter waiting for the typing to pause (re-filtering a million series
//! takes a good part of a second: applying it at every key would hold up the
//! keys after it).

use crate::filter::{Filter, Note};

/// How long typing must pause before what was typed applies (ms).
pub const TYPING_PAUSE_MS: i64 = 150;

/// The filter line.
#[derive(Debug, Default)]
pub struct FilterLine {
    /// Whether keys go to the filter.
    pub editing: bool,
    /// The text typed.
    pub text: String,
    /// Why `text` is not a valid filter (the filter in force stays).
    pub error: Option<String>,
    /// How `text` is read when that is not what it looks like (see [`Filter::note`]).
    pub note: Option<Note>,
    /// The filter in force when editing began.
    before_edit: Option<Filter>,
    /// A valid filter typed but not applied yet, and when its last key came (ms).
    waiting: Option<(Filter, i64)>,
}

impl FilterLine {
    /// Starts editing the filter in force.
    pub fn begin(&mut self, in_force: &Filter) {
        self.editing = true;
        self.text = in_force.source().to_owned();
        self.error = None;
        self.note = in_force.note().cloned();
        self.before_edit = Some(in_force.clone());
        self.waiting = None;
    }

    /// The text changed by a key at `now_ms`: it applies once typing pauses.
    pub fn typed(&mut self, now_ms: i64) {
        self.waiting = self.parse().map(|filter| (filter, now_ms));
    }

    /// The text was replaced at once (erased, pasted): the filter to apply now.
    pub fn replaced(&mut self) -> Option<Filter> {
        self.waiting = None;
        self.parse()
    }

    /// The typed filter to apply, once typing has paused at `now_ms`.
    pub fn due(&mut self, now_ms: i64) -> Option<Filter> {
        let (_, typed_at) = self.waiting.as_ref()?;
        if now_ms.saturating_sub(*typed_at) < TYPING_PAUSE_MS {
            return None;
        }
        self.waiting.take().map(|(filter, _)| filter)
    }

    /// Whether a typed filter waits for typing to pause.
    pub fn is_waiting(&self) -> bool {
        self.waiting.is_some()
    }

    /// Enter: a valid filter applies (returned) and editing ends; an invalid
    /// one changes nothing (its error stays on screen, and so does the line).
    pub fn accept(&mut self) -> Option<Filter> {
        let filter = self.parse()?;
        self.editing = false;
        self.before_edit = None;
        self.waiting = None;
        Some(filter)
    }

    /// Esc: the edit is dropped; returns the filter in force before it.
    pub fn cancel(&mut self) -> Option<Filter> {
        self.editing = false;
        self.error = None;
        self.waiting = None;
        let filter = self.before_edit.take()?;
        self.text = filter.source().to_owned();
        self.note = filter.note().cloned();
        Some(filter)
    }

    /// Parses the text, keeping the error for the screen.
    fn parse(&mut self) -> Option<Filter> {
        match Filter::parse(&self.text) {
            Ok(filter) => {
                self.error = None;
                self.note = filter.note().cloned();
                Some(filter)
            }
            Err(e) => {
                self.error = Some(e.to_string());
                self.note = None;
                None
            }
        }
    }
}
