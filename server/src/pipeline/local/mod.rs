//! The local adapter: the control plane on the embedded engine, in process. The engine speaks
//! the Step Functions and SageMaker APIs' shapes, so this is mostly a translation of names.

use app::control_plane::{ControlPlane, PipelineError};
use app::models::commit_tags::{CommitTags, ResourceKind};
use app::models::inference::Invocation;
use app::models::lineage::Deployment;
use app::models::pipeline::{
    Commit, Decision, Endpoint, EndpointConfig, ExecutionDetail, ExecutionPage, ExecutionQuery,
    ExecutionRef, ExecutionStatus, ExecutionSummary, HistoryEvent, Model, PendingApproval,
    StartRequest, StoredObject, Timestamp, TrainingJob, TransformJob,
};
use engine::api::{EngineError, ExecutionDescription, HistoryRequest};
use engine::{Engine, EngineConfig};
use serde_json::Value;
use std::sync::Arc;

use super::{parse_rfc3339, state_timeout_seconds, token_sha256};

mod calls;
mod engine_threads;
mod objects;
mod translate;
use engine_threads::EngineThreads;
use translate::{commit_from_input, engine_error, millis, status_of};

/// The state machine local mode deploys the pipeline as.
pub const LOCAL_PIPELINE_NAME: &str = "gatehouse-pipeline";

/// The engine behind the port, pointed at the pipeline's state machine.
#[derive(Clone)]
pub struct LocalControlPlane {
    engine: Engine,
    state_machine_arn: String,
    /// The engine's own runtime, when [`LocalControlPlane::start`] made one.
    _threads: Option<Arc<EngineThreads>>,
}

impl std::fmt::Debug for LocalControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalControlPlane")
            .field("state_machine_arn", &self.state_machine_arn)
            .finish()
    }
}

impl LocalControlPlane {
    /// Deploys (or updates) the local pipeline on `engine` and serves it. The engine runs
    /// its executions on the runtime it was opened in.
    pub fn deploy(engine: Engine) -> Result<LocalControlPlane, EngineError> {
        let state_machine_arn = engine.deploy_local_pipeline(LOCAL_PIPELINE_NAME)?;
        Ok(LocalControlPlane {
            engine,
            state_machine_arn,
            _threads: None,
        })
    }

