//! One dataset of the target growing along axis 0.
//!
//! HDF5 grows a dataset in place only when it is chunked and its maximum
//! shape leaves room; then the new rows are appended, buffered into whole
//! chunks so that no chunk is written twice. Anything else (anndata writes
//! dataframe columns and small arrays contiguous; a type that must widen;
//! a big-endian dataset; a dense `obsp` that grows on both axes) is
//! rewritten: a new chunked, growable dataset under a temporary name in the
//! same group receives the old rows (converted, padded) and then the new
//! ones, takes the old one's attributes, and is swapped in with
//! [`Writer::replace_member`]. The next append to it is then in place.

use crate::anndata::concat::dtype::Converter;
use crate::error::{Error, Result};
use std::collections::HashMap;

use crate::read::{ByteOrder, Dataset, Dtype, File, LayoutKind};
use crate::write::{guess_chunks, Backing, DatasetOptions, Writer};

/// The datasets of the target that the writes read (the old rows of what
/// is rewritten, and its attributes), opened before the first write: the
/// writes move group structures that a snapshot's paths lead through, but
/// never the old datasets themselves.
pub(super) struct Old<'t> {
    datasets: HashMap<String, Dataset<'t>>,
}

impl<'t> Old<'t> {
    /// Opens the datasets at `paths` of `f`.
    pub(super) fn open(f: &'t File, paths: &[String]) -> Result<Old<'t>> {
        let mut datasets = HashMap::with_capacity(paths.len());
        for p in paths {
            datasets.insert(p.clone(), f.dataset(p)?);
        }
        Ok(Old { datasets })
    }

    /// The dataset at `path`, opened before the writes.
    pub(super) fn dataset(&self, path: &str) -> Result<&Dataset<'t>> {
        self.datasets
            .get(path)
            .ok_or_else(|| Error::invalid(format!("{path} was not opened before the writes")))
    }
}

/// What the writes read: the target's old datasets, the source, and the
/// block budget.
pub(super) struct Reads<'a> {
    pub old: &'a Old<'a>,
    pub source: &'a File,
    pub opts: &'a crate::anndata::WriteOptions,
}

/// What a rewritten dataset is named while it is being written (in the
/// same group as the one it replaces).
pub(super) fn temporary_name(path: &str) -> String {
    format!("{path}.h5sparse-append")
}

/// How a dataset receives its new rows.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum How {
    /// Appended in place, buffered into chunks of this many rows.
    InPlace { chunk_rows: u64 },
    /// Rewritten at [`temporary_name`] with these chunks and options, then
    /// swapped in.
    Rewrite { opts: DatasetOptions },
}

/// The plan for one dataset.
#[derive(Debug, Clone)]
pub(super) struct Growth {
    /// The dataset's path.
    pub path: String,
    /// Rows of the old dataset kept (for `data`/`indices`: indptr's end).
    pub keep: u64,
    /// Rows it holds now (more than `keep` after an interrupted append).
    pub len: u64,
    /// Dimensions after the first, of the old dataset and of the result.
    pub old_rest: Vec<u64>,
    pub rest: Vec<u64>,
    /// Element types of the old dataset and of the result.
    pub old_dtype: Dtype,
    pub dtype: Dtype,
    /// Rows appended.
    pub added: u64,
    pub how: How,
}

/// `dtype` little-endian (bools and other types unchanged).
pub(super) fn little(dtype: &Dtype) -> Dtype {
    match dtype {
        Dtype::Int { size, signed, .. } => Dtype::Int {
            size: *size,
            signed: *signed,
            order: ByteOrder::Little,
        },
        Dtype::Float { size, .. } => Dtype::Float {
            size: *size,
            order: ByteOrder::Little,
        },
        other => other.clone(),
    }
}

fn product(dims: &[u64], at: &str) -> Result<u64> {
    dims.iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d))
        .ok_or_else(|| Error::invalid(format!("{at}: its size overflows")))
}

