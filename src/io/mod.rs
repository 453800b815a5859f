//! Byte sources and sinks: a read-only memory map or bytes already in memory
//! for reading; the [`Sink`] trait and its implementations for writing.
//!
//! HDF5 metadata is scattered across the file, so the reader works on one
//! contiguous `&[u8]` of the whole file. A memory map gives that without
//! reading the file; on wasm, or for tests, an owned buffer does.
//!
//! [`source`] reads any byte range from anything that can: [`ReadAt`] and
//! its sources (bytes, memory maps, positional file reads, [`http`] range
//! requests, object stores with feature `object-store`), and
//! [`CachedSource`], the block cache over any of them.

mod file_sink;
pub mod fs;
#[cfg(not(target_arch = "wasm32"))]
pub mod http;
pub mod paged;
pub mod sink;
pub mod source;

pub use fs::PendingFile;
#[cfg(not(target_arch = "wasm32"))]
pub use http::{HttpOptions, HttpSource, HttpStats};
pub use sink::{
    CountingSink, FaultSink, FileLocking, FileSink, MemSink, Sink, DEFAULT_WRITE_BUFFER,
};
pub use source::{CacheOptions, CacheStats, CachedSource, ReadAt};

/// The bytes of an opened file.
#[derive(Debug)]
pub enum Storage {
    /// A read-only memory map of a file on disk.
    #[cfg(feature = "mmap")]
    Mmap(memmap2::Mmap),
    /// Bytes held in memory.
    Bytes(Vec<u8>),
    /// Read range by range.
    Paged(paged::PagedFile),
}

/// How a range of a mapped file is about to be used (`madvise`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Read once, front to back, soon: read ahead aggressively
    /// (`MADV_SEQUENTIAL` and `MADV_WILLNEED`).
    Sequential,
    /// Read and no longer needed by this process: drop its pages from the
    /// mapping (`MADV_DONTNEED`), so that a streaming pass over a large
    /// file does not leave the whole file resident in the process. The
    /// pages stay in the page cache.
    Done,
}

impl Storage {
    /// Maps `file` read-only.
    ///
    /// An empty file cannot be mapped on every platform; it becomes an empty
    /// buffer instead.
    #[cfg(feature = "mmap")]
    pub fn map(file: &std::fs::File) -> std::io::Result<Storage> {
        if file.metadata()?.len() == 0 {
            return Ok(Storage::Bytes(Vec::new()));
        }
        // SAFETY: the map is read-only. Another process truncating or
        // rewriting the file while it is mapped is outside what this crate can
        // guard against (as for every mmap-based reader); the advisory lock
        // taken by writers documents the contract.
        let map = unsafe { memmap2::Mmap::map(file)? };
        Ok(Storage::Mmap(map))
    }

    /// Tells the kernel how `part`, a slice of [`Storage::bytes`], is about
    /// to be used; a no-op for bytes in memory, off Unix, or for a slice
    /// from elsewhere. Advice never changes what the bytes read.
    pub(crate) fn advise(&self, part: &[u8], access: Access) {
        #[cfg(all(feature = "mmap", unix))]
        if let Storage::Mmap(m) = self {
            let (base, at) = (m.as_ptr() as usize, part.as_ptr() as usize);
            let Some(offset) = at.checked_sub(base) else {
                return;
            };
            if part.is_empty() || offset + part.len() > m.len() {
                return;
            }
            // Failures (an old kernel without the advice) only lose the hint.
            let _ = match access {
                Access::Sequential => m
                    .advise_range(memmap2::Advice::Sequential, offset, part.len())
                    .and_then(|()| m.advise_range(memmap2::Advice::WillNeed, offset, part.len())),
                // SAFETY: the map is a read-only shared file mapping: after
                // MADV_DONTNEED the next access reads the same bytes back
                // from the page cache, so slices borrowed from it stay valid
                // and unchanged (only private writable mappings lose data).
                Access::Done => unsafe {
                    m.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, part.len())
                },
            };
        }
        #[cfg(not(all(feature = "mmap", unix)))]
        let _ = (part, access);
    }

    /// The whole file as bytes, when it is mapped or in memory.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            #[cfg(feature = "mmap")]
            Storage::Mmap(m) => Some(m),
            Storage::Bytes(b) => Some(b),
            Storage::Paged(_) => None,
        }
    }

    /// The file's length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Storage::Paged(p) => crate::format::Pages::len(p),
            _ => self.bytes().map_or(0, |b| b.len() as u64),
        }
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The file as parsers read it.
    pub(crate) fn src(&self) -> crate::format::Src<'_> {
        match self {
            Storage::Paged(p) => crate::format::Src::Pages(p),
            _ => crate::format::Src::Bytes(self.bytes().unwrap_or(&[])),
        }
    }
}
