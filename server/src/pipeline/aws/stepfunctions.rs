//! Step Functions for the AWS adapter: the pipeline's executions (listing, describing, their
//! histories, starting and stopping them), its definition, the approval an execution waits
//! for, and sending a decision back.
//!
//! Costs, since every call is a network round trip someone waits for (and AWS meters):
//! - Listing executions is one ListExecutions per page, whatever its size: the commit comes
//!   from the execution's name (the pipeline names runs by their commitID), and the current
//!   state is only what the adapter already knows — the last state it saw the execution
//!   enter when it last read its history (describe, history, approvals), for 30 seconds —
//!   and `None` otherwise. Reading each running row's history would make a page cost one
//!   call per row.
//! - Describing an execution is one DescribeExecution (plus one short reversed
//!   GetExecutionHistory for a running execution's current state). A finished execution
//!   never changes, so its description is cached (bounded) and costs nothing the next time.
//! - The definition is one DescribeStateMachine a minute at most.
//! - Whether an execution waits for a decision is one reversed GetExecutionHistory page of
//!   50 events, more only when the approval lies further back.
//! - The succeeded runs an endpoint's deployment history is rebuilt from are one
//!   ListExecutions (SUCCEEDED) per 1,000.

use std::time::Duration;

use app::control_plane::PipelineError;
use app::models::pipeline::{
    Commit, Decision, ExecutionDetail, ExecutionPage, ExecutionRef, ExecutionStatus,
    ExecutionSummary, HistoryEvent, StartRequest, Timestamp, Verdict,
};
use aws_sdk_sfn::error::ProvideErrorMetadata;
use aws_sdk_sfn::types::ExecutionStatus as SfnStatus;
use serde_json::Value;

use super::cache::Cache;
use super::errors::{sdk_error, Service};
use super::history::{port_event, timestamp, Approval, ApprovalScan};

/// How long the definition is trusted.
const DEFINITION_TTL: Duration = Duration::from_secs(60);
/// How long the last state seen of a running execution is shown in the list.
const CURRENT_STATE_TTL: Duration = Duration::from_secs(30);
/// How long the newest page of every run stands in for a ListExecutions of the succeeded
/// ones. A commit's lineage lists every run and then asks for the endpoint's deployment
/// history, which reads the succeeded runs: the same runs, a moment later.
const RECENT_RUNS_REUSE: Duration = Duration::from_secs(1);

/// The pipeline's state machine and its executions.
pub(super) struct StepFunctions {
    client: aws_sdk_sfn::Client,
    state_machine_arn: String,
    /// `arn:…:execution:<machine>:`: every execution of the pipeline starts so.
    execution_prefix: String,
    definition: Cache<(), String>,
    finished: Cache<String, ExecutionDetail>,
    current_states: Cache<String, String>,
    /// The last first page of every run (1,000 at most) read, while it was the whole list.
    recent_runs: Cache<(), ExecutionPage>,
}

impl StepFunctions {
    /// Makes no call.
    pub(super) fn new(client: aws_sdk_sfn::Client, state_machine_arn: &str) -> StepFunctions {
        let execution_prefix = format!(
            "{}:",
            state_machine_arn.replacen(":stateMachine:", ":execution:", 1)
        );
        StepFunctions {
            client,
            state_machine_arn: state_machine_arn.to_string(),
            execution_prefix,
            definition: Cache::new(1, Some(DEFINITION_TTL)),
            finished: Cache::new(2048, None),
            current_states: Cache::new(4096, Some(CURRENT_STATE_TTL)),
            recent_runs: Cache::new(1, Some(RECENT_RUNS_REUSE)),
        }
    }

    pub(super) fn state_machine_arn(&self) -> &str {
        &self.state_machine_arn
    }

