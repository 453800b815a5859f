//! Matrix Market files (`.mtx`, `.mtx.gz`): a streaming reader, the
//! bounded-memory conversion of a file's entries into CSR rows, and a writer.
//!
//! The reader follows the NIST Matrix Market exchange format: a banner
//! `%%MatrixMarket matrix <format> <field> <symmetry>`, comment lines
//! starting with `%`, a size line, then the entries. It reads `coordinate`
//! and `array` files of `real` (or `double`), `integer` and `pattern` values
//! with `general`, `symmetric` and `skew-symmetric` symmetry; `complex`
//! files are refused. Gzip input is recognised by its magic bytes.
//!
//! ```
//! use h5sparse::anndata::mtx::{MtxReader, MtxField};
//! let text = "%%MatrixMarket matrix coordinate integer symmetric\n% a comment\n3 3 2\n1 1 5\n3 1 7\n";
//! let mut r = MtxReader::new(text.as_bytes(), "example.mtx")?;
//! assert_eq!(r.header().field, MtxField::Integer);
//! let mut entries = Vec::new();
//! while let Some(e) = r.next_entry()? {
//!     entries.push((e.row, e.col, e.value));
//! }
//! // 0-based; the off-diagonal entry is mirrored.
//! assert_eq!(entries, [(0, 0, 5.0), (2, 0, 7.0), (0, 2, 7.0)]);
//! # Ok::<(), h5sparse::Error>(())
//! ```

use std::fs::File as FsFile;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use crate::buf;
use crate::error::{Error, Result};

/// How the entries are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtxFormat {
    /// One `row col [value]` line per stored entry (1-based).
    Coordinate,
    /// Every value of the dense matrix, column by column.
    Array,
}

/// What the values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtxField {
    /// Floating point (`real` or `double`).
    Real,
    /// Integers.
    Integer,
    /// No values: every stored entry is 1.
    Pattern,
}

/// Which part of the matrix is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtxSymmetry {
    /// Every entry.
    General,
    /// The lower triangle; `a[j][i] = a[i][j]`.
    Symmetric,
    /// The strictly lower triangle; `a[j][i] = -a[i][j]`.
    SkewSymmetric,
}

/// The banner and size line of a Matrix Market file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MtxHeader {
    /// Coordinate or array.
    pub format: MtxFormat,
    /// The values' kind.
    pub field: MtxField,
    /// The symmetry.
    pub symmetry: MtxSymmetry,
    /// Number of rows.
    pub rows: u64,
    /// Number of columns.
    pub cols: u64,
    /// Number of entry lines the file declares (for `array`, the number of
    /// stored values).
    pub entries: u64,
}

/// One entry, 0-based.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MtxEntry {
    /// Row index.
    pub row: u64,
    /// Column index.
    pub col: u64,
    /// The value (1 for `pattern` files).
    pub value: f64,
}

/// A streaming Matrix Market reader: [`MtxReader::next_entry`] returns the
/// entries one by one, symmetric entries mirrored, an `array` file's zeros
/// skipped (as a dense matrix converted to sparse drops them).
pub struct MtxReader<R> {
    input: R,
    name: String,
    header: MtxHeader,
    line_no: u64,
    line: String,
    /// Entry lines (or array values) read so far.
    read: u64,
    /// The mirror of the last entry, returned next.
    pending: Option<MtxEntry>,
    /// Row and column of an array file's next value.
    array_at: (u64, u64),
}

impl std::fmt::Debug for MtxReader<Box<dyn BufRead>> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MtxReader")
            .field("name", &self.name)
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

/// Opens a file for reading, through a gzip decoder when it starts with the
/// gzip magic bytes.
///
/// ```
/// use std::io::BufRead;
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/mex_v3/barcodes.tsv.gz");
/// let first = h5sparse::anndata::mtx::open_maybe_gzip(path)?.lines().next().unwrap()?;
/// assert!(first.ends_with("-1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn open_maybe_gzip(path: impl AsRef<Path>) -> Result<Box<dyn BufRead>> {
    let path = path.as_ref();
    let file = FsFile::open(path)
        .map_err(|e| Error::invalid(format!("cannot open {}: {e}", path.display())))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let head = reader.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::bufread::MultiGzDecoder::new(reader);
        Ok(Box::new(BufReader::with_capacity(1 << 16, gz)))
    } else {
        Ok(Box::new(reader))
    }
}

