//! The tamper-evident audit log: the stores behind [`app::audit::AuditLog`], the
//! hash chain they share, and `gatehouse audit verify`.
//!
//! - [`chain`]: the canonical encoding, linking a batch to the head, verifying a chain.
//! - [`writer`]: group commit — one writer task per store, one durable write per batch.
//! - [`sqlite`]: local mode, in the server's SQLite file.
//! - [`dynamo`]: aws mode, a DynamoDB table with conditional transactions.
//! - [`export`]: CSV and JSON downloads of a filter.

pub mod chain;
#[cfg(feature = "aws")]
pub mod dynamo;
pub mod export;
pub mod sqlite;
pub mod writer;

use std::io::Write;

use app::audit::AuditLog;

use chain::{verify, VerifyError};

/// `gatehouse audit verify`: walks the chain and says whether it is intact. The exit status
/// is the answer: success only when every record is as appended.
pub async fn run_verify(log: &dyn AuditLog, out: &mut dyn Write) -> Result<(), VerifyError> {
    let count = verify(log).await?;
    let _ = writeln!(out, "audit log intact: {count} records, chain verified");
    Ok(())
}
