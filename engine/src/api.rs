//! The request and response types of the engine API, shaped (and serialized) like the
//! Step Functions API's, and its error type.

use crate::asl::definition::DefinitionError;
use crate::store::StoreError;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

/// Errors of the engine API, named after the Step Functions API errors.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("InvalidDefinition: {0}")]
    InvalidDefinition(#[from] DefinitionError),
    #[error("InvalidName: {0}")]
    InvalidName(String),
    #[error("InvalidArn: {0}")]
    InvalidArn(String),
    #[error("StateMachineDoesNotExist: {0}")]
    StateMachineDoesNotExist(String),
    #[error("ExecutionDoesNotExist: {0}")]
    ExecutionDoesNotExist(String),
    #[error("ExecutionAlreadyExists: {0}")]
    ExecutionAlreadyExists(String),
    #[error("InvalidExecutionInput: {0}")]
    InvalidExecutionInput(String),
    #[error("InvalidOutput: {0}")]
    InvalidOutput(String),
    #[error("InvalidToken: {0}")]
    InvalidToken(String),
    #[error("TaskDoesNotExist: {0}")]
    TaskDoesNotExist(String),
    #[error("TaskTimedOut: {0}")]
    TaskTimedOut(String),
    #[error("storage failure: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartedExecution {
    pub execution_arn: String,
    #[serde(with = "time::serde::rfc3339")]
    pub start_date: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

impl ExecutionStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            ExecutionStatus::Running => "RUNNING",
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
        }
    }

    pub(crate) fn parse(s: &str) -> ExecutionStatus {
        match s {
            "SUCCEEDED" => ExecutionStatus::Succeeded,
            "FAILED" => ExecutionStatus::Failed,
            "TIMED_OUT" => ExecutionStatus::TimedOut,
            "ABORTED" => ExecutionStatus::Aborted,
            _ => ExecutionStatus::Running,
        }
    }
}

/// What DescribeExecution returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionDescription {
    pub execution_arn: String,
    pub state_machine_arn: String,
    pub name: String,
    pub status: ExecutionStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub start_date: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub stop_date: Option<OffsetDateTime>,
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// One entry of ListExecutions.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionSummary {
    pub execution_arn: String,
    pub state_machine_arn: String,
    pub name: String,
    pub status: ExecutionStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub start_date: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub stop_date: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Default)]
pub struct ListExecutionsRequest {
    pub state_machine_arn: Option<String>,
    pub status_filter: Option<ExecutionStatus>,
    /// 1..=1000, default 100.
    pub max_results: Option<usize>,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionList {
    pub executions: Vec<ExecutionSummary>,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct HistoryRequest {
    pub max_results: Option<usize>,
    pub next_token: Option<String>,
    pub reverse_order: bool,
}

/// A page of GetExecutionHistory: events as AWS shapes them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    pub events: Vec<Value>,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: i64,
    pub kind: String,
    pub execution_arn: Option<String>,
    pub body: Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
}
