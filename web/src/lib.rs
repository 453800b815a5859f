//! h5sparse in the browser: the [`wasm_bindgen`] bindings behind the
//! JavaScript API of `web/README.md`.
//!
//! A file is opened from a JavaScript *reader* (`{ length, read(offset,
//! length) }`, read range by range: a `Blob` through `FileReaderSync` in a
//! Web Worker, a URL through HTTP range requests) or from bytes already in
//! memory. Only metadata is cached (h5sparse's paged cache); data is read
//! when asked for, so a 5 GB file is never copied into the module's memory.
//! Every error reaches JavaScript as a thrown `Error` whose message is
//! h5sparse's error text, and every file is read under h5sparse's
//! [`Limits`] (`{ strict: true }` selects [`Limits::strict`]).
//!
//! ```js
//! import { H5File } from "./pkg/h5sparse_web.js";
//! const f = H5File.open({ length: blob.size, read: (o, n) => readSync(blob, o, n) });
//! const x = f.sparse("/X");                  // any convention: h5sparse, anndata, 10x
//! const rows = x.read("0:10", null);         // { shape, data, indices, indptr } in CSR
//! ```
//!
//! The exported classes are [`WebFile`] (`H5File` in JavaScript),
//! [`WebSparse`] (`SparseMatrix`), [`WebAnnData`] (`AnnData`) and
//! [`WebDensity`] (`DensityPlot`).

mod anndata;
mod convert;
mod density;
mod source;
mod sparse;
mod tree;

use std::sync::Arc;

use h5sparse::io::source::{CacheOptions, CachedSource};
use h5sparse::{File, H5File, Limits, Node};
use wasm_bindgen::prelude::*;

pub use anndata::WebAnnData;
pub use density::WebDensity;
pub use sparse::WebSparse;

use convert::{attribute_value, Obj};

/// The block of [`WebFile::open`]'s read cache: metadata is scattered, and
/// each block is a request; streams of data are read ahead by the source.
const DEFAULT_BLOCK: usize = 64 << 10;
/// The largest read-ahead window of [`WebFile::open`]'s source.
const DEFAULT_READ_AHEAD: u64 = 4 << 20;

/// An h5sparse error (or any displayable one) as a thrown JS `Error`.
pub(crate) fn js_err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// The JS result type of the bindings.
pub(crate) type JsResult<T> = Result<T, JsError>;

