//! `adata[obs, var].copy()` written to a new `.h5ad` file, streaming:
//! every element indexed by obs or var is cut along it (X, layers,
//! obs/var, obsm/varm rows, obsp/varp on both axes, raw.X's rows), `uns`
//! is copied, and categories are pruned as anndata prunes them. Matrices
//! are read and written block by block, so memory stays bounded by the
//! block size whatever the file's size.

mod dense;
mod elements;
mod frame;
mod sparse;
mod take;

use std::path::Path;

pub use take::Take;

use self::elements::{positions, Copier};
use self::frame::{prune_categories, Palette, PaletteEdits};
use super::write::{H5adWriter, WriteOptions};
use super::{AnnData, ColumnData, DataFrameData, Element};
use crate::error::Result;
use crate::read::{File, Node, Values};

/// Writes `adata[obs, var].copy()` of `input` to a new `.h5ad` file at
/// `out`: what anndata 0.12 writes for it, element by element, in the
/// current encoding whatever encoding `input` has. Matrices and arrays
/// stream through blocks of about `opts.block_bytes`, compressed with
/// `opts.compression` (gzip level) when given.
///
/// ```
/// use h5sparse::anndata::{subset, AnnData, Take, WriteOptions};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad");
/// let adata = AnnData::open(&h5sparse::H5File::open(path)?)?;
/// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-subset", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let out = dir.join("b_cells.h5ad");
/// subset(&adata, &Take::Indices(vec![4, 0, 9]), &Take::All, &out, &WriteOptions::default())?;
/// let small = AnnData::open(&h5sparse::H5File::open(&out)?)?;
/// assert_eq!((small.n_obs(), small.n_vars()), (3, 12));
/// assert_eq!(small.obs_names()?, ["cell_04", "cell_00", "cell_09"]);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub fn subset(
    input: &AnnData,
    obs: &Take,
    var: &Take,
    out: impl AsRef<Path>,
    opts: &WriteOptions,
) -> Result<()> {
    subset_with_progress(input, obs, var, out, opts, &mut |_, _| {})
}

/// [`subset`], telling `progress(done, total)` the bytes of matrices and
/// arrays read so far after every block.
///
/// ```
/// use h5sparse::anndata::{subset_with_progress, AnnData, Take, WriteOptions};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad");
/// let adata = AnnData::open(&h5sparse::H5File::open(path)?)?;
/// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-subset-p", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let mut last = (0, 0);
/// let genes = Take::Indices(vec![0, 2, 2]);
/// subset_with_progress(&adata, &Take::All, &genes, dir.join("o.h5ad"), &WriteOptions::default(),
///     &mut |done, total| last = (done, total))?;
/// assert!(last.1 > 0 && last.0 == last.1);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub fn subset_with_progress(
    input: &AnnData,
    obs: &Take,
    var: &Take,
    out: impl AsRef<Path>,
    opts: &WriteOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<()> {
    obs.check(input.n_obs(), "obs")?;
    var.check(input.n_vars(), "var")?;
    let snap = input.file().snapshot()?;
    let file: &File = &snap;
    let obs_idx = positions(obs, input.n_obs())?;
    let var_idx = positions(var, input.n_vars())?;

    // obs and var, categories pruned, palettes following (obs first, as
    // anndata does).
    let mut palettes = PaletteEdits::default();
    let obs_df = frame_subset(input, file, true, &obs_idx, &mut palettes)?;
    let var_df = frame_subset(input, file, false, &var_idx, &mut palettes)?;

    // As anndata's write_h5ad does before writing.
    let (mut obs_df, mut var_df) = (obs_df, var_df);
    obs_df.strings_to_categoricals();
    var_df.strings_to_categoricals();

    let mut w = H5adWriter::create_at(out, opts.clone())?;
    w.write_dataframe("obs", &obs_df)?;
    w.write_dataframe("var", &var_df)?;
    drop((obs_df, var_df));

    let mut copier = Copier::new(input.file(), file, opts.block_bytes, progress);
    copier.plan_total(input, obs, var)?;
    if let Some(x) = input.x() {
        copier.element(&mut w, x, "X", obs, Some(var))?;
    }
    for (k, e) in input.layers() {
        copier.element(&mut w, e, &format!("layers/{k}"), obs, Some(var))?;
    }
    for (k, e) in input.obsm() {
        copier.axis_element(&mut w, e, k, &format!("obsm/{k}"), obs)?;
    }
    for (k, e) in input.varm() {
        copier.axis_element(&mut w, e, k, &format!("varm/{k}"), var)?;
    }
    for (k, e) in input.obsp() {
        copier.element(&mut w, e, &format!("obsp/{k}"), obs, Some(obs))?;
    }
    for (k, e) in input.varp() {
        copier.element(&mut w, e, &format!("varp/{k}"), var, Some(var))?;
    }
    if let Some(raw) = input.raw() {
        // raw keeps every variable: only its rows follow obs.
        if let Some(x) = &raw.x {
            copier.element(&mut w, x, "raw/X", obs, None)?;
        }
        if let Some(var) = &raw.var {
            let mut var = var.to_data(file)?;
            var.strings_to_categoricals();
            w.write_dataframe("raw/var", &var)?;
        }
        if let Ok(Node::Group(_)) = file.get("/raw/varm") {
            copier.uns(&mut w, "/raw/varm", "raw/varm")?;
        }
    }
    for (k, e) in input.uns() {
        let dst = format!("uns/{k}");
        match palettes.edits.get(k) {
            Some(Palette::Dropped) => {}
            Some(Palette::Colors(colors)) => copier.palette(&mut w, e, &dst, colors)?,
            None => copier.uns(&mut w, e.path(), &dst)?,
        }
    }
    w.finish()
}

/// `obs[rows]` or `var[rows]` with unused categories removed; the
/// palettes in `uns` are edited to follow.
fn frame_subset(
    input: &AnnData,
    file: &File,
    is_obs: bool,
    rows: &[u64],
    palettes: &mut PaletteEdits,
) -> Result<DataFrameData> {
    let frame = if is_obs { input.obs() } else { input.var() };
    let full = frame.to_data(file)?;
    let mut taken = full.take(rows)?;
    for ((name, col), (_, whole)) in taken.columns.iter_mut().zip(&full.columns) {
        let ColumnData::Categorical { categories, .. } = whole else {
            continue;
        };
        let (pruned, kept) = prune_categories(std::mem::replace(
            col,
            ColumnData::Values(Values::Int(Vec::new())),
        ))?;
        *col = pruned;
        if let Some(kept) = kept {
            palettes.apply(name, categories.len(), &kept, |key| {
                stored_palette(input, file, key)
            })?;
        }
    }
    Ok(taken)
}

/// `uns[key]` when it is a dataset: its values and whether it is 0-d.
fn stored_palette(input: &AnnData, file: &File, key: &str) -> Result<Option<(Values, bool)>> {
    let Some((_, e)) = input.uns().iter().find(|(k, _)| k == key) else {
        return Ok(None);
    };
    match e {
        Element::Dense { path, .. } | Element::Scalar { path } => {
            let ds = file.dataset(path)?;
            let scalar = ds.shape().is_some_and(|s| s.is_empty());
            Ok(Some((ds.values()?, scalar)))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests;
