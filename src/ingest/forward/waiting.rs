//! Requests sent to the backend and not answered yet, by sender: a sender
//! whose requests all wait on a stalled backend sends nothing new, and the
//! dashboard hears of its requests only when they are answered. Without
//! this, it read as `idle 34s` while it was resending.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::stats::lock;
use crate::ingest::model::Sender;

/// Senders with requests waiting on the backend.
#[derive(Debug, Default)]
pub struct Waiting(Mutex<HashMap<Sender, Wait>>);

#[derive(Debug, Clone, Copy)]
struct Wait {
    /// Requests waiting.
    requests: u64,
    /// Since when the sender has had one waiting, without a break.
    since: Instant,
}

impl Waiting {
    /// Counts a request of `sender` as waiting until the guard is dropped.
    pub fn begin(self: &Arc<Self>, sender: Sender) -> WaitGuard {
        let mut map = lock(&self.0);
        let wait = map.entry(sender.clone()).or_insert(Wait {
            requests: 0,
            since: Instant::now(),
        });
        wait.requests += 1;
        WaitGuard {
            waiting: Arc::clone(self),
            sender: Some(sender),
        }
    }

    /// Each sender with requests waiting, and for how long without a break.
    pub fn now(&self) -> Vec<(Sender, Duration)> {
        lock(&self.0)
            .iter()
            .map(|(sender, wait)| (sender.clone(), wait.since.elapsed()))
            .collect()
    }
}

/// A request waiting on the backend; no longer when dropped.
pub struct WaitGuard {
    waiting: Arc<Waiting>,
    sender: Option<Sender>,
}

impl Drop for WaitGuard {
    fn drop(&mut self) {
        let Some(sender) = self.sender.take() else {
            return;
        };
        let mut map = lock(&self.waiting.0);
        if let Some(wait) = map.get_mut(&sender) {
            wait.requests -= 1;
            if wait.requests == 0 {
                map.remove(&sender);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender(ua: &str) -> Sender {
        Sender {
            user_agent: ua.into(),
            ip: None,
            tenant: None,
        }
    }

    #[test]
    fn a_sender_waits_while_any_of_its_requests_does() {
        let waiting = Arc::new(Waiting::default());
        let first = waiting.begin(sender("a"));
        let second = waiting.begin(sender("a"));
        let other = waiting.begin(sender("b"));
        let names = |w: &Waiting| {
            let mut n: Vec<String> = w.now().into_iter().map(|(s, _)| s.user_agent).collect();
            n.sort();
            n
        };
        assert_eq!(names(&waiting), ["a", "b"]);
        drop(first);
        drop(other);
        assert_eq!(names(&waiting), ["a"]);
        drop(second);
        assert!(waiting.now().is_empty());
    }
}
