use sprs::{CsMat, TriMat};

use super::*;
use crate::sparse::SparseFormat;

fn csr(d: &[&[i64]]) -> CsMat<i64> {
    let mut t = TriMat::new((d.len(), d.first().map_or(0, |r| r.len())));
    for (r, row) in d.iter().enumerate() {
        for (c, &v) in row.iter().enumerate() {
            if v != 0 {
                t.add_triplet(r, c, v);
            }
        }
    }
    t.to_csr()
}

fn seed_x() -> CsMat<i64> {
    csr(&[&[0, 1, 0], &[0, 0, 2], &[0, 0, 0], &[3, 4, 0]])
}

#[test]
fn handles_and_files_are_send_sync_and_static() {
    fn check<T: Send + Sync + 'static>() {}
    check::<H5File>();
    check::<SparseHandle>();
    check::<DatasetHandle>();
}

#[test]
fn every_handle_sees_every_write_without_reopening() {
    let f = H5File::in_memory().unwrap();
    let x = f
        .create_sparse("X", &seed_x(), &Default::default())
        .unwrap();
    let same = f.sparse("/X").unwrap();
    assert_eq!(same.shape().unwrap(), [4, 3]);
    // A write through one handle is seen by the other.
    x.append(&seed_x()).unwrap();
    assert_eq!(same.shape().unwrap(), [8, 3]);
    assert_eq!(same.get::<i64>(7, 1).unwrap(), 4);
    same.set_value(4, 1, 10i64).unwrap();
    assert_eq!(x.get::<i64>(4, 1).unwrap(), 10);
    // Replacing CSR by CSC: both handles now read the CSC matrix.
    let csc = x.to_memory::<i64>().unwrap().to_csc();
    same.replace(&csc, &Default::default()).unwrap();
    assert_eq!(x.format().unwrap(), SparseFormat::Csc);
    assert_eq!(x.to_memory::<i64>().unwrap(), csc);
    // Writes through the file are seen too.
    f.unlink("X").unwrap();
    assert!(x.shape().is_err());
}

#[test]
fn a_read_only_file_refuses_writes_and_says_how_to_write() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
    let before = std::fs::read(path).unwrap();
    let f = H5File::open(path).unwrap();
    assert!(!f.is_writable());
    let x = f.sparse("X").unwrap();
    let err = x.set_value(0, 1, 1i64).unwrap_err().to_string();
    assert!(err.contains("open_rw"), "{err}");
    assert!(f.create_group("g").is_err());
    assert_eq!(std::fs::read(path).unwrap(), before);
}

#[test]
fn wrong_kinds_of_objects_are_errors_naming_them() {
    let f = H5File::in_memory().unwrap();
    f.create_sparse("X", &seed_x(), &Default::default())
        .unwrap();
    f.create_dataset("Y", &[2], &[1i64, 2], &Default::default())
        .unwrap();
    let err = f.sparse("Y").unwrap_err().to_string();
    assert!(err.contains("/Y"), "{err}");
    assert!(f.dataset("X").is_err());
    assert!(f.sparse("nope").is_err());
    let y = f.dataset("Y").unwrap();
    assert!(y.read_2d::<i64>().is_err());
    // A contiguous dataset cannot grow, as in libhdf5.
    assert!(y.append(&[3i64]).is_err());
    assert_eq!(y.read::<i64>().unwrap(), vec![1, 2]);
}

