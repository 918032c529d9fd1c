//! The audit log port (server only): where every audited action is appended and where the
//! audit page reads. Two stores implement it — the SQLite file (local mode) and a DynamoDB
//! table (aws mode) — and both keep the records as a hash chain.

use std::fmt::Debug;

use crate::errors::AppError;
use crate::models::audit::{AuditEntry, AuditQuery, AuditRecord};

/// The log could not append or read. The message is for logs and operators; pages show a
/// generic banner.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// The store failed or could not be reached.
    #[error("the audit log is unavailable: {0}")]
    Unavailable(String),
    /// What is stored is not a record this version can read.
    #[error("the audit log holds a record that cannot be read: {0}")]
    Corrupt(String),
}

impl From<AuditError> for AppError {
    fn from(error: AuditError) -> Self {
        tracing::error!(%error, "audit log");
        AppError::Upstream("The audit log is unavailable; nothing was done.".into())
    }
}

#[async_trait::async_trait]
pub trait AuditLog: Send + Sync + Debug {
    /// Appends one record at the head of the chain and returns it once it is durable.
    async fn append(&self, entry: AuditEntry) -> Result<AuditRecord, AuditError>;

    /// Records matching the query, newest first.
    async fn search(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, AuditError>;

    /// Up to `limit` records in chain order after sequence number `after` (0 for the start):
    /// what a verifier walks.
    async fn scan(&self, after: u64, limit: usize) -> Result<Vec<AuditRecord>, AuditError>;

    /// The newest record's sequence number and hash, as the store keeps them apart from the
    /// records (so removing the newest records is noticed too); `None` for an empty log.
    async fn head(&self) -> Result<Option<(u64, String)>, AuditError>;
}
