//! Appending cells (observations) to an `.h5ad` file in place, streaming.
//!
//! [`AnnData::append_obs`] adds the cells of a source AnnData to the end of
//! a target opened for writing: every element indexed by cells grows,
//! nothing else changes.
//!
//! | element | what happens |
//! |---|---|
//! | `X`, `layers/*`, `raw/X` | the source's rows appended (CSR: `data`, `indices`, `indptr` offset; dense: rows) |
//! | `obs` | every column and the index get the source's rows; categoricals extend their categories at the end |
//! | `obsm/*` | rows appended (arrays, sparse matrices, dataframes) |
//! | `obsp/*` | grown on both axes: block-diagonal, old cells keep their entries |
//! | `var`, `varm`, `varp`, `uns`, `raw/var` | untouched (the source's are not read) |
//!
//! A categorical's palette in `uns` (`<column>_colors`) stays as it is:
//! new categories have no color until scanpy gives them one.
//!
//! The result is what `anndata.concat([target, source], pairwise=True)`
//! holds for these elements, with two differences that keep the append in
//! place: the target's storage wins (a sparse target stays sparse, a dense
//! one dense, values keep the target's type), and categories keep their
//! order, new ones after (`anndata.concat` sorts the union).
//!
//! # What is refused, before anything is written
//! * A source whose `var` names (and `raw/var` names, with `raw`) are not
//!   the target's, in the same order.
//! * A source lacking an element the target has (an `obs` column, a layer,
//!   an `obsm`/`obsp` key, `X`, `raw/X`): every cell needs them. The error
//!   names them all.
//! * A source with elements the target lacks: they would be lost.
//!   `anndata.concat`'s default inner join drops them silently; here
//!   [`AppendOptions::drop_extra`] says so explicitly.
//! * Shapes that disagree, values the target's type cannot hold without
//!   loss (a `float64` X into a `float32` one), an ordered categorical
//!   given categories it lacks, missing values for a column that cannot
//!   hold them.
//! * A cell name already in the target (or twice in the source): obs
//!   names stay unique.
//! * Appending rows to a CSC matrix (it interleaves them with every
//!   column, a rewrite of the whole matrix); a CSC `obsp` grows by columns
//!   from a CSC source.
//! * Targets in anndata ≤ 0.7's encodings (`h5sparse subset` rewrites a
//!   file in the current one).
//!
//! # Storage
//! A chunked dataset with room to grow (what anndata writes for matrices)
//! gets its rows appended in place. anndata writes dataframe columns and
//! small arrays contiguous, and HDF5 cannot grow those: they are rewritten
//! into a new chunked, growable dataset that is swapped in with one
//! publishing write ([`Writer::replace_member`]), so the next append grows
//! them in place. So are a dense `obsp` (every row gets longer), a column
//! whose type widens, a big-endian dataset, and an int32 `indptr` that the
//! new entries would overflow (it becomes int64, which scipy and anndata
//! read). [`AppendSummary::rewritten`] lists them. Strings (the obs
//! names, `string-array` columns, nullable strings' values) grow the same
//! way: rewritten once into a chunked, growable dataset, later appended
//! in place ([`Writer::append_values`]: the new strings go into new global
//! heap collections, the old rows and their collections are not touched).
//! Space the old datasets took is not reused; `h5sparse repack` reclaims
//! it.
//!
//! # Memory
//! Matrices, arrays and numeric columns stream through blocks of about
//! [`AppendOptions::block_bytes`], whatever their size. Strings are the
//! exception: one column's new strings are in memory at a time (and its
//! old ones too the one time it is rewritten). Sources in
//! anndata ≤ 0.7's encodings (record arrays, referenced categories) are
//! read a column at a time too.
//!
//! # One transaction
//! Everything is planned and checked against a snapshot of the target
//! taken before the first write; then every write runs in one
//! [`Writer::transaction`], reading the old data from that snapshot. Until
//! the commit's single superblock write no reader (ours, libhdf5, h5py,
//! anndata) sees any of it, and a crash or an error leaves the file as it
//! was (its length may have grown by the space written, which nothing
//! refers to).

mod categorical;
mod frame;
mod grow;
mod matrix;
mod plan;
mod source;

use super::{AnnData, WriteOptions};
use crate::error::{Error, Result};
use crate::read::File;
use crate::write::{Backing, Writer};

