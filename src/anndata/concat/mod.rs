//! `anndata.concat(adatas, axis="obs", ...)` written to a new `.h5ad`
//! file, streaming: the result `anndata.concat` builds in memory (and
//! `anndata.experimental.concat_on_disk` writes) for the same arguments,
//! with every matrix copied block by block, so memory stays bounded by
//! the block budget whatever the inputs' sizes.
//!
//! What the result holds, as anndata 0.12 makes it with its defaults
//! (`merge=None`, `uns_merge=None`, `pairwise=False`, `fill_value=None`):
//! * `obs`: the inputs' rows one after the other, columns joined by
//!   [`Join`] and their types unified as pandas does (see below); obs
//!   names kept, or made unique with `index_unique` (`name{SEP}{key}`);
//!   `label` adds a categorical column of the inputs' keys (`0`, `1`, …
//!   unless given).
//! * `var`: the inputs' var names intersected (inner, in the first input's
//!   order) or united (outer: sorted, unless every input has the same
//!   names), without columns.
//! * `X` and `layers` (inner: the layers every input has; outer: any
//!   layer, zeros or NaN where an input lacks it), columns moved to the
//!   result's var order; CSR when any input is sparse, dense otherwise;
//!   values in numpy's common type.
//! * `obsm`: inner, the keys every input has, arrays cut to the fewest
//!   columns; outer, every key, arrays padded to the most columns with NaN
//!   (zeros when sparse); dataframes joined like `obs`.
//! * `raw`, when every input has one: its X stacked along raw's var names
//!   the same way, raw.var its names only; dropped otherwise.
//! * `obsp`, `varm`, `varp` and `uns` are dropped.
//!
//! `obs` columns: categoricals merge their categories (union,
//! natural-sorted, unordered); ordered ones stay so only when they all
//! have the same categories, else they become strings. Missing rows of an
//! outer join are NaN (integers turn float64), `<NA>` in nullable
//! columns, and turn bool columns into nullable booleans. String columns
//! with repeated values (or missing ones) are written as categoricals, as
//! `write_h5ad` does.
//!
//! Not supported (anndata's non-default options): `axis="var"`, `merge`,
//! `uns_merge`, `pairwise=True`, `fill_value`; nor inputs some of which
//! lack `X`, or awkward arrays.
//!
//! ```
//! use h5sparse::anndata::{concat, AnnData, ConcatOptions, Join, WriteOptions};
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad");
//! let f = h5sparse::H5File::open(path)?;
//! let a = AnnData::open(&f)?;
//! # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-concat", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! let out = dir.join("twice.h5ad");
//! let opts = ConcatOptions::default().join(Join::Outer).label("batch").index_unique("-");
//! concat(&[&a, &a], &out, &opts, &WriteOptions::default())?;
//! let both = AnnData::open(&h5sparse::H5File::open(&out)?)?;
//! assert_eq!((both.n_obs(), both.n_vars()), (40, 12));
//! assert_eq!(both.obs_names()?[20], "cell_00-1");
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), h5sparse::Error>(())
//! ```

pub(crate) mod dtype;
mod frame;
mod index;
pub(crate) mod matrix;

use std::path::Path;
use std::sync::Arc;

use self::frame::concat_frames;
use self::index::{check_unique, intersection, positions, union};
use self::matrix::{ColumnMap, Input, Part, Stack};
use super::dataframe::Storage;
use super::write::{H5adWriter, KernelCopy, WriteOptions};
use super::{AnnData, ColumnData, DataFrame, DataFrameData, Element};
use crate::error::{Error, Result};
use crate::read::{File, Values};

/// How the axis not concatenated along (var) is joined.
///
/// ```
/// assert_eq!(h5sparse::anndata::Join::default(), h5sparse::anndata::Join::Inner);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Join {
    /// The names every input has (anndata's default).
    #[default]
    Inner,
    /// The names any input has.
    Outer,
}

