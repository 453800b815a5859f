//! HDF5 filters: deflate, shuffle, fletcher32, LZF.

/// One filter of a pipeline, as the filter pipeline message stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterSpec {
    /// Filter id: 1 deflate, 2 shuffle, 3 fletcher32, 4 szip, 5 nbit,
    /// 6 scaleoffset, 32000 lzf, ...
    pub id: u16,
    /// Name stored in the file, if any.
    pub name: Option<String>,
    /// Flags; bit 0 set means the filter is optional.
    pub flags: u16,
    /// Client data values.
    pub cd_values: Vec<u32>,
}

pub mod deflate;
pub mod fletcher32;
pub mod lzf;
pub mod shuffle;

use crate::error::{Error, Result};
use crate::limits::Limits;

/// Deflate (zlib).
pub const FILTER_DEFLATE: u16 = 1;
/// Byte shuffle.
pub const FILTER_SHUFFLE: u16 = 2;
/// Fletcher-32 checksum.
pub const FILTER_FLETCHER32: u16 = 3;
/// SZIP (not supported).
pub const FILTER_SZIP: u16 = 4;
/// N-bit (not supported).
pub const FILTER_NBIT: u16 = 5;
/// Scale-offset (not supported).
pub const FILTER_SCALEOFFSET: u16 = 6;
/// LZF, h5py's filter.
pub const FILTER_LZF: u16 = 32000;

/// Flags bit 0: the filter is optional (libhdf5 may skip it per chunk).
pub const FLAG_OPTIONAL: u16 = 0x0001;

/// The name of filter `id`: the canonical name for the filters HDF5 defines
/// and LZF, else the name stored in the file, else the name of a well-known
/// registered filter (blosc, lz4, bitshuffle, zstd, ...), else `"unknown"`.
pub fn filter_name(id: u16, stored: Option<&str>) -> String {
    let canonical = match id {
        FILTER_DEFLATE => Some("deflate"),
        FILTER_SHUFFLE => Some("shuffle"),
        FILTER_FLETCHER32 => Some("fletcher32"),
        FILTER_SZIP => Some("szip"),
        FILTER_NBIT => Some("nbit"),
        FILTER_SCALEOFFSET => Some("scaleoffset"),
        FILTER_LZF => Some("lzf"),
        _ => None,
    };
    if let Some(name) = canonical {
        return name.to_string();
    }
    if let Some(name) = stored.filter(|s| !s.is_empty()) {
        return name.to_string();
    }
    // From the HDF Group's registry of third-party filter ids.
    let registered = match id {
        307 => "bzip2",
        32001 => "blosc",
        32004 => "lz4",
        32008 => "bitshuffle",
        32013 => "zfp",
        32015 => "zstd",
        32026 => "blosc2",
        _ => "unknown",
    };
    registered.to_string()
}

/// `filter 32004 (lz4)`: how errors name a filter.
fn describe(f: &FilterSpec) -> String {
    format!("filter {} ({})", f.id, filter_name(f.id, f.name.as_deref()))
}

fn is_skipped(filter_mask: u32, i: usize) -> bool {
    i < 32 && filter_mask & (1u32 << i) != 0
}

/// Undoes a chunk's filter pipeline.
///
/// Same as [`decode_chunk_at`] with the chunk address unknown (errors report
/// address 0; callers that know it should use [`decode_chunk_at`]).
pub fn decode_chunk(
    filters: &[FilterSpec],
    filter_mask: u32,
    data: &[u8],
    expected_len: usize,
    element_size: usize,
    limits: &Limits,
) -> Result<Vec<u8>> {
    decode_chunk_at(
        0,
        filters,
        filter_mask,
        data,
        expected_len,
        element_size,
        limits,
    )
}

