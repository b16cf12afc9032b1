//! README.md's rule table is the catalogue's (src/problems/catalogue.rs): every
//! rule with its id, severity, explanation and source, in catalogue order.

use promscope::problems::CATALOGUE;

const START: &str =
    "<!-- rules: generated from src/problems/catalogue.rs, checked by tests/readme_rules.rs -->";
const END: &str = "<!-- end of rules -->";

/// The table as the README should hold it.
fn table() -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = String::from(
        "| Rule | Severity | What it means | Where it comes from |\n|---|---|---|---|\n",
    );
    for info in CATALOGUE.iter() {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            info.rule.id(),
            info.severity.name(),
            cell(info.explanation),
            cell(info.source)
        ));
    }
    out
}

#[test]
fn the_readme_lists_every_rule_as_the_catalogue_does() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md is readable");
    let shown = readme
        .split_once(START)
        .and_then(|(_, rest)| rest.split_once(END))
        .map(|(table, _)| table.trim());
    let expected = table();
    assert_eq!(
        shown,
        Some(expected.trim()),
        "README.md's rule table (between {START} and {END}) differs from the catalogue; it should read:\n\n{expected}"
    );
}
