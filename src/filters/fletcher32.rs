//! Fletcher-32 (filter id 3): HDF5's own checksum, appended to each chunk.
//!
//! The algorithm is libhdf5's `H5_checksum_fletcher32`: the data is read as
//! **big-endian** 16-bit words (a trailing odd byte counts as the high byte of
//! a last word), summed into two 16-bit ones'-complement style accumulators,
//! with the result `sum2 << 16 | sum1`. The filter stores it as a
//! **little-endian** u32 after the data.
//!
//! libhdf5 before 1.6.3 computed a value whose bytes were swapped within each
//! 16-bit half on little-endian machines; `H5Z_filter_fletcher32` still accepts
//! that form on read, and so do we.

use crate::error::{Error, Result};

/// The Fletcher-32 checksum of `data`, as libhdf5 computes it.
pub fn checksum(data: &[u8]) -> u32 {
    let mut sum1: u32 = 0;
    let mut sum2: u32 = 0;
    let mut words = data.chunks_exact(2);
    // 360 words keep both sums below 2^32 between reductions.
    loop {
        let mut n = 0;
        for w in words.by_ref().take(360) {
            sum1 += u32::from(u16::from_be_bytes([w[0], w[1]]));
            sum2 += sum1;
            n += 1;
        }
        if n == 0 {
            break;
        }
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    if let [last] = words.remainder() {
        sum1 += u32::from(*last) << 8;
        sum2 += sum1;
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    (sum2 << 16) | sum1
}

/// Verifies and strips the trailing checksum.
///
/// `at` is the chunk's absolute file address, for errors.
pub fn decode(data: &[u8], at: u64) -> Result<Vec<u8>> {
    let Some(split) = data.len().checked_sub(4) else {
        return Err(Error::format(
            at,
            format!(
                "fletcher32: chunk of {} bytes is too short to hold a checksum",
                data.len()
            ),
        ));
    };
    let (body, tail) = data.split_at(split);
    let stored = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    let computed = checksum(body);
    let b = computed.to_le_bytes();
    let pre_1_6_3 = u32::from_le_bytes([b[1], b[0], b[3], b[2]]);
    if stored != computed && stored != pre_1_6_3 {
        return Err(Error::format(
            at,
            format!(
                "fletcher32: checksum mismatch, stored {stored:#010x}, computed {computed:#010x}"
            ),
        ));
    }
    Ok(body.to_vec())
}

/// Appends the checksum.
pub fn encode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 4);
    out.extend_from_slice(data);
    out.extend_from_slice(&checksum(data).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A straightforward transcription of the definition (sums mod 65535,
    /// big-endian words, odd byte as a high byte), to cross-check the
    /// blocked implementation.
    fn reference(data: &[u8]) -> u32 {
        let (mut s1, mut s2) = (0u64, 0u64);
        for w in data.chunks(2) {
            let v = if w.len() == 2 {
                u64::from(w[0]) << 8 | u64::from(w[1])
            } else {
                u64::from(w[0]) << 8
            };
            s1 = (s1 + v) % 65535;
            s2 = (s2 + s1) % 65535;
        }
        ((s2 as u32) << 16) | s1 as u32
    }

    #[test]
    fn h5py_chunk_vector() {
        // A raw chunk read with `dset.id.read_direct_chunk((0,))` from an
        // h5py 3.16 (HDF5 2.0) file: `create_dataset('f', data=np.arange(8,
        // dtype='<i4'), fletcher32=True)`: 32 data bytes then the checksum.
        let mut raw = Vec::new();
        for i in 0..8i32 {
            raw.extend_from_slice(&i.to_le_bytes());
        }
        raw.extend_from_slice(&[0x00, 0x1c, 0x00, 0xa8]);
        assert_eq!(decode(&raw, 0).unwrap(), raw[..32]);
        assert_eq!(checksum(&raw[..32]), 0xa800_1c00);
        // Odd length: `data=np.arange(7, dtype='u1') + 200, chunks=(7,)`.
        let odd = [200, 201, 202, 203, 204, 205, 206, 0x64, 0x2e, 0x26, 0xeb];
        assert_eq!(decode(&odd, 0).unwrap(), odd[..7]);
    }

    #[test]
    fn mismatch_names_both() {
        let mut c = encode(b"abcdef");
        c[0] ^= 1;
        match decode(&c, 42).unwrap_err() {
            Error::Format { at, what } => {
                assert_eq!(at, 42);
                assert!(
                    what.contains("stored") && what.contains("computed"),
                    "{what}"
                );
            }
            e => panic!("{e:?}"),
        }
        assert!(decode(&[1, 2, 3], 0).is_err());
    }

    #[test]
    fn accepts_pre_1_6_3_byte_order() {
        let body = b"hello world!";
        let c = checksum(body).to_le_bytes();
        let mut raw = body.to_vec();
        raw.extend_from_slice(&[c[1], c[0], c[3], c[2]]);
        assert_eq!(decode(&raw, 0).unwrap(), body);
    }

    proptest! {
        #[test]
        fn matches_reference(data in proptest::collection::vec(any::<u8>(), 0..3000)) {
            // Equal modulo 65535 (0xffff and 0 are the same residue).
            let a = checksum(&data);
            let b = reference(&data);
            prop_assert_eq!((a & 0xffff) % 65535, b & 0xffff);
            prop_assert_eq!((a >> 16) % 65535, b >> 16);
        }

        #[test]
        fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            prop_assert_eq!(decode(&encode(&data), 0).unwrap(), data);
        }
    }
}
