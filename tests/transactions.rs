//! Transactions (issue 13): operations that every reader of the file (ours,
//! h5py on HDF5 2.0, anndata) sees whole or not at all, whatever write a
//! crash stops at.

mod support;

use std::path::Path;

use h5sparse::io::sink::{FaultSink, MemSink};
use h5sparse::sparse::{self, Sel, SparseDataset, SparseWriteOptions};
use h5sparse::write::{DatasetOptions, Writer};
use h5sparse::File;

type W = Writer<FaultSink<MemSink>>;
/// One transaction of a crash test.
type TxOp = Box<dyn Fn(&mut W) -> h5sparse::Result<()>>;

use support::dump_value as dump;

fn x_of(w: &mut W) -> h5sparse::Result<sprs::CsMat<f32>> {
    let f = w.reader()?;
    SparseDataset::open(&f, "/X")?.to_memory::<f32>()
}

/// The transactions users run on an `.h5ad`: each is one operation of the
/// sparse layer (several HDF5 operations underneath) or a hand-made group of
/// operations.
fn h5ad_ops() -> Vec<(&'static str, TxOp)> {
    vec![
        (
            "sparse::append of 4 rows to X",
            Box::new(|w| {
                let f = w.reader()?;
                let rows = SparseDataset::open(&f, "/X")?
                    .read::<f32>(&Sel::range(1, 5), &Sel::parse(":")?)?;
                drop(f);
                sparse::append(w, "/X", &rows)
            }),
        ),
        (
            "sparse::set of rows 0-1 of X (values doubled)",
            Box::new(|w| {
                let f = w.reader()?;
                let mut m = SparseDataset::open(&f, "/X")?
                    .read::<f32>(&Sel::range(0, 2), &Sel::parse(":")?)?;
                drop(f);
                m.map_inplace(|v| v * 2.0);
                sparse::set(w, "/X", &Sel::range(0, 2), &Sel::parse(":")?, &m)
            }),
        ),
        (
            "sparse::replace of X by its CSC form",
            Box::new(|w| {
                let csc = x_of(w)?.to_csc();
                sparse::replace(w, "/X", csc.view(), &SparseWriteOptions::default())
            }),
        ),
        (
            "a transaction of creates, attributes and an unlink",
            Box::new(|w| {
                w.transaction(|w| {
                    w.create_group("/uns/extra")?;
                    w.create_dataset(
                        "/uns/extra/v",
                        &[3],
                        &[1i64, 2, 3],
                        &DatasetOptions::growable().chunks(&[2]),
                    )?;
                    w.append("/uns/extra/v", &[4i64, 5])?;
                    w.set_attr_str("/obs", "note", "annotated")?;
                    w.unlink("/uns/note")?;
                    w.write_slab("/obsm/X_pca", &[0, 0], &[1, 3], &[9.0f32, 8.0, 7.0])
                })
            }),
        ),
        (
            "sparse::append of 2 columns' worth to the CSC X",
            Box::new(|w| {
                let x = x_of(w)?;
                let cols = x.to_csc();
                let two = cols.slice_outer(0..2).to_owned();
                sparse::append(w, "/X", &two)
            }),
        ),
    ]
}

