//! The CPU limit of the cgroup promscope runs in (a container's CPU quota),
//! and what that cgroup has used: with a quota of fewer cores than the host
//! has, idle cores are not all spare for promscope. cgroup v2 (`cpu.max`,
//! `cpu.stat`) and v1 (`cpu.cfs_quota_us`, `cpuacct.usage`).

use std::time::Duration;

/// A cgroup's CPU limit and what it has used so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quota {
    /// Cores' worth of CPU time the cgroup may use per second.
    pub cores: f64,
    /// CPU time its processes have used in all.
    pub used: Duration,
}

/// cgroup v2's `cpu.max` (`QUOTA PERIOD` in µs, or `max PERIOD`): the cores
/// it allows, `None` without a limit.
pub fn parse_cpu_max(text: &str) -> Option<f64> {
    let mut fields = text.split_whitespace();
    let quota = fields.next()?.parse::<u64>().ok()?;
    let period = fields
        .next()
        .map_or(Some(100_000), |p| p.parse::<u64>().ok())?;
    cores(quota, period)
}

/// cgroup v1's `cpu.cfs_quota_us` (-1: no limit) and `cpu.cfs_period_us`.
pub fn parse_cfs(quota: &str, period: &str) -> Option<f64> {
    let quota = quota.trim().parse::<u64>().ok()?;
    cores(quota, period.trim().parse().ok()?)
}

fn cores(quota: u64, period: u64) -> Option<f64> {
    (quota > 0 && period > 0).then(|| quota as f64 / period as f64)
}

/// cgroup v2's `cpu.stat`: its `usage_usec` line.
pub fn parse_usage_usec(text: &str) -> Option<Duration> {
    text.lines()
        .find_map(|line| line.strip_prefix("usage_usec "))
        .and_then(|n| n.trim().parse().ok())
        .map(Duration::from_micros)
}

/// cgroup v1's `cpuacct.usage`, in ns.
pub fn parse_usage_ns(text: &str) -> Option<Duration> {
    text.trim().parse().ok().map(Duration::from_nanos)
}

/// Where the calling process's cgroup is, from `/proc/self/cgroup`: the v2
/// path (`0::PATH`), and the v1 paths of the `cpu` and `cpuacct` controllers.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Membership {
    pub v2: Option<String>,
    pub cpu: Option<String>,
    pub cpuacct: Option<String>,
}

impl Membership {
    pub fn parse(text: &str) -> Self {
        let mut found = Membership::default();
        for line in text.lines() {
            let mut fields = line.splitn(3, ':');
            let (Some(_), Some(controllers), Some(path)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            if controllers.is_empty() {
                found.v2 = Some(path.to_owned());
            }
            for controller in controllers.split(',') {
                match controller {
                    "cpu" => found.cpu = Some(path.to_owned()),
                    "cpuacct" => found.cpuacct = Some(path.to_owned()),
                    _ => {}
                }
            }
        }
        found
    }
}

#[cfg(target_os = "linux")]
mod files {
    use std::path::PathBuf;
    use std::sync::OnceLock;

    use super::{Membership, Quota};

    /// The files that say a cgroup's limit and use.
    enum Files {
        V2 {
            max: PathBuf,
            stat: PathBuf,
        },
        V1 {
            quota: PathBuf,
            period: PathBuf,
            usage: PathBuf,
        },
    }

    /// The first of `dir/PATH/file` and `dir/file` that exists (inside a
    /// container, its own cgroup is usually the root of what it sees).
    fn find(dir: &str, path: Option<&str>, file: &str) -> Option<PathBuf> {
        let nested =
            path.map(|p| PathBuf::from(format!("{dir}{}/{file}", p.trim_end_matches('/'))));
        nested
            .into_iter()
            .chain([PathBuf::from(format!("{dir}/{file}"))])
            .find(|candidate| candidate.exists())
    }

    fn locate() -> Option<Files> {
        let membership = Membership::parse(&std::fs::read_to_string("/proc/self/cgroup").ok()?);
        if let Some(max) = find("/sys/fs/cgroup", membership.v2.as_deref(), "cpu.max") {
            let stat = max.with_file_name("cpu.stat");
            return Some(Files::V2 { max, stat });
        }
        let quota = find(
            "/sys/fs/cgroup/cpu",
            membership.cpu.as_deref(),
            "cpu.cfs_quota_us",
        )?;
        let usage = find(
            "/sys/fs/cgroup/cpuacct",
            membership.cpuacct.as_deref(),
            "cpuacct.usage",
        )?;
        let period = quota.with_file_name("cpu.cfs_period_us");
        Some(Files::V1 {
            quota,
            period,
            usage,
        })
    }

    /// The calling process's cgroup's limit and use; `None` without a limit
    /// (or where it cannot be read).
    pub fn read() -> Option<Quota> {
        static FILES: OnceLock<Option<Files>> = OnceLock::new();
        let read = |path: &PathBuf| std::fs::read_to_string(path).ok();
        match FILES.get_or_init(locate).as_ref()? {
            Files::V2 { max, stat } => Some(Quota {
                cores: super::parse_cpu_max(&read(max)?)?,
                used: super::parse_usage_usec(&read(stat)?)?,
            }),
            Files::V1 {
                quota,
                period,
                usage,
            } => Some(Quota {
                cores: super::parse_cfs(&read(quota)?, &read(period)?)?,
                used: super::parse_usage_ns(&read(usage)?)?,
            }),
        }
    }
}

impl Quota {
    /// The calling process's cgroup's, now; `None` without a limit, or where
    /// it cannot be read (not Linux).
    pub fn read() -> Option<Quota> {
        #[cfg(target_os = "linux")]
        {
            files::read()
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_use_are_read_from_either_cgroup_version() {
        assert_eq!(parse_cpu_max("max 100000\n"), None);
        assert_eq!(parse_cpu_max("150000 100000\n"), Some(1.5));
        assert_eq!(parse_cpu_max("50000\n"), Some(0.5));
        assert_eq!(parse_cpu_max("x 100000"), None);
        assert_eq!(parse_cfs("-1\n", "100000\n"), None);
        assert_eq!(parse_cfs("25000\n", "100000\n"), Some(0.25));
        assert_eq!(parse_cfs("25000\n", "0\n"), None);
        let stat = "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n";
        assert_eq!(parse_usage_usec(stat), Some(Duration::from_millis(1_500)));
        assert_eq!(parse_usage_usec("user_usec 3\n"), None);
        assert_eq!(parse_usage_ns("2000000\n"), Some(Duration::from_millis(2)));
    }

    #[test]
    fn the_process_cgroup_is_found_for_either_version() {
        let v2 = Membership::parse("0::/system.slice/promscope.service\n");
        assert_eq!(v2.v2.as_deref(), Some("/system.slice/promscope.service"));
        assert_eq!((v2.cpu, v2.cpuacct), (None, None));
        let v1 =
            Membership::parse("9:name=systemd:/\n4:memory:/x\n3:cpu,cpuacct:/docker/abc\n0::/\n");
        assert_eq!(v1.cpu.as_deref(), Some("/docker/abc"));
        assert_eq!(v1.cpuacct.as_deref(), Some("/docker/abc"));
        assert_eq!(v1.v2.as_deref(), Some("/"));
        assert_eq!(Membership::parse("garbage\n"), Membership::default());
    }
}