/// Undoes a chunk's filter pipeline: the filters are applied in reverse
/// order, skipping filter `i` when bit `i` of `filter_mask` is set.
///
/// * `at`: absolute file address of the chunk, for errors.
/// * `expected_len`: the chunk's size unfiltered (the full chunk, edge chunks
///   included); the result must be exactly this long. Decompressors stop as
///   soon as their output passes what can still shrink to it (the
///   zip-bomb guard).
/// * `element_size`: the dataset's element size, used by shuffle when its
///   client data does not say.
///
/// Unknown or unsupported filters fail with [`Error::Unsupported`] naming id
/// and name (`filter 32004 (lz4)`), unless the filter is optional and the
/// mask skips it for this chunk.
pub fn decode_chunk_at(
    at: u64,
    filters: &[FilterSpec],
    filter_mask: u32,
    data: &[u8],
    expected_len: usize,
    element_size: usize,
    limits: &Limits,
) -> Result<Vec<u8>> {
    limits.check_alloc("decoded chunk", expected_len as u64)?;
    // Undoing filter i gives the data as it was before filter i was applied
    // on writing: the chunk grown by what the filters before it can add
    // (fletcher32 appends 4 bytes; deflate may expand incompressible data a
    // little, which matters when another compressor ran before it). LZF
    // output is never larger than its input.
    let mut bounds = Vec::with_capacity(filters.len());
    let mut size = expected_len;
    for (i, f) in filters.iter().enumerate() {
        bounds.push(size);
        if !is_skipped(filter_mask, i) {
            size = match f.id {
                FILTER_FLETCHER32 => size.saturating_add(4),
                FILTER_DEFLATE => deflate::max_encoded_len(size),
                _ => size,
            };
        }
    }
    let mut buf: Option<Vec<u8>> = None;
    for (i, f) in filters.iter().enumerate().rev() {
        let skipped = is_skipped(filter_mask, i);
        let supported = matches!(
            f.id,
            FILTER_DEFLATE | FILTER_SHUFFLE | FILTER_FLETCHER32 | FILTER_LZF
        );
        if !supported {
            if skipped && f.flags & FLAG_OPTIONAL != 0 {
                continue;
            }
            return Err(Error::unsupported(describe(f)));
        }
        if skipped {
            continue;
        }
        let input: &[u8] = buf.as_deref().unwrap_or(data);
        let max_out = bounds.get(i).copied().unwrap_or(expected_len);
        let out = match f.id {
            FILTER_DEFLATE => deflate::decode(input, max_out, at, limits)?,
            FILTER_LZF => lzf::decode(input, max_out, at, limits)?,
            FILTER_SHUFFLE => {
                let es = shuffle_element_size(f, element_size);
                shuffle::try_decode(input, es)?
            }
            _ => fletcher32::decode(input, at)?,
        };
        buf = Some(out);
    }
    let out = match buf {
        Some(b) => b,
        None => {
            limits.check_alloc("decoded chunk", data.len() as u64)?;
            let mut v = crate::buf::try_with_capacity(data.len(), "decoded chunk")?;
            v.extend_from_slice(data);
            v
        }
    };
    if out.len() != expected_len {
        return Err(Error::format(
            at,
            format!(
                "chunk decodes to {} bytes, expected {expected_len} (filter mask {filter_mask:#x})",
                out.len()
            ),
        ));
    }
    Ok(out)
}

/// The first `want` bytes of a chunk whose full unfiltered size is
/// `expected_len`. A pipeline that is deflate alone (anndata's and h5py's
/// `compression="gzip"`) inflates only that far; any other is decoded whole
/// (shuffle and fletcher32 need every byte). The result is at least `want`
/// bytes long.
#[allow(clippy::too_many_arguments)]
pub fn decode_chunk_prefix_at(
    at: u64,
    filters: &[FilterSpec],
    filter_mask: u32,
    data: &[u8],
    want: usize,
    expected_len: usize,
    element_size: usize,
    limits: &Limits,
) -> Result<Vec<u8>> {
    if let [f] = filters {
        if f.id == FILTER_DEFLATE && !is_skipped(filter_mask, 0) && want < expected_len {
            return deflate::decode_prefix(data, want, at, limits);
        }
    }
    decode_chunk_at(
        at,
        filters,
        filter_mask,
        data,
        expected_len,
        element_size,
        limits,
    )
}

