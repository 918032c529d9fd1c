//! Types shared by the server and the browser. Plain data: no I/O, no framework state.

pub mod about;
pub mod approvals;
pub mod audit;
pub mod commit;
pub mod commit_tags;
pub mod copy;
pub mod countdown;
pub mod endpoints;
pub mod evidence;
pub mod executions;
pub mod identity;
pub mod inference;
pub mod lineage;
pub mod live;
pub mod navigation;
pub mod pipeline;
pub mod playground;
pub mod section;
