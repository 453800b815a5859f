//! `h5sparse copy SRC DST` and `h5sparse repack SRC DST`: rewrite every
//! object of SRC through our writer ([`copy_file`]; its module docs say what
//! is kept, what changes on purpose and what aborts).
//!
//! `repack` keeps a dataset chunked (with its chunk shape and filters) only
//! when it needs chunks: it can grow (maximum shape larger than its shape)
//! or has a filter we write (deflate, shuffle, fletcher32). Every other
//! dataset is written contiguous.

use std::path::{Path, PathBuf};

use clap::Args;
use h5sparse::write::{copy_file_with_progress, payload_bytes, CopyOptions, Writer};

use crate::common::{parse_compression, write_replacing};
use crate::progress::Progress;
use crate::CliError;

/// Arguments of `copy`.
#[derive(Args)]
pub struct CopyArgs {
    /// The file to read.
    src: PathBuf,
    /// The file to write (replaced only when the copy succeeds).
    dst: PathBuf,
    /// HDF5 format flavour to write: `earliest` (h5py's default) or `latest`.
    /// Without it, the source's: `latest` for a superblock v2/v3 source
    /// (h5py's libver 'v108' and later, which can hold what `earliest`
    /// cannot, such as attributes over 64 KiB), `earliest` otherwise.
    #[arg(long)]
    libver: Option<String>,
    /// Compress every non-scalar dataset (chunking it if needed): `gzip` or
    /// `gzip=LEVEL` (0-9, default 4). Without it each dataset keeps its own
    /// deflate/shuffle/fletcher32 filters.
    #[arg(long)]
    compression: Option<String>,
    /// Shuffle bytes before compressing (with --compression).
    #[arg(long)]
    shuffle: bool,
}

/// Arguments of `repack`.
#[derive(Args)]
pub struct RepackArgs {
    /// The file to read.
    src: PathBuf,
    /// The compacted file to write.
    dst: PathBuf,
}

/// Copies through a temporary file beside DST, renamed into place only on
/// success, so a failed copy leaves no DST behind. On a terminal, a bar on
/// stderr counts the datasets' payload bytes copied (`what` labels it).
fn copy_to(
    src: &Path,
    dst: &Path,
    opts: &CopyOptions,
    format: h5sparse::write::Format,
    what: &str,
) -> Result<(), CliError> {
    let file = h5sparse::File::open_any(&src.to_string_lossy())?;
    write_replacing(dst, |tmp| {
        let copied = (|| -> h5sparse::Result<()> {
            let bar = Progress::bytes(payload_bytes(&file)?, what);
            let mut w = Writer::create_with(tmp, &h5sparse::write::CreateOptions { format })?;
            copy_file_with_progress(&file, &mut w, opts, &mut |n| bar.inc(n))?;
            w.close()?;
            bar.finish();
            Ok(())
        })();
        copied.map_err(|e| CliError::Message(format!("copy of {} aborted: {e}", src.display())))
    })
}

/// Runs `copy`.
pub fn run_copy(args: &CopyArgs) -> Result<(), CliError> {
    let format = match args.libver.as_deref() {
        Some("earliest") => h5sparse::write::Format::Earliest,
        Some("latest") => h5sparse::write::Format::Latest,
        Some(other) => {
            return Err(CliError::Message(format!(
                "--libver {other}: expected earliest or latest"
            )))
        }
        None => {
            let source = h5sparse::File::open_any(&args.src.to_string_lossy())?;
            let format = if source.superblock_version() >= 2 {
                h5sparse::write::Format::Latest
            } else {
                h5sparse::write::Format::Earliest
            };
            if crate::progress::chatty() {
                let name = match format {
                    h5sparse::write::Format::Latest => "latest",
                    _ => "earliest",
                };
                eprintln!(
                    "h5sparse: writing the {name} format, as {} uses (--libver chooses)",
                    args.src.display()
                );
            }
            format
        }
    };
    let compression = args
        .compression
        .as_deref()
        .map(parse_compression)
        .transpose()?;
    let opts = CopyOptions {
        compression,
        shuffle: args.shuffle,
        repack: false,
    };
    copy_to(&args.src, &args.dst, &opts, format, "copying")
}

/// Runs `repack`.
pub fn run_repack(args: &RepackArgs) -> Result<(), CliError> {
    let opts = CopyOptions {
        repack: true,
        ..Default::default()
    };
    copy_to(
        &args.src,
        &args.dst,
        &opts,
        h5sparse::write::Format::Earliest,
        "repacking",
    )
}
