//! `h5sparse slice FILE GROUP [--rows SEL] [--cols SEL] [--to TARGET]`:
//! reads a sub-matrix of a sparse matrix group and prints or saves it.
//!
//! A selection `SEL` is `START:STOP[:STEP]` (numpy slice semantics), a list
//! `i,j,k` (negatives count from the end), or `@PATH`: a file with one index
//! per line, or a single line of `0`/`1` characters (two or more) read as a
//! boolean mask. Outer indexing: `--rows 0,2 --cols 1:3` takes rows 0 and 2
//! of columns 1 and 2, like numpy's `ix_`.
//!
//! Targets:
//! * `summary` (default): shape, format, dtype, stored entries and their sum
//!   (exact for integers; floats are summed as f64). Without a column
//!   selection (rows, for CSC) no matrix is built: the entries are counted
//!   from `indptr` and the values summed as they stream from the file.
//! * `dense-json`: `{"shape":[r,c],"dense":[[...],...]}`, one line.
//! * `mtx`: Matrix Market coordinate format, 1-based, in stored order.
//! * `csv`: the dense rows, comma-separated.
//! * `OUT.h5[:GROUP]`: a new file holding the selection as a sparse group
//!   (default `/X`) written with both the h5sparse and anndata attributes. An
//!   existing file is never overwritten.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use h5sparse::read::Dtype;
use h5sparse::sparse::{
    write_matrix, IndexType, Sel, SparseDataset, SparseFormat, SparseWriteOptions,
};
use h5sparse::write::Writer;
use h5sparse::{H5Bool, H5Type, F16};
use sprs::{CsMatI, SpIndex};

use crate::CliError;

/// Arguments of `slice`.
#[derive(Args)]
pub struct SliceArgs {
    /// The HDF5 file.
    file: PathBuf,
    /// The sparse matrix group, e.g. `/X` or `/matrix`.
    group: String,
    /// Rows: `START:STOP[:STEP]`, `i,j,k` or `@FILE` (default: all).
    #[arg(long, allow_hyphen_values = true, value_name = "SEL")]
    rows: Option<String>,
    /// Columns: `START:STOP[:STEP]`, `i,j,k` or `@FILE` (default: all).
    #[arg(long, allow_hyphen_values = true, value_name = "SEL")]
    cols: Option<String>,
    /// `summary`, `dense-json`, `mtx`, `csv`, or `OUT.h5[:GROUP]`.
    #[arg(long, default_value = "summary", value_name = "TARGET")]
    to: String,
}

/// Where the selection goes.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    Summary,
    DenseJson,
    Mtx,
    Csv,
    File { path: PathBuf, group: String },
}

/// File name endings accepted for `--to OUT.h5`.
const HDF5_SUFFIXES: [&str; 5] = [".h5", ".h5ad", ".hdf5", ".hdf", ".he5"];

fn parse_target(s: &str) -> Result<Target, CliError> {
    match s {
        "summary" => return Ok(Target::Summary),
        "dense-json" => return Ok(Target::DenseJson),
        "mtx" => return Ok(Target::Mtx),
        "csv" => return Ok(Target::Csv),
        _ => {}
    }
    // OUT.h5:GROUP. A `\` after the colon means a Windows drive (C:\...).
    let (path, group) = match s.rsplit_once(':') {
        Some((p, g)) if p.len() > 1 && !g.contains('\\') => (p, g),
        _ => (s, "/X"),
    };
    if !HDF5_SUFFIXES.iter().any(|x| path.ends_with(x)) {
        return Err(CliError::Message(format!(
            "--to {s}: expected summary, dense-json, mtx, csv, or a file name ending in \
             .h5, .h5ad or .hdf5 (optionally followed by :GROUP)"
        )));
    }
    let group = group.trim_matches('/');
    if group.is_empty()
        || group
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return Err(CliError::Message(format!(
            "--to {s}: the group must be a path such as /X or /layers/counts"
        )));
    }
    Ok(Target::File {
        path: PathBuf::from(path),
        group: format!("/{group}"),
    })
}

