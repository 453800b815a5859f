//! Replays the fuzz regressions in plain `cargo test`.
//!
//! Every file under `fuzz/regressions/<target>/` is an input that once made
//! `<target>` crash, hang or exhaust memory (or a seed kept as a sample); it
//! is run through the same target body the cargo-fuzz binary uses
//! (`fuzz/targets/`), which panics on a finding. Each input runs on its own
//! thread under a time limit, so a hang fails instead of stalling the suite.

#[path = "../fuzz/targets/mod.rs"]
mod targets;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// A regression input taking longer than this counts as a hang (the
/// test profile is barely optimised; libFuzzer runs with `-timeout=10`).
const CASE_TIME_LIMIT: Duration = Duration::from_secs(30);

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions")
}

/// Files in `dir`, sorted; none when it does not exist.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.retain(|p| p.file_name().and_then(|n| n.to_str()) != Some("README.md"));
    files.sort();
    files
}

/// Runs `target` on `data` on a thread: `Err` on a panic or a hang.
fn replay(target: &'static targets::Target, data: Vec<u8>) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(|| (target.run)(&data));
        let _ = tx.send(r.map_err(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "non-string panic".into())
        }));
    });
    match rx.recv_timeout(CASE_TIME_LIMIT) {
        Ok(r) => r.map_err(|p| format!("panic: {p}")),
        Err(_) => Err(format!("still running after {CASE_TIME_LIMIT:?}")),
    }
}

#[test]
fn every_regression_replays_clean() {
    let mut failures = Vec::new();
    let mut replayed = 0;
    for t in targets::TARGETS {
        for path in files_in(&regressions_dir().join(t.name)) {
            let data = std::fs::read(&path).expect("regression file readable");
            replayed += 1;
            if let Err(e) = replay(t, data) {
                failures.push(format!("{}: {e}", path.display()));
            }
        }
    }
    eprintln!("{replayed} fuzz regressions replayed");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_regression_directory_names_a_target() {
    let Ok(dirs) = std::fs::read_dir(regressions_dir()) else {
        return;
    };
    for d in dirs.flatten().filter(|d| d.path().is_dir()) {
        let name = d.file_name().to_string_lossy().into_owned();
        assert!(
            targets::target(&name).is_some(),
            "fuzz/regressions/{name} does not name a target"
        );
    }
}

/// Every target gets seeds from the fixtures, and runs clean on them.
#[test]
fn fixture_seeds_exist_and_run_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    fixtures.retain(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("h5" | "h5ad")));
    fixtures.sort();
    if fixtures.is_empty() {
        eprintln!("no fixtures/: nothing to seed from");
        return;
    }
    let files: Vec<Vec<u8>> = fixtures
        .iter()
        .map(|p| std::fs::read(p).expect("fixture"))
        .collect();
    let mut failures = Vec::new();
    for t in targets::TARGETS {
        let mut n = 0;
        for (path, bytes) in fixtures.iter().zip(&files) {
            for seed in targets::seeds::seeds(t.name, bytes).into_iter().take(3) {
                n += 1;
                if let Err(e) = replay(t, seed) {
                    failures.push(format!("{} seed from {}: {e}", t.name, path.display()));
                }
            }
        }
        assert!(n > 0, "{}: no seeds from fixtures/", t.name);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
