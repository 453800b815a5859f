//! File-system helpers for writers: a new file that appears under its final
//! name only when it is complete, and whether two files' file system can
//! share blocks between them ([`shares_extents`]).
//!
//! `h5sparse copy` and `repack` must leave no destination behind when they
//! fail. [`PendingFile`] writes to a temporary name in the destination's
//! directory (so the final rename stays on one file system and is atomic) and
//! renames it over the destination on [`commit`](PendingFile::commit); dropped
//! without a commit, it deletes the temporary file.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::sink::{FileLocking, FileSink, Sink};

/// A file being written under a temporary name beside `dest`, renamed to
/// `dest` by [`commit`](PendingFile::commit) and deleted if dropped before.
///
/// It is a [`Sink`] itself. An existing `dest` is replaced only at the commit
/// (readers that have it open keep reading the old file).
#[derive(Debug)]
pub struct PendingFile {
    /// `None` once committed.
    sink: Option<FileSink>,
    tmp: PathBuf,
    dest: PathBuf,
}

impl PendingFile {
    /// Starts writing the file that will become `dest`; locking follows
    /// [`FileLocking::from_env`].
    pub fn create(dest: impl AsRef<Path>) -> io::Result<PendingFile> {
        PendingFile::create_with_locking(dest, FileLocking::from_env())
    }

    /// [`create`](PendingFile::create) with an explicit locking policy.
    pub fn create_with_locking(
        dest: impl AsRef<Path>,
        locking: FileLocking,
    ) -> io::Result<PendingFile> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dest = dest.as_ref().to_path_buf();
        let name = dest.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: not a file name", dest.display()),
            )
        })?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(
            ".{}-{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let tmp = dest.with_file_name(tmp_name);
        let sink = FileSink::create_with_locking(&tmp, locking)?;
        Ok(PendingFile {
            sink: Some(sink),
            tmp,
            dest,
        })
    }

    /// The temporary path being written.
    pub fn temp_path(&self) -> &Path {
        &self.tmp
    }

    /// The path the file gets on commit.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    fn sink_ref(&self) -> io::Result<&FileSink> {
        self.sink
            .as_ref()
            .ok_or_else(|| io::Error::other("PendingFile already committed"))
    }

    fn sink_mut(&mut self) -> io::Result<&mut FileSink> {
        self.sink
            .as_mut()
            .ok_or_else(|| io::Error::other("PendingFile already committed"))
    }

    /// Syncs the file, renames it to the destination and syncs the directory,
    /// so the destination is either the old file or the complete new one.
    /// On error the temporary file is removed.
    pub fn commit(mut self) -> io::Result<()> {
        let result = self.finish();
        if result.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        result
    }

    fn finish(&mut self) -> io::Result<()> {
        let mut sink = self
            .sink
            .take()
            .ok_or_else(|| io::Error::other("PendingFile already committed"))?;
        sink.sync()?;
        // Keep the file (and its lock) open across the rename.
        let file = sink.into_file()?;
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot rename {} to {}: {e}",
                    self.tmp.display(),
                    self.dest.display()
                ),
            )
        })?;
        drop(file);
        sync_dir_of(&self.dest)
    }
}

