//! Gatehouse's Leptos application: the shell, the router and everything the pages need.
//!
//! Dependencies flow one way: `routes` (pages) → `components` (reusable UI) → `functions`
//! (server functions, the only door to the server) → `models` (shared types), `errors`,
//! `state`. Nothing lower imports anything higher.

#[cfg(feature = "ssr")]
pub mod audit;
pub mod components;
#[cfg(feature = "ssr")]
pub mod control_plane;
pub mod errors;
pub mod functions;
pub mod models;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use components::live::provide_live;
use components::nav::TopBar;
use components::session::provide_session_user;
use models::section::Section;
use routes::{
    about::AboutPage,
    approval::ApprovalPage,
    approvals::ApprovalsPage,
    audit::AuditPage,
    execution::ExecutionPage,
    executions::ExecutionsPage,
    me::MePage,
    not_built::NotBuiltPage,
    not_found::NotFoundPage,
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
                // the other theme. It only reads; the switch itself needs the hydrated app.
                <script src="/theme-init.js"></script>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
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
    provide_live();

    view! {
        <Stylesheet id="leptos" href="/pkg/gatehouse.css"/>
        <Title formatter=|page: String| format!("{page} · Gatehouse")/>
        <Router>
            <TopBar/>
            <main class="page">
                // Pages that answer 401/403 are rendered whole before the first byte is sent
                // (`SsrMode::Async`), so the status can still be set when the role is known.
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/executions") ssr=SsrMode::Async view=ExecutionsPage/>
                    <Route path=path!("/executions/:id") ssr=SsrMode::Async view=ExecutionPage/>
                    <Route path=path!("/approvals") ssr=SsrMode::Async view=ApprovalsPage/>
                    <Route path=path!("/approvals/:id") ssr=SsrMode::Async view=ApprovalPage/>
                    <Route path=path!("/lineage") ssr=SsrMode::Async view=|| view! { <NotBuiltPage section=Section::Lineage/> }/>
                    <Route path=path!("/endpoints") ssr=SsrMode::Async view=|| view! { <NotBuiltPage section=Section::Endpoints/> }/>
                    <Route path=path!("/playground") ssr=SsrMode::Async view=|| view! { <NotBuiltPage section=Section::Playground/> }/>
                    <Route path=path!("/audit") ssr=SsrMode::Async view=AuditPage/>
                    <Route path=path!("/admin/users") ssr=SsrMode::Async view=UsersPage/>
                    <Route path=path!("/me") ssr=SsrMode::Async view=MePage/>
                    <Route path=path!("/signin") view=SignInPage/>
                    <Route path=path!("/signin/new-password") view=NewPasswordPage/>
                    <Route path=path!("/about") view=AboutPage/>
                </Routes>
            </main>
        </Router>
    }
}
