//! Writing throughput: 400 MB of float64 through the writer, uncompressed,
//! contiguous and chunked, against a plain memcpy of the same bytes and
//! `std::fs::write` (the disk/page-cache ceiling).
//!
//! `cargo bench --bench write` (set `H5SPARSE_BENCH_MB` to change the size).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use h5sparse::write::{DatasetOptions, Writer};

fn size_mb() -> usize {
    std::env::var("H5SPARSE_BENCH_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400)
}

fn bench_write(c: &mut Criterion) {
    let n = size_mb() * 1_000_000 / 8;
    let data: Vec<f64> = (0..n).map(|i| i as f64 * 0.5).collect();
    let bytes: &[u8] = bytemuck::cast_slice(&data);
    let dir = std::env::temp_dir().join(format!("h5sparse-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("write.h5");

    let mut g = c.benchmark_group("write_400MB");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Bytes(bytes.len() as u64));

    g.bench_function("memcpy", |b| {
        let mut dst = vec![0u8; bytes.len()];
        b.iter(|| {
            dst.copy_from_slice(black_box(bytes));
            black_box(&dst);
        })
    });
    g.bench_function("std_fs_write", |b| {
        b.iter(|| std::fs::write(&path, black_box(bytes)).unwrap())
    });
    g.bench_function("contiguous", |b| {
        b.iter(|| {
            let mut w = Writer::create(&path).unwrap();
            w.create_dataset("/x", &[n as u64], &data, &DatasetOptions::default())
                .unwrap();
            drop(w);
        })
    });
    g.bench_function("chunked_1MiB", |b| {
        b.iter(|| {
            let mut w = Writer::create(&path).unwrap();
            w.create_dataset(
                "/x",
                &[n as u64],
                &data,
                &DatasetOptions::growable().chunks(&[131_072]),
            )
            .unwrap();
            drop(w);
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench_write);
criterion_main!(benches);