impl MtxReader<Box<dyn BufRead>> {
    /// Opens `path` (plain or gzip) and reads its header.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        MtxReader::new(open_maybe_gzip(path)?, &path.display().to_string())
    }
}

impl<R: BufRead> MtxReader<R> {
    /// Reads the header from `input`; `name` names the input in errors.
    pub fn new(input: R, name: &str) -> Result<Self> {
        let mut r = MtxReader {
            input,
            name: name.to_string(),
            header: MtxHeader {
                format: MtxFormat::Coordinate,
                field: MtxField::Real,
                symmetry: MtxSymmetry::General,
                rows: 0,
                cols: 0,
                entries: 0,
            },
            line_no: 0,
            line: String::new(),
            read: 0,
            pending: None,
            array_at: (0, 0),
        };
        if !r.next_line()? {
            return Err(r.error("a `%%MatrixMarket matrix ...` banner", "an empty file"));
        }
        r.header = r.parse_banner()?;
        // Comments and blank lines, then the size line.
        loop {
            if !r.next_line()? {
                return Err(r.error("the size line", "the end of the file"));
            }
            let t = r.line.trim();
            if !t.is_empty() && !t.starts_with('%') {
                break;
            }
        }
        r.parse_size()?;
        if r.header.symmetry == MtxSymmetry::SkewSymmetric {
            r.array_at = (1, 0);
        }
        Ok(r)
    }

    /// The banner and sizes.
    pub fn header(&self) -> &MtxHeader {
        &self.header
    }

    /// Reads one more line into `self.line`; false at the end of the input.
    fn next_line(&mut self) -> Result<bool> {
        self.line.clear();
        let n = self.input.read_line(&mut self.line).map_err(|e| {
            Error::invalid(format!("{}, line {}: {e}", self.name, self.line_no + 1))
        })?;
        if n == 0 {
            return Ok(false);
        }
        self.line_no += 1;
        Ok(true)
    }

    fn error(&self, expected: &str, found: &str) -> Error {
        Error::invalid(format!(
            "{}, line {}: expected {expected}, found {found}",
            self.name,
            self.line_no.max(1)
        ))
    }

    fn found(&self) -> String {
        let t = self.line.trim_end();
        if t.len() > 60 {
            let mut end = 60;
            while !t.is_char_boundary(end) {
                end -= 1;
            }
            format!("`{}...`", &t[..end])
        } else {
            format!("`{t}`")
        }
    }

    fn parse_banner(&self) -> Result<MtxHeader> {
        let words: Vec<String> = self
            .line
            .split_ascii_whitespace()
            .map(|w| w.to_ascii_lowercase())
            .collect();
        let banner = "`%%MatrixMarket matrix coordinate|array real|integer|pattern general|symmetric|skew-symmetric`";
        if words.len() != 5 || words[0] != "%%matrixmarket" || words[1] != "matrix" {
            return Err(self.error(banner, &self.found()));
        }
        let format = match words[2].as_str() {
            "coordinate" => MtxFormat::Coordinate,
            "array" => MtxFormat::Array,
            _ => return Err(self.error("format `coordinate` or `array`", &self.found())),
        };
        let field = match words[3].as_str() {
            "real" | "double" => MtxField::Real,
            "integer" => MtxField::Integer,
            "pattern" if format == MtxFormat::Coordinate => MtxField::Pattern,
            "complex" => {
                return Err(Error::unsupported(format!(
                    "{}, line {}: complex Matrix Market values (AnnData matrices are real)",
                    self.name, self.line_no
                )))
            }
            _ => {
                return Err(self.error(
                    "field `real`, `integer` or `pattern` (coordinate only)",
                    &self.found(),
                ))
            }
        };
        let symmetry = match words[4].as_str() {
            "general" => MtxSymmetry::General,
            "symmetric" => MtxSymmetry::Symmetric,
            "skew-symmetric" => MtxSymmetry::SkewSymmetric,
            "hermitian" => {
                return Err(Error::unsupported(format!(
                    "{}, line {}: hermitian Matrix Market files (complex values)",
                    self.name, self.line_no
                )))
            }
            _ => {
                return Err(self.error(
                    "symmetry `general`, `symmetric` or `skew-symmetric`",
                    &self.found(),
                ))
            }
        };
        Ok(MtxHeader {
            format,
            field,
            symmetry,
            rows: 0,
            cols: 0,
            entries: 0,
        })
    }

