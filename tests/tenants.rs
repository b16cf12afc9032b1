//! Tenants against the real binary on an ephemeral port: each source of a
//! request's tenant (X-Scope-OrgID, THANOS-TENANT, `--tenant-header`,
//! VictoriaMetrics' `/insert/<id>/` path) shows in the cardinality report's
//! tenants, with the senders beside them.

mod common;

use std::time::Duration;

use common::{Headless, now_ms, post_blocking, rw1_series_body};
use serde_json::Value;

/// Root of the receiver's URL (`http://127.0.0.1:PORT`), from its first line.
fn root(url: &str) -> String {
    let rest = url.strip_prefix("http://").expect("http URL");
    let host = rest.split('/').next().expect("host");
    format!("http://{host}")
}

/// Path, tenant header, tenant expected, series sent.
type Case<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a str, usize);

#[test]
fn the_tenant_comes_from_each_source_and_is_reported_per_tenant_and_sender() {
    let receiver = Headless::start(&[
        "--no-tui",
        "--format",
        "json",
        "--report",
        "cardinality",
        "--tenant-header",
        "X-Tenant",
    ]);
    let root = root(&receiver.url);
    let t = now_ms();
    let encoding = [
        ("Content-Encoding", "snappy"),
        ("Content-Type", "application/x-protobuf"),
    ];
    let cases: [Case; 5] = [
        (
            "/api/v1/push",
            Some(("X-Scope-OrgID", "mimir-team")),
            "mimir-team",
            3,
        ),
        (
            "/api/v1/receive",
            Some(("THANOS-TENANT", "thanos-team")),
            "thanos-team",
            2,
        ),
        (
            "/api/v1/write",
            Some(("X-Tenant", "custom-team")),
            "custom-team",
            1,
        ),
        ("/insert/42/prometheus/api/v1/write", None, "42", 4),
        ("/insert/7:3/prometheus/api/v1/write", None, "7:3", 5),
    ];
    for (i, (path, header, tenant, n)) in cases.iter().enumerate() {
        let ids: Vec<String> = (0..*n).map(|k| format!("{tenant}-{k}")).collect();
        let labels: Vec<[(&str, &str); 2]> = ids
            .iter()
            .map(|id| [("__name__", "tenant_test"), ("id", id.as_str())])
            .collect();
        let series: Vec<&[(&str, &str)]> = labels.iter().map(|l| &l[..]).collect();
        let agent = format!("sender-{i}");
        let mut headers: Vec<(&str, &str)> = encoding.to_vec();
        headers.push(("User-Agent", &agent));
        headers.extend(*header);
        let status = post_blocking(
            &format!("{root}{path}"),
            &headers,
            rw1_series_body(&series, t),
        );
        assert_eq!(status, 204, "{path}");
    }
    std::thread::sleep(Duration::from_millis(300));
    let out = receiver.stop();
    let records: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let report = records.last().expect("the report");
    assert_eq!(report["kind"], "cardinality", "{report}");
    let tenants = report["tenants"].as_array().expect("tenants in the report");
    let listed: Vec<(&str, u64)> = tenants
        .iter()
        .map(|t| (t["tenant"].as_str().unwrap(), t["active"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        listed,
        [
            ("7:3", 5),
            ("42", 4),
            ("mimir-team", 3),
            ("thanos-team", 2),
            ("custom-team", 1)
        ],
        "{report}"
    );
    let senders = report["senders"].as_array().expect("senders in the report");
    assert_eq!(senders.len(), cases.len(), "{report}");
    assert_eq!(senders[0]["sender"], "sender-4 @ 127.0.0.1", "{report}");
    assert!(senders[0]["active"].as_u64().unwrap() > 0, "{report}");
    // One request each, a moment ago: no interval counted, no rate yet
    // (it read the request's samples over the second it came in).
    assert!(senders[0]["samples_per_s"].is_null(), "{report}");
}

#[test]
fn check_fails_when_a_tenant_crosses_its_series_limit() {
    let check = Headless::start(&["check", "--requests", "2", "--limit", "series-per-tenant=2"]);
    let headers = [
        ("Content-Encoding", "snappy"),
        ("Content-Type", "application/x-protobuf"),
        ("X-Scope-OrgID", "team-a"),
    ];
    let t = now_ms();
    let series = |ids: &[&'static str]| -> Vec<Vec<(&'static str, &'static str)>> {
        ids.iter()
            .map(|id| vec![("__name__", "up"), ("id", *id)])
            .collect()
    };
    // Two series: at the limit, not past it.
    let first = series(&["1", "2"]);
    let first: Vec<&[(&str, &str)]> = first.iter().map(|s| &s[..]).collect();
    assert_eq!(
        post_blocking(&check.url, &headers, rw1_series_body(&first, t)),
        204
    );
    let second = series(&["2", "3"]);
    let second: Vec<&[(&str, &str)]> = second.iter().map(|s| &s[..]).collect();
    assert_eq!(
        post_blocking(&check.url, &headers, rw1_series_body(&second, t)),
        204
    );
    let (code, out) = check.wait();
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error    series-per-tenant — 1 times on 1 series"),
        "{out}"
    );
    assert!(
        out.contains(
            r#"e.g. up{id="3"}: is a new series past the 2 active series of tenant "team-a""#
        ),
        "{out}"
    );
}

/// Records of a headless JSON run, the cardinality report last.
fn records(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The rules of the `problem` records among `records`.
fn problem_rules(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .filter(|r| r["kind"] == "problem")
        .map(|r| r["rule"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Sends `up{job="a"}` as each `(tenant, timestamp)` in turn, the tenant in
/// `X-Scope-OrgID` (none: no header); returns the records printed.
fn send_as_tenants(sends: &[(Option<&str>, i64)]) -> Vec<Value> {
    let receiver = Headless::start(&["--no-tui", "--format", "json", "--report", "cardinality"]);
    for (tenant, ts) in sends {
        let mut headers = vec![
            ("Content-Encoding", "snappy"),
            ("Content-Type", "application/x-protobuf"),
        ];
        headers.extend(tenant.map(|t| ("X-Scope-OrgID", t)));
        let body = common::rw1_samples_body(&[("__name__", "up"), ("job", "a")], &[*ts]);
        assert_eq!(post_blocking(&receiver.url, &headers, body), 204);
    }
    std::thread::sleep(Duration::from_millis(300));
    records(&receiver.stop())
}

#[test]
fn equal_label_sets_of_two_tenants_are_two_series_without_problems_across_them() {
    let t = now_ms() - 60_000;
    // Each tenant's samples go forward; the two interleaved go back and repeat.
    let interleaved = [
        (Some("team-a"), t + 10_000),
        (Some("team-b"), t),
        (Some("team-a"), t + 20_000),
        (Some("team-b"), t + 10_000),
    ];
    let records = send_as_tenants(&interleaved);
    assert_eq!(problem_rules(&records), Vec::<String>::new());
    let report = records.last().expect("the report");
    assert_eq!(report["active_series"], 2, "{report}");
    let tenants: Vec<(&str, u64)> = report["tenants"]
        .as_array()
        .expect("tenants")
        .iter()
        .map(|t| (t["tenant"].as_str().unwrap(), t["active"].as_u64().unwrap()))
        .collect();
    assert_eq!(tenants, [("team-a", 1), ("team-b", 1)], "{report}");
    // The same samples without tenants are one series that goes back in time.
    let untenanted: Vec<(Option<&str>, i64)> =
        interleaved.iter().map(|(_, ts)| (None, *ts)).collect();
    let records = send_as_tenants(&untenanted);
    let rules = problem_rules(&records);
    assert!(rules.contains(&"out-of-order".to_owned()), "{rules:?}");
    assert_eq!(records.last().expect("the report")["active_series"], 1);
}

#[test]
fn the_summary_lists_each_tenant_with_its_series_and_samples() {
    let started = common::binary::start_promscope(
        &["--no-tui", "--format", "none", "--listen", "127.0.0.1:0"],
        std::process::Stdio::null(),
    );
    let mut child = started.child;
    let stderr = common::binary::read_in_background(started.stderr);
    let t = now_ms();
    let encoding = [
        ("Content-Encoding", "snappy"),
        ("Content-Type", "application/x-protobuf"),
    ];
    // team-a: 3 series twice (6 samples); team-b: the same first series and
    // one more (2 samples); one request without a tenant.
    let sends: [(Option<&str>, &[&str]); 4] = [
        (Some("team-a"), &["1", "2", "3"]),
        (Some("team-a"), &["1", "2", "3"]),
        (Some("team-b"), &["1", "4"]),
        (None, &["1"]),
    ];
    for (i, (tenant, ids)) in sends.iter().enumerate() {
        let labels: Vec<[(&str, &str); 2]> = ids
            .iter()
            .map(|id| [("__name__", "up"), ("id", *id)])
            .collect();
        let series: Vec<&[(&str, &str)]> = labels.iter().map(|l| &l[..]).collect();
        let mut headers = encoding.to_vec();
        headers.extend(tenant.map(|t| ("X-Scope-OrgID", t)));
        let body = rw1_series_body(&series, t + i as i64);
        assert_eq!(post_blocking(&started.url, &headers, body), 204);
    }
    std::thread::sleep(Duration::from_millis(300));
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    assert!(child.wait().expect("exits").success());
    let text = stderr.join().expect("stderr read");
    // Equal label sets of two tenants are two series: 3 + 2 + 1.
    assert!(text.contains("\n  series      6 distinct\n"), "{text}");
    let tenants = text
        .split("\n  tenants     ")
        .nth(1)
        .expect("tenants listed");
    let lines: Vec<&str> = tenants.lines().collect();
    assert_eq!(lines[0], "2", "{text}");
    // Per second of the run: the numbers depend on how long it took.
    let (a, b) = (lines[1], lines[2]);
    assert!(a.starts_with("    team-a  3 series ("), "{text}");
    assert!(a.contains(" new/s), 6 samples ("), "{text}");
    assert!(a.ends_with("/s), 2 requests"), "{text}");
    assert!(b.starts_with("    team-b  2 series ("), "{text}");
    assert!(b.contains(" new/s), 2 samples ("), "{text}");
    assert!(b.ends_with("/s), 1 request"), "{text}");
    assert_eq!(lines.len(), 3, "{text}");
}
