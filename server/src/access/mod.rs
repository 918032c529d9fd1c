//! Who is asking, for every request: sessions for browsers, bearer tokens for API clients,
//! sign-in and sign-out, and the page gate.
//!
//! - [`resolve`]: middleware that turns a session cookie or `Authorization: Bearer` into an
//!   `app::state::Caller` on the request, refreshing and re-checking as it goes.
//! - [`handlers`]: `POST /auth/signin`, `/auth/new-password`, `/auth/signout`, `/auth/token`.
//! - [`gate`]: anonymous page views go to the sign-in page and come back after it.
//! - [`events`]: the structured sign-in/sign-out events the audit log will record.

pub mod client;
pub mod events;
pub mod gate;
pub mod handlers;
pub mod resolve;
mod session_state;

use std::sync::Arc;
use std::time::Duration;

use app::audit::AuditLog;

use crate::auth::{IdentityProvider, TokenVerifier};
use crate::guard::throttle::SignInThrottle;

/// How long sessions live and how closely they are watched.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// A session unused this long ends (the cookie's and the store's expiry).
    pub idle: Duration,
    /// A session ends this long after sign-in, however busy.
    pub absolute: Duration,
    /// Tokens are refreshed when they have less than this left.
    pub refresh_before: Duration,
    /// How often a session's user is re-checked with the provider (deleted, disabled,
    /// demoted); zero means on every request.
    pub standing_check: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(60 * 60),
            absolute: Duration::from_secs(12 * 60 * 60),
            refresh_before: Duration::from_secs(5 * 60),
            standing_check: Duration::ZERO,
        }
    }
}

/// Everything the access layer needs, shared by its middleware and handlers.
#[derive(Debug)]
pub struct Access {
    pub provider: Arc<dyn IdentityProvider>,
    /// Where sign-in and session events are recorded.
    pub audit: Arc<dyn AuditLog>,
    pub verifier: TokenVerifier,
    pub throttle: SignInThrottle,
    pub policy: SessionPolicy,
}