    fn parse_size(&mut self) -> Result<()> {
        let nums: Vec<Option<u64>> = self
            .line
            .split_ascii_whitespace()
            .map(|w| w.parse::<u64>().ok())
            .collect();
        let h = &mut self.header;
        let coordinate = h.format == MtxFormat::Coordinate;
        let want = if coordinate { 3 } else { 2 };
        if nums.len() != want || nums.iter().any(Option::is_none) {
            let expected = if coordinate {
                "the size line `ROWS COLS ENTRIES`"
            } else {
                "the size line `ROWS COLS`"
            };
            return Err(self.error(expected, &self.found()));
        }
        let n: Vec<u64> = nums.into_iter().flatten().collect();
        let (rows, cols) = (n[0], n[1]);
        if h.symmetry != MtxSymmetry::General && rows != cols {
            let found = format!("{rows} x {cols}");
            return Err(self.error("a square matrix (it is symmetric)", &found));
        }
        let entries = if coordinate {
            n[2]
        } else {
            match h.symmetry {
                MtxSymmetry::General => rows.checked_mul(cols),
                MtxSymmetry::Symmetric => rows.checked_mul(rows + 1).map(|x| x / 2),
                MtxSymmetry::SkewSymmetric => {
                    rows.checked_mul(rows.saturating_sub(1)).map(|x| x / 2)
                }
            }
            .ok_or_else(|| Error::invalid(format!("{}: {rows} x {cols} overflows", self.name)))?
        };
        let h = &mut self.header;
        h.rows = rows;
        h.cols = cols;
        h.entries = entries;
        Ok(())
    }

    /// The next entry, or `None` after the last one. A file with fewer
    /// entries than declared, or more, is an error.
    pub fn next_entry(&mut self) -> Result<Option<MtxEntry>> {
        if let Some(e) = self.pending.take() {
            return Ok(Some(e));
        }
        loop {
            if self.read == self.header.entries {
                return self.check_end().map(|()| None);
            }
            if !self.next_line()? {
                let found = format!(
                    "the end of the file after {} of the {} declared entries",
                    self.read, self.header.entries
                );
                return Err(self.error("another entry", &found));
            }
            let t = self.line.trim();
            if t.is_empty() || t.starts_with('%') {
                continue;
            }
            let entry = match self.header.format {
                MtxFormat::Coordinate => self.parse_coordinate()?,
                MtxFormat::Array => self.parse_array()?,
            };
            self.read += 1;
            let Some(entry) = entry else { continue };
            if entry.row != entry.col {
                match self.header.symmetry {
                    MtxSymmetry::General => {}
                    MtxSymmetry::Symmetric => {
                        self.pending = Some(MtxEntry {
                            row: entry.col,
                            col: entry.row,
                            value: entry.value,
                        })
                    }
                    MtxSymmetry::SkewSymmetric => {
                        self.pending = Some(MtxEntry {
                            row: entry.col,
                            col: entry.row,
                            value: -entry.value,
                        })
                    }
                }
            }
            return Ok(Some(entry));
        }
    }

    /// Nothing but blank lines and comments may follow the last entry.
    fn check_end(&mut self) -> Result<()> {
        while self.next_line()? {
            let t = self.line.trim();
            if !t.is_empty() && !t.starts_with('%') {
                let expected = format!("the end of the file after {} entries", self.header.entries);
                return Err(self.error(&expected, &self.found()));
            }
        }
        Ok(())
    }

    fn parse_value(&self, word: Option<&str>) -> Result<f64> {
        let Some(w) = word else {
            return Err(self.error("a value after the row and column", &self.found()));
        };
        match self.header.field {
            MtxField::Integer => w
                .parse::<i64>()
                .map(|v| v as f64)
                .map_err(|_| self.error("an integer value", &format!("`{w}`"))),
            _ => w
                .parse::<f64>()
                .map_err(|_| self.error("a real value", &format!("`{w}`"))),
        }
    }

