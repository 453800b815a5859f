//! Sparse reads over HTTP, timed from opening the URL to the result, one
//! JSON line per operation:
//! `{"system", "op", "url", "median_s", "runs", "requests", "bytes", "check"}`.
//!
//! `bench/remote` runs it against nginx on loopback (and fsspec + h5py
//! beside it); by hand:
//!
//! ```text
//! cargo run --release --example remote_bench -- --url http://127.0.0.1:8080/medium_anndata.h5ad \
//!     --sel bench/.cache/selections.json --ops 2,4 --runs 5
//! ```
//!
//! Operations (selections from `selections.json`, the same as
//! `examples/bench.rs`): `2` 2000 random rows, `4` `X[:, 100:200]`,
//! `open` opening the file and `/X` alone, `ranges` one
//! `read_ranges` call for 50,000 scattered 20-byte ranges of the file (what
//! a column range asks of every row, at the HTTP source alone).
//! `--no-multi` turns multi-range requests off (`HttpOptions::multi_range`),
//! for comparison. Every run opens the URL afresh
//! (nothing cached from the run before); `requests` and `bytes` are the
//! HTTP source's counters per run (the probe included), averaged over the
//! runs: how a read is split may change from run to run, since the source
//! plans by the throughput it measures.

use std::sync::Arc;
use std::time::Instant;

use h5sparse::io::http::{HttpOptions, HttpSource};
use h5sparse::io::source::ReadAt;
use h5sparse::sparse::{Sel, SparseDataset};
use serde_json::Value;

type BoxError = Box<dyn std::error::Error>;

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
}

fn main() -> Result<(), BoxError> {
    let (mut url, mut sel, mut ops, mut runs) = (String::new(), String::new(), String::new(), 5);
    let mut multi = true;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--no-multi" {
            multi = false;
            continue;
        }
        let val = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => url = val,
            "--sel" => sel = val,
            "--ops" => ops = val,
            "--runs" => runs = val.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if url.is_empty() || sel.is_empty() || ops.is_empty() {
        return Err(
            "usage: remote_bench --url URL --sel selections.json --ops 2,4 [--runs N] [--no-multi]"
                .into(),
        );
    }
    let sel: Value = serde_json::from_str(&std::fs::read_to_string(&sel)?)?;
    let med = &sel["medium"];
    let rows = ints(&med["op2_rows"]);
    let cols = ints(&med["op4_cols"]);
    for op in ops.split(',') {
        let mut times = Vec::new();
        let (mut requests, mut bytes, mut check) = (0u64, 0u64, 0);
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            let opts = HttpOptions::default().multi_range(multi);
            let source = Arc::new(HttpSource::open_with(&url, opts)?);
            if op == "ranges" {
                let ranges = scattered(source.len(), 50_000, 20);
                let got = source.read_ranges(&ranges)?;
                check = got.iter().map(|g| g.len() as u64).sum();
                times.push(t.elapsed().as_secs_f64());
                let st = source.stats();
                requests += st.requests;
                bytes += st.bytes_received;
                continue;
            }
            let file = h5sparse::File::open_source(Box::new(source.clone()))?;
            let x = SparseDataset::open(&file, "/X")?;
            check = match op {
                "open" => x.nnz(),
                "2" => x.read::<f32>(&Sel::Indices(rows.clone()), &Sel::All)?.nnz() as u64,
                "4" => x
                    .read::<f32>(&Sel::All, &Sel::range(cols[0], cols[1]))?
                    .nnz() as u64,
                other => return Err(format!("unknown op {other}").into()),
            };
            times.push(t.elapsed().as_secs_f64());
            let st = source.stats();
            requests += st.requests;
            bytes += st.bytes_received;
        }
        times.sort_by(f64::total_cmp);
        let n = times.len();
        let median_s = if n % 2 == 1 {
            times[n / 2]
        } else {
            (times[n / 2 - 1] + times[n / 2]) / 2.0
        };
        let system = if multi {
            "h5sparse"
        } else {
            "h5sparse-no-multi"
        };
        let v = serde_json::json!({
            "system": system, "op": op, "url": url, "median_s": median_s, "runs": n,
            "requests": requests as f64 / n as f64, "bytes": bytes as f64 / n as f64,
            "check": check,
        });
        println!("{v}");
    }
    Ok(())
}

/// `n` ranges of `len` bytes at random places past the first MiB of a file
/// of `size` bytes (a fixed sequence: every run asks the same).
fn scattered(size: u64, n: usize, len: u64) -> Vec<std::ops::Range<u64>> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let span = size.saturating_sub((1 << 20) + len).max(1);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let at = (1 << 20) + (x >> 11) % span;
            at..at + len
        })
        .collect()
}
