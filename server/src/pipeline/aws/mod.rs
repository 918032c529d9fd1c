//! The AWS adapter: the control plane on AWS Step Functions, SageMaker and S3.
//!
//! Costs, since every call is a network round trip someone waits for (and AWS meters):
//! - `list_executions` is one ListExecutions per page, whatever its size: the commit comes
//!   from the execution's name (the pipeline names runs by their commitID), and
//!   `current_state` is only what the adapter already knows — the last state it saw the
//!   execution enter when it last read its history (describe, history, approvals), for 30
//!   seconds — and `None` otherwise. Reading each running row's history would make a page
//!   cost one call per row.
//! - `describe_execution` is one DescribeExecution (plus one short reversed
//!   GetExecutionHistory for a running execution's current state). A finished execution
//!   never changes, so its description is cached (bounded) and costs nothing the next time.
//! - `definition` is one DescribeStateMachine a minute at most.
//! - `pending_approvals` is one ListExecutions (RUNNING) per 1,000 running executions plus
//!   one reversed GetExecutionHistory page per running execution the adapter has not read
//!   lately ([`SCANS_AT_ONCE`] at a time). The navigation's badge and the live watcher ask
//!   this on every page and every second; without memory each would cost one history read
//!   per running execution (and Step Functions' history quota refills at a few reads a
//!   second). So: an open approval stays open until someone decides it — what a read found is
//!   shown for up to [`OPEN_APPROVAL_MAX_AGE`], and re-read once older than
//!   [`OPEN_APPROVAL_TTL`], at most [`REREADS_AT_ONCE`] of them per call (oldest first), so
//!   the re-reads are spread over calls instead of all falling due on one page view. A run
//!   that was not waiting is read again after [`NOT_WAITING_TTL`]. Deciding or stopping
//!   through the adapter forgets what was read at once; `approval_of`, which decisions use,
//!   always reads the history.
//! - Endpoint configs never change once created and are cached; endpoints are described
//!   each time (their status moves).
//!
//! Throttling is retried by the SDK's standard retry strategy (exponential backoff with
//! jitter, [`MAX_ATTEMPTS`] attempts); what still fails is [`PipelineError::Throttled`].
//! Every client counts its calls in [`AwsControlPlane::api_calls`].

mod approval_memory;
mod cache;
mod calls;
mod errors;
mod history;
mod s3;
mod sagemaker;

use std::time::{Duration, Instant};

use app::control_plane::{ControlPlane, PipelineError};
use app::models::pipeline::{
    Commit, Decision, Endpoint, EndpointConfig, ExecutionDetail, ExecutionPage, ExecutionQuery,
    ExecutionRef, ExecutionStatus, ExecutionSummary, HistoryEvent, Model, OutputObject,
    PendingApproval, StartRequest, Timestamp, TrainingJob, TransformJob, Verdict,
};
use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_sdk_sfn::error::ProvideErrorMetadata;
use aws_sdk_sfn::types::ExecutionStatus as SfnStatus;
use serde_json::Value;

use approval_memory::{ApprovalMemory, Recalled};
use cache::Cache;
pub use calls::{ApiCalls, CountCalls};
use errors::{sdk_error, Service};
use history::{port_event, timestamp, Approval, ApprovalScan, OpenApproval};
use s3::S3;
use sagemaker::SageMaker;

use super::state_timeout_seconds;
use super::token_sha256;

/// Attempts per call, the first included, before a throttled or failed call is given up.
pub const MAX_ATTEMPTS: u32 = 3;
/// How long the definition is trusted.
const DEFINITION_TTL: Duration = Duration::from_secs(60);
/// How long the last state seen of a running execution is shown in the list.
const CURRENT_STATE_TTL: Duration = Duration::from_secs(30);
/// After this long an open approval found in a history is due to be read again. Decisions
/// made through this adapter forget it at once; one made elsewhere (another server, the
/// console) shows within about this time, and deciding it here reads the history anyway.
pub const OPEN_APPROVAL_TTL: Duration = Duration::from_secs(60);
/// An open approval read longer ago than this is never shown: it is read first.
pub const OPEN_APPROVAL_MAX_AGE: Duration = Duration::from_secs(300);
/// Open approvals due for a re-read that one `pending_approvals` call reads again.
pub const REREADS_AT_ONCE: usize = 4;
/// How long a running execution found not waiting for a decision is not read again: a new
/// approval shows within this time.
pub const NOT_WAITING_TTL: Duration = Duration::from_secs(5);
/// History reads `pending_approvals` makes at once.
pub const SCANS_AT_ONCE: usize = 8;

