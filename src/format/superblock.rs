//! The superblock: where an HDF5 file starts (spec II.A, "Disk Format: Level
//! 0A - Format Signature and Superblock").
//!
//! The 8-byte signature is searched at byte 0, 512, 1024, 2048, ... (a user
//! block may precede it). Versions 0 and 1 carry the root group's symbol
//! table entry and B-tree 'K' values; versions 2 and 3 are compact, point at
//! the root object header and a superblock extension, and end in a lookup3
//! checksum, which is verified.

use binrw::BinRead;

use super::{Address, Cursor, Sizes};
use crate::error::{Error, Result};

/// The HDF5 format signature, `\211HDF\r\n\032\n`.
pub const SIGNATURE: [u8; 8] = [0x89, b'H', b'D', b'F', b'\r', b'\n', 0x1a, b'\n'];

/// The parsed superblock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superblock {
    /// Superblock version, 0..=3.
    pub version: u8,
    /// Widths of offsets and lengths used everywhere in the file.
    pub sizes: Sizes,
    /// Absolute position of the signature (0, or past a user block).
    pub superblock_address: u64,
    /// Absolute position that relative addresses count from
    /// ([`FileView::base`](super::FileView::base)).
    pub base_address: u64,
    /// End-of-file address as stored (relative to the base address).
    pub eof_address: u64,
    /// Address of the root group's object header.
    pub root_object_header: Address,
    /// v0/v1 only: the root entry's scratch-pad cache, `(v1 B-tree, local
    /// heap)`, when its cache type is 1.
    pub root_symbol_table: Option<(Address, Address)>,
    /// v2/v3: the superblock extension's object header, or
    /// [`Address::UNDEFINED`].
    pub extension: Address,
    /// Group leaf node K (v0/v1; 4 otherwise).
    pub group_leaf_k: u16,
    /// Group internal node K (v0/v1; 16 otherwise).
    pub group_internal_k: u16,
    /// Indexed storage internal node K (v1; 32 otherwise).
    pub indexed_storage_k: u16,
}

/// Largest number of candidate positions searched (0, 512, ..., 2^62).
const MAX_PROBES: u32 = 56;

impl Superblock {
    /// Finds and parses the superblock of the file whose bytes are `bytes`.
    pub fn find(bytes: &[u8]) -> Result<Superblock> {
        let mut pos: u64 = 0;
        for _ in 0..MAX_PROBES {
            let start = match usize::try_from(pos) {
                Ok(s) if s < bytes.len() => s,
                _ => break,
            };
            if bytes[start..].starts_with(&SIGNATURE) {
                return Self::parse_at(bytes, pos);
            }
            pos = if pos == 0 { 512 } else { pos.saturating_mul(2) };
        }
        Err(Error::format(
            0,
            "expected the HDF5 signature at byte 0, 512, 1024, ... ; none found",
        ))
    }

    /// [`Superblock::find`] in a file read range by range.
    pub fn find_in(pages: &dyn super::Pages) -> Result<Superblock> {
        let mut pos: u64 = 0;
        for _ in 0..MAX_PROBES {
            if pos >= pages.len() {
                break;
            }
            let n = (pages.len() - pos).min(4096) as usize;
            let head = pages.pinned(pos, n)?;
            if head.starts_with(&SIGNATURE) {
                return Self::parse_here(&head[..n], pos);
            }
            pos = if pos == 0 { 512 } else { pos.saturating_mul(2) };
        }
        Err(Error::format(
            0,
            "expected the HDF5 signature at byte 0, 512, 1024, ... ; none found",
        ))
    }

    /// Parses the superblock whose signature starts at absolute `pos`.
    pub fn parse_at(bytes: &[u8], pos: u64) -> Result<Superblock> {
        let start = usize::try_from(pos)
            .ok()
            .filter(|&s| s <= bytes.len())
            .ok_or_else(|| Error::format(pos, "superblock position is past the end of the file"))?;
        Self::parse_here(&bytes[start..], pos)
    }

