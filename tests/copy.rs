//! `copy_file`, `h5sparse copy` and `h5sparse repack`: every fixture is
//! rewritten through our writer and must dump as its source does.
//!
//! ## What "dumps the same" means
//! Both files are dumped with `h5sparse::dump::dump_json` and compared as
//! parsed JSON after [`normalise`] removes only the storage details a copy
//! changes on purpose:
//!
//! * `superblock_version` is dropped from both (a copy is always version 0,
//!   the earliest format).
//! * A source dataset with `"layout": "compact"` loses `layout` in both (we
//!   write compact datasets contiguous).
//! * The source's `filters` keep only the filters we write (deflate 1,
//!   shuffle 2, fletcher32 3); the others (lzf 32000, ...) are dropped, as
//!   the copy drops them. The copy's filter list is compared as is.
//! * With [`Mode::Repack`], `layout` and `chunks` are dropped from every
//!   dataset in both (repack writes contiguous what does not need chunks).
//! * With [`Mode::Recompress`] (`--compression`), `layout`, `chunks` and
//!   `filters` are dropped from every dataset in both; the filters are
//!   checked separately.
//!
//! * An object reference names the object's first path in libhdf5's visiting
//!   order, which follows each group's native link order: name order in the
//!   copy's symbol tables, creation or hash order in a `latest` source. For
//!   an object with several hard links the two may name different aliases
//!   of the same object, so reference paths are replaced in both dumps by
//!   the alias that sorts first (the copy keeps hard links shared; the
//!   hard-link test checks that).
//!
//! Everything else must be equal: every path, kind, link list, soft and
//! external link target, dtype, shape, maximum shape, value and attribute.
//!
//! ## Optional fixtures
//! [`OPTIONAL`] lists the fixtures holding an object the issue allows to
//! abort the copy ("An unsupported object aborts the copy with a clear error
//! and leaves no DST behind"), with the reason. For them the CLI must exit
//! non-zero, print one line naming the object, and leave no DST (nor a
//! temporary file) behind.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use h5sparse::write::{copy_file, CopyOptions, Writer};
use h5sparse::File;
use serde_json::Value;

/// Fixtures whose copy must abort: (file, the object the error must name,
/// why it cannot be copied).
const OPTIONAL: &[(&str, &str, &str)] = &[(
    "filters_unsupported.h5",
    "/scaleoffset",
    "its data sit behind the scaleoffset and zstd filters, which we cannot decode",
)];

/// Fixtures that must be among those whose copies h5py (HDF5 2.0) and h5dump
/// (HDF5 1.10) validate (every fixture that copies is).
const CHECKED_WITH_LIBHDF5: &[&str] = &[
    "seed.h5",
    "anndata.h5ad",
    "anndata_gzip.h5ad",
    "tenx.h5",
    "dtypes.h5",
    "strings.h5",
    "libver_earliest.h5",
    "libver_latest.h5",
    "group_200_symbol_table.h5",
    "group_200_dense.h5",
    "layouts.h5",
    "dataspaces.h5",
    "hardlink_cycle.h5",
    "links.h5",
    "links_latest.h5",
    "filters.h5",
    "track_order.h5",
    "compound.h5",
    "compound_latest.h5",
    "references.h5",
    "references_latest.h5",
    "arrays_enums_opaque_vlen.h5",
    "arrays_enums_opaque_vlen_latest.h5",
    "unsupported_types.h5",
    "anndata06_compound.h5ad",
    "anndata07_refs.h5ad",
];

/// Which storage changes the comparison tolerates (see the module docs).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Copy,
    Repack,
    Recompress,
}

/// Every fixture with an expected-contents JSON beside it.
fn fixtures() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(support::repo_root().join("fixtures"))
        .expect("fixtures/ exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".h5") || n.ends_with(".h5ad"))
        .filter(|n| support::fixture(&format!("{n}.json")).is_file())
        .collect();
    out.sort();
    out
}

