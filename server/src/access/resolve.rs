//! The middleware that decides who every request comes from.
//!
//! A request with `Authorization` is judged by that header alone: a valid bearer access token
//! (same verifier as sessions) or 401, never a silent fall-back to the cookie. Otherwise the
//! session cookie: its tokens are refreshed shortly before they expire, verified, and the
//! user's standing re-checked, and any failure ends the session. Handlers and server
//! functions then read the `Caller` from the request's extensions.

use std::sync::Arc;
use std::time::Duration;

use app::audit::AuditLog;
use app::state::{Caller, Credential, RequestOrigin};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tower_sessions::Session;

use super::client::ClientAddress;
use super::events::{AuthAction, AuthEvent, Outcome};
use super::session_state::{unix_now, SignedIn, SIGNED_IN};
use super::Access;
use crate::auth::{ProviderError, Redacted, Standing};

/// How often an active session is written back to extend its idle expiry.
const SESSION_TOUCH_SECS: i64 = 60;

pub async fn resolve_caller(
    State(access): State<Arc<Access>>,
    mut request: Request<Body>,
    next: Next,
) -> Response {
    let caller = match bearer_token(request.headers()) {
        Bearer::Absent => match request.extensions().get::<Session>().cloned() {
            Some(session) => access.session_caller(&session).await,
            None => Caller::Anonymous,
        },
        Bearer::Present(token) => match access.bearer_caller(token).await {
            Some(caller) => caller,
            None => return refuse_bearer(&access, origin_of(&request)).await,
        },
        Bearer::Malformed => return refuse_bearer(&access, origin_of(&request)).await,
    };
    let origin = origin_of(&request);
    request.extensions_mut().insert(origin);
    request.extensions_mut().insert(caller);
    next.run(request).await
}

enum Bearer {
    Absent,
    Present(Redacted<String>),
    Malformed,
}

fn bearer_token(headers: &HeaderMap) -> Bearer {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Bearer::Absent;
    };
    let Ok(value) = value.to_str() else {
        return Bearer::Malformed;
    };
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Bearer::Present(Redacted::new(token.trim().to_string()))
        }
        _ => Bearer::Malformed,
    }
}

/// Where the request came from, for audit records made while answering it.
fn origin_of(request: &Request<Body>) -> RequestOrigin {
    RequestOrigin {
        request_id: request
            .headers()
            .get("x-request-id")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("-")
            .to_string(),
        source_ip: match ClientAddress::of(request.extensions()).0 {
            address if address.is_unspecified() => "-".into(),
            address => address.to_string(),
        },
    }
}

/// 401 with RFC 6750's challenge; the same words whatever was wrong with the token.
async fn refuse_bearer(access: &Access, origin: RequestOrigin) -> Response {
    let _ = AuthEvent {
        action: AuthAction::BearerRefused,
        outcome: Outcome::Failure,
        actor: "-",
        subject: None,
        reason: None,
        source_ip: origin.source_ip.parse().ok(),
        request_id: Some(&origin.request_id),
    }
    .record(&*access.audit)
    .await;
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#)],
        Json(json!({ "error": "The access token is missing, malformed, expired or not valid here." })),
    )
        .into_response()
}

impl Access {
    async fn bearer_caller(&self, token: Redacted<String>) -> Option<Caller> {
        let verified = match self.verifier.verify_access(token.expose()).await {
            Ok(verified) => verified,
            Err(reason) => {
                tracing::info!(%reason, "bearer token refused");
                return None;
            }
        };
        match self
            .provider
            .standing(&verified.identity.username, &token)
            .await
        {
            Ok(Standing::Active) => Some(Caller::SignedIn {
                identity: verified.identity,
                via: Credential::Bearer,
            }),
            Ok(Standing::Revoked) => {
                tracing::info!(user = %verified.identity.username, "bearer token of a revoked user");
                None
            }
            Err(error) => {
                tracing::warn!(%error, "cannot check the standing of a bearer token's user");
                None
            }
        }
    }

