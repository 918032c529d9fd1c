//! Sign-in, the new-password challenge, sign-out, and the token endpoint for API clients.
//!
//! The browser flows are plain form posts answered with `303 See Other`, so they work with or
//! without the WebAssembly bundle; failures go back to the form with an error code the page
//! explains. The token endpoint speaks JSON and real status codes.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use super::client::{ClientAddress, RequestId};
use super::events::{AuthAction, AuthEvent, Outcome};
use super::session_state::{unix_now, PendingChallenge, SignedIn, PENDING_CHALLENGE, SIGNED_IN};
use super::Access;
use crate::auth::{Identity, ProviderError, Redacted, SignInOutcome, Tokens};
use crate::guard::throttle::SignInThrottle;
use app::models::navigation::safe_next;

/// How long a new-password challenge may wait for its answer (Cognito's session lasts 3 min).
const CHALLENGE_LIFETIME_SECS: i64 = 180;
/// Longest username or password we read; longer ones are refused before any work.
const FIELD_MAX: usize = 256;

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct TokenRequest {
    username: String,
    password: String,
}

/// Why a sign-in attempt did not produce tokens.
enum Refusal {
    Missing,
    Throttled(Duration),
    Provider(ProviderError),
}

impl Refusal {
    fn code(&self) -> &'static str {
        match self {
            Refusal::Missing => "missing",
            Refusal::Throttled(_) => "throttled",
            Refusal::Provider(ProviderError::BadCredentials) => "credentials",
            Refusal::Provider(ProviderError::PasswordRejected(_)) => "rejected",
            Refusal::Provider(ProviderError::Expired) => "expired",
            Refusal::Provider(ProviderError::Unavailable(_)) => "unavailable",
        }
    }
}

/// The caller's context for events.
struct Origin {
    address: ClientAddress,
    request_id: RequestId,
}

impl Access {
    /// Throttle, then ask the provider. Records the outcome with the throttle and as an event.
    async fn attempt(
        &self,
        username: &str,
        password: Redacted<String>,
        origin: &Origin,
    ) -> Result<SignInOutcome, Refusal> {
        let username = username.trim();
        if username.is_empty()
            || password.expose().is_empty()
            || username.len() > FIELD_MAX
            || password.expose().len() > FIELD_MAX
        {
            return Err(Refusal::Missing);
        }
        let event = |action, outcome, reason| AuthEvent {
            action,
            outcome,
            actor: username,
            subject: None,
            reason,
            source_ip: Some(origin.address.0),
            request_id: Some(&origin.request_id.0),
        };
        if let Some(wait) = self
            .throttle
            .wait_before_attempt(username, origin.address.0, SignInThrottle::now_ms())
            .await
        {
            let _ = event(AuthAction::SignInThrottled, Outcome::Failure, None)
                .record(&*self.audit)
                .await;
            return Err(Refusal::Throttled(wait));
        }
        match self.provider.sign_in(username, &password).await {
            Ok(outcome) => {
                self.throttle.record_success(username).await;
                Ok(outcome)
            }
            Err(error) => {
                if matches!(error, ProviderError::BadCredentials) {
                    self.throttle
                        .record_failure(username, origin.address.0, SignInThrottle::now_ms())
                        .await;
                }
                let _ = event(
                    AuthAction::SignIn,
                    Outcome::Failure,
                    Some(refusal_reason(&error)),
                )
                .record(&*self.audit)
                .await;
                Err(Refusal::Provider(error))
            }
        }
    }

    /// Verifies fresh tokens with the one verifier and makes the session a signed-in one
    /// under a new id, so an id planted before sign-in never becomes signed in.
    async fn establish(
        &self,
        session: &Session,
        tokens: Tokens,
        origin: &Origin,
        action: AuthAction,
    ) -> Result<Identity, Refusal> {
        let verified = self
            .verifier
            .verify_access(tokens.access.expose())
            .await
            .map_err(|reason| {
                tracing::error!(%reason, "the provider's own access token did not verify");
                Refusal::Provider(ProviderError::Unavailable(reason.to_string()))
            })?;
        let record = SignedIn::new(verified.identity.username.clone(), tokens, unix_now());
        let stored = async {
            session.cycle_id().await?;
            session.remove_value(PENDING_CHALLENGE).await?;
            session.insert(SIGNED_IN, &record).await
        };
        if let Err(error) = stored.await {
            tracing::error!(%error, "cannot store the session");
            return Err(Refusal::Provider(ProviderError::Unavailable(
                error.to_string(),
            )));
        }
        let recorded = AuthEvent {
            action,
            outcome: Outcome::Success,
            actor: &verified.identity.username,
            subject: Some(&verified.identity.subject),
            reason: None,
            source_ip: Some(origin.address.0),
            request_id: Some(&origin.request_id.0),
        }
        .record(&*self.audit)
        .await;
        if let Err(error) = recorded {
            // A sign-in the audit log did not take does not happen.
            let _ = session.flush().await;
            return Err(Refusal::Provider(ProviderError::Unavailable(
                error.to_string(),
            )));
        }
        Ok(verified.identity)
    }
}

