//! Serialized dataspace selections (what a dataset region reference stores
//! in the global heap after the dataset's address).
//!
//! Header layout (see [`Input`]): `sizes (1) | selection bytes`. A parsed
//! selection must be consistent: every point and block corner has the
//! same rank (1 to 32), an irregular selection holds no more coordinates
//! than its bytes can encode, and a regular hyperslab expands to at most
//! [`MAX_EXPANDED_BLOCKS`] blocks. Parsing within a memory budget (what
//! the read layer does, with what is left of `max_alloc`) gives the same
//! selection when it fits, [`Error::LimitsExceeded`] otherwise.

use h5sparse::format::selection::{Selection, MAX_EXPANDED_BLOCKS};
use h5sparse::Error;

use super::input::{Header, Input};

/// Budget of the bounded parse: 64 kB, so that the fuzzer reaches both
/// sides of it.
const BUDGET: u64 = 64 << 10;

/// `sizes | selection` → [`Selection::parse_within`] a budget, then
/// [`Selection::parse`].
pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let sizes = input.sizes();
    let bytes = input.rest();
    let bounded = Selection::parse_within(bytes, 0, sizes, BUDGET);
    if let Ok(s) = &bounded {
        assert!(
            s.memory_size() <= BUDGET,
            "{} bytes within a budget of {BUDGET}",
            s.memory_size()
        );
    }
    let Ok(sel) = Selection::parse(bytes, 0, sizes) else {
        assert!(
            bounded.is_err(),
            "the bounded parse accepted what the unbounded refused"
        );
        return;
    };
    match &bounded {
        Ok(s) => assert_eq!(s, &sel, "bounded and unbounded parses differ"),
        Err(Error::LimitsExceeded { .. }) => assert!(
            sel.memory_size() > BUDGET,
            "refused within {BUDGET} bytes a selection of {}",
            sel.memory_size()
        ),
        Err(e) => panic!("the bounded parse failed ({e}) where the unbounded succeeded"),
    }
    let ranks_ok = |r: usize, first: &mut Option<usize>| {
        assert!((1..=32).contains(&r), "rank {r}");
        assert_eq!(
            *first.get_or_insert(r),
            r,
            "ranks differ within one selection"
        );
    };
    let mut rank = None;
    match &sel {
        Selection::All | Selection::None => {}
        Selection::Points(points) => {
            // Every coordinate takes at least one byte.
            let coords: usize = points.iter().map(Vec::len).sum();
            assert!(
                coords <= bytes.len(),
                "{coords} coordinates from {} bytes",
                bytes.len()
            );
            for p in points {
                ranks_ok(p.len(), &mut rank);
            }
        }
        Selection::Blocks(blocks) => {
            assert!(
                blocks.len() as u64 <= MAX_EXPANDED_BLOCKS.max(bytes.len() as u64),
                "{} blocks from {} bytes",
                blocks.len(),
                bytes.len()
            );
            for (start, end) in blocks {
                ranks_ok(start.len(), &mut rank);
                ranks_ok(end.len(), &mut rank);
            }
        }
    }
}

/// Seeds: a valid encoding of each kind and version (the target's header
/// included), for 8- and 4-byte file sizes.
pub fn seeds() -> Vec<Vec<u8>> {
    let u32s = |v: &[u32]| -> Vec<u8> { v.iter().flat_map(|x| x.to_le_bytes()).collect() };
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    // None and all, versions 1 and 2: type | version | reserved | length.
    for (t, v) in [(0, 1), (0, 2), (3, 1), (3, 2)] {
        bodies.push(u32s(&[t, v, 0, 0]));
    }
    // Points v1: rank 2, three points (4-byte coordinates).
    bodies.push(u32s(&[1, 1, 0, 0, 2, 3, 0, 1, 4, 5, 7, 2]));
    // Points v2 with 1-, 2-, 4- and 8-byte coordinates: rank 2, two points.
    for width in [1u8, 2, 4, 8] {
        let mut b = u32s(&[1, 2]);
        b.push(width);
        b.extend_from_slice(&2u32.to_le_bytes());
        for v in [2u64, 1, 3, 0, 9] {
            b.extend_from_slice(&v.to_le_bytes()[..width as usize]);
        }
        bodies.push(b);
    }
    // Hyperslab v1 (irregular): rank 2, two blocks.
    bodies.push(u32s(&[2, 1, 0, 0, 2, 2, 0, 0, 1, 1, 3, 2, 4, 5]));
    // Hyperslab v2 (regular, 8-byte values): rank 2.
    {
        let mut b = u32s(&[2, 2]);
        b.push(1);
        b.extend_from_slice(&64u32.to_le_bytes());
        b.extend_from_slice(&2u32.to_le_bytes());
        for v in [0u64, 2, 3, 1, 1, 4, 2, 2] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        bodies.push(b);
    }
    // Hyperslab v3, regular and irregular, 1-, 2-, 4- and 8-byte values.
    for width in [1u8, 2, 4, 8] {
        let put = |b: &mut Vec<u8>, v: u64| b.extend_from_slice(&v.to_le_bytes()[..width as usize]);
        let mut r = u32s(&[2, 3]);
        r.extend_from_slice(&[1, width]);
        r.extend_from_slice(&2u32.to_le_bytes());
        for v in [0u64, 2, 2, 1, 1, 3, 2, 2] {
            put(&mut r, v);
        }
        bodies.push(r);
        let mut i = u32s(&[2, 3]);
        i.extend_from_slice(&[0, width]);
        i.extend_from_slice(&1u32.to_le_bytes());
        put(&mut i, 3);
        for v in [0u64, 1, 5, 5, 7, 9] {
            put(&mut i, v);
        }
        bodies.push(i);
    }
    let mut out = Vec::new();
    for sizes_byte in [0u8, 0b0101] {
        for b in &bodies {
            out.push(Header::new().u8(sizes_byte).then(b));
        }
    }
    out
}
