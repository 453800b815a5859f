//! `h5sparse subset` against anndata itself: for every `.h5ad` fixture
//! (current, gzip, anndata ≤ 0.6 records, anndata 0.7 references) and two
//! files anndata writes here with every element subsetting touches, several
//! obs/var selections are cut by the CLI and compared, element by element,
//! with what anndata writes for `adata[obs, var].copy()`
//! (`tests/support/subset_oracle.py`: values, dtypes, scipy's structure of
//! every sparse matrix, and each object's encoding on disk).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use h5sparse::anndata::{AnnData, Axis, Selection};

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("subset");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Runs the CLI; returns (status ok, stderr).
fn cli(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_h5sparse"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The positions a selection text means on `axis`, for Python ("all" for
/// no selection); `anndata::Selection` is tested against pandas in
/// tests/select.rs.
fn positions(text: Option<&str>, adata: &AnnData, axis: Axis) -> String {
    match text {
        None => "all".to_string(),
        Some(t) => Selection::parse(t)
            .unwrap()
            .resolve(adata, axis)
            .unwrap()
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// A deterministic list of `k` positions below `n`, repeats possible.
fn scattered(n: u64, k: usize, seed: u64) -> String {
    let mut s = seed;
    (0..k)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 33) % n).to_string()
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn check_file(py: &Path, input: &Path, failures: &mut Vec<String>) {
    let adata = AnnData::open(&h5sparse::H5File::open(input).unwrap()).unwrap();
    let (n_obs, n_vars) = (adata.n_obs(), adata.n_vars());
    let name = input.file_name().unwrap().to_string_lossy().into_owned();
    let obs_list = scattered(n_obs, n_obs as usize, 3);
    let var_list = scattered(n_vars, n_vars as usize / 2 + 1, 5);
    // Names from a file, one a line: the last obs, then the first two.
    let obs_names = adata.obs_names().unwrap();
    let names = tmp(&format!("{name}-names.txt"));
    let last = &obs_names[obs_names.len() - 1];
    std::fs::write(
        &names,
        format!("{last}\n{}\n{}\n", obs_names[0], obs_names[1]),
    )
    .unwrap();
    let cases: Vec<(Option<String>, Option<String>, Vec<&str>)> = vec![
        (None, None, vec![]),
        (Some("::2".into()), Some("1:".into()), vec![]),
        (Some("3,1,3,0,-1".into()), Some("4,0,0,2".into()), vec![]),
        (
            Some("::-1".into()),
            Some("::-2".into()),
            vec!["--block-size", "64"],
        ),
        (Some(obs_list), Some(var_list), vec!["--block-size", "100"]),
        (Some("1:6".into()), None, vec!["--compression", "gzip=5"]),
        (None, Some("2,1".into()), vec![]),
        (Some("0:0".into()), None, vec![]),
        (Some(format!("@{}", names.display())), None, vec![]),
    ];
    // A column comparison on each axis where the frame has a categorical.
    let mut cases = cases;
    let first_categorical = |df: &h5sparse::anndata::DataFrame| {
        df.columns()
            .iter()
            .find(|c| c.kind == h5sparse::anndata::ColumnKind::Categorical)
            .map(|c| c.name.clone())
    };
    let snap = adata.file().snapshot().unwrap();
    for (df, is_obs) in [(adata.obs(), true), (adata.var(), false)] {
        if let Some(col) = first_categorical(df) {
            if let h5sparse::anndata::ColumnData::Categorical {
                categories: h5sparse::Values::Str(c),
                ..
            } = df.column(&snap, &col).unwrap()
            {
                let eq = format!("{col}=={}", c[0]);
                let ne = format!("{col}!={}", c[c.len() - 1]);
                if is_obs {
                    cases.push((Some(eq), None, vec![]));
                    cases.push((Some(ne), Some("::2".into()), vec![]));
                } else {
                    cases.push((None, Some(eq), vec![]));
                }
            }
        }
    }
    for (k, (obs, var, extra)) in cases.iter().enumerate() {
        let out = tmp(&format!("{name}-{k}.h5ad"));
        let mut args = vec!["subset", input.to_str().unwrap(), out.to_str().unwrap()];
        if let Some(o) = obs {
            args.extend(["--obs", o]);
        }
        if let Some(v) = var {
            args.extend(["--var", v]);
        }
        args.extend(extra.iter().copied());
        let (ok, err) = cli(&args);
        if !ok {
            failures.push(format!(
                "{name} case {k} ({obs:?}, {var:?}): CLI failed: {err}"
            ));
            continue;
        }
        let o = positions(obs.as_deref(), &adata, Axis::Obs);
        let v = positions(var.as_deref(), &adata, Axis::Var);
        let oracle = Command::new(py)
            .arg(support::repo_root().join("tests/support/subset_oracle.py"))
            .args([input.to_str().unwrap(), out.to_str().unwrap(), &o, &v])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&oracle.stdout);
        if !oracle.status.success() || !stdout.contains("EQUAL") {
            let stderr = String::from_utf8_lossy(&oracle.stderr);
            let last = stderr.lines().rev().take(3).collect::<Vec<_>>().join(" | ");
            failures.push(format!("{name} case {k} ({obs:?}, {var:?}): {last}"));
        }
    }
}

#[test]
fn subsets_equal_what_anndata_writes_for_every_fixture() {
    let Some(py) = support::require_python("anndata oracle").unwrap() else {
        return;
    };
    // Files with every element subsetting touches, written by anndata here.
    let dir = tmp("rich");
    std::fs::create_dir_all(&dir).unwrap();
    let made = Command::new(&py)
        .arg(support::repo_root().join("tests/support/subset_rich.py"))
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let mut files = support::h5ad_fixtures();
    files.push(dir.join("rich_csr.h5ad"));
    files.push(dir.join("rich_dense.h5ad"));
    let mut failures = Vec::new();
    for f in &files {
        check_file(&py, f, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn bad_selections_and_files_fail_in_one_line() {
    let input = support::fixture("anndata.h5ad");
    let out = tmp("bad.h5ad");
    let _ = std::fs::remove_file(&out);
    for (args, expect) in [
        (vec!["--obs", "20"], "out of range"),
        (vec!["--var", "1,x"], "--var 1,x"),
        (vec!["--block-size", "big"], "--block-size big"),
        (vec!["--compression", "zstd"], "--compression zstd"),
    ] {
        let mut all = vec!["subset", input.to_str().unwrap(), out.to_str().unwrap()];
        all.extend(args.iter().copied());
        let (ok, err) = cli(&all);
        assert!(!ok, "{args:?} succeeded");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} left {out:?} behind");
    }
    let (ok, err) = cli(&["subset", "/nonexistent.h5ad", out.to_str().unwrap()]);
    assert!(!ok && err.lines().count() == 1, "{err}");
    let seed = support::fixture("seed.h5");
    let (ok, err) = cli(&["subset", seed.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(!ok && err.lines().count() == 1, "{err}");
}
