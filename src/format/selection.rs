//! Serialized dataspace selections, as a dataset region reference stores
//! them in the global heap after the dataset's address (libhdf5's
//! `H5S_SELECT_SERIALIZE`; the selection encodings of the specification's
//! region reference description).

use crate::error::{Error, Result};
use crate::format::{Cursor, Sizes};

/// A dataspace selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every element.
    All,
    /// No element.
    None,
    /// Individual points, in stored order.
    Points(Vec<Vec<u64>>),
    /// Hyperslab blocks: the first and last (inclusive) coordinates of each,
    /// a regular hyperslab expanded in C order.
    Blocks(Vec<(Vec<u64>, Vec<u64>)>),
}

/// Selection types (the first 4 bytes).
const SEL_NONE: u32 = 0;
const SEL_POINTS: u32 = 1;
const SEL_HYPERSLABS: u32 = 2;
const SEL_ALL: u32 = 3;

/// Hyperslab flag: stored as start/stride/count/block per dimension.
const HYPER_REGULAR: u8 = 0x01;

/// Ranks above this are not HDF5 (its maximum is 32).
const MAX_RANK: u32 = 32;

/// At most this many blocks are produced from one regular hyperslab, so a
/// huge `count` cannot make a tiny reference allocate without bound.
pub const MAX_EXPANDED_BLOCKS: u64 = 1 << 20;

// Layout: Selection (after the referenced object's address):
//   Selection Type (4) | Version (4)
//   None / All, versions 1-2: Reserved (4) | Length (4)
//   Points v1: Reserved (4) | Length (4) | Rank (4) | Count (4)
//     | Count x Rank coordinates (4 each)
//   Points v2: Encoded Size (1) | Rank (4) | Count (size)
//     | Count x Rank coordinates (size each)
//   Hyperslab v1: Reserved (4) | Length (4) | Rank (4) | Blocks (4)
//     | per block: Rank start coordinates (4 each), Rank end coordinates
//   Hyperslab v2: Flags (1) | Length (4) | Rank (4)
//     | Rank x (Start, Stride, Count, Block) (8 each; regular only)
//   Hyperslab v3: Flags (1) | Encoded Size (1) | Rank (4)
//     | regular: Rank x (Start, Stride, Count, Block) (size each)
//     | irregular: Blocks (size) | per block: start and end (size each)
impl Selection {
    /// Parses a serialized selection at the start of `data`.
    pub fn parse(data: &[u8], at: u64, sizes: Sizes) -> Result<Selection> {
        Selection::parse_within(data, at, sizes, u64::MAX)
    }

    /// [`Selection::parse`], refusing with [`Error::LimitsExceeded`] a
    /// selection whose [`Selection::memory_size`] would pass `max_bytes`,
    /// before allocating it (a regular hyperslab of 30 bytes can expand to
    /// 2^20 blocks).
    pub fn parse_within(data: &[u8], at: u64, sizes: Sizes, max_bytes: u64) -> Result<Selection> {
        let mut c = Cursor::new(data, at, sizes);
        let kind = c.u32("selection type")?;
        let version = c.u32("selection version")?;
        match kind {
            SEL_NONE => Ok(Selection::None),
            SEL_ALL => Ok(Selection::All),
            SEL_POINTS => parse_points(&mut c, version, max_bytes),
            SEL_HYPERSLABS => parse_hyperslab(&mut c, version, max_bytes),
            k => Err(c.error(format!(
                "selection type: expected 0 (none), 1 (points), 2 (hyperslab) or 3 (all), found {k}"
            ))),
        }
    }

    /// About how many bytes of memory the selection takes: its vectors of
    /// coordinates and their headers.
    pub fn memory_size(&self) -> u64 {
        match self {
            Selection::All | Selection::None => 0,
            Selection::Points(p) => items_size(p.len() as u64, p.first().map_or(0, Vec::len), 1),
            Selection::Blocks(b) => {
                items_size(b.len() as u64, b.first().map_or(0, |(s, _)| s.len()), 2)
            }
        }
    }
}

