//! Matrices written block by block: [`SparseStream`] (CSR rows / CSC
//! columns) and [`DenseStream`] (rows along axis 0).
//!
//! Every dataset is chunked with an unlimited maximum shape, as anndata
//! writes `data`/`indices`/`indptr`. Pushed blocks are buffered up to
//! [`WriteOptions::flush_bytes`](super::WriteOptions) and written in whole
//! chunks, so no chunk is written twice; the chunk shape is h5py's guess
//! for the dataset's final size (for `data`/`indices`, estimated from the
//! first buffered rows).

use super::{H5adWriter, IndexWidth};
use crate::anndata::ints::Below;
use crate::error::{Error, Result};
use crate::read::{Dtype, H5Type};
use crate::sparse::{IndexType, SparseFormat};
use crate::write::{bytes_as_stored, guess_chunks, DatasetOptions};
use crate::H5File;

/// One dataset being appended to along axis 0, with what is buffered.
#[derive(Debug)]
struct Growing {
    path: String,
    dtype: Dtype,
    /// Dimensions after the first.
    rest: Vec<u64>,
    /// Bytes of one row.
    row_bytes: usize,
    compression: Option<u32>,
    /// Chunk shape, once the dataset exists.
    chunks: Option<Vec<u64>>,
    buf: Vec<u8>,
    buffered_rows: u64,
    /// What the buffer holds before it is written (its capacity grows by
    /// doubling up to this, then exactly).
    flush_bytes: usize,
}

impl Growing {
    fn new(
        path: String,
        dtype: Dtype,
        rest: &[u64],
        compression: Option<u32>,
        flush_bytes: usize,
    ) -> Result<Self> {
        let row: u64 = rest.iter().product();
        let row_bytes = row
            .checked_mul(dtype.size() as u64)
            .and_then(|b| usize::try_from(b).ok())
            .ok_or_else(|| Error::invalid(format!("{path}: a row's size overflows")))?;
        Ok(Growing {
            path,
            dtype,
            rest: rest.to_vec(),
            row_bytes,
            compression,
            chunks: None,
            buf: Vec::new(),
            buffered_rows: 0,
            flush_bytes,
        })
    }

    fn extend(&mut self, bytes: &[u8], rows: u64) -> Result<()> {
        self.reserve(bytes.len())?;
        self.buf.extend_from_slice(bytes);
        self.buffered_rows += rows;
        Ok(())
    }

    /// Room for `bytes` more: doubling (many small pushes) while below the
    /// flush size, exactly beyond it (a buffer that doubled past a large
    /// push would hold up to twice the block it was sized for).
    fn reserve(&mut self, bytes: usize) -> Result<()> {
        let (len, cap) = (self.buf.len(), self.buf.capacity());
        let need = len.saturating_add(bytes);
        if need <= cap {
            return Ok(());
        }
        let target = need.max(cap.saturating_mul(2).min(self.flush_bytes));
        self.buf
            .try_reserve_exact(target - len)
            .map_err(|_| Error::OutOfMemory {
                what: "a block being written",
                bytes: bytes as u64,
            })
    }

    /// Writes the buffered whole chunks (everything when `last`), creating
    /// the dataset first with chunks sized for `total_rows` rows.
    fn flush(&mut self, file: &H5File, total_rows: u64, last: bool) -> Result<()> {
        let chunks = match &self.chunks {
            Some(c) => c.clone(),
            None => {
                let mut shape = vec![total_rows.max(1)];
                shape.extend(&self.rest);
                guess_chunks(&shape, self.dtype.size())
            }
        };
        let rows = if last {
            self.buffered_rows
        } else {
            self.buffered_rows / chunks[0] * chunks[0]
        };
        if rows == 0 && (self.chunks.is_some() || !last) {
            return Ok(());
        }
        let bytes = rows as usize * self.row_bytes;
        let data = &self.buf[..bytes];
        if self.chunks.is_none() {
            let mut shape = vec![rows];
            shape.extend(&self.rest);
            let mut opts = DatasetOptions::growable().chunks(&chunks);
            if let Some(level) = self.compression {
                opts = opts.gzip(level);
            }
            file.write(|w| w.create_dataset_raw(&self.path, &self.dtype, &shape, data, &opts))?;
            self.chunks = Some(chunks);
        } else {
            file.write(|w| w.append_raw(&self.path, data))?;
        }
        self.buf.drain(..bytes);
        self.buffered_rows -= rows;
        Ok(())
    }
}