    /// Opens the engine on threads of its own, deploys the local pipeline on it and serves
    /// it: how the server runs local mode.
    pub async fn start(config: EngineConfig) -> Result<LocalControlPlane, EngineError> {
        let threads = Arc::new(EngineThreads::start()?);
        let engine = threads.open(config).await?;
        let deploying = engine.clone();
        let state_machine_arn = tokio::task::spawn_blocking(move || {
            deploying.deploy_local_pipeline(LOCAL_PIPELINE_NAME)
        })
        .await
        .map_err(|e| EngineError::Io(format!("the pipeline was not deployed: {e}")))??;
        Ok(LocalControlPlane {
            engine,
            state_machine_arn,
            _threads: Some(threads),
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn state_machine_arn(&self) -> &str {
        &self.state_machine_arn
    }

    /// Runs an engine call on tokio's blocking threads: the engine reads and writes SQLite
    /// and files, and a slow write must not hold up the requests that share a worker.
    async fn off_runtime<T: Send + 'static>(
        &self,
        call: impl FnOnce(&LocalControlPlane) -> Result<T, PipelineError> + Send + 'static,
    ) -> Result<T, PipelineError> {
        let this = self.clone();
        crate::blocking::READS
            .run(move || call(&this))
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "an engine call panicked or was cancelled");
                Err(PipelineError::Unavailable(
                    "The local pipeline could not answer.".into(),
                ))
            })
    }

    /// The full ARN of an execution of the pipeline. An ARN of another state machine is
    /// refused rather than looked up: the dashboard shows the pipeline only.
    fn arn_of(&self, execution: &ExecutionRef) -> Result<String, PipelineError> {
        let prefix = self
            .state_machine_arn
            .replacen(":stateMachine:", ":execution:", 1);
        match execution {
            ExecutionRef::Name(name) => Ok(format!("{prefix}:{name}")),
            ExecutionRef::Arn(arn) if arn.starts_with(&format!("{prefix}:")) => Ok(arn.clone()),
            ExecutionRef::Arn(arn) => Err(PipelineError::NotFound(format!(
                "Execution {arn} is not an execution of the pipeline."
            ))),
        }
    }

    fn summary(&self, d: &ExecutionDescription) -> ExecutionSummary {
        let status = status_of(&d.status);
        ExecutionSummary {
            arn: d.execution_arn.clone(),
            name: d.name.clone(),
            status,
            started: Timestamp(millis(d.start_date)),
            stopped: d.stop_date.map(|t| Timestamp(millis(t))),
            commit: Commit::parse(&d.name).or_else(|| commit_from_input(&d.input)),
            current_state: None,
        }
    }

    /// The state a running execution last entered: the newest `…StateEntered` event.
    fn current_state(&self, arn: &str) -> Option<String> {
        let page = self
            .engine
            .get_execution_history(
                arn,
                &HistoryRequest {
                    max_results: Some(20),
                    next_token: None,
                    reverse_order: true,
                },
            )
            .ok()?;
        page.events.into_iter().find_map(|e| {
            let kind = e.get("type")?.as_str()?;
            kind.ends_with("StateEntered")
                .then(|| {
                    e.get("stateEnteredEventDetails")?
                        .get("name")?
                        .as_str()
                        .map(str::to_string)
                })
                .flatten()
        })
    }

    fn definition_value(&self) -> Result<Value, PipelineError> {
        let text = self
            .engine
            .state_machine_definition(&self.state_machine_arn)
            .map_err(engine_error)?;
        serde_json::from_str(&text).map_err(|e| {
            PipelineError::Unavailable(format!("the stored definition is not JSON: {e}"))
        })
    }

    /// Every open approval of the pipeline, with its token.
    fn pending(&self) -> Result<Vec<(PendingApproval, Option<String>)>, PipelineError> {
        let definition = self.definition_value()?;
        let mut out = Vec::new();
        for (execution, callback) in self.engine.pending_callbacks().map_err(engine_error)? {
            if execution.state_machine_arn != self.state_machine_arn {
                continue;
            }
            out.push(self.approval(&definition, &execution.execution_arn, callback)?);
        }
        out.sort_by_key(|a| std::cmp::Reverse(a.0.execution.started));
        Ok(out)
    }

    /// The open approval of one execution, with its token: only its own history is read.
    fn pending_of(
        &self,
        execution_arn: &str,
    ) -> Result<Option<(PendingApproval, Option<String>)>, PipelineError> {
        let Some(callback) = self
            .engine
            .pending_callbacks_of(execution_arn)
            .map_err(engine_error)?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let definition = self.definition_value()?;
        self.approval(&definition, execution_arn, callback)
            .map(Some)
    }

    fn approval(
        &self,
        definition: &Value,
        execution_arn: &str,
        callback: engine::PendingCallback,
    ) -> Result<(PendingApproval, Option<String>), PipelineError> {
        let description = self
            .engine
            .describe_execution(execution_arn)
            .map_err(engine_error)?;
        let waiting_since = parse_rfc3339(&callback.scheduled_at).unwrap_or(0);
        let deadline = state_timeout_seconds(definition, &callback.state_name)
            .map(|s| Timestamp(waiting_since.saturating_add((s as i64).saturating_mul(1000))));
        let mut summary = self.summary(&description);
        summary.current_state = Some(callback.state_name.clone());
        let approval = PendingApproval {
            execution: summary,
            state: callback.state_name.clone(),
            scheduled_event_id: callback.scheduled_event_id,
            waiting_since: Timestamp(waiting_since),
            deadline,
            transform_output: callback
                .parameters
                .pointer("/Payload/s3_batch_output")
                .and_then(Value::as_str)
                .map(str::to_string),
            token_sha256: callback
                .token
                .as_deref()
                .map(token_sha256)
                .unwrap_or_default(),
        };
        Ok((approval, callback.token))
    }
}

#[async_trait::async_trait]
impl ControlPlane for LocalControlPlane {
    async fn list_executions(
        &self,
        query: &ExecutionQuery,
    ) -> Result<ExecutionPage, PipelineError> {
        let query = query.clone();
        self.off_runtime(move |p| p.list_executions_blocking(&query))
            .await
    }

    async fn count_executions(
        &self,
        status: Option<ExecutionStatus>,
    ) -> Result<Option<usize>, PipelineError> {
        self.off_runtime(move |p| p.count_executions_blocking(status).map(Some))
            .await
    }

    /// One short history read per running row of the page: SQLite in process, so cheap.
    async fn current_states(&self, executions: &[ExecutionSummary]) -> Vec<Option<String>> {
        let executions = executions.to_vec();
        let count = executions.len();
        self.off_runtime(move |p| Ok(p.current_states_blocking(&executions)))
            .await
            .unwrap_or_else(|_| vec![None; count])
    }

    async fn describe_execution(
        &self,
        execution: &ExecutionRef,
    ) -> Result<ExecutionDetail, PipelineError> {
        let execution = execution.clone();
        self.off_runtime(move |p| p.describe_execution_blocking(&execution))
            .await
    }

    async fn execution_history(
        &self,
        execution: &ExecutionRef,
    ) -> Result<Vec<HistoryEvent>, PipelineError> {
        let execution = execution.clone();
        self.off_runtime(move |p| p.execution_history_blocking(&execution))
            .await
    }

    async fn definition(&self) -> Result<String, PipelineError> {
        self.off_runtime(|p| p.definition_blocking()).await
    }

