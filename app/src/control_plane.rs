//! The pipeline control plane: the one port through which pages and server functions read and
//! drive the pipeline (server only). Two adapters implement it — the embedded engine (local
//! mode) and Step Functions + SageMaker + S3 (aws mode) — and one contract suite holds both to
//! the same behaviour, so nothing above this trait knows which one is behind it.

use std::fmt::Debug;

use crate::errors::AppError;
use crate::models::commit_tags::{CommitTags, ResourceKind};
use crate::models::inference::Invocation;
use crate::models::lineage::Deployment;
use crate::models::pipeline::{
    Decision, Endpoint, EndpointConfig, ExecutionDetail, ExecutionPage, ExecutionQuery,
    ExecutionRef, ExecutionStatus, ExecutionSummary, HistoryEvent, InputError, Model,
    PendingApproval, StartRequest, StoredObject, TrainingJob, TransformJob,
};

/// What can go wrong behind the port, sorted by what the person asking can do about it.
/// Messages are for people; adapters log the internal detail before building one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PipelineError {
    /// The request itself is wrong (bad name, malformed ARN, not JSON…).
    #[error("{0}")]
    Invalid(String),
    /// The execution, job, model or endpoint does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with what exists: a name already used, an approval already
    /// decided, an endpoint that is busy.
    #[error("{0}")]
    Conflict(String),
    /// The backend asked us to slow down and retries did not get through.
    #[error("{0}")]
    Throttled(String),
    /// The backend refused Gatehouse's own credentials (IAM), not the user's.
    #[error("{0}")]
    AccessDenied(String),
    /// The backend could not be reached or failed.
    #[error("{0}")]
    Unavailable(String),
    /// The model behind an endpoint answered an invocation with an error of its own
    /// (SageMaker's `ModelError`): its status and message, as the model gave them.
    #[error("{message}")]
    ModelError {
        message: String,
        original_status: Option<u16>,
    },
    /// The endpoint cannot answer yet: its model is still being deployed or loaded
    /// (SageMaker's `ModelNotReadyException`). Worth trying again shortly.
    #[error("{0}")]
    ModelNotReady(String),
    /// An object is larger than the caller is willing to read; the sentence names it, its
    /// size and the bound.
    #[error("{0}")]
    TooLarge(String),
}

impl From<InputError> for PipelineError {
    fn from(error: InputError) -> Self {
        PipelineError::Invalid(error.0)
    }
}

impl From<PipelineError> for AppError {
    fn from(error: PipelineError) -> Self {
        match error {
            PipelineError::Invalid(m) => AppError::InvalidInput(m),
            PipelineError::NotFound(m) => AppError::NotFound(m),
            PipelineError::Conflict(m) => AppError::Conflict(m),
            PipelineError::TooLarge(m) => AppError::InvalidInput(m),
            PipelineError::Throttled(m)
            | PipelineError::AccessDenied(m)
            | PipelineError::Unavailable(m)
            | PipelineError::ModelNotReady(m)
            | PipelineError::ModelError { message: m, .. } => AppError::Upstream(m),
        }
    }
}

/// Everything the dashboard reads from and does to the pipeline.
#[async_trait::async_trait]
pub trait ControlPlane: Send + Sync + Debug {
    // --- Step Functions ---------------------------------------------------------------

    /// Executions of the pipeline's state machine, newest first, optionally of one status,
    /// a page at a time.
    async fn list_executions(&self, query: &ExecutionQuery)
        -> Result<ExecutionPage, PipelineError>;

    async fn describe_execution(
        &self,
        execution: &ExecutionRef,
    ) -> Result<ExecutionDetail, PipelineError>;

    /// The whole history, oldest first, task tokens redacted.
    async fn execution_history(
        &self,
        execution: &ExecutionRef,
    ) -> Result<Vec<HistoryEvent>, PipelineError>;

    /// How many executions [`ControlPlane::list_executions`] lists with this status filter,
    /// when the backend can count them without listing them; `None` otherwise (Step
    /// Functions has no count, so the list reads the executions to count them).
    async fn count_executions(
        &self,
        status: Option<ExecutionStatus>,
    ) -> Result<Option<usize>, PipelineError> {
        let _ = status;
        Ok(None)
    }

    /// The state each running execution is in, for a page of the list, in order. Adapters
    /// answer from what they can read cheaply; `None` where unknown. The default knows only
    /// what the summaries already carry.
    async fn current_states(&self, executions: &[ExecutionSummary]) -> Vec<Option<String>> {
        executions.iter().map(|e| e.current_state.clone()).collect()
    }

    /// The pipeline state machine's definition (Amazon States Language JSON).
    async fn definition(&self) -> Result<String, PipelineError>;

    /// Starts a named run with the CodePipeline input `{"commitID", "imageUri"}`.
    async fn start_execution(
        &self,
        request: &StartRequest,
    ) -> Result<ExecutionSummary, PipelineError>;

