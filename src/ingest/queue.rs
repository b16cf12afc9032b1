//! The queue from the receiver to its consumer (the dashboard or the output),
//! bounded by batches (the channel's capacity) and by bytes: a batch holds its
//! share of `--max-bytes-in-flight` until the consumer takes it, so requests
//! being received, being decoded and waiting to be shown take that much at
//! most, all together.

use tokio::sync::mpsc;

use super::body::{Budget, Charge};
use super::model::{Batch, Outcome};

/// A batch on its way to a consumer, and the share of the budget it holds.
#[derive(Debug)]
pub struct Queued {
    batch: Batch,
    charge: Charge,
}

/// Where the receiver hands batches on.
pub type QueueSender = mpsc::Sender<Queued>;
/// Where a consumer takes them.
pub type QueueReceiver = mpsc::Receiver<Queued>;

/// A queue of at most `batches` batches (and the bytes of the receiver's budget).
pub fn channel(batches: usize) -> (QueueSender, QueueReceiver) {
    mpsc::channel(batches)
}

/// What keeping `batch` costs: its heap and the batch itself.
pub fn held_bytes(batch: &Batch) -> usize {
    batch.heap_bytes() + size_of::<Batch>()
}

impl Queued {
    /// `batch`, holding `charge` until it is taken.
    pub(super) fn charged(batch: Batch, charge: Charge) -> Self {
        Queued { batch, charge }
    }

    /// The batch, read in passing (the summary's recorder).
    pub fn batch(&self) -> &Batch {
        &self.batch
    }

    /// Takes the batch: its bytes go back to the budget.
    pub fn into_batch(self) -> Batch {
        self.batch
    }

    /// Bytes of the budget it holds.
    pub fn charged_bytes(&self) -> usize {
        self.charge.bytes()
    }
}

/// `batch`, holding its bytes of `budget` (`charge` adjusted to them) until a
/// consumer takes it; when the budget lacks them, a rejected request that kept
/// its body as received (for the dashboard's request view) is queued without
/// it, and anything else comes back.
pub fn charged(
    budget: &Budget,
    mut batch: Batch,
    mut charge: Charge,
) -> Result<Queued, Box<Batch>> {
    // Once the consumer drops it, its body buffer is kept within the budget.
    batch.data.keep_buffer_within(budget);
    if budget.settle(&mut charge, held_bytes(&batch)) {
        return Ok(Queued::charged(batch, charge));
    }
    let rejected = matches!(batch.outcome, Outcome::Rejected { .. });
    if rejected && batch.info.raw.take().is_some() && budget.settle(&mut charge, held_bytes(&batch))
    {
        return Ok(Queued::charged(batch, charge));
    }
    Err(Box::new(batch))
}

/// A batch that holds nothing of a budget: read from a capture, built by a test.
impl From<Batch> for Queued {
    fn from(batch: Batch) -> Self {
        Queued::charged(batch, Charge::default())
    }
}
