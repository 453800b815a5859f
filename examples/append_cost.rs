//! What an append costs in bytes: of the new chunks, and of the metadata
//! written beside them, split by structure (chunk B-tree nodes, object
//! headers, group structures, heaps, in-place patches), and how long it
//! takes, with and without the commit's sync.
//!
//! ```text
//! cargo run --release --example append_cost -- FILE.h5ad [GROUP] [ROWS] [--no-sync] [--obs]
//! ```
//!
//! Appends the first ROWS (default 5000) rows of GROUP (default /X) again,
//! to a copy of FILE, with `sparse::append`, and prints every byte written
//! by the structure it belongs to. `--obs` appends whole cells instead
//! (`append_obs_in`: X and obs, with the cells' names made new), twice: the
//! first append converts the contiguous string datasets anndata writes
//! into growable ones, the second shows what every later append costs.
//!
//! `--no-sync`: the commit does not sync first (`Writer::set_commit_sync`),
//! as h5py never does.

use std::collections::{BTreeMap, HashSet};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Instant;

use h5sparse::anndata::{append_obs_in, subset, AnnData, AppendOptions, Take};
use h5sparse::io::sink::{FileSink, Sink};
use h5sparse::sparse::{self, Sel, SparseDataset};
use h5sparse::write::{Backing, MappedFile, Writer};
use h5sparse::{CharSet, Dtype, File, Node, Values};

/// A backing that remembers where every write went.
struct Recording {
    inner: MappedFile,
    writes: Vec<(u64, u64)>,
}

impl Sink for Recording {
    fn write_at(&mut self, pos: u64, data: &[u8]) -> io::Result<()> {
        self.writes.push((pos, data.len() as u64));
        self.inner.write_at(pos, data)
    }
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<()> {
        self.inner.read_at(pos, buf)
    }
    fn len(&self) -> io::Result<u64> {
        self.inner.len()
    }
    fn sync(&mut self) -> io::Result<()> {
        self.inner.sync()
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.inner.set_len(len)
    }
}

impl Backing for Recording {
    fn contents(&mut self) -> io::Result<&[u8]> {
        self.inner.contents()
    }
    fn path(&self) -> Option<&Path> {
        self.inner.path()
    }
}

