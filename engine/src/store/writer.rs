//! The writer's connection as the store hands it out: locked, and emptying the WAL when the
//! keeper says it is due.

use rusqlite::Connection;
use std::ops::{Deref, DerefMut};
use std::sync::MutexGuard;

use super::wal_keeper::WalKeeper;
use super::WRITER_PATIENCE;

/// The writer's connection, locked. A checkpoint the WAL keeper asked for runs as it is
/// released, after the write it was taken for and before the next writer has it.
pub(crate) struct Writer<'a> {
    pub(super) conn: MutexGuard<'a, Connection>,
    pub(super) keeper: Option<&'a WalKeeper>,
}

impl Deref for Writer<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl DerefMut for Writer<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        if let Some(keeper) = self.keeper {
            // Its outcome changes nothing here: a checkpoint that gave up is due again soon.
            let _ = keeper.checkpoint_if_due(&self.conn, WRITER_PATIENCE);
        }
    }
}
