//! Sparse matrices on disk read as in memory: random matrices and random
//! selections of every kind, compared with the same selection made on the
//! in-memory matrix.

use h5sparse::io::sink::MemSink;
use h5sparse::sparse::{write_matrix, Sel, SparseDataset, SparseFormat, SparseWriteOptions};
use h5sparse::write::Writer;
use h5sparse::{Error, File, H5Bool, H5Type};
use proptest::prelude::*;
use sprs::{CsMat, TriMat};

/// A dense reference: `rows × cols` values, zero where nothing is stored.
fn dense(rows: usize, cols: usize, entries: &[(usize, usize, i64)]) -> Vec<Vec<i64>> {
    let mut d = vec![vec![0i64; cols]; rows];
    for &(r, c, v) in entries {
        d[r][c] = v;
    }
    d
}

fn to_file(m: &CsMat<i64>, opts: &SparseWriteOptions) -> Vec<u8> {
    let mut w = Writer::create_in(MemSink::default()).unwrap();
    write_matrix(&mut w, "/X", m.view(), opts).unwrap();
    w.close().unwrap().bytes
}

fn matrix() -> impl Strategy<Value = (usize, usize, Vec<(usize, usize, i64)>)> {
    (0usize..9, 0usize..9).prop_flat_map(|(r, c)| {
        let cells = if r * c == 0 { 0 } else { r * c };
        (
            Just(r),
            Just(c),
            proptest::collection::vec(any::<bool>(), cells..=cells).prop_map(move |mask| {
                mask.iter()
                    .enumerate()
                    .filter(|(_, b)| **b)
                    .map(|(i, _)| (i / c.max(1), i % c.max(1), (i as i64 + 1) * 3 - 7))
                    .collect::<Vec<_>>()
            }),
        )
    })
}

