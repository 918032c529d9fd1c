//! Step Functions history events: the SDK's typed events back in the JSON shape
//! GetExecutionHistory has on the wire (so the shared [`event_from_json`] redacts and reads
//! them as it does the engine's), and the scan that finds an open approval.

use app::models::pipeline::{HistoryEvent, Timestamp};
use aws_sdk_sfn::types::{HistoryEvent as SfnEvent, HistoryEventType};
use serde_json::{Map, Value};

use crate::pipeline::event_from_json;

/// Milliseconds since the epoch.
pub fn millis(t: &aws_smithy_types::DateTime) -> i64 {
    t.to_millis()
        .unwrap_or_else(|_| t.secs().saturating_mul(1000))
}

pub fn timestamp(t: &aws_smithy_types::DateTime) -> Timestamp {
    Timestamp(millis(t))
}

/// The port's event: the wire shape, task tokens redacted.
pub fn port_event(event: &SfnEvent) -> Option<HistoryEvent> {
    event_from_json(wire_json(event))
}

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    let map: Map<String, Value> = pairs
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    Value::Object(map)
}

fn s(text: &str) -> Value {
    Value::String(text.to_string())
}

fn o(text: &Option<String>) -> Value {
    text.as_deref().map(s).unwrap_or(Value::Null)
}

fn n(number: Option<i64>) -> Value {
    number.map(Value::from).unwrap_or(Value::Null)
}