    /// The session's caller. Every way out but the last is anonymous.
    pub(crate) async fn session_caller(&self, session: &Session) -> Caller {
        let mut record = match session.get::<SignedIn>(SIGNED_IN).await {
            Ok(Some(record)) => record,
            Ok(None) => return Caller::Anonymous,
            Err(error) => {
                tracing::error!(%error, "cannot read the session");
                return Caller::Anonymous;
            }
        };
        let now = unix_now();
        let policy = self.policy;
        if now >= record.signed_in_at.saturating_add(secs(policy.absolute)) {
            return end_session(
                &*self.audit,
                session,
                &record,
                "session reached its maximum age",
            )
            .await;
        }
        let mut changed = false;
        if record.access_expires_at.saturating_sub(now) <= secs(policy.refresh_before) {
            match self.refresh(&mut record, now).await {
                Ok(()) => changed = true,
                Err(ProviderError::Unavailable(error)) if now < record.access_expires_at => {
                    // The provider is down but the token still works: try again next time.
                    tracing::warn!(%error, "token refresh failed; will retry");
                }
                Err(error) => {
                    tracing::info!(%error, "token refresh refused");
                    return end_session(
                        &*self.audit,
                        session,
                        &record,
                        "the sign-in could not be renewed",
                    )
                    .await;
                }
            }
        }
        let verified = match self.verifier.verify_access(&record.access_token).await {
            Ok(verified) => verified,
            Err(reason) => {
                tracing::info!(%reason, "a session's access token no longer verifies");
                return end_session(
                    &*self.audit,
                    session,
                    &record,
                    "the session's token is not valid",
                )
                .await;
            }
        };
        if now.saturating_sub(record.standing_checked_at) >= secs(policy.standing_check) {
            match self
                .provider
                .standing(&record.username, &record.access())
                .await
            {
                Ok(Standing::Active) => {
                    if !policy.standing_check.is_zero() {
                        record.standing_checked_at = now;
                        changed = true;
                    }
                }
                Ok(Standing::Revoked) => {
                    return end_session(
                        &*self.audit,
                        session,
                        &record,
                        "the user was removed, disabled or changed",
                    )
                    .await;
                }
                Err(error) => {
                    // Fail closed, but keep the session: the provider may be back next time.
                    tracing::warn!(%error, "cannot check the user's standing; treating as signed out");
                    return Caller::Anonymous;
                }
            }
        }
        // Writing the session is what pushes its idle expiry back; once a minute is enough.
        if now.saturating_sub(record.touched_at) >= SESSION_TOUCH_SECS {
            record.touched_at = now;
            changed = true;
        }
        if changed {
            if let Err(error) = session.insert(SIGNED_IN, &record).await {
                tracing::error!(%error, "cannot update the session");
            }
        }
        Caller::SignedIn {
            identity: verified.identity,
            via: Credential::Session,
        }
    }

    async fn refresh(&self, record: &mut SignedIn, now: i64) -> Result<(), ProviderError> {
        let refresh_token = record.refresh().ok_or(ProviderError::Expired)?;
        let tokens = self
            .provider
            .refresh(&record.username, &refresh_token)
            .await?;
        record.refreshed(tokens, now);
        Ok(())
    }
}

async fn end_session(
    audit: &dyn AuditLog,
    session: &Session,
    record: &SignedIn,
    reason: &str,
) -> Caller {
    let _ = AuthEvent {
        action: AuthAction::SessionEnded,
        outcome: Outcome::Success,
        actor: &record.username,
        subject: None,
        reason: Some(reason),
        source_ip: None,
        request_id: None,
    }
    .record(audit)
    .await;
    if let Err(error) = session.flush().await {
        tracing::error!(%error, "cannot delete an ended session");
    }
    Caller::Anonymous
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}