/// `anndata.concat`'s arguments: `join`, `label`, `keys`,
/// `index_unique`.
///
/// ```
/// use h5sparse::anndata::{ConcatOptions, Join};
/// let o = ConcatOptions::default().join(Join::Outer).label("batch").keys(["a", "b"]);
/// assert_eq!((o.join, o.label.as_deref()), (Join::Outer, Some("batch")));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConcatOptions {
    /// Inner or outer join of var.
    pub join: Join,
    /// A column of `obs` to hold each row's input key.
    pub label: Option<String>,
    /// One key per input (default `0`, `1`, …).
    pub keys: Option<Vec<String>>,
    /// Make obs names unique as `name{SEP}{key}`.
    pub index_unique: Option<String>,
}

impl ConcatOptions {
    /// Sets the join.
    ///
    /// ```
    /// use h5sparse::anndata::{ConcatOptions, Join};
    /// assert_eq!(ConcatOptions::default().join(Join::Outer).join, Join::Outer);
    /// ```
    pub fn join(mut self, join: Join) -> Self {
        self.join = join;
        self
    }

    /// Sets the label column.
    ///
    /// ```
    /// let o = h5sparse::anndata::ConcatOptions::default().label("batch");
    /// assert_eq!(o.label.as_deref(), Some("batch"));
    /// ```
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the inputs' keys.
    ///
    /// ```
    /// let o = h5sparse::anndata::ConcatOptions::default().keys(["ctrl", "treated"]);
    /// assert_eq!(o.keys, Some(vec!["ctrl".to_string(), "treated".to_string()]));
    /// ```
    pub fn keys<S: Into<String>>(mut self, keys: impl IntoIterator<Item = S>) -> Self {
        self.keys = Some(keys.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the separator that makes obs names unique.
    ///
    /// ```
    /// let o = h5sparse::anndata::ConcatOptions::default().index_unique("-");
    /// assert_eq!(o.index_unique.as_deref(), Some("-"));
    /// ```
    pub fn index_unique(mut self, sep: impl Into<String>) -> Self {
        self.index_unique = Some(sep.into());
        self
    }
}

/// Concatenates `inputs` along obs into a new `.h5ad` file at `out` (see
/// the [module docs](self) for what it holds).
///
/// ```
/// use h5sparse::anndata::{concat, AnnData, ConcatOptions, WriteOptions};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad");
/// let a = AnnData::open(&h5sparse::H5File::open(path)?)?;
/// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-concat-fn", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let opts = ConcatOptions::default().label("batch").keys(["first", "second"]);
/// concat(&[&a, &a], dir.join("ab.h5ad"), &opts, &WriteOptions::default())?;
/// let ab = AnnData::open(&h5sparse::H5File::open(dir.join("ab.h5ad"))?)?;
/// assert_eq!(ab.obs().column_names(), ["cell_type", "n_genes", "quality", "batch"]);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub fn concat(
    inputs: &[&AnnData],
    out: impl AsRef<Path>,
    opts: &ConcatOptions,
    write: &WriteOptions,
) -> Result<()> {
    concat_with_progress(inputs, out, opts, write, &mut |_, _| {})
}

/// [`concat()`], telling `progress(done, total)` the bytes of matrices read
/// so far after every block.
///
/// ```
/// use h5sparse::anndata::{concat_with_progress, AnnData, ConcatOptions, WriteOptions};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad");
/// let a = AnnData::open(&h5sparse::H5File::open(path)?)?;
/// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-concat-p", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let mut last = (0, 0);
/// concat_with_progress(&[&a, &a], dir.join("o.h5ad"), &ConcatOptions::default(),
///     &WriteOptions::default(), &mut |done, total| last = (done, total))?;
/// assert!(last.1 > 0 && last.0 == last.1);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub fn concat_with_progress(
    inputs: &[&AnnData],
    out: impl AsRef<Path>,
    opts: &ConcatOptions,
    write: &WriteOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<()> {
    if inputs.is_empty() {
        return Err(Error::invalid("concat needs at least one input"));
    }
    let n = inputs.len();
    let keys: Vec<String> = match &opts.keys {
        Some(k) if k.len() != n => {
            return Err(Error::invalid(format!(
                "{} keys given for {n} inputs",
                k.len()
            )))
        }
        Some(k) => k.clone(),
        None => (0..n).map(|i| i.to_string()).collect(),
    };
    check_unique(&keys, "keys")?;
    let snaps: Vec<Arc<File>> = inputs
        .iter()
        .map(|a| a.file().snapshot())
        .collect::<Result<_>>()?;

    // obs: rows stacked, columns joined; the label column; unique names.
    let frames: Vec<DataFrameData> = inputs
        .iter()
        .zip(&snaps)
        .map(|(a, f)| a.obs().to_data(f))
        .collect::<Result<_>>()?;
    let rows: Vec<u64> = frames.iter().map(|f| f.len() as u64).collect();
    let mut obs = concat_frames(&frames, opts.join)?;
    drop(frames);
    if let Some(sep) = &opts.index_unique {
        let mut at = 0;
        for (key, &n_rows) in keys.iter().zip(&rows) {
            for name in &mut obs.index[at..at + n_rows as usize] {
                name.push_str(sep);
                name.push_str(key);
            }
            at += n_rows as usize;
        }
    }
    let obs_index = obs.index.clone();
    obs.strings_to_categoricals();
    if let Some(label) = &opts.label {
        let mut codes = Vec::with_capacity(obs.len());
        for (i, &n_rows) in rows.iter().enumerate() {
            codes.extend(std::iter::repeat_n(i as i64, n_rows as usize));
        }
        let column = ColumnData::Categorical {
            codes,
            categories: Values::Str(keys.clone()),
            ordered: false,
        };
        obs.dtypes.remove(label);
        match obs.columns.iter_mut().find(|(n, _)| n == label) {
            Some((_, c)) => *c = column,
            None => obs.columns.push((label.clone(), column)),
        }
    }

    // var: names joined, no columns; where each input's columns go.
    let var_frames: Vec<&DataFrame> = inputs.iter().map(|a| a.var()).collect();
    let (var, var_maps) = join_names(&var_frames, &snaps, opts.join, "var")?;

    let out = out.as_ref();
    let mut w = H5adWriter::create_at(out, write.clone())?;
    // Where the output's file system can share blocks with an input (XFS
    // with reflink, btrfs), the chunk runs copied unchanged from the input
    // are placed congruent to their input offsets mod 4096 and copied with
    // copy_file_range: their whole blocks are shared, not copied. Elsewhere
    // (ext4) copy_file_range was no faster than pwrite from the map, and
    // slower when synced (bench/RESULTS.md, issue 12): nothing registered.
    for snap in &snaps {
        if let Some(source) = copy_source(snap, out, write.kernel_copy) {
            w.file().add_copy_source(source)?;
        }
    }
    w.write_dataframe("obs", &obs)?;
    w.write_dataframe("var", &var)?;
    drop(obs);

    // Every stacked matrix, planned first for the progress total.
    let mut stacks: Vec<(String, Stack<'_>)> = Vec::new();
    let block = write;
    let xs: Vec<Option<&Element>> = inputs.iter().map(|a| a.x()).collect();
    if xs.iter().all(Option::is_some) {
        let parts = xs
            .iter()
            .zip(&snaps)
            .zip(&var_maps)
            .map(|((x, f), m)| input(f, *x, 0, m.clone(), "X"))
            .collect::<Result<_>>()?;
        stacks.push(("X".into(), Stack::plan(parts, block, "X")?));
    } else if xs.iter().any(Option::is_some) {
        return Err(Error::unsupported(
            "concatenating inputs some of which have no X (anndata refuses it too)",
        ));
    }
    let layers: Vec<&[(String, Element)]> = inputs.iter().map(|a| a.layers()).collect();
    for key in joined_keys(&layers, opts.join) {
        let dst = format!("layers/{key}");
        let parts = layers
            .iter()
            .zip(&snaps)
            .zip(&var_maps)
            .zip(&rows)
            .map(|(((l, f), m), &r)| input(f, find(l, &key), r, m.clone(), &dst))
            .collect::<Result<_>>()?;
        stacks.push((dst.clone(), Stack::plan(parts, block, &dst)?));
    }
    let obsm: Vec<&[(String, Element)]> = inputs.iter().map(|a| a.obsm()).collect();
    let mut obsm_frames: Vec<(String, DataFrameData)> = Vec::new();
    for key in joined_keys(&obsm, opts.join) {
        let dst = format!("obsm/{key}");
        let els: Vec<Option<&Element>> = obsm.iter().map(|m| find(m, &key)).collect();
        if els
            .iter()
            .flatten()
            .any(|e| matches!(e, Element::DataFrame { .. }))
        {
            let mut frames = Vec::with_capacity(n);
            for ((e, f), &r) in els.iter().zip(&snaps).zip(&rows) {
                frames.push(match e {
                    Some(Element::DataFrame { path }) => DataFrame::open_at(f, path)?.to_data(f)?,
                    None => DataFrameData::with_index(vec![String::new(); r as usize]),
                    Some(other) => {
                        return Err(Error::unsupported(format!(
                            "{dst}: a dataframe in one input, {} in another",
                            other.path()
                        )))
                    }
                });
            }
            let mut df = concat_frames(&frames, opts.join)?;
            df.index = obs_index.clone();
            df.strings_to_categoricals();
            obsm_frames.push((dst, df));
            continue;
        }
        let widths: Vec<u64> = els
            .iter()
            .flatten()
            .map(|e| match e.shape().as_deref() {
                Some([_, c]) => Ok(*c),
                _ => Err(Error::unsupported(format!(
                    "{}: concatenating an obsm entry that is not a 2-D array",
                    e.path()
                ))),
            })
            .collect::<Result<_>>()?;
        let width = match opts.join {
            Join::Inner => widths.iter().copied().min(),
            Join::Outer => widths.iter().copied().max(),
        }
        .unwrap_or(0);
        let parts = els
            .iter()
            .zip(&snaps)
            .zip(&rows)
            .map(|((e, f), &r)| {
                let n_in = e.and_then(|e| e.shape()).map_or(width, |s| s[1]);
                let map = ColumnMap {
                    n_in,
                    n_out: width,
                    map: None,
                };
                input(f, *e, r, map, &dst)
            })
            .collect::<Result<_>>()?;
        stacks.push((dst.clone(), Stack::plan(parts, block, &dst)?));
    }
    let raws: Vec<Option<(&Element, &DataFrame)>> = inputs
        .iter()
        .map(|a| a.raw().and_then(|r| Some((r.x.as_ref()?, r.var.as_ref()?))))
        .collect();
    let mut raw_var = None;
    if raws.iter().all(Option::is_some) {
        let raws: Vec<(&Element, &DataFrame)> = raws.into_iter().flatten().collect();
        let frames: Vec<&DataFrame> = raws.iter().map(|r| r.1).collect();
        let (var, maps) = join_names(&frames, &snaps, opts.join, "raw/var")?;
        let parts = raws
            .iter()
            .zip(&snaps)
            .zip(maps)
            .map(|((r, f), m)| input(f, Some(r.0), 0, m, "raw/X"))
            .collect::<Result<_>>()?;
        stacks.push(("raw/X".into(), Stack::plan(parts, block, "raw/X")?));
        raw_var = Some(var);
    }

    let total: u64 = stacks.iter().map(|(_, s)| s.total_bytes()).sum();
    let mut done = 0u64;
    progress(0, total);
    for (dst, stack) in &stacks {
        stack.write(&mut w, dst, &mut |b| {
            done += b;
            progress(done.min(total), total);
        })?;
    }
    progress(total, total);
    for (dst, df) in &obsm_frames {
        w.write_dataframe(dst, df)?;
    }
    if let Some(var) = raw_var {
        w.write_dataframe("raw/var", &var)?;
    }
    w.finish()
}

/// The element named `key` of a mapping.
fn find<'a>(m: &'a [(String, Element)], key: &str) -> Option<&'a Element> {
    m.iter().find(|(k, _)| k == key).map(|(_, e)| e)
}

