//! Fractal heaps ("FRHP" header, "FHDB" direct blocks, "FHIB" indirect
//! blocks): where dense groups keep their link messages and dense attribute
//! storage keeps its attribute messages.
//!
//! Objects are named by heap IDs, whose first byte says how to find them:
//!
//! * **managed** objects live inside direct blocks; the ID holds the object's
//!   offset in the heap's address space and its length. The blocks form a
//!   *doubling table*: rows of `table width` blocks, the first two rows of
//!   `starting block size` bytes, each later row twice the previous, up to
//!   the maximum direct block size; rows beyond that hold indirect blocks,
//!   each a smaller doubling table of its own;
//! * **tiny** objects are stored inside the heap ID itself;
//! * **huge** objects are stored on their own in the file, found either
//!   directly from the ID (address + length) or through a v2 B-tree keyed by
//!   an object ID.
//!
//! Every header field that shapes the table is validated (power-of-two table
//! width and block sizes, row counts bounded by the heap's address-space
//! bits), and walking down indirect blocks is bounded by the row count, which
//! strictly decreases at every level, and by `limits.max_depth`.

pub(crate) mod encode;

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Mutex;

use super::btree_v2::{BTreeV2, HugeObjectRecord};
use super::{verify_checksum, Address, Cursor, FileView};
use crate::error::{Error, Result};
use crate::limits::Limits;

/// Header flag bit 1: direct blocks carry a checksum.
const FLAG_CHECKSUM_DIRECT_BLOCKS: u8 = 0x02;

/// Heap ID types (bits 4–5 of the first byte).
const ID_TYPE_MANAGED: u8 = 0;
const ID_TYPE_HUGE: u8 = 1;
const ID_TYPE_TINY: u8 = 2;

/// floor(log2(n)) for n > 0.
fn log2_floor(n: u64) -> u32 {
    63 - n.leading_zeros()
}

/// Bytes needed to encode `n`: `floor(log2(n)) / 8 + 1` (1 for 0).
fn limit_enc_size(n: u64) -> usize {
    let l = if n == 0 { 0 } else { log2_floor(n) };
    (l / 8 + 1) as usize
}

/// An open fractal heap.
#[derive(Debug)]
pub struct FractalHeap<'a> {
    view: FileView<'a>,
    limits: Limits,
    address: Address,
    abs: u64,
    /// Length in bytes of this heap's IDs.
    pub heap_id_len: u16,
    /// Length of the I/O filter information (0: unfiltered heap).
    pub filter_info_len: u16,
    /// Header flags (bit 0 huge IDs wrapped, bit 1 checksummed direct blocks).
    pub flags: u8,
    /// Objects larger than this are stored as huge objects.
    pub max_managed_object_size: u32,
    /// v2 B-tree indexing huge objects (undefined if none).
    pub huge_btree: Address,
    /// Size of the managed address space in use.
    pub managed_space: u64,
    /// Doubling table width (a power of two).
    pub table_width: u16,
    /// Size of the blocks of rows 0 and 1 (a power of two).
    pub starting_block_size: u64,
    /// Largest direct block (a power of two).
    pub max_direct_block_size: u64,
    /// log2 of the size of the heap's managed address space.
    pub max_heap_size_bits: u16,
    /// Root block address (undefined for an empty heap).
    pub root_block: Address,
    /// Rows in the root indirect block; 0 when the root is a direct block.
    pub root_rows: u16,
    // Derived doubling-table facts.
    start_bits: u32,
    first_row_bits: u32,
    max_direct_rows: u32,
    max_root_rows: u32,
    /// Width of block offsets in block headers and of heap-ID offsets.
    heap_off_size: usize,
    /// Width of heap-ID lengths for managed objects.
    heap_len_size: usize,
    /// Direct blocks already checksum-verified.
    verified: Mutex<HashSet<u64>>,
}