fn sel(n: usize) -> impl Strategy<Value = Sel> {
    let n = n as i64;
    let span = -(n + 2)..(n + 3);
    prop_oneof![
        Just(Sel::All),
        (
            proptest::option::of(span.clone()),
            proptest::option::of(span.clone()),
            prop_oneof![-3i64..=-1, 1i64..=3]
        )
            .prop_map(|(start, stop, step)| Sel::Slice { start, stop, step }),
        proptest::collection::vec(if n == 0 { 0..1 } else { -n..n }, 0..6).prop_map(Sel::Indices),
        proptest::collection::vec(any::<bool>(), n as usize..=n as usize).prop_map(Sel::Mask),
        (if n == 0 { 0..1 } else { -n..n }).prop_map(Sel::Index),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn selections_match_the_in_memory_matrix(
        (rows, cols, entries, selections) in matrix().prop_flat_map(|(r, c, e)| {
            (Just(r), Just(c), Just(e), proptest::collection::vec((sel(r), sel(c)), 1..7))
        }),
        csc in any::<bool>(),
        gzip in any::<bool>(),
        chunk in 1u64..5,
        seed in any::<u64>(),
    ) {
        let mut tri = TriMat::new((rows, cols));
        for &(r, c, v) in &entries {
            tri.add_triplet(r, c, v);
        }
        let m: CsMat<i64> = if csc { tri.to_csc() } else { tri.to_csr() };
        let opts = SparseWriteOptions { compression: gzip.then_some(1), chunk_len: Some(chunk), int64_indices: seed % 2 == 0 };
        let f = File::from_bytes(to_file(&m, &opts)).unwrap();
        let x = SparseDataset::open(&f, "/X").unwrap();
        prop_assert_eq!(x.shape(), [rows as u64, cols as u64]);
        prop_assert_eq!(x.format(), if csc { SparseFormat::Csc } else { SparseFormat::Csr });
        let reference = dense(rows, cols, &entries);
        for (rs, cs) in selections {
            let (ri, ci) = (rs.resolve(rows as u64), cs.resolve(cols as u64));
            let got = x.read::<i64>(&rs, &cs);
            match (ri, ci) {
                (Ok(ri), Ok(ci)) => {
                    let got = got.unwrap();
                    prop_assert_eq!(got.shape(), (ri.len(), ci.len()));
                    prop_assert_eq!(got.is_csc(), csc);
                    let d = got.to_dense();
                    for (a, &r) in ri.iter().enumerate() {
                        for (b, &c) in ci.iter().enumerate() {
                            prop_assert_eq!(d[[a, b]], reference[r as usize][c as usize], "rows {:?} cols {:?}", rs, cs);
                        }
                    }
                    if let (Some(&r), Some(&c)) = (ri.first(), ci.first()) {
                        prop_assert_eq!(x.get::<i64>(r as i64, c as i64).unwrap(), reference[r as usize][c as usize]);
                    }
                }
                _ => prop_assert!(matches!(got, Err(Error::InvalidArgument(_))), "bad selection must be InvalidArgument"),
            }
        }
        prop_assert_eq!(x.to_memory::<i64>().unwrap().to_dense(), m.to_dense());
    }
}

/// Writes `m` with its values mapped by `to`, reads every selection back as
/// `T` with indices of type `I`, and compares with `m`'s values mapped the
/// same way (`back` turns a read value into the reference's terms).
#[allow(clippy::too_many_arguments)]
fn check_as<T: H5Type + PartialEq + std::fmt::Debug, I: h5sparse::sparse::IndexType>(
    m: &CsMat<i64>,
    opts: &SparseWriteOptions,
    selections: &[(Sel, Sel)],
    to: impl Fn(i64) -> T,
    back: impl Fn(T) -> i64,
) -> Result<(), TestCaseError> {
    let mapped: CsMat<T> = m.map(|&v| to(v));
    let mut w = Writer::create_in(MemSink::default()).unwrap();
    write_matrix(&mut w, "/X", mapped.view(), opts).unwrap();
    let f = File::from_bytes(w.close().unwrap().bytes).unwrap();
    let x = SparseDataset::open(&f, "/X").unwrap();
    prop_assert_eq!(x.dtype(), &T::dtype());
    let reference = m.map(|&v| back(to(v))).to_dense();
    let (rows, cols) = m.shape();
    for (rs, cs) in selections {
        let (Ok(ri), Ok(ci)) = (rs.resolve(rows as u64), cs.resolve(cols as u64)) else {
            continue;
        };
        let got = x.read_as::<T, I>(rs, cs).unwrap();
        prop_assert_eq!(got.shape(), (ri.len(), ci.len()));
        let d = got.map(|&v| back(v)).to_dense();
        for (a, &r) in ri.iter().enumerate() {
            for (b, &c) in ci.iter().enumerate() {
                prop_assert_eq!(
                    d[[a, b]],
                    reference[[r as usize, c as usize]],
                    "rows {:?} cols {:?}",
                    rs,
                    cs
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// float32, uint16 and bool values; i32, u32 and u64 result indices.
    #[test]
    fn other_value_and_index_types_read_the_same(
        (rows, cols, entries, selections) in matrix().prop_flat_map(|(r, c, e)| {
            (Just(r), Just(c), Just(e), proptest::collection::vec((sel(r), sel(c)), 1..5))
        }),
        csc in any::<bool>(),
        gzip in any::<bool>(),
        chunk in 1u64..5,
    ) {
        let mut tri = TriMat::new((rows, cols));
        for &(r, c, v) in &entries {
            tri.add_triplet(r, c, v);
        }
        let m: CsMat<i64> = if csc { tri.to_csc() } else { tri.to_csr() };
        let opts = SparseWriteOptions { compression: gzip.then_some(1), chunk_len: Some(chunk), int64_indices: chunk % 2 == 0 };
        check_as::<f32, i32>(&m, &opts, &selections, |v| v as f32 / 4.0, |v| (v * 4.0) as i64)?;
        check_as::<u16, u32>(&m, &opts, &selections, |v| v.unsigned_abs() as u16, i64::from)?;
        check_as::<H5Bool, u64>(&m, &opts, &selections, |v| H5Bool::from(v != 0), |b| i64::from(b.0))?;
    }
}

#[test]
fn an_index_type_too_small_for_the_result_is_an_error() {
    let n = 70_000usize;
    let m: CsMat<i64> = CsMat::new((1, n), vec![0, n], (0..n).collect(), vec![1; n]);
    let f = File::from_bytes(to_file(&m, &SparseWriteOptions::default())).unwrap();
    let x = SparseDataset::open(&f, "/X").unwrap();
    let err = x.read_as::<i64, i16>(&Sel::All, &Sel::All).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert_eq!(
        x.read_as::<i64, i32>(&Sel::All, &Sel::All).unwrap().nnz(),
        n
    );
}

#[test]
fn uint16_indices_bool_data_and_all_int64_fixtures_read() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sparse_variants.h5");
    let f = File::open(path).unwrap();
    fn check(got: impl std::ops::Index<[usize; 2], Output = i64>, rows: &[usize], what: &str) {
        let dense = [
            [0i64, 5, 0, 0],
            [7, 0, 0, 1],
            [0, 0, 0, 0],
            [2, 0, 3, 0],
            [0, 0, 0, 9],
        ];
        for (a, &r) in rows.iter().enumerate() {
            for c in 0..4 {
                assert_eq!(got[[a, c]], dense[r][c], "{what} [{r}, {c}]");
            }
        }
    }
    let u16x = SparseDataset::open(&f, "/u16").unwrap();
    let m = u16x
        .read::<f64>(&Sel::Indices(vec![4, 1]), &Sel::All)
        .unwrap();
    check(m.map(|&v| v as i64).to_dense(), &[4, 1], "u16");
    let m = u16x
        .read_as::<f64, u16>(&Sel::All, &Sel::range(0, 4))
        .unwrap();
    check(
        m.map(|&v| v as i64).to_dense(),
        &[0, 1, 2, 3, 4],
        "u16 as u16",
    );

    let b = SparseDataset::open(&f, "/bool").unwrap();
    assert_eq!(b.dtype().numpy_str(), "|b1");
    let m = b.to_memory::<H5Bool>().unwrap();
    let nonzero: Vec<bool> = m.data().iter().map(|&v| v.into()).collect();
    assert_eq!(nonzero, vec![true; 6]);
    assert!(b.get::<H5Bool>(3, 2).unwrap() == H5Bool::from(true));
    assert!(b.get::<H5Bool>(2, 2).unwrap() == H5Bool::from(false));

    let x = SparseDataset::open(&f, "/all_int64").unwrap();
    assert_eq!(x.format(), SparseFormat::Csc);
    check(
        x.to_memory::<i64>().unwrap().to_dense(),
        &[0, 1, 2, 3, 4],
        "int64 csc",
    );
    let m = x.read_as::<i64, i64>(&Sel::range(1, 4), &Sel::All).unwrap();
    check(m.to_dense(), &[1, 2, 3], "int64 csc rows 1:4");
}

/// A CSR group written by hand, rows as given (possibly unsorted).
fn raw_csr(indices: &[i32], indptr: &[i32], cols: i64) -> Vec<u8> {
    let mut w = Writer::create_in(MemSink::default()).unwrap();
    let opts = h5sparse::write::DatasetOptions::default();
    w.create_group("/X").unwrap();
    let data: Vec<f64> = (1..=indices.len()).map(|v| v as f64).collect();
    w.create_dataset("/X/data", &[data.len() as u64], &data, &opts)
        .unwrap();
    w.create_dataset("/X/indices", &[indices.len() as u64], indices, &opts)
        .unwrap();
    w.create_dataset("/X/indptr", &[indptr.len() as u64], indptr, &opts)
        .unwrap();
    w.set_attr_str("/X", "h5sparse_format", "csr").unwrap();
    w.set_attr_array("/X", "h5sparse_shape", &[indptr.len() as i64 - 1, cols])
        .unwrap();
    w.close().unwrap().bytes
}

#[test]
fn unsorted_rows_are_sorted_and_broken_rows_refused() {
    let f = File::from_bytes(raw_csr(&[2, 0, 1, 1, 2], &[0, 2, 3, 5], 3)).unwrap();
    let x = SparseDataset::open(&f, "/X").unwrap();
    let m = x.read_as::<f64, i32>(&Sel::range(0, 2), &Sel::All).unwrap();
    assert_eq!(m.indices(), &[0, 2, 1]);
    assert_eq!(m.data(), &[2.0, 1.0, 3.0]);
    // Row 2 stores column 1 twice.
    let f = File::from_bytes(raw_csr(&[2, 0, 1, 1, 1], &[0, 2, 3, 5], 3)).unwrap();
    let x = SparseDataset::open(&f, "/X").unwrap();
    let err = x.read::<f64>(&Sel::All, &Sel::All).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    // A negative or too-large stored index.
    for bad in [-1, 3] {
        let f = File::from_bytes(raw_csr(&[0, bad], &[0, 2], 3)).unwrap();
        let x = SparseDataset::open(&f, "/X").unwrap();
        assert!(
            x.read_as::<f64, i32>(&Sel::All, &Sel::All).is_err(),
            "index {bad}"
        );
        assert!(
            x.read::<f64>(&Sel::All, &Sel::range(0, 2)).is_err(),
            "index {bad}"
        );
    }
}

#[test]
fn the_seed_fixture_reads_as_the_seed_shows() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
    let f = File::open(path).unwrap();
    let x = SparseDataset::open(&f, "/X").unwrap();
    assert_eq!(
        x.to_string(),
        "<HDF5 sparse dataset: format 'csr', shape (6, 3), type '<i8'>"
    );
    let want = [
        [0, 18, 0],
        [0, 0, 4],
        [0, 0, 0],
        [3, 4, 0],
        [0, 36, 0],
        [0, 0, 8],
    ];
    let d = x.to_memory::<i64>().unwrap().to_dense();
    for (r, row) in want.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            assert_eq!(d[[r, c]], *v);
        }
    }
    let masked = x
        .read::<i64>(
            &Sel::Mask(vec![true, false, false, true, false, false]),
            &Sel::All,
        )
        .unwrap();
    assert_eq!(masked.to_dense().row(1).to_vec(), vec![3, 4, 0]);
    let err = x
        .read::<i64>(&Sel::Mask(vec![true]), &Sel::All)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    let err = x.read::<f64>(&Sel::All, &Sel::All).unwrap_err();
    assert!(err.to_string().contains("<i8"), "{err}");
}

#[test]
fn anndata_and_tenx_fixtures_read() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/");
    let f = File::open(format!("{dir}anndata_gzip.h5ad")).unwrap();
    let x = SparseDataset::open(&f, "/X").unwrap();
    let full = x.to_memory::<f32>().unwrap();
    assert_eq!(full.nnz() as u64, x.nnz());
    let rows = x
        .read::<f32>(&Sel::Indices(vec![5, 1, 5]), &Sel::All)
        .unwrap();
    assert_eq!(
        rows.outer_view(0).unwrap().to_dense(),
        full.outer_view(5).unwrap().to_dense()
    );
    assert_eq!(
        rows.outer_view(2).unwrap().to_dense(),
        full.outer_view(5).unwrap().to_dense()
    );
    let t = File::open(format!("{dir}tenx.h5")).unwrap();
    let m = SparseDataset::open(&t, "/matrix").unwrap();
    assert_eq!(m.format(), SparseFormat::Csc);
    let all = m.to_memory::<i32>().unwrap();
    assert_eq!(all.nnz() as u64, m.nnz());
}