#[test]
fn selections_in_rust_syntax_match_numpy() {
    let f = H5File::in_memory().unwrap();
    let x = f
        .create_sparse("X", &seed_x(), &Default::default())
        .unwrap();
    let dense = |m: CsMat<i64>| m.to_dense();
    // numpy: X[:, 1:3], X[[3, 1, 3]][:, ::1], X[mask], X[-1], X[1:, :2]
    assert_eq!(
        dense(x.read(.., 1..3).unwrap()),
        ndarray::arr2(&[[1, 0], [0, 2], [0, 0], [4, 0]])
    );
    assert_eq!(
        dense(x.read([3, 1, 3], ..).unwrap()),
        ndarray::arr2(&[[3, 4, 0], [0, 0, 2], [3, 4, 0]])
    );
    let mask = vec![true, false, false, true];
    assert_eq!(
        dense(x.read(&mask, ..).unwrap()),
        ndarray::arr2(&[[0, 1, 0], [3, 4, 0]])
    );
    assert_eq!(dense(x.read(-1, ..).unwrap()), ndarray::arr2(&[[3, 4, 0]]));
    assert_eq!(
        dense(x.read(1.., ..2).unwrap()),
        ndarray::arr2(&[[0, 0], [0, 0], [3, 4]])
    );
    let rows: Vec<usize> = vec![0, 3];
    assert_eq!(
        dense(x.read(&rows, 0..=1).unwrap()),
        ndarray::arr2(&[[0, 1], [3, 4]])
    );
    assert_eq!(x.get::<i64>(-1, 0usize).unwrap(), 3);
    assert!(x.read::<i64>(4, ..).is_err());
}

#[test]
fn reads_in_other_threads_see_a_whole_append_or_none_of_it() {
    let f = H5File::in_memory().unwrap();
    let x = f
        .create_sparse("X", &seed_x(), &Default::default())
        .unwrap();
    let appends = 20;
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let y = f.sparse("X").unwrap();
            let mut seen = Vec::new();
            for _ in 0..200 {
                let m = y.to_memory::<i64>().unwrap();
                // Every matrix read is the seed repeated a whole number of times.
                assert_eq!(m.rows() % 4, 0, "a partial append was visible");
                for r in 0..m.rows() {
                    assert_eq!(
                        m.outer_view(r).unwrap().to_dense(),
                        seed_x().outer_view(r % 4).unwrap().to_dense()
                    );
                }
                seen.push(m.rows());
            }
            seen
        });
        for _ in 0..appends {
            x.append(&seed_x()).unwrap();
        }
        let seen = reader.join().unwrap();
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    });
    assert_eq!(x.shape().unwrap(), [4 * (appends + 1), 3]);
}

#[test]
fn dense_datasets_read_and_write_through_handles() {
    let f = H5File::in_memory().unwrap();
    let a = ndarray::arr2(&[[0i64, 1, 0], [0, 0, 2], [0, 0, 0], [3, 4, 0]]);
    let y = f
        .create_array("Y", &a, &crate::write::DatasetOptions::growable())
        .unwrap();
    assert_eq!(
        y.to_string(),
        "<HDF5 dataset \"Y\": shape (4, 3), type \"<i8\">"
    );
    assert_eq!(y.read_2d::<i64>().unwrap(), a);
    // A transposed view is written in its logical (C) order.
    let t = f.create_array("T", &a.t(), &Default::default()).unwrap();
    assert_eq!(t.read_2d::<i64>().unwrap(), a.t());
    y.append(&[5i64, 6, 7]).unwrap();
    y.write_slab(&[0, 0], &[1, 2], &[8i64, 9]).unwrap();
    assert_eq!(y.shape().unwrap(), vec![5, 3]);
    assert_eq!(y.read_slab::<i64>(&[0, 0], &[1, 3]).unwrap(), vec![8, 9, 0]);
    assert_eq!(y.read_slab::<i64>(&[4, 0], &[1, 3]).unwrap(), vec![5, 6, 7]);
    y.resize(&[2, 3]).unwrap();
    assert_eq!(y.len().unwrap(), 6);
    // The bytes read back as a plain read-only file too.
    let g = H5File::from_bytes(f.to_bytes().unwrap()).unwrap();
    assert_eq!(
        g.dataset("Y").unwrap().read::<i64>().unwrap(),
        vec![8, 9, 0, 0, 0, 2]
    );
}