impl<'a> FractalHeap<'a> {
    /// Reads and validates the heap header at `addr`.
    ///
    /// ```text
    /// Fractal Heap Header (spec III.G):
    /// 0  "FRHP"
    /// 4  Version (1) = 0
    /// 5  Heap ID Length (2) | I/O Filters' Encoded Length (2) | Flags (1)
    /// 10 Maximum Size of Managed Objects (4)
    /// 14 Next Huge Object ID (length)
    ///    v2 B-tree Address of Huge Objects (offset)
    ///    Amount of Free Space in Managed Blocks (length)
    ///    Address of Managed Block Free Space Manager (offset)
    ///    Amount of Managed Space in Heap (length)
    ///    Amount of Allocated Managed Space in Heap (length)
    ///    Offset of Direct Block Allocation Iterator in Managed Space (length)
    ///    Number of Managed Objects in Heap (length)
    ///    Size of Huge Objects in Heap (length)
    ///    Number of Huge Objects in Heap (length)
    ///    Size of Tiny Objects in Heap (length)
    ///    Number of Tiny Objects in Heap (length)
    ///    Table Width (2)
    ///    Starting Block Size (length)
    ///    Maximum Direct Block Size (length)
    ///    Maximum Heap Size (2)            -- in bits
    ///    Starting # of Rows in Root Indirect Block (2)
    ///    Address of Root Block (offset)
    ///    Current # of Rows in Root Indirect Block (2)
    ///    [filtered] Size of Filtered Root Direct Block (length)
    ///    [filtered] I/O Filter Mask (4)
    ///    [filtered] I/O Filter Information (I/O Filters' Encoded Length)
    ///    Checksum (4)
    /// ```
    pub fn open(view: &FileView<'a>, addr: Address, limits: &Limits) -> Result<FractalHeap<'a>> {
        let mut c = view.cursor(addr, "fractal heap header")?;
        let abs = c.at();
        c.signature(b"FRHP", "fractal heap header")?;
        let at = c.at();
        let version = c.u8("fractal heap version")?;
        if version != 0 {
            return Err(Error::format(
                at,
                format!("fractal heap header: expected version 0, found {version}"),
            ));
        }
        let id_at = c.at();
        let heap_id_len = c.u16("fractal heap ID length")?;
        let filter_info_len = c.u16("fractal heap I/O filters' encoded length")?;
        let flags = c.u8("fractal heap flags")?;
        let max_man_at = c.at();
        let max_managed_object_size = c.u32("fractal heap maximum managed object size")?;
        let _next_huge_id = c.length("fractal heap next huge object ID")?;
        let huge_btree = c.address("fractal heap huge object B-tree address")?;
        let _free = c.length("fractal heap free space")?;
        let _fsm = c.address("fractal heap free space manager address")?;
        let managed_space = c.length("fractal heap managed space")?;
        let _allocated = c.length("fractal heap allocated managed space")?;
        let _iter = c.length("fractal heap direct block allocation iterator")?;
        let _n_managed = c.length("fractal heap managed object count")?;
        let _huge_size = c.length("fractal heap huge object size")?;
        let _n_huge = c.length("fractal heap huge object count")?;
        let _tiny_size = c.length("fractal heap tiny object size")?;
        let _n_tiny = c.length("fractal heap tiny object count")?;
        let width_at = c.at();
        let table_width = c.u16("fractal heap table width")?;
        let start_at = c.at();
        let starting_block_size = c.length("fractal heap starting block size")?;
        let max_direct_at = c.at();
        let max_direct_block_size = c.length("fractal heap maximum direct block size")?;
        let bits_at = c.at();
        let max_heap_size_bits = c.u16("fractal heap maximum heap size")?;
        let _start_rows = c.u16("fractal heap starting root rows")?;
        let root_block = c.address("fractal heap root block address")?;
        let rows_at = c.at();
        let root_rows = c.u16("fractal heap current root rows")?;
        if filter_info_len > 0 {
            let _root_filtered_size = c.length("fractal heap filtered root direct block size")?;
            let _mask = c.u32("fractal heap root filter mask")?;
            c.skip(
                usize::from(filter_info_len),
                "fractal heap I/O filter information",
            )?;
        }
        let covered = c.position();
        let sum_at = c.at();
        let stored = c.u32("fractal heap header checksum")?;
        verify_checksum(&c.all()[..covered], stored, sum_at, "fractal heap header")?;

        // Validate the doubling table.
        let fmt = |at: u64, what: String| Error::format(at, format!("fractal heap header: {what}"));
        if heap_id_len == 0 {
            return Err(fmt(id_at, "heap ID length is 0".into()));
        }
        if table_width == 0 || !table_width.is_power_of_two() {
            return Err(fmt(
                width_at,
                format!("table width must be a non-zero power of two, found {table_width}"),
            ));
        }
        if starting_block_size == 0 || !starting_block_size.is_power_of_two() {
            return Err(fmt(
                start_at,
                format!(
                    "starting block size must be a non-zero power of two, found \
                     {starting_block_size}"
                ),
            ));
        }
        if !max_direct_block_size.is_power_of_two() || max_direct_block_size < starting_block_size {
            return Err(fmt(
                max_direct_at,
                format!(
                    "maximum direct block size must be a power of two ≥ the starting block size \
                     {starting_block_size}, found {max_direct_block_size}"
                ),
            ));
        }
        if !(1..=64).contains(&max_heap_size_bits) {
            return Err(fmt(
                bits_at,
                format!("maximum heap size must be 1..=64 bits, found {max_heap_size_bits}"),
            ));
        }
        let start_bits = log2_floor(starting_block_size);
        let first_row_bits = start_bits + u32::from(table_width).trailing_zeros();
        let max_direct_bits = log2_floor(max_direct_block_size);
        let max_index = u32::from(max_heap_size_bits);
        if first_row_bits > max_index || max_direct_bits > max_index {
            return Err(fmt(
                bits_at,
                format!(
                    "a {max_heap_size_bits}-bit heap cannot hold its first row ({first_row_bits} \
                     bits) or its largest direct block ({max_direct_bits} bits)"
                ),
            ));
        }
        let max_root_rows = max_index - first_row_bits + 1;
        let max_direct_rows = max_direct_bits - start_bits + 2;
        if u32::from(root_rows) > max_root_rows {
            return Err(fmt(
                rows_at,
                format!(
                    "root indirect block has {root_rows} rows, a {max_heap_size_bits}-bit heap \
                     allows at most {max_root_rows}"
                ),
            ));
        }
        if u64::from(max_managed_object_size) > max_direct_block_size {
            return Err(fmt(
                max_man_at,
                format!(
                    "maximum managed object size {max_managed_object_size} exceeds the maximum \
                     direct block size {max_direct_block_size}"
                ),
            ));
        }
        let heap_off_size = usize::from(max_heap_size_bits).div_ceil(8);
        let max_dir_blk_off_size = (max_direct_bits as usize).div_ceil(8);
        let heap_len_size =
            max_dir_blk_off_size.min(limit_enc_size(u64::from(max_managed_object_size)));
        Ok(FractalHeap {
            view: *view,
            limits: limits.clone(),
            address: addr,
            abs,
            heap_id_len,
            filter_info_len,
            flags,
            max_managed_object_size,
            huge_btree,
            managed_space,
            table_width,
            starting_block_size,
            max_direct_block_size,
            max_heap_size_bits,
            root_block,
            root_rows,
            start_bits,
            first_row_bits,
            max_direct_rows,
            max_root_rows,
            heap_off_size,
            heap_len_size,
            verified: Mutex::new(HashSet::new()),
        })
    }

    /// Address of the heap header.
    pub fn address(&self) -> Address {
        self.address
    }

    fn err(&self, what: impl Into<String>) -> Error {
        Error::format(self.abs, what)
    }

    /// The object named by `heap_id`.
    pub fn get(&self, heap_id: &[u8]) -> Result<Cow<'a, [u8]>> {
        let Some(&first) = heap_id.first() else {
            return Err(self.err("fractal heap ID is empty"));
        };
        let version = first >> 6;
        if version != 0 {
            return Err(self.err(format!(
                "fractal heap ID: expected version 0, found {version}"
            )));
        }
        match (first >> 4) & 0x3 {
            ID_TYPE_MANAGED => self.managed(heap_id).map(Cow::Borrowed),
            ID_TYPE_HUGE => self.huge(heap_id).map(Cow::Borrowed),
            ID_TYPE_TINY => self.tiny(heap_id).map(|t| Cow::Owned(t.to_vec())),
            t => Err(self.err(format!("fractal heap ID: reserved type {t}"))),
        }
    }

