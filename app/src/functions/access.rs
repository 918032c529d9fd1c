//! The one check every server function makes before it does anything: who is asking, and
//! may they? (Server only.) The UI hiding a button is never the check; this is.

use leptos::prelude::use_context;

use crate::errors::AppError;
use crate::models::identity::{Identity, Role};
use crate::state::Caller;

/// The caller the server's access layer put on this request. A request that somehow skipped
/// that layer is anonymous: failing closed.
pub fn caller() -> Caller {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>().cloned())
        .unwrap_or(Caller::Anonymous)
}

/// The signed-in caller, whatever their roles, or 401.
pub fn require_signed_in() -> Result<Identity, AppError> {
    match caller() {
        Caller::SignedIn { identity, .. } => Ok(identity),
        Caller::Anonymous => Err(answer(AppError::NotSignedIn)),
    }
}

/// The signed-in caller when one of their roles satisfies `role`; else 401 (not signed in)
/// or 403 (signed in without the role).
pub fn require(role: Role) -> Result<Identity, AppError> {
    let identity = require_signed_in()?;
    if identity.has(role) {
        Ok(identity)
    } else {
        Err(answer(AppError::Forbidden { required: role }))
    }
}

/// Sets the response status to the error's, so an API client sees 401/403, not 500. A form
/// posted by a browser keeps its redirect back to the form's page instead, which carries the
/// error for the page to show (see [`crate::functions::form_post`]).
pub fn answer(error: AppError) -> AppError {
    if crate::functions::form_post::is_form_post() {
        return error;
    }
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(error.status());
    }
    error
}
