//! Gatehouse's embedded workflow engine: runs Amazon States Language definitions with
//! AWS Step Functions semantics, provides a local SageMaker, and keeps everything in one
//! SQLite file. A plain library: no web code.

pub mod asl;
pub mod error;
