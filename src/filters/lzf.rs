//! LZF (filter id 32000), the compressor h5py registers (`lzf_filter.c`,
//! wrapping Marc Lehmann's liblzf).
//!
//! Format (liblzf `lzf_d.c`): a sequence of items, each starting with a
//! control byte `ctrl`:
//!
//! ```text
//! ctrl < 0x20:  literal run   ctrl+1 bytes copied from the input
//! ctrl >= 0x20: back reference
//!     len  = ctrl >> 5                       (1..=6, or 7: len += next byte)
//!     off  = ((ctrl & 0x1f) << 8 | next byte) + 1
//!     copy len + 2 bytes from `off` bytes back in the output (may overlap)
//! ```
//!
//! h5py's filter stores `cd_values = [filter revision, liblzf version, chunk
//! bytes]`; the third is only a buffer-size guess. When compression does not
//! fit in the input's size the filter *fails*; being optional, libhdf5 then
//! stores that chunk uncompressed and sets its filter-mask bit. The pipeline
//! in [`super`] mirrors both halves: [`encode`] returns `None` for such data
//! and decoding honours the mask.

use crate::error::{Error, Result};
use crate::limits::Limits;

/// Longest literal run one control byte can describe.
const MAX_LIT: usize = 1 << 5;
/// Farthest back reference.
const MAX_OFF: usize = 1 << 13;
/// Longest back reference: 7 + 255 + 2.
const MAX_REF: usize = 264;
/// log2 of the compressor's hash table size.
const HLOG: u32 = 14;

/// Decompresses `input`, producing at most `max_out` bytes.
///
/// `at` is the chunk's absolute file address, for errors.
pub fn decode(input: &[u8], max_out: usize, at: u64, limits: &Limits) -> Result<Vec<u8>> {
    // Output can be at most ~264/2 times the input; don't reserve more than
    // either bound allows.
    let reserve = max_out.min(input.len().saturating_mul(MAX_REF / 2));
    limits.check_alloc("LZF-decoded chunk", reserve as u64)?;
    let mut out: Vec<u8> = crate::buf::try_with_capacity(reserve, "LZF-decoded chunk")?;
    let too_big = || {
        Error::format(
            at,
            format!("lzf: data decompresses to more than the expected {max_out} bytes"),
        )
    };
    let mut ip = 0usize;
    while let Some(&ctrl) = input.get(ip) {
        ip += 1;
        let ctrl = usize::from(ctrl);
        if ctrl < MAX_LIT {
            let n = ctrl + 1;
            let lit = input.get(ip..ip + n).ok_or_else(|| {
                Error::format(
                    at,
                    format!(
                        "lzf: literal run of {n} bytes at input offset {} runs past the {} \
                         input bytes",
                        ip - 1,
                        input.len()
                    ),
                )
            })?;
            if out.len() + n > max_out {
                return Err(too_big());
            }
            out.extend_from_slice(lit);
            ip += n;
        } else {
            let item = ip - 1;
            let truncated = || {
                Error::format(
                    at,
                    format!("lzf: back reference at input offset {item} is truncated"),
                )
            };
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(ip).ok_or_else(truncated)?);
                ip += 1;
            }
            let low = usize::from(*input.get(ip).ok_or_else(truncated)?);
            ip += 1;
            let off = ((ctrl & 0x1f) << 8 | low) + 1;
            let n = len + 2;
            if off > out.len() {
                return Err(Error::format(
                    at,
                    format!(
                        "lzf: back reference {off} bytes back, only {} bytes decoded so far",
                        out.len()
                    ),
                ));
            }
            if out.len() + n > max_out {
                return Err(too_big());
            }
            let start = out.len() - off;
            // Byte by byte: the source may overlap what is being written.
            for k in 0..n {
                let b = out[start + k];
                out.push(b);
            }
        }
    }
    Ok(out)
}

