//! HTTP routes served by axum directly (the pages are Leptos routes in `app`).

pub mod health;
