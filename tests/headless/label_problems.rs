//! Label problems as JSON records and text lines, counted in the summary; clean
//! requests print none.

use super::*;

/// Posts `bodies` (RW1) to a fresh `--format format` run, stops it, and returns
/// all of stdout and the summary on stderr.
fn run_rw1(format: &str, bodies: Vec<Vec<u8>>) -> (String, String) {
    let mut p = Headless::start(format);
    for body in bodies {
        assert_eq!(p.post(RW1_HEADERS, body), 204);
    }
    let mut out = p.stdout.take().unwrap();
    let (code, stderr) = p.terminate();
    assert_eq!(code, Some(0), "{stderr}");
    let mut stdout = String::new();
    out.read_to_string(&mut stdout).unwrap();
    (stdout, stderr)
}

fn problem_records(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect(l))
        .filter(|r| r["kind"] == "problem")
        .collect()
}

#[test]
fn label_problems_print_as_json_records_and_count_in_the_summary() {
    let long = "v".repeat(2049);
    let body = rw1_series_body(
        &[
            &[("job", "a"), ("__name__", "m")],
            &[("__name__", "m"), ("empty", ""), ("job", "b")],
            &[("__name__", "m"), ("long", &long)],
            &[("__name__", "m"), ("job", "fine")],
        ],
        1_732_000_000_000,
    );
    let (stdout, stderr) = run_rw1("json", vec![body]);
    let problems = problem_records(&stdout);
    assert_eq!(problems.len(), 3, "{stdout}");
    assert_eq!(
        problems[0],
        json!({"kind":"problem","rule":"labels-unsorted","severity":"error",
               "labels":{"job":"a","__name__":"m"},"timestamp_ms":1_732_000_000_000_i64,
               "count":1,"refused":false,"message":"has labels that are not sorted by name (\"__name__\" after \"job\")"})
    );
    assert_eq!(
        problems[1],
        json!({"kind":"problem","rule":"label-value-empty","severity":"warning",
               "labels":{"__name__":"m","empty":"","job":"b"},"timestamp_ms":1_732_000_000_000_i64,
               "count":1,"refused":false,"message":"has label \"empty\" with an empty value"})
    );
    assert_eq!(problems[2]["rule"], "label-value-too-long");
    assert_eq!(problems[2]["severity"], "error");
    assert_eq!(problems[2]["labels"]["long"], long.as_str());
    assert_eq!(
        problems[2]["message"],
        "has label \"long\" with a value of 2049 bytes, over 2048"
    );
    // The series themselves are printed as ever.
    assert_eq!(stdout.matches(r#""kind":"sample""#).count(), 4, "{stdout}");
    assert!(
        stderr.contains(
            "problems    3 (labels-unsorted: 1, label-value-empty: 1, label-value-too-long: 1)"
        ),
        "{stderr}"
    );
}

#[test]
fn label_problems_print_as_readable_text_lines() {
    let body = rw1_series_body(&[&[("__name__", "m"), ("e", "")]], 1_732_000_000_000);
    let (stdout, stderr) = run_rw1("text", vec![body]);
    assert!(
        stdout.contains(
            r#"2024-11-19T07:06:40.000Z problem   warning label-value-empty m{e=""} has label "e" with an empty value"#
        ),
        "{stdout}"
    );
    assert!(
        stderr.contains("problems    1 (label-value-empty: 1)"),
        "{stderr}"
    );
}

#[test]
fn clean_requests_print_no_problem_records() {
    let (stdout, stderr) = run_rw1("json", vec![rw1_body(&[1.0, 2.0]), several_labels_body()]);
    assert_eq!(stdout.matches(r#""kind":"sample""#).count(), 3, "{stdout}");
    assert_eq!(problem_records(&stdout), Vec::<Value>::new(), "{stdout}");
    assert!(!stderr.contains("problems"), "{stderr}");
}

/// A second clean request, of several series with more labels.
fn several_labels_body() -> Vec<u8> {
    rw1_series_body(
        &[&[
            ("__name__", "http_requests_total"),
            ("code", "200"),
            ("instance", "localhost:9090"),
            ("job", "prometheus"),
        ]],
        1_732_000_000_000,
    )
}
