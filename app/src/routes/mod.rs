//! One module per page.

pub mod about;
pub mod approval;
pub mod approvals;
pub mod audit;
pub mod commit_lineage;
pub mod endpoint;
pub mod endpoints;
pub mod execution;
pub mod executions;
pub mod lineage;
pub mod me;
pub mod not_found;
pub mod playground;
pub mod signin;
pub mod users;