/// The Step Functions + SageMaker + S3 control plane of one state machine.
pub struct AwsControlPlane {
    sfn: aws_sdk_sfn::Client,
    sagemaker: SageMaker,
    s3: S3,
    state_machine_arn: String,
    /// `arn:…:execution:<machine>:`: every execution of the pipeline starts so.
    execution_prefix: String,
    calls: ApiCalls,
    definition: Cache<(), String>,
    finished: Cache<String, ExecutionDetail>,
    current_states: Cache<String, String>,
    approvals: ApprovalMemory,
}

impl std::fmt::Debug for AwsControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsControlPlane")
            .field("state_machine_arn", &self.state_machine_arn)
            .finish_non_exhaustive()
    }
}

/// `arn:<partition>:states:<region>:<account>:stateMachine:<name>`, or why not.
pub fn check_state_machine_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.split(':').collect();
    let ok = parts.len() == 7
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "states"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5] == "stateMachine"
        && !parts[6].is_empty();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{}' is not a Step Functions state machine ARN \
             (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)",
            app::models::pipeline::shorten(arn, 200)
        ))
    }
}

impl AwsControlPlane {
    /// Clients for `sdk` (region, credentials, endpoints — `AWS_ENDPOINT_URL_*` included —
    /// as the SDK resolved them), driving the state machine `state_machine_arn`. Makes no
    /// call.
    pub fn new(sdk: &SdkConfig, state_machine_arn: &str) -> Result<AwsControlPlane, String> {
        check_state_machine_arn(state_machine_arn)?;
        let calls = ApiCalls::default();
        let retry = RetryConfig::standard()
            .with_max_attempts(MAX_ATTEMPTS)
            .with_initial_backoff(Duration::from_millis(200))
            .with_max_backoff(Duration::from_secs(5));
        let sfn = aws_sdk_sfn::config::Builder::from(sdk)
            .retry_config(retry.clone())
            .interceptor(calls.interceptor())
            .build();
        let sagemaker = aws_sdk_sagemaker::config::Builder::from(sdk)
            .retry_config(retry.clone())
            .interceptor(calls.interceptor())
            .build();
        let runtime = aws_sdk_sagemakerruntime::config::Builder::from(sdk)
            .retry_config(retry.clone())
            .interceptor(calls.interceptor())
            .build();
        // A custom endpoint (moto, LocalStack, a VPC endpoint by IP) seldom serves
        // bucket-named hosts: address buckets by path there.
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            .retry_config(retry)
            .interceptor(calls.interceptor())
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        let execution_prefix = format!(
            "{}:",
            state_machine_arn.replacen(":stateMachine:", ":execution:", 1)
        );
        Ok(AwsControlPlane {
            sfn: aws_sdk_sfn::Client::from_conf(sfn),
            sagemaker: SageMaker {
                client: aws_sdk_sagemaker::Client::from_conf(sagemaker),
                runtime: aws_sdk_sagemakerruntime::Client::from_conf(runtime),
                endpoint_configs: Cache::new(512, None),
            },
            s3: S3 {
                client: aws_sdk_s3::Client::from_conf(s3),
            },
            state_machine_arn: state_machine_arn.to_string(),
            execution_prefix,
            calls,
            definition: Cache::new(1, Some(DEFINITION_TTL)),
            finished: Cache::new(2048, None),
            current_states: Cache::new(4096, Some(CURRENT_STATE_TTL)),
            approvals: ApprovalMemory::new(),
        })
    }

    pub fn state_machine_arn(&self) -> &str {
        &self.state_machine_arn
    }

    /// The AWS API calls made so far, per `service:Operation` (retries count).
    pub fn api_calls(&self) -> std::collections::BTreeMap<String, u64> {
        self.calls.snapshot()
    }

    /// The counter itself (to reset it, or total it).
    pub fn api_call_counter(&self) -> &ApiCalls {
        &self.calls
    }