    /// Parses the superblock at the start of `bytes`, which begin at
    /// absolute position `pos`.
    fn parse_here(bytes: &[u8], pos: u64) -> Result<Superblock> {
        // The sizes are not known yet; 8/8 is only a placeholder until read.
        let mut c = Cursor::new(bytes, pos, Sizes::DEFAULT);
        let sig = c.read_bytes(8, "superblock signature")?;
        if sig != SIGNATURE {
            return Err(Error::format(pos, "expected the HDF5 format signature"));
        }
        let version = c.u8("superblock version")?;
        match version {
            0 | 1 => Self::parse_v0_v1(c, pos, version),
            2 | 3 => Self::parse_v2_v3(bytes, pos, version),
            v => Err(Error::unsupported(format!(
                "superblock version {v} (versions 0 to 3 are known)"
            ))),
        }
    }

    // Layout: Superblock (Versions 0 and 1), spec II.A:
    //   Format Signature (8)
    //   Version # of Superblock (1) | Version # of File's Free Space Storage (1)
    //   | Version # of Root Group Symbol Table Entry (1) | Reserved (1)
    //   Version # of Shared Header Message Format (1) | Size of Offsets (1)
    //   | Size of Lengths (1) | Reserved (1)
    //   Group Leaf Node K (2) | Group Internal Node K (2)
    //   File Consistency Flags (4)
    //   Indexed Storage Internal Node K (2, v1 only) | Reserved (2, v1 only)
    //   Base Address (O) | Address of File Free-space Info (O)
    //   End of File Address (O) | Driver Information Block Address (O)
    //   Root Group Symbol Table Entry:
    //     Link Name Offset (O) | Object Header Address (O) | Cache Type (4)
    //     | Reserved (4) | Scratch-pad Space (16)
    fn parse_v0_v1(mut c: Cursor<'_>, pos: u64, version: u8) -> Result<Superblock> {
        c.skip(3, "superblock free-space/root-entry versions, reserved")?;
        c.skip(1, "superblock shared header message version")?;
        let sizes = read_sizes(&mut c)?;
        c.skip(1, "superblock reserved")?;
        let group_leaf_k = c.u16("group leaf node K")?;
        let group_internal_k = c.u16("group internal node K")?;
        c.skip(4, "file consistency flags")?;
        let indexed_storage_k = if version == 1 {
            let k = c.u16("indexed storage internal node K")?;
            c.skip(2, "superblock reserved")?;
            k
        } else {
            32
        };
        let rest = c.rest();
        let mut c = Cursor::new(rest, c.at(), sizes);
        let stored_base = c.address("base address")?;
        let _free_space = c.address("address of file free-space info")?;
        let eof_address = c.uint(usize::from(sizes.offset), "end of file address")?;
        let _driver = c.address("driver information block address")?;
        let _link_name_offset = c.uint(usize::from(sizes.offset), "root entry link name offset")?;
        let root_object_header = c.address("root entry object header address")?;
        let cache_type = c.u32("root entry cache type")?;
        c.skip(4, "root entry reserved")?;
        let scratch = c.read_bytes(16, "root entry scratch-pad space")?;
        let root_symbol_table = if cache_type == 1 {
            let mut s = Cursor::new(scratch, c.at().saturating_sub(16), sizes);
            let btree = s.address("root scratch-pad v1 B-tree address")?;
            let heap = s.address("root scratch-pad local heap address")?;
            Some((btree, heap))
        } else {
            None
        };
        if root_object_header.is_undefined() {
            return Err(Error::format(
                pos,
                "superblock: root group object header address is undefined",
            ));
        }
        Ok(Superblock {
            version,
            sizes,
            superblock_address: pos,
            base_address: resolve_base(stored_base, pos),
            eof_address,
            root_object_header,
            root_symbol_table,
            extension: Address::UNDEFINED,
            group_leaf_k,
            group_internal_k,
            indexed_storage_k,
        })
    }

