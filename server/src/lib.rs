//! The Gatehouse server as a library, so integration tests can start the real thing on port 0.

// A request, a setting or an answer from AWS the code did not expect gets an error that says so,
// never a panic: `unwrap`, `expect` and indexing are denied outside tests (clippy.toml lets
// tests keep them).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

pub mod access;
pub mod audit;
pub mod auth;
pub mod blocking;
pub mod cli;
pub mod config;
pub mod db;
#[cfg(feature = "aws")]
pub mod dynamo;
pub mod guard;
pub mod inference;
pub mod live;
pub mod memory;
pub mod pipeline;
pub mod playground;
pub mod routes;
pub mod security_headers;
pub mod sessions;
pub mod shared_state;
pub mod startup;
pub mod telemetry;
pub mod users;
