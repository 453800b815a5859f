//! Appends to chunked datasets indexed by version 1 B-trees copy the
//! tree's right-most path only; libhdf5 must keep reading and modifying
//! the trees that leaves, sibling links included.

mod support;

use std::path::Path;

use h5sparse::format::btree_v1::{chunk_key_size, BTreeV1Node, NODE_TYPE_CHUNK};
use h5sparse::format::chunk_index::ChunkIndexKind;
use h5sparse::format::{FileView, Sizes};
use h5sparse::write::Writer;
use h5sparse::File;

/// What the three datasets should hold.
#[derive(Debug, Default, PartialEq)]
struct Model {
    a: Vec<i64>,
    /// Rows of 5.
    m: Vec<f64>,
    z: Vec<i32>,
}

impl Model {
    fn check(&self, path: &Path) {
        let f = File::open(path).unwrap();
        assert_eq!(f.dataset("/a").unwrap().read::<i64>().unwrap(), self.a);
        let m = f.dataset("/m").unwrap();
        assert_eq!(m.shape().unwrap(), &[self.m.len() as u64 / 5, 5]);
        assert_eq!(m.read::<f64>().unwrap(), self.m);
        assert_eq!(f.dataset("/z").unwrap().read::<i32>().unwrap(), self.z);
    }

    /// Saves the expected values beside `path` for the Python side.
    fn save(&self, path: &Path) {
        let bytes = |v: Vec<u8>, ext: &str| std::fs::write(path.with_extension(ext), v).unwrap();
        bytes(
            self.a.iter().flat_map(|x| x.to_le_bytes()).collect(),
            "a.bin",
        );
        bytes(
            self.m.iter().flat_map(|x| x.to_le_bytes()).collect(),
            "m.bin",
        );
        bytes(
            self.z.iter().flat_map(|x| x.to_le_bytes()).collect(),
            "z.bin",
        );
    }

    /// Loads what the Python side saved.
    fn load(path: &Path) -> Model {
        let read = |ext: &str| std::fs::read(path.with_extension(ext)).unwrap();
        Model {
            a: read("a.bin")
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
                .collect(),
            m: read("m.bin")
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
                .collect(),
            z: read("z.bin")
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes(b.try_into().unwrap()))
                .collect(),
        }
    }

    /// `steps` appends in small pieces, of one to seven elements or one to
    /// three rows, through our writer; with `in_transactions`, each step's
    /// appends are one transaction (the trees' roots move).
    fn append(&mut self, path: &Path, steps: i64, seed: i64, in_transactions: bool) {
        let mut w = Writer::open(path).unwrap();
        for i in 0..steps {
            if in_transactions {
                w.begin().unwrap();
            }
            let base = seed + 1000 * i;
            let a: Vec<i64> = (0..i % 7 + 1).map(|j| base + j).collect();
            w.append("/a", &a).unwrap();
            self.a.extend(&a);
            if i % 4 == 0 {
                let rows = (i / 4) % 3 + 1;
                let m: Vec<f64> = (0..rows * 5).map(|j| (base + j) as f64 / 4.0).collect();
                w.append("/m", &m).unwrap();
                self.m.extend(&m);
            }
            let z: Vec<i32> = (0..i % 5 + 1).map(|j| (base - j) as i32).collect();
            w.append("/z", &z).unwrap();
            self.z.extend(&z);
            if in_transactions {
                w.commit().unwrap();
            }
        }
        drop(w.close().unwrap());
    }
}

/// The number of levels of the v1 B-tree indexing `path`'s chunks.
fn btree_height(file: &Path, path: &str) -> u8 {
    let bytes = std::fs::read(file).unwrap();
    let f = File::from_bytes(bytes.clone()).unwrap();
    let d = f.dataset(path).unwrap();
    let Some(ChunkIndexKind::BtreeV1 { address }) = d.chunk_index() else {
        panic!("{path} has no v1 B-tree chunk index");
    };
    let view = FileView::new(&bytes, Sizes::DEFAULT, 0);
    let rank = d.shape().unwrap().len();
    let limits = h5sparse::Limits::default();
    let root = BTreeV1Node::parse(
        &view,
        *address,
        NODE_TYPE_CHUNK,
        chunk_key_size(rank),
        &limits,
    );
    root.unwrap().level + 1
}

