//! Pause: the screen stays as it is while batches wait in a buffer bounded by
//! bytes, applied to the store on resume. Past the bound the oldest batches
//! are applied while still paused, and the header says so. On resume they are
//! applied a slice of time per frame ([`App::catch_up`]), before anything that
//! arrives after them: a minute's worth takes the store a second or so, which
//! the screen and the keys do not wait for.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::App;
use crate::ingest::model::Batch;
use crate::store::Store;

/// Default bound on the heap bytes of the batches a pause holds (bodies,
/// decoded vectors, histograms, strings): with the store's own bound, the
/// defaults stay near 1 GiB in all.
pub const PAUSE_BUFFER_BYTES: usize = 256 << 20;

/// How long [`App::catch_up`] applies held batches per frame, at most (and
/// one batch at least).
pub const CATCH_UP_SLICE: Duration = Duration::from_millis(20);

/// What arrived while paused; applied to the store on resume.
#[derive(Debug, Default)]
pub struct Pause {
    /// When the pause began (ms since the epoch).
    pub since_ms: i64,
    /// Batches waiting to be applied, oldest first.
    pending: VecDeque<Batch>,
    /// What `pending` holds, by [`held_bytes`].
    pending_bytes: usize,
    /// The most `pending` may hold.
    limit_bytes: usize,
    /// Requests that arrived since the pause.
    pub requests: u64,
    /// Samples and histograms that arrived since the pause.
    pub samples: u64,
    /// Requests applied while paused because the buffer was full.
    pub applied_early: u64,
    /// Whether the buffer filled up and batches had to be applied while paused.
    pub overflowed: bool,
}

/// What keeping a batch in the buffer costs: its heap and its place in the queue.
fn held_bytes(batch: &Batch) -> usize {
    batch.heap_bytes() + size_of::<Batch>()
}

impl Pause {
    /// A pause begun at `since_ms` that holds up to `limit_bytes` of batches.
    pub fn new(since_ms: i64, limit_bytes: usize) -> Self {
        Pause {
            since_ms,
            limit_bytes,
            ..Pause::default()
        }
    }

    /// Bytes of the batches waiting.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Batches waiting.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Keeps `batch` for later; past the bound, applies the oldest to `store`.
    fn hold(&mut self, mut batch: Batch, store: &mut Store) {
        let c = batch.data.counts();
        self.requests += batch.info.counted();
        self.samples += c.samples + c.histograms;
        // Decoders reserve by estimate; what is kept for long should not pay for that.
        batch.data.shrink_to_fit();
        self.pending_bytes += held_bytes(&batch);
        self.pending.push_back(batch);
        while self.pending_bytes > self.limit_bytes {
            let Some(oldest) = self.pending.pop_front() else {
                break;
            };
            self.pending_bytes -= held_bytes(&oldest);
            store.ingest(&oldest);
            self.applied_early += oldest.info.counted();
            self.overflowed = true;
        }
    }
}

impl App {
    /// Takes a received batch: into the store, or into the pause buffer
    /// (also after a resume, until what the pause held is applied).
    pub fn receive(&mut self, batch: Batch, store: &mut Store) {
        match (&mut self.paused, &mut self.resumed) {
            (Some(pause), _) | (None, Some(pause)) => pause.hold(batch, store),
            (None, None) => store.ingest(&batch),
        }
    }

    /// Takes the receiver's counts as of now (requests dropped while the
    /// dashboard fell behind, and in forward mode what the backend did),
    /// unless paused: like every other number they stay those of the
    /// moment the screen holds (the backend's went on, `forwarded ok 11`
    /// under `requests 10`).
    pub fn set_receiver_counts(
        &mut self,
        dropped_requests: u64,
        forward: Option<crate::ingest::forward::ForwardSnapshot>,
    ) {
        if self.paused.is_none() {
            self.dropped_requests = dropped_requests;
            self.forward = forward;
        }
    }

    pub(super) fn toggle_pause(&mut self) {
        match self.paused.take() {
            Some(pause) => self.resumed = Some(pause).filter(|p| !p.pending.is_empty()),
            None => {
                let mut pause = Pause::new(self.now_ms, self.pause_buffer_bytes);
                // Paused again while catching up: what waits goes on waiting.
                if let Some(resumed) = self.resumed.take() {
                    pause.pending = resumed.pending;
                    pause.pending_bytes = resumed.pending_bytes;
                }
                self.paused = Some(pause);
            }
        }
    }

    /// After a resume, applies what the pause held, oldest first, for about
    /// `slice` (one batch at least); the rest waits for the next call. Returns
    /// whether it applied anything.
    pub fn catch_up(&mut self, store: &mut Store, slice: Duration) -> bool {
        let Some(resumed) = &mut self.resumed else {
            return false;
        };
        let started = Instant::now();
        while let Some(batch) = resumed.pending.pop_front() {
            resumed.pending_bytes -= held_bytes(&batch);
            store.ingest(&batch);
            if started.elapsed() >= slice {
                break;
            }
        }
        if resumed.pending.is_empty() {
            self.resumed = None;
        }
        true
    }

