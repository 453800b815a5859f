//! Opening files, resolving paths and links, and shared-message lookup.

use std::sync::Mutex;

use super::{Dataset, Dtype, File, Group, Link, LinkTarget, Node};
use crate::error::{Error, Result};
use crate::format::message::datatype::Datatype;
use crate::format::object_header::{kind, Message, ObjectHeader, MESSAGE_FLAG_SHARED};
use crate::format::superblock::Superblock;
use crate::format::{Address, FileView};
use crate::io::Storage;
use crate::limits::Limits;

impl File {
    /// Opens `path` read-only through a memory map.
    ///
    /// ```no_run
    /// let file = h5sparse::File::open("data.h5")?;
    /// println!("superblock v{}", file.superblock_version());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    #[cfg(feature = "mmap")]
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<File> {
        Self::open_with_limits(path, Limits::default())
    }

    /// Opens `path` with custom limits.
    #[cfg(feature = "mmap")]
    pub fn open_with_limits(path: impl AsRef<std::path::Path>, limits: Limits) -> Result<File> {
        let path = path.as_ref();
        let with_path = |e: std::io::Error| {
            Error::Io(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", path.display()),
            ))
        };
        let f = std::fs::File::open(path).map_err(with_path)?;
        let storage = Storage::map(&f).map_err(with_path)?;
        File::new(storage, limits, Some(path.to_path_buf()))
    }

    /// Reads a file already in memory (no mmap; works on wasm).
    ///
    /// ```
    /// let err = h5sparse::File::from_bytes(b"not an HDF5 file".to_vec()).unwrap_err();
    /// assert!(err.to_string().contains("signature"));
    /// ```
    pub fn from_bytes(bytes: Vec<u8>) -> Result<File> {
        Self::from_bytes_with_limits(bytes, Limits::default())
    }

    /// [`File::from_bytes`] with custom limits.
    pub fn from_bytes_with_limits(bytes: Vec<u8>, limits: Limits) -> Result<File> {
        File::new(Storage::Bytes(bytes), limits, None)
    }

    /// Reads a file range by range from `source` (a plain file without a
    /// memory map, bytes served in pieces, and, through [`crate::io`]'s
    /// sources, HTTP and object stores). Metadata is fetched in blocks of
    /// [`crate::io::paged::block_for`] the source (64 KiB locally, 16 KiB
    /// from remote sources) and kept while the file is
    /// open (at most [`Limits::max_metadata_cache`]); data is read as
    /// needed, straight into the result, and from remote sources the byte
    /// ranges a read needs are fetched together (merged, concurrently; see
    /// [`crate::format::FileView::prefetch`]). Results are the same as from [`File::open`]; zero-copy
    /// views, which borrow from a map, are refused.
    ///
    /// ```
    /// use h5sparse::io::source::{FileSource, Piecewise};
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
    /// let source = Piecewise::new(FileSource::open(path)?, 7);   // 7 bytes per read
    /// let f = h5sparse::File::open_source(Box::new(source))?;
    /// let mapped = h5sparse::File::open(path)?;                  // the same content
    /// assert_eq!(f.dataset("/X/indptr")?.read::<i32>()?, mapped.dataset("/X/indptr")?.read::<i32>()?);
    /// assert!(f.bytes().is_none());                               // nothing mapped
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn open_source(source: Box<dyn crate::io::ReadAt>) -> Result<File> {
        Self::open_source_with(source, Limits::default())
    }

    /// [`File::open_source`] with custom limits.
    pub fn open_source_with(source: Box<dyn crate::io::ReadAt>, limits: Limits) -> Result<File> {
        let block = crate::io::paged::block_for(&*source);
        let paged = crate::io::paged::PagedFile::new(source, block, limits.max_metadata_cache)?;
        Self::from_paged(paged, limits)
    }

    /// Opens the file a URL names, read range by range: `http://` (and
    /// `https://` with feature `tls`) through range requests, object stores
    /// (`s3://`, `gs://`, `az://`, `file://`; feature `object-store`).
    /// Opening reads the first 64 KiB (one request); walking metadata and
    /// reading data fetch what they touch. See [`File::open_source`].
    ///
    /// ```no_run
    /// let f = h5sparse::File::open_url("https://example.org/pbmc3k.h5ad")?;
    /// let x = h5sparse::sparse::SparseDataset::open(&f, "/X")?;
    /// let first = x.read::<f32>(&h5sparse::sparse::Sel::range(0, 100), &h5sparse::sparse::Sel::All)?;
    /// # let _ = first;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn open_url(url: &str) -> Result<File> {
        Self::open_source(crate::io::source::open_url(url)?)
    }

    /// [`File::open_url`] when `name` is a URL, [`File::open`] otherwise
    /// (what the command line does with its file arguments).
    ///
    /// ```
    /// let f = h5sparse::File::open_any(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// assert!(f.bytes().is_some());                      // a local file is mapped
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    #[cfg(feature = "mmap")]
    pub fn open_any(name: &str) -> Result<File> {
        match crate::io::source::url_scheme(name) {
            Some(_) => Self::open_url(name),
            None => Self::open(name),
        }
    }

    /// A file read through `paged` (its block size and metadata bound
    /// chosen by the caller; see [`File::open_source`]).
    ///
    /// ```
    /// use h5sparse::io::paged::PagedFile;
    /// let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let bytes_again = bytes.clone();
    /// let paged = PagedFile::new(Box::new(bytes), 1 << 20, 64 << 20)?;
    /// let f = h5sparse::File::from_paged(paged, h5sparse::Limits::default())?;
    /// let from_memory = h5sparse::File::from_bytes(bytes_again)?;
    /// assert_eq!(f.dataset("/X/data")?.len(), from_memory.dataset("/X/data")?.len());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn from_paged(paged: crate::io::paged::PagedFile, limits: Limits) -> Result<File> {
        File::new(Storage::Paged(paged), limits, None)
    }

    fn new(storage: Storage, limits: Limits, path: Option<std::path::PathBuf>) -> Result<File> {
        let superblock = match storage.bytes() {
            Some(b) => Superblock::find(b)?,
            None => {
                let Storage::Paged(p) = &storage else {
                    unreachable!("storage without bytes is paged")
                };
                Superblock::find_in(p)?
            }
        };
        Ok(File {
            storage,
            limits,
            path,
            superblock,
            externals: Mutex::new(Vec::new()),
            object_paths: std::sync::OnceLock::new(),
            streaming: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The same file read from another root group (a writer's open
    /// transaction, whose tree is not yet what the superblock names).
    pub(crate) fn with_root(
        mut self,
        root: crate::format::Address,
        stab: Option<(crate::format::Address, crate::format::Address)>,
    ) -> File {
        self.superblock.root_object_header = root;
        self.superblock.root_symbol_table = stab;
        self
    }

    /// One pass over a file larger than memory: with `on`, every read of
    /// dataset elements releases the pages of the mapping it copied them
    /// from (`MADV_DONTNEED`; the page cache keeps them, and a later read
    /// maps them again), so the process's resident set holds what it reads
    /// into, not the file as well. Off by default: reading the same ranges
    /// again then costs no page faults. `subset`, `concat` and `convert`
    /// turn it on for their inputs. Results are the same either way.
    ///
    /// ```
    /// let f = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// f.set_streaming(true);
    /// assert!(f.is_streaming());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn set_streaming(&self, on: bool) {
        self.streaming
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether [`File::set_streaming`] is on.
    pub fn is_streaming(&self) -> bool {
        self.streaming.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Superblock version (0..=3).
    pub fn superblock_version(&self) -> u8 {
        self.superblock.version
    }

    /// The path this file was opened from, if any.
    pub fn path(&self) -> Option<&std::path::Path> {
        self.path.as_deref()
    }

    /// The raw bytes of the whole file, when it is memory-mapped or in
    /// memory (`None` for a file read range by range).
    pub fn bytes(&self) -> Option<&[u8]> {
        self.storage.bytes()
    }

    /// The file's length in bytes.
    pub fn len(&self) -> u64 {
        self.storage.len()
    }

    /// Whether the file has no bytes (never true of a file that opened).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Advice to the kernel about how `part` of [`File::bytes`] is about
    /// to be used (see [`crate::io::Storage`]); a no-op unless mapped.
    pub(crate) fn advise(&self, part: &[u8], access: crate::io::Access) {
        self.storage.advise(part, access);
    }

    /// A tracker releasing, from this file's mapping, the pages that
    /// large copies or passes have finished with (see [`ReadThrough`]).
    pub(crate) fn read_through(&self) -> ReadThrough<'_> {
        ReadThrough {
            file: self,
            span: None,
        }
    }

    /// A [`ReadThrough`] when [`File::set_streaming`] is on: what reads of
    /// unfiltered data hand it leaves the mapping once copied.
    pub(crate) fn streaming_through(&self) -> Option<ReadThrough<'_>> {
        self.is_streaming().then(|| self.read_through())
    }

    /// The root group `/`.
    pub fn root(&self) -> Result<Group<'_>> {
        Ok(Group {
            file: self,
            path: "/".to_string(),
            address: self.superblock.root_object_header,
        })
    }

    /// The object at an absolute path, following soft links and external
    /// links whose file sits beside this one.
    pub fn get(&self, path: &str) -> Result<Node<'_>> {
        let mut hops = 0;
        self.resolve(self.root()?, path, &mut hops)
    }

    /// The group at `path`.
    pub fn group(&self, path: &str) -> Result<Group<'_>> {
        match self.get(path)? {
            Node::Group(g) => Ok(g),
            _ => Err(Error::invalid(format!("{path} is not a group"))),
        }
    }

    /// The dataset at `path`.
    ///
    /// ```no_run
    /// let file = h5sparse::File::open("data.h5")?;
    /// let ds = file.dataset("/X/indptr")?;
    /// let first = ds.read_range::<i64>(0, 2)?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn dataset(&self, path: &str) -> Result<Dataset<'_>> {
        match self.get(path)? {
            Node::Dataset(d) => Ok(d),
            _ => Err(Error::invalid(format!("{path} is not a dataset"))),
        }
    }

    /// The limits this file was opened with.
    pub fn limits(&self) -> &super::Limits {
        &self.limits
    }

    pub(crate) fn view(&self) -> FileView<'_> {
        FileView {
            src: self.storage.src(),
            sizes: self.superblock.sizes,
            base: self.superblock.base_address,
        }
    }

    pub(crate) fn header(&self, addr: Address) -> Result<ObjectHeader<'_>> {
        ObjectHeader::parse(&self.view(), addr, &self.limits)
    }

    /// The data of `msg`, following a shared-message pointer to the object
    /// header that holds the real message.
    pub(crate) fn message_data<'s>(&'s self, msg: &Message<'s>) -> Result<(&'s [u8], u64)> {
        if msg.flags & MESSAGE_FLAG_SHARED == 0 {
            return Ok((msg.data, msg.at));
        }
        use crate::format::message::shared::{self, SharedRef};
        match shared::parse(msg.data, msg.at, self.superblock.sizes)? {
            SharedRef::ObjectHeader(addr) => {
                let target = self.header(addr)?;
                let real = target
                    .messages
                    .iter()
                    .find(|m| m.kind == msg.kind && m.flags & MESSAGE_FLAG_SHARED == 0)
                    .ok_or_else(|| {
                        Error::format(
                            msg.at,
                            format!(
                                "shared message of type {} points to object header {:#x}, which has none",
                                msg.kind, addr.0
                            ),
                        )
                    })?;
                Ok((real.data, real.at))
            }
            SharedRef::Heap(_) => Err(Error::unsupported(
                "messages shared through the shared-object-header-message heap",
            )),
        }
    }

    /// Parses the (possibly shared) datatype message of a header.
    pub(crate) fn datatype_of(&self, hdr: &ObjectHeader<'_>) -> Result<Option<Datatype>> {
        let Some(msg) = hdr.first(kind::DATATYPE) else {
            return Ok(None);
        };
        let (data, at) = self.message_data(msg)?;
        Ok(Some(Datatype::parse(data, at, self.superblock.sizes)?.0))
    }

    /// Classifies the object at `addr` and wraps it as a [`Node`].
    pub(crate) fn node_at(&self, path: String, addr: Address) -> Result<Node<'_>> {
        let hdr = self.header(addr)?;
        let has = |k| hdr.first(k).is_some();
        if has(kind::LAYOUT) || (has(kind::DATASPACE) && has(kind::DATATYPE)) {
            let info =
                super::dataset::DatasetInfo::parse(self, &hdr).map_err(|e| e.context(&path))?;
            return Ok(Node::Dataset(Dataset {
                file: self,
                path,
                address: addr,
                info: std::sync::Arc::new(info),
            }));
        }
        if has(kind::DATATYPE) && !has(kind::DATASPACE) {
            return Ok(Node::Datatype { path });
        }
        Ok(Node::Group(Group {
            file: self,
            path,
            address: addr,
        }))
    }

    /// Resolves `path` (absolute, or relative to `from`).
    pub(crate) fn resolve<'s>(
        &'s self,
        from: Group<'s>,
        path: &str,
        hops: &mut u32,
    ) -> Result<Node<'s>> {
        let mut cur = if path.starts_with('/') {
            self.root()?
        } else {
            from
        };
        let comps: Vec<&str> = path
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        if comps.is_empty() {
            return Ok(Node::Group(cur));
        }
        for (i, comp) in comps.iter().enumerate() {
            let links = self.read_links(cur.address)?;
            let link = links
                .into_iter()
                .find(|l| l.name == *comp)
                .ok_or_else(|| Error::invalid(format!("{}: no member {comp:?}", cur.path)))?;
            let child_path = join_path(&cur.path, comp);
            let node = self.follow(&cur, &link, child_path.clone(), hops)?;
            if i + 1 == comps.len() {
                return Ok(node);
            }
            cur = match node {
                Node::Group(g) => g,
                _ => return Err(Error::invalid(format!("{child_path} is not a group"))),
            };
        }
        Ok(Node::Group(cur))
    }

    /// Follows one link from group `parent`.
    pub(crate) fn follow<'s>(
        &'s self,
        parent: &Group<'s>,
        link: &Link,
        child_path: String,
        hops: &mut u32,
    ) -> Result<Node<'s>> {
        match &link.target {
            LinkTarget::Hard(addr) => self.node_at(child_path, *addr),
            LinkTarget::Soft(target) => {
                *hops += 1;
                if *hops > self.limits.max_link_hops {
                    return Err(Error::LimitsExceeded {
                        what: "soft/external link hops",
                        requested: u64::from(*hops),
                        limit: u64::from(self.limits.max_link_hops),
                    });
                }
                self.resolve(parent.clone(), target, hops)
                    .map_err(|e| e.context(&format!("soft link {child_path} -> {target}")))
            }
            LinkTarget::External { file, path } => {
                *hops += 1;
                if *hops > self.limits.max_link_hops {
                    return Err(Error::LimitsExceeded {
                        what: "soft/external link hops",
                        requested: u64::from(*hops),
                        limit: u64::from(self.limits.max_link_hops),
                    });
                }
                let ext = self.external_file(file)?;
                ext.resolve(ext.root()?, path, hops)
            }
        }
    }

    /// Opens (once) the file an external link names, if it sits beside this
    /// one.
    fn external_file(&self, name: &str) -> Result<&File> {
        let Some(own) = &self.path else {
            return Err(Error::invalid(format!(
                "external link to {name:?}: this file was opened from memory, so there is no directory to look in"
            )));
        };
        let dir = own.parent().unwrap_or_else(|| std::path::Path::new("."));
        let named = std::path::Path::new(name);
        let candidates = [
            dir.join(named),
            dir.join(named.file_name().unwrap_or(named.as_os_str())),
        ];
        let Some(found) = candidates.iter().find(|p| p.is_file()) else {
            return Err(Error::invalid(format!(
                "external link target file {name:?} not found beside {}",
                own.display()
            )));
        };
        let mut guard = self
            .externals
            .lock()
            .map_err(|_| Error::invalid("external-file table poisoned by a panic"))?;
        if let Some((_, f)) = guard.iter().find(|(p, _)| p == found) {
            let ptr: *const File = &**f;
            // SAFETY: boxed files are never removed from `externals` or moved
            // out of their boxes until `self` is dropped, so the pointee lives
            // as long as `&self`.
            return Ok(unsafe { &*ptr });
        }
        let opened = open_external(found, self.limits.clone())?;
        guard.push((found.clone(), Box::new(opened)));
        let ptr: *const File = match guard.last() {
            Some((_, f)) => &**f,
            None => return Err(Error::invalid("external-file table is empty after insert")),
        };
        // SAFETY: as above; the box was just pushed and is never removed.
        Ok(unsafe { &*ptr })
    }

    /// Converts a parsed datatype to the user-facing [`Dtype`].
    pub(crate) fn dtype_from(dt: &Datatype) -> Dtype {
        super::dtype::dtype_from(dt)
    }
}