#[test]
fn major_views_borrow_the_map_and_equal_copied_reads() {
    // Written by us to a file: chunked, unfiltered, chunks adjacent.
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("view.h5");
    let mut tri = TriMat::new((50, 7));
    for r in 0..50usize {
        for c in 0..7usize {
            if (r + 2 * c) % 3 == 0 {
                tri.add_triplet(r, c, (r * 7 + c) as f64);
            }
        }
    }
    let m: CsMat<f64> = tri.to_csr();
    let mut w = Writer::create(&path).unwrap();
    let opts = SparseWriteOptions {
        chunk_len: Some(16),
        ..Default::default()
    };
    write_matrix(&mut w, "/X", m.view(), &opts).unwrap();
    drop(w.close().unwrap());
    let f = File::open(&path).unwrap();
    let x = SparseDataset::open(&f, "/X").unwrap();
    for (a, b) in [(0u64, 50u64), (3, 17), (20, 20), (49, 50)] {
        let v = x
            .major_view::<f64, i32, i32>(a, b)
            .unwrap()
            .expect("unfiltered adjacent chunks borrow");
        let copied = x
            .read::<f64>(&Sel::range(a as i64, b as i64), &Sel::All)
            .unwrap();
        assert_eq!(v.to_dense(), copied.to_dense(), "rows {a}..{b}");
        let bytes = f.bytes().expect("mapped").as_ptr_range();
        assert!(
            v.data().is_empty() || bytes.contains(&(v.data().as_ptr() as *const u8)),
            "borrowed from the map"
        );
    }
    // Compressed: no view, the copying read still works.
    let gz = File::from_bytes(to_file(
        &CsMat::new((2, 2), vec![0, 1, 2], vec![1, 0], vec![5i64, 6]),
        &SparseWriteOptions {
            compression: Some(1),
            ..Default::default()
        },
    ))
    .unwrap();
    let gx = SparseDataset::open(&gz, "/X").unwrap();
    assert!(gx.major_view::<i64, i32, i32>(0, 2).unwrap().is_none());
}