/// Parses a selection argument; `@PATH` reads it from a file.
fn parse_sel(flag: &str, s: &str) -> Result<Sel, CliError> {
    let err = |m: String| CliError::Message(format!("--{flag} {s}: {m}"));
    let Some(path) = s.strip_prefix('@') else {
        return Sel::parse(s).map_err(|e| err(message(e)));
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| err(format!("cannot read {path}: {e}")))?;
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(n, l)| (n + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
        .collect();
    if let [(_, line)] = lines.as_slice() {
        if line.len() >= 2 && line.bytes().all(|b| b == b'0' || b == b'1') {
            return Ok(Sel::Mask(line.bytes().map(|b| b == b'1').collect()));
        }
    }
    let indices = lines
        .iter()
        .map(|&(n, l)| {
            l.parse::<i64>()
                .map_err(|_| err(format!("line {n}: {l:?} is not an integer index")))
        })
        .collect::<Result<Vec<i64>, CliError>>()?;
    Ok(Sel::Indices(indices))
}

/// The text of a library error, without the `invalid argument: ` prefix
/// (in a CLI every argument error is one).
pub(crate) fn message(e: h5sparse::Error) -> String {
    match e {
        h5sparse::Error::InvalidArgument(m) => m,
        e => e.to_string(),
    }
}

/// Opens FILE; errors name it (I/O errors already do).
pub(crate) fn open_file(path: &Path) -> Result<h5sparse::File, CliError> {
    h5sparse::File::open_any(&path.to_string_lossy()).map_err(|e| match e {
        h5sparse::Error::Io(_) => CliError::Message(e.to_string()),
        e => CliError::Message(format!("{}: {}", path.display(), message(e))),
    })
}

/// Checks a selection against its axis, naming the axis on failure.
fn check_sel(axis: &str, text: &str, sel: &Sel, len: u64) -> Result<(), CliError> {
    // Slices clamp like numpy's and cannot fail here (a zero step fails to
    // parse); resolving them would allocate an index per element of the axis.
    if matches!(sel, Sel::All | Sel::Slice { .. }) {
        return Ok(());
    }
    sel.resolve(len).map(|_| ()).map_err(|e| {
        let hint = match sel {
            Sel::Mask(_) => {
                "; a file holding one line of 0s and 1s is a mask: write a single index \
                 such as 10 as +10"
            }
            _ => "",
        };
        let e = message(e);
        CliError::Message(format!("--{axis} {text}: {e} ({axis}{hint})"))
    })
}

/// Runs `slice`.
pub fn run(args: &SliceArgs, out: &mut impl Write) -> Result<(), CliError> {
    let target = parse_target(&args.to)?;
    let rows = match &args.rows {
        Some(s) => parse_sel("rows", s)?,
        None => Sel::All,
    };
    let cols = match &args.cols {
        Some(s) => parse_sel("cols", s)?,
        None => Sel::All,
    };
    if let Target::File { path, .. } = &target {
        if path.exists() {
            return Err(CliError::Message(format!(
                "{}: already exists; h5sparse slice does not overwrite files",
                path.display()
            )));
        }
    }
    let file = open_file(&args.file)?;
    let ds = SparseDataset::open(&file, &args.group).map_err(|e| CliError::Message(message(e)))?;
    let [n_rows, n_cols] = ds.shape();
    check_sel("rows", args.rows.as_deref().unwrap_or(":"), &rows, n_rows)?;
    check_sel("cols", args.cols.as_deref().unwrap_or(":"), &cols, n_cols)?;
    let job = Job {
        ds: &ds,
        rows: &rows,
        cols: &cols,
        target: &target,
    };
    match ds.dtype() {
        Dtype::Int { size, signed, .. } => match (size, signed) {
            (1, true) => job.run::<i8>(out),
            (1, false) => job.run::<u8>(out),
            (2, true) => job.run::<i16>(out),
            (2, false) => job.run::<u16>(out),
            (4, true) => job.run::<i32>(out),
            (4, false) => job.run::<u32>(out),
            (8, true) => job.run::<i64>(out),
            (8, false) => job.run::<u64>(out),
            _ => Err(unsupported_dtype(&ds)),
        },
        Dtype::Float { size: 2, .. } => job.run::<F16>(out),
        Dtype::Float { size: 4, .. } => job.run::<f32>(out),
        Dtype::Float { size: 8, .. } => job.run::<f64>(out),
        Dtype::Bool => job.run::<H5Bool>(out),
        _ => Err(unsupported_dtype(&ds)),
    }
}

fn unsupported_dtype(ds: &SparseDataset<'_>) -> CliError {
    CliError::Message(format!(
        "{}/data has dtype {}; slice reads integer, float16/32/64 and bool values",
        ds.group().path(),
        ds.dtype().numpy_str()
    ))
}

/// A value type the CLI can print and sum.
trait Value: H5Type + Default + Copy {
    /// Matrix Market field name.
    const MTX_FIELD: &'static str;
    /// Floating point (summed as f64)?
    const FLOAT: bool;
    /// Appends the value as text (integers as integers, floats with a
    /// decimal point or exponent, shortest round-trip form); `json` asks for
    /// `null` instead of non-finite floats.
    fn put(self, s: &mut String, json: bool);
    /// Adds the value to a running sum.
    fn add_to(self, sum: &mut Sum) -> Result<(), CliError>;
}

/// A running sum: exact for integers.
enum Sum {
    Int(i128),
    Float(f64),
}

impl Sum {
    /// Nothing summed yet, for values of type `T`.
    fn zero<T: Value>() -> Sum {
        if T::FLOAT {
            Sum::Float(0.0)
        } else {
            Sum::Int(0)
        }
    }

    /// Adds every value.
    fn add_all<T: Value>(&mut self, values: &[T]) -> Result<(), CliError> {
        for &v in values {
            v.add_to(self)?;
        }
        Ok(())
    }

    fn text(&self) -> String {
        match self {
            Sum::Int(v) => v.to_string(),
            Sum::Float(v) => {
                let mut s = String::new();
                v.put(&mut s, false);
                s
            }
        }
    }
}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl Value for $t {
            const MTX_FIELD: &'static str = "integer";
            const FLOAT: bool = false;
            fn put(self, s: &mut String, _json: bool) {
                let _ = write!(s, "{self}");
            }
            fn add_to(self, sum: &mut Sum) -> Result<(), CliError> {
                match sum {
                    Sum::Int(v) => {
                        *v = v.checked_add(i128::from(self)).ok_or_else(|| {
                            CliError::Message("the sum overflows 128 bits".into())
                        })?;
                    }
                    Sum::Float(v) => *v += self as f64,
                }
                Ok(())
            }
        }
    )*};
}
int_value!(i8, u8, i16, u16, i32, u32, i64, u64);