impl Growing {
    /// Appends `rows` rows from `bytes`: once the dataset exists, the whole
    /// chunks among them are written straight from `bytes` (after the
    /// buffered partial chunk is completed and written), so only a partial
    /// chunk's rows are copied into the buffer.
    fn push_through(&mut self, file: &H5File, bytes: &[u8], rows: u64) -> Result<()> {
        let Some(c) = self.chunks.as_ref().and_then(|c| c.first().copied()) else {
            return self.extend(bytes, rows);
        };
        let partial = self.buffered_rows % c;
        let fill = if partial == 0 {
            0
        } else {
            (c - partial).min(rows)
        };
        let whole = (rows - fill) / c * c;
        if whole == 0 {
            return self.extend(bytes, rows);
        }
        let (head, rest) = bytes.split_at(fill as usize * self.row_bytes);
        let (through, tail) = rest.split_at(whole as usize * self.row_bytes);
        self.extend(head, fill)?;
        // Whole chunks only now: all of the buffer goes out first.
        self.flush(file, self.buffered_rows, false)?;
        file.write(|w| w.append_raw(&self.path, through))?;
        self.extend(tail, rows - fill - whole)
    }
}

/// A sparse matrix being written along its major axis; see
/// [`H5adWriter::sparse`]. [`SparseStream::finish`] must be called: it
/// writes what is buffered and the group's attributes.
#[derive(Debug)]
pub struct SparseStream<'w> {
    w: &'w mut H5adWriter,
    path: String,
    format: SparseFormat,
    shape: [u64; 2],
    index: IndexWidth,
    n_major: u64,
    n_minor: u64,
    /// Major rows pushed, entries pushed.
    pushed: u64,
    nnz: u64,
    data: Growing,
    indices: Growing,
    indptr: Growing,
    flush_bytes: usize,
}

impl<'w> SparseStream<'w> {
    pub(super) fn new(
        w: &'w mut H5adWriter,
        path: &str,
        format: SparseFormat,
        shape: [u64; 2],
        dtype: &Dtype,
        index: IndexWidth,
    ) -> Result<Self> {
        if matches!(dtype, Dtype::VarString { .. } | Dtype::VarSequence { .. }) {
            return Err(Error::invalid(format!(
                "{path}: a sparse matrix stores numbers, not {}",
                dtype.numpy_str()
            )));
        }
        let (n_major, n_minor) = match format {
            SparseFormat::Csr => (shape[0], shape[1]),
            SparseFormat::Csc => (shape[1], shape[0]),
        };
        if n_minor > index.max() || n_major > index.max() {
            return Err(Error::invalid(format!(
                "{path}: shape {shape:?} does not fit {}-byte indices",
                index.bytes()
            )));
        }
        let path = w.new_group(path)?;
        let compression = w.opts.compression;
        let flush_bytes = w.opts.flush_bytes();
        let growing = |name: &str, dtype: Dtype| {
            Growing::new(
                format!("{path}/{name}"),
                dtype,
                &[],
                compression,
                flush_bytes,
            )
        };
        let mut s = SparseStream {
            data: growing("data", dtype.clone())?,
            indices: growing("indices", index.dtype())?,
            indptr: growing("indptr", index.dtype())?,
            flush_bytes: w.opts.flush_bytes(),
            w,
            path,
            format,
            shape,
            index,
            n_major,
            n_minor,
            pushed: 0,
            nnz: 0,
        };
        s.indptr.extend(&s.index_bytes(0), 1)?;
        Ok(s)
    }

    fn index_bytes(&self, v: u64) -> Vec<u8> {
        match self.index {
            IndexWidth::I32 => (v as i32).to_le_bytes().to_vec(),
            IndexWidth::I64 => (v as i64).to_le_bytes().to_vec(),
        }
    }

