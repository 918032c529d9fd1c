//! The local adapter: the control plane on the embedded engine, in process. The engine speaks
//! the Step Functions and SageMaker APIs' shapes, so this is mostly a translation of names.

use app::control_plane::{ControlPlane, PipelineError};
use app::models::commit_tags::{CommitTag, CommitTags, ResourceKind, COMMIT_TAG};
use app::models::inference::Invocation;
use app::models::lineage::Deployment;
use app::models::pipeline::{
    Commit, Decision, Endpoint, EndpointConfig, ExecutionDetail, ExecutionPage, ExecutionQuery,
    ExecutionRef, ExecutionStatus, ExecutionSummary, HistoryEvent, Model, PendingApproval,
    StartRequest, StoredObject, Timestamp, TrainingJob, TransformJob, Verdict,
};
use engine::api::{
    EngineError, ExecutionDescription, ExecutionStatus as EngineStatus, HistoryRequest,
    ListExecutionsRequest,
};
use engine::Engine;
use serde_json::Value;

use super::{event_from_json, parse_rfc3339, state_timeout_seconds, token_sha256};

mod objects;
mod translate;
use translate::{
    commit_from_input, endpoint, endpoint_config, engine_error, engine_status, invocation_error,
    millis, name_taken, sagemaker_error, status_of, text, time_of,
};

/// The state machine local mode deploys the pipeline as.
pub const LOCAL_PIPELINE_NAME: &str = "gatehouse-pipeline";

/// The engine behind the port, pointed at the pipeline's state machine.
#[derive(Clone)]
pub struct LocalControlPlane {
    engine: Engine,
    state_machine_arn: String,
}

impl std::fmt::Debug for LocalControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalControlPlane")
            .field("state_machine_arn", &self.state_machine_arn)
            .finish()
    }
}

