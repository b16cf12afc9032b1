//! Inside a request (Requests view, Enter): its lines (see
//! [`request_content`](super::request_content)), a cursor over them, Enter on
//! a series to open it, and the body to write to a file: as received, or
//! decoded as `--format json` prints it. The file is written by the
//! dashboard's loop ([`App::take_body_to_write`]); what came of it is shown.

use std::sync::Arc;

use super::App;
use super::request_content::{self, Line, LineKind};
use crate::filter::Filter;
use crate::ingest::check::{Checker, Settings};
use crate::ingest::model::{Batch, RawRequest};
use crate::ingest::server::Limits;
use crate::output::{Format, MetadataDedup};
use crate::store::{RequestRow, Store};

/// What the receiver decoded and checked requests with, which opening a kept
/// request decodes it with again: the body limits (a request accepted under
/// a larger `--max-body-bytes` than the default opens as it was accepted) and
/// the rules' switches (a series a rule at `reject` refused is shown refused).
/// What the stateful rules remembered is not: an opened request is checked
/// on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    pub max_compressed_bytes: usize,
    pub max_decoded_bytes: usize,
    pub rules: Settings,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits::of(&Limits::default())
    }
}

impl RequestLimits {
    /// What the receiver's `limits` decode and check with.
    pub fn of(limits: &Limits) -> Self {
        RequestLimits {
            max_compressed_bytes: limits.max_compressed_bytes,
            max_decoded_bytes: limits.max_decoded_bytes,
            rules: *limits.problems.settings(),
        }
    }
}

/// An open request.
#[derive(Debug)]
pub struct RequestView {
    /// Its position in the request log.
    pub pos: u64,
    /// What the request log shows of it.
    pub row: RequestRow,
    /// The lines shown.
    pub lines: Vec<Line>,
    /// The highlighted line.
    pub cursor: usize,
    /// Lines on screen when last drawn (a page).
    pub viewport: usize,
    /// What the last write came to, until the next key.
    pub status: Option<String>,
    raw: Option<Arc<RawRequest>>,
    decoded: Option<Batch>,
    /// The limits it was decoded within.
    body: RequestLimits,
}

/// A body to write: a file name to start from and the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyFile {
    /// `promscope-request-N.ext`: the loop adds `-2`, `-3`… rather than overwrite.
    pub name: String,
    pub bytes: Vec<u8>,
}

impl RequestView {
    /// The request at `pos` of the log, decoded from what was kept of it
    /// within `body` (the receiver's limits) and checked by its rules.
    pub fn open(pos: u64, row: RequestRow, store: &Store, body: RequestLimits) -> Self {
        let raw = store.kept_request(row.taken).cloned();
        let limits = Limits {
            max_compressed_bytes: body.max_compressed_bytes,
            max_decoded_bytes: body.max_decoded_bytes,
            problems: Arc::new(Checker::new(body.rules)),
            ..Limits::default()
        };
        let decoded = raw
            .as_deref()
            .and_then(|r| crate::ingest::raw::decode_raw(r, &limits));
        let mut view = RequestView {
            pos,
            row,
            lines: Vec::new(),
            cursor: 0,
            viewport: 20,
            status: None,
            raw,
            decoded,
            body,
        };
        view.refilter(store.filter());
        view
    }

    /// Its lines again, its series those `filter` passes; the cursor stays
    /// on its line where that is still shown.
    pub fn refilter(&mut self, filter: &Filter) {
        let (raw, decoded) = (self.raw.as_deref(), self.decoded.as_ref());
        let lines = request_content::lines(&self.row, raw, decoded, self.body, filter);
        let at = self.lines.get(self.cursor);
        let same = at.and_then(|line| lines.iter().position(|l| l == line));
        self.cursor = same
            .unwrap_or(self.cursor)
            .min(lines.len().saturating_sub(1));
        self.lines = lines;
    }

    /// The series the highlighted line is or is under.
    fn series_at_cursor(&self) -> Option<usize> {
        let upto = self.lines.get(..=self.cursor)?;
        upto.iter().rev().find_map(|line| match line.kind {
            LineKind::Series(i) => Some(Some(i)),
            LineKind::Item | LineKind::Note => None,
            LineKind::Section | LineKind::Field => Some(None),
        })?
    }

    /// Moves the cursor by `delta` lines, within the lines.
    pub fn move_by(&mut self, delta: isize) {
        let last = self.lines.len().saturating_sub(1) as isize;
        self.cursor = (self.cursor as isize + delta).clamp(0, last) as usize;
    }

    /// The body to write: as received, or decoded (JSON lines); `Err` says
    /// why there is none.
    pub fn body_file(&self, decoded: bool) -> Result<BodyFile, String> {
        let raw = self
            .raw
            .as_ref()
            .ok_or("its body is no longer kept: nothing written")?;
        let stem = format!("promscope-request-{}", self.pos + 1);
        if !decoded {
            return Ok(BodyFile {
                name: format!("{stem}.bin"),
                bytes: raw.body.to_vec(),
            });
        }
        let batch = self
            .decoded
            .as_ref()
            .ok_or("its body does not decode: nothing written")?;
        let mut out = String::new();
        crate::output::write_batch(&mut out, Format::Json, batch, &mut MetadataDedup::default());
        Ok(BodyFile {
            name: format!("{stem}.json"),
            bytes: out.into_bytes(),
        })
    }
}

impl App {
    /// Opens the highlighted (or newest) request.
    pub(super) fn open_request(&mut self, store: &Store) {
        let requests = super::logs::Requests(store);
        if let Some(entry) = self.requests.selected_or_newest(&requests) {
            let body = self.request_limits;
            self.request = Some(RequestView::open(entry.pos, entry.row, store, body));
        }
    }

    /// Enter in an open request: the highlighted series' detail (on one of
    /// its samples, histograms or exemplars too), if stored.
    pub(super) fn enter_in_request(&mut self, store: &Store) {
        let Some(view) = &self.request else { return };
        let Some(i) = view.series_at_cursor() else {
            return;
        };
        let Some(batch) = &view.decoded else { return };
        let Some(s) = batch.data.series.get(i) else {
            return;
        };
        let Some(id) = store.find_series(&batch.data, s) else {
            if let Some(view) = &mut self.request {
                view.status = Some("that series is not stored (evicted, or never kept)".into());
            }
            return;
        };
        self.open_detail(id);
    }

    /// Asks for the open request's body to be written (see [`App::take_body_to_write`]).
    pub(super) fn write_body(&mut self, decoded: bool) {
        let Some(view) = &mut self.request else {
            return;
        };
        match view.body_file(decoded) {
            Ok(file) => self.body_to_write = Some(file),
            Err(why) => view.status = Some(why),
        }
    }

    /// The body the user asked to write, once.
    pub fn take_body_to_write(&mut self) -> Option<BodyFile> {
        self.body_to_write.take()
    }

    /// What writing the body came to, for the status line.
    pub fn body_written(&mut self, said: String) {
        if let Some(view) = &mut self.request {
            view.status = Some(said);
        }
    }
}
