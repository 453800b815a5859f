//! Helpers shared by the integration tests: checking files our writer made
//! with the real libraries (h5py on libhdf5 2.0, Debian's h5dump on 1.10).
//!
//! Use from a test crate with `mod support;`. The test command
//! (`scripts/test`) installs both tools; without them a check *fails* with a
//! clear message, unless `H5SPARSE_SKIP_EXTERNAL=1` is set, so a missing tool
//! cannot silently hide a regression.
// Each test crate uses only some of these helpers.
#![allow(dead_code)]

pub mod counting;
pub mod synthetic;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (where `Cargo.toml`, `scripts/` and `fixtures/` are).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture file by name, e.g. `fixture("seed.h5")`.
pub fn fixture(name: &str) -> PathBuf {
    repo_root().join("fixtures").join(name)
}

/// The Python interpreter with h5py: `$H5SPARSE_PYTHON`, else the
/// repository's `.venv/bin/python`, else `/work/scratch-venv/bin/python`;
/// the first that exists. `None` when there is none.
pub fn python() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("H5SPARSE_PYTHON").map(PathBuf::from),
        Some(repo_root().join(".venv/bin/python")),
        Some(PathBuf::from("/work/scratch-venv/bin/python")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| !p.as_os_str().is_empty() && p.is_file())
}

/// `h5dump` on the `PATH`, if any.
pub fn h5dump() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("h5dump"))
        .find(|p| p.is_file())
}

/// Whether `H5SPARSE_SKIP_EXTERNAL=1` allows skipping checks whose tools are
/// missing.
pub fn skip_external() -> bool {
    std::env::var_os("H5SPARSE_SKIP_EXTERNAL").is_some_and(|v| v == "1")
}

/// `Ok(Some(python))` when h5py is needed and present, `Ok(None)` when it is
/// missing and skipping is allowed (the caller should return early), `Err`
/// otherwise.
pub fn require_python(what: &str) -> Result<Option<PathBuf>, String> {
    match python() {
        Some(py) => Ok(Some(py)),
        None if skip_external() => {
            eprintln!("{what}: skipped: no Python with h5py (H5SPARSE_SKIP_EXTERNAL=1)");
            Ok(None)
        }
        None => Err(format!(
            "{what}: no Python with h5py found (looked at $H5SPARSE_PYTHON, .venv/bin/python, \
             /work/scratch-venv/bin/python). Run scripts/setup-python, or set \
             H5SPARSE_SKIP_EXTERNAL=1 to skip checks that need external tools"
        )),
    }
}

/// Checks the HDF5 file at `path` with h5py and h5dump against
/// `expected_json`, the JSON *text* of the expected contents in the
/// `h5sparse dump --json` schema (fixtures/README.md), by running
/// `scripts/check-written`. The JSON is saved beside the file as
/// `<path>.expected.json`, so a failing check leaves both behind to inspect.
///
/// `Err` holds the script's failure lines. Missing tools are an `Err` too,
/// unless `H5SPARSE_SKIP_EXTERNAL=1`: then what is available still runs.
pub fn check_written(path: &Path, expected_json: &str) -> Result<(), String> {
    serde_json::from_str::<serde_json::Value>(expected_json)
        .map_err(|e| format!("check_written: the expected JSON does not parse: {e}"))?;
    let json_path = PathBuf::from(format!("{}.expected.json", path.display()));
    std::fs::write(&json_path, expected_json)
        .map_err(|e| format!("check_written: cannot write {}: {e}", json_path.display()))?;
    check_written_file(path, &json_path)
}

