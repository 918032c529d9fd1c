//! A tower-sessions store on the server's SQLite file (local mode).
//!
//! tower-sessions' own SQLite store is built on sqlx, which would link a second SQLite
//! library beside rusqlite's; this one uses the connection the server already has.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

use crate::db::{Database, DbError};

#[derive(Clone, Debug)]
pub struct SqliteSessionStore {
    db: Database,
}

impl SqliteSessionStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

fn backend(error: DbError) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(record).map_err(|error| session_store::Error::Encode(error.to_string()))
}

#[async_trait]
impl SessionStore for SqliteSessionStore {
    /// Inserts under a fresh id, drawing again on the (astronomically unlikely) collision so a
    /// new session can never take over an existing one.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut candidate = record.clone();
        let stored = self
            .db
            .call(move |connection| loop {
                let encoded = serde_json::to_string(&candidate)
                    .map_err(|error| DbError::Codec(error.to_string()))?;
                let inserted = connection.execute(
                    "INSERT OR IGNORE INTO server_sessions (id, record, expires_unix)
                         VALUES (?1, ?2, ?3)",
                    params![
                        candidate.id.to_string(),
                        encoded,
                        candidate.expiry_date.unix_timestamp()
                    ],
                )?;
                if inserted == 1 {
                    return Ok(candidate);
                }
                candidate.id = Id::default();
            })
            .await
            .map_err(backend)?;
        *record = stored;
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let encoded = encode(record)?;
        let id = record.id.to_string();
        let expires = record.expiry_date.unix_timestamp();
        self.db
            .call(move |connection| {
                connection.execute(
                    "INSERT INTO server_sessions (id, record, expires_unix) VALUES (?1, ?2, ?3)
                     ON CONFLICT (id) DO UPDATE SET record = excluded.record,
                                                    expires_unix = excluded.expires_unix",
                    params![id, encoded, expires],
                )?;
                Ok(())
            })
            .await
            .map_err(backend)
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let id = session_id.to_string();
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let stored: Option<String> = self
            .db
            .read(move |connection| {
                Ok(connection
                    .query_row(
                        "SELECT record FROM server_sessions WHERE id = ?1 AND expires_unix > ?2",
                        params![id, now],
                        |row| row.get(0),
                    )
                    .optional()?)
            })
            .await
            .map_err(backend)?;
        stored
            .map(|json| {
                serde_json::from_str(&json)
                    .map_err(|error| session_store::Error::Decode(error.to_string()))
            })
            .transpose()
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        let id = session_id.to_string();
        self.db
            .call(move |connection| {
                connection.execute("DELETE FROM server_sessions WHERE id = ?1", [id])?;
                Ok(())
            })
            .await
            .map_err(backend)
    }
}

#[async_trait]
impl ExpiredDeletion for SqliteSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        self.db
            .call(move |connection| {
                connection.execute(
                    "DELETE FROM server_sessions WHERE expires_unix <= ?1",
                    [now],
                )?;
                Ok(())
            })
            .await
            .map_err(backend)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use time::Duration;

    fn record(expires_in: Duration) -> Record {
        Record {
            id: Id::default(),
            data: HashMap::from([("user".to_string(), serde_json::json!("ana"))]),
            expiry_date: OffsetDateTime::now_utc() + expires_in,
        }
    }

    fn store() -> SqliteSessionStore {
        SqliteSessionStore::new(Database::in_memory().expect("database"))
    }

    #[tokio::test]
    async fn a_created_session_loads_back_equal() {
        let store = store();
        let mut created = record(Duration::hours(1));
        store.create(&mut created).await.expect("create");
        let loaded = store.load(&created.id).await.expect("load");
        assert_eq!(loaded, Some(created));
    }

    #[tokio::test]
    async fn create_never_overwrites_an_existing_id() {
        let store = store();
        let mut first = record(Duration::hours(1));
        store.create(&mut first).await.expect("create");
        let mut second = record(Duration::hours(1));
        second.id = first.id;
        second
            .data
            .insert("user".into(), serde_json::json!("mallory"));
        store.create(&mut second).await.expect("create");
        assert_ne!(second.id, first.id, "a colliding id is replaced");
        let original = store.load(&first.id).await.expect("load").expect("present");
        assert_eq!(original.data["user"], "ana");
    }

    #[tokio::test]
    async fn an_expired_session_does_not_load_and_is_swept() {
        let store = store();
        let mut expired = record(Duration::seconds(-1));
        store.create(&mut expired).await.expect("create");
        assert_eq!(store.load(&expired.id).await.expect("load"), None);
        store.delete_expired().await.expect("sweep");
        let rows: i64 = store
            .db
            .call(|connection| {
                Ok(connection
                    .query_row("SELECT COUNT(*) FROM server_sessions", [], |row| row.get(0))?)
            })
            .await
            .expect("count");
        assert_eq!(rows, 0);
    }

    #[tokio::test]
    async fn delete_removes_the_session() {
        let store = store();
        let mut created = record(Duration::hours(1));
        store.create(&mut created).await.expect("create");
        store.delete(&created.id).await.expect("delete");
        assert_eq!(store.load(&created.id).await.expect("load"), None);
    }

    #[tokio::test]
    async fn save_updates_data_and_expiry() {
        let store = store();
        let mut created = record(Duration::hours(1));
        store.create(&mut created).await.expect("create");
        created.data.insert("user".into(), serde_json::json!("bo"));
        store.save(&created).await.expect("save");
        let loaded = store
            .load(&created.id)
            .await
            .expect("load")
            .expect("present");
        assert_eq!(loaded.data["user"], "bo");
    }
}
