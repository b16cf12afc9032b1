//! The cardinality view in a terminal: the metric and label that grow without
//! bound named first, and Enter on a tenant filtering the dashboard to it.

use super::*;

/// The row below the header row that starts with `first_column` (a table's
/// first row), trimmed.
fn first_row(screen: &str, first_column: &str) -> String {
    let mut lines = screen.lines();
    lines
        .find(|l| l.trim_start().starts_with(first_column))
        .and_then(|_| lines.next())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// A sender that grows `request_id` without bound among stable labels, beside
/// a metric with more series at first that stays put: the cardinality view
/// names the growing metric first, and its `request_id` first, flagged; Enter
/// on one of its values filters to that one series.
#[test]
fn the_cardinality_view_names_the_metric_and_label_that_grow_without_bound() {
    let mut tui = Tui::start(LARGE);
    let cpus: Vec<String> = (0..60).map(|c| c.to_string()).collect();
    let steady: Vec<Vec<(&str, &str)>> = cpus
        .iter()
        .map(|c| {
            vec![
                ("__name__", "node_cpu_seconds_total"),
                ("cpu", c.as_str()),
                ("job", "node"),
            ]
        })
        .collect();
    for round in 0..8 {
        let ids: Vec<String> = (0..20).map(|i| format!("{:08x}", round * 20 + i)).collect();
        let mut series: Vec<Vec<(&str, &str)>> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                vec![
                    ("__name__", "http_requests_total"),
                    ("job", "api"),
                    ("method", ["GET", "POST"][i % 2]),
                    ("request_id", id.as_str()),
                ]
            })
            .collect();
        series.extend(steady.iter().cloned());
        let refs: Vec<&[(&str, &str)]> = series.iter().map(|s| &s[..]).collect();
        tui.post(&refs);
    }
    tui.wait_for("the posted metrics", |s| s.contains("series 220 active"));
    tui.press("5");
    let screen = tui.wait_for("the cardinality view", |s| {
        s.contains(" Cardinality · 220 active")
    });
    let first = first_row(&screen, "METRIC");
    assert!(
        first.starts_with("http_requests_total"),
        "{first}\n{screen}"
    );
    assert!(first.contains(" 160 "), "{first}");
    // Beside it, the label names across metrics: request_id first.
    let across = first.split_whitespace().nth(6).unwrap_or_default();
    assert_eq!(across, "request_id", "{first}");
    tui.press("\r");
    let screen = tui.wait_for("the labels of http_requests_total", |s| {
        s.contains("Labels of http_requests_total")
    });
    let first = first_row(&screen, "LABEL");
    assert!(first.starts_with("request_id"), "{first}\n{screen}");
    assert!(first.contains("UNBOUNDED"), "{first}");
    // Its values: the second row is one value; Enter filters to its series.
    tui.press("\r");
    tui.wait_for("the values of request_id", |s| {
        s.contains("Values of request_id")
    });
    tui.press("j");
    tui.press("\r");
    let screen = tui.wait_for("the one series of that value", |s| {
        s.contains("filter: http_requests_total{request_id=") && s.contains("series 1/220 active")
    });
    assert!(screen.contains("http_requests_total"), "{screen}");
    tui.press("q");
    tui.assert_clean_exit();
}

type Labels<'a> = &'a [(&'a str, &'a str)];

/// Two tenants (`X-Scope-OrgID`) from two senders, one label set sent by
/// both: `t` in the cardinality view lists the tenants and the senders, and
/// Enter on a tenant filters the dashboard to exactly that tenant's series.
#[test]
fn enter_on_a_tenant_filters_the_dashboard_to_its_series() {
    let mut tui = Tui::start(LARGE);
    const A_ONLY: &[(&str, &str)] = &[("__name__", "only_team_a"), ("x", "1")];
    const B_ONLY: &[(&str, &str)] = &[("__name__", "only_team_b"), ("x", "1")];
    let sends: [(&str, &str, &[Labels]); 2] = [
        ("team-a", "sender-a/1.0", &[UP_A, UP_B, A_ONLY]),
        ("team-b", "sender-b/2.0", &[UP_A, B_ONLY]),
    ];
    for (tenant, agent, series) in sends {
        let mut headers: Vec<(&str, &str)> = RW1_HEADERS
            .iter()
            .filter(|(name, _)| *name != "user-agent")
            .copied()
            .collect();
        headers.extend([("user-agent", agent), ("X-Scope-OrgID", tenant)]);
        let status = post_blocking(&tui.url, &headers, rw1_series_body(series, now_ms()));
        assert_eq!(status, 204, "remote-write status");
    }
    // up{job="a"} of each tenant is a series of its own.
    tui.wait_for("the posted series", |s| {
        s.contains("series 5 active") && s.contains("metrics 3")
    });
    tui.press("5");
    tui.wait_for("the cardinality view", |s| {
        s.contains(" Cardinality · 5 active")
    });
    tui.press("t");
    let screen = tui.wait_for("the tenants and senders", |s| {
        s.contains("Tenants and senders")
    });
    // WHO, then ACTIVE, SAMPLES/S and NEW/S.
    let rows: Vec<(String, &str)> = screen
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| w.len() > 4 && ["tenant", "sender"].contains(&w[0]))
        .map(|w| (w[..w.len() - 3].join(" "), w[w.len() - 3]))
        .collect();
    let expected = [
        ("tenant team-a", "3"),
        ("tenant team-b", "2"),
        ("sender sender-a/1.0 @ 127.0.0.1", "3"),
        ("sender sender-b/2.0 @ 127.0.0.1", "2"),
    ];
    let expected: Vec<(String, &str)> = expected.map(|(w, n)| (w.to_owned(), n)).to_vec();
    assert_eq!(rows, expected, "{screen}");
    // team-b, the second row.
    tui.press("j");
    tui.press("\r");
    let screen = tui.wait_for("the dashboard filtered to team-b", |s| {
        s.contains(r#"filter: {__tenant__="team-b"}"#)
            && s.contains("series 2/5 active")
            && s.contains("metrics 2/3")
    });
    assert!(lists(&screen, "up"), "{screen}");
    assert!(lists(&screen, "only_team_b"), "{screen}");
    assert!(!lists(&screen, "only_team_a"), "{screen}");
    tui.press("q");
    tui.assert_clean_exit();
}
