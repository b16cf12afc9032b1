//! CPU for the threads that only look at traffic.
//!
//! In forward mode, inspection (decoding what was forwarded, for the screen)
//! runs at [`idle`] priority on a thread of its own while the host has CPU to
//! spare ([`SpareCpu`], [`Go::Spare`]), and otherwise at the ordinary
//! priority within a share of one core ([`CpuBudget`], [`Go::Share`]): past
//! both, requests are counted as not inspected, so that on a busy host
//! forwarding (which senders wait for) keeps nearly all the CPU, and on an
//! idle one everything is shown. A low priority alone does not do that on a
//! shared host: nice is against every process on the machine, not only
//! promscope's own threads, and with other work busy a nice-19 inspection
//! thread (and dashboard) fell tens of seconds behind 10 requests/s
//! (`SCHED_IDLE` got no CPU at all). So the share is spent at the ordinary
//! priority.
//!
//! [`low`] is for background work that may wait (counting a capture's requests).

mod cgroup;
mod spare;

use std::time::{Duration, Instant};

pub use cgroup::Quota;
pub use spare::{HostTimes, SpareCpu};

/// A thread's own CPU time held to a share of one core: it earns `share` of
/// each second of wall time, at most [`CpuBudget::BURST`] ahead, and spends
/// what the thread uses. While the host has CPU to spare ([`SpareCpu`]: idle
/// cores, not counting its own) the work goes there first, which costs the
/// budget nothing.
#[derive(Debug)]
pub struct CpuBudget {
    share: f64,
    /// CPU seconds it may still spend (negative: overspent).
    left: f64,
    checked: Instant,
    used: Duration,
    spare: SpareCpu,
    /// Whether the last go-ahead was on spare CPU: what the thread used
    /// since is not charged.
    on_spare: bool,
}

/// What a [`CpuBudget`] allows now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Go {
    /// No CPU to spare: work within the thread's share.
    Share,
    /// Work on the host's spare CPU (uncharged): best done at [`idle`]
    /// priority, so that it takes no core another thread wakes up for.
    Spare,
    /// Neither: wait.
    No,
}