/// Memory of `n` items (points, or blocks of `vecs` corners) of `rank`
/// coordinates each: the item, and each vector's header and coordinates.
fn items_size(n: u64, rank: usize, vecs: u64) -> u64 {
    let vec = std::mem::size_of::<Vec<u64>>() as u64;
    let each = vecs.saturating_mul(vec.saturating_add(8u64.saturating_mul(rank as u64)));
    n.saturating_mul(each)
}

/// Refuses `n` items of `rank` coordinates (`vecs` vectors each) past
/// `max_bytes`.
fn check_items(n: u64, rank: usize, vecs: u64, max_bytes: u64) -> Result<()> {
    let bytes = items_size(n, rank, vecs);
    if bytes > max_bytes {
        return Err(Error::LimitsExceeded {
            what: "selection of a region reference",
            requested: bytes,
            limit: max_bytes,
        });
    }
    Ok(())
}

fn rank_of(c: &mut Cursor<'_>) -> Result<usize> {
    let rank = c.u32("selection rank")?;
    if rank == 0 || rank > MAX_RANK {
        return Err(c.error(format!(
            "selection rank: expected 1 to {MAX_RANK}, found {rank}"
        )));
    }
    Ok(rank as usize)
}

/// Reads an unsigned value of `width` (1, 2, 4 or 8) bytes.
fn uint(c: &mut Cursor<'_>, width: u8, what: &'static str) -> Result<u64> {
    match width {
        1 => Ok(u64::from(c.u8(what)?)),
        2 => Ok(u64::from(c.u16(what)?)),
        4 => Ok(u64::from(c.u32(what)?)),
        8 => c.u64(what),
        w => Err(c.error(format!(
            "selection encoded size: expected 1, 2, 4 or 8, found {w}"
        ))),
    }
}

/// Checks that `n` items of `each` bytes can still be in the data, before
/// anything of that size is allocated.
fn check_fits(c: &Cursor<'_>, n: u64, each: u64, what: &str) -> Result<usize> {
    let need = n.checked_mul(each);
    match need {
        Some(b) if b <= c.remaining() as u64 => Ok(n as usize),
        _ => Err(c.error(format!(
            "{what}: {n} of {each} bytes cannot fit in the {} bytes left",
            c.remaining()
        ))),
    }
}

fn parse_points(c: &mut Cursor<'_>, version: u32, max_bytes: u64) -> Result<Selection> {
    let width = match version {
        1 => {
            c.skip(8, "point selection reserved and length")?;
            4
        }
        2 => c.u8("point selection encoded size")?,
        v => {
            return Err(Error::unsupported(format!(
                "point selection version {v} (1 and 2 are known)"
            )))
        }
    };
    let rank = rank_of(c)?;
    let n = uint(c, width, "point count")?;
    let n = check_fits(c, n, rank as u64 * u64::from(width), "points")?;
    check_items(n as u64, rank, 1, max_bytes)?;
    let mut points = Vec::with_capacity(n);
    for _ in 0..n {
        let mut p = Vec::with_capacity(rank);
        for _ in 0..rank {
            p.push(uint(c, width, "point coordinate")?);
        }
        points.push(p);
    }
    Ok(Selection::Points(points))
}