/// h5py checks the file against the saved values, then libhdf5 appends
/// to every dataset, shrinks it by whole leaves (removing nodes, which
/// joins their siblings' links), grows it again, and saves what it holds.
const H5PY_CHECKS_AND_MODIFIES: &str = r#"
import sys
import h5py, numpy as np
path, stem = sys.argv[1], sys.argv[1].rsplit('.', 1)[0]
want = {
    'a': np.fromfile(stem + '.a.bin', '<i8'),
    'm': np.fromfile(stem + '.m.bin', '<f8').reshape(-1, 5),
    'z': np.fromfile(stem + '.z.bin', '<i4'),
}
with h5py.File(path, 'r+') as f:
    for name, w in want.items():
        got = f[name][...]
        assert got.shape == w.shape, (name, got.shape, w.shape)
        assert np.array_equal(got, w), (name, np.flatnonzero(got.ravel() != w.ravel())[:5])
    for i in range(20):
        for name, n in (('a', 3), ('m', 2), ('z', 5)):
            d = f[name]
            old = d.shape[0]
            d.resize(old + n, axis=0)
            d[old:] = (np.arange(n * (5 if name == 'm' else 1)) - 7 * i).reshape((n,) + d.shape[1:])
    for name, cut in (('a', 1500), ('m', 100), ('z', 1000)):
        d = f[name]
        d.resize(d.shape[0] - cut, axis=0)
        old = d.shape[0]
        d.resize(old + 9, axis=0)
        d[old:] = -1
    for name in want:
        f[name][...].astype(want[name].dtype).tofile(stem + '.' + name + '.bin')
"#;

#[test]
fn a_thousand_small_appends_to_h5py_trees_of_k_2_read_in_h5py_which_then_modifies_them() {
    appends_then_h5py_modifies("btree-append", false);
}

/// The same through transactions: each step's copied path is published by
/// the superblock, and libhdf5 must be able to modify the result as well.
#[test]
fn a_thousand_small_transactional_appends_read_in_h5py_which_then_modifies_them() {
    appends_then_h5py_modifies("btree-append-tx", true);
}

/// A file made by h5py with chunk B-trees of K = 2 in `dir`, holding
/// `np.arange` of `a` elements in `a` (chunks of 4), `m` rows of 5 in `m`
/// (chunks 2 x 3) and `z` elements in `z` (chunks of 8, gzip and shuffle),
/// and its model.
fn k2_file(py: &Path, dir: &Path, a: i64, m: i64, z: i32) -> (std::path::PathBuf, Model) {
    let path = dir.join("k2.h5");
    support::h5py_file_with_istore_k(
        py,
        &path,
        2,
        &format!(
            "f.create_dataset('a', data=np.arange({a}), chunks=(4,), maxshape=(None,))\n\
             f.create_dataset('m', data=np.arange({}.0).reshape({m}, 5), chunks=(2, 3), \
             maxshape=(None, 5))\n\
             f.create_dataset('z', data=np.arange({z}, dtype='i4'), chunks=(8,), \
             maxshape=(None,), compression='gzip', shuffle=True)",
            m * 5
        ),
    );
    let model = Model {
        a: (0..a).collect(),
        m: (0..m * 5).map(|x| x as f64).collect(),
        z: (0..z).collect(),
    };
    (path, model)
}

/// libhdf5 checks the file against `model` and modifies it
/// ([`H5PY_CHECKS_AND_MODIFIES`]); then our appends continue the trees it
/// left, and h5py and h5dump read the result. `check_h5py` looks at the
/// model as libhdf5 left it.
fn h5py_modifies_then_we_append(
    py: &Path,
    path: &Path,
    model: &Model,
    in_transactions: bool,
    check_h5py: impl Fn(&Model),
) {
    model.save(path);
    support::run_python(py, H5PY_CHECKS_AND_MODIFIES, [path]);
    let mut model = Model::load(path);
    check_h5py(&model);
    model.check(path);
    model.append(path, 100, -500_000, in_transactions);
    model.check(path);
    let ours = h5sparse::dump::dump_json(&File::open(path).unwrap());
    support::check_written(path, &ours).unwrap();
}

