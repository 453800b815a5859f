//! Reading a fuzz input: a few header fields, then the bytes of a file.
//!
//! Missing header bytes read as zero, so every input is valid; the header
//! layouts are documented at each target and built by [`Header`] for seeds.

use h5sparse::format::{Address, FileView, Sizes};
use h5sparse::Limits;

/// The limits every target opens files with: [`Limits::strict`] with a
/// 16 MiB allocation budget (libFuzzer's default RSS limit is 2 GiB).
pub fn limits() -> Limits {
    Limits {
        max_alloc: 16 << 20,
        ..Limits::strict()
    }
}

/// Little-endian fields from the front of an input.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// Starts at the front of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        out
    }

    /// One byte (0 past the end).
    pub fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }

    /// A little-endian u16.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.take())
    }

    /// A little-endian u32.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }

    /// A little-endian u64.
    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }

    /// An address (all ones is [`Address::UNDEFINED`]).
    pub fn address(&mut self) -> Address {
        Address(self.u64())
    }

    /// [`Sizes`] from one byte: offset width in bits 0-1, length width in
    /// bits 2-3 (0 and 3 mean 8, 1 means 4, 2 means 2).
    pub fn sizes(&mut self) -> Sizes {
        let b = self.u8();
        let width = |v: u8| match v & 3 {
            1 => 4,
            2 => 2,
            _ => 8,
        };
        Sizes {
            offset: width(b),
            length: width(b >> 2),
        }
    }

    /// Everything not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.data
    }

    /// The rest as a file (base address 0) with the given sizes.
    pub fn view(&self, sizes: Sizes) -> FileView<'a> {
        FileView::new(self.data, sizes, 0)
    }
}

/// Builds an input for [`Input`] (seeds and tests).
#[derive(Default)]
pub struct Header(pub Vec<u8>);

impl Header {
    /// An empty header.
    pub fn new() -> Self {
        Header(Vec::new())
    }

    /// Appends one byte.
    pub fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }

    /// Appends a little-endian u16.
    pub fn u16(mut self, v: u16) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// Appends a little-endian u32.
    pub fn u32(mut self, v: u32) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// Appends a little-endian u64.
    pub fn u64(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// Appends the byte [`Input::sizes`] reads back as `s`.
    pub fn sizes(self, s: Sizes) -> Self {
        let code = |w: u8| match w {
            4 => 1,
            2 => 2,
            _ => 0,
        };
        self.u8(code(s.offset) | code(s.length) << 2)
    }

    /// The header followed by `file`.
    pub fn then(mut self, file: &[u8]) -> Vec<u8> {
        self.0.extend_from_slice(file);
        self.0
    }
}