/// Runs `ops` on `start` with a crash after every single write, and checks
/// each crashed image in our reader (its dump equals the state before or
/// after the interrupted transaction), in h5py (the same) and in anndata
/// (X through `sparse_dataset`, the file through `read_h5ad`).
fn crash_test(name: &str, start: &[u8], ops: &[(&'static str, TxOp)]) {
    let dir = support::test_dir(&format!("transactions-{name}"));
    let open = |n: u64| Writer::open_in(FaultSink::new(MemSink::from_bytes(start.to_vec()), n));
    let mut w = open(u64::MAX).unwrap();
    let mut states = vec![dump(start)];
    std::fs::write(dir.join("state_00.h5ad"), start).unwrap();
    for (i, (what, op)) in ops.iter().enumerate() {
        op(&mut w).unwrap_or_else(|e| panic!("{what}: {e}"));
        let bytes = &w.sink().inner().bytes;
        states.push(dump(bytes));
        std::fs::write(dir.join(format!("state_{:02}.h5ad", i + 1)), bytes).unwrap();
        assert_ne!(states[i], states[i + 1], "{what} changed nothing");
    }
    let total = w.sink().writes();
    let mut per_op = vec![0usize; ops.len()];
    for n in 0..total {
        let mut w = open(n).unwrap();
        let mut interrupted = None;
        for (i, (_, op)) in ops.iter().enumerate() {
            let _ = op(&mut w);
            if w.sink().crashed() {
                interrupted = Some(i);
                break;
            }
        }
        let i = interrupted.expect("a crash before the last write interrupts some transaction");
        let bytes = w.sink().inner().bytes.clone();
        let got = dump(&bytes);
        assert!(
            got == states[i] || got == states[i + 1],
            "{name}: crash after write {n}, during {:?}: our reader shows neither the state before nor after",
            ops[i].0
        );
        let img = dir.join(format!("crash_{n:05}.h5"));
        std::fs::write(&img, &bytes).unwrap();
        let candidates = serde_json::json!([states[i], states[i + 1]]);
        std::fs::write(
            img.with_extension("h5.candidates.json"),
            candidates.to_string(),
        )
        .unwrap();
        std::fs::write(
            img.with_extension("h5.states.json"),
            serde_json::json!([i, i + 1]).to_string(),
        )
        .unwrap();
        per_op[i] += 1;
    }
    for ((what, _), n) in ops.iter().zip(&per_op) {
        assert!(*n >= 2, "{name}: only {n} crash points inside {what:?}");
    }
    let py = support::python().expect("python with h5py and anndata (scripts/test installs .venv)");
    support::check_crash_images(&py, &dir);
}

#[test]
fn every_reader_sees_an_h5ad_transaction_whole_or_not_at_all() {
    let start = std::fs::read(support::fixture("anndata.h5ad")).unwrap();
    crash_test("earliest", &start, &h5ad_ops());
}

/// The same on an `.h5ad` in the latest format (superblock v3, v2 object
/// headers, link-message groups, extensible-array chunk indexes), as anndata
/// writes into an h5py file opened with `libver='latest'`.
#[test]
fn every_reader_sees_a_latest_format_transaction_whole_or_not_at_all() {
    let py = support::python().expect("python with anndata");
    let dir = support::test_dir("transactions-latest-input");
    let path = dir.join("latest.h5ad");
    support::run_python(
        &py,
        "import sys, anndata as ad, h5py\n\
         a = ad.read_h5ad(sys.argv[1])\n\
         with h5py.File(sys.argv[2], 'w', libver='latest') as f:\n    ad.io.write_elem(f, '/', a)\n",
        [support::fixture("anndata.h5ad").as_os_str(), path.as_os_str()],
    );
    let start = std::fs::read(&path).unwrap();
    assert_eq!(
        File::from_bytes(start.clone())
            .unwrap()
            .superblock_version(),
        3
    );
    crash_test("latest", &start, &h5ad_ops());
}

/// Without a crash, nothing of a transaction shows before its commit, in
/// any reader, and an error inside it leaves the file byte-identical for
/// every reader.
#[test]
fn a_transaction_shows_nothing_before_commit_and_nothing_after_an_error() {
    let start = std::fs::read(support::fixture("anndata.h5ad")).unwrap();
    let mut w = Writer::open_in(MemSink::from_bytes(start.clone())).unwrap();
    let before = dump(&start);
    w.begin().unwrap();
    let rows = {
        let f = w.reader().unwrap();
        let x = SparseDataset::open(&f, "/X").unwrap();
        x.read::<f32>(&Sel::range(0, 3), &Sel::parse(":").unwrap())
            .unwrap()
    };
    sparse::append(&mut w, "/X", &rows).unwrap();
    w.create_group("/uns/draft").unwrap();
    // The writer's own view has the changes; the file as published does not.
    let mine = w.reader().unwrap();
    assert_eq!(SparseDataset::open(&mine, "/X").unwrap().shape(), [23, 12]);
    assert_eq!(dump(&w.sink().bytes), before);
    w.rollback();
    assert_eq!(dump(&w.sink().bytes), before);
    assert_eq!(
        SparseDataset::open(&w.reader().unwrap(), "/X")
            .unwrap()
            .shape(),
        [20, 12]
    );

    let failed = w.transaction(|w| {
        sparse::append(w, "/X", &rows)?;
        w.create_group("/uns/note") // exists: the whole transaction fails
    });
    assert!(failed.is_err());
    assert_eq!(dump(&w.sink().bytes), before);

    // What h5py and anndata read after a committed transaction.
    w.transaction(|w| {
        sparse::append(w, "/X", &rows)?;
        sparse::append(w, "/layers/counts", &rows)
    })
    .unwrap();
    let path = support::test_dir("transactions-commit").join("after.h5ad");
    std::fs::write(&path, &w.sink().bytes).unwrap();
    let py = support::python().expect("python with anndata");
    let out = support::run_python(
        &py,
        "import sys, h5py, anndata as ad, numpy as np\n\
         f = h5py.File(sys.argv[1], 'r')\n\
         x = ad.io.sparse_dataset(f['X']).to_memory()\n\
         c = ad.io.sparse_dataset(f['layers/counts']).to_memory()\n\
         print(x.shape, c.shape, bool(np.array_equal(x[20:].toarray(), x[:3].toarray())), 'uns/draft' in f)\n",
        [path.as_os_str()],
    );
    assert_eq!(
        String::from_utf8_lossy(&out).trim(),
        "(23, 12) (23, 12) True False"
    );
    let _ = Path::new(&path);
}

/// An object reachable through two hard links cannot be copied for a
/// transaction without the other link still showing the old object: it is
/// refused, and nothing changes.
#[test]
fn a_hard_linked_object_is_refused_inside_a_transaction() {
    let mut w = Writer::create_in(MemSink::default()).unwrap();
    w.create_dataset("/a", &[2], &[1i32, 2], &DatasetOptions::growable())
        .unwrap();
    w.hard_link("/b", "/a").unwrap();
    let before = w.sink().bytes.clone();
    let err = w
        .transaction(|w| w.append("/a", &[3i32]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("2 hard links"), "{err}");
    assert_eq!(dump(&w.sink().bytes), dump(&before));
}
