//! Keeps a SQLite file's write-ahead log from growing without end while people read.
//!
//! SQLite copies the WAL back into the database on its own after a commit (a passive
//! checkpoint), but it only starts writing the WAL from its beginning again once no reader
//! still uses it. The dashboard reads all the time — pages, live streams, session checks —
//! from pooled connections whose reads overlap, so that moment never comes: under steady
//! browsing the log grew by half a megabyte a second and every read had more of it to search.
//!
//! A keeper watches the log's size from a thread of its own and, once it has grown past a few
//! megabytes, marks a checkpoint as due. The writer, holding its connection's lock after its
//! next write, then runs a truncating checkpoint: SQLite copies the log into the database,
//! waits briefly for readers still on the old log (readers that start once it is copied read
//! the database file instead) and empties it. It is the writer that does it because a
//! checkpoint has to take the write lock, and a separate connection asking for it between the
//! writer's transactions can lose that race for as long as writes keep coming. Other writers
//! wait for it as they wait for any write, so the wait for readers is kept short; a
//! checkpoint that gave up is due again on the keeper's next look.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// How the keeper behaves; [`Default`] is what a server uses.
#[derive(Debug, Clone)]
pub struct WalPolicy {
    /// How often the keeper looks at the log's size.
    pub every: Duration,
    /// The size past which a checkpoint is due: SQLite's own passive checkpoint starts at
    /// about 4 MB (1,000 pages), so below that there is nothing to help with.
    pub above_bytes: u64,
    /// How long a checkpoint waits for readers on the old log (and holds writers back).
    pub reader_patience: Duration,
}

impl Default for WalPolicy {
    fn default() -> Self {
        WalPolicy {
            every: Duration::from_secs(1),
            above_bytes: 4 * 1024 * 1024,
            reader_patience: Duration::from_millis(250),
        }
    }
}