    /// The full ARN of an execution of the pipeline. An ARN of another state machine is
    /// not looked up: the dashboard shows the pipeline only.
    pub(super) fn arn_of(&self, execution: &ExecutionRef) -> Result<String, PipelineError> {
        match execution {
            ExecutionRef::Name(name) => Ok(format!("{}{name}", self.execution_prefix)),
            ExecutionRef::Arn(arn) if arn.starts_with(&self.execution_prefix) => Ok(arn.clone()),
            ExecutionRef::Arn(arn) => Err(PipelineError::NotFound(format!(
                "Execution {arn} is not an execution of the pipeline."
            ))),
        }
    }

    fn no_state_machine(&self) -> impl FnOnce() -> String + '_ {
        move || {
            format!(
                "The pipeline's state machine {} does not exist in this account and region.",
                self.state_machine_arn
            )
        }
    }

    /// Remembers the state a running execution is in, for the list.
    pub(super) fn saw_state(&self, arn: &str, state: &str) {
        self.current_states
            .insert(arn.to_string(), state.to_string());
    }

    /// Forgets the state last seen of an execution: it was decided or stopped.
    pub(super) fn forget_state(&self, arn: &str) {
        self.current_states.remove(&arn.to_string());
    }

    /// One page of the pipeline's executions, newest first.
    pub(super) async fn list_page(
        &self,
        status: Option<ExecutionStatus>,
        max_results: usize,
        next_token: Option<String>,
    ) -> Result<ExecutionPage, PipelineError> {
        let every_run = status.is_none() && next_token.is_none() && max_results >= 1000;
        let out = self
            .client
            .list_executions()
            .state_machine_arn(&self.state_machine_arn)
            .set_status_filter(status.map(sfn_status))
            .max_results(max_results.clamp(1, 1000) as i32)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| {
                if e.code() == Some("InvalidToken") {
                    PipelineError::Invalid(
                        "The page token is not valid; start from the first page.".into(),
                    )
                } else {
                    sdk_error(
                        Service::StepFunctions,
                        "ListExecutions",
                        self.no_state_machine(),
                        e,
                    )
                }
            })?;
        let executions = out
            .executions()
            .iter()
            .map(|item| {
                let status = status_of(item.status());
                ExecutionSummary {
                    arn: item.execution_arn().to_string(),
                    name: item.name().to_string(),
                    status,
                    started: timestamp(item.start_date()),
                    stopped: item.stop_date().map(timestamp),
                    commit: Commit::parse(item.name()),
                    current_state: (status == ExecutionStatus::Running)
                        .then(|| self.current_states.get(&item.execution_arn().to_string()))
                        .flatten(),
                }
            })
            .collect();
        let page = ExecutionPage {
            executions,
            next_token: out.next_token().map(str::to_string),
        };
        if every_run && page.next_token.is_none() {
            self.recent_runs.insert((), page.clone());
        }
        Ok(page)
    }

    /// Every RUNNING execution, newest first (all pages).
    pub(super) async fn running(&self) -> Result<Vec<ExecutionSummary>, PipelineError> {
        let mut out = Vec::new();
        let mut next_token = None;
        loop {
            let page = self
                .list_page(Some(ExecutionStatus::Running), 1000, next_token)
                .await?;
            out.extend(page.executions);
            match page.next_token {
                Some(token) => next_token = Some(token),
                None => return Ok(out),
            }
        }
    }

    /// The newest `limit` SUCCEEDED executions, newest first: one ListExecutions per 1,000,
    /// or none when every run was listed within [`RECENT_RUNS_REUSE`].
    pub(super) async fn succeeded(
        &self,
        limit: usize,
    ) -> Result<Vec<ExecutionSummary>, PipelineError> {
        if let Some(every) = self.recent_runs.get(&()) {
            return Ok(every
                .executions
                .into_iter()
                .filter(|e| e.status == ExecutionStatus::Succeeded)
                .take(limit)
                .collect());
        }
        let mut out = Vec::new();
        let mut next_token = None;
        while out.len() < limit {
            let page = self
                .list_page(
                    Some(ExecutionStatus::Succeeded),
                    (limit - out.len()).min(1000),
                    next_token,
                )
                .await?;
            out.extend(page.executions);
            match page.next_token {
                Some(token) => next_token = Some(token),
                None => break,
            }
        }
        out.truncate(limit);
        Ok(out)
    }

    /// DescribeExecution, or the description kept of a finished execution.
    pub(super) async fn describe(
        &self,
        execution: &ExecutionRef,
    ) -> Result<ExecutionDetail, PipelineError> {
        let arn = self.arn_of(execution)?;
        if let Some(detail) = self.finished.get(&arn) {
            return Ok(detail);
        }
        let d = self
            .client
            .describe_execution()
            .execution_arn(&arn)
            .send()
            .await
            .map_err(|e| {
                sdk_error(
                    Service::StepFunctions,
                    "DescribeExecution",
                    no_execution(&arn),
                    e,
                )
            })?;
        let name = d
            .name()
            .map(str::to_string)
            .unwrap_or_else(|| execution.name().to_string());
        let status = status_of(d.status());
        let commit = Commit::parse(&name).or_else(|| {
            d.input()
                .and_then(|input| serde_json::from_str::<Value>(input).ok())
                .and_then(|v| v.get("commitID")?.as_str().and_then(Commit::parse))
        });
        let mut detail = ExecutionDetail {
            summary: ExecutionSummary {
                arn: d.execution_arn().to_string(),
                name,
                status,
                started: timestamp(d.start_date()),
                stopped: d.stop_date().map(timestamp),
                commit,
                current_state: None,
            },
            state_machine_arn: d.state_machine_arn().to_string(),
            input: d.input().map(str::to_string),
            output: d.output().map(str::to_string),
            error: d.error().map(str::to_string),
            cause: d.cause().map(str::to_string),
        };
        if status == ExecutionStatus::Running {
            detail.summary.current_state = self.current_state(&arn).await;
        } else {
            self.current_states.remove(&arn);
            self.finished.insert(arn, detail.clone());
        }
        Ok(detail)
    }

    /// The whole history, oldest first (GetExecutionHistory pages of 1,000 events).
    pub(super) async fn history(
        &self,
        execution: &ExecutionRef,
    ) -> Result<Vec<HistoryEvent>, PipelineError> {
        let arn = self.arn_of(execution)?;
        let mut events = Vec::new();
        let mut next_token = None;
        loop {
            let page = self
                .client
                .get_execution_history()
                .execution_arn(&arn)
                .max_results(1000)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(|e| {
                    sdk_error(
                        Service::StepFunctions,
                        "GetExecutionHistory",
                        no_execution(&arn),
                        e,
                    )
                })?;
            events.extend(page.events().iter().filter_map(port_event));
            match page.next_token() {
                Some(token) => next_token = Some(token.to_string()),
                None => break,
            }
        }
        let running = !events.iter().any(|e| {
            matches!(
                e.kind.as_str(),
                "ExecutionSucceeded" | "ExecutionFailed" | "ExecutionAborted" | "ExecutionTimedOut"
            )
        });
        if running {
            if let Some(state) = events.iter().rev().find_map(|e| {
                e.kind
                    .ends_with("StateEntered")
                    .then(|| e.state.clone())
                    .flatten()
            }) {
                self.current_states.insert(arn, state);
            }
        }
        Ok(events)
    }

    /// The newest state the execution entered, from the end of its history; remembered for
    /// the list. `None` when it cannot tell (logged).
    async fn current_state(&self, arn: &str) -> Option<String> {
        let page = self
            .client
            .get_execution_history()
            .execution_arn(arn)
            .reverse_order(true)
            .max_results(25)
            .include_execution_data(false)
            .send()
            .await
            .map_err(|e| {
                let _ = sdk_error(
                    Service::StepFunctions,
                    "GetExecutionHistory",
                    String::new,
                    e,
                );
            })
            .ok()?;
        let state = page
            .events()
            .iter()
            .find_map(|e| e.state_entered_event_details().map(|d| d.name.clone()))?;
        self.current_states.insert(arn.to_string(), state.clone());
        Some(state)
    }

    /// The state machine's definition (Amazon States Language), kept for a minute.
    pub(super) async fn definition_text(&self) -> Result<String, PipelineError> {
        if let Some(definition) = self.definition.get(&()) {
            return Ok(definition);
        }
        let out = self
            .client
            .describe_state_machine()
            .state_machine_arn(&self.state_machine_arn)
            .send()
            .await
            .map_err(|e| {
                sdk_error(
                    Service::StepFunctions,
                    "DescribeStateMachine",
                    self.no_state_machine(),
                    e,
                )
            })?;
        let definition = out.definition().to_string();
        self.definition.insert((), definition.clone());
        Ok(definition)
    }

    /// StartExecution, unless an execution of that name exists already.
    pub(super) async fn start(
        &self,
        request: &StartRequest,
    ) -> Result<ExecutionSummary, PipelineError> {
        request.validate()?;
        let arn = self.arn_of(&ExecutionRef::Name(request.name.clone()))?;
        // StartExecution answers with the running execution again when name and input match;
        // a person starting a run twice by mistake should hear the name is taken instead.
        match self.describe(&ExecutionRef::Arn(arn.clone())).await {
            Ok(existing) => return Err(name_taken(&request.name, existing.summary.started)),
            Err(PipelineError::NotFound(_)) => {}
            Err(other) => return Err(other),
        }
        let started = self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(&request.name)
            .input(request.input_json())
            .send()
            .await
            .map_err(|e| {
                if e.code() == Some("ExecutionAlreadyExists") {
                    PipelineError::Conflict(format!(
                        "An execution named {} already exists. Choose another name.",
                        request.name
                    ))
                } else {
                    sdk_error(
                        Service::StepFunctions,
                        "StartExecution",
                        self.no_state_machine(),
                        e,
                    )
                }
            })?;
        Ok(ExecutionSummary {
            arn: started.execution_arn().to_string(),
            name: request.name.clone(),
            status: ExecutionStatus::Running,
            started: timestamp(started.start_date()),
            stopped: None,
            commit: Commit::parse(&request.name).or_else(|| Commit::parse(&request.commit_id)),
            current_state: None,
        })
    }

    /// StopExecution of the execution `arn`, with Gatehouse's error name and `cause`.
    pub(super) async fn stop(&self, arn: &str, cause: &str) -> Result<(), PipelineError> {
        self.client
            .stop_execution()
            .execution_arn(arn)
            .error("Gatehouse.Stopped")
            .cause(cause)
            .send()
            .await
            .map_err(|e| {
                sdk_error(
                    Service::StepFunctions,
                    "StopExecution",
                    no_execution(arn),
                    e,
                )
            })?;
        Ok(())
    }

    /// Reads the execution's history newest first until it knows whether an approval waits.
    pub(super) async fn scan_approval(&self, arn: &str) -> Result<Approval, PipelineError> {
        let mut scan = ApprovalScan::default();
        let mut next_token = None;
        loop {
            let page = self
                .client
                .get_execution_history()
                .execution_arn(arn)
                .reverse_order(true)
                .max_results(50)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(|e| {
                    sdk_error(
                        Service::StepFunctions,
                        "GetExecutionHistory",
                        no_execution(arn),
                        e,
                    )
                })?;
            for event in page.events() {
                if let Some(found) = scan.feed(event) {
                    return Ok(found);
                }
            }
            match page.next_token() {
                Some(token) => next_token = Some(token.to_string()),
                None => return Ok(scan.finish()),
            }
        }
    }

    /// Sends a decision to the task that waits with `token` (SendTaskSuccess for an
    /// approval, SendTaskFailure with the error `rejected` for a rejection). `name` is the
    /// execution's, for messages.
    pub(super) async fn send_decision(
        &self,
        token: &str,
        decision: &Decision,
        name: &str,
    ) -> Result<(), PipelineError> {
        let json = decision.to_json();
        let (operation, sent) = match decision.verdict {
            Verdict::Approved => (
                "SendTaskSuccess",
                self.client
                    .send_task_success()
                    .task_token(token)
                    .output(json)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(TaskError::from),
            ),
            Verdict::Rejected => (
                "SendTaskFailure",
                self.client
                    .send_task_failure()
                    .task_token(token)
                    .error("rejected")
                    .cause(json)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(TaskError::from),
            ),
        };
        sent.map_err(|e| e.into_pipeline_error(operation, name))
    }
}

