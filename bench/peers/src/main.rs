//! The read operations of issue 6 through the pure-Rust HDF5 crates
//! `hdf5-pure` and `rust-hdf5`, by hand as with h5py: read `indptr`, then
//! the ranges of `data`/`indices` (consecutive rows merged). One JSON line
//! per operation, the fields of h5sparse's `examples/bench.rs`.
//!
//! ```text
//! cargo run --release -- --system hdf5-pure|rust-hdf5 --file F --sel selections.json --ops 1,2,3,4,5,6 [--runs N]
//! ```
//!
//! Ops 7 and 8 (writing h5py's layout, appending in place) are not
//! attempted. An operation a crate cannot do on a file is reported with an
//! `error` field instead of a time.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

type BoxError = Box<dyn std::error::Error>;
type Res<T> = Result<T, BoxError>;

/// Ranges of the three datasets of a CSR group.
trait Source {
    fn ptr(&self, start: u64, n: u64) -> Res<Vec<i32>>;
    fn idx(&self, start: u64, n: u64) -> Res<Vec<i32>>;
    fn val_f32(&self, start: u64, n: u64) -> Res<Vec<f32>>;
    fn val_f64(&self, start: u64, n: u64) -> Res<Vec<f64>>;
    fn ptr_len(&self) -> Res<u64>;
}

trait Val: Copy + Default + PartialEq {
    fn read(s: &dyn Source, start: u64, n: u64) -> Res<Vec<Self>>;
}
impl Val for f32 {
    fn read(s: &dyn Source, start: u64, n: u64) -> Res<Vec<f32>> {
        s.val_f32(start, n)
    }
}
impl Val for f64 {
    fn read(s: &dyn Source, start: u64, n: u64) -> Res<Vec<f64>> {
        s.val_f64(start, n)
    }
}

// --- hdf5-pure ----------------------------------------------------------------

struct Pure {
    data: hdf5_pure::Dataset,
    indices: hdf5_pure::Dataset,
    indptr: hdf5_pure::Dataset,
}

impl Pure {
    fn open(file: &hdf5_pure::File, group: &str) -> Res<Pure> {
        Ok(Pure {
            data: file.dataset(&format!("{group}/data"))?,
            indices: file.dataset(&format!("{group}/indices"))?,
            indptr: file.dataset(&format!("{group}/indptr"))?,
        })
    }
}

impl Source for Pure {
    fn ptr(&self, start: u64, n: u64) -> Res<Vec<i32>> {
        Ok(self.indptr.read_i32_rows(start, n)?)
    }
    fn idx(&self, start: u64, n: u64) -> Res<Vec<i32>> {
        Ok(self.indices.read_i32_rows(start, n)?)
    }
    fn val_f32(&self, start: u64, n: u64) -> Res<Vec<f32>> {
        Ok(self.data.read_f32_rows(start, n)?)
    }
    fn val_f64(&self, start: u64, n: u64) -> Res<Vec<f64>> {
        Ok(self.data.read_f64_rows(start, n)?)
    }
    fn ptr_len(&self) -> Res<u64> {
        Ok(self.indptr.shape()?[0])
    }
}

// --- rust-hdf5 ----------------------------------------------------------------

struct RustHdf5 {
    data: rust_hdf5::H5Dataset,
    indices: rust_hdf5::H5Dataset,
    indptr: rust_hdf5::H5Dataset,
}

impl RustHdf5 {
    fn open(file: &rust_hdf5::H5File, group: &str) -> Res<RustHdf5> {
        Ok(RustHdf5 {
            data: file.dataset(&format!("{group}/data"))?,
            indices: file.dataset(&format!("{group}/indices"))?,
            indptr: file.dataset(&format!("{group}/indptr"))?,
        })
    }
}

impl Source for RustHdf5 {
    fn ptr(&self, start: u64, n: u64) -> Res<Vec<i32>> {
        Ok(self
            .indptr
            .read_slice::<i32>(&[start as usize], &[n as usize])?)
    }
    fn idx(&self, start: u64, n: u64) -> Res<Vec<i32>> {
        Ok(self
            .indices
            .read_slice::<i32>(&[start as usize], &[n as usize])?)
    }
    fn val_f32(&self, start: u64, n: u64) -> Res<Vec<f32>> {
        Ok(self
            .data
            .read_slice::<f32>(&[start as usize], &[n as usize])?)
    }
    fn val_f64(&self, start: u64, n: u64) -> Res<Vec<f64>> {
        Ok(self
            .data
            .read_slice::<f64>(&[start as usize], &[n as usize])?)
    }
    fn ptr_len(&self) -> Res<u64> {
        Ok(self.indptr.shape()[0] as u64)
    }
}

// --- the operations, by hand ----------------------------------------------------

/// A CSR result: values, column indices, row pointers.
struct Csr<V> {
    data: Vec<V>,
    indices: Vec<i32>,
    indptr: Vec<i64>,
}

