//! Sign-in and sign-out events. Today they are structured log lines under the `audit` target;
//! the audit log (its own issue) will append them to its hash chain. They carry who, what,
//! the outcome and where from — never a password, token or challenge.

use std::net::IpAddr;

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
    pub fn emit(&self) {
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