    fn parse_v2_v3(bytes: &[u8], pos: u64, version: u8) -> Result<Superblock> {
        // Signature (8), version (1), size of offsets (1), size of lengths (1).
        let mut c = Cursor::new(bytes, pos, Sizes::DEFAULT);
        c.skip(9, "superblock signature and version")?;
        let sizes = read_sizes(&mut c)?;
        let fixed_len = 12 + 4 * usize::from(sizes.offset);
        let total = fixed_len + 4;
        if bytes.len() < total {
            return Err(Error::format(
                pos,
                format!(
                    "superblock v{version}: expected {total} bytes, the file has {} left",
                    bytes.len()
                ),
            ));
        }
        let mut reader = std::io::Cursor::new(&bytes[..fixed_len]);
        let fixed = SuperblockV2Fixed::read_le_args(&mut reader, (sizes.offset,)).map_err(|e| {
            Error::format(
                pos,
                format!("superblock v{version}: unreadable fixed part: {e}"),
            )
        })?;
        let stored = u32::from_le_bytes([
            bytes[fixed_len],
            bytes[fixed_len + 1],
            bytes[fixed_len + 2],
            bytes[fixed_len + 3],
        ]);
        super::verify_checksum(
            &bytes[..fixed_len],
            stored,
            pos + fixed_len as u64,
            "superblock",
        )?;
        let width = usize::from(sizes.offset);
        let root_object_header = Address::from_raw(fixed.root_object_header, width);
        if root_object_header.is_undefined() {
            return Err(Error::format(
                pos,
                "superblock: root group object header address is undefined",
            ));
        }
        Ok(Superblock {
            version,
            sizes,
            superblock_address: pos,
            base_address: resolve_base(Address::from_raw(fixed.base_address, width), pos),
            eof_address: fixed.eof_address,
            root_object_header,
            root_symbol_table: None,
            extension: Address::from_raw(fixed.extension_address, width),
            group_leaf_k: 4,
            group_internal_k: 16,
            indexed_storage_k: 32,
        })
    }
}

/// libhdf5 treats the superblock's own position as the base address when
/// the stored one differs (e.g. a file whose user block was added later), so
/// we do the same.
fn resolve_base(stored: Address, superblock_address: u64) -> u64 {
    if stored.0 == superblock_address {
        stored.0
    } else {
        superblock_address
    }
}

fn read_sizes(c: &mut Cursor<'_>) -> Result<Sizes> {
    let at = c.at();
    let offset = c.u8("size of offsets")?;
    let length = c.u8("size of lengths")?;
    for (what, v) in [("size of offsets", offset), ("size of lengths", length)] {
        if !matches!(v, 2 | 4 | 8) {
            return Err(Error::format(
                at,
                format!("{what}: expected 2, 4 or 8, found {v}"),
            ));
        }
    }
    Ok(Sizes { offset, length })
}

/// Layout: Superblock (Versions 2 and 3), spec II.A, without its checksum:
///
/// ```text
/// Format Signature (8)
/// Version # of Superblock (1) | Size of Offsets (1) | Size of Lengths (1)
/// | File Consistency Flags (1)
/// Base Address (O)
/// Superblock Extension Address (O)
/// End of File Address (O)
/// Root Group Object Header Address (O)
/// Superblock Checksum (4)          <- verified separately
/// ```
///
/// Read with binrw; the caller checks the length first and passes the size
/// of offsets (2, 4 or 8) as an import argument.
#[derive(BinRead, Debug)]
#[br(little, magic = b"\x89HDF\r\n\x1a\n", import(offset_size: u8))]
struct SuperblockV2Fixed {
    _version: u8,
    _size_of_offsets: u8,
    _size_of_lengths: u8,
    _file_consistency_flags: u8,
    #[br(parse_with = read_offset, args(offset_size))]
    base_address: u64,
    #[br(parse_with = read_offset, args(offset_size))]
    extension_address: u64,
    #[br(parse_with = read_offset, args(offset_size))]
    eof_address: u64,
    #[br(parse_with = read_offset, args(offset_size))]
    root_object_header: u64,
}

/// Reads a little-endian unsigned field of `width` (<= 8) bytes.
#[binrw::parser(reader)]
fn read_offset(width: u8) -> binrw::BinResult<u64> {
    let width = usize::from(width).min(8);
    let mut buf = [0u8; 8];
    reader.read_exact(&mut buf[..width])?;
    Ok(u64::from_le_bytes(buf))
}

/// Absolute position, from the signature, of the "End of File Address"
/// field of a version 0 superblock (8-byte offsets).
pub const EOF_ADDRESS_OFFSET_V0: usize = 40;

impl Superblock {
    /// Bytes of an encoded superblock of `version` with 8-byte offsets and
    /// lengths: 96 (v0), 100 (v1), 48 (v2, v3).
    pub fn encoded_len(version: u8) -> usize {
        match version {
            0 => 96,
            1 => 100,
            _ => 48,
        }
    }

