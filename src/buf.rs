//! Output buffers for large reads.
//!
//! Filling a fresh multi-megabyte vector costs mostly page faults: one per
//! 4 KiB page as the copy first touches it. On Linux the kernel can back
//! such memory with 2 MiB transparent huge pages instead, when asked with
//! `madvise(MADV_HUGEPAGE)` (numpy asks for its large arrays too; the
//! system setting is usually `madvise`), which makes filling it several
//! times faster. Elsewhere the vector is simply zeroed.

use bytemuck::Pod;

/// Buffers at least this large ask for huge pages.
const HUGE_PAGE_MIN: usize = 4 << 20;
/// The huge page size on x86-64 and aarch64 Linux.
#[cfg(target_os = "linux")]
const HUGE_PAGE: usize = 2 << 20;

/// `n` zeroed elements, in memory the kernel may back with huge pages.
pub(crate) fn zeroed_vec<T: Pod>(n: usize) -> Vec<T> {
    let v: Vec<T> = bytemuck::zeroed_vec(n);
    let bytes = n.saturating_mul(std::mem::size_of::<T>());
    if bytes >= HUGE_PAGE_MIN {
        advise_huge(v.as_ptr() as usize, bytes);
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

#[cfg(not(target_os = "linux"))]
fn advise_huge(_addr: usize, _len: usize) {}

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
