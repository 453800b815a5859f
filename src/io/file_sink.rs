//! [`FileSink`]: a file on disk written with positional I/O through a
//! write-back buffer, under an exclusive advisory lock compatible with
//! libhdf5's (see the [`sink`](super::sink) module docs).

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::sink::{end_of, past_end, Placement, Sink};

/// How [`FileSink`] locks the file it writes (see the [`sink`](super::sink) module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileLocking {
    /// Take an exclusive lock; a file system that cannot lock is an error
    /// (`HDF5_USE_FILE_LOCKING=TRUE` or `1`).
    Required,
    /// Take an exclusive lock; proceed unlocked where the file system or
    /// platform does not support locks (libhdf5's default, and
    /// `HDF5_USE_FILE_LOCKING=BEST_EFFORT`). A lock held by someone else is
    /// still an error.
    BestEffort,
    /// Take no lock (`HDF5_USE_FILE_LOCKING=FALSE` or `0`).
    Disabled,
}

impl FileLocking {
    /// The policy libhdf5 would use, from the `HDF5_USE_FILE_LOCKING`
    /// environment variable: `FALSE`/`0` disabled, `TRUE`/`1` required,
    /// `BEST_EFFORT`, unset or anything else best effort.
    pub fn from_env() -> FileLocking {
        FileLocking::from_setting(std::env::var("HDF5_USE_FILE_LOCKING").ok().as_deref())
    }

    /// The policy for a value of `HDF5_USE_FILE_LOCKING` (`None`: unset).
    pub(super) fn from_setting(value: Option<&str>) -> FileLocking {
        match value {
            Some("FALSE") | Some("0") => FileLocking::Disabled,
            Some("TRUE") | Some("1") => FileLocking::Required,
            _ => FileLocking::BestEffort,
        }
    }
}

/// A file another part of the process holds in memory whole (its memory
/// map): a [`FileSink`] given it ([`Sink::add_copy_source`]) writes a
/// large slice lying in that memory by copying the file's bytes in the
/// kernel (Linux `copy_file_range(2)`: no page of them mapped or copied
/// through the process; on XFS or btrfs the file system may share the
/// blocks) instead of writing the slice, and falls back to writing it
/// where the kernel refuses (another file system, an old kernel, other
/// platforms).
///
/// ```
/// use h5sparse::io::sink::{CopySource, FileSink, Sink};
/// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-copy-source", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let input = dir.join("in.bin");
/// std::fs::write(&input, vec![7u8; 1 << 20])?;
/// let bytes: std::sync::Arc<Vec<u8>> = std::sync::Arc::new(std::fs::read(&input)?);  // stands for a map
/// let mut out = FileSink::create(dir.join("out.bin"))?;
/// out.add_copy_source(CopySource::new(std::fs::File::open(&input)?, &bytes[..], bytes.clone()));
/// out.write_at(10, &bytes[4096..])?;                   // copied file to file where possible
/// out.sync()?;
/// assert_eq!(std::fs::read(dir.join("out.bin"))?[10..], bytes[4096..]);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct CopySource {
    file: Arc<File>,
    /// Address and length of the memory holding the file's bytes.
    start: usize,
    len: usize,
    /// Keeps that memory alive (and so its addresses unused by anything
    /// else) while the sink may compare slices against it.
    _owner: Arc<dyn Send + Sync>,
}

impl std::fmt::Debug for CopySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopySource")
            .field("len", &self.len)
            .finish()
    }
}

impl CopySource {
    /// `file`, whose bytes from offset 0 are `bytes` (its whole memory map,
    /// say), kept alive by `owner`. If `bytes` is not what the file holds,
    /// slices of it are written as the file holds them: the caller vouches
    /// for the two agreeing (a map of the same file does).
    pub fn new(file: File, bytes: &[u8], owner: Arc<dyn Send + Sync>) -> CopySource {
        CopySource {
            file: Arc::new(file),
            start: bytes.as_ptr() as usize,
            len: bytes.len(),
            _owner: owner,
        }
    }

    /// The file offset of `data` when it lies within the source's memory.
    fn offset_of(&self, data: &[u8]) -> Option<u64> {
        let at = (data.as_ptr() as usize).checked_sub(self.start)?;
        (at.checked_add(data.len())? <= self.len).then_some(at as u64)
    }
}

/// The default size of [`FileSink`]'s write-back buffer: 1 MiB.
pub const DEFAULT_WRITE_BUFFER: usize = 1 << 20;

/// Writes this large bypass the buffer.
const DIRECT_WRITE: usize = 64 << 10;

