//! Rows show the labels that tell them apart (a key shows all of them), and
//! a key copies the selected series as a selector.

use super::*;

/// Kubernetes-like series: many labels the same on every one, `pod` and
/// `container` telling them apart.
fn kube_batch(at: i64, pods: &[(&str, &str)]) -> Batch {
    let labels: Vec<Vec<(&str, &str)>> = pods
        .iter()
        .map(|&(pod, container)| {
            vec![
                ("__name__", "container_cpu_usage_seconds_total"),
                ("cluster", "prod-eu-west-1"),
                ("container", container),
                ("image", "registry.example.com/team/service:v1.2.3"),
                ("instance", "10.0.0.1:10250"),
                ("job", "kubelet"),
                ("namespace", "payments"),
                ("node", "ip-10-0-0-1.eu-west-1.compute.internal"),
                ("pod", pod),
            ]
        })
        .collect();
    let rows: Vec<(&[(&str, &str)], f64)> = labels.iter().map(|l| (&l[..], 1.0)).collect();
    batch(at, &rows)
}

fn rows_containing<'a>(lines: &'a [String], what: &str) -> Vec<&'a String> {
    lines.iter().filter(|l| l.contains(what)).collect()
}

#[test]
fn recent_samples_show_the_labels_that_tell_rows_apart_and_a_key_shows_all() {
    let (mut app, mut store) = (
        App::new("127.0.0.1:9201".parse().unwrap(), T0),
        Store::new(StoreLimits::default()),
    );
    store.ingest(&kube_batch(
        T0,
        &[("api-7d9f-x2x", "app"), ("api-7d9f-b8c", "app")],
    ));
    store.ingest(&kube_batch(T0 + 1, &[("api-7d9f-b8c", "sidecar")]));
    app.apply(Action::GoTab(Tab::Log), &mut store);
    let screen = draw(&mut app, &store, 80, 24);
    let rows = rows_containing(&screen, r#"pod="api-"#);
    assert_eq!(rows.len(), 3, "{screen:#?}");
    // At 80 columns the pod and container are on screen (the name is cut
    // short), the rest behind `…`.
    for (row, (pod, container)) in rows.iter().zip([
        ("api-7d9f-x2x", "app"),
        ("api-7d9f-b8c", "app"),
        ("api-7d9f-b8c", "sidecar"),
    ]) {
        assert!(
            row.contains(&format!(r#"{container}", pod="{pod}", …}}"#)),
            "{row}"
        );
        assert!(!row.contains("namespace"), "{row}");
    }
    app.apply(Action::ToggleAllLabels, &mut store);
    let screen = draw(&mut app, &store, 200, 24);
    let rows = rows_containing(&screen, "1 contai");
    assert_eq!(rows.len(), 3, "{screen:#?}");
    // Every label, in their order (the rows are too long for 200 columns:
    // the values the same on every row are cut first, the pod and container
    // stay whole).
    for (row, (pod, container)) in rows.iter().zip([
        ("api-7d9f-x2x", "app"),
        ("api-7d9f-b8c", "app"),
        ("api-7d9f-b8c", "sidecar"),
    ]) {
        assert!(
            row.contains(&format!(r#"container="{container}", image="#))
                && row.contains(r#"instance=""#)
                && row.ends_with(&format!(r#"pod="{pod}"}}"#)),
            "{screen:#?}"
        );
    }
}

#[test]
fn the_series_list_shows_first_what_differs_on_screen() {
    let (mut app, mut store) = (
        App::new("127.0.0.1:9201".parse().unwrap(), T0),
        Store::new(StoreLimits::default()),
    );
    // `zone` varies across the metric, but not between the rows on screen.
    let pods: Vec<String> = (0..40).map(|i| format!("pod-{i}")).collect();
    let labels: Vec<Vec<(&str, &str)>> = pods
        .iter()
        .enumerate()
        .map(|(i, pod)| {
            let zone = if i < 30 { "a" } else { "b" };
            vec![
                ("__name__", "requests"),
                ("job", "api"),
                ("pod", pod.as_str()),
                ("zone", zone),
            ]
        })
        .collect();
    let rows: Vec<(&[(&str, &str)], f64)> = labels.iter().map(|l| (&l[..], 1.0)).collect();
    store.ingest(&batch(T0, &rows));
    app.tick(T0 + 1000, &store);
    app.apply(Action::Enter, &mut store);
    let screen = draw(&mut app, &store, 120, 24);
    assert!(
        screen
            .iter()
            .any(|l| l.contains(r#"same on every series: {job="api"}"#)),
        "{screen:#?}"
    );
    let rows = rows_containing(&screen, "pod=");
    assert!(rows.len() > 5, "{screen:#?}");
    assert!(
        rows.iter()
            .all(|r| r.contains(r#"{pod="pod-"#) && r.contains(", …}")),
        "{screen:#?}"
    );
    app.apply(Action::ToggleAllLabels, &mut store);
    let screen = draw(&mut app, &store, 120, 24);
    let rows = rows_containing(&screen, "pod=");
    assert!(
        rows.iter()
            .all(|r| r.contains(r#"{job="api", pod="pod-"#) && r.contains(r#"zone="a"}"#)),
        "{screen:#?}"
    );
}

#[test]
fn a_key_copies_the_selected_series_as_a_selector_and_shows_it() {
    let (mut app, mut store) = setup();
    // Metrics: the metric's name.
    app.apply(Action::CopySelector, &mut store);
    assert_eq!(
        app.copied.take_unsent().as_deref(),
        Some("http_requests_total")
    );
    // Its series, the second one.
    app.apply(Action::Enter, &mut store);
    app.apply(Action::Down(1), &mut store);
    app.apply(Action::CopySelector, &mut store);
    let selector = r#"http_requests_total{code="404", job="a"}"#;
    assert_eq!(app.copied.take_unsent().as_deref(), Some(selector));
    assert_eq!(app.copied.take_unsent(), None, "sent once");
    let screen = draw(&mut app, &store, 120, 24);
    let at = screen
        .iter()
        .position(|l| l.contains("copied (OSC 52"))
        .expect("the copied line");
    assert_eq!(screen[at + 1], selector);
    // The next key closes it.
    app.apply(Action::Down(1), &mut store);
    let screen = draw(&mut app, &store, 120, 24);
    assert!(!screen.iter().any(|l| l.contains("copied (OSC 52")));
    // The open series.
    app.apply(Action::Enter, &mut store);
    app.apply(Action::CopySelector, &mut store);
    assert_eq!(
        app.copied.take_unsent().as_deref(),
        Some(r#"http_requests_total{code="500", job="a"}"#)
    );
    // Recent samples: the highlighted sample's series.
    app.apply(Action::GoTab(Tab::Log), &mut store);
    draw(&mut app, &store, 120, 24);
    app.apply(Action::Up(5), &mut store);
    let screen = app.log.screen(&RecentSamples(&store), app.log.viewport());
    let highlighted = screen.highlighted().unwrap().row.entry.series;
    app.apply(Action::CopySelector, &mut store);
    let series = store.series(highlighted).unwrap();
    assert_eq!(
        app.copied.take_unsent(),
        Some(store.series_text(&series.labels))
    );
    // Requests select no series.
    app.apply(Action::GoTab(Tab::Requests), &mut store);
    app.apply(Action::CopySelector, &mut store);
    assert_eq!(app.copied.take_unsent(), None);
}

#[test]
fn labels_the_same_on_every_series_that_do_not_fit_are_counted() {
    let (mut app, mut store) = (
        App::new("127.0.0.1:9201".parse().unwrap(), T0),
        Store::new(StoreLimits::default()),
    );
    let shared: Vec<(String, String)> = (0..20)
        .map(|i| {
            (
                format!("label_{i:02}"),
                format!("a-longer-value-number-{i:02}"),
            )
        })
        .collect();
    let pods = ["pod-1", "pod-2"];
    let labels: Vec<Vec<(&str, &str)>> = pods
        .iter()
        .map(|&pod| {
            let mut l = vec![("__name__", "requests")];
            l.extend(shared.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            l.push(("pod", pod));
            l
        })
        .collect();
    let rows: Vec<(&[(&str, &str)], f64)> = labels.iter().map(|l| (&l[..], 1.0)).collect();
    store.ingest(&batch(T0, &rows));
    app.tick(T0 + 1000, &store);
    app.apply(Action::Enter, &mut store);
    let screen = draw(&mut app, &store, 80, 24);
    let top = screen
        .iter()
        .position(|l| l.contains("same on every series: {label_00="))
        .unwrap_or_else(|| panic!("{screen:#?}"));
    let block = &screen[top..top + 4];
    let last = block[3].trim_end();
    let shown = block
        .iter()
        .map(|l| l.matches("=\"").count())
        .sum::<usize>();
    assert!(
        last.ends_with(&format!("… {} more}} (a: in every row)", 20 - shown))
            || last.ends_with(&format!("… {} more}}", 20 - shown)),
        "{screen:#?}"
    );
    // Every label shown is whole, and the list follows the four lines.
    for i in 0..shown {
        let label = format!(r#"label_{i:02}="a-longer-value-number-{i:02}""#);
        assert!(
            block.iter().any(|l| l.contains(&label)),
            "{label}: {screen:#?}"
        );
    }
    assert!(
        screen[top + 4].contains("requests · 2 series"),
        "{screen:#?}"
    );
}

/// Avalanche's series: ten labels the same on every series, `series_id`
/// telling them apart.
fn avalanche_batch(at: i64, series: usize) -> Batch {
    let ids: Vec<String> = (0..series).map(|i| i.to_string()).collect();
    let keys: Vec<(String, String)> = (0..10)
        .map(|k| {
            (
                format!("label_key_kkkkk_{k}"),
                format!("label_val_vvvvv_{k}"),
            )
        })
        .collect();
    let labels: Vec<Vec<(&str, &str)>> = ids
        .iter()
        .map(|id| {
            let mut l = vec![
                ("__name__", "avalanche_metric_mmmmm_0_0"),
                ("cycle_id", "0"),
            ];
            l.extend(keys.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            l.push(("series_id", id.as_str()));
            l
        })
        .collect();
    let rows: Vec<(&[(&str, &str)], f64)> = labels
        .iter()
        .map(|l| (&l[..], 13.701_648_997_123))
        .collect();
    batch(at, &rows)
}

#[test]
fn a_drill_down_filtered_to_one_series_gives_no_column_to_labels_said_above() {
    let (mut app, mut store) = (
        App::new("127.0.0.1:9201".parse().unwrap(), T0),
        Store::new(StoreLimits::default()),
    );
    store.ingest(&avalanche_batch(T0, 50));
    store.ingest(&avalanche_batch(T0 + 1000, 50));
    app.tick(T0 + 1500, &store);
    app.apply(Action::Enter, &mut store);
    app.apply(Action::FilterEdit, &mut store);
    app.apply(Action::FilterSet(r#"{series_id="7"}"#.into()), &mut store);
    app.apply(Action::FilterAccept, &mut store);
    for (width, height) in [(80, 24), (120, 40)] {
        let screen = draw(&mut app, &store, width, height);
        let said = screen
            .iter()
            .position(|l| l.contains("same on every series"))
            .expect("the line of labels the same on every series");
        assert!(screen[said].contains(r#"cycle_id="0""#), "{screen:#?}");
        let header = screen
            .iter()
            .position(|l| l.contains("VALUE"))
            .expect("the table's header");
        let row = &screen[header + 1];
        // No label column: none cut to `cyc…`, the value whole and the
        // columns that drop at narrow widths kept.
        assert!(
            !row.contains('…') && !screen[header].contains("cyc"),
            "{screen:#?}"
        );
        assert!(
            row.trim_start().starts_with("13.701648997123"),
            "{screen:#?}"
        );
        for column in ["LAG", "/S", "TIMESTAMP"] {
            assert!(screen[header].contains(column), "{column}: {screen:#?}");
        }
    }
    // `a` still shows every label in the row.
    app.apply(Action::ToggleAllLabels, &mut store);
    let screen = draw(&mut app, &store, 200, 24);
    assert!(
        screen.iter().any(|l| l.contains("series_id")),
        "{screen:#?}"
    );
}
