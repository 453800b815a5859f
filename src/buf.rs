//! Output buffers for large reads.
//!
//! Filling a fresh multi-megabyte vector costs mostly page faults: one per
//! 4 KiB page as the copy first touches it, each an exception into the
//! kernel that then zeroes the page. On Linux two pieces of advice cut
//! that, measured on the benchmark's 1000-row blocks (two 4 MB vectors per
//! block, which glibc's allocator gives back to the system between blocks,
//! so every block starts on fresh pages; bench/RESULTS.md, fourth run):
//! `madvise(MADV_HUGEPAGE)` lets the kernel back the whole 2 MiB pages
//! inside the buffer with huge pages (numpy asks for its large arrays too;
//! the system setting is usually `madvise`), and
//! `madvise(MADV_POPULATE_WRITE)` (Linux 5.14) faults every page in with
//! one call instead of one exception per page. Together they took the
//! process's CPU time for the blocks from 90 to 40 ms per pass. Memory that
//! is already resident (reused by the allocator) is left as it is; the
//! advice never changes contents. Elsewhere the vector is simply zeroed.
//!
//! Every allocation whose size comes from a file goes through the fallible
//! helpers here: a size within [`Limits::max_alloc`](crate::Limits) can still
//! be more than the process may have (an address-space limit, a small
//! machine), and the system refusing it must be an
//! [`Error::OutOfMemory`] naming the object, never an abort.

use std::alloc::Layout;

use bytemuck::Pod;

use crate::error::{Error, Result};

/// Buffers at least this large ask for huge pages and are populated at
/// once (a smaller one holds no whole huge page and faults little).
const ADVISE_MIN: usize = 2 << 20;
/// The huge page size on x86-64 and aarch64 Linux.
#[cfg(target_os = "linux")]
const HUGE_PAGE: usize = 2 << 20;

/// The error for an allocation of `n` elements of `T` the system refused.
pub(crate) fn out_of_memory<T>(what: &'static str, n: usize) -> Error {
    Error::OutOfMemory {
        what,
        bytes: (n as u64).saturating_mul(std::mem::size_of::<T>() as u64),
    }
}

/// `n` zeroed elements, in memory the kernel may back with huge pages,
/// faulted in before it is returned; an allocation the system refuses is an
/// [`Error::OutOfMemory`] naming `what`.
pub(crate) fn try_zeroed_vec<T: Pod>(n: usize, what: &'static str) -> Result<Vec<T>> {
    let size = std::mem::size_of::<T>();
    if n == 0 || size == 0 {
        return Ok(bytemuck::zeroed_vec(n));
    }
    let layout = Layout::array::<T>(n).map_err(|_| out_of_memory::<T>(what, n))?;
    // SAFETY: `layout` has a non-zero size (n > 0, size > 0).
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<T>();
    if ptr.is_null() {
        return Err(out_of_memory::<T>(what, n));
    }
    // SAFETY: `ptr` comes from the global allocator with the layout of `n`
    // elements of `T` (so capacity `n`), and all-zero bytes are a valid `T`
    // (`Pod` implies `Zeroable`), so all `n` elements are initialised.
    let v = unsafe { Vec::from_raw_parts(ptr, n, n) };
    let bytes = n * size;
    if bytes >= ADVISE_MIN {
        advise_huge(v.as_ptr() as usize, bytes);
        populate(v.as_ptr() as usize, bytes);
    }
    Ok(v)
}

/// An empty vector with room for `n` elements, or [`Error::OutOfMemory`].
pub(crate) fn try_with_capacity<T>(n: usize, what: &'static str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| out_of_memory::<T>(what, n))?;
    Ok(v)
}

/// Makes room in `v` for `additional` more elements, or
/// [`Error::OutOfMemory`].
pub(crate) fn try_reserve<T>(v: &mut Vec<T>, additional: usize, what: &'static str) -> Result<()> {
    v.try_reserve_exact(additional)
        .map_err(|_| out_of_memory::<T>(what, v.len().saturating_add(additional)))
}

/// `bytes` as a `String` (invalid UTF-8 replaced, as
/// [`String::from_utf8_lossy`]), allocated fallibly.
pub(crate) fn try_string_lossy(bytes: &[u8], what: &'static str) -> Result<String> {
    match String::from_utf8_lossy(bytes) {
        std::borrow::Cow::Owned(s) => Ok(s),
        std::borrow::Cow::Borrowed(s) => {
            let mut out = String::new();
            out.try_reserve_exact(s.len())
                .map_err(|_| out_of_memory::<u8>(what, s.len()))?;
            out.push_str(s);
            Ok(out)
        }
    }
}

#[cfg(target_os = "linux")]
fn advise_huge(addr: usize, len: usize) {
    // Only whole huge pages inside the allocation.
    let start = addr.next_multiple_of(HUGE_PAGE);
    let end = (addr + len) / HUGE_PAGE * HUGE_PAGE;
    if end > start {
        // SAFETY: [start, end) lies inside the live allocation just made;
        // MADV_HUGEPAGE is advice about how to back it and never changes
        // its contents. A failure (e.g. no THP support) is harmless.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

/// Faults in the pages of `[addr, addr + len)` for writing, in one call.
#[cfg(target_os = "linux")]
fn populate(addr: usize, len: usize) {
    // madvise needs a page-aligned start; whole pages inside the buffer.
    let start = addr.next_multiple_of(PAGE);
    let end = (addr + len) / PAGE * PAGE;
    if end > start {
        // SAFETY: [start, end) lies inside the live allocation just made.
        // MADV_POPULATE_WRITE only faults pages in (as writing them would)
        // and never changes contents; on kernels before 5.14 it fails with
        // EINVAL and the pages fault in on first write as before.
        unsafe {
            libc::madvise(
                start as *mut libc::c_void,
                end - start,
                libc::MADV_POPULATE_WRITE,
            );
        }
    }
}

/// The base page size on x86-64 and aarch64 Linux (a larger real page
/// size only makes the populated range a little short).
#[cfg(target_os = "linux")]
const PAGE: usize = 4096;

#[cfg(not(target_os = "linux"))]
fn advise_huge(_addr: usize, _len: usize) {}

#[cfg(not(target_os = "linux"))]
fn populate(_addr: usize, _len: usize) {}

#[cfg(test)]
mod tests {
    #[test]
    fn large_and_small_buffers_are_zeroed() {
        let big: Vec<u64> = super::try_zeroed_vec(3 << 20, "test").unwrap();
        assert_eq!(big.len(), 3 << 20);
        assert!(big.iter().all(|&x| x == 0));
        let small: Vec<f32> = super::try_zeroed_vec(5, "test").unwrap();
        assert_eq!(small, vec![0.0; 5]);
        let empty: Vec<u16> = super::try_zeroed_vec(0, "test").unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn an_impossible_allocation_is_an_error_naming_it() {
        // More than any address space: the allocator refuses it.
        let e = super::try_zeroed_vec::<u8>(usize::MAX / 2, "huge read").unwrap_err();
        assert!(
            matches!(
                e,
                crate::Error::OutOfMemory {
                    what: "huge read",
                    ..
                }
            ),
            "{e}"
        );
        let e = super::try_with_capacity::<u64>(usize::MAX / 16, "table").unwrap_err();
        assert!(e.to_string().contains("table"), "{e}");
    }
}
