//! CPU for the threads that only look at traffic.
//!
//! In forward mode, inspection (decoding what was forwarded, for the screen)
//! keeps the ordinary priority but holds itself to a share of one core
//! ([`CpuBudget`]): past it, requests are counted as not inspected, so that
//! flat out, forwarding (which senders wait for) keeps nearly all the CPU. A
//! low priority does not do that on a shared host: nice is against every
//! process on the machine, not only promscope's own threads, and with other
//! work busy a nice-19 inspection thread (and dashboard) fell tens of seconds
//! behind 10 requests/s (`SCHED_IDLE`, tried first, got no CPU at all).
//!
//! [`low`] is for background work that may wait (counting a capture's requests).

use std::time::{Duration, Instant};

/// A thread's own CPU time held to a share of one core: it earns `share` of
/// each second of wall time, at most [`CpuBudget::BURST`] ahead, and spends
/// what the thread uses.
#[derive(Debug)]
pub struct CpuBudget {
    share: f64,
    /// CPU seconds it may still spend (negative: overspent).
    left: f64,
    checked: Instant,
    used: Duration,
}

impl CpuBudget {
    /// CPU seconds that may be saved up while the thread is idle.
    pub const BURST: f64 = 0.05;

    /// A budget of `share` of one core for the calling thread, starting full.
    pub fn new(share: f64) -> Self {
        CpuBudget {
            share,
            left: Self::BURST,
            checked: Instant::now(),
            used: thread_cpu_time(),
        }
    }

    /// Whether the calling thread (the one that made the budget) may spend
    /// more now.
    pub fn allows(&mut self) -> bool {
        let (now, used) = (Instant::now(), thread_cpu_time());
        self.account(now, used);
        self.left > 0.0
    }

    fn account(&mut self, now: Instant, used: Duration) {
        let earned = now.duration_since(self.checked).as_secs_f64() * self.share;
        let spent = used.saturating_sub(self.used).as_secs_f64();
        self.left = (self.left + earned - spent).min(Self::BURST);
        (self.checked, self.used) = (now, used);
    }
}

/// CPU time the calling thread has used (zero where it cannot be read).
fn thread_cpu_time() -> Duration {
    #[cfg(unix)]
    {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes into the timespec it is given and
        // nothing else; on failure it is left at zero.
        let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0;
        if ok {
            return Duration::new(t.tv_sec as u64, t.tv_nsec as u32);
        }
    }
    Duration::ZERO
}

/// A low priority that still gets a slice when the CPU is short (nice 19 on
/// Linux, for the calling thread only), for work that may wait.
pub fn low() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no preconditions; setpriority on this thread's id
        // changes only its own nice value (per thread on Linux), or fails,
        // leaving the priority as it was.
        let _ = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_earns_its_share_of_wall_time_and_spends_cpu_time() {
        let start = Instant::now();
        let mut budget = CpuBudget {
            share: 0.1,
            left: CpuBudget::BURST,
            checked: start,
            used: Duration::ZERO,
        };
        // At `wall` ms since the start, `cpu` ms used in all: what is left.
        let mut at = |wall: u64, cpu: u64| {
            let ms = Duration::from_millis;
            budget.account(start + ms(wall), ms(cpu));
            budget.left
        };
        // 0.1 s of CPU in 0.5 s of wall time: 0.05 + 0.05 - 0.1 = 0, spent.
        assert!(at(500, 100).abs() < 1e-9);
        // Idle for 10 s: it earns 1 s but keeps no more than the burst.
        assert!((at(10_500, 100) - CpuBudget::BURST).abs() < 1e-9);
        // Flat out for 1 s (1 s of CPU): 0.05 + 0.1 - 1 < 0, overspent, and it
        // takes 8.5 s more of wall time without CPU to allow again.
        assert!(at(11_500, 1_100) < 0.0);
        assert!(at(19_900, 1_100) < 0.0);
        assert!(at(20_100, 1_100) > 0.0);
    }

    #[test]
    fn the_threads_cpu_time_grows_as_it_works() {
        let before = thread_cpu_time();
        let mut x = 0u64;
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(30) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        assert!(thread_cpu_time() > before, "{x}");
    }
}
