//! The engine's integration tests, in one binary: the execution API, the CLI, crash recovery,
//! the seed pipeline end to end, an overtaken deployment, replay after a restart, parked
//! executions, the local SageMaker, the interpreter against AWS's examples, workflow
//! variables, JSONata states, and the JSONata evaluator against JSONata's test suite.

mod common;

mod api;
mod cli;
mod crash;
mod deployments;
mod edges;
mod jsonata_states;
mod jsonata_suite;
mod parking;
mod pipeline;
mod pipeline_jsonata;
mod replay;
mod sagemaker;
mod states;
mod variable_scopes;
mod variables;
