//! The data layout message (type 0x0008, spec IV.A.2.i), versions 1 to 5.
//!
//! * Versions 1 and 2 store every class with "dimensionality + 1" 4-byte
//!   sizes (the last being the element size for chunked data) and index
//!   chunks with a v1 B-tree.
//! * Version 3 (libver earliest/v108) stores compact, contiguous and chunked
//!   properties; chunks are always indexed by a v1 B-tree.
//! * Version 4 (libver v110+) adds chunk-layout flags, variable-width chunk
//!   dimensions and five more chunk index types, and the virtual class.
//! * Version 5 (HDF5 2.0, libver latest, filtered chunked datasets) is
//!   encoded exactly like version 4. What changes is inside the Fixed Array,
//!   Extensible Array and v2 B-tree indexes: a filtered chunk's "Chunk
//!   Size" field is a full-width length instead of "one byte more than an
//!   unfiltered chunk's size needs", so chunks may exceed 4 GiB.

use super::check_version;
use crate::error::{Error, Result};
use crate::format::chunk_index::ChunkIndexKind;
use crate::format::{Address, Cursor, Sizes};

/// Most chunk dimensions (dataspace rank + 1), libhdf5's `H5O_LAYOUT_NDIMS`.
pub const MAX_LAYOUT_DIMS: u8 = 33;

/// Chunked layout flag bit 0: partial edge chunks are not filtered.
pub const DONT_FILTER_PARTIAL_BOUND_CHUNKS: u8 = 0x01;
/// Chunked layout flag bit 1: a single-chunk index whose chunk is filtered
/// (the message then stores its size and filter mask).
pub const SINGLE_INDEX_WITH_FILTER: u8 = 0x02;

/// A parsed data layout message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout<'a> {
    /// The data is stored in the message itself.
    Compact {
        /// The raw data.
        data: &'a [u8],
    },
    /// One block of `size` bytes at `address` (undefined: never written).
    Contiguous {
        /// Where the data starts.
        address: Address,
        /// Size in bytes. Versions 1 and 2 do not store it: it is then the
        /// product of the stored dimension sizes (the dataspace is the
        /// authority).
        size: u64,
    },
    /// Fixed-size chunks found through an index.
    Chunked {
        /// Chunk shape in elements, without the trailing element-size
        /// dimension.
        chunk_dims: Vec<u64>,
        /// Element size in bytes, as stored.
        element_size: u32,
        /// The chunk index and its parameters.
        index: ChunkIndexKind,
        /// Chunked layout flags (v4+; 0 before):
        /// [`DONT_FILTER_PARTIAL_BOUND_CHUNKS`], [`SINGLE_INDEX_WITH_FILTER`].
        flags: u8,
    },
    /// A virtual dataset (not read by this crate).
    Virtual,
}