macro_rules! float_value {
    ($($t:ty),*) => {$(
        impl Value for $t {
            const MTX_FIELD: &'static str = "real";
            const FLOAT: bool = true;
            fn put(self, s: &mut String, json: bool) {
                if self.is_finite() {
                    // Debug is the shortest round-trip form and keeps `.0`.
                    let _ = write!(s, "{self:?}");
                } else if json {
                    s.push_str("null");
                } else {
                    let _ = write!(s, "{self}");
                }
            }
            fn add_to(self, sum: &mut Sum) -> Result<(), CliError> {
                match sum {
                    Sum::Float(v) => *v += f64::from(self),
                    Sum::Int(_) => *sum = Sum::Float(f64::from(self)),
                }
                Ok(())
            }
        }
    )*};
}
float_value!(f32, f64);

/// numpy's float16: printed and summed as its exact f64 value.
impl Value for F16 {
    const MTX_FIELD: &'static str = "real";
    const FLOAT: bool = true;
    fn put(self, s: &mut String, json: bool) {
        self.to_f64().put(s, json)
    }
    fn add_to(self, sum: &mut Sum) -> Result<(), CliError> {
        self.to_f64().add_to(sum)
    }
}

/// Bools: `true`/`false` in JSON, `1`/`0` in CSV and Matrix Market
/// (an integer field), summed as integers.
impl Value for H5Bool {
    const MTX_FIELD: &'static str = "integer";
    const FLOAT: bool = false;
    fn put(self, s: &mut String, json: bool) {
        let b = bool::from(self);
        s.push_str(match (json, b) {
            (true, true) => "true",
            (true, false) => "false",
            (false, true) => "1",
            (false, false) => "0",
        });
    }
    fn add_to(self, sum: &mut Sum) -> Result<(), CliError> {
        u8::from(bool::from(self)).add_to(sum)
    }
}

/// One slice request, run for the stored value type.
struct Job<'a, 'f> {
    ds: &'a SparseDataset<'f>,
    rows: &'a Sel,
    cols: &'a Sel,
    target: &'a Target,
}

