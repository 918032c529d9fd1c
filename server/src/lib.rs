//! The Gatehouse server as a library, so integration tests can start the real thing on port 0.

pub mod auth;
pub mod config;
pub mod db;
pub mod guard;
pub mod routes;
pub mod sessions;
pub mod startup;
pub mod telemetry;
pub mod users;
