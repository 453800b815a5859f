//! The write path survives a crash at every write: after a simulated crash
//! (`FaultSink`) at any write of a sequence of operations, our reader and
//! h5py show the content before the interrupted operation or after it.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use h5sparse::io::sink::{FaultSink, MemSink};
use h5sparse::write::{CreateOptions, DatasetOptions, Format, Writer};
use h5sparse::File;
use support::dump_value as dump;

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("write-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// One operation of the crash test.
type CrashOp = Box<dyn Fn(&mut Writer<FaultSink<MemSink>>) -> h5sparse::Result<()>>;

/// The operations of the crash test, each one publishing atomically.
fn crash_ops() -> Vec<(&'static str, CrashOp)> {
    vec![
        ("create group", Box::new(|w| w.create_group("/X"))),
        (
            "create dataset",
            Box::new(|w| {
                w.create_dataset(
                    "/X/data",
                    &[3],
                    &[1i64, 2, 3],
                    &DatasetOptions::growable().chunks(&[2]),
                )
            }),
        ),
        (
            "set attribute",
            Box::new(|w| w.set_attr_str("/X", "h5sparse_format", "csr")),
        ),
        (
            "append",
            Box::new(|w| w.append("/X/data", &[4i64, 5, 6, 7])),
        ),
        (
            "set",
            Box::new(|w| w.write_slab("/X/data", &[1], &[4], &[20i64, 30, 40, 50])),
        ),
        (
            "overwrite attribute",
            Box::new(|w| w.set_attr_array("/X", "h5sparse_format", &[1i64, 2, 3, 4, 5, 6, 7, 8])),
        ),
        (
            "delete attribute",
            Box::new(|w| w.delete_attr("/X", "h5sparse_format")),
        ),
        (
            "create dataset 2",
            Box::new(|w| {
                w.create_dataset("/X/other", &[2], &[1.0f64, 2.0], &DatasetOptions::default())
            }),
        ),
        ("delete dataset", Box::new(|w| w.unlink("/X/data"))),
    ]
}

/// Operations that move a group's links and an object's attributes into
/// dense storage (past 8) and back (below 6), for the latest format.
fn dense_crash_ops() -> Vec<(&'static str, CrashOp)> {
    let mut ops: Vec<(&'static str, CrashOp)> =
        vec![("create group G", Box::new(|w| w.create_group("/G")))];
    for i in 0..9 {
        ops.push((
            "create member",
            Box::new(move |w| w.create_group(&format!("/G/m{i}"))),
        ));
        ops.push((
            "add attribute",
            Box::new(move |w| w.set_attr_array("/G", &format!("a{i}"), &[i as i64])),
        ));
    }
    for i in 0..4 {
        ops.push((
            "unlink member",
            Box::new(move |w| w.unlink(&format!("/G/m{i}"))),
        ));
        ops.push((
            "delete attribute",
            Box::new(move |w| w.delete_attr("/G", &format!("a{i}"))),
        ));
    }
    ops
}

#[test]
fn a_crash_at_any_write_leaves_the_old_or_the_new_content() {
    crash_test(
        &created(CreateOptions::default()),
        "crash-images",
        crash_ops(),
    );
}

#[test]
fn a_crash_at_any_write_of_a_latest_format_file_leaves_the_old_or_the_new_content() {
    let mut ops = crash_ops();
    ops.extend(dense_crash_ops());
    crash_test(
        &created(CreateOptions {
            format: Format::Latest,
        }),
        "crash-images-latest",
        ops,
    );
}

/// Appends that take a chunk B-tree of K = 2 (4 children a node) from one
/// node to three levels, splitting leaves and internal nodes and growing
/// the root, each rewriting the partial last chunk: a crash at any write
/// shows the file before or after the append, in our reader and in h5py.
#[test]
fn a_crash_at_any_write_of_appends_through_three_btree_levels_leaves_the_old_or_the_new_content() {
    let Some(py) = support::require_python("B-tree append crash test").unwrap() else {
        return;
    };
    let seed_path = tmp("k2_seed.h5");
    support::h5py_file_with_istore_k(
        &py,
        &seed_path,
        2,
        "f.create_dataset('a', data=np.arange(3), chunks=(2,), maxshape=(None,))\n\
         f.create_dataset('m', data=np.arange(6.0).reshape(2, 3), chunks=(2, 2), maxshape=(None, 3))",
    );
    let seed = std::fs::read(&seed_path).unwrap();
    let mut ops: Vec<(&'static str, CrashOp)> = Vec::new();
    for i in 0..12i64 {
        ops.push((
            "append",
            Box::new(move |w| w.append("/a", &[10 * i, 10 * i + 1, 10 * i + 2])),
        ));
        if i % 3 == 0 {
            let row = [i as f64, -(i as f64), 0.5];
            ops.push(("append a row", Box::new(move |w| w.append("/m", &row))));
        }
    }
    let start = |n| Writer::open_in(FaultSink::new(MemSink::from_bytes(seed.clone()), n));
    let last = crash_test(&start, "crash-images-btree", ops);
    // 39 elements in 2-element chunks: 20 chunks, 5 leaves, 3 levels.
    let f = File::from_bytes(last.clone()).unwrap();
    let a = f.dataset("/a").unwrap();
    assert_eq!(a.chunk_records().unwrap().len(), 20);
    assert_eq!(btree_height(&f, &last, "/a"), 3);
    let mut want: Vec<i64> = vec![0, 1, 2];
    want.extend((0..12).flat_map(|i| [10 * i, 10 * i + 1, 10 * i + 2]));
    assert_eq!(a.read::<i64>().unwrap(), want);
}

/// The number of levels of the v1 B-tree indexing the chunks of `path` in
/// `f`, opened from `bytes`.
fn btree_height(f: &File, bytes: &[u8], path: &str) -> u8 {
    use h5sparse::format::btree_v1::{chunk_key_size, BTreeV1Node, NODE_TYPE_CHUNK};
    use h5sparse::format::chunk_index::ChunkIndexKind;
    let d = f.dataset(path).unwrap();
    let Some(ChunkIndexKind::BtreeV1 { address }) = d.chunk_index() else {
        panic!("{path} has no v1 B-tree chunk index");
    };
    let view = h5sparse::format::FileView::new(bytes, h5sparse::format::Sizes::DEFAULT, 0);
    let rank = d.shape().unwrap().len();
    let root = BTreeV1Node::parse(
        &view,
        *address,
        NODE_TYPE_CHUNK,
        chunk_key_size(rank),
        &h5sparse::Limits::default(),
    )
    .unwrap();
    root.level + 1
}

/// Starts a crash-test run with `n` writes allowed: a new file.
fn created(opts: CreateOptions) -> impl Fn(u64) -> h5sparse::Result<Writer<FaultSink<MemSink>>> {
    move |n| Writer::create_in_with(FaultSink::new(MemSink::default(), n), &opts)
}

/// Runs `ops` on the file `start` makes, crashing after every write in
/// turn, and checks that each crash image shows the state before or after
/// the interrupted operation, in our reader and in h5py. Returns the file
/// after every operation.
fn crash_test(
    start: &dyn Fn(u64) -> h5sparse::Result<Writer<FaultSink<MemSink>>>,
    dir: &str,
    ops: Vec<(&'static str, CrashOp)>,
) -> Vec<u8> {
    // Reference states: S0 (the start) .. Sk after each operation.
    let mut w = start(u64::MAX).unwrap();
    let mut states = vec![dump(&w.sink().inner().bytes)];
    for (_, op) in &ops {
        op(&mut w).unwrap();
        states.push(dump(&w.sink().inner().bytes));
    }
    let total = w.sink().writes();
    let last = w.sink().inner().bytes.clone();
    let images = tmp(dir);
    let _ = std::fs::remove_dir_all(&images);
    std::fs::create_dir_all(&images).unwrap();
    let mut checked = 0;
    for n in 0..=total {
        let mut w = match start(n) {
            Ok(w) => w,
            Err(e) => panic!("start with crash after {n} writes: {e}"),
        };
        if w.sink().crashed() {
            continue; // the crash hit file creation itself, before any operation
        }
        let mut interrupted = None;
        for (i, (name, op)) in ops.iter().enumerate() {
            let _ = op(&mut w);
            if w.sink().crashed() {
                interrupted = Some((i, *name));
                break;
            }
        }
        let Some((i, name)) = interrupted else {
            continue;
        };
        let bytes = w.sink().inner().bytes.clone();
        let got = dump(&bytes);
        assert!(
            got == states[i] || got == states[i + 1],
            "crash after write {n}, during {name:?}: the file shows neither the state before nor after"
        );
        let img = images.join(format!("crash_{n:04}.h5"));
        std::fs::write(&img, &bytes).unwrap();
        let candidates = serde_json::Value::Array(vec![states[i].clone(), states[i + 1].clone()]);
        std::fs::write(
            img.with_extension("h5.candidates.json"),
            candidates.to_string(),
        )
        .unwrap();
        checked += 1;
    }
    println!("{checked} crash points checked out of {total} writes");
    assert!(
        checked >= ops.len(),
        "only {checked} crash points exercised"
    );
    // h5py must agree on every image.
    let py = support::python().expect("python with h5py (scripts/test installs .venv)");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check-crash-images.py");
    let out = Command::new(py).arg(script).arg(&images).output().unwrap();
    assert!(
        out.status.success(),
        "h5py disagrees:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    last
}