/// Reads through recycled storage equal fresh reads, whatever the previous
/// block's size or selection kind.
#[test]
fn reads_reusing_storage_equal_fresh_reads() {
    let mut t = sprs::TriMat::new((40, 30));
    for r in 0..40usize {
        for c in 0..30usize {
            if (r * 31 + c * 17) % 7 < 3 {
                t.add_triplet(r, c, (r * 100 + c) as f32);
            }
        }
    }
    let m: sprs::CsMat<f32> = t.to_csr();
    for gzip in [false, true] {
        let mut w = Writer::create_in(MemSink::default()).unwrap();
        let opts = SparseWriteOptions {
            compression: gzip.then_some(1),
            chunk_len: Some(16),
            int64_indices: false,
        };
        write_matrix(&mut w, "/X", m.view(), &opts).unwrap();
        let f = File::from_bytes(w.close().unwrap().bytes).unwrap();
        let x = SparseDataset::open(&f, "/X").unwrap();
        let sels = [
            (Sel::range(0, 25), Sel::All),
            (Sel::range(30, 33), Sel::All),
            (Sel::Indices(vec![5, -1, 5, 0]), Sel::All),
            (Sel::All, Sel::range(3, 9)),
            (Sel::range(10, 40), Sel::All),
            (Sel::Index(7), Sel::Index(2)),
        ];
        let mut block = sprs::CsMatI::<f32, i32>::zero((0, 0));
        for (rows, cols) in &sels {
            block = x.read_as_reusing(rows, cols, block).unwrap();
            let fresh = x.read_as::<f32, i32>(rows, cols).unwrap();
            assert_eq!(block, fresh, "gzip {gzip} {rows:?} {cols:?}");
        }
    }
}