/// How [`AnnData::append_obs`] works.
///
/// ```
/// let o = h5sparse::anndata::AppendOptions::default().block_bytes(16 << 20).drop_extra(true);
/// assert_eq!((o.block_bytes, o.drop_extra), (16 << 20, true));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendOptions {
    /// Memory budget of one streamed block, in bytes (as
    /// [`WriteOptions::block_bytes`]).
    pub block_bytes: usize,
    /// Ignore the source's elements the target lacks (an `obs` column, a
    /// layer, ...) instead of refusing the append, as `anndata.concat`'s
    /// inner join drops them.
    pub drop_extra: bool,
}

impl Default for AppendOptions {
    fn default() -> Self {
        AppendOptions {
            block_bytes: WriteOptions::default().block_bytes,
            drop_extra: false,
        }
    }
}

impl AppendOptions {
    /// Sets the block budget.
    ///
    /// ```
    /// let o = h5sparse::anndata::AppendOptions::default().block_bytes(1 << 20);
    /// assert_eq!(o.block_bytes, 1 << 20);
    /// ```
    pub fn block_bytes(mut self, bytes: usize) -> Self {
        self.block_bytes = bytes;
        self
    }

    /// Drops (`true`) or refuses (`false`, the default) what the source
    /// has and the target lacks.
    ///
    /// ```
    /// assert!(h5sparse::anndata::AppendOptions::default().drop_extra(true).drop_extra);
    /// ```
    pub fn drop_extra(mut self, drop: bool) -> Self {
        self.drop_extra = drop;
        self
    }

    pub(crate) fn write_options(&self) -> WriteOptions {
        WriteOptions {
            compression: None,
            block_bytes: self.block_bytes.max(1),
            ..WriteOptions::default()
        }
    }
}

/// What an append did.
///
/// ```
/// let s = h5sparse::anndata::AppendSummary::default();
/// assert_eq!((s.n_obs_before, s.n_obs_added), (0, 0));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendSummary {
    /// Cells in the target before.
    pub n_obs_before: u64,
    /// Cells appended.
    pub n_obs_added: u64,
    /// The elements grown: `obs`, `obsm/<key>` dataframes, `X`,
    /// `layers/<key>`, `obsm/<key>`, `obsp/<key>`, `raw/X`.
    pub elements: Vec<String>,
    /// Datasets rewritten because HDF5 could not grow them in place
    /// (contiguous, a type widened), by path.
    pub rewritten: Vec<String>,
}

/// Appends the cells of `source` (a snapshot of an `.h5ad` file) to the
/// `.h5ad` file `w` writes: the operation behind
/// [`AnnData::append_obs`], for a [`Writer`] over a sink of your own.
/// `progress(done, total)` is told the bytes read after every block.
///
/// The target is planned and checked against `w.reader()` taken first
/// (see the [module docs](self) for what is refused); the writes then run
/// in one [`Writer::transaction`] (joining the caller's, if one is open),
/// reading the old data from that snapshot.
///
/// ```
/// use h5sparse::anndata::{append_obs_in, subset, AnnData, AppendOptions, Take};
/// use h5sparse::io::sink::MemSink;
/// use h5sparse::write::Writer;
/// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-append-in", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad");
/// let all = AnnData::open(&h5sparse::H5File::open(fixture)?)?;
/// subset(&all, &Take::Indices((0..12).collect()), &Take::All, dir.join("a.h5ad"), &Default::default())?;
/// subset(&all, &Take::Indices((12..20).collect()), &Take::All, dir.join("b.h5ad"), &Default::default())?;
///
/// // The target in memory, the source a snapshot.
/// let mut w = Writer::open_in(MemSink::from_bytes(std::fs::read(dir.join("a.h5ad"))?))?;
/// let source = h5sparse::File::open(dir.join("b.h5ad"))?;
/// let done = append_obs_in(&mut w, &source, &AppendOptions::default(), &mut |_, _| {})?;
/// assert_eq!((done.n_obs_before, done.n_obs_added), (12, 8));
/// assert!(done.rewritten.contains(&"/obs/_index".to_string()));   // contiguous: rewritten
/// let grown = w.reader()?;
/// assert_eq!(grown.dataset("/obs/_index")?.len(), 20);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub fn append_obs_in<B: Backing>(
    w: &mut Writer<B>,
    source: &File,
    opts: &AppendOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<AppendSummary> {
    let target = w.reader()?;
    let plan = plan::plan(&target, source, opts)?;
    let summary = plan.summary();
    if plan.n_new == 0 {
        return Ok(summary);
    }
    let old = grow::Old::open(&target, &plan.rewritten())?;
    // One transaction: readers see the target before or after, never a mix.
    let write = opts.write_options();
    let reads = grow::Reads {
        old: &old,
        source,
        opts: &write,
    };
    w.transaction(|w| plan.write(w, &reads, progress))?;
    Ok(summary)
}

