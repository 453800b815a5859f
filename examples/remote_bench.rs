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
//! `open` opening the file and `/X` alone. Every run opens the URL afresh
//! (nothing cached from the run before); `requests` and `bytes` are the
//! HTTP source's counters for one run (the probe included).

use std::sync::Arc;
use std::time::Instant;

use h5sparse::io::http::HttpSource;
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
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
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
            "usage: remote_bench --url URL --sel selections.json --ops 2,4 [--runs N]".into(),
        );
    }
    let sel: Value = serde_json::from_str(&std::fs::read_to_string(&sel)?)?;
    let med = &sel["medium"];
    let rows = ints(&med["op2_rows"]);
    let cols = ints(&med["op4_cols"]);
    for op in ops.split(',') {
        let mut times = Vec::new();
        let (mut requests, mut bytes, mut check) = (0, 0, 0);
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            let source = Arc::new(HttpSource::open(&url)?);
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
            (requests, bytes) = (st.requests, st.bytes_received);
        }
        times.sort_by(f64::total_cmp);
        let n = times.len();
        let median_s = if n % 2 == 1 {
            times[n / 2]
        } else {
            (times[n / 2 - 1] + times[n / 2]) / 2.0
        };
        let v = serde_json::json!({
            "system": "h5sparse", "op": op, "url": url, "median_s": median_s, "runs": n,
            "requests": requests, "bytes": bytes, "check": check,
        });
        println!("{v}");
    }
    Ok(())
}
