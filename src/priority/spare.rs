//! Whether the host has CPU to spare: the cores idle between two readings of
//! its CPU times (`/proc/stat` on Linux), no more than the room left under the
//! tightest CPU quota of promscope's cgroup and its parents. Not counted: what the thread that
//! asks used itself, so that it cannot keep itself going on CPU that others
//! want (beside CPU-heavy processes it would get its fair share, which looks
//! spare to it); it stops once the idle cores drop under
//! [`SpareCpu::KEEP`] and starts again at [`SpareCpu::START`].

use std::time::{Duration, Instant};

use super::cgroup::Quota;

/// The host's CPU times in all its cores (`/proc/stat`'s first line), in
/// ticks: idle (idle + iowait) and in all, with the number of cores.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTimes {
    idle: u64,
    total: u64,
    cores: u32,
    /// The quota and use of promscope's cgroup and of each parent, its own
    /// first (`None` for one without a quota).
    quotas: Vec<Option<Quota>>,
}

impl HostTimes {
    /// Reads them from the text of `/proc/stat`; `None` when it has no
    /// `cpu` line of at least idle, or no `cpuN` lines.
    pub fn parse(stat: &str) -> Option<Self> {
        let mut lines = stat.lines();
        let all = lines.next()?.strip_prefix("cpu ")?;
        let mut ticks = all.split_whitespace().map(|n| n.parse::<u64>().ok());
        // user nice system idle iowait irq softirq steal; guest and
        // guest_nice are already within user and nice.
        let mut fields = [0u64; 8];
        let mut read = 0;
        for (field, ticks) in fields.iter_mut().zip(&mut ticks) {
            *field = ticks?;
            read += 1;
        }
        if read < 4 {
            return None;
        }
        let cores = lines
            .take_while(|line| line.starts_with("cpu"))
            .filter(|line| line.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
            .count();
        Some(HostTimes {
            idle: fields[3].saturating_add(fields[4]),
            total: fields.iter().fold(0u64, |sum, t| sum.saturating_add(*t)),
            cores: u32::try_from(cores).ok().filter(|&c| c > 0)?,
            quotas: Vec::new(),
        })
    }

    /// With the quotas and use of promscope's cgroup and its parents
    /// ([`Quota::read`]).
    pub fn with_quotas(self, quotas: Vec<Option<Quota>>) -> Self {
        HostTimes { quotas, ..self }
    }

    /// This host's, now; `None` where they cannot be read (not Linux).
    pub fn read() -> Option<Self> {
        #[cfg(target_os = "linux")]
        {
            std::fs::read_to_string("/proc/stat")
                .ok()
                .and_then(|stat| Self::parse(&stat))
                .map(|host| host.with_quotas(Quota::read()))
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }
}

/// One look at the host: when, and its CPU times.
#[derive(Debug, Clone)]
struct Reading {
    at: Instant,
    host: HostTimes,
}

/// Cores to spare between two readings: the idle ones, at most what the
/// tightest of the cgroups' quotas leaves (a parent's quota limits its
/// children together); `None` when the readings say nothing (no time passed,
/// counters went back).
fn spare_cores(before: &Reading, after: &Reading) -> Option<f64> {
    let wall = after.at.checked_duration_since(before.at)?.as_secs_f64();
    let total = after.host.total.checked_sub(before.host.total)?;
    let idle = after.host.idle.checked_sub(before.host.idle)?;
    if wall <= 0.0 || total == 0 {
        return None;
    }
    let idle_cores = idle.min(total) as f64 / total as f64 * f64::from(after.host.cores);
    let mut room = f64::INFINITY;
    for quotas in before.host.quotas.iter().zip(&after.host.quotas) {
        if let (Some(before), Some(after)) = quotas {
            let used = after.used.checked_sub(before.used)?.as_secs_f64() / wall;
            room = room.min((after.cores - used).max(0.0));
        }
    }
    Some(idle_cores.min(room))
}

/// Whether the host has CPU to spare, from readings at least
/// [`SpareCpu::EVERY`] apart (between them the last verdict stands): from
/// [`SpareCpu::START`] idle cores on, until they drop under [`SpareCpu::KEEP`].
#[derive(Debug, Default)]
pub struct SpareCpu {
    last: Option<Reading>,
    spare: bool,
}

impl SpareCpu {
    /// Idle cores from which there is CPU to spare.
    pub const START: f64 = 0.5;
    /// Idle cores under which there no longer is: a thread that uses spare
    /// CPU leaves at least this much idle, or stops.
    pub const KEEP: f64 = 0.25;
    /// How often the host is read, at most.
    pub const EVERY: Duration = Duration::from_millis(100);
    /// Readings further apart than this say too little of now: no verdict
    /// (not spare) until the next one.
    pub const STALE: Duration = Duration::from_secs(1);

    /// The verdict at `now`; `read` gives the host's CPU times, and is called
    /// only when the last reading is [`SpareCpu::EVERY`] old.
    pub fn spare(&mut self, now: Instant, read: impl FnOnce() -> Option<HostTimes>) -> bool {
        if let Some(last) = &self.last
            && now.saturating_duration_since(last.at) < Self::EVERY
        {
            return self.spare;
        }
        let Some(host) = read() else {
            (self.last, self.spare) = (None, false);
            return false;
        };
        let reading = Reading { at: now, host };
        let needed = if self.spare { Self::KEEP } else { Self::START };
        self.spare = self.last.as_ref().is_some_and(|last| {
            now.saturating_duration_since(last.at) <= Self::STALE
                && spare_cores(last, &reading).is_some_and(|cores| cores >= needed)
        });
        self.last = Some(reading);
        self.spare
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "cpu  4300188 1246501 608144 5358333 9100 0 7561 8114 0 0\n\
                        cpu0 2152827 606994 285004 2716150 2088 0 2116 4166 0 0\n\
                        cpu1 2147361 639507 323139 2642183 7011 0 5445 3947 0 0\n\
                        intr 31372241 0 0\n\
                        ctxt 123\n";

    #[test]
    fn host_times_are_read_from_proc_stat() {
        let host = HostTimes::parse(STAT).unwrap();
        assert_eq!(host.idle, 5_358_333 + 9_100);
        assert_eq!(
            host.total,
            4_300_188 + 1_246_501 + 608_144 + 5_358_333 + 9_100 + 7_561 + 8_114
        );
        assert_eq!(host.cores, 2);
        // An old kernel's four fields do.
        let old = HostTimes::parse("cpu 1 2 3 4\ncpu0 1 2 3 4\n").unwrap();
        assert_eq!((old.idle, old.total, old.cores), (4, 10, 1));
        for bad in [
            "",
            "cpu 1 2 3\ncpu0 1 2 3\n",
            "cpu 1 x 3 4\ncpu0 1\n",
            "cpu 1 2 3 4\n",
        ] {
            assert_eq!(HostTimes::parse(bad), None, "{bad:?}");
        }
        #[cfg(target_os = "linux")]
        assert!(HostTimes::read().is_some_and(|h| h.cores >= 1));
    }

    /// Two cores: `busy` and `idle` ticks of the two over a step.
    fn host(idle: u64, busy: u64) -> HostTimes {
        HostTimes {
            idle,
            total: idle + busy,
            cores: 2,
            quotas: Vec::new(),
        }
    }

    #[test]
    fn spare_is_idle_cores_from_a_half_until_under_a_quarter() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let mut spare = SpareCpu::default();
        let mut reads = 0;
        // At `wall` ms, the host's counters.
        let mut at = |wall: u64, h: Option<HostTimes>| {
            spare.spare(start + ms(wall), || {
                reads += 1;
                h
            })
        };
        // The first reading alone says nothing.
        assert!(!at(0, Some(host(0, 0))));
        // 100 ms later: 1.6 of 2 cores idle (160 of 200 ticks): spare.
        assert!(at(100, Some(host(160, 40))));
        // Within 100 ms of the last reading, the host is not read again.
        assert!(at(150, Some(host(0, 1_000))));
        // Spare, it stays so while 0.25 of a core or more is idle (0.3)...
        assert!(at(200, Some(host(190, 210))));
        // ... and stops under it (0.2), though the asking thread's own CPU
        // (any part of the 1.8 busy cores) would have made it more.
        assert!(!at(300, Some(host(210, 390))));
        // Not spare, 0.4 idle is not enough to start again; 0.5 is.
        assert!(!at(400, Some(host(250, 550))));
        assert!(at(500, Some(host(300, 700))));
        // Counters that go back say nothing.
        assert!(!at(600, Some(host(100, 100))));
        // A reading over a second after the last says too little of now.
        assert!(!at(1_700, Some(host(2_000, 100))));
        assert!(at(1_800, Some(host(2_190, 110))));
        // Unreadable (not Linux): not spare, and the next reading starts over.
        assert!(!at(1_900, None));
        assert!(!at(2_000, Some(host(3_000, 200))));
        assert_eq!(reads, 11);
    }

    #[test]
    fn a_cgroup_quota_under_the_idle_cores_leaves_less_to_spare() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let mut spare = SpareCpu::default();
        // 2 cores, both idle; promscope's cgroup has no quota, its parent one
        // of 1.5 cores, of which it (its children together) used `used` ms in
        // all; the grandparent one of 3 cores, used as much.
        let mut at = |wall: u64, idle: u64, used: u64| {
            let quota = |cores| Quota {
                cores,
                used: ms(used),
            };
            let h = host(idle, 0).with_quotas(vec![None, Some(quota(1.5)), Some(quota(3.0))]);
            spare.spare(start + ms(wall), || Some(h))
        };
        assert!(!at(0, 0, 0));
        // The cgroup used 0.9 of a core: 0.6 left under its quota.
        assert!(at(100, 200, 90));
        // It used 1.3: 0.2 left, under a quarter, though 2 cores are idle.
        assert!(!at(200, 400, 220));
        // 0.4 left: not enough to start again.
        assert!(!at(300, 600, 330));
        assert!(at(400, 800, 430));
    }
}