/// Why a keeper could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the thread that keeps the database's write-ahead log: {0}")]
pub struct KeeperError(#[from] std::io::Error);

/// Watches one database's WAL; dropping it stops the watching thread.
#[derive(Debug)]
pub struct WalKeeper {
    due: Arc<AtomicBool>,
    policy: WalPolicy,
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl WalKeeper {
    /// Starts watching the WAL of the database at `database` (a file in WAL mode).
    pub fn watch(database: &Path, policy: WalPolicy) -> Result<WalKeeper, KeeperError> {
        let due = Arc::new(AtomicBool::new(false));
        let wal = wal_path(database);
        let (stop, stopped) = mpsc::channel::<()>();
        let (every, above_bytes) = (policy.every, policy.above_bytes);
        let mark = Arc::clone(&due);
        let thread = std::thread::Builder::new()
            .name("sqlite-wal-keeper".into())
            .spawn(move || loop {
                match stopped.recv_timeout(every) {
                    Err(RecvTimeoutError::Timeout) => {
                        if std::fs::metadata(&wal).is_ok_and(|m| m.len() > above_bytes) {
                            mark.store(true, Ordering::Relaxed);
                        }
                    }
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                }
            })?;
        Ok(WalKeeper {
            due,
            policy,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Runs a truncating checkpoint on `writer` if one is due; call it after a write, with the
    /// writer's lock still held. `writer_patience` is the busy timeout the writer goes back to.
    /// A checkpoint that fails or gives up waiting leaves the log as it was (and is due again
    /// on the next look), so its outcome is only returned, for tests.
    pub fn checkpoint_if_due(
        &self,
        writer: &Connection,
        writer_patience: Duration,
    ) -> Option<rusqlite::Result<Checkpoint>> {
        if !self.due.swap(false, Ordering::Relaxed) {
            return None;
        }
        let outcome = writer
            .busy_timeout(self.policy.reader_patience)
            .and_then(|()| checkpoint(writer));
        let restored = writer.busy_timeout(writer_patience);
        Some(outcome.and_then(|done| restored.map(|()| done)))
    }
}

impl Drop for WalKeeper {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The outcome of one truncating checkpoint: whether it had to give up waiting for readers
/// (`busy`), and the log's frames and those copied into the database before it was emptied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub busy: bool,
    pub log_frames: i64,
    pub copied_frames: i64,
}

/// Copies the WAL into the database and empties it, waiting for readers on the old log as
/// long as `connection`'s busy timeout allows.
pub fn checkpoint(connection: &Connection) -> rusqlite::Result<Checkpoint> {
    connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
        Ok(Checkpoint {
            busy: row.get::<_, i64>(0)? != 0,
            log_frames: row.get(1)?,
            copied_frames: row.get(2)?,
        })
    })
}

/// SQLite's name for a database's write-ahead log.
pub fn wal_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;

    /// Two readers that take turns so that one of them is always inside a read transaction
    /// (each ends its own only after the other has begun a new one), as pooled connections
    /// serving a steady stream of page views do; each holds its snapshot about a millisecond.
    fn overlapping_readers(database: &Path, stop: &Arc<AtomicBool>) -> Vec<JoinHandle<()>> {
        let begun: Arc<[AtomicU64; 2]> = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
        (0..2usize)
            .map(|me| {
                let connection = Connection::open(database).unwrap();
                connection.busy_timeout(Duration::from_secs(5)).unwrap();
                let (stop, begun) = (Arc::clone(stop), Arc::clone(&begun));
                std::thread::spawn(move || {
                    let other = 1 - me;
                    while !stop.load(Ordering::Relaxed) {
                        let seen = begun[other].load(Ordering::Acquire);
                        connection.execute_batch("BEGIN").unwrap();
                        let _: i64 = connection
                            .query_row("SELECT count(*) FROM rows", [], |r| r.get(0))
                            .unwrap();
                        begun[me].fetch_add(1, Ordering::Release);
                        std::thread::sleep(Duration::from_millis(1));
                        while begun[other].load(Ordering::Acquire) == seen
                            && !stop.load(Ordering::Relaxed)
                        {
                            std::thread::yield_now();
                        }
                        connection.execute_batch("COMMIT").unwrap();
                    }
                })
            })
            .collect()
    }

    /// Writes about 24 MB in small transactions while the readers read, checkpointing when
    /// the keeper (if any) says so; the WAL's largest size seen and the checkpoints' outcomes.
    fn largest_wal_while_reading(keeper: Option<WalPolicy>) -> (u64, Vec<Checkpoint>) {
        let folder = tempfile::tempdir().unwrap();
        let database = folder.path().join("keep.sqlite");
        let writer = Connection::open(&database).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                 CREATE TABLE rows (body BLOB NOT NULL);",
            )
            .unwrap();
        writer.busy_timeout(Duration::from_secs(5)).unwrap();
        let keeper = keeper.map(|policy| WalKeeper::watch(&database, policy).unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let readers = overlapping_readers(&database, &stop);
        let wal = wal_path(&database);
        let mut largest = 0;
        let mut checkpoints = Vec::new();
        for _ in 0..1_500 {
            writer
                .execute(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 16)
                     INSERT INTO rows (body) SELECT zeroblob(1000) FROM n",
                    [],
                )
                .unwrap();
            largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
            if let Some(keeper) = &keeper {
                if let Some(done) = keeper.checkpoint_if_due(&writer, Duration::from_secs(5)) {
                    checkpoints.push(done.unwrap());
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        for reader in readers {
            reader.join().unwrap();
        }
        (largest, checkpoints)
    }

    const MB: u64 = 1024 * 1024;

    #[test]
    fn readers_that_never_all_stop_keep_the_log_growing_and_the_keeper_empties_it() {
        // Without a keeper SQLite's own checkpoints cannot start the log over: it holds
        // everything written.
        let (alone, _) = largest_wal_while_reading(None);
        assert!(alone > 16 * MB, "the log reached only {alone} bytes");
        let (kept, checkpoints) = largest_wal_while_reading(Some(WalPolicy {
            every: Duration::from_millis(5),
            above_bytes: MB,
            reader_patience: Duration::from_millis(250),
        }));
        assert!(
            kept < 6 * MB,
            "with the keeper the log reached {kept} bytes; checkpoints: {checkpoints:?}"
        );
        // A truncating checkpoint that finished reports an empty log (it was due because the
        // log was over a megabyte).
        assert!(
            checkpoints.iter().any(|c| !c.busy && c.log_frames == 0),
            "no checkpoint emptied the log: {checkpoints:?}"
        );
    }

    #[test]
    fn a_checkpoint_copies_the_log_into_the_database_and_empties_it() {
        let folder = tempfile::tempdir().unwrap();
        let database = folder.path().join("copy.sqlite");
        let writer = Connection::open(&database).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
                 CREATE TABLE rows (body TEXT NOT NULL);
                 INSERT INTO rows (body) VALUES ('kept');",
            )
            .unwrap();
        assert!(std::fs::metadata(wal_path(&database)).unwrap().len() > 0);
        let done = checkpoint(&Connection::open(&database).unwrap()).unwrap();
        assert!(!done.busy);
        assert_eq!(std::fs::metadata(wal_path(&database)).unwrap().len(), 0);
        // The row is in the database file itself now: a copy of the file alone has it.
        let copy = folder.path().join("copy-of-file.sqlite");
        std::fs::copy(&database, &copy).unwrap();
        let body: String = Connection::open(&copy)
            .unwrap()
            .query_row("SELECT body FROM rows", [], |r| r.get(0))
            .unwrap();
        assert_eq!(body, "kept");
    }
}