/// A file on disk, written with positional I/O through a write-back buffer.
///
/// Small sequential writes are gathered into one buffer (1 MiB by default)
/// and written with a single positional write when the next write does not
/// continue or overwrite the buffered range, or before `sync`, `set_len`,
/// [`into_file`](FileSink::into_file) and drop. Writes of at least 64 KiB
/// (or the buffer's size, when smaller) go straight to the file: copying a
/// chunk into the buffer costs more than the call it would save.
/// [`read_at`](Sink::read_at) sees buffered bytes.
///
/// The sink holds an exclusive advisory lock on the file while it is open
/// (see the [`sink`](super::sink) module docs); a second writer fails with
/// [`io::ErrorKind::WouldBlock`].
///
/// Errors while flushing on drop are lost: call [`sync`](Sink::sync) (or
/// [`into_file`](FileSink::into_file)) to see them.
#[derive(Debug)]
pub struct FileSink {
    /// `None` only after `into_file` took it.
    file: Option<File>,
    path: PathBuf,
    /// Length of the file on disk (we hold the lock, so nobody else changes it).
    file_len: u64,
    /// Buffered bytes, to be written at `buf_pos`.
    buf: Vec<u8>,
    buf_pos: u64,
    capacity: usize,
    /// Whether the parent directory still needs an fsync to make a newly
    /// created file's name durable.
    dir_sync_pending: bool,
    /// Bytes written since writeback was last started (see
    /// [`start_writeback`]).
    unstarted: u64,
    /// Whether `sync` reaches the disk ([`Sink::set_durable`]).
    durable: bool,
    /// Files whose in-memory slices are copied in the kernel
    /// ([`CopySource`]); emptied when the kernel refuses.
    sources: Vec<CopySource>,
}

impl FileSink {
    /// Creates `path` (or truncates it if it exists) for writing, with an
    /// exclusive advisory lock; locking follows [`FileLocking::from_env`].
    ///
    /// The file is truncated only after the lock is taken, so a refused second
    /// writer leaves the first one's file alone.
    pub fn create(path: impl AsRef<Path>) -> io::Result<FileSink> {
        FileSink::create_with_locking(path, FileLocking::from_env())
    }

    /// Opens the existing file `path` for reading and writing, with an
    /// exclusive advisory lock; locking follows [`FileLocking::from_env`].
    pub fn open_rw(path: impl AsRef<Path>) -> io::Result<FileSink> {
        FileSink::open_rw_with_locking(path, FileLocking::from_env())
    }