    /// Position of the "End of File Address" field from the signature, for
    /// `version` with 8-byte offsets.
    pub fn eof_address_offset(version: u8) -> usize {
        match version {
            0 => EOF_ADDRESS_OFFSET_V0,
            1 => EOF_ADDRESS_OFFSET_V0 + 4,
            _ => 28,
        }
    }

    /// Encodes the superblock (versions 0 to 3, 8-byte offsets and lengths
    /// only), as libhdf5 writes it.
    ///
    /// * v0/v1: file free-space and driver information addresses are
    ///   undefined; the base address is [`Superblock::base_address`] (0, or
    ///   the user block size); the root group symbol table entry has link
    ///   name offset 0 and cache type 1 with `root_symbol_table` when it is
    ///   `Some`, else cache type 0.
    /// * v2/v3: consistency flags 0, then base, extension, end-of-file and
    ///   root addresses and the lookup3 checksum.
    ///
    /// `eof_address` is stored as is (relative to the base address).
    pub fn encode(&self) -> Result<Vec<u8>> {
        if self.sizes != Sizes::DEFAULT {
            return Err(Error::unsupported(format!(
                "encoding a superblock with {}-byte offsets and {}-byte lengths (only 8/8)",
                self.sizes.offset, self.sizes.length
            )));
        }
        let mut b = Vec::with_capacity(Self::encoded_len(self.version));
        b.extend_from_slice(&SIGNATURE);
        match self.version {
            0 | 1 => {
                // Superblock, free-space, root entry and shared header
                // message versions are all 0.
                b.extend_from_slice(&[self.version, 0, 0, 0, 0, 8, 8, 0]);
                b.extend_from_slice(&self.group_leaf_k.to_le_bytes());
                b.extend_from_slice(&self.group_internal_k.to_le_bytes());
                b.extend_from_slice(&0u32.to_le_bytes());
                if self.version == 1 {
                    b.extend_from_slice(&self.indexed_storage_k.to_le_bytes());
                    b.extend_from_slice(&[0, 0]);
                }
                b.extend_from_slice(&self.base_address.to_le_bytes());
                b.extend_from_slice(&u64::MAX.to_le_bytes());
                b.extend_from_slice(&self.eof_address.to_le_bytes());
                b.extend_from_slice(&u64::MAX.to_le_bytes());
                // Root group symbol table entry.
                let entry = super::symbol_table::SymbolTableEntry {
                    link_name_offset: 0,
                    object_header: self.root_object_header,
                    cache_type: if self.root_symbol_table.is_some() {
                        1
                    } else {
                        0
                    },
                    cached_btree: self.root_symbol_table.map(|t| t.0),
                    cached_heap: self.root_symbol_table.map(|t| t.1),
                    soft_link_offset: None,
                };
                entry.encode(&mut b);
            }
            2 | 3 => {
                b.extend_from_slice(&[self.version, 8, 8, 0]);
                b.extend_from_slice(&self.base_address.to_le_bytes());
                b.extend_from_slice(&self.extension.0.to_le_bytes());
                b.extend_from_slice(&self.eof_address.to_le_bytes());
                b.extend_from_slice(&self.root_object_header.0.to_le_bytes());
                let sum = super::checksum::metadata_checksum(&b);
                b.extend_from_slice(&sum.to_le_bytes());
            }
            v => {
                return Err(Error::unsupported(format!(
                    "encoding superblock version {v} (0 to 3 are known)"
                )))
            }
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::checksum::metadata_checksum;

    fn v0_bytes(user_block: usize) -> Vec<u8> {
        let mut b = vec![0u8; user_block];
        let base = user_block as u64;
        b.extend_from_slice(&SIGNATURE);
        b.extend_from_slice(&[0, 0, 0, 0, 0, 8, 8, 0]);
        b.extend_from_slice(&4u16.to_le_bytes());
        b.extend_from_slice(&16u16.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&base.to_le_bytes()); // base address
        b.extend_from_slice(&u64::MAX.to_le_bytes()); // free space
        b.extend_from_slice(&0x1000u64.to_le_bytes()); // eof
        b.extend_from_slice(&u64::MAX.to_le_bytes()); // driver
        b.extend_from_slice(&0u64.to_le_bytes()); // link name offset
        b.extend_from_slice(&0x60u64.to_le_bytes()); // object header
        b.extend_from_slice(&1u32.to_le_bytes()); // cache type
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&0x88u64.to_le_bytes());
        b.extend_from_slice(&0x2a8u64.to_le_bytes());
        b
    }

    #[test]
    fn v0_with_user_block() {
        let b = v0_bytes(512);
        let sb = Superblock::find(&b).unwrap();
        assert_eq!(sb.version, 0);
        assert_eq!(sb.superblock_address, 512);
        assert_eq!(sb.base_address, 512);
        assert_eq!(sb.root_object_header, Address(0x60));
        assert_eq!(sb.root_symbol_table, Some((Address(0x88), Address(0x2a8))));
        assert_eq!(sb.group_leaf_k, 4);
        assert_eq!(sb.indexed_storage_k, 32);
    }

    #[test]
    fn v0_truncated_is_an_error() {
        let b = v0_bytes(0);
        for n in 0..b.len() {
            assert!(Superblock::find(&b[..n]).is_err(), "len {n}");
        }
    }

    fn v3_bytes(offset: u8) -> Vec<u8> {
        let mut b = SIGNATURE.to_vec();
        b.extend_from_slice(&[3, offset, 8, 0]);
        let w = usize::from(offset);
        for v in [0u64, u64::MAX, 0x2000, 0x30] {
            b.extend_from_slice(&v.to_le_bytes()[..w]);
        }
        let sum = metadata_checksum(&b);
        b.extend_from_slice(&sum.to_le_bytes());
        b
    }

    #[test]
    fn v3_checksum_and_fields() {
        for offset in [2u8, 4, 8] {
            let b = v3_bytes(offset);
            let sb = Superblock::find(&b).unwrap();
            assert_eq!(sb.version, 3);
            assert_eq!(sb.sizes.offset, offset);
            assert!(sb.extension.is_undefined());
            assert_eq!(sb.eof_address, 0x2000);
            assert_eq!(sb.root_object_header, Address(0x30));
        }
        let mut b = v3_bytes(8);
        b[20] ^= 1;
        let err = Superblock::find(&b).unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
        let b = v3_bytes(8);
        for n in 0..b.len() {
            assert!(Superblock::find(&b[..n]).is_err(), "len {n}");
        }
    }

    fn sample(version: u8) -> Superblock {
        Superblock {
            version,
            sizes: Sizes::DEFAULT,
            superblock_address: 0,
            base_address: 0,
            eof_address: 0x1828,
            root_object_header: Address(0x60),
            root_symbol_table: if version < 2 {
                Some((Address(0x88), Address(0x2a8)))
            } else {
                None
            },
            extension: if version < 2 {
                Address::UNDEFINED
            } else {
                Address(0x30)
            },
            group_leaf_k: if version < 2 { 7 } else { 4 },
            group_internal_k: 16,
            indexed_storage_k: if version == 1 { 64 } else { 32 },
        }
    }

    #[test]
    fn encode_round_trips() {
        for v in 0..=3u8 {
            let sb = sample(v);
            let b = sb.encode().unwrap();
            assert_eq!(b.len(), Superblock::encoded_len(v));
            let off = Superblock::eof_address_offset(v);
            assert_eq!(&b[off..off + 8], &0x1828u64.to_le_bytes());
            assert_eq!(Superblock::find(&b).unwrap(), sb, "v{v}");
        }
        // Cache type 0 without a root symbol table; user block base.
        let mut sb = sample(0);
        sb.root_symbol_table = None;
        sb.superblock_address = 512;
        sb.base_address = 512;
        let mut file = vec![0u8; 512];
        file.extend(sb.encode().unwrap());
        assert_eq!(Superblock::find(&file).unwrap(), sb);
        sb.sizes.offset = 4;
        assert!(sb.encode().is_err());
    }

    #[test]
    fn bad_sizes_and_missing_signature() {
        let mut b = v3_bytes(8);
        b[9] = 3;
        assert!(Superblock::find(&b).is_err());
        assert!(Superblock::find(&[0u8; 4096]).is_err());
        assert!(Superblock::find(&[]).is_err());
    }
}
