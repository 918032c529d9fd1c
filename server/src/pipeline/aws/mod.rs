//! The AWS adapter: the control plane on AWS Step Functions, SageMaker and S3.
//!
//! Each service has its module, which says what its calls cost: `stepfunctions` (the
//! pipeline's executions, definition and approvals), `sagemaker` (jobs, models, endpoint
//! configs and endpoints), `s3` (the objects a transform job read and wrote) and `tagging`
//! (the `gatehouse:commit` tags lineage reads);
//! `deployments` rebuilds an endpoint's deployment history from the pipeline's runs and the
//! endpoint's description. This one builds the clients and puts them behind the port; what
//! it does itself is join the services' answers:
//!
//! - `endpoint_deployments` is one DescribeStateMachine a minute at most (which endpoint the
//!   pipeline deploys to), one ListExecutions (SUCCEEDED) when it is that endpoint — none
//!   when every run was listed within the last second, as a commit's lineage has just done —
//!   and one DescribeEndpoint.
//!
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
//!
//! Throttling is retried by the SDK's standard retry strategy (exponential backoff with
//! jitter, [`MAX_ATTEMPTS`] attempts); what still fails is [`PipelineError::Throttled`].
//! Every client counts its calls in [`AwsControlPlane::api_calls`].

mod approval_memory;
mod cache;
mod calls;
mod deployments;
mod errors;
mod history;
mod s3;
mod sagemaker;
mod stepfunctions;
mod tagging;

use std::time::{Duration, Instant};

use app::control_plane::{ControlPlane, PipelineError};
use app::models::commit_tags::{CommitTags, ResourceKind};
use app::models::inference::Invocation;
use app::models::lineage::Deployment;
use app::models::pipeline::{
    Decision, Endpoint, EndpointConfig, ExecutionDetail, ExecutionPage, ExecutionQuery,
    ExecutionRef, ExecutionStatus, ExecutionSummary, HistoryEvent, Model, PendingApproval,
    StartRequest, StoredObject, Timestamp, TrainingJob, TransformJob,
};
use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use serde_json::Value;

use approval_memory::{ApprovalMemory, Recalled};
use cache::Cache;
pub use calls::{ApiCalls, CountCalls};
use history::{Approval, OpenApproval};
use s3::S3;
use sagemaker::SageMaker;
use stepfunctions::StepFunctions;
use tagging::Tagging;

use super::state_timeout_seconds;
use super::token_sha256;

/// Attempts per call, the first included, before a throttled or failed call is given up.
pub const MAX_ATTEMPTS: u32 = 3;
/// How long an endpoint's description is reused while ListEndpoints shows it unchanged: a
/// bound on what the summary could miss.
const ENDPOINT_DESCRIPTION_TTL: Duration = Duration::from_secs(600);
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
    sfn: StepFunctions,
    sagemaker: SageMaker,
    s3: S3,
    tagging: Tagging,
    calls: ApiCalls,
    approvals: ApprovalMemory,
}

impl std::fmt::Debug for AwsControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsControlPlane")
            .field("state_machine_arn", &self.sfn.state_machine_arn())
            .finish_non_exhaustive()
    }
}

/// `arn:<partition>:states:<region>:<account>:stateMachine:<name>`, or why not.
pub fn check_state_machine_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.split(':').collect();
    let ok = match parts.as_slice() {
        ["arn", partition, "states", region, account, "stateMachine", name] => {
            !partition.is_empty()
                && !region.is_empty()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && !name.is_empty()
        }
        _ => false,
    };
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
        let tagging = aws_sdk_resourcegroupstagging::config::Builder::from(sdk)
            .retry_config(retry.clone())
            .interceptor(calls.interceptor())
            .build();
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            .retry_config(retry)
            .interceptor(calls.interceptor())
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        Ok(AwsControlPlane {
            sfn: StepFunctions::new(aws_sdk_sfn::Client::from_conf(sfn), state_machine_arn),
            sagemaker: SageMaker {
                client: aws_sdk_sagemaker::Client::from_conf(sagemaker),
                runtime: aws_sdk_sagemakerruntime::Client::from_conf(runtime),
                endpoint_configs: Cache::new(512, None),
                ended_training_jobs: Cache::new(512, None),
                ended_transform_jobs: Cache::new(512, None),
                endpoint_descriptions: Cache::new(1024, Some(ENDPOINT_DESCRIPTION_TTL)),
            },
            s3: S3 {
                client: aws_sdk_s3::Client::from_conf(s3),
            },
            tagging: Tagging::new(aws_sdk_resourcegroupstagging::Client::from_conf(tagging)),
            calls,
            approvals: ApprovalMemory::new(),
        })
    }

    pub fn state_machine_arn(&self) -> &str {
        self.sfn.state_machine_arn()
    }

    /// The AWS API calls made so far, per `service:Operation` (retries count).
    pub fn api_calls(&self) -> std::collections::BTreeMap<String, u64> {
        self.calls.snapshot()
    }

    /// The counter itself (to reset it, or total it).
    pub fn api_call_counter(&self) -> &ApiCalls {
        &self.calls
    }

    /// Forgets what the adapter read of an execution's approval and state: it was decided
    /// or stopped.
    fn forget_approval(&self, arn: &str) {
        self.approvals.forget(arn);
        self.sfn.forget_state(arn);
    }

    async fn to_pending(&self, execution: ExecutionSummary, open: OpenApproval) -> PendingApproval {
        let state = open.state.unwrap_or_else(|| "approval".into());
        let timeout = match open.timeout_seconds {
            Some(seconds) => Some(seconds),
            None => match self.sfn.definition_text().await {
                Ok(text) => serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|d| state_timeout_seconds(&d, &state))
                    .map(|s| s as i64),
                Err(_) => None,
            },
        };
        let since = open.waiting_since.millis();
        self.sfn.saw_state(&execution.arn, &state);
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