impl<V> Csr<V> {
    fn nnz(&self) -> u64 {
        black_box(&self.indptr);
        self.data.len() as u64
    }
}

/// Rows `rows` (sorted), each run of consecutive rows one range read.
fn rows<V: Val>(s: &dyn Source, rows: &[u64], whole_ptr: Option<&[i32]>) -> Res<Csr<V>> {
    let fetched;
    let ptr: &[i32] = match whole_ptr {
        Some(p) => p,
        None => {
            fetched = s.ptr(0, s.ptr_len()?)?;
            &fetched
        }
    };
    let mut out = Csr {
        data: Vec::new(),
        indices: Vec::new(),
        indptr: vec![0],
    };
    let mut i = 0;
    while i < rows.len() {
        let mut j = i + 1;
        while j < rows.len() && rows[j] == rows[j - 1] + 1 {
            j += 1;
        }
        let (lo, hi) = (
            ptr[rows[i] as usize] as u64,
            ptr[rows[j - 1] as usize + 1] as u64,
        );
        out.data.extend(V::read(s, lo, hi - lo)?);
        out.indices.extend(s.idx(lo, hi - lo)?);
        for &r in &rows[i..j] {
            let last = *out.indptr.last().unwrap_or(&0);
            out.indptr
                .push(last + (ptr[r as usize + 1] - ptr[r as usize]) as i64);
        }
        i = j;
    }
    Ok(out)
}

fn block<V: Val>(s: &dyn Source, start: u64, stop: u64) -> Res<Csr<V>> {
    let ptr = s.ptr(start, stop - start + 1)?;
    let (lo, hi) = (ptr[0] as u64, ptr[ptr.len() - 1] as u64);
    Ok(Csr {
        data: V::read(s, lo, hi - lo)?,
        indices: s.idx(lo, hi - lo)?,
        indptr: ptr.iter().map(|&p| (p as u64 - lo) as i64).collect(),
    })
}

fn cols<V: Val>(s: &dyn Source, c0: i32, c1: i32) -> Res<Csr<V>> {
    let ptr = s.ptr(0, s.ptr_len()?)?;
    let nnz = *ptr.last().unwrap_or(&0) as u64;
    let idx = s.idx(0, nnz)?;
    let data = V::read(s, 0, nnz)?;
    let mut out = Csr {
        data: Vec::new(),
        indices: Vec::new(),
        indptr: vec![0],
    };
    for w in ptr.windows(2) {
        for k in w[0] as usize..w[1] as usize {
            if idx[k] >= c0 && idx[k] < c1 {
                out.data.push(data[k]);
                out.indices.push(idx[k] - c0);
            }
        }
        out.indptr.push(out.data.len() as i64);
    }
    Ok(out)
}

fn get<V: Val>(s: &dyn Source, r: u64, c: i32) -> Res<V> {
    let p = s.ptr(r, 2)?;
    let (lo, hi) = (p[0] as u64, p[1] as u64);
    let idx = s.idx(lo, hi - lo)?;
    Ok(match idx.binary_search(&c) {
        Ok(k) => V::read(s, lo + k as u64, 1)?[0],
        Err(_) => V::default(),
    })
}

fn full<V: Val>(s: &dyn Source) -> Res<Csr<V>> {
    let ptr = s.ptr(0, s.ptr_len()?)?;
    let nnz = *ptr.last().unwrap_or(&0) as u64;
    Ok(Csr {
        data: V::read(s, 0, nnz)?,
        indices: s.idx(0, nnz)?,
        indptr: ptr.iter().map(|&p| p as i64).collect(),
    })
}

// --- measuring ----------------------------------------------------------------

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn measure(runs: usize, budget: Duration, mut op: impl FnMut() -> Res<u64>) -> Res<Value> {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let base = status_kb("VmRSS:");
    let mut times = Vec::new();
    let mut check = 0;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        check = op()?;
        let dt = t.elapsed();
        times.push(dt.as_secs_f64());
        if dt > budget {
            break;
        }
    }
    let peak = status_kb("VmHWM:").saturating_sub(base) as f64 / 1024.0;
    times.sort_by(f64::total_cmp);
    let n = times.len();
    let median = if n % 2 == 1 {
        times[n / 2]
    } else {
        (times[n / 2 - 1] + times[n / 2]) / 2.0
    };
    Ok(
        json!({"median_s": median, "runs": n, "peak_rss_mb": (peak * 100.0).round() / 100.0, "check": check}),
    )
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
}

