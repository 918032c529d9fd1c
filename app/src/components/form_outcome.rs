//! How a page learns what became of one of its forms: the server sends the browser back to
//! the page with the outcome in the address (see `functions::form_post`), or with the error
//! Leptos puts there for a failed server function. Read while rendering on the server, so the
//! answer shows with JavaScript or without.

use leptos::prelude::*;
use leptos::server_fn::error::ServerFnUrlError;
use leptos_router::hooks::use_query_map;

use crate::errors::AppError;
use crate::models::navigation::outcome;

/// The outcome recorded under `key` (one of [`outcome`]'s keys), if the page has one.
pub fn form_outcome(key: &str) -> Option<String> {
    use_query_map().with_untracked(|query| query.get(key).filter(|v| !v.is_empty()))
}

/// The error of the server function at `path` (its `ServerFn::PATH`), if that form failed.
pub fn form_error(path: &str) -> Option<AppError> {
    use_query_map().with_untracked(|query| {
        let failed = query.get(outcome::ERROR_PATH)?;
        let error = query.get(outcome::ERROR)?;
        (failed == path).then(|| ServerFnUrlError::<AppError>::decode_err(&error))
    })
}
