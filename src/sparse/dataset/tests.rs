use super::*;
use crate::io::sink::MemSink;
use crate::sparse::{write_matrix, SparseWriteOptions};
use crate::write::Writer;

#[test]
fn strictly_increasing_agrees_with_windows_across_blocks() {
    for len in [0usize, 1, 2, 255, 256, 257, 600] {
        let up: Vec<i32> = (0..len as i32).map(|v| v * 3).collect();
        assert!(strictly_increasing(&up), "{len}");
        for bad in 1..len {
            for broken in [up[bad - 1], up[bad - 1] - 1] {
                let mut v = up.clone();
                v[bad] = broken;
                assert_eq!(
                    strictly_increasing(&v),
                    v.windows(2).all(|w| w[0] < w[1]),
                    "len {len}, pair at {bad}"
                );
            }
        }
    }
}

#[test]
fn column_selections_across_row_batches_match_the_full_read() {
    // 7x6 with 2-4 entries per row, one row empty: many batches of 3.
    let mut tri = sprs::TriMat::new((7, 6));
    for r in 0..7usize {
        for c in 0..6usize {
            if r != 4 && (r * 7 + c * 3) % 4 != 0 {
                tri.add_triplet(r, c, (r * 10 + c) as i64);
            }
        }
    }
    for csc in [false, true] {
        let m: CsMat<i64> = if csc { tri.to_csc() } else { tri.to_csr() };
        let mut w = Writer::create_in(MemSink::default()).unwrap();
        let opts = SparseWriteOptions {
            chunk_len: Some(4),
            ..Default::default()
        };
        write_matrix(&mut w, "/X", m.view(), &opts).unwrap();
        let f = File::from_bytes(w.close().unwrap().bytes).unwrap();
        let x = SparseDataset::open(&f, "/X").unwrap();
        let full = x.to_memory::<i64>().unwrap().to_dense();
        let sels = [
            Sel::All,
            Sel::range(1, 4),
            Sel::Indices(vec![5, 0, 5, -2]),
            Sel::Slice {
                start: None,
                stop: None,
                step: -2,
            },
            Sel::Index(-1),
        ];
        for rs in &sels {
            for cs in &sels {
                let (ri, ci) = (rs.resolve(7).unwrap(), cs.resolve(6).unwrap());
                let d = x.read::<i64>(rs, cs).unwrap().to_dense();
                for (a, &r) in ri.iter().enumerate() {
                    for (b, &c) in ci.iter().enumerate() {
                        assert_eq!(
                            d[[a, b]],
                            full[[r as usize, c as usize]],
                            "csc={csc} rows {rs:?} cols {cs:?}"
                        );
                    }
                }
            }
        }
    }
}
