//! The operations of issue 6 on one file, timed in process with a warm page
//! cache, one JSON line per operation:
//! `{"system", "op", "file", "median_s", "runs", "peak_rss_mb", "check"}`.
//!
//! `bench/compare` calls it; by hand:
//!
//! ```text
//! cargo run --release --example bench -- --file bench/.cache/medium_anndata.h5ad \
//!     --sel bench/.cache/selections.json --ops 1,1-view,2,4 --runs 5
//! ```
//!
//! Operations (the selections come from `selections.json`, written by
//! `bench/gen-data`, so every system reads exactly the same entries):
//! `1` 20 blocks of 1000 rows, `1-view` the same as zero-copy views,
//! `2` 2000 sorted random rows, `3` a 10% row mask, `4` `X[:, 100:200]`,
//! `5` 1000 single elements, `6` the full matrix, `7`/`7-gzip` writing the
//! full matrix from memory (no fsync, like h5py's close), `8` appending 5000
//! rows to a copy of the file, `9-slice`/`9-list` rows 1:5 and [1,5,10,13]
//! (run those in a fresh process: `peak_rss_mb` is then what the read adds).
//! `N-memcpy` copies the bytes of `data`/`indices`/`indptr` that operation N
//! touches, from memory into fresh vectors: the floor for a copying read.
//!
//! `--open pread` reads the file through positional reads
//! (`File::open_source` with a `FileSource`: no memory map, the path for
//! network file systems) instead of the memory map; its lines say
//! `"system": "h5sparse-pread"`.
//!
//! `peak_rss_mb` is the growth of the process's peak resident set during the
//! operation's runs (`/proc/self/clear_refs` resets the peak first), so it
//! includes file pages the operation maps in.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use h5sparse::read::H5Type;
use h5sparse::sparse::{self, Sel, SparseDataset, SparseWriteOptions};
use h5sparse::write::Writer;
use serde_json::Value;

type BoxError = Box<dyn std::error::Error>;

