//! `h5sparse subset IN.h5ad OUT.h5ad [--obs SEL] [--var SEL]`: the cells
//! and genes selected, every element cut along them, written as anndata
//! writes `adata[obs, var].copy()` (see `h5sparse::anndata::subset`).

use std::path::PathBuf;

use clap::Args;
use h5sparse::anndata::{subset_with_progress, AnnData, Axis, Selection, Take, WriteOptions};
use h5sparse::sparse::Sel;

use crate::common::{open_error, parse_block_size, parse_compression, write_replacing};
use crate::progress::Progress;
use crate::slice::message;
use crate::CliError;

/// Arguments of `subset`.
#[derive(Args)]
pub struct SubsetArgs {
    /// The .h5ad file to read.
    input: PathBuf,
    /// The .h5ad file to write (replaced only when the subset succeeds).
    output: PathBuf,
    /// Observations (cells) to keep: `START:STOP[:STEP]`, `i,j,k` (negative
    /// from the end, repeats kept), `@NAMES_FILE` (one obs name a line), or
    /// `COLUMN==VALUE` / `COLUMN!=VALUE` on an obs column. Default: all.
    #[arg(long, allow_hyphen_values = true)]
    obs: Option<String>,
    /// Variables (genes) to keep, in the same syntax (names and columns
    /// from var). Default: all.
    #[arg(long, allow_hyphen_values = true)]
    var: Option<String>,
    /// Memory budget of one block of a streamed matrix (X, layers, obsp,
    /// raw/X): the stored entries read at once, their subset copy and the
    /// writer's buffers stay within about twice this. Bytes, or with a
    /// suffix K, M, G (powers of 1024): 1048576, 64K, 16M, 1G, 256MiB.
    #[arg(long, default_value = "16M")]
    block_size: String,
    /// Compress matrices and arrays: `gzip` or `gzip=LEVEL` (0-9, default 4).
    #[arg(long)]
    compression: Option<String>,
    /// Skip the syncs that make the output durable (`fdatasync` as it is
    /// written and before it is renamed into place; the writeback started
    /// every 16 MiB): faster for scratch outputs, but a power loss or kernel
    /// crash soon after may leave OUT lost, empty or torn. Readers still see
    /// OUT only once it is complete.
    #[arg(long)]
    no_sync: bool,
}

/// The positions `text` selects on `axis` of `adata` (all when absent).
fn resolve(adata: &AnnData, axis: Axis, text: Option<&str>) -> Result<Take, CliError> {
    let Some(text) = text else {
        return Ok(Take::All);
    };
    let n = match axis {
        Axis::Obs => adata.n_obs(),
        Axis::Var => adata.n_vars(),
    };
    let flag = axis.as_str();
    let err = |e: h5sparse::Error| CliError::Message(format!("--{flag} {text}: {}", message(e)));
    let sel = Selection::parse(text).map_err(err)?;
    // Everything, without listing every position of a huge axis.
    if let Selection::Positions(p) = &sel {
        if matches!(p, Sel::All) || (matches!(p, Sel::Slice { .. }) && p.is_everything(n)) {
            return Ok(Take::All);
        }
    }
    Ok(Take::Indices(sel.resolve(adata, axis).map_err(err)?))
}

/// Runs `subset`.
pub fn run(args: &SubsetArgs) -> Result<(), CliError> {
    let mut opts = WriteOptions {
        block_bytes: parse_block_size(&args.block_size)?,
        durable: !args.no_sync,
        ..WriteOptions::default()
    };
    if let Some(c) = &args.compression {
        opts = opts.gzip(parse_compression(c)?);
    }
    let file = h5sparse::H5File::open(&args.input).map_err(|e| open_error(&args.input, e))?;
    // One pass: what is read leaves the resident set with its block.
    file.snapshot()?.set_streaming(true);
    let adata = AnnData::open(&file).map_err(|e| open_error(&args.input, e))?;
    let obs = resolve(&adata, Axis::Obs, args.obs.as_deref())?;
    let var = resolve(&adata, Axis::Var, args.var.as_deref())?;

    write_replacing(&args.output, |tmp| {
        // The total is known once the matrices are planned: the bar starts then.
        let mut bar: Option<Progress> = None;
        let mut shown = 0u64;
        let mut progress = |done: u64, total: u64| {
            let bar = bar.get_or_insert_with(|| Progress::bytes(total, "subsetting"));
            bar.inc(done.saturating_sub(shown));
            shown = done;
        };
        subset_with_progress(&adata, &obs, &var, tmp, &opts, &mut progress)
            .map_err(|e| CliError::Message(message(e)))?;
        if let Some(bar) = &bar {
            bar.finish();
        }
        Ok(())
    })
}
