//! Recording what server functions do in the audit log (server only). Every state-changing
//! server function checks its role through [`require_audited`], so a refused attempt is
//! recorded too, and records its outcome with [`record`] before it answers.

use leptos::prelude::use_context;

use crate::errors::AppError;
use crate::models::audit::{AuditEntry, AuditOutcome};
use crate::models::identity::{Identity, Role};
use crate::state::{Caller, RequestOrigin};

fn origin() -> RequestOrigin {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<RequestOrigin>().cloned())
        .unwrap_or(RequestOrigin {
            request_id: "-".into(),
            source_ip: "-".into(),
        })
}

/// The entry for an action of `who` (or of nobody signed in), stamped with this request.
pub fn entry(
    who: Option<&Identity>,
    action: &str,
    target: &str,
    outcome: AuditOutcome,
    details: serde_json::Value,
) -> AuditEntry {
    entry_from(origin(), who, action, target, outcome, details)
}

/// The entry for an action of `who`, stamped with `origin` (a request that is not a server
/// function's, where the origin is not in Leptos's context).
pub fn entry_from(
    origin: RequestOrigin,
    who: Option<&Identity>,
    action: &str,
    target: &str,
    outcome: AuditOutcome,
    details: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        actor: who
            .map(|i| i.username.clone())
            .unwrap_or_else(|| "-".into()),
        roles: who
            .map(|i| i.roles.iter().map(|r| r.as_str().to_string()).collect())
            .unwrap_or_default(),
        action: action.into(),
        target: target.into(),
        outcome,
        request_id: origin.request_id,
        source_ip: origin.source_ip,
        details: details.to_string(),
    }
}

/// Appends one record and waits until it is durable. When the log cannot take it the caller
/// is told (503): an action must not answer success without its record.
pub async fn record(
    who: Option<&Identity>,
    action: &str,
    target: &str,
    outcome: AuditOutcome,
    details: serde_json::Value,
) -> Result<(), AppError> {
    let audit = crate::state::server_context()?.audit;
    audit
        .append(entry(who, action, target, outcome, details))
        .await
        .map(|_| ())
        .map_err(|error| crate::functions::access::answer(AppError::from(error)))
}

/// Like [`crate::functions::access::require`], but a refusal is recorded as `action` on
/// `target` with outcome `refused` before it is answered.
pub async fn require_audited(role: Role, action: &str, target: &str) -> Result<Identity, AppError> {
    match crate::functions::access::require(role) {
        Ok(identity) => Ok(identity),
        Err(refusal) => {
            let caller = crate::functions::access::caller();
            let who = match &caller {
                Caller::SignedIn { identity, .. } => Some(identity),
                Caller::Anonymous => None,
            };
            let details = serde_json::json!({ "reason": refusal.to_string() });
            if let Err(error) = record(who, action, target, AuditOutcome::Refused, details).await {
                tracing::error!(%error, action, "cannot record a refused attempt");
            }
            Err(refusal)
        }
    }
}