    /// Appends the next rows (CSR) or columns (CSC): `indptr` has one more
    /// element than the block has rows and may start anywhere (the
    /// offsets are taken relative to its first), `indices` and `data` the
    /// block's entries.
    ///
    /// ```
    /// use h5sparse::anndata::{H5adWriter, IndexWidth, WriteOptions};
    /// use h5sparse::sparse::SparseFormat;
    /// use h5sparse::{ByteOrder, Dtype};
    /// let mut w = H5adWriter::new(h5sparse::H5File::in_memory()?, WriteOptions::default())?;
    /// let f4 = Dtype::Float { size: 4, order: ByteOrder::Little };
    /// let mut s = w.sparse("X", SparseFormat::Csc, [2, 2], &f4, IndexWidth::I32)?;
    /// s.push::<f32, i32>(&[5, 7], &[0, 1], &[1.0, 2.0])?;     // column 0
    /// assert!(s.push::<f32, i32>(&[0, 1], &[2], &[3.0]).is_err());   // row 2 of 2
    /// s.push::<f32, i32>(&[0, 0], &[], &[])?;                 // column 1: empty
    /// s.finish()?;
    /// assert_eq!(w.file().sparse("X")?.nnz()?, 2);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn push<T: H5Type, I: IndexType>(
        &mut self,
        indptr: &[I],
        indices: &[I],
        data: &[T],
    ) -> Result<()> {
        let raw = bytes_as_stored(data, &self.data.dtype, &self.path)?;
        self.push_parts(
            indptr.len(),
            |k| indptr[k].index() as u64,
            indices,
            |i| i.index() as u64,
            &raw,
        )
    }

    /// [`SparseStream::push`] with the values as raw bytes in the stored
    /// `dtype`'s byte order.
    ///
    /// ```
    /// use h5sparse::anndata::{H5adWriter, IndexWidth, WriteOptions};
    /// use h5sparse::sparse::SparseFormat;
    /// use h5sparse::{ByteOrder, Dtype};
    /// let mut w = H5adWriter::new(h5sparse::H5File::in_memory()?, WriteOptions::default())?;
    /// let u2 = Dtype::Int { size: 2, signed: false, order: ByteOrder::Little };
    /// let mut s = w.sparse("X", SparseFormat::Csr, [1, 4], &u2, IndexWidth::I64)?;
    /// s.push_raw(&[0, 2], &[1, 3], &[9, 0, 1, 1])?;        // 9 and 257
    /// s.finish()?;
    /// assert_eq!(w.file().sparse("X")?.get::<u16>(0, 3)?, 257);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn push_raw(&mut self, indptr: &[u64], indices: &[u64], data_raw: &[u8]) -> Result<()> {
        self.push_parts(indptr.len(), |k| indptr[k], indices, |i| i, data_raw)
    }

    /// [`SparseStream::push_raw`] with the indices as int32 values as
    /// stored (what anndata writes): a block copied from another file goes
    /// out without widening its indices first, and when the stream's
    /// indices are int32 too, the whole chunks of indices and values are
    /// written straight from the given slices (no copy into the stream's
    /// buffers). Negative indices are refused as out of range.
    ///
    /// ```
    /// use h5sparse::anndata::{H5adWriter, IndexWidth, WriteOptions};
    /// use h5sparse::sparse::SparseFormat;
    /// use h5sparse::{ByteOrder, Dtype};
    /// let mut w = H5adWriter::new(h5sparse::H5File::in_memory()?, WriteOptions::default())?;
    /// let f4 = Dtype::Float { size: 4, order: ByteOrder::Little };
    /// let mut s = w.sparse("X", SparseFormat::Csr, [2, 3], &f4, IndexWidth::I32)?;
    /// let values: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    /// s.push_raw_i32(&[0, 1, 2], &[2, 0], &values)?;
    /// assert!(s.push_raw_i32(&[0, 0], &[], &[]).is_err());   // a third row: too many
    /// s.finish()?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn push_raw_i32(&mut self, indptr: &[u64], indices: &[i32], data_raw: &[u8]) -> Result<()> {
        let widen = |i: i32| i as i64 as u64;
        if self.index != IndexWidth::I32 || cfg!(target_endian = "big") {
            return self.push_parts(indptr.len(), |k| indptr[k], indices, widen, data_raw);
        }
        // int32 out as in: the indices are checked where they lie and the
        // whole chunks of indices and values written straight from the
        // slices given (which may be borrowed from an input's memory map),
        // not copied into the stream's buffers first.
        let ptr = |k: usize| indptr[k];
        let (rows, entries, total) =
            self.check_block(indptr.len(), &ptr, indices.len(), data_raw.len())?;
        // Every index in 0..n_minor (negative ones sign-extend past it), in
        // one vectorised pass; the first offender for the error.
        let mut below = Below::new(self.n_minor);
        for &i in indices {
            below.add(widen(i));
        }
        if !below.all() {
            let bad = indices.iter().find(|&&i| widen(i) >= self.n_minor);
            return Err(Error::invalid(format!(
                "{}: index {} is out of range for the minor dimension {}",
                self.path,
                bad.copied().unwrap_or(0),
                self.n_minor
            )));
        }
        self.indptr.reserve((indptr.len() - 1) * 4)?;
        let (base, offset) = (indptr[0], self.nnz);
        let ptrs_at = (0..indptr.len() - 1).map(|k| indptr[k + 1] - base + offset);
        encode(&mut self.indptr.buf, ptrs_at, Below::ANY, |p| {
            (p as i32).to_le_bytes()
        })
        .map_err(|p| Error::invalid(format!("{}: indptr value {p} overflows", self.path)))?;
        self.indptr.buffered_rows += rows;
        let file = &self.w.file;
        // Little-endian: the values' memory is their stored bytes.
        self.indices
            .push_through(file, bytemuck::cast_slice(indices), entries)?;
        self.data.push_through(file, data_raw, entries)?;
        self.pushed += rows;
        self.nnz = total;
        self.flush(false)
    }

    fn push_parts<T: Copy>(
        &mut self,
        n_ptr: usize,
        ptr: impl Fn(usize) -> u64,
        indices: &[T],
        idx: impl Fn(T) -> u64 + Copy,
        data: &[u8],
    ) -> Result<()> {
        let n_idx = indices.len();
        let (rows, entries, total) = self.check_block(n_ptr, &ptr, n_idx, data.len())?;
        let base = ptr(0);
        let path = &self.path;
        let width = self.index.bytes();
        let n_minor = self.n_minor;
        let out_of_range = |i: u64| {
            Error::invalid(format!(
                "{path}: index {i} is out of range for the minor dimension {n_minor}"
            ))
        };
        // Indices and indptr encoded straight into the buffers (no copy of
        // the block on the side); an index out of range leaves them as
        // they were.
        self.indices.reserve(n_idx * width)?;
        self.indptr.reserve((n_ptr - 1) * width)?;
        let offset = self.nnz;
        let (ind, ptrs) = (&mut self.indices.buf, &mut self.indptr.buf);
        let ind_mark = ind.len();
        let indptr_at = |k: usize| ptr(k + 1) - base + offset;
        let idx = indices.iter().map(|&i| idx(i));
        let ptrs_at = (0..n_ptr - 1).map(indptr_at);
        // One monomorphic loop per width, each index written in place.
        let encoded = match self.index {
            IndexWidth::I32 => encode(ind, idx, n_minor, |i| (i as i32).to_le_bytes())
                .and_then(|()| encode(ptrs, ptrs_at, Below::ANY, |p| (p as i32).to_le_bytes())),
            IndexWidth::I64 => encode(ind, idx, n_minor, |i| (i as i64).to_le_bytes())
                .and_then(|()| encode(ptrs, ptrs_at, Below::ANY, |p| (p as i64).to_le_bytes())),
        };
        if let Err(i) = encoded {
            ind.truncate(ind_mark);
            return Err(out_of_range(i));
        }
        self.indices.buffered_rows += entries;
        self.indptr.buffered_rows += rows;
        self.data.extend(data, entries)?;
        self.pushed += rows;
        self.nnz = total;
        self.flush(false)
    }

    /// Checks a pushed block against the stream: `n_ptr` indptr entries
    /// (`ptr(k)`, not decreasing) spanning `n_idx` entries with
    /// `data_len` bytes of values, within the shape and the index width.
    /// Returns the block's rows and entries, and the stream's entries
    /// after it.
    fn check_block(
        &self,
        n_ptr: usize,
        ptr: &impl Fn(usize) -> u64,
        n_idx: usize,
        data_len: usize,
    ) -> Result<(u64, u64, u64)> {
        let path = &self.path;
        if n_ptr == 0 {
            return Err(Error::invalid(format!(
                "{path}: indptr needs at least one element"
            )));
        }
        let rows = (n_ptr - 1) as u64;
        if self.pushed + rows > self.n_major {
            return Err(Error::invalid(format!(
                "{path}: {} major rows pushed, {rows} more exceed the {} of shape {:?}",
                self.pushed, self.n_major, self.shape
            )));
        }
        let base = ptr(0);
        let mut prev = base;
        for k in 1..n_ptr {
            let p = ptr(k);
            if p < prev {
                return Err(Error::invalid(format!(
                    "{path}: indptr decreases ({prev} then {p})"
                )));
            }
            prev = p;
        }
        let entries = prev - base;
        let elem = self.data.dtype.size() as u64;
        if entries != n_idx as u64 || entries.checked_mul(elem) != Some(data_len as u64) {
            return Err(Error::invalid(format!(
                "{path}: indptr spans {entries} entries, {n_idx} indices and {data_len} bytes \
                 of {elem}-byte values given"
            )));
        }
        let total = self.nnz + entries;
        if total > self.index.max() {
            return Err(Error::invalid(format!(
                "{path}: {total} entries do not fit {}-byte indptr (choose IndexWidth::I64)",
                self.index.bytes()
            )));
        }
        Ok((rows, entries, total))
    }

    fn flush(&mut self, last: bool) -> Result<()> {
        let file = &self.w.file;
        if last || self.data.buf.len() + self.indices.buf.len() >= self.flush_bytes {
            // The final nnz, estimated from the rows so far.
            let estimate = if last || self.pushed == 0 {
                self.nnz
            } else {
                ((self.nnz as u128 * self.n_major as u128) / self.pushed as u128) as u64
            };
            self.data.flush(file, estimate, last)?;
            self.indices.flush(file, estimate, last)?;
        }
        if last || self.indptr.buf.len() >= self.flush_bytes {
            self.indptr.flush(file, self.n_major + 1, last)?;
        }
        Ok(())
    }

    /// Entries pushed so far.
    ///
    /// ```
    /// use h5sparse::anndata::{H5adWriter, IndexWidth, WriteOptions};
    /// use h5sparse::sparse::SparseFormat;
    /// use h5sparse::{ByteOrder, Dtype};
    /// let mut w = H5adWriter::new(h5sparse::H5File::in_memory()?, WriteOptions::default())?;
    /// let f8 = Dtype::Float { size: 8, order: ByteOrder::Little };
    /// let mut s = w.sparse("X", SparseFormat::Csr, [1, 4], &f8, IndexWidth::I32)?;
    /// s.push::<f64, usize>(&[0, 2], &[1, 3], &[1.0, 2.0])?;
    /// assert_eq!((s.nnz(), s.rows_pushed()), (2, 1));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn nnz(&self) -> u64 {
        self.nnz
    }

    /// Major rows (CSR rows, CSC columns) pushed so far.
    pub fn rows_pushed(&self) -> u64 {
        self.pushed
    }

    /// Checks that every major row was pushed, writes what is buffered and
    /// the group's attributes (`encoding-type` `csr_matrix`/`csc_matrix`,
    /// `encoding-version` 0.1.0, `shape` int64).
    ///
    /// ```
    /// use h5sparse::anndata::{H5adWriter, IndexWidth, WriteOptions};
    /// use h5sparse::sparse::SparseFormat;
    /// use h5sparse::{ByteOrder, Dtype};
    /// let mut w = H5adWriter::new(h5sparse::H5File::in_memory()?, WriteOptions::default())?;
    /// let f8 = Dtype::Float { size: 8, order: ByteOrder::Little };
    /// let s = w.sparse("X", SparseFormat::Csr, [1, 4], &f8, IndexWidth::I32)?;
    /// assert!(s.finish().is_err());                        // row 0 never pushed
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn finish(mut self) -> Result<()> {
        if self.pushed != self.n_major {
            return Err(Error::invalid(format!(
                "{}: {} of {} major rows pushed for shape {:?}",
                self.path, self.pushed, self.n_major, self.shape
            )));
        }
        self.flush(true)?;
        let encoding = match self.format {
            SparseFormat::Csr => "csr_matrix",
            SparseFormat::Csc => "csc_matrix",
        };
        let shape = [self.shape[0] as i64, self.shape[1] as i64];
        self.w.mark(&self.path, encoding, "0.1.0")?;
        let path = &self.path;
        self.w
            .file
            .write(|w| w.set_attr_array(path, "shape", &shape))
    }
}

