//! Pause: the screen stays as it is while batches wait in a bounded buffer,
//! applied to the store on resume.

use std::collections::VecDeque;

use super::App;
use crate::ingest::model::Batch;
use crate::store::Store;

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

impl App {
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

    pub(super) fn toggle_pause(&mut self, store: &mut Store) {
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
}