/// Undoes a chunk's filter pipeline into `out`, which must come out full
/// (its length is the chunk's unfiltered size; see [`decode_chunk_at`]). A
/// pipeline that is deflate alone inflates straight into `out`; any other
/// is decoded into a buffer of its own first.
pub(crate) fn decode_chunk_into_at(
    at: u64,
    filters: &[FilterSpec],
    filter_mask: u32,
    data: &[u8],
    out: &mut [u8],
    element_size: usize,
    limits: &Limits,
) -> Result<()> {
    if let [f] = filters {
        if f.id == FILTER_DEFLATE && !is_skipped(filter_mask, 0) {
            let n = deflate::decode_into(data, out, at)?;
            if n != out.len() {
                return Err(Error::format(
                    at,
                    format!(
                        "chunk decodes to {n} bytes, expected {} (filter mask {filter_mask:#x})",
                        out.len()
                    ),
                ));
            }
            return Ok(());
        }
    }
    let decoded = decode_chunk_at(
        at,
        filters,
        filter_mask,
        data,
        out.len(),
        element_size,
        limits,
    )?;
    out.copy_from_slice(&decoded);
    Ok(())
}

/// The element size shuffle uses: `cd_values[0]` as libhdf5 stored it, else
/// the dataset's.
fn shuffle_element_size(f: &FilterSpec, element_size: usize) -> usize {
    match f.cd_values.first() {
        Some(&n) if n > 0 => n as usize,
        _ => element_size,
    }
}

/// A chunk after the filter pipeline, with the filters skipped for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedChunk {
    /// Bytes to store.
    pub bytes: Vec<u8>,
    /// Bit `i` set: filter `i` was skipped (an optional filter that did not
    /// help, as LZF on incompressible data).
    pub filter_mask: u32,
}

/// Applies a filter pipeline to one chunk, in pipeline order.
///
/// Deflate uses `cd_values[0]` as its level (6 if absent). An optional
/// filter that cannot help (LZF on incompressible data) is skipped and its
/// bit set in the returned mask, as libhdf5 does.
pub fn encode_chunk_masked(
    filters: &[FilterSpec],
    data: &[u8],
    element_size: usize,
) -> Result<EncodedChunk> {
    if filters.len() > 32 {
        return Err(Error::invalid(format!(
            "a filter pipeline holds at most 32 filters, found {}",
            filters.len()
        )));
    }
    let mut buf = data.to_vec();
    let mut filter_mask = 0u32;
    for (i, f) in filters.iter().enumerate() {
        buf = match f.id {
            FILTER_DEFLATE => {
                let level = f.cd_values.first().copied().unwrap_or(6);
                deflate::encode(&buf, level)?
            }
            FILTER_SHUFFLE => shuffle::encode(&buf, shuffle_element_size(f, element_size)),
            FILTER_FLETCHER32 => fletcher32::encode(&buf),
            FILTER_LZF => match lzf::encode(&buf) {
                Some(z) => z,
                None if f.flags & FLAG_OPTIONAL != 0 => {
                    filter_mask |= 1 << i;
                    buf
                }
                None => {
                    return Err(Error::invalid(
                        "lzf: data does not compress and the filter is not optional",
                    ))
                }
            },
            _ => return Err(Error::unsupported(describe(f))),
        };
    }
    Ok(EncodedChunk {
        bytes: buf,
        filter_mask,
    })
}