    /// [`create`](FileSink::create) with an explicit locking policy.
    pub fn create_with_locking(
        path: impl AsRef<Path>,
        locking: FileLocking,
    ) -> io::Result<FileSink> {
        let path = path.as_ref();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| with_path(e, path, "cannot create"))?;
        lock(&file, path, locking)?;
        file.set_len(0)
            .map_err(|e| with_path(e, path, "cannot truncate"))?;
        let mut sink = FileSink::from_parts(file, path, 0);
        sink.dir_sync_pending = true;
        Ok(sink)
    }

    /// [`open_rw`](FileSink::open_rw) with an explicit locking policy.
    pub fn open_rw_with_locking(
        path: impl AsRef<Path>,
        locking: FileLocking,
    ) -> io::Result<FileSink> {
        let path = path.as_ref();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| with_path(e, path, "cannot open for writing"))?;
        lock(&file, path, locking)?;
        let len = file
            .metadata()
            .map_err(|e| with_path(e, path, "cannot stat"))?
            .len();
        Ok(FileSink::from_parts(file, path, len))
    }

    fn from_parts(file: File, path: &Path, file_len: u64) -> FileSink {
        FileSink {
            file: Some(file),
            path: path.to_path_buf(),
            file_len,
            buf: Vec::new(),
            buf_pos: 0,
            capacity: DEFAULT_WRITE_BUFFER,
            dir_sync_pending: false,
            unstarted: 0,
            durable: true,
            sources: Vec::new(),
        }
    }

    /// The path the sink was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Changes the write-back buffer's size (flushing it first). `0` turns
    /// buffering off.
    pub fn set_buffer_capacity(&mut self, bytes: usize) -> io::Result<()> {
        self.flush()?;
        self.capacity = bytes;
        self.buf = Vec::new();
        Ok(())
    }

    /// Flushes the buffer and returns the file, still locked (the lock goes
    /// with the open file and is released when it is closed).
    pub fn into_file(mut self) -> io::Result<File> {
        self.flush()?;
        self.file
            .take()
            .ok_or_else(|| io::Error::other("FileSink has no file"))
    }

    /// Writes out buffered bytes without syncing, so that other views of
    /// the file (a memory map) see them.
    pub fn flush_buffer(&mut self) -> io::Result<()> {
        self.flush()
    }

    /// The open file (after [`FileSink::flush_buffer`] its contents are
    /// current).
    pub fn file_ref(&self) -> io::Result<&File> {
        self.file()
    }

    fn file(&self) -> io::Result<&File> {
        self.file
            .as_ref()
            .ok_or_else(|| io::Error::other("FileSink has no file"))
    }

    fn buf_end(&self) -> u64 {
        self.buf_pos + self.buf.len() as u64
    }

    /// Writes the buffer out. On error the buffer is kept, so a later flush
    /// (or drop) retries the same positional write.
    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let end = self.buf_end();
        write_all_at(self.file()?, &self.buf, self.buf_pos)
            .map_err(|e| with_path(e, &self.path, "cannot write"))?;
        self.file_len = self.file_len.max(end);
        self.wrote(self.buf.len())?;
        self.buf.clear();
        Ok(())
    }

    /// Writes `data` at `pos` unbuffered: from a [`CopySource`] holding
    /// it, in the kernel where it can. When `pos` is congruent to the
    /// slice's offset in the source modulo [`Placement::BLOCK`] (the
    /// writer placed it so), only the whole blocks in the middle are
    /// copied in the kernel, which a file system sharing extents turns
    /// into shared blocks; the partial blocks at either end are written
    /// (a range that starts inside a block would make XFS copy all of it).
    fn write_direct(&mut self, pos: u64, data: &[u8]) -> io::Result<()> {
        let block = Placement::BLOCK;
        let (head, middle) = match self.sources.iter().find_map(|s| s.offset_of(data)) {
            Some(at) if at % block == pos % block => {
                let head = ((block - at % block) % block).min(data.len() as u64) as usize;
                let middle = (data.len() - head) as u64 / block * block;
                (head, middle as usize)
            }
            Some(_) => (0, data.len()),
            None => (0, 0),
        };
        let write = |sink: &Self, from: usize, to: usize| {
            if from >= to {
                return Ok(());
            }
            write_all_at(sink.file()?, &data[from..to], pos + from as u64)
                .map_err(|e| with_path(e, &sink.path, "cannot write"))
        };
        write(self, 0, head)?;
        let copied = if middle > 0 {
            self.copy_in_kernel(pos + head as u64, &data[head..head + middle])?
        } else {
            0
        };
        write(self, head + copied, data.len())
    }

    /// Copies the first bytes of `data` to `pos` from a [`CopySource`]
    /// holding them, in the kernel; returns how many (0 when no source
    /// holds `data` or the kernel cannot copy: the caller writes the rest).
    fn copy_in_kernel(&mut self, pos: u64, data: &[u8]) -> io::Result<usize> {
        let Some((src, at)) = self
            .sources
            .iter()
            .find_map(|s| Some((s.file.clone(), s.offset_of(data)?)))
        else {
            return Ok(0);
        };
        let mut done = 0usize;
        while done < data.len() {
            match copy_range(
                &src,
                at + done as u64,
                self.file()?,
                pos + done as u64,
                data.len() - done,
            ) {
                Ok(0) => break, // the source ended early (shrunk): write the rest
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if copy_unsupported(&e) => {
                    self.sources.clear(); // refused for this pair: write from now on
                    break;
                }
                Err(e) => return Err(with_path(e, &self.path, "cannot copy into")),
            }
        }
        if done > 0 {
            let end = pos + done as u64;
            self.file_len = self.file_len.max(end);
        }
        Ok(done)
    }

    /// Counts `bytes` written to the file, starting writeback every
    /// [`WRITEBACK_EVERY`] bytes.
    fn wrote(&mut self, bytes: usize) -> io::Result<()> {
        self.unstarted += bytes as u64;
        if self.durable && self.unstarted >= WRITEBACK_EVERY {
            self.unstarted = 0;
            start_writeback(self.file()?);
        }
        Ok(())
    }
}