    /// Stops a running execution; stopping one that already ended is a conflict.
    async fn stop_execution(
        &self,
        execution: &ExecutionRef,
        cause: &str,
    ) -> Result<(), PipelineError>;

    /// Every `.waitForTaskToken` task with no closing event, newest execution first. May be
    /// a few seconds behind (an adapter can remember what it read): it is what lists and
    /// badges show. Decisions read [`ControlPlane::approval_of`].
    async fn pending_approvals(&self) -> Result<Vec<PendingApproval>, PipelineError>;

    /// The execution's pending approval, if one waits, read as of now: what a decision acts
    /// on. The default picks it out of [`ControlPlane::pending_approvals`]; an adapter that
    /// can read one execution alone does so.
    async fn approval_of(
        &self,
        execution: &ExecutionSummary,
    ) -> Result<Option<PendingApproval>, PipelineError> {
        Ok(self
            .pending_approvals()
            .await?
            .into_iter()
            .find(|p| p.execution.arn == execution.arn))
    }

    /// Sends the decision for the execution's pending approval: `SendTaskSuccess` with the
    /// decision JSON, or `SendTaskFailure` with error `rejected` and the JSON as cause.
    /// A second decision is a `Conflict`.
    async fn decide(
        &self,
        execution: &ExecutionRef,
        decision: &Decision,
    ) -> Result<(), PipelineError>;

    // --- SageMaker and S3 ---------------------------------------------------------------

    async fn training_job(&self, name: &str) -> Result<TrainingJob, PipelineError>;
    async fn model(&self, name: &str) -> Result<Model, PipelineError>;
    async fn transform_job(&self, name: &str) -> Result<TransformJob, PipelineError>;
    /// The objects a finished transform job wrote under its output path, listed as
    /// [`ControlPlane::list_objects`] lists them: none is read.
    async fn transform_output(&self, name: &str) -> Result<Vec<StoredObject>, PipelineError>;
    /// The objects an `s3://` URI selects as an `S3Prefix` data source does (the object
    /// itself, or everything under it), a hundred at most, with their sizes and versions as
    /// the backend's listing gives them (S3's ListObjectsV2, a file's metadata): how the
    /// approval evidence finds the test data a transform job was given without reading it.
    async fn list_objects(&self, uri: &str) -> Result<Vec<StoredObject>, PipelineError>;
    /// One object's content (as UTF-8, invalid bytes replaced) if it is at most `limit`
    /// bytes. A larger one is [`PipelineError::TooLarge`] and is not read: the size is checked
    /// before the content is fetched, and the content is read no further than `limit` bytes
    /// should the object have grown since.
    async fn read_object(&self, uri: &str, limit: u64) -> Result<String, PipelineError>;
    async fn endpoint_configs(&self) -> Result<Vec<EndpointConfig>, PipelineError>;
    async fn endpoint_config(&self, name: &str) -> Result<EndpointConfig, PipelineError>;
    /// Deletes an endpoint config that no endpoint serves or is being updated to. One in use
    /// is a `Conflict`: SageMaker itself would delete it and leave the endpoint unable to
    /// scale or roll back to it, so Gatehouse refuses first.
    async fn delete_endpoint_config(&self, name: &str) -> Result<(), PipelineError>;
    async fn endpoints(&self) -> Result<Vec<Endpoint>, PipelineError>;
    async fn endpoint(&self, name: &str) -> Result<Endpoint, PipelineError>;
    /// Every endpoint's name, status and times, as cheaply as the backend can tell them (the
    /// config may be missing): what the live watcher compares. The default describes each.
    async fn endpoint_statuses(&self) -> Result<Vec<Endpoint>, PipelineError> {
        self.endpoints().await
    }
    /// Points an endpoint at another endpoint config (a roll back, for instance). It answers
    /// once the update has begun (the endpoint `Updating`); one already in progress is a
    /// `Conflict`.
    async fn update_endpoint(&self, name: &str, config_name: &str) -> Result<(), PipelineError>;
    async fn delete_endpoint(&self, name: &str) -> Result<(), PipelineError>;
    /// The endpoint's deployment history: every endpoint config it was asked to serve,
    /// oldest first, with when each served and why one failed to. SageMaker keeps no such
    /// list (DescribeEndpoint knows only the config now serving), so each adapter rebuilds it
    /// from what its backend records. Empty for a name that never had an endpoint.
    async fn endpoint_deployments(&self, name: &str) -> Result<Vec<Deployment>, PipelineError>;
    /// The `gatehouse:commit` tags on resources of these kinds: every one that has the tag,
    /// or only those naming `commit` when it is given. Lineage reads these before falling
    /// back to names ([`CommitTags`]).
    async fn commit_tags(
        &self,
        kinds: &[ResourceKind],
        commit: Option<&str>,
    ) -> Result<CommitTags, PipelineError>;
    /// Sends CSV rows to an endpoint (InvokeEndpoint, `text/csv`): its answer, one label
    /// per line, and which production variant gave it.
    async fn invoke_endpoint(&self, name: &str, csv: &str) -> Result<Invocation, PipelineError>;
}