/// Applies a filter pipeline to one chunk, for pipelines where every filter
/// applies (deflate level from `cd_values[0]`).
///
/// Fails with [`Error::InvalidArgument`] if a filter would be skipped for
/// this chunk (the caller then needs the mask: use [`encode_chunk_masked`]).
pub fn encode_chunk(filters: &[FilterSpec], data: &[u8], element_size: usize) -> Result<Vec<u8>> {
    let enc = encode_chunk_masked(filters, data, element_size)?;
    if enc.filter_mask != 0 {
        return Err(Error::invalid(format!(
            "filters skipped for this chunk (mask {:#x}); use encode_chunk_masked",
            enc.filter_mask
        )));
    }
    Ok(enc.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec(id: u16, flags: u16, cd: &[u32]) -> FilterSpec {
        FilterSpec {
            id,
            name: None,
            flags,
            cd_values: cd.to_vec(),
        }
    }

    fn sample(n: usize) -> Vec<u8> {
        (0..n as u32).flat_map(|i| (i / 7).to_le_bytes()).collect()
    }

    #[test]
    fn names() {
        assert_eq!(filter_name(1, Some("zlib")), "deflate");
        assert_eq!(filter_name(32000, None), "lzf");
        assert_eq!(filter_name(32004, None), "lz4");
        assert_eq!(filter_name(32100, Some("mine")), "mine");
        assert_eq!(filter_name(32100, None), "unknown");
    }

    #[test]
    fn tenx_pipeline_round_trip() {
        // 10x: shuffle then gzip 4.
        let p = [spec(2, 1, &[4]), spec(1, 1, &[4])];
        let data = sample(1000);
        let enc = encode_chunk(&p, &data, 4).unwrap();
        assert!(enc.len() < data.len() / 4);
        let dec = decode_chunk(&p, 0, &enc, data.len(), 4, &Limits::default()).unwrap();
        assert_eq!(dec, data);
    }

    #[test]
    fn fletcher_before_deflate_allows_checksum_bytes() {
        // Pipeline [fletcher32, deflate]: inflating yields chunk + 4 bytes.
        let p = [spec(3, 0, &[]), spec(1, 0, &[9])];
        let data = sample(300);
        let enc = encode_chunk(&p, &data, 4).unwrap();
        let dec = decode_chunk(&p, 0, &enc, data.len(), 4, &Limits::default()).unwrap();
        assert_eq!(dec, data);
    }

    #[test]
    fn deflate_after_deflate_allows_the_inner_stream_to_be_larger_than_the_chunk() {
        // Found by the filter_pipeline fuzz target: the inner zlib stream of
        // incompressible data is longer than the chunk; the outer inflate was
        // bounded by the chunk size and refused a valid chunk.
        let p = [spec(1, 0, &[6]), spec(1, 0, &[6])];
        let data = [
            0, 0, 0, 0, 0, 7, 0x49, 0x24, 0x92, 0x49, 0x24, 0x92, 0x49, 0x8a,
        ];
        let enc = encode_chunk(&p, &data, 1).unwrap();
        let dec = decode_chunk(&p, 0, &enc, data.len(), 1, &Limits::default()).unwrap();
        assert_eq!(dec, data);
        // The final size still binds: one byte less is refused.
        assert!(decode_chunk(&p, 0, &enc, data.len() - 1, 1, &Limits::default()).is_err());
    }

    #[test]
    fn mask_skips_filters() {
        let p = [spec(2, 1, &[4]), spec(1, 1, &[6])];
        let data = sample(100);
        // Chunk written with deflate skipped (bit 1): only shuffled.
        let shuffled = shuffle::encode(&data, 4);
        let dec = decode_chunk(&p, 0b10, &shuffled, data.len(), 4, &Limits::default()).unwrap();
        assert_eq!(dec, data);
        // Everything skipped: stored raw.
        let dec = decode_chunk(&p, 0b11, &data, data.len(), 4, &Limits::default()).unwrap();
        assert_eq!(dec, data);
    }

    #[test]
    fn lzf_incompressible_sets_mask() {
        let p = [spec(32000, 1, &[4, 261, 16])];
        let y = [
            255u8, 228, 34, 121, 243, 189, 6, 131, 102, 168, 82, 193, 187, 150, 81, 243,
        ];
        let enc = encode_chunk_masked(&p, &y, 1).unwrap();
        assert_eq!(enc.filter_mask, 1);
        assert_eq!(enc.bytes, y);
        assert!(encode_chunk(&p, &y, 1).is_err());
        let dec = decode_chunk(&p, 1, &y, 16, 1, &Limits::default()).unwrap();
        assert_eq!(dec, y);
    }

    #[test]
    fn unsupported_filters() {
        let lz4 = FilterSpec {
            id: 32004,
            name: Some("lz4".into()),
            flags: 0,
            cd_values: vec![],
        };
        let err = decode_chunk(
            std::slice::from_ref(&lz4),
            0,
            b"x",
            1,
            1,
            &Limits::default(),
        )
        .unwrap_err();
        match err {
            Error::Unsupported { what } => assert_eq!(what, "filter 32004 (lz4)"),
            e => panic!("{e:?}"),
        }
        // Skipped but not optional: still unsupported.
        assert!(decode_chunk(
            std::slice::from_ref(&lz4),
            1,
            b"x",
            1,
            1,
            &Limits::default()
        )
        .is_err());
        // Optional and skipped: fine.
        let opt = FilterSpec { flags: 1, ..lz4 };
        assert_eq!(
            decode_chunk(&[opt], 1, b"x", 1, 1, &Limits::default()).unwrap(),
            b"x"
        );
        let szip = spec(4, 0, &[]);
        match decode_chunk(&[szip], 0, b"x", 1, 1, &Limits::default()).unwrap_err() {
            Error::Unsupported { what } => assert_eq!(what, "filter 4 (szip)"),
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn wrong_length_is_format_error() {
        let p = [spec(1, 0, &[6])];
        let enc = encode_chunk(&p, &[1, 2, 3], 1).unwrap();
        assert!(matches!(
            decode_chunk(&p, 0, &enc, 4, 1, &Limits::default()),
            Err(Error::Format { .. })
        ));
        assert!(matches!(
            decode_chunk(&[], 0, &[1, 2, 3], 4, 1, &Limits::default()),
            Err(Error::Format { .. })
        ));
    }

    #[test]
    fn bomb_through_pipeline() {
        let big = vec![0u8; 100 << 20];
        let z = deflate::encode(&big, 9).unwrap();
        drop(big);
        let p = [spec(2, 1, &[4]), spec(1, 1, &[9])];
        let err = decode_chunk_at(99, &p, 0, &z, 4096, 4, &Limits::default()).unwrap_err();
        assert!(matches!(err, Error::Format { at: 99, .. }), "{err:?}");
    }

    proptest! {
        #[test]
        fn hostile_chunks_never_panic(
            data in proptest::collection::vec(any::<u8>(), 0..300),
            mask in 0u32..8,
            expected in 0usize..2000,
        ) {
            let p = [spec(2, 1, &[4]), spec(32000, 1, &[]), spec(1, 1, &[]), spec(3, 0, &[])];
            for k in 0..p.len() {
                let _ = decode_chunk(&p[k..], mask, &data, expected, 4, &Limits::default());
            }
            let mut z = vec![0x78, 0x9c];
            z.extend_from_slice(&data);
            let _ = decode_chunk(&p[2..3], 0, &z, expected, 4, &Limits::default());
        }

        #[test]
        fn pipelines_round_trip(
            data in proptest::collection::vec(0u8..8, 0..2000),
            es in 1usize..9,
            use_shuffle in any::<bool>(),
            comp in 0u8..3,
            use_fletcher in any::<bool>(),
        ) {
            let mut p = Vec::new();
            if use_shuffle { p.push(spec(2, 1, &[es as u32])); }
            match comp {
                1 => p.push(spec(1, 1, &[5])),
                2 => p.push(spec(32000, 1, &[4, 261, data.len() as u32])),
                _ => {}
            }
            if use_fletcher { p.push(spec(3, 0, &[])); }
            let enc = encode_chunk_masked(&p, &data, es).unwrap();
            let dec = decode_chunk(&p, enc.filter_mask, &enc.bytes, data.len(), es,
                &Limits::default()).unwrap();
            prop_assert_eq!(dec, data);
        }
    }
}