impl Job<'_, '_> {
    fn run<T: Value>(&self, out: &mut impl Write) -> Result<(), CliError> {
        let (major, minor) = match self.ds.format() {
            SparseFormat::Csr => (self.rows, self.cols),
            SparseFormat::Csc => (self.cols, self.rows),
        };
        let [n_rows, n_cols] = self.ds.shape();
        let n_minor = match self.ds.format() {
            SparseFormat::Csr => n_cols,
            SparseFormat::Csc => n_rows,
        };
        let cli = |e| CliError::Message(message(e));
        if *self.target == Target::Summary && minor.is_everything(n_minor) {
            return self.streamed_summary::<T>(major, out);
        }
        // The narrowest index type the result fits (it has at most the
        // selected majors' stored entries): 32-bit halves the memory of
        // sprs's default usize; int32 when the file stores int32, so the
        // indices are copied as they are.
        let entries = self.ds.major_nnz(major).map_err(cli)?;
        let largest = entries.max(n_rows).max(n_cols);
        if largest <= i32::MAX as u64 && self.ds.indices().dtype().numpy_str() == "<i4" {
            self.read_and_emit::<T, i32>(out)
        } else if largest <= u32::MAX as u64 {
            self.read_and_emit::<T, u32>(out)
        } else {
            self.read_and_emit::<T, usize>(out)
        }
    }

    fn read_and_emit<T: Value, I: IndexType>(&self, out: &mut impl Write) -> Result<(), CliError> {
        let m: CsMatI<T, I> = self
            .ds
            .read_as::<T, I>(self.rows, self.cols)
            .map_err(|e| CliError::Message(message(e)))?;
        match self.target {
            Target::Summary => summary(self.ds, &m, out),
            Target::DenseJson => dense_json(&m, out),
            Target::Mtx => mtx(&m, out),
            Target::Csv => csv(&m, out),
            Target::File { path, group } => save(&m, path, group),
        }
    }

    /// The summary of whole majors (rows of CSR) without a matrix: entries
    /// from `indptr`, the sum over `data` as it streams past.
    fn streamed_summary<T: Value>(
        &self,
        major: &Sel,
        out: &mut impl Write,
    ) -> Result<(), CliError> {
        let mut sum = Sum::zero::<T>();
        let mut failed = None;
        let nnz = self
            .ds
            .for_each_major_values::<T>(major, |values| {
                if failed.is_none() {
                    failed = sum.add_all(values).err();
                }
            })
            .map_err(|e| CliError::Message(message(e)))?;
        if let Some(e) = failed {
            return Err(e);
        }
        let [n_rows, n_cols] = self.ds.shape();
        let count = |s: &Sel, n: u64| s.resolve(n).map(|v| v.len());
        let (rows, cols) = match (count(self.rows, n_rows), count(self.cols, n_cols)) {
            (Ok(r), Ok(c)) => (r, c),
            (Err(e), _) | (_, Err(e)) => return Err(CliError::Message(message(e))),
        };
        print_summary(self.ds, (rows, cols), nnz, &sum, out)
    }
}

fn summary<T: Value, I: SpIndex>(
    ds: &SparseDataset<'_>,
    m: &CsMatI<T, I>,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let mut sum = Sum::zero::<T>();
    sum.add_all(m.data())?;
    print_summary(ds, m.shape(), m.nnz() as u64, &sum, out)
}

fn print_summary(
    ds: &SparseDataset<'_>,
    (r, c): (usize, usize),
    nnz: u64,
    sum: &Sum,
    out: &mut impl Write,
) -> Result<(), CliError> {
    writeln!(out, "shape: ({r}, {c})")?;
    writeln!(out, "format: {}", ds.format().as_str())?;
    writeln!(out, "dtype: {}", ds.dtype().numpy_str())?;
    writeln!(out, "nnz: {nnz}")?;
    writeln!(out, "sum: {}", sum.text())?;
    Ok(())
}

/// Calls `row` with each dense row of `m`, in order.
fn dense_rows<T: Value, I: SpIndex>(
    m: &CsMatI<T, I>,
    mut row: impl FnMut(&[T]) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let csr;
    let m = if m.is_csr() {
        m
    } else {
        csr = m.to_csr();
        &csr
    };
    let mut dense = vec![T::default(); m.cols()];
    for r in m.outer_iterator() {
        dense.fill(T::default());
        for (c, &v) in r.iter() {
            dense[c] = v;
        }
        row(&dense)?;
    }
    Ok(())
}

