//! Sign-in and sign-out events: appended to the audit log's hash chain, and written as a
//! structured log line under the `audit` target for log collectors. They carry who, what, the
//! outcome and where from — never a password, token or challenge.

use std::net::IpAddr;

use app::audit::{AuditError, AuditLog};
use app::models::audit::{AuditEntry, AuditOutcome};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthAction {
    SignIn,
    SignInThrottled,
    NewPassword,
    SignOut,
    TokenIssued,
    /// A session ended without the user: timeout, revoked user, failed refresh.
    SessionEnded,
    BearerRefused,
}

impl AuthAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthAction::SignIn => "sign_in",
            AuthAction::SignInThrottled => "sign_in_throttled",
            AuthAction::NewPassword => "new_password",
            AuthAction::SignOut => "sign_out",
            AuthAction::TokenIssued => "token_issued",
            AuthAction::SessionEnded => "session_ended",
            AuthAction::BearerRefused => "bearer_refused",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

/// One event. `actor` is the username as typed for failures (it may not exist).
#[derive(Debug, Clone)]
pub struct AuthEvent<'a> {
    pub action: AuthAction,
    pub outcome: Outcome,
    pub actor: &'a str,
    pub subject: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub source_ip: Option<IpAddr>,
    pub request_id: Option<&'a str>,
}

impl AuthEvent<'_> {
    /// Logs the event and appends it to the audit log; answers once the record is durable.
    pub async fn record(&self, audit: &dyn AuditLog) -> Result<(), AuditError> {
        self.log();
        let source_ip = self.source_ip.map(|ip| ip.to_string());
        let details = match (self.subject, self.reason) {
            (None, None) => serde_json::json!({}),
            (subject, reason) => serde_json::json!({ "subject": subject, "reason": reason }),
        };
        let appended = audit
            .append(AuditEntry {
                actor: self.actor.to_string(),
                roles: Vec::new(),
                action: format!("auth.{}", self.action.as_str()),
                target: self.subject.unwrap_or("-").to_string(),
                outcome: match self.outcome {
                    Outcome::Success => AuditOutcome::Success,
                    Outcome::Failure => AuditOutcome::Failure,
                },
                request_id: self.request_id.unwrap_or("-").to_string(),
                source_ip: source_ip.unwrap_or_else(|| "-".into()),
                details: details.to_string(),
            })
            .await;
        if let Err(error) = &appended {
            tracing::error!(%error, action = self.action.as_str(), "cannot append an auth event to the audit log");
        }
        appended.map(|_| ())
    }

    fn log(&self) {
        let outcome = match self.outcome {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        };
        let source_ip = self.source_ip.map(|ip| ip.to_string());
        tracing::info!(
            target: "audit",
            action = self.action.as_str(),
            outcome,
            actor = self.actor,
            subject = self.subject.unwrap_or("-"),
            reason = self.reason.unwrap_or("-"),
            source_ip = source_ip.as_deref().unwrap_or("-"),
            request_id = self.request_id.unwrap_or("-"),
            "auth event"
        );
    }
}