struct Args {
    file: PathBuf,
    sel: PathBuf,
    ops: Vec<String>,
    runs: usize,
    tmp: PathBuf,
    group: String,
    /// A run that takes longer than this ends the repetitions early.
    budget: Duration,
    /// Read through positional reads instead of the memory map.
    pread: bool,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut a = Args {
        file: PathBuf::new(),
        sel: PathBuf::new(),
        ops: Vec::new(),
        runs: 5,
        tmp: std::env::temp_dir(),
        group: "/X".into(),
        budget: Duration::from_secs(120),
        pread: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--file" => a.file = val()?.into(),
            "--sel" => a.sel = val()?.into(),
            "--ops" => a.ops = val()?.split(',').map(str::to_owned).collect(),
            "--runs" => a.runs = val()?.parse()?,
            "--tmp" => a.tmp = val()?.into(),
            "--group" => a.group = val()?,
            "--budget-s" => a.budget = Duration::from_secs_f64(val()?.parse()?),
            "--open" => {
                a.pread = match val()?.as_str() {
                    "mmap" => false,
                    "pread" => true,
                    other => return Err(format!("--open {other}: mmap or pread").into()),
                }
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if a.file.as_os_str().is_empty() || a.sel.as_os_str().is_empty() || a.ops.is_empty() {
        return Err("usage: bench --file F --sel selections.json --ops 1,2,.. [--runs N] [--tmp DIR] [--group /X] [--budget-s S] [--open mmap|pread]".into());
    }
    Ok(a)
}

/// A field of `/proc/self/status` in kB.
fn status_kb(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Resets the peak RSS (VmHWM) to the current RSS (Linux ≥ 4.0).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Growth of allocated (RssAnon) and file-mapped (RssFile) resident memory
/// while the result of one `read` is held, in MB.
fn split_rss<R>(read: impl FnOnce() -> h5sparse::Result<R>) -> Result<(f64, f64), BoxError> {
    let (a0, f0) = (status_kb("RssAnon:"), status_kb("RssFile:"));
    let held = read()?;
    let (a1, f1) = (status_kb("RssAnon:"), status_kb("RssFile:"));
    drop(held);
    Ok((
        a1.saturating_sub(a0) as f64 / 1024.0,
        f1.saturating_sub(f0) as f64 / 1024.0,
    ))
}

struct Measured {
    median_s: f64,
    runs: usize,
    peak_rss_mb: f64,
}

/// Runs `prepare` then times `op` up to `runs` times; the peak RSS growth
/// covers the timed parts and whatever `prepare` allocates.
fn measure<S>(
    runs: usize,
    budget: Duration,
    mut prepare: impl FnMut() -> Result<S, BoxError>,
    mut op: impl FnMut(S) -> Result<u64, BoxError>,
) -> Result<(Measured, u64), BoxError> {
    reset_peak();
    let base = status_kb("VmRSS:");
    let mut times = Vec::with_capacity(runs);
    let mut check = 0;
    for _ in 0..runs.max(1) {
        let s = prepare()?;
        let t = Instant::now();
        check = op(s)?;
        let dt = t.elapsed();
        times.push(dt.as_secs_f64());
        if dt > budget {
            break;
        }
    }
    let peak = status_kb("VmHWM:").saturating_sub(base);
    times.sort_by(f64::total_cmp);
    let n = times.len();
    let median_s = if n % 2 == 1 {
        times[n / 2]
    } else {
        (times[n / 2 - 1] + times[n / 2]) / 2.0
    };
    Ok((
        Measured {
            median_s,
            runs: n,
            peak_rss_mb: peak as f64 / 1024.0,
        },
        check,
    ))
}

fn emit(
    system: &str,
    op: &str,
    file: &str,
    m: &Measured,
    check: u64,
    note: Option<&str>,
    rss_split: Option<(f64, f64)>,
) {
    let mut v = serde_json::json!({
        "system": if op.ends_with("-memcpy") { "memcpy" } else { system },
        "op": op.trim_end_matches("-memcpy"),
        "file": file,
        "median_s": m.median_s,
        "runs": m.runs,
        "peak_rss_mb": (m.peak_rss_mb * 100.0).round() / 100.0,
        "check": check,
    });
    if let Some(n) = note {
        v["note"] = n.into();
    }
    if let Some((anon, file)) = rss_split {
        v["anon_mb"] = ((anon * 100.0).round() / 100.0).into();
        v["file_mb"] = ((file * 100.0).round() / 100.0).into();
    }
    println!("{v}");
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
}

fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    let sel: Value = serde_json::from_str(&std::fs::read_to_string(&args.sel)?)?;
    let file = if args.pread {
        let source = h5sparse::io::source::FileSource::open(&args.file)?;
        h5sparse::File::open_source(Box::new(source))?
    } else {
        h5sparse::File::open(&args.file)?
    };
    let x = SparseDataset::open(&file, &args.group)?;
    match x.dtype().numpy_str().as_str() {
        "<f4" => run::<f32>(&args, &sel, &x),
        "<f8" => run::<f64>(&args, &sel, &x),
        other => Err(format!("data dtype {other}: only float32/float64 are benchmarked").into()),
    }
}

fn run<T: H5Type>(args: &Args, sel: &Value, x: &SparseDataset<'_>) -> Result<(), BoxError> {
    let name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let med = &sel["medium"];
    let ones = &sel["ones"];
    let block = med["op1_block_len"].as_i64().unwrap_or(1000);
    let starts = ints(&med["op1_block_starts"]);
    let rows = ints(&med["op2_rows"]);
    let mask_rows = ints(&med["op3_mask_rows"]);
    let cols = ints(&med["op4_cols"]);
    let points: Vec<(i64, i64)> = med["op5_points"]
        .as_array()
        .map(|a| a.iter().map(|p| (ints(p)[0], ints(p)[1])).collect())
        .unwrap_or_default();
    let append = ints(&med["op8_append_rows"]);
    let slice9 = ints(&ones["op9_slice"]);
    let rows9 = ints(&ones["op9_rows"]);
    let n_rows = x.shape()[0] as usize;
    let (runs, budget) = (args.runs, args.budget);
    let none = || Ok::<(), BoxError>(());
    let tmp_dir = args
        .tmp
        .join(format!("h5sparse-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp_dir)?;

    for op in &args.ops {
        let mut note: Option<String> = None;
        let mut extra: Option<(f64, f64)> = None;
        let nnz = |m: sprs::CsMatI<T, i32>| m.nnz() as u64;
        let (m, check) = match op.as_str() {
            "1" => measure(runs, budget, none, |()| {
                let mut n = 0;
                for &s in &starts {
                    n += nnz(black_box(
                        x.read_as::<T, i32>(&Sel::range(s, s + block), &Sel::All)?,
                    ));
                }
                Ok(n)
            })?,
            "1-reuse" => measure(runs, budget, none, |()| {
                // The caller hands each block back for the next read.
                let mut n = 0;
                let mut m = sprs::CsMatI::<T, i32>::zero((0, 0));
                for &s in &starts {
                    m = x.read_as_reusing(&Sel::range(s, s + block), &Sel::All, m)?;
                    n += black_box(&m).nnz() as u64;
                }
                Ok(n)
            })?,
            "1-view" => {
                // Rows whose bytes are not back to back in the file (a
                // B-tree node between two chunks, compression) have no view:
                // they are read by copying, as a caller would. Each block is
                // checked once against the copying read.
                let (mut borrowed, mut copied) = (0u64, 0u64);
                for &s in &starts {
                    let mut entries = 0u64;
                    for (rows, v) in x.major_views::<T, i32, i32>(s as u64, (s + block) as u64)? {
                        match v {
                            Some(v) => {
                                borrowed += rows.end - rows.start;
                                entries += v.nnz() as u64;
                            }
                            None => {
                                copied += rows.end - rows.start;
                                entries += nnz(x.read_as::<T, i32>(
                                    &Sel::range(rows.start as i64, rows.end as i64),
                                    &Sel::All,
                                )?);
                            }
                        }
                    }
                    let whole = nnz(x.read_as::<T, i32>(&Sel::range(s, s + block), &Sel::All)?);
                    if entries != whole {
                        return Err(format!(
                            "views of block {s}: {entries} entries, read: {whole}"
                        )
                        .into());
                    }
                }
                note = Some(format!(
                    "{borrowed} of {} rows zero-copy, {copied} copied",
                    borrowed + copied
                ));
                measure(runs, budget, none, |()| {
                    let mut n = 0;
                    for &s in &starts {
                        for (rows, v) in
                            x.major_views::<T, i32, i32>(s as u64, (s + block) as u64)?
                        {
                            n += match v {
                                Some(v) => black_box(v).nnz() as u64,
                                None => nnz(black_box(x.read_as::<T, i32>(
                                    &Sel::range(rows.start as i64, rows.end as i64),
                                    &Sel::All,
                                )?)),
                            };
                        }
                    }
                    Ok(n)
                })?
            }
            "2" => measure(runs, budget, none, |()| {
                Ok(nnz(x.read_as::<T, i32>(
                    &Sel::Indices(rows.clone()),
                    &Sel::All,
                )?))
            })?,
            "3" => {
                let mut mask = vec![false; n_rows];
                for &r in &mask_rows {
                    mask[r as usize] = true;
                }
                measure(runs, budget, none, |()| {
                    Ok(nnz(
                        x.read_as::<T, i32>(&Sel::Mask(mask.clone()), &Sel::All)?
                    ))
                })?
            }
            "4" => measure(runs, budget, none, |()| {
                Ok(nnz(x.read_as::<T, i32>(
                    &Sel::All,
                    &Sel::range(cols[0], cols[1]),
                )?))
            })?,
            "5" => measure(runs, budget, none, |()| {
                let mut found = 0;
                for &(r, c) in &points {
                    let v: T = black_box(x.get::<T>(r, c)?);
                    found += u64::from(bytemuck::bytes_of(&v).iter().any(|&b| b != 0));
                }
                Ok(found)
            })?,
            "6" => measure(runs, budget, none, |()| {
                Ok(nnz(x.to_memory_as::<T, i32>()?))
            })?,
            "7" | "7-gzip" => {
                let full = x.to_memory_as::<T, i32>()?;
                let opts = SparseWriteOptions {
                    compression: (op == "7-gzip").then_some(4),
                    ..Default::default()
                };
                let out = tmp_dir.join("write.h5");
                let r = measure(runs, budget, none, |()| {
                    let mut w = Writer::create(&out)?;
                    sparse::write_matrix(&mut w, "/X", full.view(), &opts)?;
                    drop(w);
                    Ok(std::fs::metadata(&out)?.len())
                })?;
                let _ = std::fs::remove_file(&out);
                r
            }
            "8" => {
                let new_rows = x.read_as::<T, i32>(&Sel::range(append[0], append[1]), &Sel::All)?;
                let copy = tmp_dir.join(format!("append-{name}"));
                let r = measure(
                    runs,
                    budget,
                    || {
                        std::fs::copy(&args.file, &copy)?;
                        Ok(())
                    },
                    |()| {
                        let mut w = Writer::open(&copy)?;
                        sparse::append(&mut w, &args.group, &new_rows)?;
                        drop(w);
                        Ok(new_rows.nnz() as u64)
                    },
                )?;
                let _ = std::fs::remove_file(&copy);
                r
            }
            "9-slice" => {
                extra = Some(split_rss(|| {
                    x.read_as::<T, i32>(&Sel::range(slice9[0], slice9[1]), &Sel::All)
                })?);
                measure(runs, budget, none, |()| {
                    Ok(nnz(x.read_as::<T, i32>(
                        &Sel::range(slice9[0], slice9[1]),
                        &Sel::All,
                    )?))
                })?
            }
            "9-list" => {
                extra = Some(split_rss(|| {
                    x.read_as::<T, i32>(&Sel::Indices(rows9.clone()), &Sel::All)
                })?);
                measure(runs, budget, none, |()| {
                    Ok(nnz(x.read_as::<T, i32>(
                        &Sel::Indices(rows9.clone()),
                        &Sel::All,
                    )?))
                })?
            }
            "1-memcpy" | "2-memcpy" | "3-memcpy" | "6-memcpy" => {
                let raw = Raw::load::<T>(x)?;
                let ranges: Vec<(usize, usize)> = match op.as_str() {
                    "1-memcpy" => starts
                        .iter()
                        .map(|&s| (s as usize, (s + block) as usize))
                        .collect(),
                    "2-memcpy" => rows.iter().map(|&r| (r as usize, r as usize + 1)).collect(),
                    "3-memcpy" => mask_rows
                        .iter()
                        .map(|&r| (r as usize, r as usize + 1))
                        .collect(),
                    _ => vec![(0, n_rows)],
                };
                measure(runs, budget, none, |()| Ok(raw.copy(&ranges)))?
            }
            other => return Err(format!("unknown op {other}").into()),
        };
        let system = if args.pread {
            "h5sparse-pread"
        } else {
            "h5sparse"
        };
        emit(system, op, &name, &m, check, note.as_deref(), extra);
    }
    let _ = std::fs::remove_dir_all(&tmp_dir);
    Ok(())
}

/// `data`, `indices` and `indptr` as raw bytes in memory, for the memcpy
/// floor.
struct Raw {
    data: Vec<u8>,
    indices: Vec<u8>,
    indptr: Vec<u8>,
    ptr: Vec<usize>,
    value_size: usize,
    index_size: usize,
    ptr_size: usize,
}

impl Raw {
    fn load<T: H5Type>(x: &SparseDataset<'_>) -> Result<Raw, BoxError> {
        fn bytes_of<I: H5Type>(v: Vec<I>) -> Vec<u8> {
            bytemuck::cast_slice(&v).to_vec()
        }
        fn index_bytes(d: &h5sparse::read::Dataset<'_>) -> Result<(Vec<u8>, usize), BoxError> {
            Ok(match d.dtype().numpy_str().as_str() {
                "<i4" => (bytes_of(d.read::<i32>()?), 4),
                "<i8" => (bytes_of(d.read::<i64>()?), 8),
                other => return Err(format!("index dtype {other}").into()),
            })
        }
        let (indices, index_size) = index_bytes(x.indices())?;
        let (indptr, ptr_size) = index_bytes(x.indptr())?;
        let ptr = if ptr_size == 4 {
            bytemuck::pod_collect_to_vec::<u8, i32>(&indptr)
                .into_iter()
                .map(|p| p as usize)
                .collect()
        } else {
            bytemuck::pod_collect_to_vec::<u8, i64>(&indptr)
                .into_iter()
                .map(|p| p as usize)
                .collect()
        };
        Ok(Raw {
            data: bytes_of(x.data().read::<T>()?),
            indices,
            indptr,
            ptr,
            value_size: std::mem::size_of::<T>(),
            index_size,
            ptr_size,
        })
    }

    /// Copies the entries of the given major ranges (merged when adjacent)
    /// into fresh vectors, as a copying read must; returns the entry count.
    fn copy(&self, ranges: &[(usize, usize)]) -> u64 {
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for &(a, b) in ranges {
            match merged.last_mut() {
                Some(last) if last.1 == a => last.1 = b,
                _ => merged.push((a, b)),
            }
        }
        let total: usize = merged.iter().map(|&(a, b)| self.ptr[b] - self.ptr[a]).sum();
        let rows: usize = merged.iter().map(|&(a, b)| b - a).sum();
        let mut data = Vec::with_capacity(total * self.value_size);
        let mut indices = Vec::with_capacity(total * self.index_size);
        let mut indptr = Vec::with_capacity((rows + merged.len()) * self.ptr_size);
        for &(a, b) in &merged {
            let (lo, hi) = (self.ptr[a], self.ptr[b]);
            data.extend_from_slice(&self.data[lo * self.value_size..hi * self.value_size]);
            indices.extend_from_slice(&self.indices[lo * self.index_size..hi * self.index_size]);
            indptr.extend_from_slice(&self.indptr[a * self.ptr_size..(b + 1) * self.ptr_size]);
        }
        black_box((&data, &indices, &indptr));
        total as u64
    }
}
