//! Shuffle (filter id 2): byte transposition by element size.
//!
//! Encoding gathers byte 0 of every element, then byte 1 of every element,
//! and so on, which groups the slowly varying high bytes together for the
//! compressor that follows. As in libhdf5's `H5Z_filter_shuffle`:
//! * an element size of 0 or 1, or fewer than two whole elements, leaves the
//!   buffer unchanged;
//! * trailing bytes that do not form a whole element are copied unchanged
//!   after the shuffled part.

/// Shuffles `data` by `element_size`.
pub fn encode(data: &[u8], element_size: usize) -> Vec<u8> {
    let Some(n) = whole_elements(data.len(), element_size) else {
        return data.to_vec();
    };
    let mut out = vec![0u8; data.len()];
    let body = n * element_size;
    for (e, elem) in data[..body].chunks_exact(element_size).enumerate() {
        for (b, &byte) in elem.iter().enumerate() {
            out[b * n + e] = byte;
        }
    }
    out[body..].copy_from_slice(&data[body..]);
    out
}

/// Undoes [`encode`].
pub fn decode(data: &[u8], element_size: usize) -> Vec<u8> {
    let mut out = vec![0u8; data.len()];
    unshuffle_into(data, element_size, &mut out);
    out
}

/// [`decode`], its output allocated fallibly (the read path: the size
/// comes from a file).
pub(crate) fn try_decode(data: &[u8], element_size: usize) -> crate::Result<Vec<u8>> {
    let mut out = crate::buf::try_zeroed_vec::<u8>(data.len(), "unshuffled chunk")?;
    unshuffle_into(data, element_size, &mut out);
    Ok(out)
}

/// Undoes [`encode`] into `out` (as long as `data`).
fn unshuffle_into(data: &[u8], element_size: usize, out: &mut [u8]) {
    let Some(n) = whole_elements(data.len(), element_size) else {
        out.copy_from_slice(data);
        return;
    };
    let body = n * element_size;
    for (b, plane) in data[..body].chunks_exact(n).enumerate() {
        for (e, &byte) in plane.iter().enumerate() {
            out[e * element_size + b] = byte;
        }
    }
    out[body..].copy_from_slice(&data[body..]);
}

/// Number of whole elements when shuffling does something, else `None`.
fn whole_elements(len: usize, element_size: usize) -> Option<usize> {
    if element_size <= 1 {
        return None;
    }
    let n = len / element_size;
    (n > 1).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_vector() {
        // Three little-endian u32s 1, 2, 3 plus two trailing bytes.
        let data = [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xaa, 0xbb];
        let s = encode(&data, 4);
        assert_eq!(s, [1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xaa, 0xbb]);
        assert_eq!(decode(&s, 4), data);
    }

    #[test]
    fn degenerate_sizes_are_identity() {
        let data = [9u8, 8, 7];
        assert_eq!(encode(&data, 0), data);
        assert_eq!(encode(&data, 1), data);
        assert_eq!(encode(&data, 2), data); // one whole element
        assert_eq!(decode(&data, 8), data);
    }

    proptest! {
        #[test]
        fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..600), es in 0usize..20) {
            prop_assert_eq!(decode(&encode(&data, es), es), data);
        }
    }
}
