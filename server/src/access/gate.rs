//! Anonymous page views go to the sign-in page, which sends them back after sign-in.
//!
//! Only page GETs are redirected; the bundle, static files, health checks, the sign-in pages
//! and `/about` stay public, and server functions and API routes answer 401 themselves.

use app::state::Caller;
use axum::body::Body;
use axum::http::{Method, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::handlers::with_query;

/// Paths anyone may load.
const PUBLIC_PAGES: &[&str] = &[
    "/signin",
    "/signin/new-password",
    "/about",
    "/healthz",
    "/readyz",
];
/// Paths that are not pages and answer 401 themselves (the live-updates stream).
const STREAMS: &[&str] = &["/events"];
/// Prefixes that are not pages.
const NOT_PAGES: &[&str] = &["/pkg/", "/api/", "/auth/", "/.well-known/", "/v1/"];

pub async fn send_anonymous_to_sign_in(request: Request<Body>, next: Next) -> Response {
    let anonymous = !matches!(
        request.extensions().get::<Caller>(),
        Some(Caller::SignedIn { .. })
    );
    if anonymous && request.method() == Method::GET && is_private_page(request.uri().path()) {
        let target = request
            .uri()
            .path_and_query()
            .map(|path| path.as_str())
            .unwrap_or("/");
        return Redirect::to(&with_query("/signin", &[("next", target)])).into_response();
    }
    next.run(request).await
}

fn is_private_page(path: &str) -> bool {
    if PUBLIC_PAGES.contains(&path)
        || STREAMS.contains(&path)
        || NOT_PAGES.iter().any(|prefix| path.starts_with(prefix))
    {
        return false;
    }
    // A file name (favicon.svg, theme-init.js): a static asset, not a page.
    let last = path.rsplit('/').next().unwrap_or("");
    !last.contains('.')
}

#[cfg(test)]
mod tests {
    use super::is_private_page;

    #[test]
    fn pages_are_private_and_assets_and_sign_in_are_not() {
        for path in [
            "/",
            "/executions",
            "/approvals",
            "/me",
            "/admin/users",
            "/no-such-page",
        ] {
            assert!(is_private_page(path), "{path}");
        }
        for path in [
            "/signin",
            "/signin/new-password",
            "/about",
            "/healthz",
            "/pkg/gatehouse.wasm",
            "/favicon.svg",
            "/theme-init.js",
            "/api/current_user",
            "/auth/signin",
            "/.well-known/jwks.json",
        ] {
            assert!(!is_private_page(path), "{path}");
        }
    }
}
