//! Repeats of one failed handshake folded into one entry. A sender whose
//! handshake fails retries, every 100 ms at worst, for as long as it runs:
//! listed one by one, its failures would push every other request out of the
//! Requests view and print thousands of identical lines. The first failure of
//! a kind from an address is handed on at once; the same failure from the
//! same address within the next while (10 s, doubling up to a minute while it
//! goes on) is handed on as a repeat, counted but not listed, and the while
//! ends with one entry that lists them all (and counts as none: the totals
//! and the header are never behind). When the receiver stops, every while
//! ends at once, so that no entry is lost.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use super::super::model::Repeats;
use super::super::server::Receiver;
use super::Failure;

/// The first while repeats are folded for; it doubles up to [`LONGEST_WHILE`].
const FIRST_WHILE: Duration = Duration::from_secs(10);
const LONGEST_WHILE: Duration = Duration::from_secs(60);

/// Kinds of failure (address and message) folded at once: past it, a
/// failure of a new kind is handed on alone. Bounds the memory and the timers
/// a flood of failures from many addresses can take.
const MOST_KINDS: usize = 256;

/// A failure's kind: the sender's address (not its port: each retry has its
/// own) and what failed.
type Kind = (IpAddr, String);

/// Repeats of one kind in the current while.
struct Fold {
    /// When the while began and ends, and its length.
    began: Instant,
    ends: Instant,
    length: Duration,
    /// Failures counted in it, and the last one's peer and time.
    count: u64,
    last: Option<(SocketAddr, SystemTime)>,
}

/// The kinds being folded.
#[derive(Default)]
pub(crate) struct Folds {
    kinds: Mutex<Kinds>,
    /// Held while a folded entry is handed on, so that the stop waits for
    /// one on its way before the consumer stops taking batches.
    handing_on: tokio::sync::Mutex<()>,
}

/// The folds by kind, and whether the receiver is stopping.
#[derive(Default)]
struct Kinds {
    folds: HashMap<Kind, Fold>,
    /// The receiver is stopping: each failure is handed on alone.
    stopped: bool,
}

/// A failure that stands for `count` of its kind.
struct Folded {
    failure: Failure,
    count: u64,
    over: Duration,
}

impl Folds {
    fn lock(&self) -> MutexGuard<'_, Kinds> {
        self.kinds.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands `failure` on: alone, or as a repeat of its kind.
    pub(super) async fn report(self: &Arc<Self>, failure: Failure, receiver: &Arc<Receiver>) {
        let kind = (failure.remote.ip(), failure.message.clone());
        let (repeats, folding) = {
            let mut kinds = self.lock();
            if let Some(fold) = kinds.folds.get_mut(&kind) {
                fold.last = Some((failure.remote, failure.at));
                (Repeats::Counted, false)
            } else {
                let folding = !kinds.stopped && kinds.folds.len() < MOST_KINDS;
                if folding {
                    let now = Instant::now();
                    let fold = Fold {
                        began: now,
                        ends: now + FIRST_WHILE,
                        length: FIRST_WHILE,
                        count: 0,
                        last: None,
                    };
                    kinds.folds.insert(kind.clone(), fold);
                }
                (Repeats::Alone, folding)
            }
        };
        if folding {
            tokio::spawn(self.clone().fold(kind.clone(), receiver.clone()));
        }
        let sent = failure.hand_on(repeats, receiver).await;
        // The entry's `×N` counts the repeats counted elsewhere: one dropped
        // (the queue full past its timeout) is counted as dropped instead.
        if sent
            && repeats == Repeats::Counted
            && let Some(fold) = self.lock().folds.get_mut(&kind)
        {
            fold.count += 1;
        }
    }

    /// Hands on the entry that lists the repeats of `kind` at the end of
    /// each while, until a while has none.
    async fn fold(self: Arc<Self>, kind: Kind, receiver: Arc<Receiver>) {
        loop {
            let Some(ends) = self.lock().folds.get(&kind).map(|f| f.ends) else {
                return;
            };
            tokio::time::sleep_until(ends).await;
            let _turn = self.handing_on.lock().await;
            let folded = {
                let mut kinds = self.lock();
                let Some(fold) = kinds.folds.get_mut(&kind) else {
                    return;
                };
                let Some(folded) = take(&kind, fold) else {
                    kinds.folds.remove(&kind);
                    return;
                };
                fold.length = (fold.length * 2).min(LONGEST_WHILE);
                fold.began = Instant::now();
                fold.ends = fold.began + fold.length;
                folded
            };
            folded.hand_on(&receiver).await;
        }
    }

    /// Ends every while now, handing on the entries that list their repeats
    /// (at most [`MOST_KINDS`]), and hands each later failure on alone: the
    /// receiver is stopping, and its consumer takes batches until this is done.
    pub(crate) async fn stop(&self, receiver: &Receiver) {
        let _turn = self.handing_on.lock().await;
        let folded: Vec<Folded> = {
            let mut kinds = self.lock();
            kinds.stopped = true;
            let folds = std::mem::take(&mut kinds.folds);
            folds
                .into_iter()
                .filter_map(|(kind, mut fold)| take(&kind, &mut fold))
                .collect()
        };
        for folded in folded {
            folded.hand_on(receiver).await;
        }
    }
}

/// The repeats `fold` counted, as one failure; none if it counted none.
fn take(kind: &Kind, fold: &mut Fold) -> Option<Folded> {
    let (remote, at) = fold.last.take()?;
    let count = std::mem::take(&mut fold.count);
    let failure = Failure {
        message: kind.1.clone(),
        remote,
        at,
    };
    Some(Folded {
        failure,
        count,
        over: fold.began.elapsed(),
    })
}

impl Folded {
    async fn hand_on(mut self, receiver: &Receiver) {
        let secs = self.over.as_secs().max(1);
        let failure = &mut self.failure;
        failure.message = format!(
            "{} (×{} from {} in the last {secs}s, shown once)",
            failure.message,
            self.count,
            failure.remote.ip()
        );
        let more = self.count.saturating_sub(1);
        // Dropped, it counted nothing (its repeats did, as they came).
        self.failure
            .hand_on(Repeats::Shown { more }, receiver)
            .await;
    }
}
