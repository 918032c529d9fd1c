//! Browser tests: the release server, driven in headless Chromium.
//!
//! Each test starts its own server and browser, so they can run in parallel.

mod about;
mod approvals;
mod console;
mod endpoints;
mod executions;
mod not_found;
mod signin;
mod without_javascript;
