//! The one SQLite file (WAL) that holds everything the engine must not forget: state
//! machines, executions, history events, the step journal that makes a restarted execution
//! continue where it stopped, task tokens, local SageMaker resources and notifications.
//!
//! Every method is one short transaction. A write has reached the WAL when the method
//! returns, so a process killed afterwards loses nothing that was acknowledged.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde_json::Value;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

mod readers;
mod resources;
mod tokens;
pub mod wal_keeper;
mod writer;

use readers::{ReadConnection, Readers};
pub use tokens::{TokenRow, WaitingCallback, TOKEN_CLOSED, TOKEN_DECIDED, TOKEN_WAITING};
use wal_keeper::{KeeperError, WalKeeper, WalPolicy};
pub(crate) use writer::Writer;

/// How long the writer waits for another connection's write (the server's own tables share
/// the file).
const WRITER_PATIENCE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("corrupt stored JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the database lock was poisoned by a panic")]
    Poisoned,
    #[error(transparent)]
    WalKeeper(#[from] KeeperError),
}

pub type StoreResult<T> = Result<T, StoreError>;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS state_machines (
    arn TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS executions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    arn TEXT NOT NULL UNIQUE,
    state_machine_arn TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    start_ms INTEGER NOT NULL,
    stop_ms INTEGER,
    UNIQUE (state_machine_arn, name)
);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status);
CREATE TABLE IF NOT EXISTS events (
    execution_arn TEXT NOT NULL,
    id INTEGER NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (execution_arn, id),
    UNIQUE (execution_arn, key)
);
CREATE TABLE IF NOT EXISTS journal (
    execution_arn TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (execution_arn, key)
);
CREATE TABLE IF NOT EXISTS task_tokens (
    token TEXT PRIMARY KEY,
    execution_arn TEXT NOT NULL,
    key TEXT NOT NULL,
    status TEXT NOT NULL,
    decision TEXT,
    heartbeat_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS task_tokens_by_execution ON task_tokens (execution_arn);
CREATE INDEX IF NOT EXISTS task_tokens_waiting ON task_tokens (execution_arn) WHERE status = 'WAITING';
CREATE TABLE IF NOT EXISTS sagemaker_resources (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (kind, name)
);
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    execution_arn TEXT,
    body TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
"#;

/// A stored execution row.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionRow {
    pub seq: i64,
    pub arn: String,
    pub state_machine_arn: String,
    pub name: String,
    pub status: String,
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub start_ms: i64,
    pub stop_ms: Option<i64>,
}

/// How an execution ends: its status, output or error, and the closing history event.
#[derive(Debug, Clone)]
pub struct Closing<'a> {
    pub status: &'a str,
    pub output: Option<&'a str>,
    pub error: Option<&'a str>,
    pub cause: Option<&'a str>,
    pub stop_ms: i64,
    pub event_key: &'a str,
    pub event: Value,
}

pub struct Store {
    conn: Mutex<Connection>,
    /// `None` for an in-memory database: reads then share the writer's connection.
    readers: Option<Readers>,
    /// Says when the WAL that the readers' overlapping reads would let grow is due to be
    /// emptied (none in memory).
    wal_keeper: Option<WalKeeper>,
}

fn execution_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ExecutionRow> {
    Ok(ExecutionRow {
        seq: row.get(0)?,
        arn: row.get(1)?,
        state_machine_arn: row.get(2)?,
        name: row.get(3)?,
        status: row.get(4)?,
        input: row.get(5)?,
        output: row.get(6)?,
        error: row.get(7)?,
        cause: row.get(8)?,
        start_ms: row.get(9)?,
        stop_ms: row.get(10)?,
    })
}

const EXECUTION_COLUMNS: &str =
    "seq, arn, state_machine_arn, name, status, input, output, error, cause, start_ms, stop_ms";
/// [`EXECUTION_COLUMNS`] without the input, output, error and cause.
const SUMMARY_COLUMNS: &str =
    "seq, arn, state_machine_arn, name, status, '', NULL, NULL, NULL, start_ms, stop_ms";

