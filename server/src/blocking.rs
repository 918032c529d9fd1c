//! Blocking work — SQLite, the embedded engine's calls, password hashing — runs on tokio's
//! blocking threads, never on the workers that answer requests. Left alone, tokio starts
//! another blocking thread whenever all are busy, up to 512: under a burst of page views
//! the server grew to hundreds of threads sharing two cores, each opening a database
//! connection of its own and keeping allocator caches of its own. A lane bounds how many
//! pieces of work of one kind run at once; the rest wait for a permit without holding a
//! thread, first come first served.
//!
//! Reads and writes have separate lanes so that writers queued behind SQLite's write lock
//! never take the permits pages need to read.

use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;
use tokio::task::JoinError;

/// A bound on concurrent blocking work of one kind.
pub struct Lane {
    size: fn() -> usize,
    permits: OnceLock<Arc<Semaphore>>,
}

impl Lane {
    const fn new(size: fn() -> usize) -> Lane {
        Lane {
            size,
            permits: OnceLock::new(),
        }
    }

    fn permits(&self) -> &Arc<Semaphore> {
        self.permits
            .get_or_init(|| Arc::new(Semaphore::new((self.size)())))
    }

    /// Runs `work` on a blocking thread once this lane has room. The permit stays with the
    /// thread, so work whose caller stopped waiting still counts until it ends.
    pub async fn run<T, F>(&'static self, work: F) -> Result<T, JoinError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        // The semaphore is never closed, so a permit always comes; were it closed, the work
        // would still run, unbounded, rather than fail.
        let permit = Arc::clone(self.permits()).acquire_owned().await.ok();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
    }

    /// Permits not in use (for tests).
    pub fn available(&'static self) -> usize {
        self.permits().available_permits()
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

/// Reads of the server's database and calls into the embedded engine: short, mostly CPU
/// in SQLite's page cache, so a few per core keep the cores busy.
pub static READS: Lane = Lane::new(|| (cores() * 4).max(8));

/// Writes of the server's database: they take one connection's lock in turn, so more than
/// two at once only adds threads waiting on it.
pub static WRITES: Lane = Lane::new(|| 2);

/// Password hashing and checking (Argon2): CPU and about 19 MiB of memory each.
pub static HASHING: Lane = Lane::new(|| cores().max(2));

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    static TWO: Lane = Lane::new(|| 2);

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_than_the_lane_allows_run_at_once() {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let (running, most) = (Arc::clone(&running), Arc::clone(&most));
                tokio::spawn(TWO.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
        assert_eq!(TWO.available(), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_whose_caller_left_keeps_its_permit_until_it_ends() {
        static ONE: Lane = Lane::new(|| 1);
        let (started, wait) = std::sync::mpsc::channel();
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        let caller = tokio::spawn(ONE.run(move || {
            started.send(()).unwrap();
            blocked.recv().unwrap();
        }));
        tokio::task::spawn_blocking(move || wait.recv().unwrap())
            .await
            .unwrap();
        caller.abort();
        let _ = caller.await;
        assert_eq!(ONE.available(), 0, "the work still runs");
        release.send(()).unwrap();
        ONE.run(|| ()).await.unwrap();
        assert_eq!(ONE.available(), 1);
    }
}
