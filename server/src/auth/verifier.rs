//! `TokenVerifier`: checks a Cognito-shaped JWT the way Cognito's own verifier
//! (awslabs/aws-jwt-verify) does, for Cognito's tokens and local mode's alike.
//!
//! Order of checks: the header first (RS256 only, `kid` required), so nothing about an
//! unacceptable token reaches key lookup; then the key (cache, at most one refresh a minute);
//! then the signature; only then are the claims read: `exp`/`nbf`/`iat` with leeway, `iss`,
//! `token_use`, and `client_id` (access) or `aud` (id).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::clock::Clock;
use super::error::AuthError;
use super::jwks::{JwksCache, KeySource};
use super::jws::{untrusted_header, RS256};
use app::models::identity::{Identity, Role};

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// Cognito's two kinds of JWT; each is only accepted where it is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    /// Authorises API calls; names the app client in `client_id`.
    Access,
    /// Describes the user; names the app client in `aud`.
    Id,
}

impl TokenUse {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenUse::Access => "access",
            TokenUse::Id => "id",
        }
    }
}

/// A token that passed every check, and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub identity: Identity,
    pub token_use: TokenUse,
    /// `exp`, seconds since the epoch: sessions must not outlive it without a refresh.
    pub expires_at: u64,
    /// `iat`, when present.
    pub issued_at: Option<u64>,
    /// `auth_time`, when present: when the user last entered their password.
    pub auth_time: Option<u64>,
}

/// `aud` may be one string or a list (RFC 7519 §4.1.3); Cognito writes one string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, client_id: &str) -> bool {
        match self {
            Audience::One(aud) => aud == client_id,
            Audience::Many(auds) => auds.iter().any(|aud| aud == client_id),
        }
    }
}

/// The claims we read from Cognito access and id tokens (and local mode's, which copy them).
#[derive(Deserialize)]
struct CognitoClaims {
    sub: Option<String>,
    iss: Option<String>,
    token_use: Option<String>,
    client_id: Option<String>,
    aud: Option<Audience>,
    username: Option<String>,
    #[serde(rename = "cognito:username")]
    cognito_username: Option<String>,
    #[serde(rename = "cognito:groups", default)]
    groups: Vec<String>,
    exp: Option<u64>,
    nbf: Option<u64>,
    iat: Option<u64>,
    auth_time: Option<u64>,
}

/// Verifies tokens of one issuer for one app client. Cheap to clone; clones share the key
/// cache.
#[derive(Clone)]
pub struct TokenVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    client_id: String,
    leeway: u64,
    clock: Clock,
    keys: JwksCache,
}

impl TokenVerifier {
    /// A verifier for tokens whose `iss` is exactly `issuer`, issued to app client
    /// `client_id`, with keys from `keys`; 30 s leeway and the system clock.
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>, keys: KeySource) -> Self {
        Self::with_options(issuer, client_id, keys, DEFAULT_LEEWAY, Clock::system())
    }

    /// As [`TokenVerifier::new`], with the leeway and the clock chosen (tests move the clock).
    pub fn with_options(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        keys: KeySource,
        leeway: Duration,
        clock: Clock,
    ) -> Self {
        TokenVerifier {
            inner: Arc::new(Inner {
                issuer: issuer.into(),
                client_id: client_id.into(),
                leeway: leeway.as_secs(),
                keys: JwksCache::new(keys, clock.clone()),
                clock,
            }),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// Verifies an access token (what API calls and sessions authorise with).
    pub async fn verify_access(&self, token: &str) -> Result<Verified, AuthError> {
        self.verify(token, TokenUse::Access).await
    }

    /// Verifies an id token (what sign-in reads the user's name and groups from).
    pub async fn verify_id(&self, token: &str) -> Result<Verified, AuthError> {
        self.verify(token, TokenUse::Id).await
    }

    async fn verify(&self, token: &str, expected: TokenUse) -> Result<Verified, AuthError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(AuthError::MissingToken);
        }
        let header = untrusted_header(token)?;
        // Anything but RS256 is refused here, by name: `none`, and HS256 "signed" with our
        // public key (key confusion) never get near a key.
        if header.alg != RS256 {
            return Err(AuthError::UnsupportedAlgorithm);
        }
        let kid = header.kid.ok_or(AuthError::MissingKeyId)?;
        let key = self.inner.keys.key(&kid).await?;
        let claims = verify_signature(token, &key)?;
        self.check_claims(claims, expected)
    }

    fn check_claims(
        &self,
        claims: CognitoClaims,
        expected: TokenUse,
    ) -> Result<Verified, AuthError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let expires_at = claims.exp.ok_or(AuthError::MissingClaim("exp"))?;
        if now > expires_at.saturating_add(inner.leeway) {
            return Err(AuthError::Expired);
        }
        if let Some(nbf) = claims.nbf {
            if nbf > now.saturating_add(inner.leeway) {
                return Err(AuthError::NotYetValid);
            }
        }
        if let Some(iat) = claims.iat {
            if iat > now.saturating_add(inner.leeway) {
                return Err(AuthError::IssuedInFuture);
            }
        }
        let issuer = claims.iss.ok_or(AuthError::MissingClaim("iss"))?;
        if issuer != inner.issuer {
            return Err(AuthError::WrongIssuer);
        }
        if claims.token_use.as_deref() != Some(expected.as_str()) {
            return Err(AuthError::WrongTokenUse {
                expected: expected.as_str(),
            });
        }
        let username = match expected {
            TokenUse::Access => {
                if claims.client_id.as_deref() != Some(inner.client_id.as_str()) {
                    return Err(AuthError::WrongClientId);
                }
                claims.username
            }
            TokenUse::Id => {
                let for_us = claims
                    .aud
                    .as_ref()
                    .is_some_and(|aud| aud.contains(&inner.client_id));
                if !for_us {
                    return Err(AuthError::WrongAudience);
                }
                claims.cognito_username
            }
        };
        let subject = claims
            .sub
            .filter(|sub| !sub.is_empty())
            .ok_or(AuthError::MissingClaim("sub"))?;
        Ok(Verified {
            identity: Identity {
                // The name is for display only; every decision keys on `sub`.
                username: username.unwrap_or_else(|| subject.clone()),
                subject,
                // No `cognito:groups` means a user in no group: signed in, but no role.
                roles: Role::from_groups(&claims.groups),
            },
            token_use: expected,
            expires_at,
            issued_at: claims.iat,
            auth_time: claims.auth_time,
        })
    }
}

/// Checks the RS256 signature with jsonwebtoken (aws-lc-rs) and returns the claims. Claim
/// checks are ours (above), so jsonwebtoken's are all switched off here: they would read the
/// system clock instead of ours.
fn verify_signature(
    token: &str,
    key: &jsonwebtoken::DecodingKey,
) -> Result<CognitoClaims, AuthError> {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    match jsonwebtoken::decode::<CognitoClaims>(token, key, &validation) {
        Ok(data) => Ok(data.claims),
        Err(e) => Err(match e.kind() {
            ErrorKind::InvalidSignature => AuthError::BadSignature,
            ErrorKind::InvalidAlgorithm => AuthError::UnsupportedAlgorithm,
            _ => AuthError::Malformed,
        }),
    }
}

impl fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("issuer", &self.inner.issuer)
            .field("client_id", &self.inner.client_id)
            .field("leeway", &self.inner.leeway)
            .field("keys", &self.inner.keys)
            .finish()
    }
}