    fn parse_coordinate(&self) -> Result<Option<MtxEntry>> {
        let mut words = self.line.split_ascii_whitespace();
        let h = &self.header;
        let mut index = |what: &str, n: u64| -> Result<u64> {
            let w = words.next();
            match w.and_then(|w| w.parse::<u64>().ok()) {
                Some(i) if (1..=n).contains(&i) => Ok(i - 1),
                _ => Err(self.error(
                    &format!("a {what} index in 1..={n}"),
                    &w.map_or_else(|| self.found(), |w| format!("`{w}`")),
                )),
            }
        };
        let row = index("row", h.rows)?;
        let col = index("column", h.cols)?;
        let value = if h.field == MtxField::Pattern {
            1.0
        } else {
            self.parse_value(words.next())?
        };
        if let Some(extra) = words.next() {
            return Err(self.error("the end of the entry", &format!("`{extra}`")));
        }
        if h.symmetry != MtxSymmetry::General && row < col {
            return Err(self.error(
                "an entry in the lower triangle (row >= column) of a symmetric matrix",
                &self.found(),
            ));
        }
        if h.symmetry == MtxSymmetry::SkewSymmetric && row == col {
            return Err(self.error(
                "an entry below the diagonal of a skew-symmetric matrix",
                &self.found(),
            ));
        }
        Ok(Some(MtxEntry { row, col, value }))
    }

    /// The next stored value of an array file, column by column (for
    /// symmetric files, only each column's part on and below the diagonal,
    /// strictly below for skew-symmetric ones); zeros are skipped.
    fn parse_array(&mut self) -> Result<Option<MtxEntry>> {
        let mut words = self.line.split_ascii_whitespace();
        let value = self.parse_value(words.next())?;
        if let Some(extra) = words.next() {
            return Err(self.error("one value per line", &format!("`{extra}`")));
        }
        let (row, col) = self.array_at;
        // The next position: down the column, then the next column's first
        // stored row.
        self.array_at = if row + 1 < self.header.rows {
            (row + 1, col)
        } else {
            let first = match self.header.symmetry {
                MtxSymmetry::General => 0,
                MtxSymmetry::Symmetric => col + 1,
                MtxSymmetry::SkewSymmetric => col + 2,
            };
            (first, col + 1)
        };
        Ok((value != 0.0).then_some(MtxEntry { row, col, value }))
    }
}

/// Rows of a CSR matrix, a block of them at a time: `indptr` relative to
/// the block (it starts at 0 and has one more element than the block has
/// rows), `indices` of the columns, `data` the values as little-endian
/// bytes of the source's value type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CsrBlock {
    /// The block's first row in the whole matrix.
    pub first_row: u64,
    /// Offsets of the rows into `indices` (relative: starts at 0).
    pub indptr: Vec<u64>,
    /// Column indices, sorted within each row.
    pub indices: Vec<u64>,
    /// Values, little-endian.
    pub data: Vec<u8>,
}

impl CsrBlock {
    /// Number of rows in the block.
    pub fn rows(&self) -> u64 {
        self.indptr.len().saturating_sub(1) as u64
    }

    /// The block with only the columns `keep` maps to a new column
    /// (`keep[old] = Some(new)`), values of `elem` bytes each; a column
    /// beyond `keep` is dropped.
    ///
    /// ```
    /// use h5sparse::anndata::mtx::CsrBlock;
    /// let b = CsrBlock { first_row: 0, indptr: vec![0, 2, 3], indices: vec![0, 2, 1], data: vec![1, 2, 3] };
    /// let kept = b.keep_columns(&[Some(0), None, Some(1)], 1)?;
    /// assert_eq!((kept.indptr, kept.indices, kept.data), (vec![0, 2, 2], vec![0, 1], vec![1, 2]));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn keep_columns(&self, keep: &[Option<u64>], elem: usize) -> Result<CsrBlock> {
        let mut out = CsrBlock {
            first_row: self.first_row,
            indptr: buf::try_with_capacity(self.indptr.len(), "block indptr")?,
            indices: buf::try_with_capacity(self.indices.len(), "block indices")?,
            data: buf::try_with_capacity(self.data.len(), "block data")?,
        };
        out.indptr.push(0);
        for w in self.indptr.windows(2) {
            for k in w[0] as usize..w[1] as usize {
                if let Some(Some(col)) = keep.get(self.indices[k] as usize) {
                    out.indices.push(*col);
                    out.data
                        .extend_from_slice(&self.data[k * elem..(k + 1) * elem]);
                }
            }
            out.indptr.push(out.indices.len() as u64);
        }
        Ok(out)
    }
}

/// For each of `mask`'s positions, its index among the kept ones (None
/// where the mask is false).
pub(crate) fn kept_positions(mask: &[bool]) -> Vec<Option<u64>> {
    let mut next = 0u64;
    mask.iter()
        .map(|&k| {
            k.then(|| {
                next += 1;
                next - 1
            })
        })
        .collect()
}

