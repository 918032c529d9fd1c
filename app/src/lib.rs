//! Gatehouse's Leptos application: the shell, the router and everything the pages need.
//!
//! Dependencies flow one way: `routes` (pages) → `components` (reusable UI) → `functions`
//! (server functions, the only door to the server) → `models` (shared types), `errors`,
//! `state`. Nothing lower imports anything higher. `browser` is the islands' own lower layer:
//! what they do to the page in the browser, compiled for the browser only.
//!
//! Built with Leptos islands: every page, table and picture renders on the server only, and
//! just the parts marked `#[island]` (all in `components`, each saying why it must run in the
//! browser) are compiled into the WebAssembly bundle. A page that only shows data adds
//! nothing to what the browser downloads.

// A request, a stored record or a page the code did not expect gets an error or the documented
// fallback, never a panic: `unwrap`, `expect` and indexing are denied outside tests (clippy.toml
// lets tests keep them), on the server and in the browser alike.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

#[cfg(feature = "ssr")]
pub mod audit;
#[cfg(feature = "ssr")]
pub mod ballots;
#[cfg(feature = "hydrate")]
pub mod browser;
pub mod components;
#[cfg(feature = "ssr")]
pub mod control_plane;
pub mod errors;
#[cfg(feature = "ssr")]
pub mod evidence;
pub mod functions;
pub mod models;
#[cfg(feature = "ssr")]
pub mod rate_limit;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use components::nav::TopBar;
use components::session::provide_session_user;
use routes::{
    about::AboutPage,
    approval::ApprovalPage,
    approvals::ApprovalsPage,
    audit::AuditPage,
    commit_lineage::CommitLineagePage,
    endpoint::EndpointPage,
    endpoints::EndpointsPage,
    execution::ExecutionPage,
    executions::ExecutionsPage,
    lineage::LineagePage,
    me::MePage,
    not_found::NotFoundPage,
    playground::PlaygroundPage,
    signin::{NewPasswordPage, SignInPage},
    users::UsersPage,
};

/// The HTML document around the application, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                // Applies a remembered theme before the first paint, so a reload never flashes
                // the other theme. It only reads; the switch itself is an island.
                <script src="/theme-init.js"></script>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_session_user();

    view! {
        <Stylesheet id="leptos" href="/pkg/gatehouse.css"/>
        <Title formatter=|page: String| format!("{page} · Gatehouse")/>
        <Router>
            <TopBar/>
            <main class="page">
                // Every page is rendered whole before the first byte is sent (`SsrMode::Async`):
                // a 401/403 status can still be set once the role is known, and no part of a
                // page waits for a script to swap it in, which would leave the top bar empty
                // with JavaScript off and in pages the islands fetch and show in place. (The
                // 404 fallback is streamed in order by leptos_axum: also script-free.)
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/executions") ssr=SsrMode::Async view=ExecutionsPage/>
                    <Route path=path!("/executions/:id") ssr=SsrMode::Async view=ExecutionPage/>
                    <Route path=path!("/approvals") ssr=SsrMode::Async view=ApprovalsPage/>
                    <Route path=path!("/approvals/:id") ssr=SsrMode::Async view=ApprovalPage/>
                    <Route path=path!("/lineage") ssr=SsrMode::Async view=LineagePage/>
                    <Route path=path!("/lineage/:commit") ssr=SsrMode::Async view=CommitLineagePage/>
                    <Route path=path!("/endpoints") ssr=SsrMode::Async view=EndpointsPage/>
                    <Route path=path!("/endpoints/:name") ssr=SsrMode::Async view=EndpointPage/>
                    <Route path=path!("/playground") ssr=SsrMode::Async view=PlaygroundPage/>
                    <Route path=path!("/audit") ssr=SsrMode::Async view=AuditPage/>
                    <Route path=path!("/admin/users") ssr=SsrMode::Async view=UsersPage/>
                    <Route path=path!("/me") ssr=SsrMode::Async view=MePage/>
                    <Route path=path!("/signin") ssr=SsrMode::Async view=SignInPage/>
                    <Route path=path!("/signin/new-password") ssr=SsrMode::Async view=NewPasswordPage/>
                    <Route path=path!("/about") ssr=SsrMode::Async view=AboutPage/>
                </Routes>
            </main>
        </Router>
    }
}

/// The browser's entry: hydrates the islands on the page (and nothing else).
#[cfg(feature = "hydrate")]
pub fn hydrate_islands() {
    leptos::mount::hydrate_islands();
}