/// Fixtures only the latest format can hold (an 80 KB attribute does not fit
/// one v1 object header message; libhdf5 needs dense attribute storage):
/// copied without `--libver` (the source's format), and refused in the
/// earliest format with an error naming the flag.
const NEEDS_LATEST: &[&str] = &["attrs_dense.h5"];

fn is_optional(name: &str) -> bool {
    OPTIONAL.iter().any(|(n, ..)| *n == name) || NEEDS_LATEST.contains(&name)
}

fn dump_of(path: &Path) -> Value {
    let f = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&h5sparse::dump::dump_json(&f)).expect("the dump is JSON")
}

/// Drops from `src` and `dst` the details `mode` changes on purpose.
fn normalise(src: &mut Value, dst: &mut Value, mode: Mode) {
    const WRITTEN_FILTERS: [u64; 3] = [1, 2, 3];
    for v in [&mut *src, &mut *dst] {
        if let Some(o) = v.as_object_mut() {
            o.remove("superblock_version");
        }
    }
    let Some(src_objects) = src.get_mut("objects").and_then(Value::as_object_mut) else {
        return;
    };
    let dst_objects = dst.get_mut("objects").and_then(Value::as_object_mut);
    let mut drop: Vec<(String, &'static str)> = Vec::new();
    for (path, obj) in src_objects.iter_mut() {
        if obj.get("kind").and_then(Value::as_str) != Some("dataset") {
            continue;
        }
        if let Some(filters) = obj.get_mut("filters").and_then(Value::as_array_mut) {
            filters.retain(|f| {
                f.get("id")
                    .and_then(Value::as_u64)
                    .is_some_and(|id| WRITTEN_FILTERS.contains(&id))
            });
        }
        if obj.get("layout").and_then(Value::as_str) == Some("compact") {
            drop.push((path.clone(), "layout"));
        }
        if mode != Mode::Copy {
            drop.push((path.clone(), "layout"));
            drop.push((path.clone(), "chunks"));
        }
        if mode == Mode::Recompress {
            drop.push((path.clone(), "filters"));
        }
    }
    for (path, key) in &drop {
        if let Some(o) = src_objects.get_mut(path).and_then(Value::as_object_mut) {
            o.remove(*key);
        }
    }
    if let Some(dst_objects) = dst_objects {
        for (path, key) in &drop {
            if let Some(o) = dst_objects.get_mut(path).and_then(Value::as_object_mut) {
                o.remove(*key);
            }
        }
    }
}

/// Every object path of `path`'s file → the path that sorts first among
/// the hard-link aliases of the same object.
fn first_aliases(path: &Path) -> std::collections::HashMap<String, String> {
    let f = File::open(path).unwrap();
    let dump = dump_of(path);
    let mut by_address: std::collections::HashMap<u64, Vec<String>> = Default::default();
    for p in dump["objects"]
        .as_object()
        .into_iter()
        .flat_map(|o| o.keys())
    {
        let address = match f.get(p) {
            Ok(h5sparse::Node::Group(g)) => g.address().0,
            Ok(h5sparse::Node::Dataset(d)) => d.address().0,
            _ => continue,
        };
        by_address.entry(address).or_default().push(p.clone());
    }
    let mut out = std::collections::HashMap::new();
    for mut paths in by_address.into_values() {
        paths.sort();
        for p in &paths {
            out.insert(p.clone(), paths[0].clone());
        }
    }
    out
}

/// Replaces every `object_reference` / `region_reference` path by its
/// first alias.
fn canonical_references(v: &mut Value, aliases: &std::collections::HashMap<String, String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if k == "object_reference" || k == "region_reference" {
                    if let Some(first) = x.as_str().and_then(|p| aliases.get(p)) {
                        *x = Value::String(first.clone());
                    }
                } else {
                    canonical_references(x, aliases);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| canonical_references(x, aliases)),
        _ => {}
    }
}