fn no_execution(arn: &str) -> impl FnOnce() -> String + '_ {
    move || {
        format!(
            "There is no execution {}.",
            arn.rsplit(':').next().unwrap_or(arn)
        )
    }
}

/// A SendTask* failure. The request carried the task token, so nothing of it is logged but
/// the error code.
enum TaskError {
    /// The token is spent: decided, timed out or the execution stopped.
    Spent(String),
    Other(Box<dyn FnOnce(&str) -> PipelineError + Send>),
}

impl<E>
    From<
        aws_sdk_sfn::error::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
    > for TaskError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    fn from(
        error: aws_sdk_sfn::error::SdkError<
            E,
            aws_smithy_runtime_api::client::orchestrator::HttpResponse,
        >,
    ) -> Self {
        match error.code() {
            Some(code @ ("InvalidToken" | "TaskTimedOut" | "TaskDoesNotExist")) => {
                TaskError::Spent(code.to_string())
            }
            _ => TaskError::Other(Box::new(move |operation: &str| {
                sdk_error(Service::StepFunctions, operation, String::new, error)
            })),
        }
    }
}

impl TaskError {
    fn into_pipeline_error(self, operation: &'static str, name: &str) -> PipelineError {
        match self {
            TaskError::Spent(code) => {
                tracing::info!(
                    operation,
                    code,
                    execution = name,
                    "the decision came too late"
                );
                PipelineError::Conflict(format!(
                    "Execution {name} is no longer waiting for a decision: it was already \
                     decided, timed out or stopped."
                ))
            }
            TaskError::Other(build) => build(operation),
        }
    }
}