impl<'a> Layout<'a> {
    /// Parses a data layout message.
    pub fn parse(data: &'a [u8], at: u64, sizes: Sizes) -> Result<Layout<'a>> {
        let mut c = Cursor::new(data, at, sizes);
        let version = c.u8("layout version")?;
        check_version("data layout message", at, version, &[1, 2, 3, 4, 5])?;
        if version < 3 {
            parse_v1_v2(&mut c, at)
        } else {
            parse_v3_plus(&mut c, at, version)
        }
    }

    /// Version of a layout message (its first byte), if present.
    pub fn version_of(data: &[u8]) -> Option<u8> {
        data.first().copied()
    }
}

fn layout_dims(at: u64, n: u8) -> Result<()> {
    if n == 0 || n > MAX_LAYOUT_DIMS {
        return Err(Error::format(
            at,
            format!("layout dimensionality: expected 1 to {MAX_LAYOUT_DIMS}, found {n}"),
        ));
    }
    Ok(())
}

fn split_chunk_dims(dims: Vec<u64>, at: u64) -> Result<(Vec<u64>, u32)> {
    // The last stored dimension is the element size.
    let mut dims = dims;
    let element = dims.pop().unwrap_or(0);
    if dims.is_empty() {
        return Err(Error::format(
            at,
            "chunked layout: expected at least 2 dimensions (rank + element size)",
        ));
    }
    if let Some(i) = dims.iter().position(|&d| d == 0) {
        return Err(Error::format(
            at,
            format!("chunked layout: chunk dimension {i} is zero"),
        ));
    }
    let element_size = u32::try_from(element).map_err(|_| {
        Error::format(
            at,
            format!("chunked layout: element size {element} does not fit in 32 bits"),
        )
    })?;
    if element_size == 0 {
        return Err(Error::format(at, "chunked layout: element size is zero"));
    }
    Ok((dims, element_size))
}

// Layout: Data Layout Message (Versions 1 and 2):
//   Version (1) | Dimensionality (1) | Layout Class (1) | Reserved (5)
//   Data Address (O, contiguous and chunked only)
//   Dimension 0..n Size (4 each; n = dimensionality)
//   Compact Data Size (4, compact only) | Compact Data
fn parse_v1_v2<'a>(c: &mut Cursor<'a>, at: u64) -> Result<Layout<'a>> {
    let ndims = c.u8("layout dimensionality")?;
    layout_dims(at.saturating_add(1), ndims)?;
    let class = c.u8("layout class")?;
    c.skip(5, "layout reserved")?;
    let address = match class {
        1 | 2 => c.address("layout data address")?,
        0 => Address::UNDEFINED,
        k => {
            return Err(Error::format(
                at.saturating_add(2),
                format!("layout class: expected 0, 1 or 2 in a version 1/2 message, found {k}"),
            ))
        }
    };
    let mut dims = Vec::with_capacity(usize::from(ndims));
    for _ in 0..ndims {
        dims.push(u64::from(c.u32("layout dimension size")?));
    }
    match class {
        0 => {
            let size = c.u32("compact data size")?;
            let data = c.read_bytes(size as usize, "compact data")?;
            Ok(Layout::Compact { data })
        }
        1 => {
            let size = dims
                .iter()
                .try_fold(1u64, |a, &d| a.checked_mul(d))
                .ok_or_else(|| Error::format(at, "contiguous layout: size overflows"))?;
            Ok(Layout::Contiguous { address, size })
        }
        _ => {
            let (chunk_dims, element_size) = split_chunk_dims(dims, at)?;
            Ok(Layout::Chunked {
                chunk_dims,
                element_size,
                index: ChunkIndexKind::BtreeV1 { address },
                flags: 0,
            })
        }
    }
}

