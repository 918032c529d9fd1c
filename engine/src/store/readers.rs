//! Read-only connections beside the one that writes. In WAL mode a reader sees the last
//! committed transaction and never waits for a writer, so what the dashboard reads (lists,
//! descriptions, histories, pending callbacks) does not queue behind running executions'
//! state transitions, and a transition does not wait for a page being read.

use rusqlite::{Connection, OpenFlags};
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Mutex;

use super::{StoreError, StoreResult, Writer};

/// Idle readers kept for the next read; more are opened when reads overlap, and closed
/// when they end beyond this.
const KEPT: usize = 8;

pub(super) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub(super) fn new(path: PathBuf) -> Readers {
        Readers {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    pub(super) fn get(&self) -> StoreResult<Reader<'_>> {
        let kept = self.idle.lock().map_err(|_| StoreError::Poisoned)?.pop();
        let conn = match kept {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                // A reader only waits while SQLite recovers or resets the WAL, which is
                // brief; the timeout covers that, not other transactions.
                conn.busy_timeout(std::time::Duration::from_secs(10))?;
                conn
            }
        };
        Ok(Reader {
            readers: self,
            conn: Some(conn),
        })
    }
}

/// A pooled read-only connection, returned to the pool when dropped.
pub(super) struct Reader<'a> {
    readers: &'a Readers,
    conn: Option<Connection>,
}

impl Deref for Reader<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        // Present from creation until drop.
        self.conn.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let (Some(conn), Ok(mut idle)) = (self.conn.take(), self.readers.idle.lock()) {
            if idle.len() < KEPT {
                idle.push(conn);
            }
        }
    }
}

/// A connection to read with: a pooled reader for a database file, the writer's own
/// connection for an in-memory database (which other connections cannot see).
pub(super) enum ReadConnection<'a> {
    Pooled(Reader<'a>),
    Writer(Writer<'a>),
}

impl Deref for ReadConnection<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match self {
            ReadConnection::Pooled(reader) => reader,
            ReadConnection::Writer(guard) => guard,
        }
    }
}
