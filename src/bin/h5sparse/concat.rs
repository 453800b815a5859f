//! `h5sparse concat A.h5ad B.h5ad … -o OUT.h5ad [--join inner|outer]
//! [--label COL] [--keys a,b,…] [--index-unique SEP]`: the inputs stacked
//! along obs as `anndata.concat` stacks them (see
//! `h5sparse::anndata::concat`), matrices streamed block by block.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use h5sparse::anndata::{
    concat_with_progress, AnnData, ConcatOptions, Join, KernelCopy, WriteOptions,
};

use crate::common::{open_error, parse_block_size, parse_compression, write_replacing};
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

/// `--kernel-copy`.
#[derive(Clone, Copy, ValueEnum)]
enum KernelCopyArg {
    /// Where the output's file system shares blocks with the input (XFS
    /// with reflink, btrfs).
    Auto,
    /// Whenever an input is a mapped file.
    Always,
    /// Never (write every byte from the input's map).
    Never,
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
    /// Memory budget of one block of a stacked matrix (X, layers, obsm,
    /// raw/X): the input entries read at once, their remapped copy and the
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
    /// When the chunks taken unchanged from an input are copied file to
    /// file in the kernel (copy_file_range), placed so that XFS and btrfs
    /// share the input's blocks instead of copying them.
    #[arg(long, value_enum, default_value = "auto")]
    kernel_copy: KernelCopyArg,
}

/// Runs `concat`.
pub fn run(args: &ConcatArgs) -> Result<(), CliError> {
    let mut write = WriteOptions {
        block_bytes: parse_block_size(&args.block_size)?,
        durable: !args.no_sync,
        kernel_copy: match args.kernel_copy {
            KernelCopyArg::Auto => KernelCopy::Auto,
            KernelCopyArg::Always => KernelCopy::Always,
            KernelCopyArg::Never => KernelCopy::Never,
        },
        ..WriteOptions::default()
    };
    if let Some(c) = &args.compression {
        write = write.gzip(parse_compression(c)?);
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
        inputs.push(opened.map_err(|e| open_error(path, e))?);
    }
    let refs: Vec<&AnnData> = inputs.iter().collect();

    write_replacing(&args.output, |tmp| {
        let mut bar: Option<Progress> = None;
        let mut shown = 0u64;
        let mut progress = |done: u64, total: u64| {
            let bar = bar.get_or_insert_with(|| Progress::bytes(total, "concatenating"));
            bar.inc(done.saturating_sub(shown));
            shown = shown.max(done);
        };
        concat_with_progress(&refs, tmp, &opts, &write, &mut progress)
            .map_err(|e| CliError::Message(message(e)))?;
        if let Some(bar) = &bar {
            bar.finish();
        }
        Ok(())
    })
}