impl Store {
    pub fn open(path: &Path) -> StoreResult<Store> {
        let conn = Connection::open(path)?;
        let mut store = Self::init(conn, Some(Readers::new(path.to_path_buf())))?;
        store.wal_keeper = Some(WalKeeper::watch(path, WalPolicy::default())?);
        Ok(store)
    }

    pub fn open_in_memory() -> StoreResult<Store> {
        Self::init(Connection::open_in_memory()?, None)
    }

    fn init(conn: Connection, readers: Option<Readers>) -> StoreResult<Store> {
        // WAL + NORMAL survives a killed process (the WAL is in the OS's hands once a
        // transaction commits); only a power loss could drop the last transactions.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(WRITER_PATIENCE)?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store {
            conn: Mutex::new(conn),
            readers,
            wal_keeper: None,
        })
    }

    /// Transactions here read before they write, and they begin IMMEDIATE: the file is shared
    /// with the server's own connections (sessions, audit log), and a deferred transaction
    /// whose snapshot another connection overtook fails at once with "database is locked"
    /// (SQLite cannot wait there), where an immediate one waits its turn (busy timeout).
    fn conn(&self) -> StoreResult<Writer<'_>> {
        Ok(Writer {
            conn: self.conn.lock().map_err(|_| StoreError::Poisoned)?,
            keeper: self.wal_keeper.as_ref(),
        })
    }

    /// A connection for a read that is not part of a read-then-write: it sees every
    /// transaction committed before it starts and does not wait for one in progress.
    fn read(&self) -> StoreResult<ReadConnection<'_>> {
        match &self.readers {
            Some(readers) => Ok(ReadConnection::Pooled(readers.get()?)),
            None => Ok(ReadConnection::Writer(self.conn()?)),
        }
    }

    // --- state machines -------------------------------------------------------------

    pub fn put_state_machine(
        &self,
        arn: &str,
        name: &str,
        definition: &str,
        now_ms: i64,
    ) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO state_machines (arn, name, definition, created_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (arn) DO UPDATE SET definition = excluded.definition",
            params![arn, name, definition, now_ms],
        )?;
        Ok(())
    }

    pub fn state_machine_definition(&self, arn: &str) -> StoreResult<Option<String>> {
        Ok(self
            .read()?
            .query_row(
                "SELECT definition FROM state_machines WHERE arn = ?1",
                [arn],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// (arn, name, created) of every state machine.
    pub fn state_machines(&self) -> StoreResult<Vec<(String, String, i64)>> {
        let conn = self.read()?;
        let mut stmt =
            conn.prepare("SELECT arn, name, created_ms FROM state_machines ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    // --- executions -----------------------------------------------------------------

    /// Inserts a new RUNNING execution with its `ExecutionStarted` event, or returns the
    /// existing row with the same state machine and name.
    pub fn insert_execution(
        &self,
        row: &ExecutionRow,
        started_event: &Value,
    ) -> StoreResult<Result<(), ExecutionRow>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing = tx
            .query_row(
                &format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE state_machine_arn = ?1 AND name = ?2"),
                params![row.state_machine_arn, row.name],
                execution_from_row,
            )
            .optional()?;
        if let Some(existing) = existing {
            return Ok(Err(existing));
        }
        tx.execute(
            "INSERT INTO executions (arn, state_machine_arn, name, status, input, start_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![row.arn, row.state_machine_arn, row.name, row.status, row.input, row.start_ms],
        )?;
        insert_event(&tx, &row.arn, "start", started_event)?;
        tx.commit()?;
        Ok(Ok(()))
    }

    pub fn execution(&self, arn: &str) -> StoreResult<Option<ExecutionRow>> {
        Ok(self
            .read()?
            .query_row(
                &format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE arn = ?1"),
                [arn],
                execution_from_row,
            )
            .optional()?)
    }

    /// Newest first; `before_seq` continues a previous page. A list shows summaries: the
    /// rows come without input, output, error and cause (empty), which can be large and would
    /// be read for up to 1,000 rows only to be dropped.
    pub fn list_executions(
        &self,
        state_machine_arn: Option<&str>,
        status: Option<&str>,
        before_seq: Option<i64>,
        limit: usize,
    ) -> StoreResult<Vec<ExecutionRow>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM executions
             WHERE (?1 IS NULL OR state_machine_arn = ?1) AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR seq < ?3)
             ORDER BY seq DESC LIMIT ?4"
        ))?;
        let rows = stmt.query_map(
            params![state_machine_arn, status, before_seq, limit as i64],
            execution_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many executions [`Store::list_executions`] would list with the same filters.
    pub fn count_executions(
        &self,
        state_machine_arn: Option<&str>,
        status: Option<&str>,
    ) -> StoreResult<usize> {
        let conn = self.read()?;
        let count: i64 = conn.query_row(
            "SELECT COUNT(*) FROM executions
             WHERE (?1 IS NULL OR state_machine_arn = ?1) AND (?2 IS NULL OR status = ?2)",
            params![state_machine_arn, status],
            |row| row.get(0),
        )?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    pub fn running_executions(&self) -> StoreResult<Vec<ExecutionRow>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions WHERE status = 'RUNNING' ORDER BY seq"
        ))?;
        let rows = stmt.query_map([], execution_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Closes a RUNNING execution: status, result, closing event and its open task
    /// tokens, in one transaction. Returns false if it was no longer running.
    pub fn close_execution(&self, arn: &str, closing: &Closing<'_>) -> StoreResult<bool> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE executions SET status = ?2, output = ?3, error = ?4, cause = ?5, stop_ms = ?6
             WHERE arn = ?1 AND status = 'RUNNING'",
            params![
                arn,
                closing.status,
                closing.output,
                closing.error,
                closing.cause,
                closing.stop_ms
            ],
        )?;
        if changed == 1 {
            insert_event(&tx, arn, closing.event_key, &closing.event)?;
            tx.execute(
                "UPDATE task_tokens SET status = ?2 WHERE execution_arn = ?1 AND status = ?3",
                params![arn, TOKEN_CLOSED, TOKEN_WAITING],
            )?;
        }
        tx.commit()?;
        Ok(changed == 1)
    }

    // --- history --------------------------------------------------------------------

    /// Appends an event unless one with the same key exists (a replayed step); returns
    /// its id either way. `event` must not carry `id`: it is assigned here.
    pub fn append_event(&self, execution_arn: &str, key: &str, event: &Value) -> StoreResult<i64> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id = insert_event(&tx, execution_arn, key, event)?;
        tx.commit()?;
        Ok(id)
    }

    pub fn event_count(&self, execution_arn: &str) -> StoreResult<i64> {
        Ok(self.read()?.query_row(
            "SELECT COUNT(*) FROM events WHERE execution_arn = ?1",
            [execution_arn],
            |r| r.get(0),
        )?)
    }

    /// Events in id order (or reverse), after/before the given id.
    pub fn events(
        &self,
        execution_arn: &str,
        cursor: Option<i64>,
        reverse: bool,
        limit: usize,
    ) -> StoreResult<Vec<Value>> {
        let conn = self.read()?;
        let sql = if reverse {
            "SELECT body FROM events WHERE execution_arn = ?1 AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3"
        } else {
            "SELECT body FROM events WHERE execution_arn = ?1 AND (?2 IS NULL OR id > ?2) ORDER BY id ASC LIMIT ?3"
        };
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map(params![execution_arn, cursor, limit as i64], |r| {
            r.get::<_, String>(0)
        })?;
        let mut out = Vec::new();
        for body in rows {
            out.push(serde_json::from_str(&body?)?);
        }
        Ok(out)
    }

    // --- journal --------------------------------------------------------------------

    pub fn journal_get(&self, execution_arn: &str, key: &str) -> StoreResult<Option<Value>> {
        let conn = self.conn()?;
        let body: Option<String> = conn
            .prepare_cached("SELECT body FROM journal WHERE execution_arn = ?1 AND key = ?2")?
            .query_row(params![execution_arn, key], |r| r.get(0))
            .optional()?;
        Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
    }

    pub fn journal_put(&self, execution_arn: &str, key: &str, body: &Value) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO journal (execution_arn, key, body) VALUES (?1, ?2, ?3)
             ON CONFLICT (execution_arn, key) DO UPDATE SET body = excluded.body",
            params![execution_arn, key, body.to_string()],
        )?;
        Ok(())
    }

    /// Appends a step's events (deduplicated by key, like `append_event`; each one after
    /// the first gets the previous one's id as `previousEventId`) and stores its journal
    /// entry, built from the last event id, in one transaction.
    pub fn complete_step(
        &self,
        execution_arn: &str,
        events: &[(String, Value)],
        journal_key: &str,
        journal: impl FnOnce(Option<i64>) -> Value,
    ) -> StoreResult<Option<i64>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut last: Option<i64> = None;
        for (key, event) in events {
            let mut event = event.clone();
            if let (Some(previous), Value::Object(map)) = (last, &mut event) {
                map.insert("previousEventId".into(), Value::from(previous));
            }
            last = Some(insert_event(&tx, execution_arn, key, &event)?);
        }
        let body = journal(last);
        tx.prepare_cached(
            "INSERT INTO journal (execution_arn, key, body) VALUES (?1, ?2, ?3)
             ON CONFLICT (execution_arn, key) DO UPDATE SET body = excluded.body",
        )?
        .execute(params![execution_arn, journal_key, body.to_string()])?;
        tx.commit()?;
        Ok(last)
    }

    // --- notifications --------------------------------------------------------------

    pub fn add_notification(
        &self,
        kind: &str,
        execution_arn: Option<&str>,
        body: &Value,
        now_ms: i64,
    ) -> StoreResult<i64> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO notifications (kind, execution_arn, body, created_ms) VALUES (?1, ?2, ?3, ?4)",
            params![kind, execution_arn, body.to_string(), now_ms],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// (id, kind, execution arn, body, created) oldest first.
    #[allow(clippy::type_complexity)]
    pub fn notifications(&self) -> StoreResult<Vec<(i64, String, Option<String>, Value, i64)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT id, kind, execution_arn, body, created_ms FROM notifications ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get::<_, String>(3)?,
                r.get(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, arn, body, created) = row?;
            out.push((id, kind, arn, serde_json::from_str(&body)?, created));
        }
        Ok(out)
    }
}

