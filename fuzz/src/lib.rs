//! What every fuzz target shares: an allocator that fails an allocation that
//! would take one block over [`MAX_BLOCK`] or all live blocks over [`MAX_LIVE`].
//! A failed allocation aborts ("memory allocation of N bytes failed"), which
//! libFuzzer reports as a crash with its input. libFuzzer's own
//! `-malloc_limit_mb` needs a sanitizer's allocator; the targets run without
//! one (promscope has no `unsafe`, and drawing the dashboard under
//! AddressSanitizer takes more than twice as long).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The largest block one input may allocate: a length read from the input
/// and trusted would ask for more.
pub const MAX_BLOCK: usize = 64 << 20;

/// The most all live blocks may take: an input is at most a few KiB, so
/// anything near this grows with something other than what was sent.
pub const MAX_LIVE: usize = 1 << 30;

/// [`System`], failing what would break [`MAX_BLOCK`] or [`MAX_LIVE`].
pub struct Bounded;

static LIVE: AtomicUsize = AtomicUsize::new(0);

impl Bounded {
    /// Whether `size` more bytes may be taken; takes them if so.
    fn take(size: usize) -> bool {
        if size > MAX_BLOCK {
            return false;
        }
        let before = LIVE.fetch_add(size, Ordering::Relaxed);
        if before + size > MAX_LIVE {
            LIVE.fetch_sub(size, Ordering::Relaxed);
            return false;
        }
        true
    }

    fn give_back(size: usize) {
        LIVE.fetch_sub(size, Ordering::Relaxed);
    }
}

// SAFETY: every call is passed on to `System` unchanged, or fails with null
// before reaching it, which `GlobalAlloc` allows.
unsafe impl GlobalAlloc for Bounded {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !Self::take(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's guarantees are passed on.
        let ptr = unsafe { System.alloc(layout) };
        if ptr.is_null() {
            Self::give_back(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !Self::take(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's guarantees are passed on.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if ptr.is_null() {
            Self::give_back(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's guarantees are passed on.
        unsafe { System.dealloc(ptr, layout) };
        Self::give_back(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if new_size > old && !Self::take(new_size - old) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's guarantees are passed on.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        match (new.is_null(), new_size > old) {
            (true, true) => Self::give_back(new_size - old),
            (false, false) => Self::give_back(old - new_size),
            _ => {}
        }
        new
    }
}

/// A fuzz target running `promscope::fuzzing::$name` under [`Bounded`].
#[macro_export]
macro_rules! target {
    ($name:ident) => {
        #[global_allocator]
        static ALLOCATOR: $crate::Bounded = $crate::Bounded;

        libfuzzer_sys::fuzz_target!(|input: &[u8]| promscope::fuzzing::$name(input));
    };
}
