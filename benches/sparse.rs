//! Sparse reads (issue 6's operations 1, 2, 4 and 5) on a matrix this bench
//! writes itself, so `cargo bench --bench sparse` needs no Python or cache:
//! 20,000 × 5,000 CSR float32, 100 to 300 stored values per row (sorted),
//! written by `sparse::write_matrix` uncompressed and with gzip 4.
//!
//! The side-by-side comparison with anndata, h5py and the pure-Rust peers on
//! the larger `medium` matrix is `bench/compare`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use h5sparse::sparse::{self, Sel, SparseDataset, SparseWriteOptions};
use h5sparse::write::Writer;

const ROWS: usize = 20_000;
const COLS: usize = 5_000;

/// splitmix64: a fixed, dependency-free sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn matrix(rng: &mut Rng) -> sprs::CsMat<f32> {
    let mut indptr = vec![0usize];
    let mut indices = Vec::new();
    let mut data = Vec::new();
    let mut row = vec![false; COLS];
    for _ in 0..ROWS {
        let k = 100 + rng.below(201) as usize;
        row.iter_mut().for_each(|b| *b = false);
        let mut placed = 0;
        while placed < k {
            let c = rng.below(COLS as u64) as usize;
            if !row[c] {
                row[c] = true;
                placed += 1;
            }
        }
        for (c, _) in row.iter().enumerate().filter(|&(_, &b)| b) {
            indices.push(c);
            data.push(0.5 + (rng.below(1000) as f32) / 1000.0);
        }
        indptr.push(indices.len());
    }
    sprs::CsMat::new((ROWS, COLS), indptr, indices, data)
}

fn bench_sparse(c: &mut Criterion) {
    let mut rng = Rng(6);
    let m = matrix(&mut rng);
    let dir = std::env::temp_dir().join(format!("h5sparse-bench-sparse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let block = 1000i64;
    let starts: Vec<i64> = (0..20)
        .map(|_| rng.below((ROWS as i64 - block) as u64) as i64)
        .collect();
    let mut rows: Vec<i64> = Vec::new();
    let mut taken = vec![false; ROWS];
    while rows.len() < 2000 {
        let r = rng.below(ROWS as u64) as usize;
        if !taken[r] {
            taken[r] = true;
            rows.push(r as i64);
        }
    }
    rows.sort_unstable();
    let points: Vec<(i64, i64)> = (0..1000)
        .map(|_| (rng.below(ROWS as u64) as i64, rng.below(COLS as u64) as i64))
        .collect();

    for (label, compression) in [("plain", None), ("gzip", Some(4))] {
        let path = dir.join(format!("{label}.h5"));
        let mut w = Writer::create(&path).unwrap();
        let opts = SparseWriteOptions {
            compression,
            ..Default::default()
        };
        sparse::write_matrix(&mut w, "/X", m.view(), &opts).unwrap();
        drop(w.close().unwrap());
        let file = h5sparse::File::open(&path).unwrap();
        let x = SparseDataset::open(&file, "/X").unwrap();

        let mut g = c.benchmark_group(format!("sparse_{label}"));
        g.sample_size(10);
        g.bench_function("op1_20_blocks_of_1000_rows", |b| {
            b.iter(|| {
                for &s in &starts {
                    black_box(x.read::<f32>(&Sel::range(s, s + block), &Sel::All).unwrap());
                }
            })
        });
        if compression.is_none() {
            g.bench_function("op1_20_blocks_views_or_copies", |b| {
                b.iter(|| {
                    for &s in &starts {
                        let (a, e) = (s as u64, (s + block) as u64);
                        match x.major_view::<f32, i32, i32>(a, e).unwrap() {
                            Some(v) => {
                                black_box(v);
                            }
                            None => {
                                black_box(
                                    x.read::<f32>(&Sel::range(s, s + block), &Sel::All).unwrap(),
                                );
                            }
                        }
                    }
                })
            });
        }
        g.bench_function("op2_2000_random_rows", |b| {
            b.iter(|| {
                black_box(
                    x.read::<f32>(&Sel::Indices(rows.clone()), &Sel::All)
                        .unwrap(),
                )
            })
        });
        g.bench_function("op4_cols_100_200", |b| {
            b.iter(|| black_box(x.read::<f32>(&Sel::All, &Sel::range(100, 200)).unwrap()))
        });
        g.bench_function("op5_1000_elements", |b| {
            b.iter(|| {
                for &(r, col) in &points {
                    black_box(x.get::<f32>(r, col).unwrap());
                }
            })
        });
        g.finish();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench_sparse);
criterion_main!(benches);