    /// Tiny objects: the length is in the low 4 bits of the first byte (plus
    /// the whole second byte when the heap's IDs are longer than 18 bytes),
    /// stored minus one; the data follows.
    fn tiny<'i>(&self, id: &'i [u8]) -> Result<&'i [u8]> {
        let extended = usize::from(self.heap_id_len) > 18;
        let (len, start) = if extended {
            let Some(&second) = id.get(1) else {
                return Err(self.err("tiny heap ID: missing extended length byte"));
            };
            (
                ((usize::from(id[0] & 0x0f) << 8) | usize::from(second)) + 1,
                2,
            )
        } else {
            (usize::from(id[0] & 0x0f) + 1, 1)
        };
        id.get(start..start + len).ok_or_else(|| {
            self.err(format!(
                "tiny heap ID: object of {len} bytes does not fit in a {}-byte ID",
                id.len()
            ))
        })
    }

    fn huge(&self, id: &[u8]) -> Result<&'a [u8]> {
        if self.filter_info_len > 0 {
            return Err(Error::unsupported(
                "huge object in a fractal heap with I/O filters (filtered fractal heaps)",
            ));
        }
        let sizes = self.view.sizes;
        let o = usize::from(sizes.offset);
        let l = usize::from(sizes.length);
        let id_body = usize::from(self.heap_id_len).saturating_sub(1);
        let mut c = Cursor::new(id, self.abs, sizes);
        c.skip(1, "huge heap ID flags")?;
        let (address, length) = if o + l <= id_body {
            // Directly accessed: the ID holds address and length.
            (
                c.address("huge object address")?,
                c.length("huge object length")?,
            )
        } else {
            let width = id_body.min(8);
            let key = c.uint(width, "huge object ID")?;
            if self.huge_btree.is_undefined() {
                return Err(self.err(format!(
                    "huge object {key}: the heap has no huge-object B-tree"
                )));
            }
            let tree = BTreeV2::open(&self.view, self.huge_btree, &self.limits)?;
            if tree.record_type != 1 {
                return Err(self.err(format!(
                    "huge-object B-tree: expected record type 1, found {}",
                    tree.record_type
                )));
            }
            let mut found = None;
            tree.for_each_record(&mut |at, r| {
                if found.is_none() {
                    let rec = HugeObjectRecord::parse(r, 1, sizes, at)?;
                    if rec.id == key {
                        found = Some(rec);
                    }
                }
                Ok(())
            })?;
            let rec = found.ok_or_else(|| {
                self.err(format!(
                    "huge object {key}: not in the huge-object B-tree at {:#x}",
                    self.huge_btree.0
                ))
            })?;
            (rec.address, rec.length)
        };
        self.view.slice(address, length, "fractal heap huge object")
    }

    /// Size of the blocks in row `row` of a doubling table.
    fn row_block_size(&self, row: u32) -> Result<u64> {
        let shift = if row == 0 { 0 } else { row - 1 };
        self.starting_block_size
            .checked_shl(shift)
            .filter(|s| s.trailing_zeros() == self.start_bits + shift)
            .ok_or_else(|| self.err(format!("fractal heap: row {row} block size overflows")))
    }

    /// Heap offset of the start of row `row`, relative to its block.
    fn row_block_offset(&self, row: u32) -> Result<u64> {
        if row == 0 {
            return Ok(0);
        }
        let bits = self.first_row_bits + row - 1;
        if bits >= 64 {
            return Err(self.err(format!("fractal heap: row {row} offset overflows")));
        }
        Ok(1u64 << bits)
    }

    fn managed(&self, id: &[u8]) -> Result<&'a [u8]> {
        if self.filter_info_len > 0 {
            return Err(Error::unsupported(
                "managed object in a fractal heap with I/O filters (filtered fractal heaps)",
            ));
        }
        let mut c = Cursor::new(id, self.abs, self.view.sizes);
        c.skip(1, "managed heap ID flags")?;
        let offset = c.uint(self.heap_off_size, "managed object offset")?;
        let length = c.uint(self.heap_len_size, "managed object length")?;
        if length == 0 || length > u64::from(self.max_managed_object_size) {
            return Err(self.err(format!(
                "managed heap object: length {length} is outside 1..={}",
                self.max_managed_object_size
            )));
        }
        if offset >= self.managed_space && self.managed_space != 0 {
            return Err(self.err(format!(
                "managed heap object: offset {offset} is beyond the {}-byte managed space",
                self.managed_space
            )));
        }
        if self.root_block.is_undefined() {
            return Err(self.err("managed heap object: the heap has no root block"));
        }
        // Find the direct block holding `offset`.
        let (block, block_off, block_size) = if self.root_rows == 0 {
            (self.root_block, 0, self.starting_block_size)
        } else {
            self.locate_in_indirect(offset)?
        };
        self.read_from_direct(block, block_off, block_size, offset, length)
    }

    /// Walks indirect blocks from the root to the direct block covering
    /// heap offset `offset`; returns (address, heap offset, size) of it.
    fn locate_in_indirect(&self, offset: u64) -> Result<(Address, u64, u64)> {
        let mut addr = self.root_block;
        let mut rows = u32::from(self.root_rows);
        let mut block_off = 0u64;
        let mut depth = 0u32;
        loop {
            self.limits
                .check_depth("fractal heap indirect block nesting", depth)?;
            let iblock = self.indirect_block(addr, rows, block_off)?;
            let rel = offset - block_off;
            let (row, col) = self.lookup(rel)?;
            if row >= rows {
                return Err(Error::format(
                    iblock.abs,
                    format!(
                        "fractal heap indirect block: offset {offset} falls in row {row}, the \
                         block has {rows} rows"
                    ),
                ));
            }
            let width = u32::from(self.table_width);
            let entry = (row * width + col) as usize;
            let child_off = block_off
                .checked_add(self.row_block_offset(row)?)
                .and_then(|o| {
                    self.row_block_size(row)
                        .ok()
                        .and_then(|s| s.checked_mul(u64::from(col)))
                        .and_then(|x| o.checked_add(x))
                })
                .ok_or_else(|| self.err("fractal heap: block offset overflows"))?;
            let child = iblock.entry(entry, &self.view)?;
            if child.is_undefined() {
                return Err(Error::format(
                    iblock.abs,
                    format!(
                        "fractal heap indirect block: no block for heap offset {offset} (row \
                         {row}, column {col})"
                    ),
                ));
            }
            if row < self.max_direct_rows {
                return Ok((child, child_off, self.row_block_size(row)?));
            }
            // A child indirect block: a table spanning one row-`row` block.
            let child_rows = (log2_floor(self.row_block_size(row)?) + 1)
                .checked_sub(self.first_row_bits)
                .filter(|&r| r > 0 && r < rows)
                .ok_or_else(|| {
                    Error::format(
                        iblock.abs,
                        format!(
                            "fractal heap indirect block: a row-{row} child indirect block would \
                             not have between 1 and {} rows",
                            rows - 1
                        ),
                    )
                })?;
            addr = child;
            rows = child_rows;
            block_off = child_off;
            depth += 1;
        }
    }

    /// (row, column) of relative offset `off` in a doubling table.
    fn lookup(&self, off: u64) -> Result<(u32, u32)> {
        let width = u64::from(self.table_width);
        let first_row = self.starting_block_size.saturating_mul(width);
        if off < first_row {
            return Ok((0, (off / self.starting_block_size) as u32));
        }
        let high = log2_floor(off);
        let row = high - self.first_row_bits + 1;
        if row >= self.max_root_rows {
            return Err(self.err(format!("fractal heap: offset {off} is past the heap")));
        }
        let col = (off - (1u64 << high)) / self.row_block_size(row)?;
        Ok((row, col as u32))
    }

    /// Reads and checks the indirect block at `addr` with `rows` rows.
    ///
    /// ```text
    /// Fractal Heap Indirect Block (spec III.G):
    /// 0  "FHIB"
    /// 4  Version (1) = 0
    /// 5  Heap Header Address (offset)
    ///    Block Offset (ceil(max heap size / 8) bytes)
    ///    Child Direct Block entries (K = min(rows, max direct rows) × width):
    ///      Address (offset) [filtered: Size (length), Filter Mask (4)]
    ///    Child Indirect Block entries ((rows - max direct rows) × width):
    ///      Address (offset)
    ///    Checksum (4)
    /// ```
    fn indirect_block(
        &self,
        addr: Address,
        rows: u32,
        block_off: u64,
    ) -> Result<IndirectBlock<'a>> {
        let width = u64::from(self.table_width);
        let o = u64::from(self.view.sizes.offset);
        let direct = u64::from(rows.min(self.max_direct_rows)) * width;
        let indirect = u64::from(rows.saturating_sub(self.max_direct_rows)) * width;
        let header = 5 + o + self.heap_off_size as u64;
        let size = direct
            .checked_add(indirect)
            .and_then(|n| n.checked_mul(o))
            .and_then(|n| n.checked_add(header + 4))
            .ok_or_else(|| self.err("fractal heap indirect block size overflows"))?;
        let mut c = self
            .view
            .cursor_len(addr, size, "fractal heap indirect block")?;
        let abs = c.at();
        c.signature(b"FHIB", "fractal heap indirect block")?;
        let vat = c.at();
        let version = c.u8("fractal heap indirect block version")?;
        if version != 0 {
            return Err(Error::format(
                vat,
                format!("fractal heap indirect block: expected version 0, found {version}"),
            ));
        }
        self.check_block_header(&mut c, block_off, "fractal heap indirect block")?;
        let covered = (size - 4) as usize;
        let sum_at = abs + covered as u64;
        let all = c.all();
        let stored = u32::from_le_bytes(
            all.get(covered..covered + 4)
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| Error::format(sum_at, "fractal heap indirect block: no checksum"))?,
        );
        verify_checksum(
            &all[..covered],
            stored,
            sum_at,
            "fractal heap indirect block",
        )?;
        Ok(IndirectBlock {
            abs,
            entries_at: header as usize,
            bytes: all,
            count: direct + indirect,
        })
    }

    /// Checks a block's heap header address and block offset fields.
    fn check_block_header(&self, c: &mut Cursor<'_>, block_off: u64, what: &str) -> Result<()> {
        let hat = c.at();
        let heap = c.address("fractal heap block's heap header address")?;
        if heap != self.address {
            return Err(Error::format(
                hat,
                format!(
                    "{what}: belongs to the heap at {:#x}, expected {:#x}",
                    heap.0, self.address.0
                ),
            ));
        }
        let oat = c.at();
        let off = c.uint(self.heap_off_size, "fractal heap block offset")?;
        if off != block_off {
            return Err(Error::format(
                oat,
                format!("{what}: expected block offset {block_off}, found {off}"),
            ));
        }
        Ok(())
    }

    /// Reads `length` bytes at heap offset `offset` from the direct block at
    /// `addr` (heap offset `block_off`, `block_size` bytes).
    ///
    /// ```text
    /// Fractal Heap Direct Block (spec III.G):
    /// 0  "FHDB"
    /// 4  Version (1) = 0
    /// 5  Heap Header Address (offset)
    ///    Block Offset (ceil(max heap size / 8) bytes)
    ///    [flags bit 1] Checksum (4)  -- over the whole block, this field zeroed
    ///    Object Data
    /// ```
    fn read_from_direct(
        &self,
        addr: Address,
        block_off: u64,
        block_size: u64,
        offset: u64,
        length: u64,
    ) -> Result<&'a [u8]> {
        let mut c = self
            .view
            .cursor_len(addr, block_size, "fractal heap direct block")?;
        let abs = c.at();
        c.signature(b"FHDB", "fractal heap direct block")?;
        let vat = c.at();
        let version = c.u8("fractal heap direct block version")?;
        if version != 0 {
            return Err(Error::format(
                vat,
                format!("fractal heap direct block: expected version 0, found {version}"),
            ));
        }
        self.check_block_header(&mut c, block_off, "fractal heap direct block")?;
        let checksummed = self.flags & FLAG_CHECKSUM_DIRECT_BLOCKS != 0;
        if checksummed {
            let sum_pos = c.position();
            let sum_at = c.at();
            let stored = c.u32("fractal heap direct block checksum")?;
            self.verify_direct(abs, c.all(), sum_pos, stored, sum_at)?;
        }
        let header = c.position() as u64;
        let start = offset - block_off;
        if start < header || start.saturating_add(length) > block_size {
            return Err(Error::format(
                abs,
                format!(
                    "fractal heap direct block: object at heap offset {offset} ({length} bytes) \
                     is outside the block's data (heap offsets {}..{})",
                    block_off + header,
                    block_off + block_size
                ),
            ));
        }
        Ok(&c.all()[start as usize..(start + length) as usize])
    }

    fn verify_direct(
        &self,
        abs: u64,
        block: &[u8],
        sum_pos: usize,
        stored: u32,
        sum_at: u64,
    ) -> Result<()> {
        if let Ok(v) = self.verified.lock() {
            if v.contains(&abs) {
                return Ok(());
            }
        }
        self.limits
            .check_alloc("fractal heap direct block", block.len() as u64)?;
        let mut copy = block.to_vec();
        copy[sum_pos..sum_pos + 4].fill(0);
        verify_checksum(&copy, stored, sum_at, "fractal heap direct block")?;
        if let Ok(mut v) = self.verified.lock() {
            v.insert(abs);
        }
        Ok(())
    }
}

/// A checked indirect block: its raw bytes and where the entries start.
struct IndirectBlock<'a> {
    abs: u64,
    entries_at: usize,
    bytes: &'a [u8],
    count: u64,
}

impl IndirectBlock<'_> {
    /// Child address of entry `i` (direct entries first, then indirect).
    fn entry(&self, i: usize, view: &FileView<'_>) -> Result<Address> {
        if i as u64 >= self.count {
            return Err(Error::format(
                self.abs,
                format!("fractal heap indirect block: entry {i} of {}", self.count),
            ));
        }
        let o = usize::from(view.sizes.offset);
        let pos = self.entries_at + i * o;
        let mut c = Cursor::new(self.bytes, self.abs, view.sizes);
        c.seek(pos, "fractal heap indirect block entry")?;
        c.address("fractal heap child block address")
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod real_files;