/// Compresses `data`; `None` when the result would be larger than the input
/// (liblzf's `lzf_compress` returning 0 with an output buffer the size of
/// the input, which h5py's filter turns into a skipped filter).
pub fn encode(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() + data.len() / MAX_LIT + 1);
    let mut table = vec![usize::MAX; 1 << HLOG];
    let mut lit_start = 0usize;
    let mut ip = 0usize;
    let hash = |p: usize| -> usize {
        let v = u32::from(data[p]) << 16 | u32::from(data[p + 1]) << 8 | u32::from(data[p + 2]);
        (v.wrapping_mul(0x9E37_79B1) >> (32 - HLOG)) as usize
    };
    while ip + 2 < data.len() {
        let h = hash(ip);
        let cand = table[h];
        table[h] = ip;
        if cand < ip && ip - cand <= MAX_OFF && data[cand..cand + 3] == data[ip..ip + 3] {
            let max = (data.len() - ip).min(MAX_REF);
            let mut len = 3;
            while len < max && data[cand + len] == data[ip + len] {
                len += 1;
            }
            flush_literals(&mut out, &data[lit_start..ip]);
            let off = ip - cand - 1;
            let l = len - 2;
            if l < 7 {
                out.push(((l << 5) | (off >> 8)) as u8);
            } else {
                out.push(((7 << 5) | (off >> 8)) as u8);
                out.push((l - 7) as u8);
            }
            out.push((off & 0xff) as u8);
            // Index the positions inside the match so later data can refer
            // to them.
            let end = ip + len;
            let mut p = ip + 1;
            while p < end && p + 2 < data.len() {
                table[hash(p)] = p;
                p += 1;
            }
            ip = end;
            lit_start = ip;
        } else {
            ip += 1;
        }
    }
    flush_literals(&mut out, &data[lit_start..]);
    (out.len() <= data.len() && !data.is_empty()).then_some(out)
}

fn flush_literals(out: &mut Vec<u8>, mut lit: &[u8]) {
    while !lit.is_empty() {
        let n = lit.len().min(MAX_LIT);
        out.push((n - 1) as u8);
        out.extend_from_slice(&lit[..n]);
        lit = &lit[n..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(input: &[u8], max: usize) -> Result<Vec<u8>> {
        decode(input, max, 0, &Limits::default())
    }

    #[test]
    fn h5py_vectors() {
        // `dset.id.read_direct_chunk((0,))` of h5py 3.16 datasets made with
        // compression='lzf' (filter cd_values (4, 261, chunk bytes)).
        // 1) np.array([i // 3 for i in range(64)], dtype='<u2')
        let raw = b"\x01\x00\x00@\x00\x00\x01`\x01\x00\x02`\x01\x00\x03`\x01\x00\x04`\x01\x00\
\x05`\x01\x00\x06`\x01\x00\x07`\x01\x00\x08`\x01\x00\t`\x01\x00\n`\x01\x00\x0b`\x01\x00\x0c`\
\x01\x00\r`\x01\x00\x0e`\x01\x00\x0f`\x01\x00\x10`\x01\x00\x11`\x01\x00\x12`\x01\x00\x13`\x01\
\x00\x14`\x01\x01\x15\x00";
        let expected: Vec<u8> = (0..64u16).flat_map(|i| (i / 3).to_le_bytes()).collect();
        assert_eq!(dec(raw, 128).unwrap(), expected);
        // 2) a byte string with repeats.
        let raw = b"\x03abca\xe0\x11\x02\x05 hello\xe0\x04\x05\x04world\xe0\x01\x05\x01ld";
        let expected = b"abcabcabcabcabcabcabcabcabcabc hello hello hello world world world";
        assert_eq!(dec(raw, expected.len()).unwrap(), expected);
        // Bound one short of the real size fails.
        assert!(dec(raw, expected.len() - 1).is_err());
    }

    #[test]
    fn incompressible_is_none() {
        // h5py stored this 16-byte random chunk raw with filter_mask 1.
        let y = [
            255u8, 228, 34, 121, 243, 189, 6, 131, 102, 168, 82, 193, 187, 150, 81, 243,
        ];
        assert_eq!(encode(&y), None);
        assert_eq!(encode(&[]), None);
    }

    #[test]
    fn corrupt_inputs_error() {
        assert!(dec(&[0x05, 1, 2], 100).is_err()); // literal past end
        assert!(dec(&[0x20], 100).is_err()); // truncated back reference
        assert!(dec(&[0xe0], 100).is_err()); // truncated long reference
        assert!(dec(&[0x00, 7, 0x20, 0x05], 100).is_err()); // ref before start
        assert_eq!(dec(&[0x00, 7, 0x20, 0x00], 100).unwrap(), [7, 7, 7, 7]);
    }

    #[test]
    fn long_runs() {
        let data = vec![3u8; 100_000];
        let z = encode(&data).unwrap();
        assert!(z.len() < 1500);
        assert_eq!(dec(&z, data.len()).unwrap(), data);
    }

    proptest! {
        #[test]
        fn round_trip(data in proptest::collection::vec(0u8..4, 0..3000)) {
            if let Some(z) = encode(&data) {
                prop_assert_eq!(dec(&z, data.len()).unwrap(), data);
            }
        }

        #[test]
        fn round_trip_any(data in proptest::collection::vec(any::<u8>(), 0..500)) {
            let mut doubled = data.clone();
            doubled.extend_from_slice(&data);
            if let Some(z) = encode(&doubled) {
                prop_assert_eq!(dec(&z, doubled.len()).unwrap(), doubled);
            }
        }

        #[test]
        fn decode_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = dec(&data, 1000);
        }
    }
}