/// Every difference between two JSON values, one line each (first 20).
fn differences(a: &Value, b: &Value) -> Vec<String> {
    fn walk(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    match (x.get(k), y.get(k)) {
                        (Some(p), Some(q)) => walk(p, q, &format!("{at}.{k}"), out),
                        (p, q) => out.push(format!("{at}.{k}: source {p:?}, copy {q:?}")),
                    }
                }
            }
            _ if a != b => {
                let short = |v: &Value| v.to_string().chars().take(120).collect::<String>();
                out.push(format!("{at}: source {}, copy {}", short(a), short(b)));
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(a, b, "", &mut out);
    out.truncate(20);
    out
}

/// Copies `src` into `dst` with `copy_file`.
fn copy(src: &Path, dst: &Path, opts: &CopyOptions) -> h5sparse::Result<()> {
    let f = File::open(src)?;
    let mut w = Writer::create(dst)?;
    copy_file(&f, &mut w, opts)?;
    w.close()?;
    Ok(())
}

/// Copies every non-optional fixture with `opts` and compares the dumps
/// under `mode`; returns one failure line per fixture that differs.
fn round_trip_all(dir: &Path, opts: &CopyOptions, mode: Mode) -> Vec<String> {
    let mut failures = Vec::new();
    for name in fixtures().iter().filter(|n| !is_optional(n)) {
        let src = support::fixture(name);
        let dst = dir.join(name);
        if let Err(e) = copy(&src, &dst, opts) {
            failures.push(format!("{name}: copy failed: {e}"));
            continue;
        }
        let (mut a, mut b) = (dump_of(&src), dump_of(&dst));
        normalise(&mut a, &mut b, mode);
        let aliases = first_aliases(&src);
        canonical_references(&mut a, &aliases);
        canonical_references(&mut b, &aliases);
        let diff = differences(&a, &b);
        if !diff.is_empty() {
            failures.push(format!("{name} ({mode:?}):\n    {}", diff.join("\n    ")));
        }
    }
    failures
}

#[test]
fn fixture_list_is_what_we_expect() {
    let all = fixtures();
    assert!(
        all.len() >= 30,
        "found only {} fixtures: {all:?}",
        all.len()
    );
    for (name, ..) in OPTIONAL {
        assert!(
            all.iter().any(|n| n == name),
            "optional {name} is no fixture"
        );
    }
    for name in CHECKED_WITH_LIBHDF5 {
        assert!(all.iter().any(|n| n == name), "{name} is no fixture");
        assert!(!is_optional(name), "{name} is optional");
    }
}