/// Rows on both sides of a discontinuity between chunks (here: chunks
/// appended after the file's other data) are borrowed; only rows whose
/// entries straddle it are left to be copied, and together they equal the
/// copying read.
#[test]
fn major_views_split_at_gaps_between_chunks() {
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("views_gaps.h5");
    let _ = std::fs::remove_file(&path);
    let build = |rows: std::ops::Range<usize>| {
        let mut tri = TriMat::new((rows.len(), 7));
        for (k, r) in rows.enumerate() {
            for c in 0..7usize {
                if (r + 2 * c) % 3 == 0 {
                    tri.add_triplet(k, c, (r * 7 + c) as f64);
                }
            }
        }
        tri.to_csr::<usize>()
    };
    let opts = SparseWriteOptions {
        chunk_len: Some(16),
        ..Default::default()
    };
    let mut w = Writer::create(&path).unwrap();
    write_matrix(&mut w, "/X", build(0..30).view(), &opts).unwrap();
    drop(w.close().unwrap());
    for part in [30..45, 45..60] {
        let mut w = Writer::open(&path).unwrap();
        h5sparse::sparse::append(&mut w, "/X", &build(part)).unwrap();
        drop(w.close().unwrap());
    }
    let f = File::open(&path).unwrap();
    let x = SparseDataset::open(&f, "/X").unwrap();
    assert!(
        x.major_view::<f64, i32, i32>(0, 60).unwrap().is_none(),
        "the appended chunks do not follow the first ones"
    );
    let mut split = false;
    for a in 0..=60u64 {
        for b in a..=60u64 {
            let stretches = x.major_views::<f64, i32, i32>(a, b).unwrap();
            split |= stretches.len() > 1;
            let mut at = a;
            let mut dense: Vec<Vec<f64>> = Vec::new();
            for (rows, view) in stretches {
                assert_eq!(rows.start, at, "stretches are consecutive");
                at = rows.end;
                let part = match view {
                    Some(v) => v.to_dense(),
                    None => x
                        .read::<f64>(&Sel::range(rows.start as i64, rows.end as i64), &Sel::All)
                        .unwrap()
                        .to_dense(),
                };
                dense.extend(part.outer_iter().map(|r| r.to_vec()));
            }
            assert_eq!(at, b);
            let copied = x
                .read::<f64>(&Sel::range(a as i64, b as i64), &Sel::All)
                .unwrap()
                .to_dense();
            let want: Vec<Vec<f64>> = copied.outer_iter().map(|r| r.to_vec()).collect();
            assert_eq!(dense, want, "rows {a}..{b}");
        }
    }
    assert!(split, "some range spans a gap");
}

