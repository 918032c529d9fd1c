//! Running executions: the interpreter, its journal-backed replay, task tokens.

pub(crate) mod basic;
pub(crate) mod branches;
pub(crate) mod execution;
pub mod history;
pub mod io;
pub(crate) mod parking;
pub(crate) mod query;
pub(crate) mod resource;
pub(crate) mod runner;
pub(crate) mod step;
pub(crate) mod task;
pub(crate) mod tokens;

use crate::clock::{epoch_millis, rfc3339, Clock};
use crate::error::StatesError;
use crate::integrations::Services;
use crate::store::Store;
use serde_json::{json, Value};
use std::sync::Arc;
use time::OffsetDateTime;

/// Bounds Step Functions enforces.
#[derive(Debug, Clone)]
pub struct Limits {
    /// A state's input/output or a task's result (256 KiB in AWS).
    pub max_payload_bytes: usize,
    /// Events in one execution's history (25,000 in AWS).
    pub max_history_events: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_payload_bytes: io::MAX_PAYLOAD_BYTES,
            max_history_events: 25_000,
        }
    }
}

/// What every execution shares: storage, time, integrations, token waiters.
pub(crate) struct Env {
    pub store: Arc<Store>,
    pub clock: Arc<dyn Clock>,
    pub services: Services,
    pub tokens: tokens::TokenHub,
    pub limits: Limits,
}

/// One running execution.
pub(crate) struct ExecutionRun {
    pub env: Arc<Env>,
    pub arn: String,
    pub name: String,
    pub state_machine_arn: String,
    pub state_machine_name: String,
    pub role_arn: String,
    pub input: Value,
    pub start: OffsetDateTime,
    /// The highest event id written so far (ids are contiguous, so also the count).
    pub event_count: std::sync::atomic::AtomicI64,
    /// How a long wait lets the engine drop this run's task until the wait is over.
    pub parking: parking::Parking,
}

impl ExecutionRun {
    /// Appends a history event under a key unique within the execution; a replayed step
    /// finds its event already there and gets the same id back.
    pub fn emit(
        &self,
        key: &str,
        event_type: &str,
        previous: i64,
        details: Option<Value>,
    ) -> Result<i64, StatesError> {
        let event = history::event(event_type, self.env.clock.now(), previous, details);
        self.append(key, &event)
    }

    /// Writes a step's pending events and its journal entry in one transaction.
    pub fn complete_step(
        &self,
        key: &str,
        events: &[(String, Value)],
        journal: impl FnOnce(Option<i64>) -> Value,
    ) -> Result<Option<i64>, StatesError> {
        let id = self
            .env
            .store
            .complete_step(&self.arn, events, key, journal)
            .map_err(storage_failure)?;
        if let Some(id) = id {
            self.event_count
                .fetch_max(id, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(id)
    }

    /// Appends an already built event.
    pub fn append(&self, key: &str, event: &Value) -> Result<i64, StatesError> {
        let id = self
            .env
            .store
            .append_event(&self.arn, key, event)
            .map_err(storage_failure)?;
        self.event_count
            .fetch_max(id, std::sync::atomic::Ordering::Relaxed);
        Ok(id)
    }

    pub fn journal_get(&self, key: &str) -> Result<Option<Value>, StatesError> {
        self.env
            .store
            .journal_get(&self.arn, key)
            .map_err(storage_failure)
    }

    pub fn journal_put(&self, key: &str, body: &Value) -> Result<(), StatesError> {
        self.env
            .store
            .journal_put(&self.arn, key, body)
            .map_err(storage_failure)
    }

    /// A timestamp first computed by this step, kept in the journal so that a restarted
    /// execution waits for the same moment instead of starting the wait again.
    pub fn journaled_deadline(
        &self,
        key: &str,
        compute: impl FnOnce() -> OffsetDateTime,
    ) -> Result<OffsetDateTime, StatesError> {
        if let Some(stored) = self.journal_get(key)? {
            if let Some(ms) = stored.get("at_ms").and_then(Value::as_i64) {
                return OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                    .map_err(|e| StatesError::runtime(e.to_string()));
            }
        }
        let at = compute();
        self.journal_put(key, &json!({"at_ms": epoch_millis(at)}))?;
        Ok(at)
    }

    /// The context object (`$$`) for a state.
    pub fn context(
        &self,
        state_name: &str,
        entered: OffsetDateTime,
        retry_count: u32,
        token: Option<&str>,
    ) -> Value {
        let mut ctx = json!({
            "Execution": {
                "Id": self.arn,
                "Input": self.input,
                "Name": self.name,
                "RoleArn": self.role_arn,
                "StartTime": rfc3339(self.start),
                "RedriveCount": 0
            },
            "State": {"EnteredTime": rfc3339(entered), "Name": state_name, "RetryCount": retry_count},
            "StateMachine": {"Id": self.state_machine_arn, "Name": self.state_machine_name}
        });
        if let Some(token) = token {
            set_field(&mut ctx, "Task", json!({"Token": token}));
        }
        ctx
    }
}

/// Sets `key` on a record or context object the engine builds itself, as `value[key] = ...`
/// would (null becomes an object) but without its panic on any other value: those records
/// are always objects, and one that is not is left as it is.
pub(crate) fn set_field(target: &mut Value, key: &str, value: Value) {
    if target.is_null() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(map) = target {
        map.insert(key.to_string(), value);
    }
}

pub(crate) fn storage_failure(e: crate::store::StoreError) -> StatesError {
    StatesError::runtime(format!("the engine could not record the execution: {e}"))
}