impl Sink for FileSink {
    fn write_at(&mut self, pos: u64, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let end = end_of(pos, data.len(), "write")?;
        let direct = data.len() >= self.capacity.min(DIRECT_WRITE);
        if !self.buf.is_empty() {
            // Continue or overwrite the buffered range when the result still fits.
            if !direct
                && pos >= self.buf_pos
                && pos <= self.buf_end()
                && end - self.buf_pos <= self.capacity as u64
            {
                let off = (pos - self.buf_pos) as usize;
                let overlap = (self.buf.len() - off).min(data.len());
                self.buf[off..off + overlap].copy_from_slice(&data[..overlap]);
                self.buf.extend_from_slice(&data[overlap..]);
                return Ok(());
            }
            self.flush()?;
        }
        if direct {
            self.write_direct(pos, data)?;
            self.file_len = self.file_len.max(end);
            self.wrote(data.len())?;
        } else {
            if self.buf.capacity() < self.capacity {
                self.buf.reserve_exact(self.capacity);
            }
            self.buf_pos = pos;
            self.buf.extend_from_slice(data);
        }
        Ok(())
    }

    fn read_at(&self, pos: u64, out: &mut [u8]) -> io::Result<()> {
        let end = end_of(pos, out.len(), "read")?;
        let len = self.len()?;
        if end > len {
            return Err(past_end(pos, out.len(), len));
        }
        // What the file holds, then zeros for a gap before a buffer that starts
        // past the end of the file, then the buffered bytes on top.
        let on_disk = self.file_len.clamp(pos, end) - pos;
        let (disk, rest) = out.split_at_mut(on_disk as usize);
        if !disk.is_empty() {
            read_exact_at(self.file()?, disk, pos)
                .map_err(|e| with_path(e, &self.path, "cannot read"))?;
        }
        rest.fill(0);
        if !self.buf.is_empty() {
            let from = pos.max(self.buf_pos);
            let to = end.min(self.buf_end());
            if from < to {
                let n = (to - from) as usize;
                let dst = (from - pos) as usize;
                let src = (from - self.buf_pos) as usize;
                out[dst..dst + n].copy_from_slice(&self.buf[src..src + n]);
            }
        }
        Ok(())
    }

    fn len(&self) -> io::Result<u64> {
        Ok(if self.buf.is_empty() {
            self.file_len
        } else {
            self.file_len.max(self.buf_end())
        })
    }

    fn sync(&mut self) -> io::Result<()> {
        self.flush()?;
        if !self.durable {
            return Ok(());
        }
        self.file()?
            .sync_data()
            .map_err(|e| with_path(e, &self.path, "cannot sync"))?;
        if self.dir_sync_pending {
            sync_parent_dir(&self.path)?;
            self.dir_sync_pending = false;
        }
        Ok(())
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.flush()?;
        self.file()?
            .set_len(len)
            .map_err(|e| with_path(e, &self.path, "cannot resize"))?;
        self.file_len = len;
        Ok(())
    }

    /// `false`: `sync` writes out the buffer only (no `fdatasync`, no sync
    /// of the directory of a new file) and writeback is no longer started
    /// every 16 MiB; the kernel writes the pages back when it likes.
    fn set_durable(&mut self, durable: bool) {
        self.durable = durable;
    }

    fn add_copy_source(&mut self, source: CopySource) {
        self.sources.push(source);
    }

    /// Slices of the registered sources that go straight to the file
    /// (not through the buffer) at positions congruent to their source
    /// offsets; none once the kernel refused to copy.
    fn placement(&self) -> Placement {
        let regions = self.sources.iter().map(|s| (s.start, s.len)).collect();
        Placement::new(regions, self.capacity.clamp(1, DIRECT_WRITE))
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        // Errors are lost here by necessity; `sync` and `into_file` report them.
        let _ = self.flush();
    }
}

/// Written bytes after which [`FileSink`] starts their writeback.
const WRITEBACK_EVERY: u64 = 16 << 20;