/// The keys of mappings joined: those of all (inner) or any (outer), in
/// the order they first appear.
fn joined_keys(maps: &[&[(String, Element)]], join: Join) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for m in maps {
        for (k, _) in m.iter() {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    if join == Join::Inner {
        keys.retain(|k| maps.iter().all(|m| find(m, k).is_some()));
    }
    keys
}

/// The names of `frames` joined (a frame without columns), and where
/// each frame's rows go among them.
fn join_names(
    frames: &[&DataFrame],
    snaps: &[Arc<File>],
    join: Join,
    what: &str,
) -> Result<(DataFrameData, Vec<ColumnMap>)> {
    let names: Vec<Vec<String>> = frames
        .iter()
        .zip(snaps)
        .map(|(d, f)| d.index(f))
        .collect::<Result<_>>()?;
    for (i, n) in names.iter().enumerate() {
        check_unique(n, &format!("input {i}'s {what} names"))?;
    }
    let mut joined = names[0].clone();
    for n in &names[1..] {
        joined = match join {
            Join::Inner => intersection(&joined, n),
            Join::Outer => union(&joined, n),
        };
    }
    let position = positions(&joined);
    let maps = names
        .iter()
        .map(|n| ColumnMap {
            n_in: n.len() as u64,
            n_out: joined.len() as u64,
            map: (*n != joined).then(|| {
                n.iter()
                    .map(|x| position.get(x.as_str()).copied().unwrap_or(-1))
                    .collect()
            }),
        })
        .collect();
    let index_names: Vec<String> = frames.iter().map(|d| index_name(d)).collect();
    let index_name = if index_names.iter().all(|x| *x == index_names[0]) {
        index_names[0].clone()
    } else {
        "_index".to_string()
    };
    Ok((
        DataFrameData {
            index_name,
            index: joined,
            ..Default::default()
        },
        maps,
    ))
}

/// The name pandas gives a frame's index (`_index`: none).
fn index_name(d: &DataFrame) -> String {
    match &d.storage {
        Storage::Group { index } => index.clone(),
        Storage::Records { .. } => "index".to_string(),
    }
}

/// An input's part of a stacked matrix: `e` (`None`: missing, `rows`
/// rows) with its columns going by `map`.
fn input<'f>(
    file: &'f File,
    e: Option<&Element>,
    rows: u64,
    columns: ColumnMap,
    at: &str,
) -> Result<Input<'f>> {
    let part = match e {
        None => Part::Missing { rows },
        Some(Element::Sparse {
            path,
            format,
            shape,
        }) => Part::Sparse {
            path: path.clone(),
            format: *format,
            shape: *shape,
        },
        Some(Element::Dense { path, shape, .. }) if shape.len() == 2 => Part::Dense {
            path: path.clone(),
            shape: [shape[0], shape[1]],
        },
        Some(other) => {
            return Err(Error::unsupported(format!(
                "{at}: concatenating {} (not a sparse matrix or 2-D array)",
                other.path()
            )))
        }
    };
    Ok(Input {
        file,
        part,
        columns,
    })
}

/// The input's file as a [`CopySource`](crate::io::sink::CopySource) for
/// the output `out`, when `when` says so (by default where they share a
/// file system that shares blocks:
/// [`shares_extents`](crate::io::fs::shares_extents)) and the input still
/// has its mapped length.
fn copy_source(
    snap: &Arc<File>,
    out: &Path,
    when: KernelCopy,
) -> Option<crate::io::sink::CopySource> {
    let (path, bytes) = (snap.path()?, snap.bytes()?);
    let wanted = match when {
        KernelCopy::Auto => crate::io::fs::shares_extents(out, path),
        KernelCopy::Always => true,
        KernelCopy::Never => false,
    };
    if !wanted {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    if file.metadata().ok()?.len() != bytes.len() as u64 {
        return None;
    }
    Some(crate::io::sink::CopySource::new(file, bytes, snap.clone()))
}
