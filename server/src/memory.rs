//! How the allocator is set up for a server that runs many threads for a long time.
//!
//! glibc's allocator gives each thread that meets contention a heap (arena) of its own, up to
//! eight per core, and memory freed in one arena serves only the threads attached to it. The
//! server runs tokio's workers, the engine's own runtime and the blocking lanes' threads
//! (SQLite, the engine's calls), which come and go; in the load bench's ten-minute soak the
//! heap in use stayed near 60 MiB while the memory kept free grew by 60 MiB and the resident
//! size with it, and `malloc_trim` every five seconds did not change that. Two arenas bound
//! how many heaps keep free memory, at the price of threads sharing an arena's lock.

use std::sync::Once;

/// Arenas glibc may create (the main one included).
const ARENAS: i32 = 2;

/// Caps glibc's arenas, once per process (a test that starts many servers sets it once).
/// Elsewhere than glibc there is nothing to set.
pub fn limit_allocator_arenas() {
    static SET: Once = Once::new();
    SET.call_once(set_arena_max);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_arena_max() {
    // SAFETY: mallopt takes no pointers; M_ARENA_MAX only bounds arenas created from now on.
    // It answers 0 when it refuses, and the server then runs with glibc's default.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_arena_max() {
    let _ = ARENAS;
}