// Layout: Data Layout Message (Version 3):
//   Version (1) | Layout Class (1) | Properties
//   Compact:    Size (2) | Raw Data
//   Contiguous: Address (O) | Size (L)
//   Chunked:    Dimensionality (1) | Address (O)
//               | Dimension 0..n-1 Size (4 each) | Dataset Element Size (4)
//               (Dimensionality counts the element size)
// Layout: Data Layout Message (Versions 4 and 5): as version 3 for compact
// and contiguous;
//   Chunked:    Flags (1) | Dimensionality (1)
//               | Dimension Size Encoded Length (1)
//               | Dimension 0..n Size (encoded length each; the last is the
//                 element size) | Chunk Indexing Type (1)
//               | Indexing Type Information | Address (O)
//   Virtual:    Address (O) | Index (4)
fn parse_v3_plus<'a>(c: &mut Cursor<'a>, at: u64, version: u8) -> Result<Layout<'a>> {
    let class = c.u8("layout class")?;
    match class {
        0 => {
            let size = c.u16("compact data size")?;
            let data = c.read_bytes(usize::from(size), "compact data")?;
            Ok(Layout::Compact { data })
        }
        1 => {
            let address = c.address("contiguous data address")?;
            let size = c.length("contiguous data size")?;
            Ok(Layout::Contiguous { address, size })
        }
        2 if version == 3 => {
            let ndims = c.u8("chunk dimensionality")?;
            layout_dims(at.saturating_add(2), ndims)?;
            let address = c.address("chunk B-tree address")?;
            let mut dims = Vec::with_capacity(usize::from(ndims));
            for _ in 0..ndims {
                dims.push(u64::from(c.u32("chunk dimension size")?));
            }
            let (chunk_dims, element_size) = split_chunk_dims(dims, at)?;
            Ok(Layout::Chunked {
                chunk_dims,
                element_size,
                index: ChunkIndexKind::BtreeV1 { address },
                flags: 0,
            })
        }
        2 => {
            let flags = c.u8("chunked layout flags")?;
            if flags & !(DONT_FILTER_PARTIAL_BOUND_CHUNKS | SINGLE_INDEX_WITH_FILTER) != 0 {
                return Err(Error::format(
                    at.saturating_add(2),
                    format!("chunked layout flags: unknown bits set ({flags:#04x})"),
                ));
            }
            let ndims = c.u8("chunk dimensionality")?;
            layout_dims(at.saturating_add(3), ndims)?;
            let width = c.u8("dimension size encoded length")?;
            if !(1..=8).contains(&width) {
                return Err(Error::format(
                    at.saturating_add(4),
                    format!("dimension size encoded length: expected 1 to 8, found {width}"),
                ));
            }
            let mut dims = Vec::with_capacity(usize::from(ndims));
            for _ in 0..ndims {
                dims.push(c.uint(usize::from(width), "chunk dimension size")?);
            }
            let (chunk_dims, element_size) = split_chunk_dims(dims, at)?;
            let index_at = c.at();
            let index_type = c.u8("chunk indexing type")?;
            let index = match index_type {
                1 => {
                    let filtered = if flags & SINGLE_INDEX_WITH_FILTER != 0 {
                        let size = c.length("size of filtered chunk")?;
                        let mask = c.u32("filters for chunk")?;
                        Some((size, mask))
                    } else {
                        None
                    };
                    let address = c.address("single chunk address")?;
                    ChunkIndexKind::SingleChunk { address, filtered }
                }
                2 => ChunkIndexKind::Implicit {
                    address: c.address("implicit index address")?,
                },
                3 => {
                    let page_bits = c.u8("fixed array page bits")?;
                    ChunkIndexKind::FixedArray {
                        address: c.address("fixed array address")?,
                        page_bits,
                    }
                }
                4 => {
                    let max_bits = c.u8("extensible array max bits")?;
                    let index_elements = c.u8("extensible array index elements")?;
                    let min_pointers = c.u8("extensible array min pointers")?;
                    let min_elements = c.u8("extensible array min elements")?;
                    let page_bits = c.u8("extensible array page bits")?;
                    ChunkIndexKind::ExtensibleArray {
                        address: c.address("extensible array address")?,
                        max_bits,
                        index_elements,
                        min_pointers,
                        min_elements,
                        page_bits,
                    }
                }
                5 => {
                    let node_size = c.u32("v2 B-tree node size")?;
                    let split_percent = c.u8("v2 B-tree split percent")?;
                    let merge_percent = c.u8("v2 B-tree merge percent")?;
                    ChunkIndexKind::BtreeV2 {
                        address: c.address("v2 B-tree address")?,
                        node_size,
                        split_percent,
                        merge_percent,
                    }
                }
                t => {
                    return Err(Error::format(
                        index_at,
                        format!("chunk indexing type: expected 1 to 5 in a version {version} layout, found {t}"),
                    ))
                }
            };
            Ok(Layout::Chunked {
                chunk_dims,
                element_size,
                index,
                flags,
            })
        }
        3 if version >= 4 => Ok(Layout::Virtual),
        k => Err(Error::format(
            at.saturating_add(1),
            format!("layout class: expected 0 to 2 (3 from version 4) in a version {version} message, found {k}"),
        )),
    }
}

/// Bytes needed to store every chunk dimension (the element size
/// included) in a version 4/5 layout: libhdf5's `(log2(max) + 8) / 8`.
pub fn dimension_size_encoded_length(chunk_dims: &[u64], element_size: u32) -> u8 {
    let max = chunk_dims
        .iter()
        .copied()
        .chain(std::iter::once(u64::from(element_size)))
        .max()
        .unwrap_or(1)
        .max(1);
    let log2 = 63 - max.leading_zeros();
    ((log2 + 8) / 8) as u8
}

