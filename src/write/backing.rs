//! [`Backing`] implementations: sinks whose current bytes the writer can
//! parse.

use std::io;

use super::Backing;
#[cfg(feature = "mmap")]
use crate::io::sink::Sink;
use crate::io::sink::{FaultSink, MemSink};

impl Backing for MemSink {
    fn contents(&mut self) -> io::Result<&[u8]> {
        Ok(&self.bytes)
    }
}

/// The disk's view: what a crash would leave. The writer reads it only at
/// the start of an operation, before any of that operation's writes.
impl<S: Backing> Backing for FaultSink<S> {
    fn contents(&mut self) -> io::Result<&[u8]> {
        self.inner_mut().contents()
    }
}

/// A [`FileSink`](crate::io::sink::FileSink) plus a read-only memory map of
/// the same file, remapped when the file's length changes. Writes go
/// through the sink's positional I/O; on Linux and every unified-page-cache
/// OS the shared map sees them once the sink's buffer is flushed.
///
/// ```
/// use h5sparse::io::sink::FileSink;
/// use h5sparse::write::{DatasetOptions, MappedFile, Writer};
///
/// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-mapped-file", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # let path = dir.join("f.h5");
/// let mut w = Writer::create_in(MappedFile::new(FileSink::create(&path)?))?;
/// w.create_dataset("/x", &[2], &[1i16, 2], &DatasetOptions::default())?;
/// assert_eq!(w.reader()?.dataset("/x")?.read::<i16>()?, vec![1, 2]);   // mapped, not copied
/// # drop(w);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), h5sparse::Error>(())
/// ```
#[cfg(feature = "mmap")]
#[derive(Debug)]
pub struct MappedFile {
    sink: crate::io::sink::FileSink,
    map: Option<memmap2::Mmap>,
}

#[cfg(feature = "mmap")]
impl MappedFile {
    /// Wraps an open [`FileSink`](crate::io::sink::FileSink).
    ///
    /// ```
    /// use h5sparse::io::sink::FileSink;
    /// use h5sparse::write::{MappedFile, Writer};
    ///
    /// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-mapped-new", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("f.h5");
    /// let mut sink = FileSink::create(&path)?;
    /// sink.set_buffer_capacity(64 << 10)?;                 // what Writer::create cannot set
    /// let mut w = Writer::create_in(MappedFile::new(sink))?;
    /// w.create_group("/g")?;
    /// w.close()?;
    /// assert!(h5sparse::File::open(&path)?.group("/g").is_ok());
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn new(sink: crate::io::sink::FileSink) -> MappedFile {
        MappedFile { sink, map: None }
    }

    /// The wrapped sink.
    ///
    /// ```
    /// use h5sparse::write::Writer;
    ///
    /// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-mapped-into-sink", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("f.h5");
    /// let sink = Writer::create(&path)?.close()?.into_sink();
    /// assert_eq!(sink.path(), path.as_path());
    /// # drop(sink);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn into_sink(self) -> crate::io::sink::FileSink {
        self.sink
    }
}

#[cfg(feature = "mmap")]
impl Sink for MappedFile {
    fn write_at(&mut self, pos: u64, data: &[u8]) -> io::Result<()> {
        self.sink.write_at(pos, data)
    }
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<()> {
        self.sink.read_at(pos, buf)
    }
    fn len(&self) -> io::Result<u64> {
        self.sink.len()
    }
    fn sync(&mut self) -> io::Result<()> {
        self.sink.sync()
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        // Never keep a map across a truncation (touching it would fault).
        self.map = None;
        self.sink.set_len(len)
    }
    fn set_durable(&mut self, durable: bool) {
        self.sink.set_durable(durable)
    }
    fn add_copy_source(&mut self, source: crate::io::sink::CopySource) {
        self.sink.add_copy_source(source)
    }
    fn placement(&self) -> crate::io::sink::Placement {
        self.sink.placement()
    }
}

#[cfg(feature = "mmap")]
impl Backing for MappedFile {
    fn contents(&mut self) -> io::Result<&[u8]> {
        self.sink.flush_buffer()?;
        let len = self.sink.len()?;
        if len == 0 {
            self.map = None;
            return Ok(&[]);
        }
        if self.map.as_ref().is_none_or(|m| m.len() as u64 != len) {
            // SAFETY: read-only map of a file this process holds the
            // exclusive advisory write lock on; only this sink changes it,
            // and it never shrinks the file while the map is alive.
            self.map = Some(unsafe { memmap2::Mmap::map(self.sink.file_ref()?)? });
        }
        Ok(self.map.as_deref().unwrap_or(&[]))
    }

    fn path(&self) -> Option<&std::path::Path> {
        Some(self.sink.path())
    }
}

/// A boxed backing, so one writer type can serve files and memory alike
/// (`Writer<Box<dyn Backing + Send>>`, as [`H5File`](crate::H5File) keeps).
impl<B: Backing + ?Sized> Backing for Box<B> {
    fn contents(&mut self) -> io::Result<&[u8]> {
        (**self).contents()
    }

    fn path(&self) -> Option<&std::path::Path> {
        (**self).path()
    }
}