fn run_ops<V: Val>(
    s: &dyn Source,
    sel: &Value,
    op: &str,
    runs: usize,
    budget: Duration,
) -> Res<Value> {
    let med = &sel["medium"];
    let ones = &sel["ones"];
    let block_len = med["op1_block_len"].as_u64().unwrap_or(1000);
    let starts: Vec<u64> = ints(&med["op1_block_starts"])
        .iter()
        .map(|&v| v as u64)
        .collect();
    let rows2: Vec<u64> = ints(&med["op2_rows"]).iter().map(|&v| v as u64).collect();
    let rows3: Vec<u64> = ints(&med["op3_mask_rows"])
        .iter()
        .map(|&v| v as u64)
        .collect();
    let c = ints(&med["op4_cols"]);
    let points: Vec<(u64, i32)> = med["op5_points"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| (ints(p)[0] as u64, ints(p)[1] as i32))
                .collect()
        })
        .unwrap_or_default();
    let s9 = ints(&ones["op9_slice"]);
    let r9: Vec<u64> = ints(&ones["op9_rows"]).iter().map(|&v| v as u64).collect();
    match op {
        "1" => measure(runs, budget, || {
            let mut n = 0;
            for &st in &starts {
                n += block::<V>(s, st, st + block_len)?.nnz();
            }
            Ok(n)
        }),
        "2" => measure(runs, budget, || Ok(rows::<V>(s, &rows2, None)?.nnz())),
        "3" => measure(runs, budget, || Ok(rows::<V>(s, &rows3, None)?.nnz())),
        "4" => measure(runs, budget, || {
            Ok(cols::<V>(s, c[0] as i32, c[1] as i32)?.nnz())
        }),
        "5" => measure(runs, budget, || {
            let mut found = 0;
            for &(r, col) in &points {
                found += u64::from(black_box(get::<V>(s, r, col)?) != V::default());
            }
            Ok(found)
        }),
        "6" => measure(runs, budget, || Ok(full::<V>(s)?.nnz())),
        "9-slice" => measure(runs, budget, || {
            Ok(block::<V>(s, s9[0] as u64, s9[1] as u64)?.nnz())
        }),
        // Four rows, not consecutive: each read on its own (the whole
        // indptr is not read for four rows).
        "9-list" => measure(runs, budget, || {
            let mut n = 0;
            for &r in &r9 {
                n += block::<V>(s, r, r + 1)?.nnz();
            }
            Ok(n)
        }),
        other => Err(format!("op {other} not attempted").into()),
    }
}

fn main() -> Res<()> {
    let mut system = String::new();
    let mut file = String::new();
    let mut sel_path = String::new();
    let mut ops = String::new();
    let mut runs = 5usize;
    let mut budget = Duration::from_secs(120);
    let mut group = "X".to_string();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--system" => system = v,
            "--file" => file = v,
            "--sel" => sel_path = v,
            "--ops" => ops = v,
            "--runs" => runs = v.parse()?,
            "--budget-s" => budget = Duration::from_secs_f64(v.parse()?),
            "--group" => group = v.trim_start_matches('/').to_string(),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let sel: Value = serde_json::from_str(&std::fs::read_to_string(&sel_path)?)?;
    let name = std::path::Path::new(&file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let emit = |op: &str, r: Res<Value>| {
        let mut v = json!({"system": system, "op": op, "file": name});
        match r {
            Ok(m) => {
                for (k, val) in m.as_object().into_iter().flatten() {
                    v[k] = val.clone();
                }
            }
            Err(e) => v["error"] = e.to_string().into(),
        }
        println!("{v}");
    };
    // Opening is not timed (hdf5-pure's File::open reads the whole file
    // into memory; op 9 uses its streaming open, which does not).
    let src: Res<(Box<dyn Source>, bool)> = (|| {
        let want_stream = ops.split(',').all(|o| o.starts_with('9'));
        Ok(match system.as_str() {
            "hdf5-pure" => {
                let f = if want_stream {
                    hdf5_pure::File::open_streaming(&file)?
                } else {
                    hdf5_pure::File::open(&file)?
                };
                let p = Pure::open(&f, &group)?;
                let f64_data = matches!(p.data.dtype()?, hdf5_pure::DType::F64);
                (Box::new(p) as Box<dyn Source>, f64_data)
            }
            "rust-hdf5" => {
                let f = rust_hdf5::H5File::open(&file)?;
                let r = RustHdf5::open(&f, &group)?;
                let f64_data = r.data.element_size() == 8;
                (Box::new(r) as Box<dyn Source>, f64_data)
            }
            other => return Err(format!("unknown system {other}").into()),
        })
    })();
    let (src, f64_data) = match src {
        Ok(s) => s,
        Err(e) => {
            let msg = e.to_string();
            for op in ops.split(',') {
                emit(op, Err(msg.clone().into()));
            }
            return Ok(());
        }
    };
    for op in ops.split(',') {
        let r = if f64_data {
            run_ops::<f64>(src.as_ref(), &sel, op, runs, budget)
        } else {
            run_ops::<f32>(src.as_ref(), &sel, op, runs, budget)
        };
        emit(op, r);
    }
    Ok(())
}