fn refusal_reason(error: &ProviderError) -> &'static str {
    match error {
        ProviderError::BadCredentials => "bad credentials",
        ProviderError::PasswordRejected(_) => "password rejected",
        ProviderError::Expired => "expired",
        ProviderError::Unavailable(_) => "provider unavailable",
    }
}

/// `POST /auth/signin` (form): to `next` when signed in, to the new-password form when the
/// provider asks for one, else back to the sign-in form with the reason.
pub async fn sign_in(
    State(access): State<Arc<Access>>,
    address: ClientAddress,
    request_id: RequestId,
    session: Session,
    form: Result<Form<SignInForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return back_to_sign_in("missing", None, None);
    };
    let next = safe_next(form.next.as_deref());
    let origin = Origin {
        address,
        request_id,
    };
    let outcome = access
        .attempt(&form.username, Redacted::new(form.password), &origin)
        .await;
    match outcome {
        Ok(SignInOutcome::Tokens(tokens)) => {
            match access
                .establish(&session, tokens, &origin, AuthAction::SignIn)
                .await
            {
                Ok(_) => Redirect::to(&next).into_response(),
                Err(refusal) => back_to_sign_in(refusal.code(), Some(&next), None),
            }
        }
        Ok(SignInOutcome::NewPasswordRequired { challenge }) => {
            let pending = PendingChallenge {
                username: form.username.trim().to_string(),
                challenge: challenge.into_inner(),
                started_at: unix_now(),
            };
            let stored = async {
                session.cycle_id().await?;
                session.insert(PENDING_CHALLENGE, &pending).await
            };
            match stored.await {
                Ok(()) => Redirect::to(&with_query("/signin/new-password", &[("next", &next)]))
                    .into_response(),
                Err(error) => {
                    tracing::error!(%error, "cannot store the challenge");
                    back_to_sign_in("unavailable", Some(&next), None)
                }
            }
        }
        Err(Refusal::Throttled(wait)) => {
            let seconds = wait.as_secs().max(1).to_string();
            back_to_sign_in("throttled", Some(&next), Some(&seconds))
        }
        Err(refusal) => back_to_sign_in(refusal.code(), Some(&next), None),
    }
}

/// `POST /auth/new-password` (form): answers the provider's new-password challenge.
pub async fn new_password(
    State(access): State<Arc<Access>>,
    address: ClientAddress,
    request_id: RequestId,
    session: Session,
    form: Result<Form<NewPasswordForm>, FormRejection>,
) -> Response {
    let origin = Origin {
        address,
        request_id,
    };
    let Ok(Form(form)) = form else {
        return back_to_new_password("missing", "/executions");
    };
    let next = safe_next(form.next.as_deref());
    let pending = match session.get::<PendingChallenge>(PENDING_CHALLENGE).await {
        Ok(Some(pending)) if unix_now() - pending.started_at < CHALLENGE_LIFETIME_SECS => pending,
        _ => return back_to_sign_in("expired", Some(&next), None),
    };
    if form.new_password.is_empty() || form.new_password.len() > FIELD_MAX {
        return back_to_new_password("missing", &next);
    }
    if form.new_password != form.confirm {
        return back_to_new_password("mismatch", &next);
    }
    let answered = access
        .provider
        .complete_new_password(
            &pending.username,
            &Redacted::new(pending.challenge.clone()),
            &Redacted::new(form.new_password),
        )
        .await;
    match answered {
        Ok(SignInOutcome::Tokens(tokens)) => {
            match access
                .establish(&session, tokens, &origin, AuthAction::NewPassword)
                .await
            {
                Ok(_) => Redirect::to(&next).into_response(),
                Err(refusal) => back_to_sign_in(refusal.code(), Some(&next), None),
            }
        }
        Ok(SignInOutcome::NewPasswordRequired { .. }) => back_to_new_password("rejected", &next),
        Err(ProviderError::PasswordRejected(rule)) => {
            tracing::info!(user = %pending.username, %rule, "new password refused by policy");
            back_to_new_password("rejected", &next)
        }
        Err(error) => {
            let refusal = Refusal::Provider(error);
            back_to_sign_in(refusal.code(), Some(&next), None)
        }
    }
}

