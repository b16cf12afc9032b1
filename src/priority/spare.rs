//! Whether the host has CPU to spare: the cores idle between two readings of
//! its CPU times (`/proc/stat` on Linux), plus what the calling thread used
//! itself in that time (it would give that up when others need it).

use std::time::{Duration, Instant};

/// The host's CPU times in all its cores (`/proc/stat`'s first line), in
/// ticks: idle (idle + iowait) and in all, with the number of cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostTimes {
    idle: u64,
    total: u64,
    cores: u32,
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
        })
    }

    /// This host's, now; `None` where they cannot be read (not Linux).
    pub fn read() -> Option<Self> {
        #[cfg(target_os = "linux")]
        {
            std::fs::read_to_string("/proc/stat")
                .ok()
                .and_then(|stat| Self::parse(&stat))
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }
}

/// One look at the host: when, the calling thread's CPU time so far, the
/// host's CPU times.
#[derive(Debug, Clone, Copy)]
struct Reading {
    at: Instant,
    own: Duration,
    host: HostTimes,
}

/// Cores to spare between two readings: the idle ones, plus the thread's own
/// rate; `None` when the readings say nothing (no time passed, counters went
/// back).
fn spare_cores(before: &Reading, after: &Reading) -> Option<f64> {
    let wall = after.at.checked_duration_since(before.at)?.as_secs_f64();
    let total = after.host.total.checked_sub(before.host.total)?;
    let idle = after.host.idle.checked_sub(before.host.idle)?;
    if wall <= 0.0 || total == 0 {
        return None;
    }
    let idle_cores = idle.min(total) as f64 / total as f64 * f64::from(after.host.cores);
    let own = after.own.saturating_sub(before.own).as_secs_f64() / wall;
    Some(idle_cores + own)
}

/// Whether the host has at least [`SpareCpu::NEEDED`] of a core to spare,
/// from readings at least [`SpareCpu::EVERY`] apart (between them the last
/// verdict stands).
#[derive(Debug, Default)]
pub struct SpareCpu {
    last: Option<Reading>,
    spare: bool,
}

impl SpareCpu {
    /// Cores that must be spare.
    pub const NEEDED: f64 = 0.5;
    /// How often the host is read, at most.
    pub const EVERY: Duration = Duration::from_millis(100);
    /// Readings further apart than this say too little of now: no verdict
    /// (not spare) until the next one.
    pub const STALE: Duration = Duration::from_secs(1);

    /// The verdict at `now`, when the calling thread has used `own` CPU time
    /// in all; `read` gives the host's CPU times, and is called only when
    /// the last reading is [`SpareCpu::EVERY`] old.
    pub fn spare(
        &mut self,
        now: Instant,
        own: Duration,
        read: impl FnOnce() -> Option<HostTimes>,
    ) -> bool {
        if let Some(last) = &self.last
            && now.saturating_duration_since(last.at) < Self::EVERY
        {
            return self.spare;
        }
        let Some(host) = read() else {
            (self.last, self.spare) = (None, false);
            return false;
        };
        let reading = Reading { at: now, own, host };
        self.spare = self.last.as_ref().is_some_and(|last| {
            now.saturating_duration_since(last.at) <= Self::STALE
                && spare_cores(last, &reading).is_some_and(|cores| cores >= Self::NEEDED)
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
        }
    }

    #[test]
    fn spare_is_idle_cores_plus_the_threads_own_rate() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let mut spare = SpareCpu::default();
        let mut reads = 0;
        // At `wall` ms, the thread having used `own` ms, the host's counters.
        let mut at = |wall: u64, own: u64, h: Option<HostTimes>| {
            spare.spare(start + ms(wall), ms(own), || {
                reads += 1;
                h
            })
        };
        // The first reading alone says nothing.
        assert!(!at(0, 0, Some(host(0, 0))));
        // 100 ms later: 1.6 of 2 cores idle (160 of 200 ticks): spare.
        assert!(at(100, 0, Some(host(160, 40))));
        // Within 100 ms of the last reading, the host is not read again.
        assert!(at(150, 0, Some(host(0, 1_000))));
        // Busy: 0.2 cores idle, the thread itself used 10 ms of 100: 0.3.
        assert!(!at(200, 10, Some(host(180, 220))));
        // The thread used 0.4 of a core itself, 0.2 idle: 0.6, spare.
        assert!(at(300, 50, Some(host(200, 400))));
        // Counters that go back say nothing.
        assert!(!at(400, 50, Some(host(100, 100))));
        // A reading over a second after the last says too little of now.
        assert!(!at(1_500, 50, Some(host(2_000, 100))));
        assert!(at(1_600, 50, Some(host(2_190, 110))));
        // Unreadable (not Linux): not spare, and the next reading starts over.
        assert!(!at(1_700, 50, None));
        assert!(!at(1_800, 50, Some(host(3_000, 200))));
        assert_eq!(reads, 9);
    }
}
