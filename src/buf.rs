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

use bytemuck::Pod;

/// Buffers at least this large ask for huge pages and are populated at
/// once (a smaller one holds no whole huge page and faults little).
const ADVISE_MIN: usize = 2 << 20;
/// The huge page size on x86-64 and aarch64 Linux.
#[cfg(target_os = "linux")]
const HUGE_PAGE: usize = 2 << 20;

/// `n` zeroed elements, in memory the kernel may back with huge pages,
/// faulted in before it is returned.
pub(crate) fn zeroed_vec<T: Pod>(n: usize) -> Vec<T> {
    let v: Vec<T> = bytemuck::zeroed_vec(n);
    let bytes = n.saturating_mul(std::mem::size_of::<T>());
    if bytes >= ADVISE_MIN {
        advise_huge(v.as_ptr() as usize, bytes);
        populate(v.as_ptr() as usize, bytes);
    }
    v
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
        let big: Vec<u64> = super::zeroed_vec(3 << 20);
        assert_eq!(big.len(), 3 << 20);
        assert!(big.iter().all(|&x| x == 0));
        let small: Vec<f32> = super::zeroed_vec(5);
        assert_eq!(small, vec![0.0; 5]);
    }
}
