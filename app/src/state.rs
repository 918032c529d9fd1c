//! What the server hands to server functions (server only).
//!
//! The server binary provides one [`ServerContext`] to every request through Leptos context;
//! server functions read it with [`server_context`]. Who is asking is not in the context: the
//! server's access layer resolves it before any handler runs and puts a [`Caller`] in the
//! request's extensions, which `functions::access` reads.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use crate::audit::AuditLog;
use crate::ballots::Ballots;
use crate::control_plane::ControlPlane;
use crate::errors::AppError;
use crate::evidence::EvidenceCache;
use crate::models::about::Mode;
use crate::models::approvals::ApprovalPolicy;
use crate::models::identity::{Identity, Role, UserSummary};
use crate::rate_limit::RateLimiter;

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
    /// Where audited actions are recorded.
    pub audit: Arc<dyn AuditLog>,
    /// What a decision on an approval needs (quorum, self-approval).
    pub approval_policy: ApprovalPolicy,
    /// The approvals counted towards a quorum, shared by every Gatehouse process.
    pub ballots: Arc<dyn Ballots>,
    /// Decisions on one execution are taken one at a time in this process: fewer doomed
    /// calls to the pipeline. Correctness does not rest on it (the ballot box and the
    /// pipeline's task token each accept a thing once, whichever process asks).
    pub decision_locks: Arc<KeyedLocks>,
    /// Approval evidence computed in this process, by what it was computed from: a cache
    /// only, since any process computes the same evidence from the same objects.
    pub evidence: Arc<EvidenceCache>,
    /// The live news feed, for the position a page is rendered at.
    pub live: Arc<dyn LiveNews>,
    /// The least role that may invoke pipeline endpoints.
    pub invoke_role: Role,
    /// Each user's invocation allowance.
    pub invoke_limiter: Arc<RateLimiter>,
}

/// Where the live news (`/events`) stands. A page carries the position it was rendered at, and
/// its listener follows from there, so news published while the page travelled to the browser
/// is not lost.
pub trait LiveNews: Send + Sync + std::fmt::Debug {
    /// The id of the newest event so far (what a `Last-Event-ID` would carry).
    fn position(&self) -> String;
}

/// One async lock per key, made on first use and dropped when nobody holds or waits for it.
#[derive(Debug, Default)]
pub struct KeyedLocks {
    locks: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl KeyedLocks {
    /// Waits for `key`'s lock; it is held until the guard drops.
    pub async fn lock(&self, key: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            // A poisoned map only means another request panicked while holding it; the map
            // itself is still consistent.
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
            Arc::clone(locks.entry(key.to_string()).or_default())
        };
        lock.lock_owned().await
    }
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

/// Where a request came from, as the server's access layer saw it: what audit records carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestOrigin {
    /// The id the request-id layer gave the request (`-` when none).
    pub request_id: String,
    /// The client's address.
    pub source_ip: String,
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