/// Inserts an event with the next id, or returns the id of the event already stored under
/// `key`.
fn insert_event(
    tx: &rusqlite::Transaction<'_>,
    execution_arn: &str,
    key: &str,
    event: &Value,
) -> StoreResult<i64> {
    // Cached statements: these run several times per state transition.
    let existing: Option<i64> = tx
        .prepare_cached("SELECT id FROM events WHERE execution_arn = ?1 AND key = ?2")?
        .query_row(params![execution_arn, key], |r| r.get(0))
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let id: i64 = tx
        .prepare_cached("SELECT COALESCE(MAX(id), 0) + 1 FROM events WHERE execution_arn = ?1")?
        .query_row([execution_arn], |r| r.get(0))?;
    let mut event = event.clone();
    if let Value::Object(map) = &mut event {
        map.insert("id".into(), Value::from(id));
    }
    tx.prepare_cached("INSERT INTO events (execution_arn, id, key, body) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![execution_arn, id, key, event.to_string()])?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_are_deduplicated_by_key_and_numbered() {
        let store = Store::open_in_memory().unwrap();
        let a = store
            .append_event("x", "k1", &json!({"type": "A"}))
            .unwrap();
        let b = store
            .append_event("x", "k2", &json!({"type": "B"}))
            .unwrap();
        let again = store
            .append_event("x", "k1", &json!({"type": "A2"}))
            .unwrap();
        assert_eq!((a, b, again), (1, 2, 1));
        let events = store.events("x", None, false, 10).unwrap();
        assert_eq!(
            events,
            vec![json!({"type": "A", "id": 1}), json!({"type": "B", "id": 2})]
        );
        assert_eq!(store.events("x", Some(2), true, 10).unwrap().len(), 1);
    }

    #[test]
    fn only_one_decision_wins_a_token() {
        let store = Store::open_in_memory().unwrap();
        store.create_token("t", "x", "k", 0).unwrap();
        assert!(store.decide_token("t", &json!({"ok": 1})).unwrap());
        assert!(!store.decide_token("t", &json!({"ok": 2})).unwrap());
        assert!(!store.close_token("t").unwrap());
        assert_eq!(
            store.token("t").unwrap().unwrap().decision,
            Some(json!({"ok": 1}))
        );
    }
}
