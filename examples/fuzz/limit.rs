//! A global allocator with a cap on live bytes.

// An input that asks for terabytes then aborts the worker (a finding)
// instead of driving a shared machine into swap.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator with a cap on live bytes.
pub struct Capped;

/// Bytes allocated and not yet freed.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// The cap (bytes); the default leaves room for several developers.
pub static MAX: AtomicUsize = AtomicUsize::new(2 << 30);

// SAFETY: every call is forwarded to `System` with the same layout; the
// counter only decides whether to forward an allocation at all.
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size()
            > MAX.load(Ordering::Relaxed)
        {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            return std::ptr::null_mut();
        }
        // SAFETY: same layout as given to us.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let grow = new_size.saturating_sub(layout.size());
        if LIVE.fetch_add(grow, Ordering::Relaxed) + grow > MAX.load(Ordering::Relaxed) {
            LIVE.fetch_sub(grow, Ordering::Relaxed);
            return std::ptr::null_mut();
        }
        // SAFETY: `ptr` came from `System` with `layout`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            LIVE.fetch_sub(grow, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(layout.size().saturating_sub(new_size), Ordering::Relaxed);
        }
        p
    }
}