impl Sink for PendingFile {
    fn write_at(&mut self, pos: u64, data: &[u8]) -> io::Result<()> {
        self.sink_mut()?.write_at(pos, data)
    }
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<()> {
        self.sink_ref()?.read_at(pos, buf)
    }
    fn len(&self) -> io::Result<u64> {
        self.sink_ref()?.len()
    }
    fn sync(&mut self) -> io::Result<()> {
        self.sink_mut()?.sync()
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.sink_mut()?.set_len(len)
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if let Some(sink) = self.sink.take() {
            drop(sink);
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Makes a rename in `path`'s directory durable.
#[cfg(unix)]
fn sync_dir_of(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::File::open(dir).and_then(|d| d.sync_all())
}

#[cfg(not(unix))]
fn sync_dir_of(_path: &Path) -> io::Result<()> {
    Ok(())
}

/// Whether `output` and `input` (existing files or directories) lie on one
/// file system that can share blocks between files (reflink): XFS or
/// btrfs, told by `statfs(2)`'s file-system type, and the same device.
/// Then slices of `input` written to `output` are worth placing at
/// congruent positions and copying with `copy_file_range`, which shares
/// their blocks instead of copying them ([`Placement`](super::sink::Placement),
/// [`CopySource`](super::sink::CopySource)); elsewhere (ext4, tmpfs, other
/// platforms) copying in the kernel is no faster than writing, so `false`.
/// An XFS made without reflink (`mkfs.xfs -m reflink=0`, the default
/// before xfsprogs 5.1) answers `true` and copies in the kernel.
///
/// ```
/// let here = std::env::temp_dir();
/// // true on XFS or btrfs, false on ext4 or tmpfs
/// let _ = h5sparse::io::fs::shares_extents(&here, &here);
/// assert!(!h5sparse::io::fs::shares_extents(&here, std::path::Path::new("/no/such/file")));
/// ```
pub fn shares_extents(output: &Path, input: &Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let same_device = match (std::fs::metadata(output), std::fs::metadata(input)) {
            (Ok(o), Ok(i)) => o.dev() == i.dev(),
            _ => false,
        };
        same_device && fs_type(output).is_some_and(reflink_type)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (output, input);
        false
    }
}

/// XFS (`XFS_SUPER_MAGIC`) and btrfs (`BTRFS_SUPER_MAGIC`), the file
/// systems whose `copy_file_range` shares aligned blocks.
#[cfg(target_os = "linux")]
fn reflink_type(f_type: u64) -> bool {
    const XFS: u64 = 0x5846_5342;
    const BTRFS: u64 = 0x9123_683E;
    f_type == XFS || f_type == BTRFS
}

/// The `f_type` of the file system holding `path`.
#[cfg(target_os = "linux")]
fn fs_type(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: `c` is a NUL-terminated path and `st` a buffer of the size
    // statfs(2) fills; it is read only after the call succeeded.
    let rc = unsafe { libc::statfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statfs succeeded, so it initialised the whole struct.
    let st = unsafe { st.assume_init() };
    // f_type is a signed long on glibc, unsigned on musl: keep its 32 bits.
    #[allow(clippy::unnecessary_cast)]
    Some(st.f_type as u64 & 0xFFFF_FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("h5sparse-pending-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn commit_renames_into_place_and_replaces_the_old_file() {
        let dir = temp_dir("commit");
        let dest = dir.join("out.h5");
        std::fs::write(&dest, b"old").unwrap();
        let mut p = PendingFile::create_with_locking(&dest, FileLocking::Required).unwrap();
        assert!(p.temp_path().starts_with(&dir));
        p.write_at(0, b"new contents").unwrap();
        // Until the commit the destination is untouched.
        assert_eq!(std::fs::read(&dest).unwrap(), b"old");
        p.commit().unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"new contents");
        assert_eq!(entries(&dir), ["out.h5"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dropping_without_commit_leaves_nothing_behind() {
        let dir = temp_dir("abort");
        let dest = dir.join("out.h5");
        {
            let mut p = PendingFile::create_with_locking(&dest, FileLocking::Required).unwrap();
            p.write_at(0, &[1; 5000]).unwrap();
            p.sync().unwrap();
            assert_eq!(entries(&dir).len(), 1);
        }
        assert!(entries(&dir).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reflink_file_systems_are_xfs_and_btrfs_only() {
        // The magic numbers of statfs(2): XFS, btrfs; ext4, tmpfs.
        assert!(reflink_type(0x5846_5342) && reflink_type(0x9123_683E));
        assert!(!reflink_type(0xEF53) && !reflink_type(0x0102_1994));
        let dir = temp_dir("fs-type");
        assert!(fs_type(&dir).is_some());
        assert_eq!(fs_type(&dir.join("missing")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_destination_without_a_file_name_is_refused() {
        let e = PendingFile::create_with_locking("/", FileLocking::Disabled).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }
}
