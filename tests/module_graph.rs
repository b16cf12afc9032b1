//! The module graph has no cycle: each top-level module of `src/` uses
//! (`crate::other`) only modules further down the data flow. Test code is left
//! out: a test may drive anything (the app's tests draw the screen).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Top-level module -> the modules it uses, each with where (file:line).
type Graph = BTreeMap<String, BTreeMap<String, String>>;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The non-test lines of a file: up to a `#[cfg(test)]` that opens a module.
fn shipped_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .windows(2)
        .position(|w| w[0].trim() == "#[cfg(test)]" && w[1].trim_start().starts_with("mod "))
        .unwrap_or(lines.len());
    lines.into_iter().take(end).enumerate()
}

/// `crate::name` paths in code (not comments) of `line`.
fn crate_paths(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    code.match_indices("crate::")
        .filter(|(at, _)| {
            // Not the tail of another identifier (`my_crate::`).
            !code[..*at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
        .map(|(at, _)| {
            code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

fn module_graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut graph = Graph::new();
    for file in files {
        let rel = file.strip_prefix(src).expect("under src/");
        let parts: Vec<_> = rel.iter().map(|p| p.to_string_lossy()).collect();
        let top = parts[0].trim_end_matches(".rs").to_owned();
        let is_test = parts.iter().any(|p| p == "tests" || p == "tests.rs");
        if matches!(top.as_str(), "lib" | "main") || is_test {
            continue;
        }
        let text = fs::read_to_string(&file).expect("a source file");
        let uses = graph.entry(top.clone()).or_default();
        for (i, line) in shipped_lines(&text) {
            for used in crate_paths(line) {
                if used != top && !used.is_empty() {
                    uses.entry(used)
                        .or_insert_with(|| format!("{}:{}", rel.display(), i + 1));
                }
            }
        }
    }
    graph
}

/// A cycle, as the modules along it, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flat_map(|uses| uses.keys()) {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn top_level_modules_form_no_cycle() {
    let graph = module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(graph.contains_key("store") && graph.contains_key("ui"));
    if let Some(cycle) = find_cycle(&graph) {
        let steps: Vec<String> = cycle
            .windows(2)
            .map(|w| format!("{} -> {} ({})", w[0], w[1], graph[&w[0]][&w[1]]))
            .collect();
        panic!("module cycle:\n  {}", steps.join("\n  "));
    }
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let edge = |a: &str, b: &str| (a.to_owned(), b.to_owned(), "x.rs:1".to_owned());
    let mut graph = Graph::new();
    for (a, b, at) in [edge("ui", "app"), edge("app", "store"), edge("store", "ui")] {
        graph.entry(a).or_default().insert(b, at);
    }
    assert_eq!(
        find_cycle(&graph),
        Some(vec![
            "app".into(),
            "store".into(),
            "ui".into(),
            "app".into()
        ])
    );
    graph.get_mut("store").map(|uses| uses.remove("ui"));
    assert_eq!(find_cycle(&graph), None);
    assert_eq!(
        crate_paths("use crate::store::{Store}; // crate::ui"),
        ["store"]
    );
    assert_eq!(crate_paths("my_crate::x"), Vec::<String>::new());
}
