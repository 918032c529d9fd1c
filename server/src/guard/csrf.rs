//! Refuses state-changing requests that a browser says come from another site.
//!
//! Browsers send `Sec-Fetch-Site` on every request and `Origin` on every POST; a forged form
//! or `fetch` from another site cannot suppress either. So a request that changes state
//! (anything but GET, HEAD, OPTIONS) is refused when `Sec-Fetch-Site` is `cross-site` or
//! `same-site` (a sibling subdomain is another site for us), or when `Origin` names a host
//! other than the one addressed. Clients that are not browsers (curl, the pipeline) send
//! neither header and authenticate with a bearer token, which a browser never attaches by
//! itself, so they pass. State is never changed by GET anywhere in Gatehouse, so GET needs no
//! check.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn refuse_cross_site(request: Request<Body>, next: Next) -> Response {
    if is_safe_method(request.method()) {
        return next.run(request).await;
    }
    match cross_site_reason(&request) {
        None => next.run(request).await,
        Some(reason) => {
            tracing::warn!(
                method = %request.method(),
                path = %request.uri().path(),
                reason,
                "refused a cross-site state-changing request"
            );
            (
                StatusCode::FORBIDDEN,
                "This request came from another site, so Gatehouse refused it. \
                 Open Gatehouse directly and try again.",
            )
                .into_response()
        }
    }
}

fn is_safe_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Why the request looks cross-site, or `None` when it does not.
fn cross_site_reason(request: &Request<Body>) -> Option<&'static str> {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        match site.as_bytes() {
            b"same-origin" | b"none" => {}
            _ => return Some("sec-fetch-site is not same-origin"),
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok());
        let origin_host = origin
            .to_str()
            .ok()
            .and_then(|origin| origin.split_once("://").map(|(_, rest)| rest));
        match (origin_host, host) {
            (Some(origin_host), Some(host)) if origin_host.eq_ignore_ascii_case(host) => {}
            _ => return Some("origin does not match host"),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, headers: &[(&str, &str)]) -> Request<Body> {
        let mut builder = Request::builder()
            .method(method)
            .uri("/api/decide")
            .header(header::HOST, "gatehouse.example:3000");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).expect("request")
    }

    #[test]
    fn a_post_from_another_origin_is_cross_site() {
        let forged = request(Method::POST, &[("origin", "https://evil.example")]);
        assert_eq!(
            cross_site_reason(&forged),
            Some("origin does not match host")
        );
    }

    #[test]
    fn a_post_the_browser_marks_cross_site_is_refused_even_without_origin() {
        let forged = request(Method::POST, &[("sec-fetch-site", "cross-site")]);
        assert!(cross_site_reason(&forged).is_some());
        let sibling = request(Method::POST, &[("sec-fetch-site", "same-site")]);
        assert!(cross_site_reason(&sibling).is_some());
    }

    #[test]
    fn a_same_origin_post_passes() {
        let own = request(
            Method::POST,
            &[
                ("origin", "http://gatehouse.example:3000"),
                ("sec-fetch-site", "same-origin"),
            ],
        );
        assert_eq!(cross_site_reason(&own), None);
    }

    #[test]
    fn a_non_browser_client_without_either_header_passes() {
        assert_eq!(cross_site_reason(&request(Method::POST, &[])), None);
    }

    #[test]
    fn an_origin_on_another_port_is_another_origin() {
        let other_port = request(Method::POST, &[("origin", "http://gatehouse.example:4000")]);
        assert!(cross_site_reason(&other_port).is_some());
    }

    #[test]
    fn an_opaque_origin_is_refused() {
        // Sandboxed iframes and some redirects send `Origin: null`.
        let opaque = request(Method::POST, &[("origin", "null")]);
        assert!(cross_site_reason(&opaque).is_some());
    }
}
