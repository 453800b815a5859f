//! The streaming engines against a naive model: the matrix in memory,
//! indexed entry by entry as scipy indexes it.

use sprs::{CsMat, TriMat};

use super::dense::{DenseSink, DenseSubset};
use super::frame::{prune_categories, Palette, PaletteEdits};
use super::sparse::{SparseSink, SparseSubset};
use super::Take;
use crate::anndata::ColumnData;
use crate::read::{H5Type, Values};
use crate::sparse::IndexType;
use crate::H5File;

/// Collects pushed blocks into one matrix (values as f64, indices u64).
#[derive(Default)]
struct Collect {
    indptr: Vec<u64>,
    indices: Vec<u64>,
    data: Vec<f64>,
    pushes: usize,
}

impl SparseSink for Collect {
    fn push<T: H5Type, I: IndexType + H5Type>(
        &mut self,
        indptr: &[I],
        indices: &[I],
        data: &[T],
    ) -> crate::Result<()> {
        assert_eq!(indptr[0].index(), 0);
        assert_eq!(indptr[indptr.len() - 1].index(), indices.len());
        let base = *self.indptr.last().unwrap_or(&0);
        if self.indptr.is_empty() {
            self.indptr.push(0);
        }
        self.indptr
            .extend(indptr[1..].iter().map(|p| base + p.index() as u64));
        self.indices
            .extend(indices.iter().map(|c| c.index() as u64));
        // The tests store f32 values.
        let v: &[f32] = bytemuck::cast_slice(data);
        self.data.extend(v.iter().map(|&x| f64::from(x)));
        self.pushes += 1;
        Ok(())
    }
}

/// A deterministic pseudo-random CSR matrix with sorted rows.
fn matrix(rows: usize, cols: usize, seed: u64) -> CsMat<f32> {
    let mut s = seed;
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 33) as usize
    };
    let mut t = TriMat::new((rows, cols));
    for r in 0..rows {
        for c in 0..cols {
            if next() % 3 == 0 {
                t.add_triplet(r, c, (next() % 100) as f32 + 1.0);
            }
        }
    }
    t.to_csr()
}

/// scipy's `m[rows][:, cols]` on a CSR: each row's stored entries in
/// order, each sent to every output column that picks it (ascending).
fn model(m: &CsMat<f32>, rows: &[usize], cols: Option<&[usize]>) -> (Vec<u64>, Vec<u64>, Vec<f64>) {
    let (mut ptr, mut idx, mut val) = (vec![0u64], Vec::new(), Vec::new());
    for &r in rows {
        let row = m.outer_view(r).unwrap();
        for (c, &v) in row.iter() {
            match cols {
                None => {
                    idx.push(c as u64);
                    val.push(f64::from(v));
                }
                Some(cols) => {
                    for (o, &k) in cols.iter().enumerate() {
                        if k == c {
                            idx.push(o as u64);
                            val.push(f64::from(v));
                        }
                    }
                }
            }
        }
        ptr.push(idx.len() as u64);
    }
    (ptr, idx, val)
}

fn takes(n: usize) -> Vec<Take> {
    vec![
        Take::All,
        Take::Indices((0..n as u64).rev().collect()),
        Take::Indices(vec![3, 1, 3, 0, (n - 1) as u64]),
        Take::Indices((0..n as u64).step_by(3).collect()),
        Take::Indices(vec![]),
        Take::Indices((2..n as u64 - 1).collect()),
    ]
}

#[test]
fn sparse_blocks_match_the_model_csr_and_csc() {
    let m = matrix(23, 17, 7);
    let f = H5File::in_memory().unwrap();
    f.create_sparse("X", &m, &Default::default()).unwrap();
    f.create_sparse("Y", &m.to_csc(), &Default::default())
        .unwrap();
    let transposed = m.transpose_view().to_csr();
    for rows in takes(23) {
        for cols in takes(17) {
            let r: Vec<usize> = (0..rows.len(23)).map(|i| rows.get(i) as usize).collect();
            let c: Vec<usize> = (0..cols.len(17)).map(|i| cols.get(i) as usize).collect();
            for block in [1usize, 40, 1 << 20] {
                // CSR: rows are the major axis.
                let plan = SparseSubset::plan(f.sparse("X").unwrap(), &rows, &cols, block).unwrap();
                assert_eq!(plan.shape(), [r.len() as u64, c.len() as u64]);
                let mut got = Collect::default();
                plan.run(&mut got, &mut |_| {}).unwrap();
                let cols_sel = matches!(cols, Take::Indices(_)).then_some(&c[..]);
                let want = model(&m, &r, cols_sel);
                assert_eq!(
                    (got.indptr, got.indices, got.data),
                    want,
                    "{rows:?} {cols:?} {block}"
                );
                // CSC: columns are the major axis, rows the minor one.
                let plan = SparseSubset::plan(f.sparse("Y").unwrap(), &rows, &cols, block).unwrap();
                assert_eq!(plan.shape(), [r.len() as u64, c.len() as u64]);
                let mut got = Collect::default();
                plan.run(&mut got, &mut |_| {}).unwrap();
                let rows_sel = matches!(rows, Take::Indices(_)).then_some(&r[..]);
                let want_csc = model(&transposed, &c, rows_sel);
                assert_eq!(
                    (got.indptr, got.indices, got.data),
                    want_csc,
                    "csc {rows:?} {cols:?}"
                );
                if block == 1 && !c.is_empty() {
                    assert_eq!(
                        got.pushes,
                        c.len(),
                        "one line per block at the smallest budget"
                    );
                }
            }
        }
    }
}