impl Growth {
    /// Plans `added` rows for the dataset `ds` (of the target, before the
    /// append), keeping its first `keep` rows; the result has element type
    /// `dtype` and trailing dimensions `rest`.
    pub(super) fn plan(
        ds: &Dataset<'_>,
        keep: u64,
        added: u64,
        dtype: Dtype,
        rest: Vec<u64>,
    ) -> Result<Growth> {
        let path = ds.path().to_string();
        let shape = match ds.shape() {
            Some(s) if !s.is_empty() => s.to_vec(),
            _ => {
                return Err(Error::invalid(format!(
                    "{path}: a scalar or empty dataset cannot grow rows"
                )))
            }
        };
        let total = keep
            .checked_add(added)
            .ok_or_else(|| Error::invalid(format!("{path}: its length overflows")))?;
        let old_dtype = ds.dtype().clone();
        let dtype = little(&dtype);
        let room = match ds.maxshape() {
            Some(max) => max.first().copied().flatten().is_none_or(|m| m >= total),
            None => false,
        };
        let same_type = old_dtype == dtype;
        let how = match (ds.layout(), ds.chunks()) {
            (LayoutKind::Chunked, Some(chunks))
                if room && same_type && shape[1..] == rest[..] && !chunks.is_empty() =>
            {
                How::InPlace {
                    chunk_rows: chunks[0].max(1),
                }
            }
            _ => {
                let mut full = vec![total.max(1)];
                full.extend(&rest);
                let mut opts =
                    DatasetOptions::growable().chunks(&guess_chunks(&full, dtype.size()));
                // The old dataset's filters, where our writer has them.
                for f in ds.filters() {
                    match f.id {
                        1 => opts = opts.gzip(f.cd_values.first().copied().unwrap_or(4)),
                        2 => opts = opts.shuffle(),
                        3 => opts.fletcher32 = true,
                        _ => {}
                    }
                }
                How::Rewrite { opts }
            }
        };
        product(&rest, &path)?
            .checked_mul(total)
            .and_then(|n| n.checked_mul(dtype.size() as u64))
            .ok_or_else(|| Error::invalid(format!("{path}: the result's size overflows")))?;
        Ok(Growth {
            path,
            keep,
            len: shape[0],
            old_rest: shape[1..].to_vec(),
            rest,
            old_dtype,
            dtype,
            added,
            how,
        })
    }

    /// Whether the dataset is rewritten.
    pub(super) fn rewrites(&self) -> bool {
        matches!(self.how, How::Rewrite { .. })
    }

    /// Bytes of the old rows a rewrite copies (0 in place), for progress.
    pub(super) fn copy_bytes(&self) -> u64 {
        if !self.rewrites() {
            return 0;
        }
        let row = self.old_rest.iter().fold(1u64, |a, &d| a.saturating_mul(d));
        self.keep
            .saturating_mul(row)
            .saturating_mul(self.old_dtype.size() as u64)
    }

    /// Bytes of one row of the result.
    fn row_bytes(&self) -> Result<usize> {
        product(&self.rest, &self.path)?
            .checked_mul(self.dtype.size() as u64)
            .and_then(|b| usize::try_from(b).ok())
            .ok_or_else(|| Error::invalid(format!("{}: a row's size overflows", self.path)))
    }
}

/// Clears `out` and makes room in it for `bytes`, failing instead of
/// aborting: sizes come from files, which may claim more than memory holds.
pub(super) fn room(out: &mut Vec<u8>, bytes: u64) -> Result<()> {
    out.clear();
    usize::try_from(bytes)
        .ok()
        .and_then(|n| out.try_reserve(n).ok())
        .ok_or(Error::OutOfMemory {
            what: "a block of rows",
            bytes,
        })
}

/// A [`Growth`] being carried out.
pub(super) struct Grower<'g> {
    g: &'g Growth,
    /// Rows to append (the plan's, unless [`Grower::set_added`] knows better).
    added: u64,
    /// The dataset written to: the old one, or the temporary one.
    at: String,
    created: bool,
    /// Rows in the dataset written to.
    rows: u64,
    row_bytes: usize,
    chunk_rows: u64,
    buf: Vec<u8>,
    buffered: u64,
    flush_bytes: usize,
}