/// Every stored chunk of every chunked dataset: (address, size).
fn chunks(f: &File) -> h5sparse::Result<HashSet<(u64, u64)>> {
    let mut out = HashSet::new();
    let mut stack = vec![f.root()?];
    while let Some(g) = stack.pop() {
        for l in g.links()? {
            match g.follow(&l) {
                Ok(Node::Group(c)) => stack.push(c),
                Ok(Node::Dataset(d)) if d.chunks().is_some() => {
                    for r in d.chunk_records()? {
                        out.insert((r.address.0, r.size));
                    }
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

/// The structure that starts at `pos` of the file, by its signature.
fn structure(file: &mut std::fs::File, pos: u64) -> io::Result<&'static str> {
    let mut b = [0u8; 6];
    file.seek(SeekFrom::Start(pos))?;
    file.read_exact(&mut b)?;
    Ok(match &b[..4] {
        b"TREE" if b[4] == 1 => "chunk B-tree nodes",
        b"TREE" => "group B-tree nodes",
        b"SNOD" => "symbol-table nodes",
        b"HEAP" => "local heap headers",
        b"GCOL" => "global heap collections",
        b"OHDR" | b"OCHK" => "object headers (v2)",
        b"\x89HDF" => "superblock",
        b"BTHD" | b"BTIN" | b"BTLF" | b"FRHP" | b"FHDB" | b"FHIB" => "dense storage",
        b"FAHD" | b"FADB" | b"EAHD" | b"EAIB" | b"EASB" | b"EADB" => "chunk index (v4)",
        _ if b[0] == 1 && b[1] == 0 => "object headers (v1)",
        _ => "other (heap data, continuation blocks)",
    })
}

/// One operation's writes, split by what they wrote.
fn report(path: &Path, writes: &[(u64, u64)], old_len: u64, new_chunks: &HashSet<(u64, u64)>) {
    let chunk_at: HashSet<u64> = new_chunks.iter().map(|c| c.0).collect();
    let mut file = std::fs::File::open(path).expect("the copy");
    let mut by: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for &(pos, len) in writes {
        let what = if pos < old_len && pos != 0 {
            "in place (sibling links, patches)"
        } else if chunk_at.contains(&pos) {
            "new chunks"
        } else {
            structure(&mut file, pos).unwrap_or("unreadable")
        };
        if std::env::var_os("APPEND_COST_VERBOSE").is_some() {
            println!("    {pos:>12} {len:>10} {what}");
        }
        let e = by.entry(what).or_default();
        e.0 += 1;
        e.1 += len;
    }
    let total: u64 = by.values().map(|e| e.1).sum();
    let chunk_bytes = by.get("new chunks").map_or(0, |e| e.1);
    for (what, (n, bytes)) in &by {
        println!("  {what:<40} {n:>6} writes {bytes:>12} bytes");
    }
    println!(
        "  {:<40} {:>6}        {:>12} bytes ({} beside the chunks)",
        "total",
        writes.len(),
        total,
        total - chunk_bytes
    );
}

/// Copies `src` to `copy`, runs `op` on a writer over it, prints the
/// breakdown.
fn measure(
    copy: &Path,
    no_sync: bool,
    what: &str,
    op: impl FnOnce(&mut Writer<Recording>) -> h5sparse::Result<()>,
) -> h5sparse::Result<()> {
    let before = chunks(&File::open(copy)?)?;
    let len0 = std::fs::metadata(copy)?.len();
    let sink = Recording {
        inner: MappedFile::new(FileSink::open_rw(copy)?),
        writes: Vec::new(),
    };
    let mut w = Writer::open_in(sink)?;
    w.set_commit_sync(!no_sync);
    let t = Instant::now();
    op(&mut w)?;
    let dt = t.elapsed();
    let writes = w.close()?.writes;
    let len1 = std::fs::metadata(copy)?.len();
    let new_chunks: HashSet<(u64, u64)> = chunks(&File::open(copy)?)?
        .difference(&before)
        .copied()
        .collect();
    println!(
        "{what} in {:.1} ms{}: file +{} bytes",
        dt.as_secs_f64() * 1e3,
        if no_sync { " (no sync)" } else { "" },
        len1 - len0
    );
    report(copy, &writes, len0, &new_chunks);
    Ok(())
}

/// The first `rows` cells of `src` as an `.h5ad` at `out`, renamed
/// `new-<i>-<name>` (obs names must stay unique).
fn source_cells(src: &Path, rows: u64, out: &Path, round: u32) -> h5sparse::Result<()> {
    let all = AnnData::open(&h5sparse::H5File::open(src)?)?;
    subset(
        &all,
        &Take::Indices((0..rows).collect()),
        &Take::All,
        out,
        &Default::default(),
    )?;
    let f = File::open(out)?;
    let index = f.dataset("/obs/_index")?;
    let names = match index.values()? {
        Values::Str(v) => v,
        _ => return Err(h5sparse::Error::invalid("obs names are not strings")),
    };
    let attrs: Vec<(String, String)> = ["encoding-type", "encoding-version"]
        .iter()
        .filter_map(|n| {
            let a = index.attribute(n).ok()??;
            match a.values().ok()? {
                Values::Str(v) => Some((n.to_string(), v.first()?.clone())),
                _ => None,
            }
        })
        .collect();
    drop(f);
    let renamed: Vec<String> = names.iter().map(|n| format!("new{round}-{n}")).collect();
    let mut w = Writer::open(out)?;
    w.unlink("/obs/_index")?;
    let utf8 = Dtype::VarString {
        charset: CharSet::Utf8,
    };
    w.create_dataset_values(
        "/obs/_index",
        &utf8,
        &[rows],
        &Values::Str(renamed),
        &Default::default(),
    )?;
    for (n, v) in attrs {
        w.set_attr_str("/obs/_index", &n, &v)?;
    }
    w.close()?;
    Ok(())
}

fn main() -> h5sparse::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let no_sync = args.iter().any(|a| a == "--no-sync");
    let obs = args.iter().any(|a| a == "--obs");
    args.retain(|a| a != "--no-sync" && a != "--obs");
    let src = args
        .first()
        .expect("usage: append_cost FILE.h5ad [GROUP] [ROWS] [--no-sync] [--obs]");
    let src = Path::new(src);
    let group = args.get(1).map_or("/X", String::as_str);
    let rows: u64 = args.get(2).map_or(5000, |r| r.parse().expect("ROWS"));
    let tmp = std::env::temp_dir().join(format!("append-cost-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let copy = tmp.join("target.h5ad");
    std::fs::copy(src, &copy)?;
    let result = if obs {
        (|| {
            for round in 1..=2 {
                let cells = tmp.join(format!("cells{round}.h5ad"));
                source_cells(src, rows, &cells, round)?;
                let source = File::open(&cells)?;
                let what = format!("append-obs #{round} of {rows} cells");
                measure(&copy, no_sync, &what, |w| {
                    append_obs_in(w, &source, &AppendOptions::default(), &mut |_, _| {}).map(drop)
                })?;
            }
            Ok(())
        })()
    } else {
        (|| {
            let f = File::open(src)?;
            let x = SparseDataset::open(&f, group)?;
            let new_rows = x.read_as::<f32, i32>(&Sel::range(0, rows as i64), &Sel::All)?;
            let what = format!(
                "sparse::append of {rows} rows ({} stored values) to {group}",
                new_rows.nnz()
            );
            measure(&copy, no_sync, &what, |w| {
                sparse::append(w, group, &new_rows)
            })
        })()
    };
    std::fs::remove_dir_all(&tmp)?;
    result
}