    /// The full ARN of an execution of the pipeline. An ARN of another state machine is
    /// not looked up: the dashboard shows the pipeline only.
    fn arn_of(&self, execution: &ExecutionRef) -> Result<String, PipelineError> {
        match execution {
            ExecutionRef::Name(name) => Ok(format!("{}{name}", self.execution_prefix)),
            ExecutionRef::Arn(arn) if arn.starts_with(&self.execution_prefix) => Ok(arn.clone()),
            ExecutionRef::Arn(arn) => Err(PipelineError::NotFound(format!(
                "Execution {arn} is not an execution of the pipeline."
            ))),
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

    fn no_state_machine(&self) -> impl FnOnce() -> String + '_ {
        move || {
            format!(
                "The pipeline's state machine {} does not exist in this account and region.",
                self.state_machine_arn
            )
        }
    }

    /// Forgets what the adapter read of an execution's approval and state: it was decided
    /// or stopped.
    fn forget_approval(&self, arn: &str) {
        self.approvals.forget(arn);
        self.current_states.remove(&arn.to_string());
    }

    /// The newest state the execution entered, from the end of its history; remembered for
    /// the list. `None` when it cannot tell (logged).
    async fn current_state(&self, arn: &str) -> Option<String> {
        let page = self
            .sfn
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

    async fn definition_text(&self) -> Result<String, PipelineError> {
        if let Some(definition) = self.definition.get(&()) {
            return Ok(definition);
        }
        let out = self
            .sfn
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

    /// Every RUNNING execution, newest first (all pages).
    async fn running(&self) -> Result<Vec<ExecutionSummary>, PipelineError> {
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

    async fn list_page(
        &self,
        status: Option<ExecutionStatus>,
        max_results: usize,
        next_token: Option<String>,
    ) -> Result<ExecutionPage, PipelineError> {
        let out = self
            .sfn
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
        Ok(ExecutionPage {
            executions,
            next_token: out.next_token().map(str::to_string),
        })
    }

    /// Reads the execution's history newest first until it knows whether an approval waits.
    async fn approval(&self, arn: &str) -> Result<Approval, PipelineError> {
        scan_approval(&self.sfn, arn).await
    }

    async fn to_pending(&self, execution: ExecutionSummary, open: OpenApproval) -> PendingApproval {
        let state = open.state.unwrap_or_else(|| "approval".into());
        let timeout = match open.timeout_seconds {
            Some(seconds) => Some(seconds),
            None => match self.definition_text().await {
                Ok(text) => serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|d| state_timeout_seconds(&d, &state))
                    .map(|s| s as i64),
                Err(_) => None,
            },
        };
        let since = open.waiting_since.millis();
        self.current_states
            .insert(execution.arn.clone(), state.clone());
        let mut execution = execution;
        execution.current_state = Some(state.clone());
        PendingApproval {
            execution,
            state,
            scheduled_event_id: open.scheduled_event_id,
            waiting_since: open.waiting_since,
            deadline: timeout.map(|s| Timestamp(since.saturating_add(s.saturating_mul(1000)))),
            transform_output: open.transform_output,
            token_sha256: token_sha256(&open.token),
        }
    }
}

async fn scan_approval(sfn: &aws_sdk_sfn::Client, arn: &str) -> Result<Approval, PipelineError> {
    let mut scan = ApprovalScan::default();
    let mut next_token = None;
    loop {
        let page = sfn
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
                    AwsControlPlane::no_execution(arn),
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

#[async_trait::async_trait]
impl ControlPlane for AwsControlPlane {
    async fn list_executions(
        &self,
        query: &ExecutionQuery,
    ) -> Result<ExecutionPage, PipelineError> {
        self.list_page(query.status, query.max_results, query.next_token.clone())
            .await
    }

    async fn describe_execution(
        &self,
        execution: &ExecutionRef,
    ) -> Result<ExecutionDetail, PipelineError> {
        let arn = self.arn_of(execution)?;
        if let Some(detail) = self.finished.get(&arn) {
            return Ok(detail);
        }
        let d = self
            .sfn
            .describe_execution()
            .execution_arn(&arn)
            .send()
            .await
            .map_err(|e| {
                sdk_error(
                    Service::StepFunctions,
                    "DescribeExecution",
                    Self::no_execution(&arn),
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
                .and_then(|v| v["commitID"].as_str().and_then(Commit::parse))
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

    async fn execution_history(
        &self,
        execution: &ExecutionRef,
    ) -> Result<Vec<HistoryEvent>, PipelineError> {
        let arn = self.arn_of(execution)?;
        let mut events = Vec::new();
        let mut next_token = None;
        loop {
            let page = self
                .sfn
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
                        Self::no_execution(&arn),
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

    async fn definition(&self) -> Result<String, PipelineError> {
        self.definition_text().await
    }

    async fn start_execution(
        &self,
        request: &StartRequest,
    ) -> Result<ExecutionSummary, PipelineError> {
        request.validate()?;
        let arn = self.arn_of(&ExecutionRef::Name(request.name.clone()))?;
        // StartExecution answers with the running execution again when name and input match;
        // a person starting a run twice by mistake should hear the name is taken instead.
        match self
            .describe_execution(&ExecutionRef::Arn(arn.clone()))
            .await
        {
            Ok(existing) => return Err(name_taken(&request.name, existing.summary.started)),
            Err(PipelineError::NotFound(_)) => {}
            Err(other) => return Err(other),
        }
        let started = self
            .sfn
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

    async fn stop_execution(
        &self,
        execution: &ExecutionRef,
        cause: &str,
    ) -> Result<(), PipelineError> {
        let arn = self.arn_of(execution)?;
        let d = self
            .describe_execution(&ExecutionRef::Arn(arn.clone()))
            .await?;
        if d.summary.status != ExecutionStatus::Running {
            return Err(PipelineError::Conflict(format!(
                "Execution {} has already ended ({}).",
                d.summary.name,
                d.summary.status.label().to_lowercase()
            )));
        }
        self.sfn
            .stop_execution()
            .execution_arn(&arn)
            .error("Gatehouse.Stopped")
            .cause(cause)
            .send()
            .await
            .map_err(|e| {
                sdk_error(
                    Service::StepFunctions,
                    "StopExecution",
                    Self::no_execution(&arn),
                    e,
                )
            })?;
        self.forget_approval(&arn);
        Ok(())
    }

    async fn pending_approvals(&self) -> Result<Vec<PendingApproval>, PipelineError> {
        use futures_util::stream::{self, StreamExt};

        let running = self.running().await?;
        // What was read lately needs no call; the rest is read, a few histories at once.
        let mut open: Vec<(usize, OpenApproval)> = Vec::new();
        let mut unread = Vec::new();
        let mut due = Vec::new();
        for (index, execution) in running.iter().enumerate() {
            match self.approvals.recall(&execution.arn) {
                Recalled::Open(approval, read_at) => {
                    if read_at.elapsed() > OPEN_APPROVAL_TTL {
                        due.push((read_at, index));
                    }
                    open.push((index, approval));
                }
                Recalled::NotWaiting => {}
                Recalled::Unknown => unread.push(index),
            }
        }
        // The oldest few due are read again; a re-read replaces what was shown.
        due.sort();
        for (_, index) in due.into_iter().take(REREADS_AT_ONCE) {
            open.retain(|(i, _)| *i != index);
            unread.push(index);
        }
        let listed = &running;
        let read_from = Instant::now();
        let mut scans = stream::iter(unread)
            .map(|index| async move { (index, scan_approval(&self.sfn, &listed[index].arn).await) })
            .buffer_unordered(SCANS_AT_ONCE);
        while let Some((index, scan)) = scans.next().await {
            if let Ok(approval) = &scan {
                self.approvals
                    .remember(&running[index].arn, read_from, approval);
            }
            match scan {
                Ok(Approval::Open(approval)) => open.push((index, approval)),
                Ok(_) => {}
                // It ended (and was removed) between the list and its history.
                Err(PipelineError::NotFound(_)) => {}
                Err(other) => return Err(other),
            }
        }
        // `running` is newest first: keep that order.
        open.sort_by_key(|(index, _)| *index);
        let mut out = Vec::with_capacity(open.len());
        for (index, approval) in open {
            out.push(self.to_pending(running[index].clone(), approval).await);
        }
        Ok(out)
    }

    async fn approval_of(
        &self,
        execution: &ExecutionSummary,
    ) -> Result<Option<PendingApproval>, PipelineError> {
        let arn = self.arn_of(&ExecutionRef::Arn(execution.arn.clone()))?;
        let read_from = Instant::now();
        let approval = self.approval(&arn).await?;
        self.approvals.remember(&arn, read_from, &approval);
        Ok(match approval {
            Approval::Open(open) => Some(self.to_pending(execution.clone(), open).await),
            Approval::Closed(_) | Approval::NotWaiting => None,
        })
    }

    async fn decide(
        &self,
        execution: &ExecutionRef,
        decision: &Decision,
    ) -> Result<(), PipelineError> {
        let arn = self.arn_of(execution)?;
        let name = execution.name().to_string();
        let open = match self.approval(&arn).await? {
            Approval::Open(open) => open,
            Approval::Closed(Some(how)) => {
                return Err(PipelineError::Conflict(format!(
                    "Execution {name} was already decided: {how}."
                )))
            }
            Approval::Closed(None) => {
                return Err(PipelineError::Conflict(format!(
                    "Execution {name} is no longer waiting for a decision: it timed out or \
                     was stopped."
                )))
            }
            Approval::NotWaiting => {
                return Err(PipelineError::Conflict(format!(
                    "Execution {name} is not waiting for a decision."
                )))
            }
        };
        let json = decision.to_json();
        let (operation, sent) = match decision.verdict {
            Verdict::Approved => (
                "SendTaskSuccess",
                self.sfn
                    .send_task_success()
                    .task_token(&open.token)
                    .output(json)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(TaskError::from),
            ),
            Verdict::Rejected => (
                "SendTaskFailure",
                self.sfn
                    .send_task_failure()
                    .task_token(&open.token)
                    .error("rejected")
                    .cause(json)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(TaskError::from),
            ),
        };
        // Sent or refused, the approval read before is spent.
        self.forget_approval(&arn);
        sent.map_err(|e| e.into_pipeline_error(operation, &name))
    }

    async fn training_job(&self, name: &str) -> Result<TrainingJob, PipelineError> {
        self.sagemaker.training_job(name).await
    }

    async fn model(&self, name: &str) -> Result<Model, PipelineError> {
        self.sagemaker.model(name).await
    }

    async fn transform_job(&self, name: &str) -> Result<TransformJob, PipelineError> {
        self.sagemaker.transform_job(name).await
    }

    async fn transform_output(&self, name: &str) -> Result<Vec<OutputObject>, PipelineError> {
        let path = crate::pipeline::completed_output_path(name, self.transform_job(name).await?)?;
        // The output path is a folder: only what is under it, not its namesakes.
        let folder = if path.ends_with('/') {
            path
        } else {
            format!("{path}/")
        };
        self.read_objects(&folder).await
    }

    async fn read_objects(&self, path: &str) -> Result<Vec<OutputObject>, PipelineError> {
        self.s3.read_objects(path).await
    }

    async fn endpoint_configs(&self) -> Result<Vec<EndpointConfig>, PipelineError> {
        self.sagemaker.endpoint_configs().await
    }

    async fn endpoint_config(&self, name: &str) -> Result<EndpointConfig, PipelineError> {
        self.sagemaker.endpoint_config(name).await
    }

    async fn delete_endpoint_config(&self, name: &str) -> Result<(), PipelineError> {
        self.sagemaker.delete_endpoint_config(name).await
    }

    async fn endpoints(&self) -> Result<Vec<Endpoint>, PipelineError> {
        self.sagemaker.endpoints().await
    }

    async fn endpoint_statuses(&self) -> Result<Vec<Endpoint>, PipelineError> {
        self.sagemaker.endpoint_statuses().await
    }

    async fn endpoint(&self, name: &str) -> Result<Endpoint, PipelineError> {
        self.sagemaker.endpoint(name).await
    }

    async fn update_endpoint(&self, name: &str, config_name: &str) -> Result<(), PipelineError> {
        self.sagemaker.update_endpoint(name, config_name).await
    }

    async fn delete_endpoint(&self, name: &str) -> Result<(), PipelineError> {
        self.sagemaker.delete_endpoint(name).await
    }

    async fn invoke_endpoint(&self, name: &str, csv: &str) -> Result<String, PipelineError> {
        self.sagemaker.invoke_endpoint(name, csv).await
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
    fn state_machine_arns_are_checked() {
        assert!(
            check_state_machine_arn("arn:aws:states:eu-west-1:123456789012:stateMachine:p").is_ok()
        );
        for bad in [
            "",
            "arn:aws:states:eu-west-1:123456789012:execution:p:x",
            "arn:aws:states:eu-west-1:1234:stateMachine:p",
            "pipeline",
        ] {
            assert!(check_state_machine_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn s3_uris_split_into_bucket_and_key() {
        assert_eq!(
            s3::split_s3_uri("s3://b/transform_output/x"),
            Some(("b", "transform_output/x"))
        );
        assert_eq!(s3::split_s3_uri("s3://b"), Some(("b", "")));
        assert_eq!(s3::split_s3_uri("https://b/x"), None);
    }

    #[test]
    fn the_adapter_makes_no_call_when_built() {
        let sdk = SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        let adapter =
            AwsControlPlane::new(&sdk, "arn:aws:states:eu-west-1:123456789012:stateMachine:p")
                .expect("adapter");
        assert_eq!(adapter.api_call_counter().total(), 0);
        assert_eq!(
            adapter
                .arn_of(&ExecutionRef::Name("run-1".into()))
                .expect("arn"),
            "arn:aws:states:eu-west-1:123456789012:execution:p:run-1"
        );
        assert!(matches!(
            adapter.arn_of(&ExecutionRef::Arn(
                "arn:aws:states:eu-west-1:123456789012:execution:other:run-1".into()
            )),
            Err(PipelineError::NotFound(_))
        ));
    }
}
