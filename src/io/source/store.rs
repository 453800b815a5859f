//! Objects in object stores through Apache Arrow's `object_store` crate:
//! [`ObjectStoreSource`] (feature `object-store`).

use std::io;
use std::ops::Range;
use std::sync::Arc;

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use super::ReadAt;
use crate::error::{Error, Result};

/// An object in an object store, read by byte ranges: Amazon S3, Google
/// Cloud Storage, Azure Blob Storage (features `s3`, `gcs`, `azure`), a local
/// directory or memory (feature `object-store` alone).
///
/// `object_store` is async; the source drives it with a small tokio
/// current-thread runtime of its own, so its reads are plain blocking calls
/// like every other source's (called from inside a tokio runtime, they run on
/// a helper thread). [`read_ranges`](ReadAt::read_ranges) hands all ranges
/// to the store's `get_ranges`, which merges neighbouring ones and fetches
/// the rest concurrently. The crate is re-exported as
/// [`source::object_store`](crate::io::source::object_store) for building
/// stores.
///
/// ```
/// use h5sparse::io::source::object_store::{memory::InMemory, path::Path, ObjectStoreExt};
/// use h5sparse::io::source::{ObjectStoreSource, ReadAt};
/// use std::sync::Arc;
///
/// let store = Arc::new(InMemory::new());
/// let path = Path::from("atlas/pbmc.h5ad");
/// let bytes: Vec<u8> = (0..=255).collect();
/// tokio::runtime::Builder::new_current_thread()
///     .build()?
///     .block_on(store.put(&path, bytes.clone().into()))?;
///
/// let source = ObjectStoreSource::new(store, path)?;
/// assert_eq!(source.len(), 256);
/// assert_eq!(source.read_vec(10..14)?, [10, 11, 12, 13]);
/// assert_eq!(source.read_ranges(&[0..2, 254..256])?, vec![vec![0, 1], vec![254, 255]]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ObjectStoreSource {
    store: Arc<dyn ObjectStore>,
    path: Path,
    len: u64,
    runtime: tokio::runtime::Runtime,
    name: String,
}

impl std::fmt::Debug for ObjectStoreSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStoreSource")
            .field("object", &self.name)
            .field("len", &self.len)
            .finish()
    }
}

/// An `object_store` error about `what`, as an [`Error::Io`] of the
/// matching kind (not found, permission denied, ...).
fn store_error(what: &str, e: object_store::Error) -> Error {
    let msg = format!("{what}: {e}");
    let kind = io::Error::from(e).kind();
    Error::Io(io::Error::new(kind, msg))
}

impl ObjectStoreSource {
    /// The object at `path` in `store`; its length is asked for now (one
    /// `HEAD` request for a cloud store).
    pub fn new(store: Arc<dyn ObjectStore>, path: Path) -> Result<ObjectStoreSource> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Io(io::Error::new(e.kind(), format!("tokio runtime: {e}"))))?;
        let name = format!("{path} in {store}");
        let mut source = ObjectStoreSource {
            store,
            path,
            len: 0,
            runtime,
            name,
        };
        let meta = source.run(|s| s.runtime.block_on(s.store.head(&s.path)))?;
        source.len = meta.map_err(|e| store_error(&source.name, e))?.size;
        Ok(source)
    }

    /// The object a URL names: `s3://bucket/key` (also `s3a://` and the
    /// `https://` forms of S3, GCS and Azure), `gs://bucket/key`,
    /// `az://container/blob` (and `abfs://`, `adl://`, `azure://`),
    /// `file:///path` and `memory:///path`, configured from the usual
    /// environment variables (`AWS_*`, `GOOGLE_*`, `AZURE_*`, as
    /// `object_store`'s builders read them). A cloud scheme whose feature is
    /// off is an error naming it.
    ///
    /// ```
    /// use h5sparse::io::source::{ObjectStoreSource, ReadAt};
    /// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
    /// let source = ObjectStoreSource::from_url(&format!("file://{path}"))?;
    /// assert_eq!(source.len(), std::fs::metadata(path)?.len());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_url(url: &str) -> Result<ObjectStoreSource> {
        let prefixes = ["aws_", "google_", "azure_"];
        let env = std::env::vars().filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            prefixes.iter().any(|p| k.starts_with(p))
        });
        ObjectStoreSource::from_url_opts(url, env)
    }

    /// [`from_url`](ObjectStoreSource::from_url) with explicit builder
    /// options (`("aws_region", "eu-west-1")`, ...) instead of the
    /// environment.
    pub fn from_url_opts<I, K, V>(url: &str, options: I) -> Result<ObjectStoreSource>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let shown = super::redact_query(url);
        let parsed = url::Url::parse(url)
            .map_err(|e| Error::invalid(format!("object store URL {shown}: {e}")))?;
        let options = options
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_ascii_lowercase(), v.into()));
        let (store, path) = object_store::parse_url_opts(&parsed, options)
            .map_err(|e| store_error(&format!("object store URL {shown}"), e))?;
        ObjectStoreSource::new(Arc::from(store), path)
    }

    /// Runs `job` on this thread, or on a helper thread when this one is
    /// inside a tokio runtime already (where blocking on another runtime is
    /// not allowed).
    fn run<T: Send>(&self, job: impl FnOnce(&Self) -> T + Send) -> Result<T> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Ok(job(self));
        }
        std::thread::scope(|s| s.spawn(|| job(self)).join()).map_err(|_| {
            Error::Io(io::Error::other(format!(
                "{}: reader thread failed",
                self.name
            )))
        })
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }
}

impl ReadAt for ObjectStoreSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        super::check_range(self, offset, buf.len())?;
        if buf.is_empty() {
            return Ok(());
        }
        let range = offset..offset + buf.len() as u64;
        let got = self.run(|s| {
            s.runtime
                .block_on(s.store.get_range(&s.path, range.clone()))
        })?;
        let what = || format!("{}: bytes {}..{}", self.name, range.start, range.end);
        let bytes = got.map_err(|e| store_error(&what(), e))?;
        if bytes.len() != buf.len() {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{}: the store returned {} bytes", what(), bytes.len()),
            )));
        }
        buf.copy_from_slice(&bytes);
        Ok(())
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Vec<u8>>> {
        super::check_ranges(self, ranges)?;
        let asked: Vec<Range<u64>> = ranges.iter().filter(|r| !r.is_empty()).cloned().collect();
        let got = self.run(|s| s.runtime.block_on(s.store.get_ranges(&s.path, &asked)))?;
        let got =
            got.map_err(|e| store_error(&format!("{}: {} ranges", self.name, asked.len()), e))?;
        if got.len() != asked.len() {
            return Err(Error::Io(io::Error::other(format!(
                "{}: asked for {} ranges, the store returned {}",
                self.name,
                asked.len(),
                got.len()
            ))));
        }
        let mut got = asked.iter().zip(got);
        let mut out = crate::buf::try_with_capacity(ranges.len(), "object store ranges")?;
        for r in ranges {
            if r.is_empty() {
                out.push(Vec::new());
                continue;
            }
            let Some((asked, bytes)) = got.next() else {
                break;
            };
            if bytes.len() as u64 != asked.end - asked.start {
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "{}: bytes {}..{}: the store returned {} bytes",
                        self.name,
                        asked.start,
                        asked.end,
                        bytes.len()
                    ),
                )));
            }
            out.push(bytes.to_vec());
        }
        Ok(out)
    }

    fn describe(&self) -> String {
        self.name.clone()
    }

    fn prefers_batches(&self) -> bool {
        true
    }
}
