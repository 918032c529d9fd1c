//! What the server keeps in a session. Tokens live here, server-side; the browser only ever
//! holds the session id in its cookie.

use serde::{Deserialize, Serialize};

use crate::auth::{Redacted, Tokens};

/// The session key of a signed-in user.
pub(crate) const SIGNED_IN: &str = "gatehouse.signed_in";
/// The session key of a sign-in waiting for a new password.
pub(crate) const PENDING_CHALLENGE: &str = "gatehouse.pending_challenge";

/// A signed-in session.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct SignedIn {
    /// The provider's username (Cognito's `username` claim), as refresh and standing need it.
    pub username: String,
    pub access_token: String,
    pub id_token: String,
    pub refresh_token: Option<String>,
    /// Unix seconds.
    pub access_expires_at: i64,
    pub signed_in_at: i64,
    pub standing_checked_at: i64,
    /// Last time the session was written, which is what extends its idle expiry.
    pub touched_at: i64,
}

impl SignedIn {
    pub fn new(username: String, tokens: Tokens, now: i64) -> Self {
        Self {
            username,
            access_expires_at: now.saturating_add(tokens.expires_in.as_secs() as i64),
            access_token: tokens.access.into_inner(),
            id_token: tokens.id.into_inner(),
            refresh_token: tokens.refresh.map(Redacted::into_inner),
            signed_in_at: now,
            standing_checked_at: now,
            touched_at: now,
        }
    }

    /// Takes refreshed tokens; Cognito does not always send a new refresh token, and then
    /// the old one stays valid.
    pub fn refreshed(&mut self, tokens: Tokens, now: i64) {
        self.access_expires_at = now.saturating_add(tokens.expires_in.as_secs() as i64);
        self.access_token = tokens.access.into_inner();
        self.id_token = tokens.id.into_inner();
        if let Some(refresh) = tokens.refresh {
            self.refresh_token = Some(refresh.into_inner());
        }
    }

    pub fn access(&self) -> Redacted<String> {
        Redacted::new(self.access_token.clone())
    }

    pub fn refresh(&self) -> Option<Redacted<String>> {
        self.refresh_token.clone().map(Redacted::new)
    }
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("username", &self.username)
            .field("signed_in_at", &self.signed_in_at)
            .field("access_expires_at", &self.access_expires_at)
            .finish_non_exhaustive()
    }
}

/// A sign-in whose password was right but that must set a new password first.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct PendingChallenge {
    pub username: String,
    pub challenge: String,
    pub started_at: i64,
}

impl std::fmt::Debug for PendingChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingChallenge")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

pub(crate) fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
