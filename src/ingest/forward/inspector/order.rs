//! Requests on their way from inspection to the consumers, kept in the
//! order they came while the spare thread holds some.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::HELD_REQUESTS;
use crate::ingest::forward::stats::ForwardStats;
use crate::ingest::queue::{QueueSender, Queued};

/// A request on its way to the consumers.
pub(super) enum Slot {
    /// With the spare thread, its body's bytes still counted as waiting.
    Spare { bytes: usize },
    /// Decoded, or refused by promscope, behind those the spare thread holds.
    Ready(Box<Queued>),
}

/// Requests on their way to the consumers, in the order they came; each
/// counted as pending from its submission until it reaches them or is
/// counted as not inspected (the summary at exit counts what is pending).
pub(super) struct InOrder {
    pub(super) slots: VecDeque<Slot>,
    pub(super) tx: QueueSender,
    pub(super) queued_bytes: Arc<AtomicUsize>,
    pub(super) stats: Arc<ForwardStats>,
}

impl InOrder {
    pub(super) fn waits_for_spare(&self) -> bool {
        !self.slots.is_empty()
    }

    /// A request ready for the consumers (`None`: not inspected): handed on,
    /// or held behind those the spare thread holds, up to
    /// [`HELD_REQUESTS`]; false once the consumers are gone.
    pub(super) fn push(&mut self, ready: Option<Queued>) -> bool {
        match ready {
            None => self.skip(0),
            Some(queued) if self.slots.is_empty() => self.deliver(queued),
            Some(_) if self.slots.len() >= HELD_REQUESTS => self.skip(0),
            Some(queued) => {
                self.slots.push_back(Slot::Ready(Box::new(queued)));
                true
            }
        }
    }

    /// What the spare thread did with the oldest request it holds; hands on
    /// what is then ready. False once the consumers are gone.
    pub(super) fn spare_done(&mut self, decoded: Option<Queued>) -> bool {
        let Some(at) = self
            .slots
            .iter()
            .position(|s| matches!(s, Slot::Spare { .. }))
        else {
            return true;
        };
        if let Slot::Spare { bytes } = self.slots[at] {
            self.queued_bytes.fetch_sub(bytes, Ordering::AcqRel);
        }
        match decoded {
            Some(queued) => self.slots[at] = Slot::Ready(Box::new(queued)),
            None => {
                self.slots.remove(at);
                self.skip(0);
            }
        }
        while let Some(Slot::Ready(_)) = self.slots.front() {
            if let Some(Slot::Ready(queued)) = self.slots.pop_front()
                && !self.deliver(*queued)
            {
                return false;
            }
        }
        true
    }

    /// The spare thread is gone: what it held is not inspected; the rest
    /// is handed on.
    pub(super) fn spare_gone(&mut self) {
        while self.slots.iter().any(|s| matches!(s, Slot::Spare { .. })) {
            if !self.spare_done(None) {
                return;
            }
        }
    }

    /// Counts a request as not inspected, and its body (`bytes`) as no
    /// longer waiting; true (the consumers may still be there).
    pub(super) fn skip(&self, bytes: usize) -> bool {
        self.queued_bytes.fetch_sub(bytes, Ordering::AcqRel);
        self.stats.uninspected.fetch_add(1, Ordering::Relaxed);
        self.stats.pending.fetch_sub(1, Ordering::Relaxed);
        true
    }

    /// Hands a request to the consumers, waiting for room (which holds up
    /// inspection only; its queue absorbs it); false once they are gone.
    fn deliver(&self, queued: Queued) -> bool {
        let delivered = self.tx.blocking_send(queued).is_ok();
        if !delivered {
            self.stats.uninspected.fetch_add(1, Ordering::Relaxed);
        }
        self.stats.pending.fetch_sub(1, Ordering::Relaxed);
        delivered
    }
}
