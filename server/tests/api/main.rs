//! Integration tests of the server: the real router on a real socket, a real HTTP client.
//! The AWS adapters are tested here too, against moto on loopback (`moto.rs`).

mod about;
mod approvals;
mod audit;
mod aws_endpoints;
mod aws_identity;
mod aws_instances;
mod aws_pipeline;
mod cognito;
mod contract;
mod dynamo_audit;
mod dynamo_sessions;
mod endpoints;
mod evidence;
mod executions;
mod health;
mod helpers;
mod identity;
mod inference;
mod leaks;
mod live;
mod moto;
mod pages;
mod security_matrix;
mod superseding;
