//! Server functions: the only door from the browser to the server.

pub mod about;
#[cfg(feature = "ssr")]
pub mod access;
pub mod approvals;
pub mod audit;
#[cfg(feature = "ssr")]
pub mod audit_trail;
pub mod endpoints;
#[cfg(feature = "ssr")]
pub mod execution_graph;
pub mod executions;
#[cfg(feature = "ssr")]
pub mod form_post;
pub mod identity;
#[cfg(feature = "ssr")]
pub mod inference;
pub mod lineage;
#[cfg(feature = "ssr")]
pub mod live;
pub mod playground;
#[cfg(feature = "ssr")]
pub mod superseding;
