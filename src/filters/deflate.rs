//! Deflate (filter id 1): zlib streams, as libhdf5's `H5Z_filter_deflate`
//! writes them (a zlib header, raw deflate data, an Adler-32 trailer).
//!
//! Decoding is bounded: the caller says how many bytes the output may hold at
//! most, and decoding stops with an error as soon as the stream would produce
//! more. A few kilobytes that inflate to gigabytes (a "zip bomb") therefore
//! cost no more memory than a legitimate chunk.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use crate::error::{Error, Result};
use crate::limits::Limits;

/// Inflates the zlib stream `input`, producing at most `max_out` bytes.
///
/// `at` is the absolute file address of the chunk, for errors. Fails with
/// [`Error::Format`] if the stream is corrupt, truncated, or would produce
/// more than `max_out` bytes; with [`Error::LimitsExceeded`] if `max_out`
/// itself is over `limits.max_alloc`. Bytes after the end of the zlib stream
/// are ignored, as zlib's `inflate` does.
pub fn decode(input: &[u8], max_out: usize, at: u64, limits: &Limits) -> Result<Vec<u8>> {
    limits.check_alloc("inflated chunk", max_out as u64)?;
    // One spare byte: if the inflater writes it, the stream is longer than
    // allowed and we stop without growing the buffer.
    let cap = max_out
        .checked_add(1)
        .ok_or_else(|| Error::format(at, "deflate: output bound overflows"))?;
    // Grow the buffer with the output (doubling, up to `cap`) rather than
    // reserving the declared size up front: a stream that stops early, or
    // is corrupt, costs memory in proportion to what it produced.
    let mut out = crate::buf::try_with_capacity(
        cap.min(input.len().saturating_mul(4).max(64 << 10)),
        "inflated chunk",
    )?;
    let mut z = Decompress::new(true);
    loop {
        if out.len() == out.capacity() {
            let grow = out
                .capacity()
                .max(64 << 10)
                .min(cap.saturating_sub(out.capacity()));
            crate::buf::try_reserve(&mut out, grow, "inflated chunk")?;
        }
        let consumed = usize::try_from(z.total_in()).unwrap_or(usize::MAX);
        let rest = input.get(consumed..).unwrap_or(&[]);
        let before_in = z.total_in();
        let before_out = z.total_out();
        let status = z
            .decompress_vec(rest, &mut out, FlushDecompress::Finish)
            .map_err(|e| Error::format(at, format!("deflate: corrupt zlib stream ({e})")))?;
        if out.len() > max_out {
            return Err(Error::format(
                at,
                format!(
                    "deflate: stream inflates to more than the expected {max_out} bytes \
                     (stopped there)"
                ),
            ));
        }
        match status {
            Status::StreamEnd => break,
            Status::Ok | Status::BufError => {
                if z.total_in() == before_in && z.total_out() == before_out {
                    return Err(Error::format(
                        at,
                        format!(
                            "deflate: zlib stream is truncated ({} input bytes, {} bytes \
                             produced, no end-of-stream marker)",
                            input.len(),
                            out.len()
                        ),
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// Inflates only the first `want` bytes of the zlib stream `input` (a
/// chunk of which a read needs the beginning): decoding stops as soon as
/// they are out, so the rest of the stream is neither inflated nor
/// checked. Fails like [`decode`] if the stream is corrupt before that
/// point or ends short of `want` bytes.
pub fn decode_prefix(input: &[u8], want: usize, at: u64, limits: &Limits) -> Result<Vec<u8>> {
    limits.check_alloc("inflated chunk prefix", want as u64)?;
    let mut out = crate::buf::try_with_capacity(want, "inflated chunk prefix")?;
    let mut z = Decompress::new(true);
    while out.len() < want {
        let consumed = usize::try_from(z.total_in()).unwrap_or(usize::MAX);
        let rest = input.get(consumed..).unwrap_or(&[]);
        let before = (z.total_in(), z.total_out());
        let status = z
            .decompress_vec(rest, &mut out, FlushDecompress::None)
            .map_err(|e| Error::format(at, format!("deflate: corrupt zlib stream ({e})")))?;
        let stalled = (z.total_in(), z.total_out()) == before;
        if out.len() < want && (status == Status::StreamEnd || stalled) {
            return Err(Error::format(
                at,
                format!(
                    "deflate: zlib stream ends after {} bytes, the read needs its first {want}",
                    out.len()
                ),
            ));
        }
    }
    Ok(out)
}

/// Inflates the zlib stream `input` straight into `out` (a chunk's place
/// in a read's result: no buffer of its own, no copy), returning how many
/// bytes it produced. A stream producing more than `out` holds is an error,
/// as in [`decode`] (nothing past `out` is written); one producing fewer
/// leaves the rest of `out` as it was, for the caller to refuse.
pub(crate) fn decode_into(input: &[u8], out: &mut [u8], at: u64) -> Result<usize> {
    let mut z = Decompress::new(true);
    loop {
        let consumed = usize::try_from(z.total_in()).unwrap_or(usize::MAX);
        let rest = input.get(consumed..).unwrap_or(&[]);
        let done = usize::try_from(z.total_out()).unwrap_or(usize::MAX);
        let before = (z.total_in(), z.total_out());
        // With `out` full, one spare byte: the stream must end without
        // writing it.
        let mut spare = [0u8; 1];
        let room = match out.get_mut(done..) {
            Some(room) if !room.is_empty() => room,
            _ => &mut spare[..],
        };
        let status = z
            .decompress(rest, room, FlushDecompress::Finish)
            .map_err(|e| Error::format(at, format!("deflate: corrupt zlib stream ({e})")))?;
        let produced = usize::try_from(z.total_out()).unwrap_or(usize::MAX);
        if produced > out.len() {
            return Err(Error::format(
                at,
                format!(
                    "deflate: stream inflates to more than the expected {} bytes \
                     (stopped there)",
                    out.len()
                ),
            ));
        }
        match status {
            Status::StreamEnd => return Ok(produced),
            Status::Ok | Status::BufError => {
                if (z.total_in(), z.total_out()) == before {
                    return Err(Error::format(
                        at,
                        format!(
                            "deflate: zlib stream is truncated ({} input bytes, {produced} bytes \
                             produced, no end-of-stream marker)",
                            input.len()
                        ),
                    ));
                }
            }
        }
    }
}

/// The most bytes a zlib stream of `n` input bytes takes, for any zlib
/// (zlib's `compressBound` is smaller; zlib-ng's quick strategy can expand by
/// about 1/8, plus the header, trailer and block overheads).
pub fn max_encoded_len(n: usize) -> usize {
    n.saturating_add(n / 8).saturating_add(64)
}

/// Deflates `data` into a zlib stream at `level` (0..=9), as libhdf5 would.
pub fn encode(data: &[u8], level: u32) -> Result<Vec<u8>> {
    if level > 9 {
        return Err(Error::invalid(format!(
            "deflate level must be 0..=9, found {level}"
        )));
    }
    let mut z = Compress::new(Compression::new(level), true);
    // zlib's compressBound: enough for incompressible input in one pass.
    let bound = data
        .len()
        .checked_add(data.len() >> 12)
        .and_then(|n| n.checked_add(data.len() >> 14))
        .and_then(|n| n.checked_add(data.len() >> 25))
        .and_then(|n| n.checked_add(64))
        .ok_or_else(|| Error::invalid("deflate: input too large"))?;
    let mut out = Vec::with_capacity(bound);
    loop {
        let consumed = usize::try_from(z.total_in()).unwrap_or(usize::MAX);
        let rest = data.get(consumed..).unwrap_or(&[]);
        let status = z
            .compress_vec(rest, &mut out, FlushCompress::Finish)
            .map_err(|e| Error::invalid(format!("deflate: compression failed ({e})")))?;
        match status {
            Status::StreamEnd => break,
            Status::Ok | Status::BufError => {
                // Out of room: grow and continue.
                out.reserve(out.capacity().max(64));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_decoding_stops_early_and_refuses_short_streams() {
        let data: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i * 7919).to_le_bytes())
            .collect();
        let z = encode(&data, 4).unwrap();
        let limits = Limits::default();
        for want in [1, 4, 1000, 65_537, 400_000, data.len() - 1, data.len()] {
            let got = decode_prefix(&z, want, 0, &limits).unwrap();
            assert!(got.len() >= want, "{want}");
            assert_eq!(&got[..want], &data[..want], "{want}");
        }
        // Stopping early: far less than the whole chunk comes out.
        assert!(decode_prefix(&z, 10, 0, &limits).unwrap().len() < data.len() / 2);
        // A stream ending before the bytes wanted.
        let err = decode_prefix(&z, data.len() + 1, 0x40, &limits).unwrap_err();
        assert!(err.to_string().contains("ends after"), "{err}");
        // A truncated stream that still holds the prefix is enough; one
        // that does not is refused.
        assert_eq!(
            decode_prefix(&z[..z.len() / 2], 8, 0, &limits).unwrap()[..8],
            data[..8]
        );
        let err = decode_prefix(&z[..z.len() / 2], data.len(), 0x40, &limits).unwrap_err();
        assert!(err.to_string().contains("ends after"), "{err}");
        // Garbage.
        assert!(decode_prefix(&[0xff; 64], 10, 0, &limits).is_err());
    }

    #[test]
    fn round_trip_levels() {
        let data: Vec<u8> = (0..10_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for level in 0..=9 {
            let z = encode(&data, level).unwrap();
            let back = decode(&z, data.len(), 0, &Limits::default()).unwrap();
            assert_eq!(back, data, "level {level}");
        }
    }

    #[test]
    fn known_vector_from_zlib() {
        // zlib.compress(b"hello hello hello hello") from CPython (level 6).
        let z = [
            120, 156, 203, 72, 205, 201, 201, 87, 200, 64, 39, 1, 104, 3, 8, 177,
        ];
        let out = decode(&z, 23, 0, &Limits::default()).unwrap();
        assert_eq!(out, b"hello hello hello hello");
    }

    #[test]
    fn bomb_stops_at_bound() {
        // 100 MB of zeros deflates to about 100 kB.
        let big = vec![0u8; 100 << 20];
        let z = encode(&big, 9).unwrap();
        drop(big);
        assert!(z.len() < 200_000);
        let start = std::time::Instant::now();
        let err = decode(&z, 1 << 20, 77, &Limits::default()).unwrap_err();
        match err {
            Error::Format { at, what } => {
                assert_eq!(at, 77);
                assert!(what.contains("more than the expected"), "{what}");
            }
            other => panic!("unexpected {other:?}"),
        }
        // Only ~1 MB is inflated before stopping.
        assert!(start.elapsed().as_secs() < 5);
    }

    #[test]
    fn bound_over_limits() {
        let tight = Limits {
            max_alloc: 1000,
            ..Limits::default()
        };
        assert!(matches!(
            decode(&[0x78, 0x9c], 2000, 0, &tight),
            Err(Error::LimitsExceeded { .. })
        ));
    }

    #[test]
    fn truncated_and_corrupt() {
        let z = encode(b"some bytes to compress, some bytes to compress", 6).unwrap();
        for cut in 0..z.len() - 4 {
            assert!(decode(&z[..cut], 100, 0, &Limits::default()).is_err());
        }
        let mut bad = z.clone();
        bad[0] = 0x12;
        assert!(decode(&bad, 100, 0, &Limits::default()).is_err());
    }

    #[test]
    fn exact_bound_is_fine() {
        let z = encode(&[7u8; 4096], 1).unwrap();
        assert_eq!(
            decode(&z, 4096, 0, &Limits::default()).unwrap(),
            vec![7u8; 4096]
        );
        assert!(decode(&z, 4095, 0, &Limits::default()).is_err());
    }

    #[test]
    fn decoding_into_a_slice_fills_it_exactly_or_fails() {
        let data: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i * 7919 % 1013).to_le_bytes())
            .collect();
        let z = encode(&data, 4).unwrap();
        let mut out = vec![0xaa; data.len()];
        assert_eq!(decode_into(&z, &mut out, 0).unwrap(), data.len());
        assert_eq!(out, data);
        // Bytes after the stream are ignored, as zlib does.
        let mut padded = z.clone();
        padded.extend_from_slice(&[0; 16]);
        assert_eq!(decode_into(&padded, &mut out, 0).unwrap(), data.len());
        // A longer place: the count says how far the stream reached.
        let mut long = vec![0xaa; data.len() + 10];
        assert_eq!(decode_into(&z, &mut long, 0).unwrap(), data.len());
        assert_eq!(&long[data.len()..], &[0xaa; 10]);
        // A shorter one: refused, nothing written past it.
        let mut short = vec![0xaa; data.len() + 1];
        let err = decode_into(&z, &mut short[..data.len() - 1], 0x40).unwrap_err();
        assert!(err.to_string().contains("more than the expected"), "{err}");
        assert_eq!(short[data.len() - 1..], [0xaa, 0xaa]);
        // Truncated and corrupt streams.
        for cut in [0, 2, z.len() / 2, z.len() - 1] {
            assert!(decode_into(&z[..cut], &mut out, 0).is_err(), "cut {cut}");
        }
        let mut bad = z.clone();
        bad[0] = 0x12;
        assert!(decode_into(&bad, &mut out, 0).is_err());
        // The same bytes as decode, for an exactly sized stream too.
        let small = encode(&[7u8; 4096], 1).unwrap();
        let mut four_k = [0u8; 4096];
        assert_eq!(decode_into(&small, &mut four_k, 0).unwrap(), 4096);
        assert_eq!(
            four_k.to_vec(),
            decode(&small, 4096, 0, &Limits::default()).unwrap()
        );
    }

    #[test]
    fn bad_level() {
        assert!(encode(b"x", 10).is_err());
    }
}