impl AnnData {
    /// Appends the cells of `source` to this AnnData's file (opened for
    /// writing, [`H5File::open_rw`](crate::H5File::open_rw)), in place,
    /// then reads the grown file's metadata again. See the
    /// [module docs](crate::anndata::append) for what grows and what is
    /// refused (before anything is written).
    ///
    /// ```
    /// use h5sparse::anndata::{subset, AnnData, AppendOptions, Take};
    /// use h5sparse::H5File;
    /// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-append", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad");
    /// let all = AnnData::open(&H5File::open(fixture)?)?;
    /// // Cells 0-14 in one file, 15-19 in another.
    /// subset(&all, &Take::Indices((0..15).collect()), &Take::All, dir.join("a.h5ad"), &Default::default())?;
    /// subset(&all, &Take::Indices((15..20).collect()), &Take::All, dir.join("b.h5ad"), &Default::default())?;
    ///
    /// let mut a = AnnData::open(&H5File::open_rw(dir.join("a.h5ad"))?)?;
    /// let b = AnnData::open(&H5File::open(dir.join("b.h5ad"))?)?;
    /// let done = a.append_obs(&b, &AppendOptions::default())?;
    /// assert_eq!((done.n_obs_before, done.n_obs_added, a.n_obs()), (15, 5, 20));
    /// assert_eq!(a.obs_names()?, all.obs_names()?);
    /// let x = a.x_sparse()?.expect("sparse X");
    /// assert_eq!(x.read::<f32>(15..20, ..)?, all.x_sparse()?.unwrap().read::<f32>(15..20, ..)?);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn append_obs(&mut self, source: &AnnData, opts: &AppendOptions) -> Result<AppendSummary> {
        self.append_obs_with_progress(source, opts, &mut |_, _| {})
    }

    /// [`AnnData::append_obs`], telling `progress(done, total)` the bytes
    /// read after every block.
    ///
    /// ```
    /// use h5sparse::anndata::{subset, AnnData, AppendOptions, Take};
    /// use h5sparse::H5File;
    /// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-append-p", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad");
    /// let all = AnnData::open(&H5File::open(fixture)?)?;
    /// subset(&all, &Take::Indices((0..10).collect()), &Take::All, dir.join("a.h5ad"), &Default::default())?;
    /// subset(&all, &Take::Indices((10..20).collect()), &Take::All, dir.join("b.h5ad"), &Default::default())?;
    /// let mut a = AnnData::open(&H5File::open_rw(dir.join("a.h5ad"))?)?;
    /// let b = AnnData::open(&H5File::open(dir.join("b.h5ad"))?)?;
    /// let mut last = (0, 0);
    /// a.append_obs_with_progress(&b, &AppendOptions::default(), &mut |done, total| last = (done, total))?;
    /// assert!(last.1 > 0 && last.0 == last.1);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn append_obs_with_progress(
        &mut self,
        source: &AnnData,
        opts: &AppendOptions,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<AppendSummary> {
        if let (Some(a), Some(b)) = (self.file.path(), source.file().path()) {
            let same = match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
                (Ok(a), Ok(b)) => a == b,
                _ => a == b,
            };
            if same {
                return Err(Error::invalid(
                    "the source is the target's own file: appending a file to itself would \
                     repeat every cell name",
                ));
            }
        }
        let snapshot = source.file().snapshot()?;
        let summary = self
            .file
            .write(|w| append_obs_in(w, &snapshot, opts, progress))?;
        self.file.flush()?;
        let file = self.file.clone();
        *self = AnnData::open(&file)?;
        Ok(summary)
    }
}