/// The limits an options object asks for: `{ strict: true }` for
/// [`Limits::strict`], the defaults otherwise.
fn limits(options: &JsValue) -> Limits {
    let strict = js_sys::Reflect::get(options, &"strict".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if strict {
        Limits::strict()
    } else {
        Limits::default()
    }
}

/// An open HDF5 file (`H5File` in JavaScript), read-only.
#[wasm_bindgen(js_name = H5File)]
pub struct WebFile {
    file: H5File,
}

#[wasm_bindgen(js_class = H5File)]
impl WebFile {
    /// Opens a file through a reader object `{ length, read(offset,
    /// length), name? }` whose `read` returns a `Uint8Array` (or
    /// `ArrayBuffer`) of exactly `length` bytes. Reads the superblock and
    /// the root group only.
    ///
    /// Reads go through a cache of aligned blocks (64 KiB, 32 MiB of them
    /// at most; reads of 1 MiB or more pass by it), and the reader is read
    /// ahead on streams: a read that continues an earlier one fetches a
    /// growing window (256 KiB doubling up to 4 MiB), so the chunks of a
    /// dataset streamed in order (a density plot) take a few calls to
    /// `read` (a `FileReaderSync` read or an HTTP request each), while
    /// scattered metadata is fetched a block at a time. A reader with
    /// `readRanges([[offset, length], ...])` gets a batch of ranges in one
    /// call.
    ///
    /// `options`: `{ strict: true }` applies `Limits::strict()` (for files
    /// from strangers); `{ blockSize: bytes }` changes the cache's block
    /// (0: no cache); `{ readAhead: bytes }` the largest read-ahead window
    /// (0: none; with both 0 every read goes to the reader as asked).
    pub fn open(reader: JsValue, options: JsValue) -> JsResult<WebFile> {
        let number = |name: &str| {
            js_sys::Reflect::get(&options, &name.into())
                .ok()
                .and_then(|v| v.as_f64())
                .map(|b| b.clamp(0.0, (64 << 20) as f64))
        };
        let block = number("blockSize").map_or(DEFAULT_BLOCK, |b| b as usize);
        let ahead = number("readAhead").map_or(DEFAULT_READ_AHEAD, |b| b as u64);
        let source = source::JsReader::new(reader, ahead).map_err(js_err)?;
        let source: Box<dyn h5sparse::io::ReadAt> = if block == 0 {
            Box::new(source)
        } else {
            let opts = CacheOptions::default()
                .block_size(block)
                .capacity(32 << 20)
                .bypass_at((1 << 20).max(2 * block));
            Box::new(CachedSource::with_options(source, opts))
        };
        let file = File::open_source_with(source, limits(&options)).map_err(js_err)?;
        Ok(WebFile {
            file: H5File::from_file(file),
        })
    }

    /// Opens a file from its bytes (copied into the module's memory).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8], options: JsValue) -> JsResult<WebFile> {
        let file =
            File::from_bytes_with_limits(bytes.to_vec(), limits(&options)).map_err(js_err)?;
        Ok(WebFile {
            file: H5File::from_file(file),
        })
    }

    /// The file's length in bytes.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> JsResult<f64> {
        Ok(self.snapshot()?.len() as f64)
    }

    /// Every object under `path` (default `/`), depth first, as `h5sparse
    /// ls -r` lists them: `[{ path, name, kind, shape?, dtype?, target?,
    /// sameAs?, sparse?, error? }]`. `kind` is `group`, `dataset`,
    /// `datatype`, `soft`, `external` or `error` (a member that cannot be
    /// read; its `error` says why). Sparse groups carry `sparse: { format,
    /// shape, convention }`.
    pub fn walk(&self, path: Option<String>) -> JsResult<js_sys::Array> {
        let file = self.snapshot()?;
        tree::walk(&file, path.as_deref().unwrap_or("/")).map_err(js_err)
    }

    /// The members of one group, as [`walk`](WebFile::walk) describes them.
    pub fn list(&self, path: &str) -> JsResult<js_sys::Array> {
        let file = self.snapshot()?;
        tree::list(&file, path).map_err(js_err)
    }

    /// What an object is: `{ kind: "group", path, members, sparse? }` or
    /// `{ kind: "dataset", path, shape, maxshape, dtype, layout, chunks,
    /// chunkIndex, filters: [{ id, name, cdValues }] }`.
    pub fn info(&self, path: &str) -> JsResult<JsValue> {
        let file = self.snapshot()?;
        tree::info(&file, path).map_err(js_err)
    }

    /// The attributes of an object: `[{ name, dtype, shape, value }]`,
    /// `value` a scalar for scalar attributes, else an array.
    pub fn attributes(&self, path: &str) -> JsResult<js_sys::Array> {
        let file = self.snapshot()?;
        let attrs = match file.get(path).map_err(js_err)? {
            Node::Group(g) => g.attributes(),
            Node::Dataset(d) => d.attributes(),
            Node::Datatype { .. } => Ok(Vec::new()),
        }
        .map_err(js_err)?;
        let out = js_sys::Array::new();
        for a in &attrs {
            let value = match a.values() {
                Ok(v) => attribute_value(&v, a.shape()),
                Err(e) => Obj::new().set("error", e.to_string()).build(),
            };
            out.push(
                &Obj::new()
                    .set("name", a.name())
                    .set("dtype", a.dtype().numpy_str())
                    .set("shape", a.shape().map_or(JsValue::NULL, convert::uints))
                    .set("value", value)
                    .build(),
            );
        }
        Ok(out)
    }

    /// Reads a dataset, whole or the hyperslab `start`/`count` (one number
    /// per dimension): a typed array for numbers (`Float32Array`,
    /// `Int32Array`, `BigInt64Array` for 64-bit integers...), else an array
    /// of strings, booleans or objects, in C order.
    pub fn read(
        &self,
        path: &str,
        start: Option<Vec<f64>>,
        count: Option<Vec<f64>>,
    ) -> JsResult<JsValue> {
        let file = self.snapshot()?;
        let ds = file.dataset(path).map_err(js_err)?;
        let dims = ds.shape().map(<[u64]>::to_vec).unwrap_or_default();
        let start = match start {
            Some(s) => to_u64s(&s, "start")?,
            None => vec![0; dims.len()],
        };
        let count = match count {
            Some(c) => to_u64s(&c, "count")?,
            None => dims
                .iter()
                .zip(&start)
                .map(|(d, s)| d.saturating_sub(*s))
                .collect(),
        };
        convert::slab(&ds, &start, &count).map_err(js_err)
    }

    /// The sparse matrix stored in the group `path` (h5sparse, anndata or
    /// 10x convention).
    pub fn sparse(&self, path: &str) -> JsResult<WebSparse> {
        WebSparse::open(&self.file, path)
    }

    /// The file as an AnnData object (`.h5ad`): summary, obs and var.
    pub fn anndata(&self) -> JsResult<WebAnnData> {
        WebAnnData::open(&self.file)
    }

    /// A density plot of the sparse matrix at `path`, `width` × `height`
    /// pixels, to fill with `step` (see `DensityPlot`).
    pub fn density(&self, path: &str, width: u32, height: u32) -> JsResult<WebDensity> {
        WebDensity::new(self.snapshot()?, path, width, height)
    }
}

impl WebFile {
    fn snapshot(&self) -> JsResult<Arc<File>> {
        self.file.snapshot().map_err(js_err)
    }
}

/// Whole numbers from JS numbers, refusing fractions and negatives.
fn to_u64s(v: &[f64], what: &str) -> JsResult<Vec<u64>> {
    v.iter()
        .map(|&x| {
            if x >= 0.0 && x.fract() == 0.0 && x < 9.007_199_254_740_992e15 {
                Ok(x as u64)
            } else {
                Err(js_err(format!(
                    "{what}: expected whole numbers ≥ 0, found {x}"
                )))
            }
        })
        .collect()
}
