//! Callbacks waiting for a decision (`.waitForTaskToken` tasks) and the decisions sent to
//! them: SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat.

use super::{describe, summarize, Engine, EngineError, ExecutionSummary};
use crate::callbacks::PendingCallback;
use crate::clock::epoch_millis;
use crate::runtime::io;
use crate::runtime::tokens::{failure_decision, is_well_formed, success_decision};
use crate::store::{WaitingCallback, TOKEN_WAITING};
use serde_json::Value;
use std::collections::HashMap;

/// A waiting token's callback as a history reader would see it (`callbacks`), with the
/// token the engine issued.
fn callback_of(waiting: WaitingCallback) -> PendingCallback {
    let scheduled = &waiting.scheduled;
    let text = |pointer: &str| {
        scheduled
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    PendingCallback {
        scheduled_event_id: scheduled
            .get("id")
            .and_then(Value::as_i64)
            .unwrap_or_default(),
        state_name: waiting
            .entered
            .as_ref()
            .and_then(|e| e.pointer("/stateEnteredEventDetails/name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        resource: text("/taskScheduledEventDetails/resource"),
        parameters: scheduled
            .pointer("/taskScheduledEventDetails/parameters")
            .and_then(Value::as_str)
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or(Value::Null),
        scheduled_at: text("/timestamp"),
        token: Some(waiting.token),
    }
}

impl Engine {
    /// Every open `.waitForTaskToken` task of every RUNNING execution (what "pending
    /// approvals" are made of), oldest execution first. Read from the task tokens' index,
    /// which the runtime keeps as callbacks open and close, not from histories.
    pub fn pending_callbacks(
        &self,
    ) -> Result<Vec<(ExecutionSummary, PendingCallback)>, EngineError> {
        let store = &self.inner.env.store;
        let mut out = Vec::new();
        let mut summaries: HashMap<String, ExecutionSummary> = HashMap::new();
        for waiting in store.waiting_callbacks(None)? {
            let summary = match summaries.get(&waiting.execution_arn) {
                Some(summary) => summary.clone(),
                None => {
                    let Some(row) = store.execution(&waiting.execution_arn)? else {
                        continue;
                    };
                    let summary = summarize(describe(row));
                    summaries.insert(waiting.execution_arn.clone(), summary.clone());
                    summary
                }
            };
            out.push((summary, callback_of(waiting)));
        }
        Ok(out)
    }

    /// The open callbacks of one execution (none once it has ended): what deciding it needs.
    pub fn pending_callbacks_of(
        &self,
        execution_arn: &str,
    ) -> Result<Vec<PendingCallback>, EngineError> {
        let store = &self.inner.env.store;
        if store.execution(execution_arn)?.is_none() {
            return Err(EngineError::ExecutionDoesNotExist(
                execution_arn.to_string(),
            ));
        }
        Ok(store
            .waiting_callbacks(Some(execution_arn))?
            .into_iter()
            .map(callback_of)
            .collect())
    }

    fn decide(&self, token: &str, decision: &Value) -> Result<(), EngineError> {
        if !is_well_formed(token) {
            return Err(EngineError::InvalidToken(
                "Invalid Token: the task token is malformed".into(),
            ));
        }
        let store = &self.inner.env.store;
        let row = store
            .token(token)?
            .ok_or_else(|| EngineError::TaskDoesNotExist("Task Does Not Exist".into()))?;
        if row.status != TOKEN_WAITING || !store.decide_token(token, decision)? {
            return Err(EngineError::TaskTimedOut(
                "Task Timed Out: the task has already been decided, timed out or stopped".into(),
            ));
        }
        self.inner.env.tokens.wake(token);
        Ok(())
    }

    /// SendTaskSuccess. Once this returns, the decision is durable.
    pub fn send_task_success(&self, token: &str, output: &str) -> Result<(), EngineError> {
        let output: Value = serde_json::from_str(output)
            .map_err(|e| EngineError::InvalidOutput(format!("the output is not JSON: {e}")))?;
        io::check_size(
            &output,
            self.inner.env.limits.max_payload_bytes,
            "task output",
        )
        .map_err(|e| EngineError::InvalidOutput(e.cause))?;
        self.decide(token, &success_decision(output))
    }

    /// SendTaskFailure. Once this returns, the decision is durable.
    pub fn send_task_failure(
        &self,
        token: &str,
        error: &str,
        cause: &str,
    ) -> Result<(), EngineError> {
        self.decide(token, &failure_decision(error, cause))
    }

    /// SendTaskHeartbeat.
    pub fn send_task_heartbeat(&self, token: &str) -> Result<(), EngineError> {
        if !is_well_formed(token) {
            return Err(EngineError::InvalidToken(
                "Invalid Token: the task token is malformed".into(),
            ));
        }
        let store = &self.inner.env.store;
        store
            .token(token)?
            .ok_or_else(|| EngineError::TaskDoesNotExist("Task Does Not Exist".into()))?;
        if !store.heartbeat_token(token, epoch_millis(self.inner.env.clock.now()))? {
            return Err(EngineError::TaskTimedOut("Task Timed Out".into()));
        }
        self.inner.env.tokens.wake(token);
        Ok(())
    }
}
