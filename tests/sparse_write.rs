//! Changing stored sparse matrices: set (only where entries exist), append,
//! replace, checked against the same change made in memory.

use h5sparse::io::sink::MemSink;
use h5sparse::sparse::{self, write_matrix, Sel, SparseDataset, SparseWriteOptions};
use h5sparse::write::Writer;
use h5sparse::{Error, File};
use proptest::prelude::*;
use sprs::{CsMat, TriMat};

fn mat(rows: usize, cols: usize, cells: &[(usize, usize, f32)], csc: bool) -> CsMat<f32> {
    let mut t = TriMat::new((rows, cols));
    for &(r, c, v) in cells {
        t.add_triplet(r, c, v);
    }
    if csc {
        t.to_csc()
    } else {
        t.to_csr()
    }
}

fn cells(rows: usize, cols: usize) -> impl Strategy<Value = Vec<(usize, usize, f32)>> {
    proptest::collection::btree_set((0..rows, 0..cols), 0..(rows * cols).min(20)).prop_map(|s| {
        s.into_iter()
            .enumerate()
            .map(|(i, (r, c))| (r, c, i as f32 + 0.5))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn set_append_and_replace_match_memory(
        (rows, cols, base, extra_rows, extra_cols) in (1usize..7, 1usize..7)
            .prop_flat_map(|(r, c)| (Just(r), Just(c), cells(r, c), cells(3, c), cells(r, 3))),
        csc in any::<bool>(),
        gzip in any::<bool>(),
        scale in -3.0f32..3.0,
    ) {
        let m = mat(rows, cols, &base, csc);
        let opts = SparseWriteOptions { compression: gzip.then_some(1), chunk_len: Some(3), int64_indices: false };
        let mut w = Writer::create_in(MemSink::default()).unwrap();
        write_matrix(&mut w, "/X", m.view(), &opts).unwrap();

        // Set every stored entry of rows 0.. to scale*value: same structure.
        let scaled = m.map(|v| v * scale);
        sparse::set(&mut w, "/X", &Sel::All, &Sel::All, &scaled).unwrap();
        let f = w.reader().unwrap();
        let x = SparseDataset::open(&f, "/X").unwrap();
        prop_assert_eq!(x.to_memory::<f32>().unwrap().to_dense(), scaled.to_dense());
        drop(f);

        // A nonzero where nothing is stored is refused and writes nothing.
        if let Some((r, c)) = (0..rows).flat_map(|r| (0..cols).map(move |c| (r, c))).find(|&(r, c)| m.get(r, c).is_none()) {
            let before = w.sink().bytes.clone();
            let one = mat(1, 1, &[(0, 0, 7.0)], false);
            let err = sparse::set(&mut w, "/X", &Sel::Index(r as i64), &Sel::Index(c as i64), &one).unwrap_err();
            prop_assert!(matches!(err, Error::InvalidArgument(_)));
            prop_assert!(err.to_string().contains("sparsity structure"));
            prop_assert_eq!(&w.sink().bytes, &before);
        }

        // Append 3 rows (CSR) or 3 columns (CSC).
        let add = if csc { mat(rows, 3, &extra_cols, true) } else { mat(3, cols, &extra_rows, false) };
        sparse::append(&mut w, "/X", &add).unwrap();
        let want = if csc { sprs::hstack(&[scaled.view(), add.view()]) } else { sprs::vstack(&[scaled.view(), add.view()]) };
        let f = w.reader().unwrap();
        let x = SparseDataset::open(&f, "/X").unwrap();
        prop_assert_eq!(x.shape(), [want.rows() as u64, want.cols() as u64]);
        prop_assert_eq!(x.to_memory::<f32>().unwrap().to_dense(), want.to_dense());
        drop(f);

        // Replace by the other storage format.
        let other = want.to_other_storage();
        sparse::replace(&mut w, "/X", other.view(), &opts).unwrap();
        let f = File::from_bytes(w.close().unwrap().bytes).unwrap();
        let x = SparseDataset::open(&f, "/X").unwrap();
        prop_assert_eq!(x.format() == sparse::SparseFormat::Csc, !csc);
        prop_assert_eq!(x.to_memory::<f32>().unwrap().to_dense(), want.to_dense());
        prop_assert_eq!(f.root().unwrap().links().unwrap().len(), 1, "the temporary group is gone");
    }
}

#[test]
fn int32_indptr_overflow_is_refused_before_writing() {
    let m = CsMat::new((1, 2), vec![0, 1], vec![0], vec![1i64]);
    let mut w = Writer::create_in(MemSink::default()).unwrap();
    write_matrix(&mut w, "/X", m.view(), &SparseWriteOptions::default()).unwrap();
    // Pretend 2^31 - 1 values are stored: indptr's last value.
    w.write_slab("/X/indptr", &[1], &[1], &[i32::MAX]).unwrap();
    w.resize("/X/data", &[i32::MAX as u64]).unwrap();
    w.resize("/X/indices", &[i32::MAX as u64]).unwrap();
    let before = w.sink().bytes.clone();
    let err = sparse::append(&mut w, "/X", &m).unwrap_err();
    assert!(err.to_string().contains("int64"), "{err}");
    assert_eq!(w.sink().bytes, before, "nothing written");
}

/// Appending converts in-memory indices to the stored index types (here
/// int64 from int32 and usize), borrows them when they already match, and
/// takes a matrix whose indptr does not start at 0 (an outer slice).
#[test]
fn append_converts_index_types_and_takes_offset_indptr() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sparse_variants.h5");
    let bytes = std::fs::read(path).unwrap();
    let mut w = Writer::open_in(MemSink::from_bytes(bytes)).unwrap();
    // /all_int64 is a 5x4 CSC with int64 indices and indptr.
    let before = {
        let f = w.reader().unwrap();
        SparseDataset::open(&f, "/all_int64")
            .unwrap()
            .to_memory::<i64>()
            .unwrap()
    };
    // int32 indices, converted.
    let a =
        sprs::CsMatI::<i64, i32>::new_csc((5, 2), vec![0, 2, 3], vec![0, 4, 2], vec![10, 11, 12]);
    sparse::append(&mut w, "/all_int64", &a).unwrap();
    // int64 indices (borrowed), from columns 1..3 of a wider matrix: its
    // indptr starts at 1.
    let wide = sprs::CsMatI::<i64, i64>::new_csc(
        (5, 3),
        vec![0, 1, 2, 4],
        vec![3, 1, 0, 4],
        vec![20, 21, 22, 23],
    );
    let tail = wide.slice_outer(1..3).to_owned();
    sparse::append(&mut w, "/all_int64", &tail).unwrap();
    let a_usize: CsMat<i64> = a.view().to_other_types();
    let tail_usize: CsMat<i64> = tail.view().to_other_types();
    let want = sprs::hstack(&[before.view(), a_usize.view(), tail_usize.view()]);
    let f = File::from_bytes(w.close().unwrap().bytes).unwrap();
    let x = SparseDataset::open(&f, "/all_int64").unwrap();
    assert_eq!(x.shape(), [5, 8]);
    assert_eq!(x.to_memory::<i64>().unwrap().to_dense(), want.to_dense());
    let stored: Vec<i64> = f
        .dataset("/all_int64/indptr")
        .unwrap()
        .read::<i64>()
        .unwrap();
    assert_eq!(stored, vec![0, 2, 3, 4, 6, 8, 9, 10, 12]);
}

/// An outer slice (a view whose indptr keeps its parent's offsets) is
/// written with an indptr starting at 0.
#[test]
fn write_matrix_takes_an_outer_slice() {
    let m = mat(
        4,
        3,
        &[
            (0, 0, 1.0),
            (1, 2, 2.0),
            (2, 1, 3.0),
            (3, 0, 4.0),
            (3, 2, 5.0),
        ],
        false,
    );
    let rows = m.slice_outer(1..4);
    let mut w = Writer::create_in(MemSink::default()).unwrap();
    write_matrix(&mut w, "/X", rows, &SparseWriteOptions::default()).unwrap();
    let f = File::from_bytes(w.close().unwrap().bytes).unwrap();
    let x = SparseDataset::open(&f, "/X").unwrap();
    assert_eq!(x.to_memory::<f32>().unwrap().to_dense(), rows.to_dense());
    assert_eq!(
        f.dataset("/X/indptr").unwrap().read::<i32>().unwrap(),
        vec![0, 1, 2, 4]
    );
}