/// `POST /auth/signout`: revokes what the provider can revoke and deletes the session.
pub async fn sign_out(
    State(access): State<Arc<Access>>,
    address: ClientAddress,
    request_id: RequestId,
    session: Session,
) -> Response {
    if let Ok(Some(record)) = session.get::<SignedIn>(SIGNED_IN).await {
        if let Err(error) = access
            .provider
            .sign_out(&record.access(), record.refresh().as_ref())
            .await
        {
            tracing::warn!(%error, "the provider could not revoke the tokens at sign-out");
        }
        let _ = AuthEvent {
            action: AuthAction::SignOut,
            outcome: Outcome::Success,
            actor: &record.username,
            subject: None,
            reason: None,
            source_ip: Some(address.0),
            request_id: Some(&request_id.0),
        }
        .record(&*access.audit)
        .await;
    }
    if let Err(error) = session.flush().await {
        tracing::error!(%error, "cannot delete the session at sign-out");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "Signing out failed because the session store is unavailable; please try again.",
        )
            .into_response();
    }
    Redirect::to("/signin?signed_out=1").into_response()
}

/// `POST /auth/token` (JSON `{"username","password"}`): access and id tokens for API clients,
/// which then send `Authorization: Bearer <access_token>`. No refresh token: scripts sign in
/// again.
pub async fn token(
    State(access): State<Arc<Access>>,
    address: ClientAddress,
    request_id: RequestId,
    body: Result<Json<TokenRequest>, JsonRejection>,
) -> Response {
    let Ok(Json(request)) = body else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "Send a JSON body {\"username\": \"…\", \"password\": \"…\"} with Content-Type: application/json.",
        );
    };
    let origin = Origin {
        address,
        request_id,
    };
    let outcome = access
        .attempt(&request.username, Redacted::new(request.password), &origin)
        .await;
    match outcome {
        Ok(SignInOutcome::Tokens(tokens)) => {
            let username = request.username.trim();
            let recorded = AuthEvent {
                action: AuthAction::TokenIssued,
                outcome: Outcome::Success,
                actor: username,
                subject: None,
                reason: None,
                source_ip: Some(origin.address.0),
                request_id: Some(&origin.request_id.0),
            }
            .record(&*access.audit)
            .await;
            if recorded.is_err() {
                return json_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The audit log is unavailable, so no token was issued; try again shortly.",
                );
            }
            (
                [(header::CACHE_CONTROL, "no-store")],
                Json(json!({
                    "access_token": tokens.access.expose(),
                    "id_token": tokens.id.expose(),
                    "token_type": "Bearer",
                    "expires_in": tokens.expires_in.as_secs(),
                })),
            )
                .into_response()
        }
        Ok(SignInOutcome::NewPasswordRequired { .. }) => json_error(
            StatusCode::FORBIDDEN,
            "This account must choose a new password first: sign in once on the web page.",
        ),
        Err(Refusal::Missing) => json_error(
            StatusCode::BAD_REQUEST,
            "Both username and password are needed (at most 256 characters each).",
        ),
        Err(Refusal::Throttled(wait)) => {
            let seconds = wait.as_secs().max(1);
            (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, seconds.to_string())],
                Json(json!({
                    "error": format!("Too many failed sign-ins. Wait {seconds} seconds before trying again.")
                })),
            )
                .into_response()
        }
        Err(Refusal::Provider(error)) => {
            let status = match error {
                ProviderError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::UNAUTHORIZED,
            };
            json_error(status, &error.public_message())
        }
    }
}

fn json_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn back_to_sign_in(code: &str, next: Option<&str>, retry_after: Option<&str>) -> Response {
    let mut query = vec![("error", code)];
    if let Some(next) = next {
        query.push(("next", next));
    }
    if let Some(seconds) = retry_after {
        query.push(("retry_after", seconds));
    }
    Redirect::to(&with_query("/signin", &query)).into_response()
}

fn back_to_new_password(code: &str, next: &str) -> Response {
    Redirect::to(&with_query(
        "/signin/new-password",
        &[("error", code), ("next", next)],
    ))
    .into_response()
}

/// `path?k=v&…` with the values percent-encoded.
pub(crate) fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    match serde_urlencoded::to_string(pairs) {
        Ok(query) if !query.is_empty() => format!("{path}?{query}"),
        _ => path.to_string(),
    }
}
