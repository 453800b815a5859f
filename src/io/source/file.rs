//! Local files: positional reads ([`FileSource`]) and memory maps
//! ([`MmapSource`]).

#[cfg(any(unix, windows))]
use std::path::Path;

use super::ReadAt;
use crate::error::Result;

/// A local file read with positional reads (`pread` on Unix, `ReadFile` at an
/// offset on Windows): no memory map, so a file truncated while open gives an
/// error instead of a `SIGBUS`, and it works where maps are unavailable
/// (some network file systems, `/proc`-like files).
///
/// The length is the file's size when it was opened; reads never move a
/// shared cursor, so threads read concurrently.
///
/// ```
/// use h5sparse::io::source::{FileSource, ReadAt};
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
/// let source = FileSource::open(path)?;
/// let mut signature = [0u8; 8];
/// source.read_at(0, &mut signature)?;
/// assert_eq!(&signature, b"\x89HDF\r\n\x1a\n");
/// assert_eq!(source.len(), std::fs::metadata(path)?.len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(any(unix, windows))]
#[derive(Debug)]
pub struct FileSource {
    file: std::fs::File,
    len: u64,
    name: String,
}

#[cfg(any(unix, windows))]
impl FileSource {
    /// Opens `path` read-only.
    pub fn open(path: impl AsRef<Path>) -> Result<FileSource> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| {
            crate::Error::Io(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", path.display()),
            ))
        })?;
        FileSource::from_file(file, path.display().to_string())
    }

    /// Reads an already open `file`, named `name` in messages.
    pub fn from_file(file: std::fs::File, name: impl Into<String>) -> Result<FileSource> {
        let len = file.metadata()?.len();
        Ok(FileSource {
            file,
            len,
            name: name.into(),
        })
    }

    #[cfg(unix)]
    fn read_some(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(&self.file, buf, offset)
    }

    #[cfg(windows)]
    fn read_some(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        // `seek_read` moves the file cursor, which no reader here uses.
        std::os::windows::fs::FileExt::seek_read(&self.file, buf, offset)
    }
}

#[cfg(any(unix, windows))]
impl ReadAt for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        super::check_range(self, offset, buf.len())?;
        super::fill_exact(&|| self.name.clone(), offset, buf, |at, part| {
            self.read_some(at, part)
        })
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// A local file, memory-mapped read-only: the fastest source, and zero-copy
/// ([`ReadAt::as_bytes`] is the whole map).
///
/// ```
/// use h5sparse::io::source::{MmapSource, ReadAt};
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
/// let source = MmapSource::open(path)?;
/// assert_eq!(&source.as_bytes().unwrap()[1..4], b"HDF");
/// # Ok::<(), h5sparse::Error>(())
/// ```
#[cfg(feature = "mmap")]
#[derive(Debug)]
pub struct MmapSource {
    storage: crate::io::Storage,
    name: String,
}

#[cfg(feature = "mmap")]
impl MmapSource {
    /// Maps `path` read-only (an empty file becomes an empty buffer).
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<MmapSource> {
        let path = path.as_ref();
        let named = |e: std::io::Error| {
            crate::Error::Io(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", path.display()),
            ))
        };
        let file = std::fs::File::open(path).map_err(named)?;
        let storage = crate::io::Storage::map(&file).map_err(named)?;
        Ok(MmapSource {
            storage,
            name: path.display().to_string(),
        })
    }

    /// The map (or buffer) underneath.
    pub fn storage(&self) -> &crate::io::Storage {
        &self.storage
    }
}

#[cfg(feature = "mmap")]
impl ReadAt for MmapSource {
    fn len(&self) -> u64 {
        ReadAt::len(&self.storage)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.storage.read_at(offset, buf)
    }

    fn describe(&self) -> String {
        self.name.clone()
    }

    fn as_bytes(&self) -> Option<&[u8]> {
        self.storage.bytes()
    }
}

/// The bytes of an opened [`Storage`](crate::io::Storage) are a source too.
impl ReadAt for crate::io::Storage {
    fn len(&self) -> u64 {
        crate::io::Storage::len(self)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        match self {
            crate::io::Storage::Paged(p) => p.read_at(offset, buf),
            _ => {
                let bytes = self.bytes().unwrap_or(&[]);
                buf.copy_from_slice(super::slice_at(self, bytes, offset, buf.len())?);
                Ok(())
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            #[cfg(feature = "mmap")]
            crate::io::Storage::Mmap(m) => format!("memory map of {} bytes", m.len()),
            crate::io::Storage::Bytes(b) => format!("{} bytes in memory", b.len()),
            crate::io::Storage::Paged(p) => p.describe(),
        }
    }

    fn as_bytes(&self) -> Option<&[u8]> {
        self.bytes()
    }
}