fn name_taken(name: &str, started: Timestamp) -> PipelineError {
    PipelineError::Conflict(format!(
        "An execution named {name} already exists (started {}). Choose another name.",
        started.utc()
    ))
}

fn status_of(status: &SfnStatus) -> ExecutionStatus {
    match status {
        SfnStatus::Running => ExecutionStatus::Running,
        SfnStatus::Succeeded => ExecutionStatus::Succeeded,
        SfnStatus::TimedOut => ExecutionStatus::TimedOut,
        SfnStatus::Aborted => ExecutionStatus::Aborted,
        // PENDING_REDRIVE is a failed execution that may be redriven.
        _ => ExecutionStatus::Failed,
    }
}

fn sfn_status(status: ExecutionStatus) -> SfnStatus {
    match status {
        ExecutionStatus::Running => SfnStatus::Running,
        ExecutionStatus::Succeeded => SfnStatus::Succeeded,
        ExecutionStatus::Failed => SfnStatus::Failed,
        ExecutionStatus::TimedOut => SfnStatus::TimedOut,
        ExecutionStatus::Aborted => SfnStatus::Aborted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_executions_of_the_pipeline_are_looked_up() {
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        let sfn = StepFunctions::new(
            aws_sdk_sfn::Client::new(&sdk),
            "arn:aws:states:eu-west-1:123456789012:stateMachine:p",
        );
        assert_eq!(
            sfn.arn_of(&ExecutionRef::Name("run-1".into()))
                .expect("arn"),
            "arn:aws:states:eu-west-1:123456789012:execution:p:run-1"
        );
        assert!(matches!(
            sfn.arn_of(&ExecutionRef::Arn(
                "arn:aws:states:eu-west-1:123456789012:execution:other:run-1".into()
            )),
            Err(PipelineError::NotFound(_))
        ));
    }
}