/// `{"id", "previousEventId", "timestamp", "type", "<kind>EventDetails": {…}}`.
pub fn wire_json(event: &SfnEvent) -> Value {
    let mut pairs = vec![
        ("id", Value::from(event.id())),
        ("previousEventId", Value::from(event.previous_event_id())),
        ("timestamp", Value::from(millis(event.timestamp()))),
        ("type", s(event.r#type().as_str())),
    ];
    if let Some((key, details)) = details(event) {
        pairs.push((key, details));
    }
    obj(pairs)
}

fn error_cause(error: &Option<String>, cause: &Option<String>) -> Value {
    obj(vec![("error", o(error)), ("cause", o(cause))])
}

fn details(e: &SfnEvent) -> Option<(&'static str, Value)> {
    if let Some(d) = e.execution_started_event_details() {
        return Some((
            "executionStartedEventDetails",
            obj(vec![("input", o(&d.input)), ("roleArn", o(&d.role_arn))]),
        ));
    }
    if let Some(d) = e.execution_succeeded_event_details() {
        return Some((
            "executionSucceededEventDetails",
            obj(vec![("output", o(&d.output))]),
        ));
    }
    if let Some(d) = e.execution_failed_event_details() {
        return Some((
            "executionFailedEventDetails",
            error_cause(&d.error, &d.cause),
        ));
    }
    if let Some(d) = e.execution_aborted_event_details() {
        return Some((
            "executionAbortedEventDetails",
            error_cause(&d.error, &d.cause),
        ));
    }
    if let Some(d) = e.execution_timed_out_event_details() {
        return Some((
            "executionTimedOutEventDetails",
            error_cause(&d.error, &d.cause),
        ));
    }
    if let Some(d) = e.state_entered_event_details() {
        return Some((
            "stateEnteredEventDetails",
            obj(vec![("name", s(&d.name)), ("input", o(&d.input))]),
        ));
    }
    if let Some(d) = e.state_exited_event_details() {
        return Some((
            "stateExitedEventDetails",
            obj(vec![("name", s(&d.name)), ("output", o(&d.output))]),
        ));
    }
    if let Some(d) = e.task_scheduled_event_details() {
        return Some((
            "taskScheduledEventDetails",
            obj(vec![
                ("resourceType", s(&d.resource_type)),
                ("resource", s(&d.resource)),
                ("region", s(&d.region)),
                ("parameters", s(&d.parameters)),
                ("timeoutInSeconds", n(d.timeout_in_seconds)),
                ("heartbeatInSeconds", n(d.heartbeat_in_seconds)),
            ]),
        ));
    }
    if let Some(d) = e.task_started_event_details() {
        return Some((
            "taskStartedEventDetails",
            obj(vec![
                ("resourceType", s(&d.resource_type)),
                ("resource", s(&d.resource)),
            ]),
        ));
    }
    if let Some(d) = e.task_submitted_event_details() {
        return Some((
            "taskSubmittedEventDetails",
            obj(vec![
                ("resourceType", s(&d.resource_type)),
                ("resource", s(&d.resource)),
                ("output", o(&d.output)),
            ]),
        ));
    }
    if let Some(d) = e.task_succeeded_event_details() {
        return Some((
            "taskSucceededEventDetails",
            obj(vec![
                ("resourceType", s(&d.resource_type)),
                ("resource", s(&d.resource)),
                ("output", o(&d.output)),
            ]),
        ));
    }
    let task_error =
        |resource_type: &str, resource: &str, error: &Option<String>, cause: &Option<String>| {
            obj(vec![
                ("resourceType", s(resource_type)),
                ("resource", s(resource)),
                ("error", o(error)),
                ("cause", o(cause)),
            ])
        };
    if let Some(d) = e.task_failed_event_details() {
        return Some((
            "taskFailedEventDetails",
            task_error(&d.resource_type, &d.resource, &d.error, &d.cause),
        ));
    }
    if let Some(d) = e.task_timed_out_event_details() {
        return Some((
            "taskTimedOutEventDetails",
            task_error(&d.resource_type, &d.resource, &d.error, &d.cause),
        ));
    }
    if let Some(d) = e.task_start_failed_event_details() {
        return Some((
            "taskStartFailedEventDetails",
            task_error(&d.resource_type, &d.resource, &d.error, &d.cause),
        ));
    }
    if let Some(d) = e.task_submit_failed_event_details() {
        return Some((
            "taskSubmitFailedEventDetails",
            task_error(&d.resource_type, &d.resource, &d.error, &d.cause),
        ));
    }
    if let Some(d) = e.lambda_function_scheduled_event_details() {
        return Some((
            "lambdaFunctionScheduledEventDetails",
            obj(vec![
                ("resource", s(&d.resource)),
                ("input", o(&d.input)),
                ("timeoutInSeconds", n(d.timeout_in_seconds)),
            ]),
        ));
    }
    if let Some(d) = e.lambda_function_succeeded_event_details() {
        return Some((
            "lambdaFunctionSucceededEventDetails",
            obj(vec![("output", o(&d.output))]),
        ));
    }
    if let Some(d) = e.lambda_function_failed_event_details() {
        return Some((
            "lambdaFunctionFailedEventDetails",
            error_cause(&d.error, &d.cause),
        ));
    }
    if let Some(d) = e.lambda_function_timed_out_event_details() {
        return Some((
            "lambdaFunctionTimedOutEventDetails",
            error_cause(&d.error, &d.cause),
        ));
    }
    if let Some(d) = e.lambda_function_schedule_failed_event_details() {
        return Some((
            "lambdaFunctionScheduleFailedEventDetails",
            error_cause(&d.error, &d.cause),
        ));
    }
    if let Some(d) = e.lambda_function_start_failed_event_details() {
        return Some((
            "lambdaFunctionStartFailedEventDetails",
            error_cause(&d.error, &d.cause),
        ));
    }
    if let Some(d) = e.activity_scheduled_event_details() {
        return Some((
            "activityScheduledEventDetails",
            obj(vec![
                ("resource", s(&d.resource)),
                ("input", o(&d.input)),
                ("timeoutInSeconds", n(d.timeout_in_seconds)),
                ("heartbeatInSeconds", n(d.heartbeat_in_seconds)),
            ]),
        ));
    }
    if let Some(d) = e.activity_started_event_details() {
        return Some((
            "activityStartedEventDetails",
            obj(vec![("workerName", o(&d.worker_name))]),
        ));
    }
    if let Some(d) = e.activity_succeeded_event_details() {
        return Some((
            "activitySucceededEventDetails",
            obj(vec![("output", o(&d.output))]),
        ));
    }
    if let Some(d) = e.activity_failed_event_details() {
        return Some((
            "activityFailedEventDetails",
            error_cause(&d.error, &d.cause),
        ));
    }
    if let Some(d) = e.activity_timed_out_event_details() {
        return Some((
            "activityTimedOutEventDetails",
            error_cause(&d.error, &d.cause),
        ));
    }
    if let Some(d) = e.activity_schedule_failed_event_details() {
        return Some((
            "activityScheduleFailedEventDetails",
            error_cause(&d.error, &d.cause),
        ));
    }
    if let Some(d) = e.evaluation_failed_event_details() {
        return Some((
            "evaluationFailedEventDetails",
            obj(vec![
                ("error", o(&d.error)),
                ("cause", o(&d.cause)),
                ("location", o(&d.location)),
                ("state", s(&d.state)),
            ]),
        ));
    }
    if let Some(d) = e.map_state_started_event_details() {
        return Some((
            "mapStateStartedEventDetails",
            obj(vec![("length", Value::from(d.length))]),
        ));
    }
    let iteration = e
        .map_iteration_started_event_details()
        .map(|d| ("mapIterationStartedEventDetails", d))
        .or_else(|| {
            e.map_iteration_succeeded_event_details()
                .map(|d| ("mapIterationSucceededEventDetails", d))
        })
        .or_else(|| {
            e.map_iteration_failed_event_details()
                .map(|d| ("mapIterationFailedEventDetails", d))
        })
        .or_else(|| {
            e.map_iteration_aborted_event_details()
                .map(|d| ("mapIterationAbortedEventDetails", d))
        });
    iteration.map(|(key, d)| {
        (
            key,
            obj(vec![("name", o(&d.name)), ("index", Value::from(d.index))]),
        )
    })
}

/// A `.waitForTaskToken` task with no closing event: a decision someone can make.
#[derive(Clone)]
pub struct OpenApproval {
    pub scheduled_event_id: i64,
    pub state: Option<String>,
    pub waiting_since: Timestamp,
    pub timeout_seconds: Option<i64>,
    /// The task token: stays in the adapter.
    pub token: String,
    pub transform_output: Option<String>,
}

// Never print the token.
impl std::fmt::Debug for OpenApproval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenApproval")
            .field("scheduled_event_id", &self.scheduled_event_id)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// What a newest-first read of a history says about the approval.
#[derive(Debug, Clone)]
pub enum Approval {
    Open(OpenApproval),
    /// It was decided (`"approved by ana"`, when the history says who), timed out, or the
    /// execution ended while it waited (`None`).
    Closed(Option<String>),
    /// The execution never waited for a decision (yet).
    NotWaiting,
}

/// Reads events newest first, one at a time, until it can tell.
#[derive(Debug, Default)]
pub struct ApprovalScan {
    open: Option<OpenApproval>,
    ended: bool,
}

fn is_wait(resource: &str) -> bool {
    resource.ends_with(".waitForTaskToken")
}

/// `approved by ana` from a decision JSON.
fn decided_by(json: Option<&str>) -> Option<String> {
    let value: Value = serde_json::from_str(json?).ok()?;
    let decision = value.get("decision")?.as_str()?;
    match value.get("by").and_then(Value::as_str) {
        Some(by) => Some(format!("{decision} by {by}")),
        None => Some(decision.to_string()),
    }
}

impl ApprovalScan {
    /// `Some` once the events read so far decide it.
    pub fn feed(&mut self, event: &SfnEvent) -> Option<Approval> {
        if let Some(open) = self.open.as_mut() {
            if let Some(entered) = event.state_entered_event_details() {
                open.state = Some(entered.name.clone());
                return self.open.take().map(Approval::Open);
            }
            return None;
        }
        match event.r#type() {
            HistoryEventType::ExecutionSucceeded
            | HistoryEventType::ExecutionFailed
            | HistoryEventType::ExecutionAborted
            | HistoryEventType::ExecutionTimedOut => {
                self.ended = true;
                None
            }
            HistoryEventType::TaskSucceeded => {
                let d = event.task_succeeded_event_details()?;
                is_wait(&d.resource).then(|| Approval::Closed(decided_by(d.output.as_deref())))
            }
            HistoryEventType::TaskFailed => {
                let d = event.task_failed_event_details()?;
                is_wait(&d.resource).then(|| {
                    Approval::Closed(
                        decided_by(d.cause.as_deref())
                            .or_else(|| d.error.as_ref().map(|e| format!("failed ({e})"))),
                    )
                })
            }
            HistoryEventType::TaskTimedOut => {
                let d = event.task_timed_out_event_details()?;
                is_wait(&d.resource).then(|| Approval::Closed(Some("timed out".into())))
            }
            HistoryEventType::TaskStartFailed | HistoryEventType::TaskSubmitFailed => {
                let resource = event
                    .task_start_failed_event_details()
                    .map(|d| d.resource.as_str())
                    .or_else(|| {
                        event
                            .task_submit_failed_event_details()
                            .map(|d| d.resource.as_str())
                    })?;
                is_wait(resource).then_some(Approval::Closed(None))
            }
            HistoryEventType::TaskScheduled => {
                let d = event.task_scheduled_event_details()?;
                if !is_wait(&d.resource) {
                    return None;
                }
                if self.ended {
                    return Some(Approval::Closed(None));
                }
                let parameters: Value = serde_json::from_str(&d.parameters).unwrap_or_default();
                let token = parameters
                    .pointer("/Payload/token")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let Some(token) = token else {
                    // A callback task whose token Gatehouse cannot see is not one it can
                    // decide; say so in the log (without the parameters: they may hold it
                    // under another name).
                    tracing::warn!(
                        event = event.id(),
                        "a .waitForTaskToken task passes no Payload.token"
                    );
                    return Some(Approval::NotWaiting);
                };
                self.open = Some(OpenApproval {
                    scheduled_event_id: event.id(),
                    state: None,
                    waiting_since: timestamp(event.timestamp()),
                    timeout_seconds: d.timeout_in_seconds,
                    token,
                    transform_output: parameters
                        .pointer("/Payload/s3_batch_output")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                });
                None
            }
            _ => None,
        }
    }

    /// The history is read to its start.
    pub fn finish(self) -> Approval {
        match self.open {
            Some(open) => Approval::Open(open),
            None => Approval::NotWaiting,
        }
    }
}
