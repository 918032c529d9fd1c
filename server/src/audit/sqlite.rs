//! The audit log in the server's SQLite file (local mode). Appends go through one writer task
//! that commits each gathered batch in one `IMMEDIATE` transaction with the head; the file is
//! in WAL mode with `synchronous = FULL`, so an answered append survives a crash.

use std::sync::Arc;

use app::audit::{AuditError, AuditLog};
use app::models::audit::{AuditEntry, AuditOutcome, AuditQuery, AuditRecord};
use app::models::pipeline::Timestamp;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row, TransactionBehavior};

use super::chain::link;
use super::writer::{ChainStore, Writer};
use crate::db::{Database, DbError};

#[derive(Debug, Clone)]
pub struct SqliteAuditLog {
    db: Database,
    writer: Writer,
}

struct SqliteChain {
    db: Database,
}

impl SqliteAuditLog {
    /// The log in `db`; starts its writer task on the current runtime.
    pub fn new(db: Database) -> Self {
        let writer = Writer::spawn(Arc::new(SqliteChain { db: db.clone() }));
        Self { db, writer }
    }
}

fn unavailable(error: DbError) -> AuditError {
    AuditError::Unavailable(error.to_string())
}

const COLUMNS: &str =
    "seq, at_ms, actor, roles, action, target, outcome, request_id, source_ip, details, prev_hash, hash";

fn read_head(connection: &Connection) -> rusqlite::Result<Option<(u64, String)>> {
    connection
        .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |row| {
            Ok((row.get::<_, i64>(0)? as u64, row.get(1)?))
        })
        .optional()
}

/// A row read: the record, or why it is not one.
type ReadRecord = Result<AuditRecord, AuditError>;

/// A stored row as a record; `Corrupt` names the row when a column cannot be read.
fn record_of(row: &Row<'_>) -> rusqlite::Result<ReadRecord> {
    let seq: i64 = row.get(0)?;
    let roles: String = row.get(3)?;
    let outcome: String = row.get(6)?;
    let Some(outcome) = AuditOutcome::parse(&outcome) else {
        return Ok(Err(AuditError::Corrupt(format!(
            "record {seq} has outcome '{outcome}'"
        ))));
    };
    Ok(Ok(AuditRecord {
        seq: seq as u64,
        at: Timestamp(row.get(1)?),
        entry: AuditEntry {
            actor: row.get(2)?,
            roles: roles
                .split(',')
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect(),
            action: row.get(4)?,
            target: row.get(5)?,
            outcome,
            request_id: row.get(7)?,
            source_ip: row.get(8)?,
            details: row.get(9)?,
        },
        prev_hash: row.get(10)?,
        hash: row.get(11)?,
    }))
}

fn collect(
    rows: impl Iterator<Item = rusqlite::Result<ReadRecord>>,
) -> Result<Result<Vec<AuditRecord>, AuditError>, DbError> {
    let mut records = Vec::new();
    for row in rows {
        match row? {
            Ok(record) => records.push(record),
            Err(error) => return Ok(Err(error)),
        }
    }
    Ok(Ok(records))
}

#[async_trait::async_trait]
impl ChainStore for SqliteChain {
    fn max_batch(&self) -> usize {
        512
    }

    async fn append_batch(&self, entries: Vec<AuditEntry>) -> Result<Vec<AuditRecord>, AuditError> {
        self.db
            .call(move |connection| {
                let transaction =
                    connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let head = read_head(&transaction)?;
                let records = link(head, entries, Timestamp::now());
                {
                    let mut insert = transaction.prepare_cached(&format!(
                        "INSERT INTO audit_log ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                    ))?;
                    for r in &records {
                        insert.execute(params![
                            r.seq as i64,
                            r.at.millis(),
                            r.entry.actor,
                            r.entry.roles.join(","),
                            r.entry.action,
                            r.entry.target,
                            r.entry.outcome.as_str(),
                            r.entry.request_id,
                            r.entry.source_ip,
                            r.entry.details,
                            r.prev_hash,
                            r.hash,
                        ])?;
                    }
                }
                if let Some(last) = records.last() {
                    transaction.execute(
                        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2)
                         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                        params![last.seq as i64, last.hash],
                    )?;
                }
                transaction.commit()?;
                Ok(records)
            })
            .await
            .map_err(unavailable)
    }
}

#[async_trait::async_trait]
impl AuditLog for SqliteAuditLog {
    async fn append(&self, entry: AuditEntry) -> Result<AuditRecord, AuditError> {
        self.writer.append(entry).await
    }

