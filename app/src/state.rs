//! What the server hands to server functions (server only).
//!
//! The server binary provides one [`ServerContext`] to every request through Leptos context;
//! server functions read it with [`server_context`].

use std::time::Instant;

use crate::errors::AppError;
use crate::models::about::Mode;

/// Facts fixed when the server binary was built.
#[derive(Debug, Clone)]
pub struct BuildInfo {
    pub version: &'static str,
    pub git_commit: &'static str,
}

/// Everything a server function may use. Cheap to clone: it is cloned into every request.
#[derive(Debug, Clone)]
pub struct ServerContext {
    pub mode: Mode,
    pub build: BuildInfo,
    /// When the process started, for measuring uptime.
    pub started: Instant,
    /// The same moment as RFC 3339 in UTC, for showing.
    pub started_at: String,
}

/// The request's [`ServerContext`], or a typed error when the server did not provide one.
pub fn server_context() -> Result<ServerContext, AppError> {
    leptos::prelude::use_context::<ServerContext>().ok_or_else(|| {
        leptos::logging::error!("ServerContext missing from the Leptos context");
        AppError::Unavailable("server context not configured".into())
    })
}