#[test]
fn copy_round_trips_every_non_optional_fixture() {
    let dir = support::test_dir("copy-round-trip");
    let failures = round_trip_all(&dir, &CopyOptions::default(), Mode::Copy);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn repack_round_trips_every_non_optional_fixture() {
    let dir = support::test_dir("copy-repack-round-trip");
    let opts = CopyOptions {
        repack: true,
        ..Default::default()
    };
    let failures = round_trip_all(&dir, &opts, Mode::Repack);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs the CLI; returns (success, stderr).
fn cli(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_h5sparse"))
        .args(args)
        .output()
        .expect("run h5sparse");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// No file but `keep` is left in `dir` (no DST, no temporary file).
fn assert_only(dir: &Path, keep: &[&str]) {
    let mut left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect();
    left.sort();
    assert!(
        left.is_empty(),
        "left behind in {}: {left:?}",
        dir.display()
    );
}

#[test]
fn optional_fixtures_abort_naming_the_object_and_leave_no_dst() {
    let dir = support::test_dir("copy-optional");
    for (name, object, why) in OPTIONAL {
        let dst = dir.join(name);
        let src = support::fixture(name);
        let (ok, stderr) = cli(&["copy", src.to_str().unwrap(), dst.to_str().unwrap()]);
        assert!(!ok, "{name} ({why}): copy succeeded");
        assert_eq!(stderr.lines().count(), 1, "{name}: stderr {stderr:?}");
        assert!(
            stderr.starts_with("h5sparse: error: ") && stderr.contains(object),
            "{name}: the error should name {object}: {stderr:?}"
        );
        assert!(!dst.exists(), "{name}: DST left behind");
        assert_only(&dir, &[]);
        // copy_file reports the same object.
        let err = copy(&src, &dir.join("lib.h5"), &CopyOptions::default()).unwrap_err();
        assert!(err.to_string().contains(object), "{name}: {err}");
        std::fs::remove_file(dir.join("lib.h5")).unwrap();
    }
}

#[test]
fn copies_read_back_in_h5py_and_h5dump() {
    let dir = support::test_dir("copy-libhdf5");
    // links.h5 and links_latest.h5 point into links_target.h5: keep it beside.
    std::fs::copy(
        support::fixture("links_target.h5"),
        dir.join("links_target.h5"),
    )
    .unwrap();
    let mut failures = Vec::new();
    // Every fixture that copies, old and new (CHECKED_WITH_LIBHDF5 lists
    // the ones that must be among them).
    let all = fixtures();
    for name in all.iter().filter(|n| !is_optional(n)) {
        let dst = dir.join(format!("copy_{name}"));
        copy(&support::fixture(name), &dst, &CopyOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let ours = h5sparse::dump::dump_json(&File::open(&dst).unwrap());
        if let Err(e) = support::check_written(&dst, &ours) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Shared objects stay shared: libhdf5 sees one object with two links, and
/// its reference count says so.
#[test]
fn hard_links_keep_objects_shared_with_libhdf5_reference_counts() {
    let dir = support::test_dir("copy-hard-links");
    let dst = dir.join("cycle.h5");
    copy(
        &support::fixture("hardlink_cycle.h5"),
        &dst,
        &CopyOptions::default(),
    )
    .unwrap();
    let f = File::open(&dst).unwrap();
    let root = f.root().unwrap().address();
    assert_eq!(f.group("/self").unwrap().address(), root);
    assert_eq!(
        f.group("/a/b/loop").unwrap().address(),
        f.group("/a").unwrap().address()
    );
    let py = match support::require_python("hard link reference counts") {
        Ok(Some(py)) => py,
        Ok(None) => return,
        Err(e) => panic!("{e}"),
    };
    let script = "import sys, h5py\n\
                  f = h5py.File(sys.argv[1], 'r')\n\
                  print([h5py.h5o.get_info(f[p].id).rc for p in ('/', '/a', '/a/b', '/a/b/leaf')])\n";
    let out = Command::new(py)
        .args(["-c", script, dst.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[2, 2, 1, 1]");
}

fn dataset_entries(dump: &Value) -> Vec<(String, Value)> {
    dump["objects"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, o)| o["kind"] == "dataset")
        .map(|(p, o)| (p.clone(), o.clone()))
        .collect()
}

#[test]
fn cli_copy_with_gzip_and_shuffle_compresses_every_dataset() {
    let dir = support::test_dir("copy-cli-gzip");
    for name in ["tenx.h5", "anndata.h5ad", "dtypes.h5"] {
        let src = support::fixture(name);
        let dst = dir.join(name);
        let (ok, stderr) = cli(&[
            "copy",
            src.to_str().unwrap(),
            dst.to_str().unwrap(),
            "--compression",
            "gzip=6",
            "--shuffle",
        ]);
        assert!(ok, "{name}: {stderr}");
        let copied = dump_of(&dst);
        for (path, o) in dataset_entries(&copied) {
            if o["shape"].as_array().is_none_or(|s| s.is_empty()) {
                continue; // scalars and null dataspaces are not chunked
            }
            assert_eq!(o["layout"], "chunked", "{name}{path}");
            let filters: Vec<(u64, Vec<Value>)> = o["filters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["id"].as_u64().unwrap(),
                        f["cd_values"].as_array().unwrap().clone(),
                    )
                })
                .collect();
            assert_eq!(filters.len(), 2, "{name}{path}: {filters:?}");
            assert_eq!(filters[0].0, 2, "{name}{path}: shuffle first");
            assert_eq!(filters[1], (1, vec![Value::from(6)]), "{name}{path}");
        }
        let (mut a, mut b) = (dump_of(&src), copied);
        normalise(&mut a, &mut b, Mode::Recompress);
        let diff = differences(&a, &b);
        assert!(diff.is_empty(), "{name}:\n{}", diff.join("\n"));
    }
}

#[test]
fn cli_repack_drops_deleted_objects_and_dumps_identically() {
    let dir = support::test_dir("copy-cli-repack");
    let src = dir.join("edited.h5ad");
    std::fs::copy(support::fixture("anndata.h5ad"), &src).unwrap();
    {
        let mut w = Writer::open(&src).unwrap();
        let f = File::open(&src).unwrap();
        let names: Vec<String> = f
            .root()
            .unwrap()
            .links()
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .filter(|n| n != "X")
            .collect();
        drop(f);
        assert!(!names.is_empty());
        for n in &names {
            w.unlink(&format!("/{n}")).unwrap();
        }
        w.close().unwrap();
    }
    let dst = dir.join("repacked.h5ad");
    let (ok, stderr) = cli(&["repack", src.to_str().unwrap(), dst.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    let (src_len, dst_len) = (
        std::fs::metadata(&src).unwrap().len(),
        std::fs::metadata(&dst).unwrap().len(),
    );
    assert!(
        dst_len < src_len,
        "repacked {dst_len} bytes, source {src_len}"
    );
    let (mut a, mut b) = (dump_of(&src), dump_of(&dst));
    normalise(&mut a, &mut b, Mode::Repack);
    let diff = differences(&a, &b);
    assert!(diff.is_empty(), "{}", diff.join("\n"));
    // Growable datasets stay chunked; fixed ones become contiguous.
    for (path, o) in dataset_entries(&dump_of(&dst)) {
        let growable = o["maxshape"] != o["shape"];
        let filtered = !o["filters"].as_array().unwrap().is_empty();
        let chunked = o["layout"] == "chunked";
        assert_eq!(chunked, growable || filtered, "{path}: {o}");
    }
}

#[test]
fn cli_bad_arguments_fail_with_one_line_and_leave_no_dst() {
    let dir = support::test_dir("copy-cli-bad-args");
    let src = support::fixture("seed.h5");
    let src = src.to_str().unwrap();
    let dst: PathBuf = dir.join("out.h5");
    let dst_s = dst.to_str().unwrap();
    let missing = dir.join("missing.h5");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["copy", src, dst_s, "--compression", "lz4"], "lz4"),
        (
            vec!["copy", src, dst_s, "--compression", "gzip=12"],
            "gzip=12",
        ),
        (vec!["copy", src, dst_s, "--libver", "nope"], "nope"),
        (vec!["copy", missing.to_str().unwrap(), dst_s], "missing.h5"),
        (
            vec!["repack", missing.to_str().unwrap(), dst_s],
            "missing.h5",
        ),
    ];
    for (args, named) in cases {
        let (ok, stderr) = cli(&args);
        assert!(!ok, "{args:?} succeeded");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr:?}");
        assert!(
            stderr.starts_with("h5sparse: error: ") && stderr.contains(named),
            "{args:?}: {stderr:?}"
        );
        assert!(!dst.exists(), "{args:?} left DST");
        assert_only(&dir, &[]);
    }
    // A missing argument is a usage error (clap's, several lines), still no DST.
    let (ok, _) = cli(&["copy", src]);
    assert!(!ok);
    assert_only(&dir, &[]);
}

/// The writer capabilities the copy relies on, used directly: a second hard
/// link in a link-message group, a committed datatype, a null dataspace
/// dataset; h5py and h5dump read them, and a v2 header is refused.
#[test]
fn writer_hard_links_committed_types_and_null_datasets() {
    use h5sparse::write::DatasetOptions;
    use h5sparse::{ByteOrder, Dtype};
    let dir = support::test_dir("copy-writer-capabilities");
    let path = dir.join("caps.h5");
    let i2 = Dtype::Int {
        size: 2,
        signed: true,
        order: ByteOrder::Little,
    };
    {
        let mut w = Writer::create(&path).unwrap();
        w.create_link_group("/links").unwrap();
        w.create_dataset("/links/x", &[2], &[1i32, 2], &DatasetOptions::default())
            .unwrap();
        w.hard_link("/links/y", "/links/x").unwrap();
        w.hard_link("/x_again", "/links/x").unwrap();
        w.hard_link("/links/up", "/links").unwrap();
        w.commit_datatype("/t", &i2).unwrap();
        w.create_dataset_null("/empty", &i2).unwrap();
        assert!(w.hard_link("/links/x", "/t").is_err(), "name taken");
        assert!(w.hard_link("/z", "/nowhere").is_err());
        w.close().unwrap();
    }
    let f = File::open(&path).unwrap();
    let x = f.dataset("/links/x").unwrap().address();
    assert_eq!(f.dataset("/links/y").unwrap().address(), x);
    assert_eq!(
        f.dataset("/x_again").unwrap().read::<i32>().unwrap(),
        [1, 2]
    );
    assert_eq!(f.dataset("/empty").unwrap().shape(), None);
    let ours = h5sparse::dump::dump_json(&f);
    support::check_written(&path, &ours).unwrap();

    let latest = support::fixture("libver_latest.h5");
    let v2 = dir.join("latest.h5");
    std::fs::copy(&latest, &v2).unwrap();
    let f = File::open(&v2).unwrap();
    let first = f.root().unwrap().links().unwrap().remove(0).name;
    drop(f);
    let mut w = Writer::open(&v2).unwrap();
    let err = w.hard_link("/again", &format!("/{first}")).unwrap_err();
    assert!(
        err.to_string().contains("whose object header is version 2"),
        "{err}"
    );
}

/// anndata 0.7 files keep their categorical columns through a copy: the
/// `categories` attribute is an object reference, which must point to the
/// copied `__categories` dataset (anndata itself reads both and compares).
#[test]
fn anndata_reads_categoricals_through_copied_references() {
    let Some(py) = support::require_python("anndata after copy").unwrap() else {
        return;
    };
    let dir = support::test_dir("copy-anndata07");
    let src = support::fixture("anndata07_refs.h5ad");
    let dst = dir.join("copy.h5ad");
    copy(&src, &dst, &CopyOptions::default()).unwrap();
    let script = format!(
        "import warnings, anndata\n\
         warnings.simplefilter('ignore')\n\
         a = anndata.read_h5ad({src:?})\n\
         b = anndata.read_h5ad({dst:?})\n\
         assert str(a.obs['cell_type'].dtype) == 'category', a.obs.dtypes\n\
         assert a.obs.equals(b.obs) and a.var.equals(b.var), (a.obs, b.obs)\n\
         assert list(b.obs['cell_type'].cat.categories) == list(a.obs['cell_type'].cat.categories)\n\
         assert (a.X != b.X).nnz == 0\n\
         print('ok')\n",
        src = src.display().to_string(),
        dst = dst.display().to_string(),
    );
    let out = Command::new(py).arg("-c").arg(script).output().unwrap();
    assert!(
        out.status.success(),
        "anndata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Without `--libver` the copy keeps the source's format, which can hold an
/// 80 KB attribute; `--libver earliest` cannot, and says which flag can.
#[test]
fn copy_keeps_the_sources_format_when_only_it_holds_the_content() {
    let dir = support::test_dir("copy-needs-latest");
    for name in NEEDS_LATEST {
        let src = support::fixture(name);
        let dst = dir.join(name);
        let (ok, stderr) = cli(&["copy", src.to_str().unwrap(), dst.to_str().unwrap()]);
        assert!(ok, "{name}: {stderr}");
        let (mut a, mut b) = (dump_of(&src), dump_of(&dst));
        normalise(&mut a, &mut b, Mode::Copy);
        let diff = differences(&a, &b);
        assert!(diff.is_empty(), "{name}:\n{}", diff.join("\n"));
        assert!(File::open(&dst).unwrap().superblock_version() >= 2);
        let early = dir.join(format!("early_{name}"));
        let (ok, stderr) = cli(&[
            "copy",
            "--libver",
            "earliest",
            src.to_str().unwrap(),
            early.to_str().unwrap(),
        ]);
        assert!(!ok, "{name}: an earliest copy succeeded");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("--libver latest"), "{stderr}");
        assert!(!early.exists());
    }
}