impl Go {
    /// Whether it allows any work.
    pub fn allows(self) -> bool {
        self != Go::No
    }
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
            spare: SpareCpu::default(),
            on_spare: false,
        }
    }

    /// Whether the calling thread (the one that made the budget) may spend
    /// more now, and on what: its share, or the host's spare CPU.
    pub fn go(&mut self) -> Go {
        self.decide(Instant::now(), thread_cpu_time(), HostTimes::read)
    }

    /// [`CpuBudget::go`] at `now`, the thread having used `used` in all,
    /// with `host` to read the host's CPU times.
    fn decide(
        &mut self,
        now: Instant,
        used: Duration,
        host: impl FnOnce() -> Option<HostTimes>,
    ) -> Go {
        self.account(now, used);
        // Read every time (at most every 100 ms), so that the verdict is
        // fresh when the share runs out.
        // Spare CPU first, at idle priority: the share is for a busy host.
        let spare = self.spare.spare(now, host);
        self.on_spare = spare;
        if spare {
            Go::Spare
        } else if self.left > 0.0 {
            Go::Share
        } else {
            Go::No
        }
    }

    fn account(&mut self, now: Instant, used: Duration) {
        let earned = now.duration_since(self.checked).as_secs_f64() * self.share;
        let spent = if self.on_spare {
            0.0
        } else {
            used.saturating_sub(self.used).as_secs_f64()
        };
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

/// The lowest priority, for the calling thread only: the kernel gives it a
/// core only when no other thread there wants it (bar a tiny share), and a
/// thread that wakes up takes the core from it at once (Linux's
/// `SCHED_IDLE`; nice 19 where that is refused). For work on spare CPU: at
/// ordinary priority, forward mode's inspection woken as the backend's
/// answer came in delayed the sender's wake-up by up to 1.5 ms on 2 cores
/// (BENCHMARKS.md). A thread cannot come back from it without privileges.
pub fn idle() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: sched_setscheduler with pid 0 changes only the calling
        // thread's policy, from a param that lives across the call, or fails
        // and leaves it as it was.
        let set = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
        if set != 0 {
            low();
        }
    }
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
            spare: SpareCpu::default(),
            on_spare: false,
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

    /// Steps `budget` on two cores read every 100 ms: `at(wall, cpu, idle)`
    /// is its verdict and what is left at `wall` ms since `start`, the thread
    /// having used `cpu` ms in all and the host `idle` of the step's 200 ticks
    /// idle.
    fn stepper(
        budget: &mut CpuBudget,
        start: Instant,
    ) -> impl FnMut(u64, u64, u64) -> (Go, f64) + '_ {
        let (mut idle_ticks, mut ticks) = (0u64, 0u64);
        move |wall: u64, cpu: u64, idle: u64| {
            (idle_ticks, ticks) = (idle_ticks + idle, ticks + 200);
            let stat = format!("cpu  {} 0 0 {idle_ticks}\ncpu0\ncpu1\n", ticks - idle_ticks);
            let ms = Duration::from_millis;
            let go = budget.decide(start + ms(wall), ms(cpu), || HostTimes::parse(&stat));
            (go, budget.left)
        }
    }

    #[test]
    fn past_its_share_it_goes_on_while_the_host_has_cpu_to_spare_at_no_cost() {
        let start = Instant::now();
        let mut budget = CpuBudget {
            share: 0.03,
            left: -1.0,
            checked: start,
            used: Duration::ZERO,
            spare: SpareCpu::default(),
            on_spare: false,
        };
        let mut at = stepper(&mut budget, start);
        // Overspent, and nothing known of the host yet.
        assert_eq!(at(0, 0, 0).0, Go::No);
        // 1.8 of 2 cores idle: it goes on, on spare CPU.
        assert_eq!(at(100, 0, 180).0, Go::Spare);
        // Flat out itself (100 ms in 100 ms) beside 1 idle core, then 0.4.
        assert_eq!(at(200, 100, 100).0, Go::Spare);
        let (go, left) = at(300, 200, 40);
        assert_eq!(go, Go::Spare);
        // What it used on spare CPU was not charged: only earned.
        assert!((left - (-1.0 + 0.3 * 0.03)).abs() < 1e-9, "{left}");
        // A host busy otherwise (0 idle): the budget holds. The core it used
        // itself is not counted as spare: beside CPU-heavy processes it gets
        // its fair share, which would look spare to it and keep it going.
        assert_eq!(at(400, 230, 0).0, Go::No);
        // The 30 ms were on spare CPU; what it uses past a refusal is charged.
        let (go, left) = at(500, 260, 0);
        assert_eq!(go, Go::No);
        assert!((left - (-1.0 + 0.5 * 0.03 - 0.03)).abs() < 1e-9, "{left}");
    }

    #[test]
    fn spare_cpu_goes_first_and_the_share_is_kept_for_a_busy_host() {
        let start = Instant::now();
        let mut budget = CpuBudget::new(0.03);
        (budget.checked, budget.used) = (start, Duration::ZERO);
        let mut at = stepper(&mut budget, start);
        // Nothing known of the host yet: the share, which is full.
        assert_eq!(at(0, 0, 0).0, Go::Share);
        // 1.8 of 2 cores idle: spare CPU, though the share is not spent.
        assert_eq!(at(100, 0, 180).0, Go::Spare);
        // 40 ms used on it, uncharged; then the host is busy: the share.
        let (go, left) = at(200, 40, 0);
        assert_eq!(go, Go::Share);
        assert!((left - CpuBudget::BURST).abs() < 1e-9, "{left}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn idle_puts_only_the_calling_thread_at_idle_priority() {
        // SAFETY: sched_getscheduler(0) reads the calling thread's policy.
        let policy = || unsafe { libc::sched_getscheduler(0) };
        let before = policy();
        let inside = std::thread::spawn(move || {
            idle();
            policy()
        })
        .join()
        .expect("the thread ends");
        assert_eq!(inside, libc::SCHED_IDLE);
        assert_eq!(policy(), before, "only the thread that asked");
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