fn parse_hyperslab(c: &mut Cursor<'_>, version: u32, max_bytes: u64) -> Result<Selection> {
    let (flags, width) = match version {
        1 => {
            c.skip(8, "hyperslab selection reserved and length")?;
            (0, 4)
        }
        2 => {
            let flags = c.u8("hyperslab flags")?;
            c.skip(4, "hyperslab selection length")?;
            (flags, 8)
        }
        3 => {
            let flags = c.u8("hyperslab flags")?;
            (flags, c.u8("hyperslab encoded size")?)
        }
        v => {
            return Err(Error::unsupported(format!(
                "hyperslab selection version {v} (1 to 3 are known)"
            )))
        }
    };
    let rank = rank_of(c)?;
    if flags & HYPER_REGULAR != 0 {
        let mut dims = Vec::with_capacity(rank);
        for _ in 0..rank {
            let start = uint(c, width, "hyperslab start")?;
            let stride = uint(c, width, "hyperslab stride")?;
            let count = uint(c, width, "hyperslab count")?;
            let block = uint(c, width, "hyperslab block")?;
            dims.push((start, stride, count, block));
        }
        return expand_regular(c, &dims, max_bytes);
    }
    if version == 2 {
        return Err(c.error("hyperslab selection version 2 without the regular flag"));
    }
    let n = if version == 1 {
        u64::from(c.u32("hyperslab block count")?)
    } else {
        uint(c, width, "hyperslab block count")?
    };
    let n = check_fits(c, n, 2 * rank as u64 * u64::from(width), "hyperslab blocks")?;
    check_items(n as u64, rank, 2, max_bytes)?;
    let mut blocks = Vec::with_capacity(n);
    for _ in 0..n {
        let mut start = Vec::with_capacity(rank);
        for _ in 0..rank {
            start.push(uint(c, width, "hyperslab block start")?);
        }
        let mut end = Vec::with_capacity(rank);
        for _ in 0..rank {
            end.push(uint(c, width, "hyperslab block end")?);
        }
        blocks.push((start, end));
    }
    Ok(Selection::Blocks(blocks))
}

