//! Server-side sessions (tower-sessions): the browser holds only the session cookie.
//!
//! Local mode keeps them in the server's SQLite file, aws mode in DynamoDB (expired items
//! removed by the table's TTL). [`SessionBackend`] is the one store type the session layer
//! sees, whichever mode chose it.

#[cfg(feature = "aws")]
pub mod dynamo_store;
pub mod sqlite_store;

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

#[cfg(feature = "aws")]
use dynamo_store::DynamoSessionStore;
use sqlite_store::SqliteSessionStore;

#[derive(Debug, Clone)]
pub enum SessionBackend {
    Sqlite(SqliteSessionStore),
    #[cfg(feature = "aws")]
    Dynamo(DynamoSessionStore),
}

#[async_trait]
impl SessionStore for SessionBackend {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            SessionBackend::Sqlite(store) => store.create(record).await,
            #[cfg(feature = "aws")]
            SessionBackend::Dynamo(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            SessionBackend::Sqlite(store) => store.save(record).await,
            #[cfg(feature = "aws")]
            SessionBackend::Dynamo(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            SessionBackend::Sqlite(store) => store.load(id).await,
            #[cfg(feature = "aws")]
            SessionBackend::Dynamo(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            SessionBackend::Sqlite(store) => store.delete(id).await,
            #[cfg(feature = "aws")]
            SessionBackend::Dynamo(store) => store.delete(id).await,
        }
    }
}
