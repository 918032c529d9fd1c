//! Server functions sent by a plain HTML form (server only).
//!
//! A browser that sends a form — with JavaScript off, or through the islands' page loader —
//! asks for a page (`Accept: text/html`), not for data. Leptos answers such a request with a
//! redirect back to the form's page, with a failure's error in the query (`__path`, `__err`);
//! [`answer_form`] adds the success's outcome the same way, so the page the browser lands on
//! can say what happened either way.

use leptos::prelude::use_context;

use crate::models::navigation::back_with_outcome;

/// Whether this request is a form posted by a browser expecting a page back.
pub fn is_form_post() -> bool {
    use_context::<http::request::Parts>().is_some_and(|parts| {
        parts.method == http::Method::POST
            && parts
                .headers
                .get(http::header::ACCEPT)
                .and_then(|accept| accept.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
    })
}

/// For a form post, sends the browser back to the form's page with `key=value` (one of
/// [`crate::models::navigation::outcome`]) saying how it went. API clients get the server
/// function's value as before.
pub fn answer_form(key: &str, value: &str) {
    if !is_form_post() {
        return;
    }
    let referer = use_context::<http::request::Parts>().and_then(|parts| {
        parts
            .headers
            .get(http::header::REFERER)
            .and_then(|referer| referer.to_str().ok())
            .map(str::to_string)
    });
    leptos_axum::redirect(&back_with_outcome(referer.as_deref(), key, value));
}

/// For a form post, sends the browser to `page` (a path of this site) with `key=value`: for a
/// form whose own page is gone once it has succeeded, like a deleted endpoint's.
pub fn answer_form_at(page: &str, key: &str, value: &str) {
    if is_form_post() {
        leptos_axum::redirect(&back_with_outcome(Some(page), key, value));
    }
}