#[cfg(feature = "mmap")]
fn open_external(path: &std::path::Path, limits: Limits) -> Result<File> {
    File::open_with_limits(path, limits)
}

#[cfg(not(feature = "mmap"))]
fn open_external(path: &std::path::Path, limits: Limits) -> Result<File> {
    let bytes = std::fs::read(path)?;
    File::from_bytes_with_limits(bytes, limits).map(|mut f| {
        f.path = Some(path.to_path_buf());
        f
    })
}

/// `parent/name`, without doubling the root's slash.
pub(crate) fn join_path(parent: &str, name: &str) -> String {
    if parent.ends_with('/') {
        format!("{parent}{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// Bytes of the mapped file a large read has consumed, released from the
/// process's mapping (`MADV_DONTNEED`; the page cache keeps them) every
/// [`ReadThrough::RELEASE`] bytes of span and when dropped: a copy of a
/// 400 MB matrix then leaves the result resident, not the result and the
/// file. Scattered pieces are released as the span covering them.
pub(crate) struct ReadThrough<'f> {
    file: &'f File,
    span: Option<(usize, usize)>,
}

impl ReadThrough<'_> {
    /// Span of the mapping (in bytes) released at once.
    const RELEASE: usize = 8 << 20;

    /// `part`, a slice of the file's bytes, has been read.
    pub(crate) fn done(&mut self, part: &[u8]) {
        let (lo, hi) = (part.as_ptr() as usize, part.as_ptr() as usize + part.len());
        let (a, b) = self.span.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi)));
        self.span = Some((a, b));
        if b - a >= Self::RELEASE {
            self.release();
        }
    }

    fn release(&mut self) {
        if let Some((a, b)) = self.span.take() {
            let Some(bytes) = self.file.bytes() else {
                return;
            };
            let base = bytes.as_ptr() as usize;
            if a >= base && b <= base + bytes.len() {
                self.file
                    .advise(&bytes[a - base..b - base], crate::io::Access::Done);
            }
        }
    }
}

impl Drop for ReadThrough<'_> {
    fn drop(&mut self) {
        self.release();
    }
}