/// Appends `values` to `buf`, each as `bytes` encodes it, in one pass
/// that compiles to vector code (the bound is checked for the whole pass,
/// not value by value: [`Below`]); when one is not below `limit` (at most
/// 2^63), `buf` is left as it was and the first such value is the error.
fn encode<const W: usize>(
    buf: &mut Vec<u8>,
    values: impl ExactSizeIterator<Item = u64> + Clone,
    limit: u64,
    bytes: impl Fn(u64) -> [u8; W],
) -> std::result::Result<(), u64> {
    let start = buf.len();
    buf.resize(start + values.len() * W, 0);
    let mut below = Below::new(limit);
    for (o, v) in buf[start..].chunks_exact_mut(W).zip(values.clone()) {
        below.add(v);
        o.copy_from_slice(&bytes(v));
    }
    if below.all() {
        return Ok(());
    }
    buf.truncate(start);
    Err(values.into_iter().find(|&v| v >= limit).unwrap_or(limit))
}

/// A dense array being written along axis 0; see [`H5adWriter::dense`].
/// [`DenseStream::finish`] must be called.
#[derive(Debug)]
pub struct DenseStream<'w> {
    w: &'w mut H5adWriter,
    shape: Vec<u64>,
    pushed: u64,
    rows: Growing,
    flush_bytes: usize,
}

