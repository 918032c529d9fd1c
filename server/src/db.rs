//! The server's SQLite file: one connection behind a mutex for writes, and read-only
//! connections for reads, all used from blocking threads. In WAL mode a reader sees the last
//! committed transaction without waiting for a write in progress, so checking a session does
//! not queue behind a durable audit append.
//!
//! The file is shared with the embedded engine (its own tables, its own connection); WAL lets
//! both read while one writes. Schema changes are numbered migrations applied at open.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use engine::store::wal_keeper::{WalKeeper, WalPolicy};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database connection is poisoned by an earlier panic")]
    Poisoned,
    #[error("cannot encode or decode a stored value: {0}")]
    Codec(String),
    #[error("the database task was cancelled: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error(transparent)]
    WalKeeper(#[from] engine::store::wal_keeper::KeeperError),
}

/// Migrations, in order. Append only: a released migration never changes.
const MIGRATIONS: &[&str] = &[
    // 1: server sessions (tower-sessions records, JSON encoded).
    "CREATE TABLE server_sessions (
         id TEXT PRIMARY KEY,
         record TEXT NOT NULL,
         expires_unix INTEGER NOT NULL
     );
     CREATE INDEX server_sessions_expiry ON server_sessions (expires_unix);",
    // 2: local-mode users (argon2id PHC strings; roles as a comma-separated list).
    "CREATE TABLE local_users (
         username TEXT PRIMARY KEY,
         password_hash TEXT NOT NULL,
         roles TEXT NOT NULL,
         created_unix INTEGER NOT NULL,
         updated_unix INTEGER NOT NULL
     );",
    // 3: a stable subject (`sub`) per local user, so a user deleted and re-created under the
    //    same name is someone else to audit records and sessions; and local refresh tokens,
    //    stored only as SHA-256 hashes, gone with their user.
    "ALTER TABLE local_users ADD COLUMN subject TEXT;
     UPDATE local_users SET subject = lower(hex(randomblob(16))) WHERE subject IS NULL;
     CREATE UNIQUE INDEX local_users_subject ON local_users (subject);
     CREATE TABLE local_refresh_tokens (
         token_hash TEXT PRIMARY KEY,
         username TEXT NOT NULL REFERENCES local_users (username) ON DELETE CASCADE,
         expires_unix INTEGER NOT NULL
     );
     CREATE INDEX local_refresh_tokens_user ON local_refresh_tokens (username);",
    // 4: the audit log, a hash chain (see audit::chain). The head is kept apart from the
    //    records so removing the newest ones shows. Triggers make the table append-only for
    //    the application; a person editing the file can drop them, which `audit verify` finds.
    "CREATE TABLE audit_log (
         seq INTEGER PRIMARY KEY,
         at_ms INTEGER NOT NULL,
         actor TEXT NOT NULL,
         roles TEXT NOT NULL,
         action TEXT NOT NULL,
         target TEXT NOT NULL,
         outcome TEXT NOT NULL,
         request_id TEXT NOT NULL,
         source_ip TEXT NOT NULL,
         details TEXT NOT NULL,
         prev_hash TEXT NOT NULL,
         hash TEXT NOT NULL
     );
     CREATE INDEX audit_log_actor ON audit_log (actor, seq);
     CREATE INDEX audit_log_action ON audit_log (action, seq);
     CREATE INDEX audit_log_at ON audit_log (at_ms);
     CREATE TABLE audit_head (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         seq INTEGER NOT NULL,
         hash TEXT NOT NULL
     );
     CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
     CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    // 5: what several Gatehouse processes on this file must agree on (see shared_state):
    //    approvals counted towards a quorum, one row per approver and waiting task, and failed
    //    sign-in attempts per username and per client address.
    "CREATE TABLE approval_votes (
         execution TEXT NOT NULL,
         scheduled_event_id INTEGER NOT NULL,
         voter TEXT NOT NULL,
         comment TEXT NOT NULL,
         at_ms INTEGER NOT NULL,
         PRIMARY KEY (execution, scheduled_event_id, voter)
     );
     CREATE TABLE signin_failures (
         key TEXT PRIMARY KEY,
         count INTEGER NOT NULL,
         last_ms INTEGER NOT NULL
     );",
];

/// Idle read-only connections kept for the next read.
const KEPT_READERS: usize = 8;

/// How long the writer waits for another connection's write (the embedded engine's, in
/// local mode).
const WRITER_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Clone, Debug)]
pub struct Database {
    connection: Arc<Mutex<Connection>>,
    /// `None` for an in-memory database, which only its own connection can see.
    readers: Option<Arc<Readers>>,
    /// Says when the WAL, which the readers' overlapping reads keep SQLite from starting
    /// over, is due to be emptied by the writer (`None` in memory). In local mode the engine
    /// watches the same file too; whichever writer comes first empties it.
    wal_keeper: Option<Arc<WalKeeper>>,
}