fn appends_then_h5py_modifies(name: &str, in_transactions: bool) {
    let Some(py) = support::require_python("B-tree appends with h5py").unwrap() else {
        return;
    };
    let (path, mut model) = k2_file(&py, &support::test_dir(name), 5, 3, 3);
    model.append(&path, 1000, 1, in_transactions);
    model.check(&path);
    // Nodes of 4 children: about 1000 chunks of `a` make 5 levels, 250
    // rows of 2 chunks 4, 370 chunks of `z` 5.
    for name in ["/a", "/m", "/z"] {
        assert!(btree_height(&path, name) >= 4, "{name}");
    }
    h5py_modifies_then_we_append(&py, &path, &model, in_transactions, |m| {
        assert_eq!(m.a.len(), model_len(5, 1000, |i| i % 7 + 1) + 60 - 1500 + 9);
    });
}

/// `start` plus the sum of `piece(i)` for `i` in `0..steps`.
fn model_len(start: usize, steps: i64, piece: impl Fn(i64) -> i64) -> usize {
    start + (0..steps).map(piece).sum::<i64>() as usize
}

/// Addresses of every node of the v1 B-tree indexing `path`'s chunks (the
/// root first), and of its right-most path below the root.
fn btree_nodes(file: &Path, path: &str) -> (Vec<u64>, Vec<u64>) {
    let bytes = std::fs::read(file).unwrap();
    let f = File::from_bytes(bytes.clone()).unwrap();
    let d = f.dataset(path).unwrap();
    let Some(ChunkIndexKind::BtreeV1 { address }) = d.chunk_index() else {
        panic!("{path} has no v1 B-tree chunk index");
    };
    let view = FileView::new(&bytes, Sizes::DEFAULT, 0);
    let key = chunk_key_size(d.shape().unwrap().len());
    let limits = h5sparse::Limits::default();
    let mut out = Vec::new();
    let mut todo = vec![*address];
    while let Some(a) = todo.pop() {
        out.push(a.0);
        let node = BTreeV1Node::parse(&view, a, NODE_TYPE_CHUNK, key, &limits).unwrap();
        if node.level > 0 {
            todo.extend(node.children.iter().copied());
        }
    }
    let mut right = Vec::new();
    let mut at = *address;
    loop {
        let node = BTreeV1Node::parse(&view, at, NODE_TYPE_CHUNK, key, &limits).unwrap();
        if node.level == 0 {
            break;
        }
        at = *node.children.last().unwrap();
        right.push(at.0);
    }
    (out, right)
}

/// Appends of whole chunks leave the last chunk full: when the last leaf
/// is full too, it is kept as it is (shared by both versions, only its
/// right link fixed after the publish) and new leaves follow it, instead
/// of being copied. libhdf5 then reads and modifies the trees.
#[test]
fn whole_chunk_appends_keep_full_right_most_nodes_and_h5py_modifies_the_trees() {
    for in_transactions in [false, true] {
        let Some(py) = support::require_python("B-tree appends with h5py").unwrap() else {
            return;
        };
        let dir = support::test_dir(&format!("btree-keep-{in_transactions}"));
        let (path, mut model) = k2_file(&py, &dir, 4, 2, 8);
        let mut kept = 0;
        for i in 0..400i64 {
            let (_, before) = btree_nodes(&path, "/a");
            let mut w = Writer::open(&path).unwrap();
            if in_transactions {
                w.begin().unwrap();
            }
            let a: Vec<i64> = (0..4).map(|j| 10 * i + j).collect();
            w.append("/a", &a).unwrap();
            let m: Vec<f64> = (0..10).map(|j| (i * 10 + j) as f64 / 2.0).collect();
            w.append("/m", &m).unwrap();
            let z: Vec<i32> = (0..8).map(|j| (i * 8 - j) as i32).collect();
            w.append("/z", &z).unwrap();
            if in_transactions {
                w.commit().unwrap();
            }
            drop(w.close().unwrap());
            model.a.extend(&a);
            model.m.extend(&m);
            model.z.extend(&z);
            // A node of the old tree's right-most path (below the root)
            // survives only when it was kept.
            let (after, _) = btree_nodes(&path, "/a");
            if before.iter().any(|n| after.contains(n)) {
                kept += 1;
            }
        }
        model.check(&path);
        assert!(kept >= 80, "full right-most nodes kept {kept} times of 400");
        assert!(btree_height(&path, "/a") >= 4);
        h5py_modifies_then_we_append(&py, &path, &model, in_transactions, |m| {
            assert_eq!(m.a.len(), 4 + 400 * 4 + 60 - 1500 + 9);
        });
    }
}