impl<'w> DenseStream<'w> {
    pub(super) fn new(
        w: &'w mut H5adWriter,
        path: &str,
        shape: &[u64],
        dtype: &Dtype,
    ) -> Result<Self> {
        if shape.is_empty() {
            return Err(Error::invalid(format!(
                "{path}: a dense stream needs at least one dimension"
            )));
        }
        if matches!(dtype, Dtype::VarString { .. } | Dtype::VarSequence { .. }) {
            return Err(Error::invalid(format!(
                "{path}: streamed arrays store numbers, not {}",
                dtype.numpy_str()
            )));
        }
        let path = w.prepare(path)?;
        let rows = Growing::new(
            path,
            dtype.clone(),
            &shape[1..],
            w.opts.compression,
            w.opts.flush_bytes(),
        )?;
        Ok(DenseStream {
            flush_bytes: w.opts.flush_bytes(),
            w,
            shape: shape.to_vec(),
            pushed: 0,
            rows,
        })
    }

    /// Appends whole rows (C order).
    pub fn push<T: H5Type>(&mut self, rows: &[T]) -> Result<()> {
        let raw = bytes_as_stored(rows, &self.rows.dtype, &self.rows.path)?;
        self.push_raw(&raw)
    }

    /// Appends whole rows as raw bytes in the stored byte order.
    ///
    /// ```
    /// use h5sparse::anndata::{H5adWriter, WriteOptions};
    /// use h5sparse::Dtype;
    /// let mut w = H5adWriter::new(h5sparse::H5File::in_memory()?, WriteOptions::default())?;
    /// let mut d = w.dense("obsm/flags", &[2, 2], &Dtype::Bool)?;
    /// d.push_raw(&[1, 0, 0, 1])?;
    /// assert!(d.push_raw(&[1]).is_err());                  // not a whole row
    /// d.finish()?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn push_raw(&mut self, raw: &[u8]) -> Result<()> {
        let path = &self.rows.path;
        let row_bytes = self.rows.row_bytes;
        let rows = match raw.len().checked_div(row_bytes) {
            Some(rows) if raw.len().is_multiple_of(row_bytes) => rows as u64,
            _ => {
                return Err(Error::invalid(format!(
                    "{path}: {} bytes are not whole rows of {row_bytes} bytes",
                    raw.len()
                )))
            }
        };
        if self.pushed + rows > self.shape[0] {
            return Err(Error::invalid(format!(
                "{path}: {} rows pushed, {rows} more exceed shape {:?}",
                self.pushed, self.shape
            )));
        }
        self.rows.extend(raw, rows)?;
        self.pushed += rows;
        if self.rows.buf.len() >= self.flush_bytes {
            self.rows.flush(&self.w.file, self.shape[0], false)?;
        }
        Ok(())
    }

    /// Checks that every row was pushed, writes what is buffered and the
    /// `array` 0.2.0 attributes.
    pub fn finish(mut self) -> Result<()> {
        // Rows of zero bytes (a trailing dimension of 0) are never pushed.
        if self.rows.row_bytes == 0 {
            self.rows.buffered_rows = self.shape[0];
            self.pushed = self.shape[0];
        }
        if self.pushed != self.shape[0] {
            return Err(Error::invalid(format!(
                "{}: {} of {} rows pushed",
                self.rows.path, self.pushed, self.shape[0]
            )));
        }
        self.rows.flush(&self.w.file, self.shape[0], true)?;
        let path = self.rows.path.clone();
        self.w.mark(&path, "array", "0.2.0")
    }
}