    async fn search(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, AuditError> {
        let query = query.clone();
        self.db
            .read(move |connection| {
                let mut conditions = Vec::new();
                let mut values: Vec<rusqlite::types::Value> = Vec::new();
                let mut bind = |template: &str, value: rusqlite::types::Value| {
                    values.push(value);
                    // Every `?` of the template takes this value.
                    conditions.push(template.replace('?', &format!("?{}", values.len())));
                };
                if let Some(actor) = &query.actor {
                    bind("actor = ?", actor.clone().into());
                }
                match &query.action {
                    Some(prefix) if prefix.ends_with('.') => {
                        bind("substr(action, 1, length(?)) = ?", prefix.clone().into())
                    }
                    Some(action) => bind("action = ?", action.clone().into()),
                    None => {}
                }
                if let Some(target) = &query.target {
                    bind("instr(lower(target), lower(?)) > 0", target.clone().into());
                }
                if let Some(outcome) = query.outcome {
                    bind("outcome = ?", outcome.as_str().to_string().into());
                }
                if let Some(from) = query.from {
                    bind("at_ms >= ?", from.millis().into());
                }
                if let Some(until) = query.until {
                    bind("at_ms < ?", until.millis().into());
                }
                if let Some(before) = query.before {
                    bind("seq < ?", (before.min(i64::MAX as u64) as i64).into());
                }
                let filter = if conditions.is_empty() {
                    String::new()
                } else {
                    format!("WHERE {}", conditions.join(" AND "))
                };
                values.push((query.limit.min(i64::MAX as usize) as i64).into());
                let sql = format!(
                    "SELECT {COLUMNS} FROM audit_log {filter} ORDER BY seq DESC LIMIT ?{}",
                    values.len()
                );
                let mut statement = connection.prepare(&sql)?;
                let rows = statement.query_map(params_from_iter(values.iter()), record_of)?;
                collect(rows)
            })
            .await
            .map_err(unavailable)?
    }

    async fn scan(&self, after: u64, limit: usize) -> Result<Vec<AuditRecord>, AuditError> {
        self.db
            .read(move |connection| {
                let mut statement = connection.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2"
                ))?;
                let rows = statement.query_map(
                    params![after.min(i64::MAX as u64) as i64, limit as i64],
                    record_of,
                )?;
                collect(rows)
            })
            .await
            .map_err(unavailable)?
    }

    async fn head(&self) -> Result<Option<(u64, String)>, AuditError> {
        self.db
            .read(|connection| Ok(read_head(connection)?))
            .await
            .map_err(unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::chain::{verify, ChainBreak, VerifyError};

    fn entry(actor: &str, action: &str) -> AuditEntry {
        AuditEntry {
            actor: actor.into(),
            roles: vec!["viewer".into()],
            action: action.into(),
            target: "c0ffee00-123".into(),
            outcome: AuditOutcome::Success,
            request_id: "req".into(),
            source_ip: "127.0.0.1".into(),
            details: "{}".into(),
        }
    }

    #[tokio::test]
    async fn concurrent_appends_form_one_chain_that_verifies() {
        let log = SqliteAuditLog::new(Database::in_memory().unwrap());
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..200 {
            let log = log.clone();
            tasks.spawn(async move {
                log.append(entry(&format!("u{}", i % 7), "auth.sign_in"))
                    .await
            });
        }
        let mut seqs = Vec::new();
        while let Some(done) = tasks.join_next().await {
            seqs.push(done.unwrap().unwrap().seq);
        }
        seqs.sort();
        assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
        assert_eq!(verify(&log).await.unwrap(), 200);
    }

    #[tokio::test]
    async fn the_application_cannot_change_or_delete_records() {
        let db = Database::in_memory().unwrap();
        let log = SqliteAuditLog::new(db.clone());
        log.append(entry("alice", "auth.sign_in")).await.unwrap();
        let update = db
            .call(|c| Ok(c.execute("UPDATE audit_log SET actor = 'mallory'", [])?))
            .await;
        assert!(update.unwrap_err().to_string().contains("append-only"));
        let delete = db
            .call(|c| Ok(c.execute("DELETE FROM audit_log", [])?))
            .await;
        assert!(delete.unwrap_err().to_string().contains("append-only"));
    }

    #[tokio::test]
    async fn a_hand_edit_is_found_and_named() {
        let db = Database::in_memory().unwrap();
        let log = SqliteAuditLog::new(db.clone());
        for i in 0..10 {
            log.append(entry(&format!("u{i}"), "auth.sign_in"))
                .await
                .unwrap();
        }
        db.call(|c| {
            c.execute_batch(
                "DROP TRIGGER audit_log_append_only_update;
                 UPDATE audit_log SET outcome = 'refused' WHERE seq = 7;",
            )?;
            Ok(())
        })
        .await
        .unwrap();
        match verify(&log).await {
            Err(VerifyError::Broken(ChainBreak::Changed { seq: 7 })) => {}
            other => panic!("expected record 7 to be named, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn search_filters_and_pages_newest_first() {
        let log = SqliteAuditLog::new(Database::in_memory().unwrap());
        for i in 0..30 {
            let action = if i % 3 == 0 {
                "approval.decide"
            } else {
                "auth.sign_in"
            };
            log.append(entry(if i % 2 == 0 { "alice" } else { "bob" }, action))
                .await
                .unwrap();
        }
        let query = AuditQuery {
            actor: Some("alice".into()),
            action: Some("approval.".into()),
            limit: 3,
            ..AuditQuery::default()
        };
        let page = log.search(&query).await.unwrap();
        assert_eq!(
            page.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![25, 19, 13]
        );
        let next = log
            .search(&AuditQuery {
                before: Some(13),
                ..query.clone()
            })
            .await
            .unwrap();
        assert_eq!(next.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![7, 1]);
        assert!(page.iter().all(|r| query.matches(r)));
    }
}
