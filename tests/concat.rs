//! `h5sparse concat` against anndata itself: inputs derived from the
//! fixtures by anndata (tests/support/concat_inputs.py: overlapping var
//! sets in different orders, different obs columns, categoricals with
//! different categories, CSR/CSC/dense X of different dtypes, layers and
//! obsm entries some inputs lack, raw), concatenated by the CLI, then
//! `anndata.read_h5ad(OUT)` compared element by element with what
//! `anndata.concat` writes for the same arguments, and with
//! `anndata.experimental.concat_on_disk`'s file where that function
//! handles the inputs (tests/support/concat_oracle.py).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

/// One concatenation: inputs, join, label, keys, index_unique, block
/// size, and whether concat_on_disk can run on the inputs.
struct Case {
    inputs: &'static [&'static str],
    join: &'static str,
    label: &'static str,
    keys: &'static str,
    index_unique: &'static str,
    block: &'static str,
    on_disk: bool,
}

const CASES: &[Case] = &[
    // Both CSR, var reordered: also against concat_on_disk.
    Case {
        inputs: &["a_plain", "b_plain"],
        join: "inner",
        label: "",
        keys: "",
        index_unique: "",
        block: "268435456",
        on_disk: true,
    },
    Case {
        inputs: &["a_plain", "b_plain", "a_plain"],
        join: "inner",
        label: "batch",
        keys: "",
        index_unique: "-",
        block: "64",
        on_disk: true,
    },
    // CSR float32 + CSR float64 + CSC int32, layers and obsm widths differ.
    Case {
        inputs: &["a", "b", "c"],
        join: "outer",
        label: "batch",
        keys: "x,y,z",
        index_unique: "-",
        block: "268435456",
        on_disk: false,
    },
    Case {
        inputs: &["a", "b", "c"],
        join: "outer",
        label: "",
        keys: "",
        index_unique: "",
        block: "48",
        on_disk: false,
    },
    Case {
        inputs: &["b", "c", "a"],
        join: "inner",
        label: "cell_type",
        keys: "k1,k2,k3",
        index_unique: "::",
        block: "100",
        on_disk: false,
    },
    // Dense X, every obs encoding, obsm dataframe and sparse, raw.
    Case {
        inputs: &["full_a", "full_b"],
        join: "inner",
        label: "",
        keys: "",
        index_unique: "_",
        block: "268435456",
        on_disk: false,
    },
    Case {
        inputs: &["full_a", "full_b"],
        join: "outer",
        label: "src",
        keys: "",
        index_unique: "",
        block: "40",
        on_disk: false,
    },
    // Sparse and dense X together (the result is CSR).
    Case {
        inputs: &["a", "full_b"],
        join: "outer",
        label: "b",
        keys: "",
        index_unique: "",
        block: "268435456",
        on_disk: false,
    },
    // Chunks out of order in the file: blocks copied as stored end where
    // a run of back-to-back chunks does.
    Case {
        inputs: &["gappy", "gappy", "gappy"],
        join: "inner",
        label: "",
        keys: "",
        index_unique: "-",
        block: "4096",
        on_disk: true,
    },
    Case {
        inputs: &["full_a", "c", "full_b"],
        join: "outer",
        label: "",
        keys: "",
        index_unique: "",
        block: "64",
        on_disk: false,
    },
];

fn h5sparse(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_h5sparse"))
        .arg("concat")
        .args(args)
        .output()
        .expect("run h5sparse")
}

