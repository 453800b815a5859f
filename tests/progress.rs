//! Progress bars of the long commands: `copy` and `repack` draw a bytes-done
//! bar on stderr only when it is a terminal (run under a pseudo-terminal by
//! util-linux `script`, or Python's `pty` module), never when stderr is a
//! pipe, and with `--quiet` print nothing at all; the byte total is the
//! datasets' payload as h5py sizes it.

mod support;

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_h5sparse");

/// Runs `args` with stdin, stdout and stderr on a pseudo-terminal; what the
/// terminal received (stdout and stderr together). `None` when neither
/// `script` nor Python is available.
fn under_pty(args: &[&str]) -> Option<String> {
    let quoted: Vec<String> = std::iter::once(BIN)
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    let line = quoted.join(" ");
    let script = Path::new("/usr/bin/script");
    let out = if script.is_file() {
        Command::new(script)
            .args(["-qec", &line, "/dev/null"])
            .output()
            .expect("run script")
    } else {
        let py = support::python()?;
        Command::new(py)
            .arg("-c")
            .arg("import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)")
            .arg(BIN)
            .args(args)
            .output()
            .expect("run python pty")
    };
    assert!(out.status.success(), "{line}: {out:?}");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn copy_is_silent_when_stderr_is_not_a_terminal() {
    let dir = support::test_dir("progress_silent");
    for (cmd, src) in [
        ("copy", "anndata.h5ad"),
        ("repack", "anndata.h5ad"),
        ("convert", "tenx_v3.h5"),
    ] {
        let dst = dir.join(format!("{cmd}.h5ad"));
        let out = Command::new(BIN)
            .arg(cmd)
            .arg(support::fixture(src))
            .arg(&dst)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert!(
            out.stderr.is_empty(),
            "{cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty());
        assert!(dst.is_file());
    }
}

#[test]
fn copy_draws_a_bar_on_a_terminal() {
    let dir = support::test_dir("progress_tty");
    let src = support::fixture("anndata.h5ad");
    let src = src.to_str().unwrap();
    let dst = dir.join("copy.h5ad");
    let Some(tty) = under_pty(&["copy", src, dst.to_str().unwrap()]) else {
        assert!(
            support::skip_external(),
            "no script(1) and no Python for a pty"
        );
        return;
    };
    // The finished bar: full, every byte counted.
    let total = h5sparse::write::payload_bytes(&h5sparse::File::open(src).unwrap()).unwrap();
    assert!(tty.contains("copying ["), "{tty:?}");
    assert!(tty.contains(&format!("[{}]", "=".repeat(30))), "{tty:?}");
    assert!(total > 1024, "{total}");
    let dst2 = dir.join("repack.h5ad");
    let tty = under_pty(&["repack", src, dst2.to_str().unwrap()]).unwrap();
    assert!(tty.contains("repacking ["), "{tty:?}");
    let tenx = support::fixture("tenx_v3.h5");
    let dst4 = dir.join("convert.h5ad");
    let tty = under_pty(&["convert", tenx.to_str().unwrap(), dst4.to_str().unwrap()]).unwrap();
    assert!(tty.contains("converting ["), "{tty:?}");
    assert!(tty.contains(&format!("[{}]", "=".repeat(30))), "{tty:?}");
    // --quiet: nothing at all, even on a terminal.
    let dst3 = dir.join("quiet.h5ad");
    let tty = under_pty(&["--quiet", "copy", src, dst3.to_str().unwrap()]).unwrap();
    assert!(tty.is_empty(), "{tty:?}");
    assert!(dst3.is_file());
}

/// `payload_bytes`, the bar's total, against h5py: each dataset's element
/// count times its file datatype's size, each object once.
#[test]
fn payload_bytes_is_what_h5py_sizes() {
    let Some(py) = support::require_python("h5py payload sizes").unwrap() else {
        return;
    };
    const SIZES: &str = r#"
import sys, h5py
for path in sys.argv[1:]:
    seen, total = set(), 0
    def visit(name, obj):
        global total
        if isinstance(obj, h5py.Dataset) and h5py.h5o.get_info(obj.id).addr not in seen:
            seen.add(h5py.h5o.get_info(obj.id).addr)
            if obj.shape is not None:
                t = obj.id.get_type()
                # On disk a variable-length element is a 16-byte global heap
                # reference (4-byte length, 8-byte collection address, 4-byte
                # index); h5py reports the 8-byte in-memory pointer instead.
                size = 16 if isinstance(t, h5py.h5t.TypeVlenID) or (
                    isinstance(t, h5py.h5t.TypeStringID) and t.is_variable_str()) else t.get_size()
                total += obj.size * size
    with h5py.File(path, "r") as f:
        f.visititems(visit)
    print(total)
"#;
    let names = [
        "anndata.h5ad",
        "anndata07_refs.h5ad",
        "seed.h5",
        "tenx.h5",
        "strings.h5",
    ];
    let paths: Vec<_> = names.iter().map(|n| support::fixture(n)).collect();
    let stdout = support::run_python(&py, SIZES, &paths);
    let want: Vec<u64> = String::from_utf8(stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    for ((name, path), want) in names.iter().zip(&paths).zip(want) {
        let got = h5sparse::write::payload_bytes(&h5sparse::File::open(path).unwrap()).unwrap();
        assert_eq!(got, want, "{name}");
    }
}