#[derive(Debug)]
struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    fn take(&self) -> Result<Connection, DbError> {
        if let Some(connection) = self.idle.lock().map_err(|_| DbError::Poisoned)?.pop() {
            return Ok(connection);
        }
        let connection = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Readers wait only while SQLite recovers or resets the WAL, never for a writer.
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(connection)
    }

    fn give_back(&self, connection: Connection) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < KEPT_READERS {
                idle.push(connection);
            }
        }
    }
}

impl Database {
    /// Opens (creating if needed) the file, switches it to WAL and applies migrations.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let connection = Connection::open(path)?;
        let readers = Readers {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        };
        let mut database = Self::prepare(connection, Some(Arc::new(readers)))?;
        database.wal_keeper = Some(Arc::new(WalKeeper::watch(path, WalPolicy::default())?));
        Ok(database)
    }

    /// A private in-memory database, for tests.
    pub fn in_memory() -> Result<Self, DbError> {
        Self::prepare(Connection::open_in_memory()?, None)
    }

    fn prepare(mut connection: Connection, readers: Option<Arc<Readers>>) -> Result<Self, DbError> {
        // NORMAL is durable in WAL mode except for the last transactions before a power cut;
        // FULL makes every commit survive that too, and audit records need it.
        connection.busy_timeout(WRITER_PATIENCE)?;
        connection.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             CREATE TABLE IF NOT EXISTS server_schema_version (version INTEGER NOT NULL);",
        )?;
        // Immediate: two processes starting on one file must not both read "not applied".
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let applied: i64 = transaction.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM server_schema_version",
            [],
            |row| row.get(0),
        )?;
        for (version, migration) in (1i64..).zip(MIGRATIONS.iter()) {
            if version > applied {
                transaction.execute_batch(migration)?;
                transaction.execute(
                    "INSERT INTO server_schema_version (version) VALUES (?1)",
                    [version],
                )?;
            }
        }
        transaction.commit()?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
            readers,
            wal_keeper: None,
        })
    }

    /// Runs `work` with the connection on a blocking thread.
    pub async fn call<T, F>(&self, work: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        let keeper = self.wal_keeper.clone();
        crate::blocking::WRITES
            .run(move || {
                let mut guard = connection.lock().map_err(|_| DbError::Poisoned)?;
                let answer = work(&mut guard);
                if let Some(keeper) = keeper {
                    // A checkpoint that gave up changes nothing for this write's caller: it is
                    // due again on the keeper's next look.
                    let _ = keeper.checkpoint_if_due(&guard, WRITER_PATIENCE);
                }
                answer
            })
            .await?
    }

    /// Runs `work` with a read-only connection on a blocking thread: for reads that are not
    /// part of a read-then-write (those go through [`Database::call`]).
    pub async fn read<T, F>(&self, work: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, DbError> + Send + 'static,
    {
        let Some(readers) = self.readers.clone() else {
            return self.call(move |connection| work(connection)).await;
        };
        crate::blocking::READS
            .run(move || {
                let connection = readers.take()?;
                let answer = work(&connection);
                readers.give_back(connection);
                answer
            })
            .await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn migrations_apply_once_and_reopen_cleanly() {
        let folder = std::env::temp_dir().join(format!("gatehouse-db-{}", std::process::id()));
        std::fs::create_dir_all(&folder).expect("folder");
        let path = folder.join("test.sqlite");
        let first = Database::open(&path).expect("open");
        first
            .call(|connection| {
                connection.execute(
                    "INSERT INTO server_sessions (id, record, expires_unix) VALUES ('a', '{}', 1)",
                    [],
                )?;
                Ok(())
            })
            .await
            .expect("insert");
        drop(first);
        let again = Database::open(&path).expect("reopen");
        let (versions, rows): (i64, i64) = again
            .call(|connection| {
                Ok((
                    connection.query_row(
                        "SELECT COUNT(*) FROM server_schema_version",
                        [],
                        |row| row.get(0),
                    )?,
                    connection
                        .query_row("SELECT COUNT(*) FROM server_sessions", [], |row| row.get(0))?,
                ))
            })
            .await
            .expect("count");
        assert_eq!(versions, MIGRATIONS.len() as i64);
        assert_eq!(rows, 1, "data survives reopening");
        let _ = std::fs::remove_dir_all(folder);
    }
}