fn dense_json<T: Value, I: SpIndex>(
    m: &CsMatI<T, I>,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let (r, c) = m.shape();
    write!(out, "{{\"shape\":[{r},{c}],\"dense\":[")?;
    let mut first = true;
    let mut line = String::new();
    dense_rows(m, |row| {
        line.clear();
        if !first {
            line.push(',');
        }
        first = false;
        line.push('[');
        for (k, &v) in row.iter().enumerate() {
            if k > 0 {
                line.push(',');
            }
            v.put(&mut line, true);
        }
        line.push(']');
        out.write_all(line.as_bytes())?;
        Ok(())
    })?;
    writeln!(out, "]}}")?;
    Ok(())
}

fn csv<T: Value, I: SpIndex>(m: &CsMatI<T, I>, out: &mut impl Write) -> Result<(), CliError> {
    let mut line = String::new();
    dense_rows(m, |row| {
        line.clear();
        for (k, &v) in row.iter().enumerate() {
            if k > 0 {
                line.push(',');
            }
            v.put(&mut line, false);
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
        Ok(())
    })
}

fn mtx<T: Value, I: SpIndex>(m: &CsMatI<T, I>, out: &mut impl Write) -> Result<(), CliError> {
    let (r, c) = m.shape();
    writeln!(
        out,
        "%%MatrixMarket matrix coordinate {} general",
        T::MTX_FIELD
    )?;
    writeln!(out, "{r} {c} {}", m.nnz())?;
    let mut line = String::new();
    for (outer, vec) in m.outer_iterator().enumerate() {
        for (inner, &v) in vec.iter() {
            let (i, j) = if m.is_csr() {
                (outer, inner)
            } else {
                (inner, outer)
            };
            line.clear();
            let _ = write!(line, "{} {} ", i + 1, j + 1);
            v.put(&mut line, false);
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
    }
    Ok(())
}

/// Writes `m` to a new file through a temporary file beside it, published
/// with a hard link so that an existing file is never replaced.
fn save<T: Value, I: IndexType>(
    m: &CsMatI<T, I>,
    path: &Path,
    group: &str,
) -> Result<(), CliError> {
    let name = path
        .file_name()
        .ok_or_else(|| CliError::Message(format!("{}: not a file name", path.display())))?;
    let tmp = path.with_file_name(format!(
        ".{}.h5sparse-tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> h5sparse::Result<()> {
        let mut w = Writer::create(&tmp)?;
        // Parents of the group first: the writer needs them to exist.
        let parts: Vec<&str> = group.trim_matches('/').split('/').collect();
        for k in 1..parts.len() {
            w.create_group(&format!("/{}", parts[..k].join("/")))?;
        }
        write_matrix(&mut w, group, m.view(), &SparseWriteOptions::default())?;
        w.close()?;
        Ok(())
    })();
    let published = result
        .map_err(|e| CliError::Message(format!("writing {}: {e}", path.display())))
        .and_then(|()| {
            std::fs::hard_link(&tmp, path).map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    CliError::Message(format!(
                        "{}: already exists; h5sparse slice does not overwrite files",
                        path.display()
                    ))
                } else {
                    CliError::Message(format!("{}: {e}", path.display()))
                }
            })
        });
    let _ = std::fs::remove_file(&tmp);
    published
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(parse_target("mtx").unwrap(), Target::Mtx);
        assert_eq!(
            parse_target("out.h5").unwrap(),
            Target::File {
                path: "out.h5".into(),
                group: "/X".into()
            }
        );
        assert_eq!(
            parse_target("dir/out.h5ad:layers/counts").unwrap(),
            Target::File {
                path: "dir/out.h5ad".into(),
                group: "/layers/counts".into()
            }
        );
        assert!(parse_target("json").is_err());
        assert!(parse_target("out.h5:").is_err());
        assert!(parse_target("out.h5:/a//b").is_err());
    }

    #[test]
    fn values_print_by_kind() {
        let mut s = String::new();
        1.0f64.put(&mut s, true);
        s.push(' ');
        0.1f32.put(&mut s, true);
        s.push(' ');
        (-7i8).put(&mut s, true);
        s.push(' ');
        f64::NAN.put(&mut s, true);
        s.push(' ');
        f64::INFINITY.put(&mut s, false);
        assert_eq!(s, "1.0 0.1 -7 null inf");
    }

    #[test]
    fn integer_sums_are_exact() {
        let mut sum = Sum::Int(0);
        u64::MAX.add_to(&mut sum).unwrap();
        u64::MAX.add_to(&mut sum).unwrap();
        assert_eq!(sum.text(), (2 * u64::MAX as i128).to_string());
    }
}