/// [`check_written`] with h5py only, for files in HDF5 2.0's latest format
/// (layout and datatype messages v5), which libhdf5 1.10's h5dump cannot
/// open at all. `unmodified` is the file as h5py wrote it: h5dump must fail
/// on it too, or the h5dump check is not skipped.
#[allow(dead_code)] // not every test binary uses every helper
pub fn check_written_beyond_h5dump(
    path: &Path,
    unmodified: &Path,
    expected_json: &str,
) -> Result<(), String> {
    if let Some(h5dump) = h5dump() {
        let ok = Command::new(h5dump)
            .arg("-n")
            .arg(unmodified)
            .output()
            .map_err(|e| format!("cannot run h5dump: {e}"))?
            .status
            .success();
        if ok {
            return check_written(path, expected_json);
        }
    }
    let json_path = PathBuf::from(format!("{}.expected.json", path.display()));
    std::fs::write(&json_path, expected_json)
        .map_err(|e| format!("cannot write {}: {e}", json_path.display()))?;
    check_written_mode(path, &json_path, Some("--h5py-only"))
}

/// [`check_written`] with the expected JSON in a file.
pub fn check_written_file(path: &Path, expected_json_path: &Path) -> Result<(), String> {
    check_written_mode(path, expected_json_path, None)
}

fn check_written_mode(
    path: &Path,
    expected_json_path: &Path,
    forced: Option<&'static str>,
) -> Result<(), String> {
    let py = python();
    let has_h5dump = h5dump().is_some() || forced.is_some();
    let mode = match (py.is_some(), has_h5dump) {
        (true, true) => None,
        _ if !skip_external() => {
            let mut missing = Vec::new();
            if py.is_none() {
                missing.push(
                    "a Python with h5py ($H5SPARSE_PYTHON, .venv/bin/python; run scripts/setup-python)",
                );
            }
            if !has_h5dump {
                missing.push("h5dump (Debian package hdf5-tools; run scripts/setup-system)");
            }
            return Err(format!(
                "check_written({}): missing {}; set H5SPARSE_SKIP_EXTERNAL=1 to skip",
                path.display(),
                missing.join(" and ")
            ));
        }
        (true, false) => Some("--h5py-only"),
        (false, _) => {
            eprintln!(
                "check_written({}): skipped: no Python with h5py (H5SPARSE_SKIP_EXTERNAL=1)",
                path.display()
            );
            return Ok(());
        }
    };
    let mode = forced.or(mode);
    if mode.is_some() && forced.is_none() {
        eprintln!(
            "check_written({}): h5dump missing, checking with h5py only (H5SPARSE_SKIP_EXTERNAL=1)",
            path.display()
        );
    }
    let mut cmd = Command::new(repo_root().join("scripts/check-written"));
    if let Some(py) = &py {
        cmd.env("H5SPARSE_PYTHON", py);
    }
    cmd.args(mode);
    cmd.arg(path).arg(expected_json_path);
    let out = cmd
        .output()
        .map_err(|e| format!("check_written: cannot run scripts/check-written: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "scripts/check-written {} {} failed ({}):\n{}{}",
            path.display(),
            expected_json_path.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        ))
    }
}

/// A fresh, empty directory for one test's files: `<name>` under Cargo's
/// `CARGO_TARGET_TMPDIR` (removed first if it exists), kept after the test so
/// a failure can be inspected.
pub fn test_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test output directory");
    dir
}

/// Every `.h5ad` fixture, sorted by name.
pub fn h5ad_fixtures() -> Vec<PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(repo_root().join("fixtures"))
        .expect("read fixtures/")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "h5ad"))
        .collect();
    out.sort();
    out
}

