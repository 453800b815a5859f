//! Byte sources and sinks: a read-only memory map or bytes already in memory
//! for reading; the [`Sink`] trait and its implementations for writing.
//!
//! HDF5 metadata is scattered across the file, so the reader works on one
//! contiguous `&[u8]` of the whole file. A memory map gives that without
//! reading the file; on wasm, or for tests, an owned buffer does.

mod file_sink;
pub mod fs;
pub mod sink;

pub use fs::PendingFile;
pub use sink::{
    CountingSink, FaultSink, FileLocking, FileSink, MemSink, Sink, DEFAULT_WRITE_BUFFER,
};

/// The bytes of an opened file.
#[derive(Debug)]
pub enum Storage {
    /// A read-only memory map of a file on disk.
    #[cfg(feature = "mmap")]
    Mmap(memmap2::Mmap),
    /// Bytes held in memory.
    Bytes(Vec<u8>),
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

    /// The whole file as bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            #[cfg(feature = "mmap")]
            Storage::Mmap(m) => m,
            Storage::Bytes(b) => b,
        }
    }
}
