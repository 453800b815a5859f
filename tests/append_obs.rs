//! `h5sparse append-obs` against anndata: targets and sources written by
//! anndata (tests/support/append_inputs.py: every element and obs encoding,
//! new categories, values that convert, a CSC obsp, dense X, anndata ≤ 0.7
//! sources) or cut by `h5sparse subset` from the fixtures; after each append
//! `anndata.read_h5ad(TARGET)`, read with warnings as errors, is compared
//! element by element with what anndata, pandas and scipy build from the
//! target as it was and the sources (tests/support/append_oracle.py), and
//! h5dump reads the whole result. Every refusal leaves the target
//! byte-identical and says what is wrong in one line.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn h5sparse(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_h5sparse"))
        .args(args)
        .output()
        .expect("run h5sparse")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// `h5sparse subset IN OUT ARGS...`.
fn subset(input: &Path, out: &Path, args: &[&str]) {
    let mut all = vec!["subset", s(input), s(out), "-q"];
    all.extend(args);
    let run = h5sparse(&all);
    assert!(
        run.status.success(),
        "subset {all:?}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// Checks `result` (grown from `before` by `sources`) with the oracle and
/// h5dump.
fn check(python: &Path, result: &Path, before: &Path, drop_extra: bool, sources: &[PathBuf]) {
    let oracle = support::repo_root().join("tests/support/append_oracle.py");
    let out = Command::new(python)
        .arg(&oracle)
        .arg(result)
        .arg(before)
        .arg(if drop_extra { "1" } else { "0" })
        .args(sources)
        .current_dir(support::repo_root().join("tests/support"))
        .output()
        .expect("run the oracle");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("EQUAL"),
        "{} after {sources:?}: {}",
        result.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    match support::h5dump() {
        Some(h5dump) => {
            let run = Command::new(h5dump)
                .arg(result)
                .output()
                .expect("run h5dump");
            assert!(
                run.status.success(),
                "h5dump {}: {}",
                result.display(),
                String::from_utf8_lossy(&run.stderr)
            );
        }
        None if support::skip_external() => eprintln!("h5dump missing: skipped"),
        None => panic!("h5dump is missing (scripts/setup-system), or set H5SPARSE_SKIP_EXTERNAL=1"),
    }
}

/// Copies `target` to `dir/NAME.h5ad` and `dir/NAME.before.h5ad`, appends
/// each of `sources` in turn with `flags`, checks after each; returns the
/// last run's stdout.
fn append_and_check(
    python: &Path,
    dir: &Path,
    name: &str,
    target: &Path,
    sources: &[PathBuf],
    flags: &[&str],
) -> String {
    let result = dir.join(format!("{name}.h5ad"));
    let before = dir.join(format!("{name}.before.h5ad"));
    std::fs::copy(target, &result).unwrap();
    std::fs::copy(target, &before).unwrap();
    let mut stdout = String::new();
    for (k, src) in sources.iter().enumerate() {
        let mut args = vec!["append-obs", s(&result), s(src), "-q"];
        args.extend(flags);
        let run = h5sparse(&args);
        assert!(
            run.status.success(),
            "{name}: append-obs {args:?}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        stdout = String::from_utf8_lossy(&run.stdout).into_owned();
        check(
            python,
            &result,
            &before,
            flags.contains(&"--drop-extra"),
            &sources[..=k],
        );
    }
    stdout
}

#[test]
fn appended_files_equal_what_anndata_builds() {
    let Some(python) = support::require_python("append-obs").unwrap() else {
        return;
    };
    let dir = support::test_dir("append-obs");
    support::generate_inputs(&python, "append_inputs.py", &dir);
    let at = |n: &str| dir.join(n);
    let fixture = support::fixture;

    // Every element and encoding, twice in a row: the second append grows in
    // place what the first rewrote, except what it must rewrite again.
    let sources = [at("rich_s.h5ad"), at("rich_s2.h5ad")];
    for (name, block) in [("rich", "16M"), ("rich_tiny_blocks", "100")] {
        let out = append_and_check(
            &python,
            &dir,
            name,
            &at("rich_t.h5ad"),
            &sources,
            &["--block-size", block],
        );
        let rewritten = out
            .lines()
            .find(|l| l.starts_with("rewritten"))
            .unwrap_or("");
        for again in ["/obs/kind/codes", "/obs/kind/categories", "/obs/score"] {
            assert!(rewritten.contains(again), "{again} not rewritten: {out}");
        }
        for in_place in [
            "/obs/cell_id",
            "/obs/label",
            "/obs/note/values",
            "/obs/count",
            "/obs/flag",
            "/layers/dense",
            "/obsm/X_pca",
            "/X",
        ] {
            assert!(
                !rewritten.split(", ").any(|p| p.ends_with(in_place)),
                "{in_place} rewritten again: {out}"
            );
        }
    }
    append_and_check(
        &python,
        &dir,
        "csc_obsp",
        &at("csc_t.h5ad"),
        &[at("csc_s.h5ad")],
        &[],
    );
    append_and_check(
        &python,
        &dir,
        "full",
        &at("full_t.h5ad"),
        &[at("full_s.h5ad")],
        &["--block-size", "64"],
    );
    append_and_check(
        &python,
        &dir,
        "drop_extra",
        &at("rich_t.h5ad"),
        &[at("bad_extra.h5ad")],
        &["--drop-extra"],
    );

    // The fixtures: anndata's first cells with h5sparse's cut of the rest;
    // h5sparse's gzip cut with anndata's (gzip) rest.
    let rest = at("fx_anndata_s.h5ad");
    subset(&fixture("anndata.h5ad"), &rest, &["--obs", "12:"]);
    append_and_check(
        &python,
        &dir,
        "fx_anndata",
        &at("fx_anndata_t.h5ad"),
        &[rest],
        &[],
    );
    let first = at("fx_gzip_t.h5ad");
    subset(
        &fixture("anndata_gzip.h5ad"),
        &first,
        &["--obs", ":12", "--compression", "gzip"],
    );
    append_and_check(
        &python,
        &dir,
        "fx_gzip",
        &first,
        &[at("fx_gzip_s.h5ad")],
        &[],
    );

    // Sources in anndata ≤ 0.7's encodings (record arrays, referenced
    // categories), into their fixture rewritten by h5sparse subset.
    for (fx, src) in [
        ("anndata06_compound.h5ad", "legacy06_s.h5ad"),
        ("anndata07_refs.h5ad", "legacy07_s.h5ad"),
    ] {
        let target = at(&format!("{fx}.current.h5ad"));
        subset(&fixture(fx), &target, &[]);
        append_and_check(&python, &dir, src, &target, &[at(src)], &[]);
    }
}

#[test]
fn a_second_append_adds_strings_without_rewriting_the_old_ones() {
    let Some(python) = support::require_python("append-obs strings").unwrap() else {
        return;
    };
    let dir = support::test_dir("append-obs-strings");
    support::generate_inputs(&python, "append_inputs.py", &dir);
    let result = dir.join("grown.h5ad");
    let before = dir.join("before.h5ad");
    std::fs::copy(dir.join("rich_t.h5ad"), &result).unwrap();
    std::fs::copy(dir.join("rich_t.h5ad"), &before).unwrap();
    let sources = [dir.join("rich_s.h5ad"), dir.join("rich_s2.h5ad")];
    let strings = ["/obs/cell_id", "/obs/label", "/obs/note/values"];
    let append = |src: &Path| {
        let run = h5sparse(&["append-obs", s(&result), s(src), "-q"]);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        String::from_utf8_lossy(&run.stdout).into_owned()
    };
    // The first append makes the contiguous string datasets anndata wrote
    // chunked and growable (once)...
    let first = append(&sources[0]);
    for p in strings {
        assert!(
            first.contains(p),
            "{p} not rewritten by the first append: {first}"
        );
    }
    let grown = std::fs::read(&result).unwrap();
    let old: Vec<_> = strings
        .iter()
        .map(|p| support::vlen_storage(&grown, p))
        .collect();
    // ... the second only adds: the old rows keep their heap IDs, and every
    // collection they point into keeps every byte.
    let second = append(&sources[1]);
    for (p, (ids, heaps)) in strings.iter().zip(&old) {
        assert!(!second.contains(p), "{p} rewritten again: {second}");
        let bytes = std::fs::read(&result).unwrap();
        let (now_ids, _) = support::vlen_storage(&bytes, p);
        assert_eq!(now_ids.len(), ids.len() + 30 * 16, "{p}: 30 rows more");
        assert_eq!(
            &now_ids[..ids.len()],
            &ids[..],
            "{p}: the old rows' heap IDs changed"
        );
        for &(at, ref heap) in heaps {
            assert_eq!(
                &bytes[at..at + heap.len()],
                &heap[..],
                "{p}: collection at {at} changed"
            );
        }
        // The new rows' strings are in collections of their own.
        let new_collections: Vec<usize> = now_ids[ids.len()..]
            .chunks_exact(16)
            .map(|e| u64::from_le_bytes(e[4..12].try_into().unwrap()))
            .filter(|&a| a != u64::MAX)
            .map(|a| a as usize)
            .collect();
        assert!(
            new_collections
                .iter()
                .all(|a| heaps.iter().all(|h| h.0 != *a)),
            "{p}: new strings in an old collection"
        );
    }
    // anndata reads what pandas' concatenation of the three builds.
    check(&python, &result, &before, false, &sources);
}

#[test]
fn refusals_leave_the_target_untouched_and_say_why() {
    let Some(python) = support::require_python("append-obs refusals").unwrap() else {
        return;
    };
    let dir = support::test_dir("append-obs-refusals");
    support::generate_inputs(&python, "append_inputs.py", &dir);
    let at = |n: &str| dir.join(n);
    let fixture = support::fixture;
    let rich = at("rich_t.h5ad");
    let cases: Vec<(PathBuf, PathBuf, &str)> = vec![
        (
            rich.clone(),
            at("bad_no_column.h5ad"),
            "the source lacks what the target has: obs column \"count\"",
        ),
        (
            rich.clone(),
            at("bad_no_layer.h5ad"),
            "lacks what the target has: layers/dense",
        ),
        (
            rich.clone(),
            at("bad_no_obsm.h5ad"),
            "lacks what the target has: obsm/ids",
        ),
        (
            rich.clone(),
            at("bad_no_obsp.h5ad"),
            "lacks what the target has: obsp/dense_p",
        ),
        (
            rich.clone(),
            at("bad_no_meta_column.h5ad"),
            "lacks what the target has: obsm/meta column \"x\"",
        ),
        (
            rich.clone(),
            at("bad_no_raw.h5ad"),
            "lacks what the target has: raw/X",
        ),
        (
            rich.clone(),
            at("bad_extra.h5ad"),
            "the source has what the target lacks: layers/more, obs column \"extra\"",
        ),
        (
            rich.clone(),
            at("bad_var_order.h5ad"),
            "var: name 0 is \"gene0\" in the target, \"gene14\" in the source",
        ),
        (
            rich.clone(),
            at("bad_x_float64.h5ad"),
            "X: the target stores <f4, the source <f8",
        ),
        (
            rich.clone(),
            at("bad_ordered_new.h5ad"),
            "obs column \"level\": the target's categorical is ordered and the source brings \
             categories it lacks (\"extreme\")",
        ),
        (
            rich.clone(),
            at("bad_duplicate.h5ad"),
            "the source's cell \"t0\" is already in the target",
        ),
        (
            rich.clone(),
            at("bad_pca_width.h5ad"),
            "obsm/X_pca: expected shape [10, 5] in the source, found [10, 4]",
        ),
        (
            rich.clone(),
            at("bad_bool_score.h5ad"),
            "obs column \"score\": the target holds <f4, the source |b1",
        ),
        (
            rich.clone(),
            fixture("anndata.h5ad"),
            "var: the target has 15 names, the source 12",
        ),
        (
            fixture("anndata_full.h5ad"),
            at("full_s_csc.h5ad"),
            "layers/spliced: the target stores it as csc_matrix",
        ),
        (
            fixture("anndata06_compound.h5ad"),
            at("legacy06_s.h5ad"),
            "the target is an anndata ≤ 0.6 file",
        ),
        (
            fixture("anndata07_refs.h5ad"),
            at("legacy07_s.h5ad"),
            "the target's is anndata 0.7's referenced categorical",
        ),
    ];
    for (k, (target, source, expect)) in cases.iter().enumerate() {
        let copy = dir.join(format!("target{k}.h5ad"));
        std::fs::copy(target, &copy).unwrap();
        let run = h5sparse(&["append-obs", s(&copy), s(source)]);
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success(), "{source:?} was appended");
        assert_eq!(err.trim().lines().count(), 1, "{source:?}: {err}");
        assert!(err.contains(expect), "{source:?}: {err}");
        assert!(
            std::fs::read(&copy).unwrap() == std::fs::read(target).unwrap(),
            "{source:?}: the refused append changed the target"
        );
    }
    // A source whose damage shows only while its rows stream: the error
    // rolls the transaction back, and every reader sees the target as it was
    // (the file may have grown by what was written; nothing refers to it).
    let copy = dir.join("rolled_back.h5ad");
    std::fs::copy(&rich, &copy).unwrap();
    let run = h5sparse(&["append-obs", s(&copy), s(&at("bad_x_index.h5ad"))]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "a damaged X was appended");
    assert!(
        err.contains("X: the source's index 999 is out of range for 15 columns"),
        "{err}"
    );
    let dump = |p: &Path| h5sparse::dump::dump_json(&h5sparse::File::open(p).unwrap());
    assert_eq!(dump(&copy), dump(&rich));
    check(&python, &copy, &rich, false, &[]);

    // A source without cells: nothing to do, nothing written.
    let empty = dir.join("empty.h5ad");
    subset(&rich, &empty, &["--obs", "0:0"]);
    let copy = dir.join("nothing.h5ad");
    std::fs::copy(&rich, &copy).unwrap();
    let run = h5sparse(&["append-obs", s(&copy), s(&empty)]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains(": 0 cells appended to 40 (40 now)"));
    assert!(std::fs::read(&copy).unwrap() == std::fs::read(&rich).unwrap());

    // The same file twice.
    let copy = dir.join("self.h5ad");
    std::fs::copy(&rich, &copy).unwrap();
    let run = h5sparse(&["append-obs", s(&copy), s(&copy)]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success() && err.contains("appending a file to itself"),
        "{err}"
    );
    assert!(std::fs::read(&copy).unwrap() == std::fs::read(&rich).unwrap());
}

/// An append is one transaction: a crash after any of its writes leaves a
/// file that our reader, h5py and anndata (`sparse_dataset` and
/// `read_h5ad`) read exactly as the target before the append or after it.
#[test]
fn a_crash_at_any_write_of_an_append_shows_the_target_before_or_after() {
    crash_at_every_write("append-obs-crash", false);
}

/// The same once the string datasets are chunked and growable (a first
/// append made them so): the new strings are appended in place.
#[test]
fn a_crash_at_any_write_of_an_in_place_string_append_shows_the_target_before_or_after() {
    crash_at_every_write("append-obs-crash-growable", true);
}

/// Crashes an append of 8 cells to anndata's first 12 cells (with 4 more
/// appended first when `grown_first`) after each of its writes, and reads
/// every image with our reader, h5py and anndata.
fn crash_at_every_write(name: &str, grown_first: bool) {
    use h5sparse::anndata::{append_obs_in, AppendOptions};
    use h5sparse::io::sink::{FaultSink, MemSink};
    use h5sparse::write::Writer;

    let Some(python) = support::require_python("append-obs crash").unwrap() else {
        return;
    };
    let dir = support::test_dir(name);
    // anndata's first 12 cells (contiguous columns: rewritten and swapped),
    // h5sparse's cut of the other 8.
    let target = dir.join("target.h5ad");
    support::run_python(
        &python,
        "import sys, anndata as ad\n\
         ad.read_h5ad(sys.argv[1])[:12].copy().write_h5ad(sys.argv[2])\n",
        [
            support::fixture("anndata.h5ad").as_os_str(),
            target.as_os_str(),
        ],
    );
    let source = dir.join("source.h5ad");
    let cells = if grown_first { "16:" } else { "12:" };
    subset(
        &support::fixture("anndata.h5ad"),
        &source,
        &["--obs", cells],
    );
    if grown_first {
        let first = dir.join("first.h5ad");
        subset(
            &support::fixture("anndata.h5ad"),
            &first,
            &["--obs", "12:16"],
        );
        let run = h5sparse(&["append-obs", s(&target), s(&first), "-q"]);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let src = h5sparse::File::open(&source).unwrap();
    let start = std::fs::read(&target).unwrap();
    let opts = AppendOptions::default().block_bytes(4096);
    let append = |n: u64| {
        let sink = FaultSink::new(MemSink::from_bytes(start.clone()), n);
        let mut w = Writer::open_in(sink).unwrap();
        let done = append_obs_in(&mut w, &src, &opts, &mut |_, _| {});
        (w, done)
    };
    let dump = |bytes: &[u8]| {
        let f = h5sparse::File::from_bytes(bytes.to_vec()).expect("our reader opens the image");
        serde_json::from_str::<serde_json::Value>(&h5sparse::dump::dump_json(&f)).unwrap()
    };
    let (w, done) = append(u64::MAX);
    let done = done.unwrap();
    if grown_first {
        for p in ["/obs/_index", "/obs/cell_type/codes"] {
            assert!(
                !done.rewritten.contains(&p.to_string()),
                "{p} rewritten: {done:?}"
            );
        }
    }
    let after = w.sink().inner().bytes.clone();
    let total = w.sink().writes();
    let states = [dump(&start), dump(&after)];
    assert_ne!(states[0], states[1]);
    std::fs::write(dir.join("state_00.h5ad"), &start).unwrap();
    std::fs::write(dir.join("state_01.h5ad"), &after).unwrap();
    let (mut before, mut grown) = (0, 0);
    for n in 0..total {
        let (w, _) = append(n);
        assert!(w.sink().crashed(), "no crash at write {n} of {total}");
        let bytes = &w.sink().inner().bytes;
        let got = dump(bytes);
        if got == states[0] {
            before += 1;
        } else {
            assert_eq!(
                got, states[1],
                "crash after write {n}: neither before nor after"
            );
            grown += 1;
        }
        let img = dir.join(format!("crash_{n:05}.h5"));
        std::fs::write(&img, bytes).unwrap();
        let candidates = serde_json::json!([states[0], states[1]]);
        std::fs::write(
            img.with_extension("h5.candidates.json"),
            candidates.to_string(),
        )
        .unwrap();
        std::fs::write(img.with_extension("h5.states.json"), "[0, 1]").unwrap();
    }
    eprintln!("{total} writes: {before} crash images show the target before, {grown} after");
    assert!(before >= 10, "only {before} crash points inside the append");
    support::check_crash_images(&python, &dir);
}
