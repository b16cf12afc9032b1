//! Taking requests a part at a time: a big request (vmagent and the OTel
//! collector send tens of thousands of series in one) is applied
//! [`INGEST_PART`] series at a time, and a key that comes meanwhile is
//! handled, and drawn, between two parts.

use super::App;
use crate::ingest::model::Batch;
use crate::store::Store;

/// Series applied between two looks at whether a key waits: a quarter to a
/// millisecond of work in a store of a million series.
pub const INGEST_PART: usize = 512;

impl App {
    /// [`App::receive`], but a request going into the store gives way to a
    /// key between parts of [`INGEST_PART`] series (`give_way` says whether
    /// one waits); the rest is applied by [`App::go_on_receiving`].
    pub fn receive_giving_way(
        &mut self,
        batch: Batch,
        store: &mut Store,
        give_way: &dyn Fn() -> bool,
    ) {
        self.finish_receiving(store);
        if self.paused.is_some() || self.resumed.is_some() {
            return self.receive(batch, store);
        }
        let under_way = store.ingest_start(&batch);
        self.ingesting = Some((batch, under_way));
        self.go_on_receiving(store, give_way);
    }

    /// Applies more of the request under way, until it is all in or a key
    /// waits. Returns whether part of it is still to apply.
    pub fn go_on_receiving(&mut self, store: &mut Store, give_way: &dyn Fn() -> bool) -> bool {
        let Some((batch, under_way)) = &mut self.ingesting else {
            return false;
        };
        loop {
            if store.ingest_part(batch, under_way, INGEST_PART) {
                self.ingesting = None;
                return false;
            }
            if give_way() {
                return true;
            }
        }
    }

    /// Whether part of a request is still to apply.
    pub fn receiving(&self) -> bool {
        self.ingesting.is_some()
    }

    /// Applies the rest of the request under way: before a pause, so that
    /// what the screen freezes holds whole requests.
    pub(super) fn finish_receiving(&mut self, store: &mut Store) {
        self.go_on_receiving(store, &|| false);
    }
}
