//! What several Gatehouse processes must agree on besides the audit log and the sessions:
//! the approvals counted towards a quorum ([`app::ballots::Ballots`]) and the failed sign-in
//! attempts the throttle counts ([`crate::guard::throttle::FailureCounts`]).
//!
//! Nothing of it lives in one process's memory: locally every process on the data folder
//! shares the SQLite file ([`sqlite`]); in aws mode the processes share the coordination
//! table in DynamoDB ([`dynamo`]), where every change is one conditional or atomic write.

#[cfg(feature = "aws")]
pub mod dynamo;
pub mod sqlite;
