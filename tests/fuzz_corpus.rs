//! Replays the fuzz targets' checked-in inputs on the stable toolchain, through
//! the same functions the targets in `fuzz/` run: the seed corpus
//! (`fuzz/corpus/TARGET/`) and every input that ever found a defect
//! (`fuzz/regressions/TARGET/`), so a defect the fuzzer found stays fixed.

mod dashboard;
mod fuzz_seeds;

use std::fs;
use std::path::{Path, PathBuf};

use promscope::fuzzing::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files in `dir`, sorted; none if it does not exist.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every input of `kind` (`corpus` or `regressions`) through its target;
/// returns how many ran.
fn replay(kind: &str) -> usize {
    let mut ran = 0;
    for target in TARGETS {
        for path in inputs(&fuzz_dir().join(kind).join(target.name)) {
            let input = fs::read(&path).expect("a readable input");
            eprintln!("{}", path.display());
            (target.run)(&input);
            ran += 1;
        }
    }
    ran
}

/// Each directory under `kind` belongs to a target (a renamed target must take
/// its inputs along, or they would silently stop being replayed).
fn only_known_targets(kind: &str) {
    let Ok(entries) = fs::read_dir(fuzz_dir().join(kind)) else {
        return;
    };
    for entry in entries {
        let name = entry.expect("a directory entry").file_name();
        let name = name.to_string_lossy();
        assert!(
            TARGETS.iter().any(|t| t.name == name),
            "fuzz/{kind}/{name} belongs to no target of promscope::fuzzing::TARGETS"
        );
    }
}

#[test]
fn every_target_has_a_fuzz_target_file_and_a_seed_corpus() {
    for target in TARGETS {
        let file = fuzz_dir().join(format!("fuzz_targets/{}.rs", target.name));
        assert!(file.is_file(), "{} is missing", file.display());
        let seeds = inputs(&fuzz_dir().join("corpus").join(target.name));
        assert!(!seeds.is_empty(), "fuzz/corpus/{} is empty", target.name);
    }
    only_known_targets("corpus");
    only_known_targets("regressions");
}

#[test]
fn the_seed_corpus_runs_clean() {
    assert!(replay("corpus") > 0);
}

#[test]
fn every_input_that_found_a_defect_runs_clean() {
    replay("regressions");
}

/// Rewrites the generated seeds (after a change to what a target's input means):
/// `cargo test --test fuzz_corpus -- --ignored`.
#[test]
#[ignore = "writes fuzz/corpus"]
fn write_the_generated_seeds() {
    fuzz_seeds::write(&fuzz_dir().join("corpus"));
}