/// Reads a Matrix Market file into CSR rows of `float32` values, as
/// `anndata.read_mtx` (scipy's `mmread(..).astype("float32")` then CSR)
/// builds them: entries summed where a position repeats (in `float32`),
/// columns sorted within each row, explicit zeros of a coordinate file kept.
/// With `transpose`, the rows are the file's columns (a 10x MEX matrix is
/// genes × barcodes; AnnData's X is barcodes × genes).
///
/// Memory stays bounded whatever the file's size: a first pass counts the
/// entries of each output row; then the rows are produced in ranges whose
/// entries fit in `block_bytes` (a row larger than that is one range), the
/// input being read once more per range. `open` opens the input afresh for
/// each pass. `sink` receives the blocks in row order. Returns the output
/// shape.
///
/// ```
/// use h5sparse::anndata::mtx::{mtx_to_csr, MtxReader};
/// let text = "%%MatrixMarket matrix coordinate real general\n2 3 3\n2 1 1.5\n1 3 2\n2 1 1\n";
/// let mut rows = Vec::new();
/// let shape = mtx_to_csr(|| MtxReader::new(text.as_bytes(), "m.mtx"), true, 1 << 20, |b| {
///     let data: Vec<f32> = bytemuck::pod_collect_to_vec(&b.data);
///     rows.push((b.indptr.clone(), b.indices.clone(), data));
///     Ok(())
/// })?;
/// assert_eq!(shape, [3, 2]); // transposed
/// assert_eq!(rows, [(vec![0, 1, 1, 2], vec![1, 0], vec![2.5, 2.0])]);
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub fn mtx_to_csr<R: BufRead>(
    mut open: impl FnMut() -> Result<MtxReader<R>>,
    transpose: bool,
    block_bytes: usize,
    mut sink: impl FnMut(&CsrBlock) -> Result<()>,
) -> Result<[u64; 2]> {
    // Pass 1: entries per output row.
    let mut reader = open()?;
    let h = *reader.header();
    let (n_rows, n_cols) = if transpose {
        (h.cols, h.rows)
    } else {
        (h.rows, h.cols)
    };
    let n = usize::try_from(n_rows).map_err(|_| Error::invalid("too many rows"))?;
    let mut counts: Vec<u64> = buf::try_zeroed_vec(n, "Matrix Market row counts")?;
    let out_row = |e: &MtxEntry| if transpose { e.col } else { e.row };
    while let Some(e) = reader.next_entry()? {
        // In range: the reader checked the indices against the header.
        counts[out_row(&e) as usize] += 1;
    }
    drop(reader);
    // Per entry: a u64 column and an f32 value while sorting.
    let budget = (block_bytes / 12).max(1) as u64;
    let mut start = 0usize;
    if n == 0 {
        return Ok([n_rows, n_cols]);
    }
    while start < n {
        let mut end = start;
        let mut total = 0u64;
        while end < n && (end == start || total + counts[end] <= budget) {
            total += counts[end];
            end += 1;
        }
        let block = range_block(&mut open()?, transpose, start, end, &counts, total)?;
        sink(&block)?;
        start = end;
    }
    Ok([n_rows, n_cols])
}

/// The CSR rows `start..end` (in output terms), read from a fresh pass over
/// the input: each entry dropped into its row's slot, then each row sorted
/// by column and its repeated columns summed.
fn range_block<R: BufRead>(
    reader: &mut MtxReader<R>,
    transpose: bool,
    start: usize,
    end: usize,
    counts: &[u64],
    total: u64,
) -> Result<CsrBlock> {
    let total = usize::try_from(total).map_err(|_| Error::invalid("too many entries"))?;
    let mut slot: Vec<u64> = buf::try_with_capacity(end - start + 1, "Matrix Market offsets")?;
    let mut acc = 0u64;
    for &c in &counts[start..end] {
        slot.push(acc);
        acc += c;
    }
    slot.push(acc);
    let offsets = slot.clone();
    let mut entries: Vec<(u64, f32)> = buf::try_with_capacity(total, "Matrix Market block")?;
    entries.resize(total, (0, 0.0));
    while let Some(e) = reader.next_entry()? {
        let (row, col) = if transpose {
            (e.col, e.row)
        } else {
            (e.row, e.col)
        };
        let row = row as usize;
        if row < start || row >= end {
            continue;
        }
        let s = &mut slot[row - start];
        // The file changed between passes if a row overflows its count.
        if *s >= offsets[row - start + 1] {
            return Err(Error::invalid(format!(
                "{}: the file changed while it was read (row {row} has more entries than counted)",
                reader.name
            )));
        }
        entries[*s as usize] = (col, e.value as f32);
        *s += 1;
    }
    let mut block = CsrBlock {
        first_row: start as u64,
        indptr: buf::try_with_capacity(end - start + 1, "Matrix Market indptr")?,
        indices: buf::try_with_capacity(total, "Matrix Market indices")?,
        data: buf::try_with_capacity(total * 4, "Matrix Market data")?,
    };
    block.indptr.push(0);
    for r in 0..end - start {
        let row = &mut entries[offsets[r] as usize..slot[r] as usize];
        row.sort_by_key(|&(c, _)| c);
        let mut i = 0;
        while i < row.len() {
            let (col, mut v) = row[i];
            i += 1;
            while i < row.len() && row[i].0 == col {
                v += row[i].1;
                i += 1;
            }
            block.indices.push(col);
            block.data.extend_from_slice(&v.to_le_bytes());
        }
        block.indptr.push(block.indices.len() as u64);
    }
    Ok(block)
}