    /// Batches a resumed pause has yet to apply.
    pub fn catching_up(&self) -> usize {
        self.resumed.as_ref().map_or(0, Pause::pending)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::app::Action;
    use crate::ingest::model::{Histogram, Outcome, Repeats, RequestInfo, WriteData};
    use crate::proto::rw2;
    use crate::store::StoreLimits;

    const T0: i64 = 1_732_000_000_000;

    /// A request with one series labelled `id` plus `label_bytes` of padding,
    /// carrying a native histogram of `buckets` buckets and no float sample.
    fn histogram_batch(id: usize, label_bytes: usize, buckets: usize) -> Batch {
        let histogram = Histogram {
            count: Some(rw2::histogram::Count::CountInt(buckets as u64)),
            positive_spans: vec![rw2::BucketSpan {
                offset: 0,
                length: buckets as u32,
            }],
            positive_deltas: vec![1; buckets],
            timestamp: T0,
            ..Histogram::default()
        };
        let mut data = WriteData::default();
        let (id, padding) = (id.to_string(), "x".repeat(label_bytes));
        let labels = [("__name__", "h"), ("id", id.as_str()), ("pad", &padding)];
        data.push_series(&labels, &[], &[histogram]);
        Batch {
            info: RequestInfo {
                received_at: UNIX_EPOCH + Duration::from_millis(T0 as u64),
                remote_addr: None,
                path: "/api/v1/write".into(),
                user_agent: None,
                protocol: None,
                compressed_bytes: 0,
                decoded_bytes: 0,
                retry_attempt: None,
                tenant: None,
                raw: None,
                repeats: Repeats::Alone,
            },
            outcome: Outcome::Accepted,
            data,
        }
    }

    #[test]
    fn the_buffer_is_bounded_by_bytes_of_labels_and_histograms_and_applies_the_oldest_first() {
        let mut store = Store::new(StoreLimits::default());
        let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0);
        const LIMIT: usize = 4 << 20;
        app.pause_buffer_bytes = LIMIT;
        app.apply(Action::TogglePause, &mut store);
        // 100 requests of 64 KiB of labels and 4096 buckets each: about 9.6 MiB,
        // none of it float samples.
        for id in 0..100 {
            app.receive(histogram_batch(id, 64 << 10, 4096), &mut store);
            let pause = app.paused.as_ref().unwrap();
            assert!(pause.pending_bytes() <= LIMIT, "{}", pause.pending_bytes());
        }
        let pause = app.paused.as_ref().unwrap();
        assert!(pause.overflowed);
        assert_eq!(pause.requests, 100);
        assert_eq!(pause.samples, 100);
        let early = pause.applied_early as usize;
        assert_eq!(early + pause.pending(), 100);
        assert!((30..100).contains(&early), "{early} applied early");
        // The oldest went to the store, in order; the newest wait.
        let held = |store: &Store, id: usize| store.sym(&id.to_string()).is_some();
        assert!((0..early).all(|id| held(&store, id)));
        assert!((early..100).all(|id| !held(&store, id)));
        app.apply(Action::TogglePause, &mut store);
        assert!(app.paused.is_none());
        app.catch_up(&mut store, Duration::MAX);
        assert_eq!(store.series_count(), 100);
    }

    #[test]
    fn resuming_applies_what_was_held_a_slice_per_frame_and_in_order() {
        // In benches/soak.sh, 150 requests held over 6 s at 50k samples/s took
        // the store 300 ms to apply on resume: the key waited that long.
        let mut store = Store::new(StoreLimits::default());
        let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0);
        app.apply(Action::TogglePause, &mut store);
        for id in 0..10 {
            app.receive(histogram_batch(id, 16, 4), &mut store);
        }
        app.apply(Action::TogglePause, &mut store);
        assert!(app.paused.is_none());
        assert_eq!(store.series_count(), 0, "nothing applied by the key");
        assert_eq!(app.catching_up(), 10);
        // One batch at least per frame, oldest first; what arrives waits its turn.
        assert!(app.catch_up(&mut store, Duration::ZERO));
        assert_eq!(store.series_count(), 1);
        app.receive(histogram_batch(10, 16, 4), &mut store);
        assert_eq!(store.series_count(), 1);
        assert_eq!(app.catching_up(), 10);
        // Paused again meanwhile: what waits goes on waiting, then is applied.
        app.apply(Action::TogglePause, &mut store);
        assert_eq!(app.paused.as_ref().map(Pause::pending), Some(10));
        app.apply(Action::TogglePause, &mut store);
        assert!(app.catch_up(&mut store, Duration::MAX));
        assert_eq!((store.series_count(), app.catching_up()), (11, 0));
        assert!(!app.catch_up(&mut store, Duration::MAX));
        app.receive(histogram_batch(11, 16, 4), &mut store);
        assert_eq!(store.series_count(), 12, "applied at once again");
    }

    #[test]
    fn a_batch_is_counted_by_its_real_heap_size() {
        let batch = histogram_batch(0, 1 << 20, 1 << 16);
        let heap = batch.heap_bytes();
        // The label, and a delta (8 bytes) per bucket.
        let least = (1 << 20) + 8 * (1 << 16);
        assert!((least..least + (64 << 10)).contains(&heap), "{heap}");
    }
}
