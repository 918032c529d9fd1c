//! What the server hands to server functions (server only).
//!
//! The server binary provides one [`ServerContext`] to every request through Leptos context;
//! server functions read it with [`server_context`]. Who is asking is not in the context: the
//! server's access layer resolves it before any handler runs and puts a [`Caller`] in the
//! request's extensions, which `functions::access` reads.

use std::sync::Arc;
use std::time::Instant;

use crate::control_plane::ControlPlane;
use crate::errors::AppError;
use crate::models::about::Mode;
use crate::models::identity::{Identity, UserSummary};

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
    /// The users Gatehouse manages itself (local mode); `None` when an outside identity
    /// provider owns them (Cognito in aws mode).
    pub users: Option<Arc<dyn UserDirectory>>,
    /// The pipeline, through its one port.
    pub pipeline: Arc<dyn ControlPlane>,
}

/// The request's [`ServerContext`], or a typed error when the server did not provide one.
pub fn server_context() -> Result<ServerContext, AppError> {
    leptos::prelude::use_context::<ServerContext>().ok_or_else(|| {
        leptos::logging::error!("ServerContext missing from the Leptos context");
        AppError::Unavailable("server context not configured".into())
    })
}

/// Who made the request, as the server's access layer established it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    SignedIn { identity: Identity, via: Credential },
}

impl Caller {
    pub fn identity(&self) -> Option<&Identity> {
        match self {
            Caller::Anonymous => None,
            Caller::SignedIn { identity, .. } => Some(identity),
        }
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// The session cookie of a browser that signed in through the sign-in page.
    Session,
    /// `Authorization: Bearer <access token>` (API clients).
    Bearer,
}

/// Read access to the users Gatehouse manages itself.
#[async_trait::async_trait]
pub trait UserDirectory: Send + Sync + std::fmt::Debug {
    async fn list(&self) -> Result<Vec<UserSummary>, AppError>;
}
