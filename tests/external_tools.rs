//! The external checkers themselves: `scripts/check-written` (h5py + h5dump)
//! accepts real h5py-written fixtures and rejects altered expectations, and
//! `FileSink`'s advisory lock excludes libhdf5 (h5py, h5dump) both ways.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use h5sparse::io::{FileLocking, FileSink, Sink};

#[test]
fn check_written_accepts_fixtures_written_by_h5py() {
    for name in [
        "libver_earliest.h5",
        "dtypes.h5",
        "strings.h5",
        "seed.h5",
        "anndata.h5ad",
    ] {
        let path = support::fixture(name);
        let json = std::fs::read_to_string(support::fixture(&format!("{name}.json"))).unwrap();
        // Through a copy, as writer tests do (the expected JSON lands beside it).
        let dir = support::test_dir(&format!("check_written_accepts_{name}"));
        let copy = dir.join(name);
        std::fs::copy(&path, &copy).unwrap();
        if let Err(e) = support::check_written(&copy, &json) {
            panic!("{e}");
        }
    }
}

#[test]
fn check_written_rejects_an_altered_value() {
    let name = "seed.h5";
    let json = std::fs::read_to_string(support::fixture(&format!("{name}.json"))).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let values = &mut doc["objects"]["/Y"]["values"][0][0];
    *values = serde_json::json!(values.as_i64().unwrap() + 1);
    let dir = support::test_dir("check_written_rejects_an_altered_value");
    let copy = dir.join(name);
    std::fs::copy(support::fixture(name), &copy).unwrap();
    match support::check_written(&copy, &doc.to_string()) {
        Ok(()) if support::python().is_none() && support::skip_external() => {}
        Ok(()) => panic!("an altered /Y value was not noticed"),
        Err(e) => {
            assert!(e.contains("h5py:") || support::python().is_none(), "{e}");
            assert!(e.contains("h5dump:") || support::h5dump().is_none(), "{e}");
            assert!(e.contains("/Y"), "{e}");
        }
    }
}

#[test]
fn check_written_self_test() {
    if support::require_python("check-written --self-test")
        .unwrap()
        .is_none()
    {
        return;
    }
    if support::h5dump().is_none() {
        assert!(
            support::skip_external(),
            "h5dump missing: install hdf5-tools or set H5SPARSE_SKIP_EXTERNAL=1"
        );
        return;
    }
    let mut cmd = Command::new(support::repo_root().join("scripts/check-written"));
    if let Some(py) = support::python() {
        cmd.env("H5SPARSE_PYTHON", py);
    }
    let out = cmd.arg("--self-test").output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Python that tries to open `argv[1]` with h5py and prints what happened.
const H5PY_OPEN: &str = "import sys, h5py
try:
    h5py.File(sys.argv[1], sys.argv[2]).close()
    print('opened')
except OSError as e:
    print('refused', e)
";

#[test]
fn file_sink_lock_excludes_h5py_and_h5dump() {
    let Some(py) = support::require_python("file_sink_lock_excludes_h5py").unwrap() else {
        return;
    };
    let dir = support::test_dir("file_sink_lock_excludes_h5py");
    let path = dir.join("seed.h5");
    std::fs::copy(support::fixture("seed.h5"), &path).unwrap();

    // While a FileSink holds the file, libhdf5 refuses to open it, read-only too.
    let sink = FileSink::open_rw_with_locking(&path, FileLocking::Required).unwrap();
    for mode in ["r", "r+"] {
        let out = Command::new(&py)
            .env_remove("HDF5_USE_FILE_LOCKING")
            .args(["-c", H5PY_OPEN])
            .arg(&path)
            .arg(mode)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.starts_with("refused") && stdout.contains("unable to lock file"),
            "h5py mode {mode}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if let Some(h5dump) = support::h5dump() {
        let out = Command::new(h5dump)
            .env_remove("HDF5_USE_FILE_LOCKING")
            .arg("-H")
            .arg(&path)
            .output()
            .unwrap();
        assert!(!out.status.success(), "h5dump opened a locked file");
    }
    drop(sink);

    // While h5py holds the file (even read-only), a FileSink is refused.
    for mode in ["r", "r+"] {
        let mut child = Command::new(&py)
            .env_remove("HDF5_USE_FILE_LOCKING")
            .args([
                "-c",
                "import sys, h5py\nf = h5py.File(sys.argv[1], sys.argv[2])\nprint('ready', flush=True)\nsys.stdin.readline()\nf.close()",
            ])
            .arg(&path)
            .arg(mode)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
        let e = FileSink::open_rw_with_locking(&path, FileLocking::Required).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock, "{e}");
        assert!(e.to_string().contains("already open"), "{e}");
        child.stdin.as_mut().unwrap().write_all(b"\n").unwrap();
        assert!(child.wait().unwrap().success());
    }

    // Once h5py has closed it, the sink gets the lock.
    let sink = FileSink::open_rw_with_locking(&path, FileLocking::Required).unwrap();
    assert_eq!(
        sink.len().unwrap(),
        std::fs::metadata(support::fixture("seed.h5"))
            .unwrap()
            .len()
    );
}
