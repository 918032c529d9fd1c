//! The control plane's calls as the engine answers them: synchronous, reading and writing
//! the engine's SQLite store and files. [`super::LocalControlPlane`]'s port runs each on
//! tokio's blocking threads, never on the threads that answer requests.

use app::control_plane::PipelineError;
use app::models::commit_tags::{CommitTag, CommitTags, ResourceKind, COMMIT_TAG};
use app::models::inference::Invocation;
use app::models::lineage::Deployment;
use app::models::pipeline::{
    Commit, Decision, Endpoint, EndpointConfig, ExecutionDetail, ExecutionPage, ExecutionQuery,
    ExecutionRef, ExecutionStatus, ExecutionSummary, HistoryEvent, Model, PendingApproval,
    StartRequest, Timestamp, TrainingJob, TransformJob, Verdict,
};
use engine::api::{
    EngineError, ExecutionStatus as EngineStatus, HistoryRequest, ListExecutionsRequest,
};
use serde_json::Value;

use super::translate::{
    endpoint, endpoint_config, engine_error, engine_status, invocation_error, millis, name_taken,
    sagemaker_error, status_of, text, time_of,
};
use super::LocalControlPlane;
use crate::pipeline::event_from_json;

impl LocalControlPlane {
    pub(super) fn list_executions_blocking(
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
                EngineError::InvalidToken(_) => PipelineError::Invalid(
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

    pub(super) fn count_executions_blocking(
        &self,
        status: Option<ExecutionStatus>,
    ) -> Result<usize, PipelineError> {
        self.engine
            .count_executions(
                Some(&self.state_machine_arn),
                status.map(engine_status).as_ref(),
            )
            .map_err(engine_error)
    }

    /// One short history read per running row of the page: SQLite in process, so cheap.
    pub(super) fn current_states_blocking(
        &self,
        executions: &[ExecutionSummary],
    ) -> Vec<Option<String>> {
        executions
            .iter()
            .map(|e| match e.status {
                ExecutionStatus::Running => self.current_state(&e.arn),
                _ => None,
            })
            .collect()
    }

    pub(super) fn describe_execution_blocking(
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

    pub(super) fn execution_history_blocking(
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

    pub(super) fn definition_blocking(&self) -> Result<String, PipelineError> {
        self.engine
            .state_machine_definition(&self.state_machine_arn)
            .map_err(engine_error)
    }

    pub(super) fn start_execution_blocking(
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

    pub(super) fn stop_execution_blocking(
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
        // On a blocking thread: wait for the engine's stop here.
        tokio::runtime::Handle::current()
            .block_on(
                self.engine
                    .stop_execution(&arn, Some("Gatehouse.Stopped"), Some(cause)),
            )
            .map_err(engine_error)?;
        Ok(())
    }

    pub(super) fn pending_approvals_blocking(&self) -> Result<Vec<PendingApproval>, PipelineError> {
        Ok(self.pending()?.into_iter().map(|(a, _)| a).collect())
    }

    pub(super) fn approval_of_blocking(
        &self,
        execution: &ExecutionSummary,
    ) -> Result<Option<PendingApproval>, PipelineError> {
        let arn = self.arn_of(&ExecutionRef::Arn(execution.arn.clone()))?;
        Ok(self.pending_of(&arn)?.map(|(approval, _)| approval))
    }

    pub(super) fn decide_blocking(
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

    pub(super) fn training_job_blocking(&self, name: &str) -> Result<TrainingJob, PipelineError> {
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

    pub(super) fn model_blocking(&self, name: &str) -> Result<Model, PipelineError> {
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

    pub(super) fn transform_job_blocking(&self, name: &str) -> Result<TransformJob, PipelineError> {
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

    pub(super) fn endpoint_configs_blocking(&self) -> Result<Vec<EndpointConfig>, PipelineError> {
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

    pub(super) fn endpoint_config_blocking(
        &self,
        name: &str,
    ) -> Result<EndpointConfig, PipelineError> {
        self.engine
            .sagemaker()
            .describe_endpoint_config(name)
            .map(|c| endpoint_config(&c))
            .map_err(sagemaker_error)
    }

    pub(super) fn delete_endpoint_config_blocking(&self, name: &str) -> Result<(), PipelineError> {
        self.engine
            .sagemaker()
            .delete_endpoint_config(name)
            .map_err(sagemaker_error)
    }

    pub(super) fn endpoints_blocking(&self) -> Result<Vec<Endpoint>, PipelineError> {
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

    pub(super) fn endpoint_blocking(&self, name: &str) -> Result<Endpoint, PipelineError> {
        self.engine
            .sagemaker()
            .describe_endpoint(name)
            .map(|e| endpoint(&e))
            .map_err(sagemaker_error)
    }

    pub(super) fn update_endpoint_blocking(
        &self,
        name: &str,
        config_name: &str,
    ) -> Result<(), PipelineError> {
        self.engine
            .sagemaker()
            .update_endpoint(name, config_name)
            .map(|_| ())
            .map_err(sagemaker_error)
    }

    pub(super) fn delete_endpoint_blocking(&self, name: &str) -> Result<(), PipelineError> {
        self.engine
            .sagemaker()
            .delete_endpoint(name)
            .map_err(sagemaker_error)
    }

    pub(super) fn endpoint_deployments_blocking(
        &self,
        name: &str,
    ) -> Result<Vec<Deployment>, PipelineError> {
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

    pub(super) fn commit_tags_blocking(
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

    pub(super) fn invoke_endpoint_blocking(
        &self,
        name: &str,
        csv: &str,
    ) -> Result<Invocation, PipelineError> {
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
