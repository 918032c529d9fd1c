//! How memory is allocated in a server that runs many threads for a long time.
//!
//! With glibc's allocator alone, the load bench's ten-minute soak held its heap in use flat
//! (about 60 MiB) while the memory glibc kept free grew by 30–60 MiB and the resident size
//! with it: freed memory stayed spread between live allocations (tokio's workers, the engine's
//! own runtime and the blocking lanes' threads all allocate and free), `malloc_trim` every
//! five seconds did not give it back, and capping glibc at two arenas only slowed the growth.
//!
//! So the Rust side allocates with jemalloc, which keeps small allocations of one size
//! together and returns pages left empty to the system after a delay; its background thread
//! does that even when the thread that freed them goes quiet. Every binary that links the
//! server (the server itself, its tests and its benchmarks) runs on it, so the figures
//! measured are those of production.
//!
//! The C libraries (SQLite above all) still call glibc's `malloc`. Handing SQLite to jemalloc
//! too (through `SQLITE_CONFIG_MALLOC`, or jemalloc's unprefixed build for every library)
//! made the soak worse: SQLite frees large blocks at a high rate, and jemalloc's freed pages
//! waiting to be returned grew from 9 to 60–100 MiB. glibc serves them, capped at two arenas
//! so that the blocking lanes' many threads do not each get a heap of their own, and with
//! large blocks and the top of its heaps returned as they are freed.
//!
//! SQLite itself is bounded too: every connection (the engine's writer and its pooled
//! readers, the server's own) keeps a page cache that grows to 2 MiB as pages are touched,
//! so over a long run they filled up one after another, in glibc's heaps between other
//! allocations. A process-wide soft limit makes SQLite reuse cached pages instead of
//! allocating more once all its connections together hold that much; a page it dropped is
//! read again from the system's file cache.

use std::sync::Once;

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, which it reads when it starts, before `main`: the background thread
/// that returns unused pages.
#[cfg(not(target_env = "msvc"))]
#[unsafe(export_name = "_rjem_malloc_conf")]
static JEMALLOC_OPTIONS: JemallocOptions = JemallocOptions(c"background_thread:true".as_ptr());

/// A C string jemalloc reads as `const char *`.
#[repr(transparent)]
struct JemallocOptions(*const std::ffi::c_char);

// SAFETY: the pointer is to a string literal, which nothing writes.
unsafe impl Sync for JemallocOptions {}

/// Arenas glibc may create for the C libraries (the main one included).
const GLIBC_ARENAS: i32 = 2;

/// Allocations from this size up get pages of their own, returned when freed. Left alone,
/// glibc raises the bound each time such a block is freed (up to 32 MiB), and SQLite's
/// larger buffers then stay in its heaps between smaller live allocations.
const GLIBC_OWN_PAGES_FROM: i32 = 64 * 1024;

/// Free memory at the top of a glibc heap beyond this goes back to the system.
const GLIBC_KEEP_AT_TOP: i32 = 128 * 1024;

/// What SQLite's connections may hold together (page caches above all) before SQLite reuses
/// cached pages rather than allocate more.
const SQLITE_SOFT_HEAP_LIMIT: i64 = 8 * 1024 * 1024;

/// Sets memory up for the C libraries, once per process (a test that starts many servers
/// asks many times): glibc with two arenas and large blocks and the top of its heaps
/// returned when freed (elsewhere than glibc there is nothing to set), and SQLite's soft
/// heap limit.
pub fn set_up_memory_for_the_c_libraries() {
    static SET: Once = Once::new();
    SET.call_once(|| {
        apply_glibc_settings();
        // SAFETY: takes a number; SQLite keeps the bound process-wide under its own mutex,
        // and a connection allocating at that moment sees the old or the new bound.
        unsafe {
            rusqlite::ffi::sqlite3_soft_heap_limit64(SQLITE_SOFT_HEAP_LIMIT);
        }
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn apply_glibc_settings() {
    // SAFETY: mallopt takes no pointers; the settings apply to allocations from now on. It
    // answers 0 when it refuses, and the C libraries then run with glibc's default.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, GLIBC_ARENAS);
        libc::mallopt(libc::M_MMAP_THRESHOLD, GLIBC_OWN_PAGES_FROM);
        libc::mallopt(libc::M_TRIM_THRESHOLD, GLIBC_KEEP_AT_TOP);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn apply_glibc_settings() {
    let _ = (GLIBC_ARENAS, GLIBC_OWN_PAGES_FROM, GLIBC_KEEP_AT_TOP);
}

/// What jemalloc holds for the Rust side, in bytes (the C libraries' memory is glibc's).
#[derive(Debug, Clone, Copy)]
pub struct AllocatorFigures {
    /// Handed out and not freed yet.
    pub allocated: usize,
    /// Pages holding at least one allocation: `active - allocated` is what fragmentation costs.
    pub active: usize,
    /// Pages jemalloc has in memory: its own metadata and freed pages not yet returned too.
    pub resident: usize,
    /// jemalloc's own bookkeeping.
    pub metadata: usize,
    /// Freed pages it has not returned to the system yet (it does after a delay).
    pub dirty: usize,
}

/// jemalloc's figures now, or `None` when it cannot tell.
pub fn allocator_figures() -> Option<AllocatorFigures> {
    #[cfg(not(target_env = "msvc"))]
    {
        use tikv_jemalloc_ctl::{epoch, stats};
        // jemalloc refreshes its statistics only when the epoch advances.
        epoch::advance().ok()?;
        Some(AllocatorFigures {
            allocated: stats::allocated::read().ok()?,
            active: stats::active::read().ok()?,
            resident: stats::resident::read().ok()?,
            metadata: stats::metadata::read().ok()?,
            dirty: dirty_pages()?.saturating_mul(page_size()),
        })
    }
    #[cfg(target_env = "msvc")]
    None
}

/// Dirty pages over every arena (4096 is jemalloc's "all arenas" index).
#[cfg(not(target_env = "msvc"))]
fn dirty_pages() -> Option<usize> {
    // SAFETY: the name is NUL-terminated and names a `size_t` statistic.
    unsafe { tikv_jemalloc_ctl::raw::read::<usize>(b"stats.arenas.4096.pdirty\0") }.ok()
}

#[cfg(not(target_env = "msvc"))]
fn page_size() -> usize {
    // SAFETY: the name is NUL-terminated and names a `size_t` setting.
    unsafe { tikv_jemalloc_ctl::raw::read::<usize>(b"arenas.page\0") }.unwrap_or(4096)
}
