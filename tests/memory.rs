//! A read allocates about its output size: reading 4 rows of a large
//! on-disk matrix allocates less than 1 MB beyond the result (counted by a
//! global allocator, not by timing or RSS).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use h5sparse::sparse::{write_matrix, Sel, SparseDataset, SparseWriteOptions};
use h5sparse::write::Writer;
use h5sparse::File;
use sprs::CsMat;

struct Counting;

static ALLOCATED: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator, only counting requested bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size as u64, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn reading_four_rows_of_a_large_matrix_allocates_about_the_result() {
    // The first read also loads the chunk indexes (once per dataset).
    // 4000 x 4000 ones: 16 M stored values, 192 MB of data + indices on disk.
    let n = 4000usize;
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("memory-ones.h5");
    {
        let indptr: Vec<usize> = (0..=n).map(|r| r * n).collect();
        let indices: Vec<usize> = (0..n * n).map(|i| i % n).collect();
        let x = CsMat::new((n, n), indptr, indices, vec![1.0f64; n * n]);
        let mut w = Writer::create(&path).unwrap();
        write_matrix(&mut w, "/X", x.view(), &SparseWriteOptions::default()).unwrap();
        drop(w.close().unwrap());
    }
    let f = File::open(&path).unwrap();
    let x = SparseDataset::open(&f, "/X").unwrap();
    for sel in [
        Sel::range(1, 5),
        Sel::range(1, 5),
        Sel::Indices(vec![1, 5, 10, 13]),
    ] {
        let before = ALLOCATED.load(Ordering::Relaxed);
        let m = x.read::<f64>(&sel, &Sel::All).unwrap();
        let allocated = ALLOCATED.load(Ordering::Relaxed) - before;
        assert_eq!(m.nnz(), 4 * n);
        let result = (m.nnz() * (8 + 8) + (m.rows() + 1) * 8) as u64;
        assert!(
            allocated < result + (1 << 20),
            "{sel:?}: allocated {allocated} bytes for a {result}-byte result"
        );
        println!("{sel:?}: allocated {allocated} bytes, result {result} bytes");
    }
    let _ = std::fs::remove_file(&path);
}