impl LocalControlPlane {
    /// Deploys (or updates) the local pipeline on `engine` and serves it.
    pub fn deploy(engine: Engine) -> Result<LocalControlPlane, EngineError> {
        let state_machine_arn = engine.deploy_local_pipeline(LOCAL_PIPELINE_NAME)?;
        Ok(LocalControlPlane {
            engine,
            state_machine_arn,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn state_machine_arn(&self) -> &str {
        &self.state_machine_arn
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
            let kind = e["type"].as_str()?;
            kind.ends_with("StateEntered")
                .then(|| {
                    e["stateEnteredEventDetails"]["name"]
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
        let list = self
            .engine
            .list_executions(&ListExecutionsRequest {
                state_machine_arn: Some(self.state_machine_arn.clone()),
                status_filter: query.status.map(engine_status),
                max_results: Some(query.max_results.clamp(1, 1000)),
                next_token: query.next_token.clone(),
            })
            .map_err(|e| match e {
                EngineError::Io(m) if m.contains("pagination token") => PipelineError::Invalid(
                    "The page token is not valid; start from the first page.".into(),
                ),
                other => engine_error(other),
            })?;
        let executions = list
            .executions
            .into_iter()
            .map(|e| ExecutionSummary {
                arn: e.execution_arn,
                commit: Commit::parse(&e.name),
                name: e.name,
                status: status_of(&e.status),
                started: Timestamp(millis(e.start_date)),
                stopped: e.stop_date.map(|t| Timestamp(millis(t))),
                current_state: None,
            })
            .collect();
        Ok(ExecutionPage {
            executions,
            next_token: list.next_token,
        })
    }

    /// One short history read per running row of the page: SQLite in process, so cheap.
    async fn current_states(&self, executions: &[ExecutionSummary]) -> Vec<Option<String>> {
        executions
            .iter()
            .map(|e| match e.status {
                ExecutionStatus::Running => self.current_state(&e.arn),
                _ => None,
            })
            .collect()
    }

    async fn describe_execution(
        &self,
        execution: &ExecutionRef,
    ) -> Result<ExecutionDetail, PipelineError> {
        let arn = self.arn_of(execution)?;
        let d = self.engine.describe_execution(&arn).map_err(engine_error)?;
        let mut summary = self.summary(&d);
        if summary.status == ExecutionStatus::Running {
            summary.current_state = self.current_state(&arn);
        }
        Ok(ExecutionDetail {
            summary,
            state_machine_arn: d.state_machine_arn,
            input: Some(d.input),
            output: d.output,
            error: d.error,
            cause: d.cause,
        })
    }

    async fn execution_history(
        &self,
        execution: &ExecutionRef,
    ) -> Result<Vec<HistoryEvent>, PipelineError> {
        let arn = self.arn_of(execution)?;
        let mut events = Vec::new();
        let mut next_token = None;
        loop {
            let page = self
                .engine
                .get_execution_history(
                    &arn,
                    &HistoryRequest {
                        max_results: Some(1000),
                        next_token,
                        reverse_order: false,
                    },
                )
                .map_err(engine_error)?;
            events.extend(page.events.into_iter().filter_map(event_from_json));
            match page.next_token {
                Some(token) => next_token = Some(token),
                None => return Ok(events),
            }
        }
    }

    async fn definition(&self) -> Result<String, PipelineError> {
        self.engine
            .state_machine_definition(&self.state_machine_arn)
            .map_err(engine_error)
    }

    async fn start_execution(
        &self,
        request: &StartRequest,
    ) -> Result<ExecutionSummary, PipelineError> {
        request.validate()?;
        let arn = self.arn_of(&ExecutionRef::Name(request.name.clone()))?;
        // StartExecution returns a running execution again when name and input match; a
        // person starting a run twice by mistake should hear that the name is taken instead.
        if let Ok(existing) = self.engine.describe_execution(&arn) {
            return Err(name_taken(&request.name, existing.start_date));
        }
        let started = self
            .engine
            .start_execution(
                &self.state_machine_arn,
                Some(&request.name),
                Some(&request.input_json()),
            )
            .map_err(engine_error)?;
        let d = self
            .engine
            .describe_execution(&started.execution_arn)
            .map_err(engine_error)?;
        Ok(self.summary(&d))
    }

    async fn stop_execution(
        &self,
        execution: &ExecutionRef,
        cause: &str,
    ) -> Result<(), PipelineError> {
        let arn = self.arn_of(execution)?;
        let d = self.engine.describe_execution(&arn).map_err(engine_error)?;
        if d.status != EngineStatus::Running {
            return Err(PipelineError::Conflict(format!(
                "Execution {} has already ended ({}).",
                d.name,
                status_of(&d.status).label().to_lowercase()
            )));
        }
        self.engine
            .stop_execution(&arn, Some("Gatehouse.Stopped"), Some(cause))
            .await
            .map_err(engine_error)?;
        Ok(())
    }

    async fn pending_approvals(&self) -> Result<Vec<PendingApproval>, PipelineError> {
        Ok(self.pending()?.into_iter().map(|(a, _)| a).collect())
    }

    async fn approval_of(
        &self,
        execution: &ExecutionSummary,
    ) -> Result<Option<PendingApproval>, PipelineError> {
        let arn = self.arn_of(&ExecutionRef::Arn(execution.arn.clone()))?;
        Ok(self.pending_of(&arn)?.map(|(approval, _)| approval))
    }

    async fn decide(
        &self,
        execution: &ExecutionRef,
        decision: &Decision,
    ) -> Result<(), PipelineError> {
        let arn = self.arn_of(execution)?;
        let d = self.engine.describe_execution(&arn).map_err(engine_error)?;
        let Some(token) = self.pending_of(&arn)?.and_then(|(_, token)| token) else {
            return Err(PipelineError::Conflict(format!(
                "Execution {} is not waiting for a decision.",
                d.name
            )));
        };
        let json = decision.to_json();
        let sent = match decision.verdict {
            Verdict::Approved => self.engine.send_task_success(&token, &json),
            Verdict::Rejected => self.engine.send_task_failure(&token, "rejected", &json),
        };
        sent.map_err(|e| match e {
            EngineError::TaskTimedOut(_) | EngineError::TaskDoesNotExist(_) => PipelineError::Conflict(format!(
                "Execution {} is no longer waiting for a decision: it was already decided, timed out or stopped.",
                d.name
            )),
            other => engine_error(other),
        })
    }

    async fn training_job(&self, name: &str) -> Result<TrainingJob, PipelineError> {
        let job = self
            .engine
            .sagemaker()
            .describe_training_job(name)
            .map_err(sagemaker_error)?;
        Ok(TrainingJob {
            name: text(&job, "TrainingJobName").unwrap_or_else(|| name.to_string()),
            status: text(&job, "TrainingJobStatus").unwrap_or_default(),
            created: time_of(&job, "CreationTime"),
            ended: time_of(&job, "TrainingEndTime"),
            image: job
                .pointer("/AlgorithmSpecification/TrainingImage")
                .and_then(Value::as_str)
                .map(str::to_string),
            model_artifacts: job
                .pointer("/ModelArtifacts/S3ModelArtifacts")
                .and_then(Value::as_str)
                .map(str::to_string),
            failure_reason: text(&job, "FailureReason"),
            hyperparameters: job
                .get("HyperParameters")
                .and_then(Value::as_object)
                .map(|map| {
                    map.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    async fn model(&self, name: &str) -> Result<Model, PipelineError> {
        let model = self
            .engine
            .sagemaker()
            .describe_model(name)
            .map_err(sagemaker_error)?;
        Ok(Model {
            name: text(&model, "ModelName").unwrap_or_else(|| name.to_string()),
            image: model
                .pointer("/PrimaryContainer/Image")
                .and_then(Value::as_str)
                .map(str::to_string),
            model_data_url: model
                .pointer("/PrimaryContainer/ModelDataUrl")
                .and_then(Value::as_str)
                .map(str::to_string),
            created: time_of(&model, "CreationTime"),
        })
    }

    async fn transform_job(&self, name: &str) -> Result<TransformJob, PipelineError> {
        let job = self
            .engine
            .sagemaker()
            .describe_transform_job(name)
            .map_err(sagemaker_error)?;
        Ok(TransformJob {
            name: text(&job, "TransformJobName").unwrap_or_else(|| name.to_string()),
            status: text(&job, "TransformJobStatus").unwrap_or_default(),
            model_name: text(&job, "ModelName"),
            input_uri: job
                .pointer("/TransformInput/DataSource/S3DataSource/S3Uri")
                .and_then(Value::as_str)
                .map(str::to_string),
            output_path: job
                .pointer("/TransformOutput/S3OutputPath")
                .and_then(Value::as_str)
                .map(str::to_string),
            created: time_of(&job, "CreationTime"),
            ended: time_of(&job, "TransformEndTime"),
            failure_reason: text(&job, "FailureReason"),
        })
    }

    async fn transform_output(&self, name: &str) -> Result<Vec<StoredObject>, PipelineError> {
        let prefix = super::completed_output_path(name, self.transform_job(name).await?)?;
        self.list_objects(&prefix).await
    }

    async fn list_objects(&self, uri: &str) -> Result<Vec<StoredObject>, PipelineError> {
        let data_dir = self.engine.sagemaker().data_dir().to_path_buf();
        objects::list(data_dir, uri.to_string()).await
    }

    async fn read_object(&self, uri: &str, limit: u64) -> Result<String, PipelineError> {
        objects::read(self.engine.sagemaker().data_dir(), uri, limit).await
    }

    async fn endpoint_configs(&self) -> Result<Vec<EndpointConfig>, PipelineError> {
        let configs = self
            .engine
            .sagemaker()
            .list_endpoint_configs()
            .map_err(sagemaker_error)?;
        let mut out: Vec<EndpointConfig> = configs
            .iter()
            .filter_map(|c| text(c, "EndpointConfigName"))
            .map(|name| {
                self.engine
                    .sagemaker()
                    .describe_endpoint_config(&name)
                    .map(|c| endpoint_config(&c))
            })
            .collect::<Result<_, _>>()
            .map_err(sagemaker_error)?;
        out.sort_by_key(|a| std::cmp::Reverse(a.created));
        Ok(out)
    }

    async fn endpoint_config(&self, name: &str) -> Result<EndpointConfig, PipelineError> {
        self.engine
            .sagemaker()
            .describe_endpoint_config(name)
            .map(|c| endpoint_config(&c))
            .map_err(sagemaker_error)
    }

    async fn delete_endpoint_config(&self, name: &str) -> Result<(), PipelineError> {
        self.engine
            .sagemaker()
            .delete_endpoint_config(name)
            .map_err(sagemaker_error)
    }

    async fn endpoints(&self) -> Result<Vec<Endpoint>, PipelineError> {
        let endpoints = self
            .engine
            .sagemaker()
            .list_endpoints()
            .map_err(sagemaker_error)?;
        let mut out: Vec<Endpoint> = endpoints
            .iter()
            .filter_map(|e| text(e, "EndpointName"))
            .map(|name| {
                self.engine
                    .sagemaker()
                    .describe_endpoint(&name)
                    .map(|e| endpoint(&e))
            })
            .collect::<Result<_, _>>()
            .map_err(sagemaker_error)?;
        out.sort_by_key(|a| std::cmp::Reverse(a.created));
        Ok(out)
    }

    async fn endpoint(&self, name: &str) -> Result<Endpoint, PipelineError> {
        self.engine
            .sagemaker()
            .describe_endpoint(name)
            .map(|e| endpoint(&e))
            .map_err(sagemaker_error)
    }

    async fn update_endpoint(&self, name: &str, config_name: &str) -> Result<(), PipelineError> {
        self.engine
            .sagemaker()
            .update_endpoint(name, config_name)
            .map(|_| ())
            .map_err(sagemaker_error)
    }

    async fn delete_endpoint(&self, name: &str) -> Result<(), PipelineError> {
        self.engine
            .sagemaker()
            .delete_endpoint(name)
            .map_err(sagemaker_error)
    }

    async fn endpoint_deployments(&self, name: &str) -> Result<Vec<Deployment>, PipelineError> {
        let at = |t: Option<time::OffsetDateTime>| t.map(|t| Timestamp(millis(t)));
        Ok(self
            .engine
            .sagemaker()
            .endpoint_deployments(name)
            .map_err(sagemaker_error)?
            .into_iter()
            .map(|d| Deployment {
                endpoint: name.to_string(),
                config_name: d.endpoint_config_name,
                requested_at: at(Some(d.requested_at)),
                served_from: at(d.served_from),
                served_until: at(d.served_until),
                failure_reason: d.failure_reason,
                // The engine keeps when a deleted endpoint stopped.
                end_unknown: false,
            })
            .collect())
    }

    async fn commit_tags(
        &self,
        kinds: &[ResourceKind],
        commit: Option<&str>,
    ) -> Result<CommitTags, PipelineError> {
        let tagged = self
            .engine
            .sagemaker()
            .tagged_with(COMMIT_TAG, commit)
            .map_err(sagemaker_error)?;
        Ok(CommitTags::new(
            tagged
                .into_iter()
                .filter_map(|(arn, value)| CommitTag::from_arn(&arn, &value))
                .filter(|tag| kinds.contains(&tag.kind))
                .collect(),
        ))
    }

    async fn invoke_endpoint(&self, name: &str, csv: &str) -> Result<Invocation, PipelineError> {
        let answer = self
            .engine
            .sagemaker()
            .invoke(name, csv, None)
            .map_err(invocation_error)?;
        Ok(Invocation {
            // What SageMaker's answer carries: `text/csv`, a label per record, quoted where
            // needed, without a line end after the last.
            body: engine::sagemaker::csv_text::column(&answer.labels)
                .trim_end_matches('\n')
                .to_string(),
            variant: Some(answer.variant_name),
        })
    }
}