impl<'g> Grower<'g> {
    /// Starts `g`: in place, the rows past `keep` (an interrupted append's)
    /// are cut off first.
    pub(super) fn start<B: Backing>(
        g: &'g Growth,
        w: &mut Writer<B>,
        flush_bytes: usize,
    ) -> Result<Grower<'g>> {
        let row_bytes = g.row_bytes()?;
        let (at, created, rows, chunk_rows) = match &g.how {
            How::InPlace { chunk_rows } => {
                if g.len != g.keep {
                    let mut shape = vec![g.keep];
                    shape.extend(&g.rest);
                    w.resize(&g.path, &shape)?;
                }
                (g.path.clone(), true, g.keep, *chunk_rows)
            }
            How::Rewrite { opts } => {
                let chunk_rows = opts
                    .chunks
                    .as_ref()
                    .and_then(|c| c.first().copied())
                    .unwrap_or(1);
                (temporary_name(&g.path), false, 0, chunk_rows.max(1))
            }
        };
        Ok(Grower {
            g,
            added: g.added,
            at,
            created,
            rows,
            row_bytes,
            chunk_rows,
            buf: Vec::new(),
            buffered: 0,
            flush_bytes: flush_bytes.max(row_bytes),
        })
    }

    /// Copies the rows kept from the old dataset (a rewrite only), in
    /// blocks of about `block_bytes`, converted to the result's type and
    /// padded with zeros to its width; `progress` is told the bytes read.
    pub(super) fn copy_old<B: Backing>(
        &mut self,
        w: &mut Writer<B>,
        old: &Old<'_>,
        block_bytes: u64,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        if !self.g.rewrites() || self.g.keep == 0 {
            return Ok(());
        }
        let g = self.g;
        let ds = old.dataset(&g.path)?;
        let conv = Converter::new(&g.old_dtype, &g.dtype, &g.path)?;
        let old_row = product(&g.old_rest, &g.path)?;
        let too_big = || Error::invalid(format!("{}: a row's size overflows", g.path));
        let in_row = old_row
            .checked_mul(conv.in_size() as u64)
            .and_then(|b| usize::try_from(b).ok())
            .ok_or_else(too_big)?;
        let old_bytes = old_row
            .checked_mul(g.dtype.size() as u64)
            .and_then(|b| usize::try_from(b).ok())
            .ok_or_else(too_big)?;
        // Zeros past the old width (a dense obsp's new columns).
        let pad = self.row_bytes.saturating_sub(old_bytes);
        // A block as read, converted, and copied into the buffer.
        let held = (in_row as u64).saturating_add(2u64.saturating_mul(self.row_bytes as u64));
        let step = (block_bytes / held.max(1)).max(1);
        let mut out = Vec::new();
        let mut r = 0;
        while r < g.keep {
            let k = step.min(g.keep - r);
            let mut start = vec![0u64; g.old_rest.len() + 1];
            start[0] = r;
            let mut count = vec![k];
            count.extend(&g.old_rest);
            let raw = ds.read_raw(&start, &count)?;
            room(&mut out, k.saturating_mul(self.row_bytes as u64))?;
            if pad == 0 {
                conv.push_all(&raw, &mut out);
            } else {
                for row in raw.chunks_exact(in_row.max(1)).take(k as usize) {
                    conv.push_all(row, &mut out);
                    out.resize(out.len() + pad, 0);
                }
                if in_row == 0 {
                    out.resize(k as usize * self.row_bytes, 0);
                }
            }
            self.push(w, &out, k)?;
            progress(raw.len() as u64);
            r += k;
        }
        Ok(())
    }

    /// The rows appended, when only writing them told how many (a dense
    /// source's nonzero entries).
    pub(super) fn set_added(&mut self, rows: u64) {
        self.added = rows;
    }

    /// Appends `rows` whole rows (`bytes`, the result's type).
    pub(super) fn push<B: Backing>(
        &mut self,
        w: &mut Writer<B>,
        bytes: &[u8],
        rows: u64,
    ) -> Result<()> {
        if bytes.len() as u64 != rows.saturating_mul(self.row_bytes as u64) {
            return Err(Error::invalid(format!(
                "{}: {} bytes are not {rows} rows of {} bytes",
                self.g.path,
                bytes.len(),
                self.row_bytes
            )));
        }
        self.buf
            .try_reserve(bytes.len())
            .map_err(|_| Error::OutOfMemory {
                what: "a block being appended",
                bytes: bytes.len() as u64,
            })?;
        self.buf.extend_from_slice(bytes);
        self.buffered += rows;
        if self.buf.len() >= self.flush_bytes {
            self.flush(w, false)?;
        }
        Ok(())
    }

    /// Writes the buffered rows that complete chunks (all of them when
    /// `last`).
    fn flush<B: Backing>(&mut self, w: &mut Writer<B>, last: bool) -> Result<()> {
        let rows = if last {
            self.buffered
        } else {
            let end = (self.rows + self.buffered) / self.chunk_rows * self.chunk_rows;
            end.saturating_sub(self.rows)
        };
        let creating = !self.created && last;
        if rows == 0 && !creating {
            return Ok(());
        }
        let bytes = rows as usize * self.row_bytes;
        let data = &self.buf[..bytes];
        if !self.created {
            let How::Rewrite { opts } = &self.g.how else {
                return Err(Error::invalid("an in-place dataset is always there"));
            };
            let mut shape = vec![rows];
            shape.extend(&self.g.rest);
            w.create_dataset_raw(&self.at, &self.g.dtype, &shape, data, opts)?;
            self.created = true;
        } else if self.row_bytes == 0 {
            // Rows of no bytes: only the extent grows.
            let mut shape = vec![self.rows + rows];
            shape.extend(&self.g.rest);
            w.resize(&self.at, &shape)?;
        } else {
            w.append_raw(&self.at, data)?;
        }
        self.buf.drain(..bytes);
        self.rows += rows;
        self.buffered -= rows;
        Ok(())
    }

    /// Writes what is buffered; a rewrite then takes the old dataset's
    /// attributes (read from `old`) and replaces it.
    pub(super) fn finish<B: Backing>(mut self, w: &mut Writer<B>, old: &Old<'_>) -> Result<()> {
        self.flush(w, true)?;
        let want = self.g.keep.saturating_add(self.added);
        if self.rows != want {
            return Err(Error::invalid(format!(
                "{}: {} rows written where {want} were planned",
                self.g.path, self.rows
            )));
        }
        if self.g.rewrites() {
            let ds = old.dataset(&self.g.path)?;
            copy_attributes(w, &ds.attributes()?, &self.at)?;
            w.replace_member(&self.g.path, &self.at)?;
        }
        Ok(())
    }
}