    async fn start_execution(
        &self,
        request: &StartRequest,
    ) -> Result<ExecutionSummary, PipelineError> {
        let request = request.clone();
        self.off_runtime(move |p| p.start_execution_blocking(&request))
            .await
    }

    async fn stop_execution(
        &self,
        execution: &ExecutionRef,
        cause: &str,
    ) -> Result<(), PipelineError> {
        let (execution, cause) = (execution.clone(), cause.to_string());
        self.off_runtime(move |p| p.stop_execution_blocking(&execution, &cause))
            .await
    }

    async fn pending_approvals(&self) -> Result<Vec<PendingApproval>, PipelineError> {
        self.off_runtime(|p| p.pending_approvals_blocking()).await
    }

    async fn approval_of(
        &self,
        execution: &ExecutionSummary,
    ) -> Result<Option<PendingApproval>, PipelineError> {
        let execution = execution.clone();
        self.off_runtime(move |p| p.approval_of_blocking(&execution))
            .await
    }

    async fn decide(
        &self,
        execution: &ExecutionRef,
        decision: &Decision,
    ) -> Result<(), PipelineError> {
        let (execution, decision) = (execution.clone(), decision.clone());
        self.off_runtime(move |p| p.decide_blocking(&execution, &decision))
            .await
    }

    async fn training_job(&self, name: &str) -> Result<TrainingJob, PipelineError> {
        let name = name.to_string();
        self.off_runtime(move |p| p.training_job_blocking(&name))
            .await
    }

    async fn model(&self, name: &str) -> Result<Model, PipelineError> {
        let name = name.to_string();
        self.off_runtime(move |p| p.model_blocking(&name)).await
    }

    async fn transform_job(&self, name: &str) -> Result<TransformJob, PipelineError> {
        let name = name.to_string();
        self.off_runtime(move |p| p.transform_job_blocking(&name))
            .await
    }

    async fn transform_output(&self, name: &str) -> Result<Vec<StoredObject>, PipelineError> {
        let prefix = super::completed_output_path(name, self.transform_job(name).await?)?;
        self.list_objects(&prefix).await
    }

    async fn list_objects(&self, uri: &str) -> Result<Vec<StoredObject>, PipelineError> {
        let uri = uri.to_string();
        self.off_runtime(move |p| objects::list_blocking(p.engine.sagemaker().data_dir(), &uri))
            .await
    }

    async fn read_object(&self, uri: &str, limit: u64) -> Result<String, PipelineError> {
        let uri = uri.to_string();
        self.off_runtime(move |p| {
            objects::read_blocking(p.engine.sagemaker().data_dir(), &uri, limit)
        })
        .await
    }

    async fn endpoint_configs(&self) -> Result<Vec<EndpointConfig>, PipelineError> {
        self.off_runtime(|p| p.endpoint_configs_blocking()).await
    }

    async fn endpoint_config(&self, name: &str) -> Result<EndpointConfig, PipelineError> {
        let name = name.to_string();
        self.off_runtime(move |p| p.endpoint_config_blocking(&name))
            .await
    }

    async fn delete_endpoint_config(&self, name: &str) -> Result<(), PipelineError> {
        let name = name.to_string();
        self.off_runtime(move |p| p.delete_endpoint_config_blocking(&name))
            .await
    }

    async fn endpoints(&self) -> Result<Vec<Endpoint>, PipelineError> {
        self.off_runtime(|p| p.endpoints_blocking()).await
    }

    async fn endpoint(&self, name: &str) -> Result<Endpoint, PipelineError> {
        let name = name.to_string();
        self.off_runtime(move |p| p.endpoint_blocking(&name)).await
    }

    async fn update_endpoint(&self, name: &str, config_name: &str) -> Result<(), PipelineError> {
        let (name, config_name) = (name.to_string(), config_name.to_string());
        self.off_runtime(move |p| p.update_endpoint_blocking(&name, &config_name))
            .await
    }

    async fn delete_endpoint(&self, name: &str) -> Result<(), PipelineError> {
        let name = name.to_string();
        self.off_runtime(move |p| p.delete_endpoint_blocking(&name))
            .await
    }

    async fn endpoint_deployments(&self, name: &str) -> Result<Vec<Deployment>, PipelineError> {
        let name = name.to_string();
        self.off_runtime(move |p| p.endpoint_deployments_blocking(&name))
            .await
    }

    async fn commit_tags(
        &self,
        kinds: &[ResourceKind],
        commit: Option<&str>,
    ) -> Result<CommitTags, PipelineError> {
        let (kinds, commit) = (kinds.to_vec(), commit.map(str::to_string));
        self.off_runtime(move |p| p.commit_tags_blocking(&kinds, commit.as_deref()))
            .await
    }

    async fn invoke_endpoint(&self, name: &str, csv: &str) -> Result<Invocation, PipelineError> {
        let (name, csv) = (name.to_string(), csv.to_string());
        self.off_runtime(move |p| p.invoke_endpoint_blocking(&name, &csv))
            .await
    }
}
