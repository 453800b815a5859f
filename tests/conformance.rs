//! Conformance: every fixture's `dump --json` equals the JSON that the h5py
//! oracle (`scripts/h5json.py`) wrote beside it.
//!
//! For `fixtures/NAME.h5` (or `.h5ad`) the expectation is `fixtures/NAME.json`
//! or `fixtures/NAME.h5.json`. The two documents are compared as parsed JSON
//! values, so key order and whitespace do not matter but number kinds do
//! (`1` is not `1.0`). Where the expectation has an `"error"` key (a value
//! h5py itself could not read, or one this crate deliberately does not),
//! ours must have one too; the message text is not compared.
//!
//! Expectations come only from h5py: there is deliberately no switch that
//! rewrites them from our output.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The fixtures directory.
fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every HDF5 fixture with its expectation, sorted by name.
fn fixture_pairs() -> Vec<(PathBuf, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(fixtures_dir()) else {
        return Vec::new();
    };
    let mut pairs = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let is_hdf5 = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("h5" | "h5ad" | "hdf5")
        );
        if !is_hdf5 {
            continue;
        }
        let candidates = [
            path.with_extension("json"),
            PathBuf::from(format!("{}.json", path.display())),
        ];
        if let Some(json) = candidates.into_iter().find(|p| p.is_file()) {
            pairs.push((path, json));
        }
    }
    pairs.sort();
    pairs
}

/// Where two JSON values first differ: `Some((json_path, explanation))`.
fn first_difference(path: &str, expected: &Value, actual: &Value) -> Option<(String, String)> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let expects_error = e.contains_key("error");
            if expects_error && !a.contains_key("error") {
                return Some((
                    path.to_string(),
                    format!(
                        "expected an \"error\" key (h5py: {}), ours has none",
                        short(&e["error"])
                    ),
                ));
            }
            for (key, ev) in e {
                if key == "error" {
                    continue;
                }
                let sub = format!("{path}/{key}");
                match a.get(key) {
                    None => return Some((sub, format!("missing; expected {}", short(ev)))),
                    Some(av) => {
                        if let Some(d) = first_difference(&sub, ev, av) {
                            return Some(d);
                        }
                    }
                }
            }
            for (key, av) in a {
                if e.contains_key(key) {
                    continue;
                }
                if key == "error" {
                    return Some((
                        path.to_string(),
                        format!("unexpected \"error\": {}", short(av)),
                    ));
                }
                return Some((
                    format!("{path}/{key}"),
                    format!("unexpected key with value {}", short(av)),
                ));
            }
            None
        }
        (Value::Array(e), Value::Array(a)) => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                if let Some(d) = first_difference(&format!("{path}[{i}]"), ev, av) {
                    return Some(d);
                }
            }
            if e.len() != a.len() {
                return Some((
                    path.to_string(),
                    format!("expected {} elements, ours has {}", e.len(), a.len()),
                ));
            }
            None
        }
        (Value::Number(e), Value::Number(a)) => {
            let same_kind = e.is_f64() == a.is_f64();
            if e == a && same_kind {
                None
            } else {
                Some((
                    path.to_string(),
                    format!("expected {e}, ours {a} (integers and floats must not mix)"),
                ))
            }
        }
        (e, a) if e == a => None,
        (e, a) => Some((
            path.to_string(),
            format!("expected {}, ours {}", short(e), short(a)),
        )),
    }
}

/// A value, abbreviated for messages.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 160 {
        let head: String = s.chars().take(160).collect();
        format!("{head}…")
    } else {
        s
    }
}

fn dump(path: &Path) -> Result<String, String> {
    #[cfg(feature = "mmap")]
    let file = h5sparse::File::open(path).map_err(|e| format!("open failed: {e}"))?;
    #[cfg(not(feature = "mmap"))]
    let file = h5sparse::File::from_bytes(std::fs::read(path).map_err(|e| e.to_string())?)
        .map_err(|e| format!("open failed: {e}"))?;
    Ok(h5sparse::dump::dump_json(&file))
}

