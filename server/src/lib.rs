//! The Gatehouse server as a library, so integration tests can start the real thing on port 0.

pub mod config;
pub mod routes;
pub mod startup;
pub mod telemetry;