impl Layout<'_> {
    /// Encodes the data layout message, version 3 (libver earliest to
    /// v108) or 4/5 (v110 and later; 5 is HDF5 2.0's stamp for filtered
    /// chunked datasets, encoded like 4). Offsets and lengths are written
    /// with `sizes`.
    ///
    /// * Compact: size (2) and the data.
    /// * Contiguous: address and size.
    /// * Chunked, v3: dimensionality = rank + 1, the v1 B-tree address,
    ///   the chunk dimensions and the element size (4 bytes each).
    /// * Chunked, v4/v5: flags, dimensionality, "dimension size encoded
    ///   length" (the fewest bytes holding the largest dimension, element
    ///   size included), the dimensions, the index type and its parameters,
    ///   the index address. [`SINGLE_INDEX_WITH_FILTER`] is set exactly
    ///   when a single-chunk index stores a filtered size.
    pub fn encode(&self, version: u8, sizes: Sizes) -> Result<Vec<u8>> {
        if !(3..=5).contains(&version) {
            return Err(Error::invalid(format!(
                "encoding layout message version {version} (3, 4 or 5)"
            )));
        }
        let ow = usize::from(sizes.offset);
        let lw = usize::from(sizes.length);
        let put = |b: &mut Vec<u8>, v: u64, w: usize| b.extend_from_slice(&v.to_le_bytes()[..w]);
        let mut b = Vec::with_capacity(64);
        b.push(version);
        match self {
            Layout::Compact { data } => {
                let n = u16::try_from(data.len()).map_err(|_| {
                    Error::invalid(format!(
                        "compact layout: {} bytes of data (at most 65535)",
                        data.len()
                    ))
                })?;
                b.push(0);
                b.extend_from_slice(&n.to_le_bytes());
                b.extend_from_slice(data);
            }
            Layout::Contiguous { address, size } => {
                b.push(1);
                put(&mut b, address.0, ow);
                put(&mut b, *size, lw);
            }
            Layout::Chunked {
                chunk_dims,
                element_size,
                index,
                flags,
            } => {
                b.push(2);
                let ndims = u8::try_from(chunk_dims.len() + 1)
                    .ok()
                    .filter(|n| (2..=MAX_LAYOUT_DIMS).contains(n))
                    .ok_or_else(|| {
                        Error::invalid(format!(
                            "chunked layout with {} dimensions (1 to 32)",
                            chunk_dims.len()
                        ))
                    })?;
                if chunk_dims.contains(&0) || *element_size == 0 {
                    return Err(Error::invalid("chunked layout: a zero chunk dimension"));
                }
                if version == 3 {
                    let ChunkIndexKind::BtreeV1 { address } = index else {
                        return Err(Error::invalid(
                            "layout version 3 indexes chunks with a v1 B-tree only",
                        ));
                    };
                    b.push(ndims);
                    put(&mut b, address.0, ow);
                    for d in chunk_dims {
                        let d = u32::try_from(*d).map_err(|_| {
                            Error::invalid(format!("chunk dimension {d} does not fit 32 bits"))
                        })?;
                        b.extend_from_slice(&d.to_le_bytes());
                    }
                    b.extend_from_slice(&element_size.to_le_bytes());
                    return Ok(b);
                }
                let filtered_single = matches!(
                    index,
                    ChunkIndexKind::SingleChunk {
                        filtered: Some(_),
                        ..
                    }
                );
                let mut flags = *flags & DONT_FILTER_PARTIAL_BOUND_CHUNKS;
                if filtered_single {
                    flags |= SINGLE_INDEX_WITH_FILTER;
                }
                let width = dimension_size_encoded_length(chunk_dims, *element_size);
                b.extend_from_slice(&[flags, ndims, width]);
                for d in chunk_dims
                    .iter()
                    .copied()
                    .chain(std::iter::once(u64::from(*element_size)))
                {
                    put(&mut b, d, usize::from(width));
                }
                let address = match index {
                    ChunkIndexKind::BtreeV1 { .. } => {
                        return Err(Error::invalid(
                            "layout version 4/5 has no v1 B-tree chunk index (use version 3)",
                        ))
                    }
                    ChunkIndexKind::SingleChunk { address, filtered } => {
                        b.push(1);
                        if let Some((size, mask)) = filtered {
                            put(&mut b, *size, lw);
                            b.extend_from_slice(&mask.to_le_bytes());
                        }
                        address
                    }
                    ChunkIndexKind::Implicit { address } => {
                        b.push(2);
                        address
                    }
                    ChunkIndexKind::FixedArray { address, page_bits } => {
                        b.extend_from_slice(&[3, *page_bits]);
                        address
                    }
                    ChunkIndexKind::ExtensibleArray {
                        address,
                        max_bits,
                        index_elements,
                        min_pointers,
                        min_elements,
                        page_bits,
                    } => {
                        b.extend_from_slice(&[
                            4,
                            *max_bits,
                            *index_elements,
                            *min_pointers,
                            *min_elements,
                            *page_bits,
                        ]);
                        address
                    }
                    ChunkIndexKind::BtreeV2 {
                        address,
                        node_size,
                        split_percent,
                        merge_percent,
                    } => {
                        b.push(5);
                        b.extend_from_slice(&node_size.to_le_bytes());
                        b.extend_from_slice(&[*split_percent, *merge_percent]);
                        address
                    }
                };
                put(&mut b, address.0, ow);
            }
            Layout::Virtual => {
                return Err(Error::unsupported("encoding a virtual dataset layout"));
            }
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_classes() {
        let l = Layout::parse(&[3, 0, 3, 0, 1, 2, 3], 0, Sizes::DEFAULT).unwrap();
        assert_eq!(l, Layout::Compact { data: &[1, 2, 3] });
        let mut d = vec![3, 1];
        d.extend_from_slice(&0x800u64.to_le_bytes());
        d.extend_from_slice(&8000u64.to_le_bytes());
        let l = Layout::parse(&d, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(
            l,
            Layout::Contiguous {
                address: Address(0x800),
                size: 8000
            }
        );
        let mut d = vec![3, 2, 2];
        d.extend_from_slice(&0x400u64.to_le_bytes());
        d.extend_from_slice(&1000u32.to_le_bytes());
        d.extend_from_slice(&8u32.to_le_bytes());
        let l = Layout::parse(&d, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(
            l,
            Layout::Chunked {
                chunk_dims: vec![1000],
                element_size: 8,
                index: ChunkIndexKind::BtreeV1 {
                    address: Address(0x400)
                },
                flags: 0
            }
        );
        for n in 0..d.len() {
            assert!(Layout::parse(&d[..n], 0, Sizes::DEFAULT).is_err());
        }
    }

    fn v4_chunked(version: u8, flags: u8, index: &[u8]) -> Vec<u8> {
        let mut d = vec![version, 2, flags, 3, 2];
        d.extend_from_slice(&2u16.to_le_bytes());
        d.extend_from_slice(&5u16.to_le_bytes());
        d.extend_from_slice(&4u16.to_le_bytes());
        d.extend_from_slice(index);
        d.extend_from_slice(&0x1234u64.to_le_bytes());
        d
    }

    #[test]
    fn v4_v5_index_types() {
        let a = Address(0x1234);
        let mut single = vec![1];
        single.extend_from_slice(&77u64.to_le_bytes());
        single.extend_from_slice(&1u32.to_le_bytes());
        let cases: Vec<(u8, Vec<u8>, ChunkIndexKind)> = vec![
            (
                0,
                vec![1],
                ChunkIndexKind::SingleChunk {
                    address: a,
                    filtered: None,
                },
            ),
            (
                2,
                single,
                ChunkIndexKind::SingleChunk {
                    address: a,
                    filtered: Some((77, 1)),
                },
            ),
            (0, vec![2], ChunkIndexKind::Implicit { address: a }),
            (
                0,
                vec![3, 10],
                ChunkIndexKind::FixedArray {
                    address: a,
                    page_bits: 10,
                },
            ),
            (
                0,
                vec![4, 32, 4, 4, 16, 10],
                ChunkIndexKind::ExtensibleArray {
                    address: a,
                    max_bits: 32,
                    index_elements: 4,
                    min_pointers: 4,
                    min_elements: 16,
                    page_bits: 10,
                },
            ),
            (
                0,
                vec![5, 0, 2, 0, 0, 100, 40],
                ChunkIndexKind::BtreeV2 {
                    address: a,
                    node_size: 512,
                    split_percent: 100,
                    merge_percent: 40,
                },
            ),
        ];
        for version in [4u8, 5] {
            for (flags, idx, want) in &cases {
                let d = v4_chunked(version, *flags, idx);
                let l = Layout::parse(&d, 0, Sizes::DEFAULT).unwrap();
                assert_eq!(
                    l,
                    Layout::Chunked {
                        chunk_dims: vec![2, 5],
                        element_size: 4,
                        index: want.clone(),
                        flags: *flags
                    }
                );
                for n in 0..d.len() {
                    assert!(Layout::parse(&d[..n], 0, Sizes::DEFAULT).is_err());
                }
            }
        }
    }

    #[test]
    fn encode_round_trips() {
        let s = Sizes::DEFAULT;
        let data = [1u8, 2, 3];
        let a = Address(0x800);
        let kinds = [
            ChunkIndexKind::SingleChunk {
                address: a,
                filtered: None,
            },
            ChunkIndexKind::SingleChunk {
                address: a,
                filtered: Some((77, 1)),
            },
            ChunkIndexKind::Implicit { address: a },
            ChunkIndexKind::FixedArray {
                address: a,
                page_bits: 10,
            },
            ChunkIndexKind::ExtensibleArray {
                address: a,
                max_bits: 32,
                index_elements: 4,
                min_pointers: 4,
                min_elements: 16,
                page_bits: 10,
            },
            ChunkIndexKind::BtreeV2 {
                address: a,
                node_size: 2048,
                split_percent: 100,
                merge_percent: 40,
            },
        ];
        let mut cases = vec![
            (3u8, Layout::Compact { data: &data }),
            (
                3,
                Layout::Contiguous {
                    address: a,
                    size: 40,
                },
            ),
            (
                3,
                Layout::Chunked {
                    chunk_dims: vec![1000, 3],
                    element_size: 8,
                    index: ChunkIndexKind::BtreeV1 { address: a },
                    flags: 0,
                },
            ),
        ];
        for k in kinds {
            let flags = if matches!(
                k,
                ChunkIndexKind::SingleChunk {
                    filtered: Some(_),
                    ..
                }
            ) {
                SINGLE_INDEX_WITH_FILTER
            } else {
                0
            };
            for v in [4u8, 5] {
                cases.push((
                    v,
                    Layout::Chunked {
                        chunk_dims: vec![300, 7],
                        element_size: 4,
                        index: k.clone(),
                        flags,
                    },
                ));
            }
        }
        for (v, l) in &cases {
            let b = l.encode(*v, s).unwrap();
            assert_eq!(&Layout::parse(&b, 0, s).unwrap(), l, "v{v}");
        }
        // h5py earliest: contiguous int64[5] at 0x800.
        let mut want = vec![3, 1];
        want.extend_from_slice(&0x800u64.to_le_bytes());
        want.extend_from_slice(&40u64.to_le_bytes());
        assert_eq!(cases[1].1.encode(3, s).unwrap(), want);
        assert_eq!(dimension_size_encoded_length(&[255], 8), 1);
        assert_eq!(dimension_size_encoded_length(&[256], 8), 2);
        assert_eq!(dimension_size_encoded_length(&[65536], 1), 3);
        assert!(cases[2].1.encode(4, s).is_err());
        assert!(Layout::Virtual.encode(4, s).is_err());
    }

    #[test]
    fn bad_input() {
        assert!(Layout::parse(&[6, 1], 0, Sizes::DEFAULT).is_err());
        assert!(Layout::parse(&[3, 3], 0, Sizes::DEFAULT).is_err());
        assert_eq!(
            Layout::parse(&[4, 3], 0, Sizes::DEFAULT).unwrap(),
            Layout::Virtual
        );
        // v1 B-tree index type in a v4 message, zero chunk dim, bad width
        assert!(Layout::parse(&v4_chunked(4, 0, &[0]), 0, Sizes::DEFAULT).is_err());
        let mut d = v4_chunked(4, 0, &[2]);
        d[5] = 0;
        d[6] = 0;
        assert!(Layout::parse(&d, 0, Sizes::DEFAULT).is_err());
        let mut d = v4_chunked(4, 0, &[2]);
        d[4] = 9;
        assert!(Layout::parse(&d, 0, Sizes::DEFAULT).is_err());
        // v1 chunked with dimensionality 1 (no element size)
        let mut d = vec![1, 1, 2, 0, 0, 0, 0, 0];
        d.extend_from_slice(&0u64.to_le_bytes());
        d.extend_from_slice(&4u32.to_le_bytes());
        assert!(Layout::parse(&d, 0, Sizes::DEFAULT).is_err());
    }
}