#[async_trait::async_trait]
impl ControlPlane for AwsControlPlane {
    async fn list_executions(
        &self,
        query: &ExecutionQuery,
    ) -> Result<ExecutionPage, PipelineError> {
        self.sfn
            .list_page(query.status, query.max_results, query.next_token.clone())
            .await
    }

    async fn describe_execution(
        &self,
        execution: &ExecutionRef,
    ) -> Result<ExecutionDetail, PipelineError> {
        self.sfn.describe(execution).await
    }

    async fn execution_history(
        &self,
        execution: &ExecutionRef,
    ) -> Result<Vec<HistoryEvent>, PipelineError> {
        self.sfn.history(execution).await
    }

    async fn definition(&self) -> Result<String, PipelineError> {
        self.sfn.definition_text().await
    }

    async fn start_execution(
        &self,
        request: &StartRequest,
    ) -> Result<ExecutionSummary, PipelineError> {
        self.sfn.start(request).await
    }

    async fn stop_execution(
        &self,
        execution: &ExecutionRef,
        cause: &str,
    ) -> Result<(), PipelineError> {
        let arn = self.sfn.arn_of(execution)?;
        let d = self.sfn.describe(&ExecutionRef::Arn(arn.clone())).await?;
        if d.summary.status != ExecutionStatus::Running {
            return Err(PipelineError::Conflict(format!(
                "Execution {} has already ended ({}).",
                d.summary.name,
                d.summary.status.label().to_lowercase()
            )));
        }
        self.sfn.stop(&arn, cause).await?;
        self.forget_approval(&arn);
        Ok(())
    }

    async fn pending_approvals(&self) -> Result<Vec<PendingApproval>, PipelineError> {
        use futures_util::stream::{self, StreamExt};

        let running = self.sfn.running().await?;
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
        let read_from = Instant::now();
        let to_scan: Vec<(usize, String)> = unread
            .into_iter()
            .filter_map(|index| Some((index, running.get(index)?.arn.clone())))
            .collect();
        let mut scans = stream::iter(to_scan)
            .map(|(index, arn)| async move {
                let scan = self.sfn.scan_approval(&arn).await;
                (index, arn, scan)
            })
            .buffer_unordered(SCANS_AT_ONCE);
        while let Some((index, arn, scan)) = scans.next().await {
            if let Ok(approval) = &scan {
                self.approvals.remember(&arn, read_from, approval);
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
            if let Some(execution) = running.get(index) {
                out.push(self.to_pending(execution.clone(), approval).await);
            }
        }
        Ok(out)
    }

    async fn approval_of(
        &self,
        execution: &ExecutionSummary,
    ) -> Result<Option<PendingApproval>, PipelineError> {
        let arn = self.sfn.arn_of(&ExecutionRef::Arn(execution.arn.clone()))?;
        let read_from = Instant::now();
        let approval = self.sfn.scan_approval(&arn).await?;
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
        let arn = self.sfn.arn_of(execution)?;
        let name = execution.name().to_string();
        let open = match self.sfn.scan_approval(&arn).await? {
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
        let sent = self.sfn.send_decision(&open.token, decision, &name).await;
        // Sent or refused, the approval read before is spent.
        self.forget_approval(&arn);
        sent
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

    async fn transform_output(&self, name: &str) -> Result<Vec<StoredObject>, PipelineError> {
        let path = crate::pipeline::completed_output_path(name, self.transform_job(name).await?)?;
        // The output path is a folder: only what is under it, not its namesakes.
        let folder = if path.ends_with('/') {
            path
        } else {
            format!("{path}/")
        };
        self.list_objects(&folder).await
    }

    async fn list_objects(&self, path: &str) -> Result<Vec<StoredObject>, PipelineError> {
        self.s3.list_objects(path).await
    }

    async fn read_object(&self, uri: &str, limit: u64) -> Result<String, PipelineError> {
        self.s3.read_object(uri, limit).await
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

    async fn invoke_endpoint(&self, name: &str, csv: &str) -> Result<Invocation, PipelineError> {
        self.sagemaker.invoke_endpoint(name, csv).await
    }

    async fn commit_tags(
        &self,
        kinds: &[ResourceKind],
        commit: Option<&str>,
    ) -> Result<CommitTags, PipelineError> {
        self.tagging.commit_tags(kinds, commit).await
    }

    /// Rebuilt from the pipeline's succeeded runs (when the pipeline deploys to `name`) and
    /// DescribeEndpoint: what that can and cannot tell is in `deployments`' notes.
    async fn endpoint_deployments(&self, name: &str) -> Result<Vec<Deployment>, PipelineError> {
        let runs = async {
            let definition = self.sfn.definition_text().await?;
            if app::models::lineage::pipeline_endpoint(&definition).as_deref() == Some(name) {
                self.sfn.succeeded(deployments::MAX_RUNS).await
            } else {
                Ok(Vec::new())
            }
        };
        let endpoint = async {
            match self.sagemaker.endpoint(name).await {
                Ok(endpoint) => Ok(Some(endpoint)),
                Err(PipelineError::NotFound(_)) => Ok(None),
                Err(other) => Err(other),
            }
        };
        let (runs, endpoint) = futures_util::future::try_join(runs, endpoint).await?;
        Ok(deployments::rebuild(name, &runs, endpoint.as_ref()))
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
            let refused = check_state_machine_arn(bad).expect_err(bad);
            assert!(
                refused.contains("is not a Step Functions state machine ARN"),
                "{bad}: {refused}"
            );
        }
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
            adapter.state_machine_arn(),
            "arn:aws:states:eu-west-1:123456789012:stateMachine:p"
        );
    }
}
