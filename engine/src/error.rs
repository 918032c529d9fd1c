//! The error an ASL state raises at run time: a name that `Retry`/`Catch` match on and a
//! human-readable cause, exactly the pair Step Functions puts in `{"Error", "Cause"}`.

use serde::{Deserialize, Serialize};

/// Names Step Functions itself raises (the "predefined" error names).
pub mod names {
    pub const ALL: &str = "States.ALL";
    pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
    pub const TIMEOUT: &str = "States.Timeout";
    pub const TASK_FAILED: &str = "States.TaskFailed";
    pub const PERMISSIONS: &str = "States.Permissions";
    pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
    pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
    pub const BRANCH_FAILED: &str = "States.BranchFailed";
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
    pub const ITEM_READER_FAILED: &str = "States.ItemReaderFailed";
    pub const RESULT_WRITER_FAILED: &str = "States.ResultWriterFailed";
    pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
    pub const RUNTIME: &str = "States.Runtime";
    pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
}

/// A failure inside an execution, as Step Functions reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct StatesError {
    pub error: String,
    pub cause: String,
}

impl StatesError {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        StatesError {
            error: error.into(),
            cause: cause.into(),
        }
    }

    pub fn runtime(cause: impl Into<String>) -> Self {
        Self::new(names::RUNTIME, cause)
    }

    pub fn intrinsic(cause: impl Into<String>) -> Self {
        Self::new(names::INTRINSIC_FAILURE, cause)
    }

    pub fn task_failed(cause: impl Into<String>) -> Self {
        Self::new(names::TASK_FAILED, cause)
    }

    /// The `{"Error", "Cause"}` object a `Catch` hands to its `ResultPath`.
    pub fn to_catch_output(&self) -> serde_json::Value {
        serde_json::json!({"Error": self.error, "Cause": self.cause})
    }

    /// Whether one `ErrorEquals` entry matches this error, with the special rules of the
    /// predefined wildcards: `States.ALL` never catches the terminal `States.Runtime` and
    /// `States.DataLimitExceeded`, and `States.TaskFailed` matches every task error except
    /// timeouts.
    pub fn matches(&self, pattern: &str) -> bool {
        match pattern {
            names::ALL => !self.is_terminal(),
            names::TASK_FAILED => {
                !self.is_terminal()
                    && self.error != names::TIMEOUT
                    && self.error != names::HEARTBEAT_TIMEOUT
            }
            // A heartbeat timeout is a kind of timeout for `States.Timeout` matchers.
            names::TIMEOUT => {
                self.error == names::TIMEOUT || self.error == names::HEARTBEAT_TIMEOUT
            }
            other => self.error == other && self.error != names::RUNTIME,
        }
    }

    /// `States.Runtime` and `States.DataLimitExceeded` end the execution whatever a
    /// wildcard retrier or catcher says.
    pub fn is_terminal(&self) -> bool {
        self.error == names::RUNTIME || self.error == names::DATA_LIMIT_EXCEEDED
    }
}