/// Sets `attrs` (of an object of the old file) on the object at `dst`.
pub(super) fn copy_attributes<B: Backing>(
    w: &mut Writer<B>,
    attrs: &[crate::read::Attribute<'_>],
    dst: &str,
) -> Result<()> {
    for a in attrs {
        let ctx = format!("{dst} attribute {:?}", a.name());
        let result = if a.dtype().needs_file() {
            a.values()
                .and_then(|v| w.set_attr(dst, a.name(), a.dtype(), a.shape(), &v))
        } else {
            let count = match a.shape() {
                None => 0,
                Some(dims) => product(dims, &ctx)?,
            };
            let need = count
                .checked_mul(a.dtype().size() as u64)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| Error::invalid(format!("{ctx}: its size overflows")))?;
            let raw = a.raw_bytes().get(..need).ok_or_else(|| {
                Error::invalid(format!(
                    "{ctx}: {need} bytes expected, {} stored",
                    a.raw_bytes().len()
                ))
            })?;
            w.set_attr_raw(dst, a.name(), a.dtype(), a.shape(), raw)
        };
        result.map_err(|e| e.context(&ctx))?;
    }
    Ok(())
}

/// Rewrites the dataset at `path` (of `old`) as `values` of `dtype`
/// (strings, categories: what is rewritten whole), stored as `opts` says
/// (contiguous as anndata writes them, or chunked to grow in place next
/// time), attributes kept, swapped in.
pub(super) fn rewrite_whole<B: Backing>(
    w: &mut Writer<B>,
    old: &Old<'_>,
    path: &str,
    dtype: &Dtype,
    values: &crate::read::Values,
    opts: &DatasetOptions,
) -> Result<()> {
    let ds = old.dataset(path)?;
    let tmp = temporary_name(path);
    w.create_dataset_values(&tmp, dtype, &[values.len() as u64], values, opts)
        .map_err(|e| e.context(path))?;
    copy_attributes(w, &ds.attributes()?, &tmp)?;
    w.replace_member(path, &tmp)
}
