//! The security headers every answer carries: a Content-Security-Policy that lets the pages run
//! their own bundle and the one inline script they need (by its hash), and nothing else; and,
//! when the session cookie is `Secure` (the site is reached over HTTPS), Strict-Transport-
//! Security.
//!
//! The inline scripts are Leptos' own: the island loader (`HydrationScripts`), which imports the
//! bundle and wakes the islands, and the two chunks its server rendering writes around every
//! page for resources handed to the browser (`__RESOLVED_RESOURCES=[];…` and
//! `__INCOMPLETE_CHUNKS=[];`). Pages are islands and hand no resource over, so those are empty
//! and the same on every page; the loader's text depends only on the site's settings (bundle
//! path and names). So all are made once at start-up, by the same code that writes them into
//! pages, and their SHA-256 hashes go into the policy; every page carries the same header. WebAssembly needs `'wasm-unsafe-eval'` to be compiled at all; it
//! allows no `eval` of JavaScript.

use aws_lc_rs::digest::{digest, SHA256};
use axum::http::HeaderValue;
use base64::Engine;
use leptos::prelude::*;
use leptos::tachys::view::RenderHtml;

/// A year, as HSTS preload lists expect.
pub const HSTS: &str = "max-age=31536000";

/// The inline `<script>` bodies of the islands' loader for this site.
fn loader_scripts(options: &LeptosOptions) -> Vec<String> {
    let options = options.clone();
    let html =
        Owner::new().with(move || view! { <HydrationScripts options islands=true/> }.to_html());
    html.split("<script")
        .skip(1)
        .filter_map(|rest| {
            let (attributes, body) = rest.split_once('>')?;
            if attributes.contains(" src=") {
                return None;
            }
            Some(body.split_once("</script>")?.0.to_string())
        })
        .collect()
}

/// The scripts the server rendering writes for resources, as they are when a page hands none to
/// the browser.
fn empty_resource_scripts() -> Vec<String> {
    use futures_util::StreamExt;
    use hydration_context::{SharedContext, SsrSharedContext};
    use std::task::{Context, Poll, Waker};

    let Some(mut chunks) = SsrSharedContext::new_islands().pending_data() else {
        return Vec::new();
    };
    // Nothing is pending, so every chunk is ready at once: no executor is needed.
    let mut context = Context::from_waker(Waker::noop());
    let mut scripts = Vec::new();
    while let Poll::Ready(Some(chunk)) = chunks.poll_next_unpin(&mut context) {
        scripts.push(chunk);
    }
    scripts
}

/// `'sha256-…'`, as a policy names an inline script.
pub fn script_hash(body: &str) -> String {
    let sum = digest(&SHA256, body.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(sum.as_ref())
    )
}

/// The Content-Security-Policy for this site.
pub fn content_security_policy(options: &LeptosOptions) -> HeaderValue {
    let hashes: Vec<String> = loader_scripts(options)
        .iter()
        .chain(&empty_resource_scripts())
        .map(|body| script_hash(body))
        .collect();
    let policy = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {}; style-src 'self' \
         'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        hashes.join(" ")
    );
    // Only ASCII goes in: keywords, URLs of this site and base64.
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_the_base64_sha256_of_the_script_text() {
        // printf 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert_eq!(
            script_hash("alert(1)"),
            "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
        );
    }

    #[test]
    fn the_resource_scripts_declare_empty_lists() {
        let scripts = empty_resource_scripts();
        assert_eq!(scripts.len(), 2, "{scripts:?}");
        assert!(
            scripts[0].starts_with("__RESOLVED_RESOURCES=[]"),
            "{scripts:?}"
        );
        assert_eq!(scripts[1], "__INCOMPLETE_CHUNKS=[];");
    }

    #[test]
    fn the_loader_is_one_inline_module_script_naming_the_bundle() {
        let options = LeptosOptions::builder()
            .output_name("gatehouse")
            .site_pkg_dir("pkg")
            .build();
        let scripts = loader_scripts(&options);
        assert_eq!(scripts.len(), 1, "{scripts:?}");
        assert!(scripts[0].contains("\"pkg\""), "{}", scripts[0]);
        assert!(scripts[0].contains("\"gatehouse\""), "{}", scripts[0]);
    }
}