/// The blocks of a regular hyperslab, in C order.
fn expand_regular(
    c: &Cursor<'_>,
    dims: &[(u64, u64, u64, u64)],
    max_bytes: u64,
) -> Result<Selection> {
    let mut total = 1u64;
    for &(_, _, count, block) in dims {
        if block == 0 {
            return Ok(Selection::Blocks(Vec::new()));
        }
        total = total.saturating_mul(count);
    }
    if total > MAX_EXPANDED_BLOCKS {
        return Err(Error::unsupported(format!(
            "a regular hyperslab of {total} blocks (at most {MAX_EXPANDED_BLOCKS} are expanded)"
        )));
    }
    check_items(total, dims.len(), 2, max_bytes)?;
    let mut blocks = Vec::with_capacity(total as usize);
    let mut k = vec![0u64; dims.len()];
    for _ in 0..total {
        let mut start = Vec::with_capacity(dims.len());
        let mut end = Vec::with_capacity(dims.len());
        for (d, &(s, stride, _, block)) in dims.iter().enumerate() {
            let first = k[d]
                .checked_mul(stride)
                .and_then(|o| o.checked_add(s))
                .ok_or_else(|| c.error("hyperslab block start overflows"))?;
            start.push(first);
            end.push(first.saturating_add(block - 1));
        }
        blocks.push((start, end));
        // Next index in C order (last dimension fastest).
        for d in (0..dims.len()).rev() {
            k[d] += 1;
            if k[d] < dims[d].2 {
                break;
            }
            k[d] = 0;
        }
    }
    Ok(Selection::Blocks(blocks))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32s(v: &[u32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn all_none_points_and_irregular_blocks() {
        let p = |d: &[u8]| Selection::parse(d, 0, Sizes::DEFAULT);
        assert_eq!(p(&u32s(&[3, 1, 0, 0])).unwrap(), Selection::All);
        assert_eq!(p(&u32s(&[0, 1, 0, 0])).unwrap(), Selection::None);
        // Points v1: rank 2, two points (4, 5) and (0, 1).
        let pts = u32s(&[1, 1, 0, 0, 2, 2, 4, 5, 0, 1]);
        assert_eq!(
            p(&pts).unwrap(),
            Selection::Points(vec![vec![4, 5], vec![0, 1]])
        );
        // Hyperslab v1: rank 2, one block (1, 2)..(2, 4).
        let hs = u32s(&[2, 1, 0, 0, 2, 1, 1, 2, 2, 4]);
        assert_eq!(
            p(&hs).unwrap(),
            Selection::Blocks(vec![(vec![1, 2], vec![2, 4])])
        );
        // Hyperslab v3, irregular, 1-byte values: rank 1, blocks 0..1, 5..5.
        let mut v3 = u32s(&[2, 3]);
        v3.extend_from_slice(&[0, 1]);
        v3.extend_from_slice(&1u32.to_le_bytes());
        v3.extend_from_slice(&[2, 0, 1, 5, 5]);
        assert_eq!(
            p(&v3).unwrap(),
            Selection::Blocks(vec![(vec![0], vec![1]), (vec![5], vec![5])])
        );
    }

    #[test]
    fn regular_hyperslabs_expand_in_c_order() {
        // v3 regular, 1-byte values, rank 2: rows start 0 stride 2 count 2
        // block 1; columns start 1 stride 3 count 2 block 2.
        let mut d = u32s(&[2, 3]);
        d.extend_from_slice(&[HYPER_REGULAR, 1]);
        d.extend_from_slice(&2u32.to_le_bytes());
        d.extend_from_slice(&[0, 2, 2, 1, 1, 3, 2, 2]);
        let blocks = vec![
            (vec![0, 1], vec![0, 2]),
            (vec![0, 4], vec![0, 5]),
            (vec![2, 1], vec![2, 2]),
            (vec![2, 4], vec![2, 5]),
        ];
        assert_eq!(
            Selection::parse(&d, 0, Sizes::DEFAULT).unwrap(),
            Selection::Blocks(blocks)
        );
    }

    #[test]
    fn a_budget_refuses_an_expansion_before_allocating_it() {
        // v3 regular, 4-byte values, rank 1: 2^20 blocks of one element.
        let mut d = u32s(&[2, 3]);
        d.extend_from_slice(&[HYPER_REGULAR, 4]);
        d.extend_from_slice(&u32s(&[1, 0, 1, 1 << 20, 1]));
        let e = Selection::parse_within(&d, 0, Sizes::DEFAULT, 1 << 20).unwrap_err();
        assert!(matches!(e, Error::LimitsExceeded { .. }), "{e}");
        let all = Selection::parse(&d, 0, Sizes::DEFAULT).unwrap();
        // Two vectors of one coordinate per block.
        assert_eq!(all.memory_size(), (1 << 20) * 2 * (24 + 8));
        let within = Selection::parse_within(&d, 0, Sizes::DEFAULT, all.memory_size()).unwrap();
        assert_eq!(within, all);
    }

    #[test]
    fn hostile_counts_are_errors_not_allocations() {
        // A billion points claimed in 16 bytes.
        let d = u32s(&[1, 1, 0, 0, 3, 1_000_000_000]);
        assert!(Selection::parse(&d, 0, Sizes::DEFAULT).is_err());
        // A regular hyperslab of 2^40 blocks.
        let mut r = u32s(&[2, 3]);
        r.extend_from_slice(&[HYPER_REGULAR, 8]);
        r.extend_from_slice(&1u32.to_le_bytes());
        for v in [0u64, 1, 1 << 40, 1] {
            r.extend_from_slice(&v.to_le_bytes());
        }
        assert!(Selection::parse(&r, 0, Sizes::DEFAULT).is_err());
        // Rank 0, truncated data, unknown type.
        assert!(Selection::parse(&u32s(&[1, 1, 0, 0, 0, 0]), 0, Sizes::DEFAULT).is_err());
        assert!(Selection::parse(&u32s(&[2, 1, 0]), 0, Sizes::DEFAULT).is_err());
        assert!(Selection::parse(&u32s(&[9, 1]), 0, Sizes::DEFAULT).is_err());
    }
}
