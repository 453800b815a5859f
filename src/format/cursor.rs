//! A bounds-checked little-endian reader over a slice of the file.

use super::{Address, Pages, Sizes};
use crate::error::{Error, Result};

/// Bytes a paged cursor fetches first (and at least, on each growth).
const FIRST_WINDOW: usize = 4096;

/// Reads little-endian fields from a slice of the file, knowing the file's
/// offset and length widths. Every read is bounds-checked and errors carry the
/// absolute file address of the failed read.
///
/// A cursor from [`Cursor::paged`] reads a file range by range: it starts
/// with a small window and fetches a larger one from the same origin when a
/// read needs bytes past it, so parsers see the rest of the file as if it
/// were in memory.
#[derive(Clone)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    /// Absolute file address of `data[0]`, for error messages.
    origin: u64,
    sizes: Sizes,
    /// The source a paged cursor grows from.
    pages: Option<&'a dyn Pages>,
}

impl std::fmt::Debug for Cursor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cursor")
            .field("origin", &self.origin)
            .field("pos", &self.pos)
            .field("window", &self.data.len())
            .field("paged", &self.pages.is_some())
            .finish()
    }
}

impl<'a> Cursor<'a> {
    /// A cursor over `data`, whose first byte sits at absolute file address
    /// `origin`.
    pub fn new(data: &'a [u8], origin: u64, sizes: Sizes) -> Self {
        Cursor {
            data,
            pos: 0,
            origin,
            sizes,
            pages: None,
        }
    }

    /// A cursor from absolute position `origin` to the end of a paged file,
    /// fetching as it reads.
    pub fn paged(pages: &'a dyn Pages, origin: u64, sizes: Sizes) -> Result<Self> {
        let left = pages.len().saturating_sub(origin);
        let first = left.min(FIRST_WINDOW as u64) as usize;
        let data = pages.pinned(origin, first)?;
        Ok(Cursor {
            data: &data[..clip(data.len(), left)],
            pos: 0,
            origin,
            sizes,
            pages: Some(pages),
        })
    }

    /// Bytes from the cursor's start to the end of the file.
    fn total(&self) -> usize {
        match self.pages {
            Some(p) => clip(usize::MAX, p.len().saturating_sub(self.origin)),
            None => self.data.len(),
        }
    }

    /// Makes the window cover `end` bytes from the cursor's start, when
    /// the file has them (a paged cursor fetches a larger window).
    fn cover(&mut self, end: usize) -> Result<()> {
        if end <= self.data.len() {
            return Ok(());
        }
        if let Some(p) = self.pages {
            let total = self.total();
            if end <= total {
                let want = end.max(self.data.len().saturating_mul(2)).min(total);
                let data = p.pinned(self.origin, want)?;
                self.data = &data[..clip(data.len(), total as u64)];
            }
        }
        Ok(())
    }

    /// The file's offset/length widths.
    pub fn sizes(&self) -> Sizes {
        self.sizes
    }

    /// Absolute file address of the next byte to be read.
    pub fn at(&self) -> u64 {
        self.origin.saturating_add(self.pos as u64)
    }

    /// Position relative to the start of this cursor.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left (for a paged cursor, to the end of the file).
    pub fn remaining(&self) -> usize {
        self.total() - self.pos
    }

    /// The unread bytes, without consuming them (for a paged cursor, those
    /// fetched so far).
    pub fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }

    /// All bytes of the cursor, read or not (for a paged cursor, from its
    /// start to the end of what it fetched: at least everything read).
    pub fn all(&self) -> &'a [u8] {
        self.data
    }

    /// A [`Error::Format`] at the current position.
    pub fn error(&self, what: impl Into<String>) -> Error {
        Error::format(self.at(), what)
    }

    /// Consumes `n` bytes.
    pub fn read_bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.error(format!(
                "{what}: expected {n} bytes, only {} remain",
                self.remaining()
            )));
        }
        self.cover(self.pos + n)?;
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize, what: &str) -> Result<()> {
        self.read_bytes(n, what).map(|_| ())
    }

    /// Moves to `pos` relative to the start of the cursor.
    pub fn seek(&mut self, pos: usize, what: &str) -> Result<()> {
        if pos > self.total() {
            return Err(self.error(format!(
                "{what}: position {pos} is past the end ({} bytes)",
                self.total()
            )));
        }
        self.cover(pos)?;
        self.pos = pos;
        Ok(())
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let b = self.read_bytes(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    /// Reads one byte.
    pub fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }

    /// Reads a little-endian u16.
    pub fn u16(&mut self, what: &str) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    /// Reads a little-endian u32.
    pub fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    /// Reads a little-endian u64.
    pub fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// Reads a little-endian unsigned integer of `width` bytes (0..=8).
    pub fn uint(&mut self, width: usize, what: &str) -> Result<u64> {
        if width > 8 {
            return Err(Error::unsupported(format!(
                "{what}: {width}-byte integer field (at most 8 supported)"
            )));
        }
        let b = self.read_bytes(width, what)?;
        let mut w = [0u8; 8];
        w[..width].copy_from_slice(b);
        Ok(u64::from_le_bytes(w))
    }

    /// Reads a file address (`sizes.offset` bytes). All-ones is
    /// [`Address::UNDEFINED`].
    pub fn address(&mut self, what: &str) -> Result<Address> {
        let width = usize::from(self.sizes.offset);
        let v = self.uint(width, what)?;
        Ok(Address::from_raw(v, width))
    }

    /// Reads a length field (`sizes.length` bytes).
    pub fn length(&mut self, what: &str) -> Result<u64> {
        self.uint(usize::from(self.sizes.length), what)
    }

    /// Checks a 4-byte signature such as `b"OHDR"`.
    pub fn signature(&mut self, expected: &[u8; 4], what: &str) -> Result<()> {
        let at = self.at();
        let got = self.array::<4>(what)?;
        if &got != expected {
            return Err(Error::format(
                at,
                format!(
                    "{what}: expected signature {:?}, found {:?}",
                    String::from_utf8_lossy(expected),
                    String::from_utf8_lossy(&got)
                ),
            ));
        }
        Ok(())
    }

    /// Reads a NUL-terminated string, consuming the NUL.
    pub fn cstr(&mut self, what: &str) -> Result<&'a [u8]> {
        loop {
            let rest = self.rest();
            if let Some(n) = rest.iter().position(|&b| b == 0) {
                self.pos += n + 1;
                return Ok(&rest[..n]);
            }
            if self.data.len() >= self.total() {
                return Err(self.error(format!("{what}: string is not NUL-terminated")));
            }
            self.cover(self.data.len() + 1)?;
        }
    }
}

/// `n`, at most `limit`.
fn clip(n: usize, limit: u64) -> usize {
    usize::try_from(limit).map_or(n, |l| n.min(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_bounds() {
        let sizes = Sizes {
            offset: 4,
            length: 2,
        };
        let bytes = [1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 7, 0, b'a', 0];
        let mut c = Cursor::new(&bytes, 100, sizes);
        assert_eq!(c.address("a").unwrap(), Address(1));
        assert!(c.address("b").unwrap().is_undefined());
        assert_eq!(c.length("l").unwrap(), 7);
        assert_eq!(c.cstr("s").unwrap(), b"a");
        let err = c.u8("past end").unwrap_err();
        match err {
            Error::Format { at, .. } => assert_eq!(at, 112),
            other => panic!("unexpected {other:?}"),
        }
    }
}
