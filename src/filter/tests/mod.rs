//! The filter's parsing and matching, selectors and regexes alike: shared
//! helpers here, the topics in the modules below.

mod braceless;
mod pass;
mod plain;
mod selectors;

use super::*;

fn check(filter: &str, labels: &[(&str, &str)]) -> bool {
    let filter = Filter::parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
    filter.matches(labels.iter().copied(), &mut String::new())
}

fn error(filter: &str) -> String {
    match Filter::parse(filter) {
        Ok(f) => panic!("{filter} parsed as {f:?}"),
        Err(e) => e.to_string(),
    }
}

const NODE: &[(&str, &str)] = &[
    ("__name__", "node_cpu_seconds_total"),
    ("cpu", "0"),
    ("instance", "host:9100"),
    ("job", "node"),
];
const UP: &[(&str, &str)] = &[("__name__", "up"), ("job", "api")];