/// Writes a Matrix Market `coordinate` file, entry by entry: the header
/// first (the number of entries must be known), then the entries, 1-based.
///
/// ```
/// use h5sparse::anndata::mtx::{MtxWriter, MtxField};
/// let mut out = Vec::new();
/// let mut w = MtxWriter::new(&mut out, MtxField::Integer, [2, 3], 2, &["written by h5sparse"])?;
/// w.entry(0, 2, 5.0)?;
/// w.entry(1, 0, 1.0)?;
/// w.finish()?;
/// assert_eq!(String::from_utf8(out).unwrap(),
///     "%%MatrixMarket matrix coordinate integer general\n%written by h5sparse\n2 3 2\n1 3 5\n2 1 1\n");
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub struct MtxWriter<W: Write> {
    out: W,
    field: MtxField,
    declared: u64,
    written: u64,
    line: String,
}

impl<W: Write> MtxWriter<W> {
    /// Writes the banner, the comment lines (each prefixed with `%`) and the
    /// size line of a `general` coordinate file of `entries` entries.
    pub fn new(
        mut out: W,
        field: MtxField,
        shape: [u64; 2],
        entries: u64,
        comments: &[&str],
    ) -> Result<Self> {
        let field_word = match field {
            MtxField::Real => "real",
            MtxField::Integer => "integer",
            MtxField::Pattern => "pattern",
        };
        writeln!(out, "%%MatrixMarket matrix coordinate {field_word} general")?;
        for c in comments {
            for line in c.lines() {
                writeln!(out, "%{line}")?;
            }
        }
        writeln!(out, "{} {} {entries}", shape[0], shape[1])?;
        Ok(MtxWriter {
            out,
            field,
            declared: entries,
            written: 0,
            line: String::new(),
        })
    }

    /// Writes one entry (0-based `row`, `col`). Real values print in the
    /// shortest form that reads back to the same `f64`; integer values as
    /// integers.
    pub fn entry(&mut self, row: u64, col: u64, value: f64) -> Result<()> {
        use std::fmt::Write as _;
        self.line.clear();
        // Writing to a String cannot fail.
        let _ = match self.field {
            MtxField::Pattern => writeln!(self.line, "{} {}", row + 1, col + 1),
            MtxField::Integer => writeln!(self.line, "{} {} {}", row + 1, col + 1, value as i64),
            MtxField::Real => writeln!(self.line, "{} {} {}", row + 1, col + 1, value),
        };
        self.out.write_all(self.line.as_bytes())?;
        self.written += 1;
        Ok(())
    }

    /// Writes one entry of a `float32` matrix: the shortest form that reads
    /// back to the same `f32`.
    pub fn entry_f32(&mut self, row: u64, col: u64, value: f32) -> Result<()> {
        if self.field != MtxField::Real {
            return self.entry(row, col, f64::from(value));
        }
        use std::fmt::Write as _;
        self.line.clear();
        let _ = writeln!(self.line, "{} {} {}", row + 1, col + 1, value);
        self.out.write_all(self.line.as_bytes())?;
        self.written += 1;
        Ok(())
    }

    /// Checks that as many entries were written as declared, flushes, and
    /// returns the output.
    pub fn finish(mut self) -> Result<W> {
        if self.written != self.declared {
            return Err(Error::invalid(format!(
                "Matrix Market writer: {} entries declared, {} written",
                self.declared, self.written
            )));
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests;
