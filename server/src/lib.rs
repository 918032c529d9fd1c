//! The Gatehouse server as a library, so integration tests can start the real thing on port 0.

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
pub mod pipeline;
pub mod playground;
pub mod routes;
pub mod security_headers;
pub mod sessions;
pub mod shared_state;
pub mod startup;
pub mod telemetry;
pub mod users;
