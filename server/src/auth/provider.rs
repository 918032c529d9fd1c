//! The identity-provider port: what sign-in needs from whoever owns the users.
//!
//! Two implementations: local users with the local signer (local mode) and a Cognito user
//! pool (aws mode). Both hand back JWTs that the one [`TokenVerifier`](super::TokenVerifier)
//! checks; sessions, pages and the router only ever talk to this trait.

use std::time::Duration;

use async_trait::async_trait;

use super::redacted::Redacted;

/// The tokens a successful sign-in (or refresh) yields. They stay on the server, in the
/// session; the browser only ever holds the session cookie.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: Redacted<String>,
    pub id: Redacted<String>,
    /// Absent when the provider does not issue one (local mode) or when a refresh did not
    /// rotate it (Cognito keeps the old refresh token valid then).
    pub refresh: Option<Redacted<String>>,
    /// How long the access token is valid from now.
    pub expires_in: Duration,
}

/// Where a sign-in attempt ended.
#[derive(Debug, Clone)]
pub enum SignInOutcome {
    /// Signed in.
    Tokens(Tokens),
    /// The password was right but the user must choose a new one first (Cognito's
    /// `NEW_PASSWORD_REQUIRED` challenge, e.g. after an admin created the user). The
    /// challenge session is opaque and short-lived; it is kept server-side.
    NewPasswordRequired { challenge: Redacted<String> },
}

/// Why the provider said no. Only [`ProviderError::public_message`] reaches a person.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Wrong user or password, unknown user, disabled user: one variant on purpose, so
    /// callers cannot tell them apart either.
    #[error("wrong username or password")]
    BadCredentials,
    /// The new password breaks the pool's password policy; the text is the provider's and
    /// is safe to show (it names the rule, never the password).
    #[error("the new password was refused: {0}")]
    PasswordRejected(String),
    /// A refresh token or challenge session that is expired, revoked or unknown.
    #[error("the sign-in has expired")]
    Expired,
    /// The provider could not be reached or answered something unexpected. The text is for
    /// the server's log only.
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
}

impl ProviderError {
    /// What a person is told.
    pub fn public_message(&self) -> String {
        match self {
            ProviderError::BadCredentials => "Wrong username or password.".into(),
            ProviderError::PasswordRejected(rule) => {
                format!("That password cannot be used: {rule}")
            }
            ProviderError::Expired => "Your sign-in has expired; please sign in again.".into(),
            ProviderError::Unavailable(_) => {
                "Sign-in is unavailable right now; please try again shortly.".into()
            }
        }
    }
}

/// Whether a signed-in user may still use Gatehouse, asked on their requests so that a user
/// deleted (local) or disabled (Cognito) while signed in is refused on the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Active,
    /// Deleted, disabled, or signed out everywhere (tokens revoked).
    Revoked,
}

/// The port. Implementations must never log a password, a token or a challenge session.
#[async_trait]
pub trait IdentityProvider: Send + Sync + std::fmt::Debug {
    /// Checks a username and password.
    async fn sign_in(
        &self,
        username: &str,
        password: &Redacted<String>,
    ) -> Result<SignInOutcome, ProviderError>;

    /// Answers a [`SignInOutcome::NewPasswordRequired`] challenge with the user's new password.
    async fn complete_new_password(
        &self,
        username: &str,
        challenge: &Redacted<String>,
        new_password: &Redacted<String>,
    ) -> Result<SignInOutcome, ProviderError>;

    /// New access and id tokens from a refresh token, before the access token expires.
    async fn refresh(
        &self,
        username: &str,
        refresh_token: &Redacted<String>,
    ) -> Result<Tokens, ProviderError>;

    /// Whether the user behind a verified access token may still act.
    async fn standing(
        &self,
        username: &str,
        access_token: &Redacted<String>,
    ) -> Result<Standing, ProviderError>;

    /// Ends the user's sign-in at the provider as far as it supports it: the refresh token is
    /// revoked (Cognito `RevokeToken`, local mode deletes it). Best effort: the server-side
    /// session is deleted whatever this answers.
    async fn sign_out(
        &self,
        access_token: &Redacted<String>,
        refresh_token: Option<&Redacted<String>>,
    ) -> Result<(), ProviderError>;
}
