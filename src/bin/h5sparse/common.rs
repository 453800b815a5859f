//! What several subcommands share: `--block-size` and `--compression`
//! parsing, and writing an output file through a temporary file beside it.

use std::path::{Path, PathBuf};

use crate::slice::message;
use crate::CliError;

/// `--block-size`: `1048576`, `64K`, `16M`, `1G`, `256MiB` (suffixes K, M,
/// G are powers of 1024, optionally followed by `iB` or `B`); zero is
/// refused.
pub(crate) fn parse_block_size(s: &str) -> Result<usize, CliError> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (digits, shift) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 10),
        Some((i, 'm' | 'M')) => (&t[..i], 20),
        Some((i, 'g' | 'G')) => (&t[..i], 30),
        _ => (t, 0),
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(1usize << shift))
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            CliError::Message(format!(
                "--block-size {s}: expected a positive byte count such as 1048576, 64K, 16M or 1G"
            ))
        })
}

/// An error opening `path`, naming it (I/O errors already do).
pub(crate) fn open_error(path: &Path, e: h5sparse::Error) -> CliError {
    match e {
        h5sparse::Error::Io(_) => CliError::Message(e.to_string()),
        e => CliError::Message(format!("{}: {}", path.display(), message(e))),
    }
}

/// `--compression`: `gzip` (level 4) or `gzip=LEVEL` (0-9).
pub(crate) fn parse_compression(s: &str) -> Result<u32, CliError> {
    match s.split_once('=') {
        None if s == "gzip" => Ok(4),
        Some(("gzip", level)) => match level.parse::<u32>() {
            Ok(l) if l <= 9 => Ok(l),
            _ => Err(CliError::Message(format!(
                "--compression gzip={level}: the level must be 0-9"
            ))),
        },
        _ => Err(CliError::Message(format!(
            "--compression {s}: expected gzip or gzip=LEVEL"
        ))),
    }
}

/// A temporary path beside `out` (same directory, so a rename publishes
/// it): `.NAME.h5sparse-tmp-PID`.
pub(crate) fn temporary_beside(out: &Path) -> Result<PathBuf, CliError> {
    let name = out
        .file_name()
        .ok_or_else(|| CliError::Message(format!("{}: not a file name", out.display())))?;
    Ok(out.with_file_name(format!(
        ".{}.h5sparse-tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

/// Writes `out` through a temporary file beside it: `write` creates and
/// fills the path it is given; on success that file is renamed to `out`
/// (replacing it), on any failure it is removed and `out` is left as it
/// was.
pub(crate) fn write_replacing(
    out: &Path,
    write: impl FnOnce(&Path) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let tmp = temporary_beside(out)?;
    let written = write(&tmp).and_then(|()| {
        std::fs::rename(&tmp, out).map_err(|e| CliError::Message(format!("{}: {e}", out.display())))
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_sizes() {
        assert_eq!(parse_block_size("1048576").ok(), Some(1 << 20));
        assert_eq!(parse_block_size("64K").ok(), Some(64 << 10));
        assert_eq!(parse_block_size("16M").ok(), Some(16 << 20));
        assert_eq!(parse_block_size("256MiB").ok(), Some(256 << 20));
        assert_eq!(parse_block_size("1G").ok(), Some(1 << 30));
        assert_eq!(parse_block_size("64").ok(), Some(64));
        assert!(parse_block_size("0").is_err());
        assert!(parse_block_size("lots").is_err());
        assert!(parse_block_size("M").is_err());
    }

    #[test]
    fn replacing_removes_the_temporary_on_failure() {
        let dir = std::env::temp_dir().join(format!("h5sparse-common-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out.bin");
        std::fs::write(&out, b"old").unwrap();
        let failed = write_replacing(&out, |tmp| {
            std::fs::write(tmp, b"half").unwrap();
            Err(CliError::Message("stopped".into()))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&out).unwrap(), b"old");
        assert!(!temporary_beside(&out).unwrap().exists());
        write_replacing(&out, |tmp| Ok(std::fs::write(tmp, b"new")?)).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"new");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