/// Views check rows as the copying read does: unsorted, repeated, negative
/// or too-large indices are refused, never handed to sprs unchecked.
#[test]
fn major_views_refuse_broken_rows() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let cases: [(&[i32], &[i32]); 4] = [
        (&[2, 0, 1, 1, 2], &[0, 2, 3, 5]),
        (&[0, 2, 1, 1, 1], &[0, 2, 3, 5]),
        (&[0, -1], &[0, 2]),
        (&[0, 3], &[0, 2]),
    ];
    for (k, (indices, indptr)) in cases.into_iter().enumerate() {
        let path = dir.join(format!("views_broken_{k}.h5"));
        std::fs::write(&path, raw_csr(indices, indptr, 3)).unwrap();
        let f = File::open(&path).unwrap();
        let x = SparseDataset::open(&f, "/X").unwrap();
        let rows = indptr.len() as u64 - 1;
        match x.major_views::<f64, i32, i32>(0, rows) {
            Err(e) => assert!(matches!(e, Error::InvalidArgument(_)), "{e}"),
            Ok(stretches) => assert!(
                stretches.iter().all(|(_, v)| v.is_none()),
                "case {k}: a broken row was borrowed"
            ),
        }
    }
    // A sound file borrows.
    let path = dir.join("views_sound.h5");
    std::fs::write(&path, raw_csr(&[0, 2, 1], &[0, 2, 3], 3)).unwrap();
    let f = File::open(&path).unwrap();
    let x = SparseDataset::open(&f, "/X").unwrap();
    let stretches = x.major_views::<f64, i32, i32>(0, 2).unwrap();
    assert_eq!(stretches.len(), 1);
    assert_eq!(stretches[0].1.as_ref().unwrap().nnz(), 3);
}
