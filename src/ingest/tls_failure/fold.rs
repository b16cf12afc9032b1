//! Repeats of one failed handshake folded into one entry. A sender whose
//! handshake fails retries, every 100 ms at worst, for as long as it runs:
//! listed one by one, its failures would push every other request out of the
//! Requests view and print thousands of identical lines. The first failure of
//! a kind from an address is handed on at once; the same failure from the
//! same address within the next while (10 s, doubling up to a minute while it
//! goes on) is counted, and handed on at the end of that while as one entry
//! that says how many it stands for (and is counted as that many).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

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

/// The kinds being folded. Repeats counted in the last while before
/// promscope stops are not handed on (the output stops taking requests as the
/// listener stops).
#[derive(Default)]
pub(super) struct Folds {
    kinds: Mutex<HashMap<Kind, Fold>>,
}

/// A failure that stands for `count` of its kind.
struct Folded {
    failure: Failure,
    count: u64,
    over: Duration,
}

impl Folds {
    fn lock(&self) -> MutexGuard<'_, HashMap<Kind, Fold>> {
        self.kinds.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands `failure` on, or counts it with its kind.
    pub(super) async fn report(self: &Arc<Self>, failure: Failure, receiver: &Arc<Receiver>) {
        let kind = (failure.remote.ip(), failure.message.clone());
        let first = {
            let mut kinds = self.lock();
            if let Some(fold) = kinds.get_mut(&kind) {
                fold.count += 1;
                fold.last = Some((failure.remote, failure.at));
                return;
            }
            let room = kinds.len() < MOST_KINDS;
            if room {
                let now = Instant::now();
                let fold = Fold {
                    began: now,
                    ends: now + FIRST_WHILE,
                    length: FIRST_WHILE,
                    count: 0,
                    last: None,
                };
                kinds.insert(kind.clone(), fold);
            }
            room
        };
        if first {
            tokio::spawn(self.clone().fold(kind, receiver.clone()));
        }
        failure.hand_on(0, receiver).await;
    }

    /// Hands on the repeats of `kind` at the end of each while, until a
    /// while has none.
    async fn fold(self: Arc<Self>, kind: Kind, receiver: Arc<Receiver>) {
        loop {
            let Some(ends) = self.lock().get(&kind).map(|f| f.ends) else {
                return;
            };
            tokio::time::sleep_until(ends).await;
            let folded = {
                let mut kinds = self.lock();
                let Some(fold) = kinds.get_mut(&kind) else {
                    return;
                };
                let folded = take(&kind, fold);
                if folded.is_none() {
                    kinds.remove(&kind);
                    return;
                }
                fold.length = (fold.length * 2).min(LONGEST_WHILE);
                fold.began = Instant::now();
                fold.ends = fold.began + fold.length;
                folded
            };
            if let Some(folded) = folded {
                folded.hand_on(&receiver).await;
            }
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
        self.failure.hand_on(self.count - 1, receiver).await;
    }
}