#[test]
fn sparse_out_of_range_selection_is_refused() {
    let m = matrix(5, 4, 1);
    let f = H5File::in_memory().unwrap();
    f.create_sparse("X", &m, &Default::default()).unwrap();
    let (rows, cols) = (Take::Indices(vec![5]), Take::All);
    let e = SparseSubset::plan(f.sparse("X").unwrap(), &rows, &cols, 1024).unwrap_err();
    assert!(e.to_string().contains("out of range for 5"), "{e}");
}

#[derive(Default)]
struct Bytes(Vec<u8>, usize);

impl DenseSink for Bytes {
    fn push_raw(&mut self, rows: &[u8]) -> crate::Result<()> {
        self.0.extend_from_slice(rows);
        self.1 += 1;
        Ok(())
    }
}

#[test]
fn dense_blocks_match_the_model() {
    let (n, k) = (31usize, 6usize);
    let a = ndarray::Array2::from_shape_fn((n, k), |(i, j)| (i * 100 + j) as i64);
    let f = H5File::in_memory().unwrap();
    f.create_array("A", &a, &Default::default()).unwrap();
    let snap = f.snapshot().unwrap();
    let mut many = takes(n);
    // Scattered picks (the run-by-run path) and dense ones (covering read).
    many.push(Take::Indices(vec![30, 0, 15, 0]));
    for rows in &many {
        for cols in [None, Some(Take::Indices(vec![5, 0, 0, 2])), Some(Take::All)] {
            for block in [8usize, 100, 1 << 20] {
                let plan = DenseSubset::plan(&snap, "/A", rows, cols.as_ref(), block).unwrap();
                let mut got = Bytes::default();
                plan.run(&snap, &mut got, &mut |_| {}).unwrap();
                let got: Vec<i64> = got
                    .0
                    .chunks_exact(8)
                    .map(|b| i64::from_ne_bytes(b.try_into().unwrap()))
                    .collect();
                let mut want = Vec::new();
                for i in 0..rows.len(n as u64) {
                    let r = rows.get(i) as usize;
                    match &cols {
                        None => want.extend(a.row(r).iter().copied()),
                        Some(c) => {
                            want.extend((0..c.len(k as u64)).map(|j| a[[r, c.get(j) as usize]]))
                        }
                    }
                }
                assert_eq!(got, want, "{rows:?} {cols:?} {block}");
                let shape = plan.shape();
                assert_eq!(shape[0], rows.len(n as u64));
            }
        }
    }
}

#[test]
fn categories_are_pruned_in_order_and_palettes_follow() {
    let col = ColumnData::Categorical {
        codes: vec![2, -1, 0, 2],
        categories: Values::Str(vec!["a".into(), "b".into(), "c".into()]),
        ordered: true,
    };
    let (pruned, kept) = prune_categories(col).unwrap();
    assert_eq!(kept, Some(vec![0, 2]));
    assert_eq!(
        pruned,
        ColumnData::Categorical {
            codes: vec![1, -1, 0, 1],
            categories: Values::Str(vec!["a".into(), "c".into()]),
            ordered: true,
        }
    );
    let colors = |v: &[&str]| Values::Str(v.iter().map(|s| s.to_string()).collect());
    let mut edits = PaletteEdits::default();
    edits
        .apply("t", 3, &[0, 2], |_| {
            Ok(Some((colors(&["#1", "#2", "#3"]), false)))
        })
        .unwrap();
    // The wrong length: dropped, as anndata drops it.
    edits
        .apply("u", 3, &[0], |_| Ok(Some((colors(&["#1"]), false))))
        .unwrap();
    // A 0-d palette becomes 1-d, whole.
    edits
        .apply("s", 3, &[1], |_| Ok(Some((colors(&["#9"]), true))))
        .unwrap();
    edits.apply("none", 3, &[1], |_| Ok(None)).unwrap();
    assert_eq!(
        edits.edits["t_colors"],
        Palette::Colors(colors(&["#1", "#3"]))
    );
    assert_eq!(edits.edits["u_colors"], Palette::Dropped);
    assert_eq!(edits.edits["s_colors"], Palette::Colors(colors(&["#9"])));
    assert!(!edits.edits.contains_key("none_colors"));
}
