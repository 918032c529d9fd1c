//! Gatehouse's embedded workflow engine: runs Amazon States Language definitions with
//! AWS Step Functions semantics, provides a local SageMaker, and keeps everything in one
//! SQLite file. A plain library: no web code.
//!
//! Entry point: [`Engine::open`] with an [`EngineConfig`].

// A definition, an input or a stored record the engine did not expect gets an error that says
// so, never a panic: `unwrap`, `expect` and indexing are denied outside tests (clippy.toml lets
// tests keep them).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

pub mod api;
pub mod asl;
pub mod callbacks;
pub mod clock;
pub mod engine;
pub mod error;
pub mod integrations;
pub mod jsonata;
pub mod pipeline;
pub mod runtime;
pub mod sagemaker;
pub mod store;

pub use callbacks::{pending_callbacks, PendingCallback};
pub use engine::{
    Engine, EngineConfig, EngineError, ExecutionDescription, ExecutionList, ExecutionStatus,
    ExecutionSummary, HistoryPage, HistoryRequest, ListExecutionsRequest, Notification,
    StartedExecution, APPROVAL_NOTIFIER, ENDPOINT_NOTIFIER,
};
pub use error::StatesError;
pub use integrations::lambda::{handler, FunctionError, LambdaHandler, LambdaRequest};
pub use runtime::Limits;
pub use sagemaker::{LocalSageMaker, SageMakerError};

#[cfg(test)]
mod tests {
    /// The server keeps one engine in its state and clones it into handlers.
    #[test]
    fn the_engine_can_be_shared_across_tasks() {
        fn shareable<T: Send + Sync + Clone + 'static>() {}
        shareable::<crate::Engine>();
    }
}
