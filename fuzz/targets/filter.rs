//! One target per filter decoder, plus the whole pipeline.
//!
//! Each decodes the input as a stored chunk (bounded by the declared size)
//! and also encodes it as plain data and checks that decoding gives it back.

use h5sparse::filters::{self, deflate, fletcher32, lzf, shuffle, FilterSpec};

use super::input::{limits, Header, Input};

/// Largest input the round-trip half encodes (keeps each run fast).
const ROUNDTRIP_MAX: usize = 1 << 16;

/// `max out (4) | zlib stream` → [`deflate::decode`], whose output may not
/// exceed `max out`; then deflate round trip of the stream bytes.
pub fn deflate(data: &[u8]) {
    let mut input = Input::new(data);
    let max_out = (input.u32() as usize) & 0x00ff_ffff;
    let level = input.u8() % 10;
    let body = input.rest();
    let limits = limits();
    let whole = deflate::decode(body, max_out, 0, &limits);
    if let Ok(out) = &whole {
        assert!(
            out.len() <= max_out,
            "inflated to {} bytes, the bound was {max_out}",
            out.len()
        );
    }
    // The prefix decoder (reads of a chunk's first bytes): bounded by what
    // it was asked for, and agreeing with the whole decode where both work.
    let want = max_out / 2;
    if let Ok(prefix) = deflate::decode_prefix(body, want, 0, &limits) {
        assert!(
            prefix.len() >= want && prefix.len() <= want.max(1) * 2,
            "prefix decode of {want} bytes produced {}",
            prefix.len()
        );
        if let Ok(out) = &whole {
            assert_eq!(
                &prefix[..want],
                &out[..want],
                "prefix differs from the whole"
            );
        }
    }
    if body.len() <= ROUNDTRIP_MAX {
        let z = deflate::encode(body, u32::from(level)).expect("deflate encodes");
        let back = deflate::decode(&z, body.len(), 0, &limits).expect("own stream decodes");
        assert_eq!(back, body, "deflate round trip");
        let half = deflate::decode_prefix(&z, body.len() / 2, 0, &limits)
            .expect("own stream's prefix decodes");
        assert_eq!(
            &half[..body.len() / 2],
            &body[..body.len() / 2],
            "prefix round trip"
        );
        if !body.is_empty() {
            // One byte less than the real size must be refused, not truncated.
            assert!(
                deflate::decode(&z, body.len() - 1, 0, &limits).is_err(),
                "a stream inflating past its bound was accepted"
            );
        }
    }
}

/// `max out (4) | lzf stream` → [`lzf::decode`] (bounded), then an LZF
/// round trip of the stream bytes.
pub fn lzf(data: &[u8]) {
    let mut input = Input::new(data);
    let max_out = (input.u32() as usize) & 0x00ff_ffff;
    let body = input.rest();
    let limits = limits();
    if let Ok(out) = lzf::decode(body, max_out, 0, &limits) {
        assert!(
            out.len() <= max_out,
            "LZF decoded to {} bytes, the bound was {max_out}",
            out.len()
        );
    }
    if body.len() <= ROUNDTRIP_MAX {
        if let Some(z) = lzf::encode(body) {
            let back = lzf::decode(&z, body.len(), 0, &limits).expect("own LZF decodes");
            assert_eq!(back, body, "LZF round trip");
        }
    }
}

/// `element size (1) | data` → [`shuffle::decode`] and [`shuffle::encode`],
/// which must be inverse permutations of the same length.
pub fn shuffle(data: &[u8]) {
    let mut input = Input::new(data);
    let es = usize::from(input.u8());
    let body = input.rest();
    let d = shuffle::decode(body, es);
    assert_eq!(d.len(), body.len(), "unshuffle changed the length");
    assert_eq!(shuffle::encode(&d, es), body, "shuffle ∘ unshuffle");
    assert_eq!(
        shuffle::decode(&shuffle::encode(body, es), es),
        body,
        "unshuffle ∘ shuffle"
    );
}

/// The chunk bytes → [`fletcher32::decode`]; accepted data is the input
/// minus its checksum; then a round trip.
pub fn fletcher32(data: &[u8]) {
    if let Ok(out) = fletcher32::decode(data, 0) {
        assert_eq!(
            &data[..data.len() - 4],
            &out[..],
            "fletcher32 changed the data"
        );
    }
    let enc = fletcher32::encode(data);
    let back = fletcher32::decode(&enc, 0).expect("own checksum verifies");
    assert_eq!(back, data, "fletcher32 round trip");
}

/// Most filters a pipeline input describes.
pub const MAX_FILTERS: usize = 4;

/// `n filters (1) | per filter [id (2) | flags (2) | n cd values (1) | cd
/// values (4 each)] | filter mask (4) | expected length (4) | element size
/// (1) | chunk bytes` → [`filters::decode_chunk`]; an accepted chunk has
/// exactly the expected length. Then, when the pipeline encodes the chunk
/// bytes as plain data, decoding gives them back.
pub fn pipeline(data: &[u8]) {
    let mut input = Input::new(data);
    let n = usize::from(input.u8()) % (MAX_FILTERS + 1);
    let mut specs = Vec::with_capacity(n);
    for _ in 0..n {
        let id = input.u16();
        let flags = input.u16();
        let ncd = usize::from(input.u8()) % 5;
        let cd_values = (0..ncd).map(|_| input.u32()).collect();
        specs.push(FilterSpec {
            id,
            name: None,
            flags,
            cd_values,
        });
    }
    let mask = input.u32();
    let expected = (input.u32() as usize) & 0x00ff_ffff;
    let es = usize::from(input.u8());
    let body = input.rest();
    let limits = limits();
    if let Ok(out) = filters::decode_chunk(&specs, mask, body, expected, es, &limits) {
        assert_eq!(out.len(), expected, "decoded chunk of the wrong length");
    }
    if body.len() <= ROUNDTRIP_MAX {
        if let Ok(enc) = filters::encode_chunk_masked(&specs, body, es.max(1)) {
            let back = filters::decode_chunk(
                &specs,
                enc.filter_mask,
                &enc.bytes,
                body.len(),
                es.max(1),
                &limits,
            )
            .unwrap_or_else(|e| panic!("own encoding does not decode: {e}"));
            assert_eq!(back, body, "pipeline round trip");
        }
    }
}

/// The header [`pipeline`] reads, for seeds.
pub fn pipeline_header(specs: &[FilterSpec], mask: u32, expected: u32, es: u8) -> Header {
    let mut h = Header::new().u8(specs.len() as u8);
    for f in specs {
        h = h.u16(f.id).u16(f.flags).u8(f.cd_values.len().min(4) as u8);
        for &v in f.cd_values.iter().take(4) {
            h = h.u32(v);
        }
    }
    h.u32(mask).u32(expected).u8(es)
}