#[test]
fn concat_equals_anndata_concat() {
    let Some(python) = support::require_python("concat").unwrap() else {
        return;
    };
    let dir = support::test_dir("concat");
    support::generate_inputs(&python, "concat_inputs.py", &dir);
    let oracle = support::repo_root().join("tests/support/concat_oracle.py");
    for (n, case) in CASES.iter().enumerate() {
        let paths: Vec<PathBuf> = case
            .inputs
            .iter()
            .map(|i| dir.join(format!("{i}.h5ad")))
            .collect();
        let out = dir.join(format!("out{n}.h5ad"));
        let mut args: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        args.extend(["-o".into(), out.display().to_string()]);
        args.extend(["--join".into(), case.join.into()]);
        args.extend(["--block-size".into(), case.block.into()]);
        for (flag, v) in [
            ("--label", case.label),
            ("--keys", case.keys),
            ("--index-unique", case.index_unique),
        ] {
            if !v.is_empty() {
                args.extend([flag.to_string(), v.to_string()]);
            }
        }
        // Every other case without the durability syncs: the same result.
        if n % 2 == 1 {
            args.push("--no-sync".into());
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = h5sparse(&argv);
        assert!(
            run.status.success(),
            "case {n}: h5sparse concat {argv:?} failed: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let check = Command::new(&python)
            .arg(&oracle)
            .arg(&out)
            .args([case.join, case.label, case.keys, case.index_unique])
            .arg(if case.on_disk { "1" } else { "0" })
            .args(&paths)
            .output()
            .expect("run the oracle");
        assert!(
            check.status.success() && String::from_utf8_lossy(&check.stdout).contains("EQUAL"),
            "case {n} ({:?} {} label={:?} keys={:?} index_unique={:?} block={}): {}",
            case.inputs,
            case.join,
            case.label,
            case.keys,
            case.index_unique,
            case.block,
            String::from_utf8_lossy(&check.stderr)
        );
    }
}

#[test]
fn concat_refuses_bad_arguments_in_one_line() {
    let a = support::fixture("anndata.h5ad");
    let a = a.to_str().unwrap();
    let dir = support::test_dir("concat-errors");
    let out = dir.join("out.h5ad");
    let out = out.to_str().unwrap();
    for (args, expect) in [
        (
            vec![a, a, "-o", out, "--keys", "x"],
            "1 keys given for 2 inputs",
        ),
        (
            vec![a, a, "-o", out, "--keys", "x,x"],
            "\"x\" appears more than once",
        ),
        (vec![a, "/no/such.h5ad", "-o", out], "/no/such.h5ad"),
    ] {
        let run = h5sparse(&args);
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success(), "{args:?} succeeded");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(!Path::new(out).exists(), "{args:?} left {out}");
    }
}

/// `--no-sync` skips only the syncs: the file written is the same, byte
/// for byte, for concat, subset and convert.
#[test]
fn no_sync_writes_the_same_file() {
    let a = support::fixture("anndata.h5ad");
    let a = a.to_str().unwrap();
    let dir = support::test_dir("concat-no-sync");
    let mtx = dir.join("m.mtx");
    std::fs::write(
        &mtx,
        "%%MatrixMarket matrix coordinate real general\n3 4 3\n1 1 1.5\n2 4 -2\n3 2 7\n",
    )
    .unwrap();
    let mtx = mtx.to_str().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_h5sparse"))
            .args(args)
            .output()
            .expect("run h5sparse");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let (synced, unsynced) = (dir.join("synced.h5ad"), dir.join("unsynced.h5ad"));
    let (s, u) = (synced.to_str().unwrap(), unsynced.to_str().unwrap());
    let commands: [&[&str]; 3] = [
        &[
            "concat",
            a,
            a,
            "-o",
            "OUT",
            "--index-unique",
            "-",
            "--block-size",
            "4K",
        ],
        &["subset", a, "OUT", "--obs", "0:40:3"],
        &["convert", mtx, "OUT"],
    ];
    for argv in commands {
        fn with<'a>(argv: &[&'a str], out: &'a str) -> Vec<&'a str> {
            argv.iter()
                .map(|&x| if x == "OUT" { out } else { x })
                .collect()
        }
        run(&with(argv, s));
        let mut args = with(argv, u);
        args.push("--no-sync");
        run(&args);
        let (x, y) = (
            std::fs::read(&synced).unwrap(),
            std::fs::read(&unsynced).unwrap(),
        );
        assert!(x.len() > 1000, "{argv:?}: {} bytes", x.len());
        assert!(
            x == y,
            "{argv:?}: the files differ ({} and {} bytes)",
            x.len(),
            y.len()
        );
        assert!(h5sparse::H5File::open(&unsynced)
            .unwrap()
            .sparse("X")
            .is_ok());
    }
}
