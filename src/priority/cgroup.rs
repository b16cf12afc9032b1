//! The CPU limits of the cgroup promscope runs in and of its parents (a
//! container's CPU quota, a systemd slice's), and what each has used: with a
//! quota of fewer cores than the host has, idle cores are not all spare for
//! promscope. cgroup v2 (`cpu.max`, `cpu.stat`) and v1 (`cpu.cfs_quota_us`,
//! `cpuacct.usage`).

use std::path::{Path, PathBuf};
#[cfg(target_os = "linux")]
use std::sync::OnceLock;
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

/// Each level of a cgroup path, its own first and the root (`""`) last:
/// `/a/b` gives `/a/b`, `/a`, `""`.
fn levels(path: Option<&str>) -> Vec<&str> {
    let mut path = path.unwrap_or("").trim_end_matches('/');
    let mut all = vec![path];
    while let Some(parent) = path.rfind('/').map(|at| &path[..at]) {
        all.push(parent);
        path = parent;
    }
    all
}

/// The files that say one cgroup's limit and use.
#[derive(Debug, PartialEq)]
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

/// The cgroups whose quotas limit a process of `membership`, its own first,
/// then each parent's up to the root: those of them that have the files under
/// `root` (`/sys/fs/cgroup`). A parent's quota limits all its children
/// together. Inside a container, its own cgroup is usually the root of what
/// it sees, and the levels above it are not there.
fn locate(root: &Path, membership: &Membership) -> Vec<Files> {
    let dir = |base: &str, level: &str| root.join(base).join(level.trim_start_matches('/'));
    let v2: Vec<Files> = levels(membership.v2.as_deref())
        .into_iter()
        .map(|level| dir("", level))
        .filter(|level| level.join("cpu.max").exists())
        .map(|level| Files::V2 {
            max: level.join("cpu.max"),
            stat: level.join("cpu.stat"),
        })
        .collect();
    if !v2.is_empty() {
        return v2;
    }
    // v1: `cpu` and `cpuacct` are nearly always mounted together, the same
    // paths in both; their levels are walked side by side.
    levels(membership.cpu.as_deref())
        .into_iter()
        .zip(levels(membership.cpuacct.as_deref()))
        .map(|(cpu, cpuacct)| (dir("cpu", cpu), dir("cpuacct", cpuacct)))
        .filter(|(cpu, cpuacct)| {
            cpu.join("cpu.cfs_quota_us").exists() && cpuacct.join("cpuacct.usage").exists()
        })
        .map(|(cpu, cpuacct)| Files::V1 {
            quota: cpu.join("cpu.cfs_quota_us"),
            period: cpu.join("cpu.cfs_period_us"),
            usage: cpuacct.join("cpuacct.usage"),
        })
        .collect()
}

/// Each cgroup's limit and use, `None` for one without a limit (or that
/// cannot be read).
fn read(located: &[Files]) -> Vec<Option<Quota>> {
    let text = |path: &PathBuf| std::fs::read_to_string(path).ok();
    located
        .iter()
        .map(|files| match files {
            Files::V2 { max, stat } => Some(Quota {
                cores: parse_cpu_max(&text(max)?)?,
                used: parse_usage_usec(&text(stat)?)?,
            }),
            Files::V1 {
                quota,
                period,
                usage,
            } => Some(Quota {
                cores: parse_cfs(&text(quota)?, &text(period)?)?,
                used: parse_usage_ns(&text(usage)?)?,
            }),
        })
        .collect()
}

impl Quota {
    /// The quotas that limit the calling process now: its own cgroup's
    /// first, then each parent's up to the root, `None` for a cgroup without
    /// one; empty where none can be read (not Linux).
    pub fn read() -> Vec<Option<Quota>> {
        #[cfg(target_os = "linux")]
        {
            static FILES: OnceLock<Vec<Files>> = OnceLock::new();
            let located = FILES.get_or_init(|| {
                std::fs::read_to_string("/proc/self/cgroup")
                    .map(|text| locate(Path::new("/sys/fs/cgroup"), &Membership::parse(&text)))
                    .unwrap_or_default()
            });
            read(located)
        }
        #[cfg(not(target_os = "linux"))]
        {
            Vec::new()
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

    /// A fake cgroup file system in a temp dir: `files` are (path, text).
    fn fake_root(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("promscope-cgroup-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (path, text) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        root
    }

    #[test]
    fn the_quotas_of_every_parent_cgroup_are_read_too() {
        assert_eq!(levels(Some("/a/b")), ["/a/b", "/a", ""]);
        assert_eq!(levels(Some("/")), [""]);
        assert_eq!(levels(None), [""]);
        // v2: promscope in /user.slice/app; the slice has a quota of half a
        // core, its own cgroup none; the root has no cpu.max.
        let root = fake_root(
            "v2",
            &[
                ("cpu.stat", "usage_usec 9000000\n"),
                ("user.slice/cpu.max", "50000 100000\n"),
                ("user.slice/cpu.stat", "usage_usec 3000000\n"),
                ("user.slice/app/cpu.max", "max 100000\n"),
                ("user.slice/app/cpu.stat", "usage_usec 1000000\n"),
            ],
        );
        let membership = Membership::parse("0::/user.slice/app\n");
        let located = locate(&root, &membership);
        assert_eq!(located.len(), 2, "{located:?}");
        let quota = |cores, ms| {
            Some(Quota {
                cores,
                used: Duration::from_millis(ms),
            })
        };
        assert_eq!(read(&located), [None, quota(0.5, 3_000)]);
        std::fs::remove_dir_all(&root).unwrap();
        // v1, cpu and cpuacct mounted together: quotas on both levels.
        let root = fake_root(
            "v1",
            &[
                ("cpu/docker/cpu.cfs_quota_us", "150000\n"),
                ("cpu/docker/cpu.cfs_period_us", "100000\n"),
                ("cpuacct/docker/cpuacct.usage", "5000000000\n"),
                ("cpu/docker/abc/cpu.cfs_quota_us", "-1\n"),
                ("cpu/docker/abc/cpu.cfs_period_us", "100000\n"),
                ("cpuacct/docker/abc/cpuacct.usage", "2000000000\n"),
            ],
        );
        let membership = Membership::parse("3:cpu,cpuacct:/docker/abc\n");
        let located = locate(&root, &membership);
        assert_eq!(read(&located), [None, quota(1.5, 5_000)]);
        // A container that sees its own cgroup as the root: that one alone.
        let inside = fake_root(
            "inside",
            &[
                ("cpu.max", "200000 100000\n"),
                ("cpu.stat", "usage_usec 7000\n"),
            ],
        );
        let located = locate(&inside, &Membership::parse("0::/docker/abc\n"));
        assert_eq!(read(&located), [quota(2.0, 7)]);
        for dir in [root, inside] {
            std::fs::remove_dir_all(dir).unwrap();
        }
    }
}
