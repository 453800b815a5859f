//! Writes seed inputs for one fuzz target, built from the HDF5 files in a
//! directory (default `fixtures/`). Used by `scripts/fuzz`.
//!
//! ```text
//! cargo run --example fuzz_seeds -- TARGET OUT_DIR [FIXTURES_DIR]
//! ```

#[path = "../fuzz/targets/mod.rs"]
mod targets;

use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(target), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: fuzz_seeds TARGET OUT_DIR [FIXTURES_DIR]");
        std::process::exit(2);
    };
    if targets::target(target).is_none() {
        let names: Vec<&str> = targets::TARGETS.iter().map(|t| t.name).collect();
        eprintln!("unknown target {target:?}; targets: {}", names.join(" "));
        std::process::exit(2);
    }
    let fixtures = args
        .get(2)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
    let out = PathBuf::from(out);
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("{}: {e}", out.display());
        std::process::exit(1);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("h5" | "h5ad")));
    files.sort();
    let mut written = 0;
    for path in &files {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let stem = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        for (i, seed) in targets::seeds::seeds(target, &bytes)
            .into_iter()
            .enumerate()
        {
            let dest = out.join(format!("{stem}-{i}"));
            if let Err(e) = std::fs::write(&dest, seed) {
                eprintln!("{}: {e}", dest.display());
                std::process::exit(1);
            }
            written += 1;
        }
        if matches!(
            target.as_str(),
            "sparse_select" | "writer_ops" | "roundtrip" | "selection"
        ) {
            break; // the structured targets' seeds do not depend on the file
        }
    }
    println!("{written} seeds for {target} in {}", out.display());
}