/// Runs `script` with `python -c` and `args`; its stdout. Panics with the
/// script's stderr when it fails.
pub fn run_python<I, S>(python: &Path, script: &str, args: I) -> Vec<u8>
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs the input generator `tests/support/NAME` (a Python script taking
/// the fixtures directory and an output directory) into `dir`. Panics with
/// the script's stderr when it fails.
pub fn generate_inputs(python: &Path, name: &str, dir: &Path) {
    let out = Command::new(python)
        .arg(repo_root().join("tests/support").join(name))
        .arg(repo_root().join("fixtures"))
        .arg(dir)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Reads the crash images in `dir` (`crash_*.h5` with their
/// `.candidates.json` and `.states.json`, the states `state_NN.h5ad`) with
/// h5py (`scripts/check-crash-images.py`) and anndata
/// (`tests/support/crash_oracle.py`); panics with what they report when an
/// image shows neither of its states.
pub fn check_crash_images(python: &Path, dir: &Path) {
    for script in [
        "scripts/check-crash-images.py",
        "tests/support/crash_oracle.py",
    ] {
        let out = Command::new(python)
            .arg(repo_root().join(script))
            .arg(dir)
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "{script} finds images that show neither state:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Makes a file at `path` with h5py whose chunk B-trees have K = `k` (the
/// indexed storage K: nodes of `2k` children), then runs `body` (Python,
/// with the open `h5py.File` as `f` and numpy as `np`). h5py does not wrap
/// `H5Pset_istore_k`, so it is called in the libhdf5 h5py bundles; libhdf5
/// stores K in a version 1 superblock.
pub fn h5py_file_with_istore_k(python: &Path, path: &Path, k: u16, body: &str) {
    const SCRIPT: &str = r#"
import ctypes, glob, os, sys
import h5py, numpy as np
libs = glob.glob(os.path.join(os.path.dirname(h5py.__file__), os.pardir, 'h5py.libs', 'libhdf5-*.so*'))
assert libs, 'h5py bundles no libhdf5 to call H5Pset_istore_k in'
hdf5 = ctypes.CDLL(sorted(libs)[0])
fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
assert hdf5.H5Pset_istore_k(ctypes.c_int64(fcpl.id), ctypes.c_uint(int(sys.argv[2]))) >= 0
fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
fapl.set_libver_bounds(h5py.h5f.LIBVER_EARLIEST, h5py.h5f.LIBVER_LATEST)
fid = h5py.h5f.create(sys.argv[1].encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl)
with h5py.File(fid) as f:
    exec(sys.argv[3])
"#;
    let k = k.to_string();
    run_python(
        python,
        SCRIPT,
        [path.as_os_str(), k.as_ref(), body.as_ref()],
    );
}

/// Our reader's dump of a file image, as JSON (what crash and conformance
/// tests compare).
pub fn dump_value(bytes: &[u8]) -> serde_json::Value {
    let f = h5sparse::File::from_bytes(bytes.to_vec()).expect("our reader opens the file");
    serde_json::from_str(&h5sparse::dump::dump_json(&f)).expect("dump is JSON")
}

/// The stored heap IDs (16 bytes each) of the chunked, unfiltered
/// variable-length string dataset `dataset` of the file `bytes`, read from
/// its chunks, and the bytes of every global heap collection they point
/// into, by address.
pub fn vlen_storage(bytes: &[u8], dataset: &str) -> (Vec<u8>, Vec<(usize, Vec<u8>)>) {
    let f = h5sparse::File::from_bytes(bytes.to_vec()).unwrap();
    let ds = f.dataset(dataset).unwrap();
    assert!(ds.filters().is_empty(), "{dataset} is filtered");
    let chunk = ds.chunks().expect("a chunked dataset")[0] as usize * 16;
    let mut ids = vec![0u8; ds.len() as usize * 16];
    for r in ds.chunk_records().unwrap() {
        let start = r.offset[0] as usize * 16;
        if start >= ids.len() {
            continue;
        }
        let n = chunk.min(ids.len() - start);
        let at = r.address.0 as usize;
        ids[start..start + n].copy_from_slice(&bytes[at..at + n]);
    }
    let mut at: Vec<usize> = ids
        .chunks_exact(16)
        .map(|e| u64::from_le_bytes(e[4..12].try_into().unwrap()))
        .filter(|&a| a != u64::MAX)
        .map(|a| a as usize)
        .collect();
    at.sort_unstable();
    at.dedup();
    let heaps = at
        .into_iter()
        .map(|a| {
            assert_eq!(&bytes[a..a + 4], b"GCOL", "{dataset}: no collection at {a}");
            let size = u64::from_le_bytes(bytes[a + 8..a + 16].try_into().unwrap()) as usize;
            (a, bytes[a..a + size].to_vec())
        })
        .collect();
    (ids, heaps)
}