/// Asks the kernel to start writing the file's dirty pages to disk now,
/// without waiting for them (Linux: `sync_file_range` with
/// `SYNC_FILE_RANGE_WRITE`). A large file's pages then go out while it is
/// still being written, and the `sync` that ends a write waits for the
/// last ones only (a 400 MB `convert` spent 0.15-0.19 s in its final
/// `fdatasync` before). Durability is unchanged: pages may reach the disk
/// at any time anyway, and `sync` still waits for all of them. A failure
/// only loses the hint.
#[cfg(target_os = "linux")]
fn start_writeback(file: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: `file` is an open descriptor for the whole call, and
    // sync_file_range reads and writes no memory of ours.
    let _ = unsafe { libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File) {}

/// `copy_file_range(2)`: up to `len` bytes of `src` at `from` to `dst` at
/// `to`, in the kernel. Returns the bytes copied (0: `src` ends at `from`).
#[cfg(target_os = "linux")]
fn copy_range(src: &File, from: u64, dst: &File, to: u64, len: usize) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    let (mut off_in, mut off_out) = (
        i64::try_from(from).map_err(io::Error::other)?,
        i64::try_from(to).map_err(io::Error::other)?,
    );
    // One call copies at most 1 GiB (the kernel caps it below 2 GiB anyway).
    let len = len.min(1 << 30);
    // SAFETY: both descriptors are open for the call; the kernel reads and
    // writes only the two offsets, which live on this stack frame.
    let n = unsafe {
        libc::copy_file_range(
            src.as_raw_fd(),
            &mut off_in,
            dst.as_raw_fd(),
            &mut off_out,
            len,
            0,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// No in-kernel copy elsewhere: every slice is written.
#[cfg(not(target_os = "linux"))]
fn copy_range(_src: &File, _from: u64, _dst: &File, _to: u64, _len: usize) -> io::Result<usize> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Errors saying the kernel cannot copy between these two files (another
/// file system on old kernels, a system call it lacks, a file kind it
/// cannot copy): writing the bytes instead works.
fn copy_unsupported(e: &io::Error) -> bool {
    if e.kind() == io::ErrorKind::Unsupported {
        return true;
    }
    #[cfg(target_os = "linux")]
    if let Some(code) = e.raw_os_error() {
        return [
            libc::EXDEV,
            libc::EINVAL,
            libc::ENOSYS,
            libc::EOPNOTSUPP,
            libc::EBADF,
            libc::EPERM,
            libc::ETXTBSY,
        ]
        .contains(&code);
    }
    false
}

fn with_path(e: io::Error, path: &Path, what: &str) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {what}: {e}", path.display()))
}

// `File::try_lock` is stable since Rust 1.89; Cargo.toml's rust-version must say
// so (bumping it also enables clippy lints newer code trips over, so that is
// left to the merge).
#[allow(clippy::incompatible_msrv)]
fn lock(file: &File, path: &Path, locking: FileLocking) -> io::Result<()> {
    if locking == FileLocking::Disabled {
        return Ok(());
    }
    // A lock can be held for a moment by no one who wants it: while another
    // thread of this process spawns a child, the child holds a copy of every
    // descriptor (and so of the lock) until its exec closes them. A writer
    // opened just after another closed the file would fail at random in a
    // process that also runs commands, so a held lock is tried again for
    // about 0.1 s before it is reported.
    let mut result = file.try_lock();
    for wait_ms in [1, 2, 4, 8, 16, 32, 64] {
        if !matches!(result, Err(std::fs::TryLockError::WouldBlock)) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        result = file.try_lock();
    }
    match result {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(io::Error::new(
            io::ErrorKind::WouldBlock,
            format!(
                "{} is already open for writing by another process (advisory lock held; \
                 libhdf5/h5py readers hold it too)",
                path.display()
            ),
        )),
        Err(std::fs::TryLockError::Error(e))
            if locking == FileLocking::BestEffort && e.kind() == io::ErrorKind::Unsupported =>
        {
            Ok(())
        }
        Err(std::fs::TryLockError::Error(e)) => Err(with_path(
            e,
            path,
            "cannot lock (set HDF5_USE_FILE_LOCKING=FALSE to write without a lock)",
        )),
    }
}

/// Makes a newly created file's directory entry durable.
#[cfg(unix)]
fn sync_parent_dir(path: &Path) -> io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(|e| with_path(e, parent, "cannot sync directory"))
}

/// Directories cannot be opened as files here; the file's own sync suffices.
#[cfg(not(unix))]
fn sync_parent_dir(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn write_all_at(file: &File, data: &[u8], pos: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, data, pos)
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, pos)
}

#[cfg(windows)]
fn write_all_at(file: &File, mut data: &[u8], mut pos: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !data.is_empty() {
        match file.seek_write(data, pos) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                data = &data[n..];
                pos += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut pos: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, pos) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                pos += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

// Elsewhere (wasi, ...): seek, then read or write. `&File` implements Seek,
// Read and Write, and the sink is the file's only user.
#[cfg(not(any(unix, windows)))]
fn write_all_at(mut file: &File, data: &[u8], pos: u64) -> io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    file.seek(SeekFrom::Start(pos))?;
    file.write_all(data)
}

#[cfg(not(any(unix, windows)))]
fn read_exact_at(mut file: &File, buf: &mut [u8], pos: u64) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    file.seek(SeekFrom::Start(pos))?;
    file.read_exact(buf)
}
