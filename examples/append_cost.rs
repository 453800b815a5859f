//! What one `sparse::append` costs in bytes: of the new chunks, and of the
//! metadata written beside them (headers, chunk-index nodes, group copies),
//! and how long it takes, with and without the commit's sync.
//!
//! ```text
//! cargo run --release --example append_cost -- FILE.h5ad [GROUP] [ROWS] [--no-sync]
//! ```
//!
//! `--no-sync`: the commit does not sync first (`Writer::set_commit_sync`),
//! as h5py never does.
//!
//! Appends the first ROWS (default 5000) rows of GROUP (default /X) again,
//! to a copy of FILE, and prints the file's growth split into chunk bytes
//! (the stored sizes of chunks that are new after the append) and the rest.

use std::collections::HashSet;
use std::time::Instant;

use h5sparse::sparse::{self, Sel, SparseDataset};
use h5sparse::write::Writer;
use h5sparse::File;

fn chunk_set(f: &File, group: &str) -> h5sparse::Result<HashSet<(String, u64, u64)>> {
    let mut out = HashSet::new();
    for name in ["data", "indices", "indptr"] {
        let path = format!("{group}/{name}");
        for r in f.dataset(&path)?.chunk_records()? {
            out.insert((name.to_string(), r.address.0, r.size));
        }
    }
    Ok(out)
}

fn main() -> h5sparse::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let no_sync = args.iter().any(|a| a == "--no-sync");
    args.retain(|a| a != "--no-sync");
    let src = args
        .first()
        .expect("usage: append_cost FILE.h5ad [GROUP] [ROWS]");
    let group = args.get(1).map_or("/X", String::as_str);
    let rows: i64 = args.get(2).map_or(5000, |r| r.parse().expect("ROWS"));
    let copy = std::env::temp_dir().join(format!("append-cost-{}.h5", std::process::id()));
    let f = File::open(src)?;
    let x = SparseDataset::open(&f, group)?;
    let new_rows = x.read_as::<f32, i32>(&Sel::range(0, rows), &Sel::All)?;
    std::fs::copy(src, &copy)?;
    let before = chunk_set(&File::open(&copy)?, group)?;
    let len0 = std::fs::metadata(&copy)?.len();
    let mut w = Writer::open(&copy)?;
    w.set_commit_sync(!no_sync);
    let t = Instant::now();
    sparse::append(&mut w, group, &new_rows)?;
    let dt = t.elapsed();
    drop(w);
    let len1 = std::fs::metadata(&copy)?.len();
    let after = File::open(&copy)?;
    let chunks: u64 = chunk_set(&after, group)?
        .difference(&before)
        .map(|(_, _, size)| size)
        .sum();
    let growth = len1 - len0;
    println!(
        "appended {rows} rows ({} stored values) in {:.1} ms{}: file +{growth} bytes = {chunks} of new chunks + {} of metadata",
        new_rows.nnz(),
        dt.as_secs_f64() * 1e3,
        if no_sync { " (no sync)" } else { "" },
        growth - chunks
    );
    std::fs::remove_file(&copy)?;
    Ok(())
}