#[test]
fn every_fixture_matches_its_expected_json() {
    let pairs = fixture_pairs();
    if pairs.is_empty() {
        assert!(
            !fixtures_dir().is_dir(),
            "fixtures/ exists but holds no HDF5 file with a .json beside it"
        );
        eprintln!("no fixtures/ directory yet: nothing to compare");
        return;
    }
    let mut failures = Vec::new();
    for (h5, json) in &pairs {
        let name = h5
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let expected: Value = match std::fs::read_to_string(json)
            .map_err(|e| e.to_string())
            .and_then(|s| serde_json::from_str(&s).map_err(|e| e.to_string()))
        {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{name}: cannot read {}: {e}", json.display()));
                continue;
            }
        };
        let ours = match dump(h5) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let actual: Value = match serde_json::from_str(&ours) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{name}: our dump is not valid JSON: {e}"));
                continue;
            }
        };
        if let Some((at, why)) = first_difference("", &expected, &actual) {
            failures.push(format!("{name}: first difference at {at}: {why}"));
        }
    }
    eprintln!(
        "conformance: {} of {} fixtures match",
        pairs.len() - failures.len(),
        pairs.len()
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The in-memory reader (the wasm path) dumps exactly what the mmap reader does.
#[test]
fn from_bytes_dumps_the_same_as_open() {
    for (h5, _) in fixture_pairs() {
        let Ok(mapped) = dump(&h5) else { continue };
        let bytes = std::fs::read(&h5).expect("fixture readable");
        let file = h5sparse::File::from_bytes(bytes).expect("from_bytes opens what open opens");
        assert_eq!(
            h5sparse::dump::dump_json(&file),
            mapped,
            "{}: from_bytes and open disagree",
            h5.display()
        );
    }
}

/// Files read range by range (blocks from 7 bytes, so that every structure
/// spans several, to the default 64 KiB), from a source that answers 7
/// bytes at a time, dump exactly what the memory map does; so do they from
/// a source that asks readers to announce their data (as remote ones do),
/// which then comes from planned range reads.
#[test]
fn paged_sources_dump_the_same_as_open() {
    use h5sparse::io::paged::PagedFile;
    use h5sparse::io::source::{Counting, Piecewise};
    let mut checked = 0;
    let mut planned = 0;
    for (h5, _) in fixture_pairs() {
        let Ok(mapped) = dump(&h5) else { continue };
        let bytes: std::sync::Arc<[u8]> = std::fs::read(&h5).expect("fixture readable").into();
        for (block, batches) in [
            (7, false),
            (1000, false),
            (h5sparse::io::paged::DEFAULT_BLOCK, false),
            (1000, true),
        ] {
            let src = Counting::new(Piecewise::new(bytes.clone(), 7)).prefer_batches(batches);
            let src = std::sync::Arc::new(src);
            let paged = PagedFile::new(Box::new(src.clone()), block, u64::MAX).unwrap();
            let file = h5sparse::File::from_paged(paged, h5sparse::Limits::default())
                .unwrap_or_else(|e| panic!("{}: paged open (block {block}): {e}", h5.display()));
            assert_eq!(
                h5sparse::dump::dump_json(&file),
                mapped,
                "{}: paged (block {block}, batches {batches}) and open disagree",
                h5.display()
            );
            checked += 1;
            let calls = src.stats().range_calls;
            assert!(
                batches || calls == 0,
                "{}: {calls} range reads",
                h5.display()
            );
            planned += calls;
        }
    }
    assert!(checked >= 4 * 40, "only {checked} paged dumps compared");
    assert!(planned >= 40, "only {planned} planned range reads");
}

/// The same through positional reads of the file itself (`pread`, no map),
/// as `File::open_source` with `FileSource` reads network file systems.
#[cfg(unix)]
#[test]
fn positional_reads_dump_the_same_as_open() {
    let mut checked = 0;
    for (h5, _) in fixture_pairs() {
        let Ok(mapped) = dump(&h5) else { continue };
        let src = h5sparse::io::source::FileSource::open(&h5).unwrap();
        let file = h5sparse::File::open_source(Box::new(src))
            .unwrap_or_else(|e| panic!("{}: open_source: {e}", h5.display()));
        assert!(file.bytes().is_none(), "read range by range, not mapped");
        assert_eq!(
            h5sparse::dump::dump_json(&file),
            mapped,
            "{}: positional reads and open disagree",
            h5.display()
        );
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} positional dumps compared");
}

#[test]
fn difference_finder_reports_paths_and_kinds() {
    let e: Value = serde_json::from_str(r#"{"objects":{"/a":{"values":[1,2.0]}}}"#).unwrap();
    let a: Value = serde_json::from_str(r#"{"objects":{"/a":{"values":[1,2]}}}"#).unwrap();
    let (at, _) = first_difference("", &e, &a).unwrap();
    assert_eq!(at, "/objects//a/values[1]");
    let e: Value = serde_json::from_str(r#"{"x":{"dtype":"<i4","error":"compound"}}"#).unwrap();
    let ok: Value = serde_json::from_str(r#"{"x":{"dtype":"<i4","error":"other text"}}"#).unwrap();
    let bad: Value = serde_json::from_str(r#"{"x":{"dtype":"<i4","values":[1]}}"#).unwrap();
    assert!(first_difference("", &e, &ok).is_none());
    assert!(first_difference("", &e, &bad).is_some());
    let f: Value = serde_json::from_str("[0.1, 1e300, -0.0]").unwrap();
    let g: Value = serde_json::from_str("[0.1, 1e300, 0.0]").unwrap();
    assert!(first_difference("", &f, &g).is_none());
}

#[cfg(feature = "cli")]
mod cli {
    use std::process::Command;

    fn h5sparse() -> Command {
        Command::new(env!("CARGO_BIN_EXE_h5sparse"))
    }

    #[test]
    fn dump_json_prints_the_library_dump() {
        let Some((h5, _)) = super::fixture_pairs().into_iter().next() else {
            return;
        };
        let out = h5sparse()
            .arg("dump")
            .arg("--json")
            .arg(&h5)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let printed = String::from_utf8(out.stdout).unwrap();
        assert_eq!(printed.trim_end(), super::dump(&h5).unwrap());
    }

    #[test]
    fn errors_are_one_line_without_panic() {
        let dir = std::env::temp_dir().join(format!("h5sparse-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let junk = dir.join("junk.h5");
        std::fs::write(&junk, b"this is not an HDF5 file at all, not even close").unwrap();
        let missing = dir.join("missing.h5");
        for args in [
            vec!["ls".to_string(), missing.display().to_string()],
            vec![
                "dump".to_string(),
                "--json".to_string(),
                missing.display().to_string(),
            ],
            vec![
                "ls".to_string(),
                "-r".to_string(),
                "-v".to_string(),
                junk.display().to_string(),
            ],
            vec![
                "dump".to_string(),
                "--json".to_string(),
                junk.display().to_string(),
            ],
        ] {
            let out = h5sparse().args(&args).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
            assert!(
                stderr.starts_with("h5sparse: error: "),
                "{args:?}: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Lines of h5ls output that h5sparse does not reproduce: h5ls's banner,
    /// link counts, allocated sizes; and h5sparse's
    /// attribute values, which h5ls prints only with `-d`.
    fn comparable(output: &str) -> Vec<String> {
        let mut lines = Vec::new();
        let mut in_attribute_data = false;
        for line in output.lines() {
            if in_attribute_data && line.starts_with("               ") {
                continue;
            }
            in_attribute_data = false;
            if line == "        Data:" {
                in_attribute_data = true;
                continue;
            }
            if line.starts_with("Opened ") || line.starts_with("    Links:") {
                continue;
            }
            match line.split_once(", ") {
                Some((head, _)) if line.starts_with("    Storage:") => lines.push(head.to_string()),
                _ => lines.push(line.to_string()),
            }
        }
        lines
    }

    /// `ls -r -v` shows what `h5ls -r -v` shows (when h5ls is installed and
    /// can read the file: Debian's 1.10 cannot read every `latest` file).
    #[test]
    fn ls_matches_h5ls() {
        let mut compared = 0;
        let mut failures = Vec::new();
        for (h5, _) in super::fixture_pairs() {
            let Ok(theirs) = Command::new("h5ls").arg("-r").arg("-v").arg(&h5).output() else {
                eprintln!("h5ls not installed: ls output not compared");
                return;
            };
            // Debian's h5ls 1.10 cannot read what HDF5 2.0 writes under
            // libver 'latest'; nothing to compare against there.
            if !theirs.status.success()
                || String::from_utf8_lossy(&theirs.stdout).contains("*ERROR*")
            {
                continue;
            }
            let ours = h5sparse()
                .args(["ls", "-r", "-v"])
                .arg(&h5)
                .output()
                .unwrap();
            assert!(
                ours.status.success(),
                "{}: {}",
                h5.display(),
                String::from_utf8_lossy(&ours.stderr)
            );
            let theirs = comparable(&String::from_utf8_lossy(&theirs.stdout));
            let ours = comparable(&String::from_utf8_lossy(&ours.stdout));
            compared += 1;
            let first = theirs.iter().zip(&ours).position(|(t, o)| t != o);
            let at = first.or((theirs.len() != ours.len()).then(|| theirs.len().min(ours.len())));
            if let Some(i) = at {
                let name = h5.file_name().unwrap().to_string_lossy().into_owned();
                let must = name.ends_with(".h5ad");
                failures.push((
                    must,
                    format!(
                        "{name}: line {}: h5ls {:?}, ours {:?}",
                        i + 1,
                        theirs.get(i).map_or("<end>", String::as_str),
                        ours.get(i).map_or("<end>", String::as_str)
                    ),
                ));
            }
        }
        for (_, f) in &failures {
            eprintln!("ls differs: {f}");
        }
        eprintln!(
            "ls: compared {compared} fixtures with h5ls, {} differ",
            failures.len()
        );
        // The issue's bar: the anndata fixtures match exactly.
        let required: Vec<&String> = failures
            .iter()
            .filter(|(m, _)| *m)
            .map(|(_, f)| f)
            .collect();
        assert!(required.is_empty(), "{required:#?}");
    }
}
