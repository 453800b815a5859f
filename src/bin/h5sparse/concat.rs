//! `h5sparse concat A.h5ad B.h5ad … -o OUT.h5ad [--join inner|outer]
//! [--label COL] [--keys a,b,…] [--index-unique SEP]`: the inputs stacked
//! along obs as `anndata.concat` stacks them (see
//! `h5sparse::anndata::concat`), matrices streamed block by block.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use h5sparse::anndata::{concat_with_progress, AnnData, ConcatOptions, Join, WriteOptions};

use crate::progress::Progress;
use crate::slice::message;
use crate::CliError;

/// `--join`.
#[derive(Clone, Copy, ValueEnum)]
enum JoinArg {
    /// The var names every input has.
    Inner,
    /// The var names any input has (missing values: zeros in sparse
    /// matrices, NaN in dense ones).
    Outer,
}

/// Arguments of `concat`.
#[derive(Args)]
pub struct ConcatArgs {
    /// The .h5ad files to stack, in order.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The .h5ad file to write (replaced only when the concatenation
    /// succeeds).
    #[arg(short, long)]
    output: PathBuf,
    /// How var names are joined.
    #[arg(long, value_enum, default_value = "inner")]
    join: JoinArg,
    /// Add an obs column of this name holding each cell's input key.
    #[arg(long)]
    label: Option<String>,
    /// The inputs' keys, comma-separated (default 0,1,2,…).
    #[arg(long, value_delimiter = ',')]
    keys: Option<Vec<String>>,
    /// Make obs names unique as NAME{SEP}{KEY}.
    #[arg(long, allow_hyphen_values = true)]
    index_unique: Option<String>,
    /// Memory budget of one streamed block, in bytes.
    #[arg(long, default_value_t = 256 << 20)]
    block_size: usize,
    /// Compress matrices and arrays: `gzip` or `gzip=LEVEL` (0-9, default 4).
    #[arg(long)]
    compression: Option<String>,
}

/// Runs `concat`.
pub fn run(args: &ConcatArgs) -> Result<(), CliError> {
    let mut write = WriteOptions {
        block_bytes: args.block_size.max(1),
        ..WriteOptions::default()
    };
    if let Some(c) = &args.compression {
        write = write.gzip(crate::copy::parse_compression(c)?);
    }
    let opts = ConcatOptions {
        join: match args.join {
            JoinArg::Inner => Join::Inner,
            JoinArg::Outer => Join::Outer,
        },
        label: args.label.clone(),
        keys: args.keys.clone(),
        index_unique: args.index_unique.clone(),
    };
    let mut inputs = Vec::with_capacity(args.inputs.len());
    for path in &args.inputs {
        // One pass over each input: what is read leaves the resident set
        // with its block.
        let opened = h5sparse::H5File::open(path).and_then(|f| {
            f.snapshot()?.set_streaming(true);
            AnnData::open(&f)
        });
        inputs.push(opened.map_err(|e| match e {
            h5sparse::Error::Io(_) => CliError::Message(e.to_string()),
            e => CliError::Message(format!("{}: {}", path.display(), message(e))),
        })?);
    }
    let refs: Vec<&AnnData> = inputs.iter().collect();

    let tmp = temporary_beside(&args.output)?;
    let mut bar: Option<Progress> = None;
    let mut shown = 0u64;
    let mut progress = |done: u64, total: u64| {
        let bar = bar.get_or_insert_with(|| Progress::bytes(total, "concatenating"));
        bar.inc(done.saturating_sub(shown));
        shown = shown.max(done);
    };
    let written = concat_with_progress(&refs, &tmp, &opts, &write, &mut progress)
        .map_err(|e| CliError::Message(message(e)))
        .and_then(|()| {
            std::fs::rename(&tmp, &args.output)
                .map_err(|e| CliError::Message(format!("{}: {e}", args.output.display())))
        });
    match &written {
        Ok(()) => {
            if let Some(bar) = &bar {
                bar.finish();
            }
        }
        Err(_) => {
            drop(bar);
            let _ = std::fs::remove_file(&tmp);
        }
    }
    written
}

/// A temporary path beside `out`, renamed to it on success.
fn temporary_beside(out: &Path) -> Result<PathBuf, CliError> {
    let name = out
        .file_name()
        .ok_or_else(|| CliError::Message(format!("{}: not a file name", out.display())))?;
    Ok(out.with_file_name(format!(
        ".{}.h5sparse-tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    )))
}
