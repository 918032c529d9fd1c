//! Reading pending callbacks out of a GetExecutionHistory event list. Pure functions over
//! AWS-shaped events, so the local and the AWS adapters answer "what waits for a
//! decision?" with the same code.

use serde_json::Value;
use std::collections::HashMap;

/// A `.waitForTaskToken` task that was scheduled and has not closed yet.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingCallback {
    /// The TaskScheduled event's id.
    pub scheduled_event_id: i64,
    pub state_name: String,
    pub resource: String,
    /// The resolved parameters, as scheduled.
    pub parameters: Value,
    /// The token found in the parameters (`Payload.token`, or any field holding it).
    pub token: Option<String>,
    pub scheduled_at: String,
}

fn find_token(value: &Value, tokens_seen: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k.eq_ignore_ascii_case("token") || k.eq_ignore_ascii_case("taskToken") {
                    if let Some(s) = v.as_str() {
                        tokens_seen.push(s.to_string());
                    }
                }
                find_token(v, tokens_seen);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| find_token(v, tokens_seen)),
        _ => {}
    }
}

/// Callbacks still open at the end of `events` (in id order). A closing event
/// (`TaskSucceeded`, `TaskFailed`, `TaskTimedOut`) is matched to its `TaskScheduled` by
/// following `previousEventId` back, so interleaved Parallel branches are told apart.
pub fn pending_callbacks(events: &[Value]) -> Vec<PendingCallback> {
    let by_id: HashMap<i64, &Value> = events
        .iter()
        .filter_map(|e| e["id"].as_i64().map(|id| (id, e)))
        .collect();
    let mut open: Vec<PendingCallback> = Vec::new();
    for event in events {
        let kind = event["type"].as_str().unwrap_or_default();
        match kind {
            "TaskScheduled" => {
                let details = &event["taskScheduledEventDetails"];
                let resource = details["resource"].as_str().unwrap_or_default();
                if !resource.ends_with(".waitForTaskToken") {
                    continue;
                }
                let parameters: Value = details["parameters"]
                    .as_str()
                    .and_then(|p| serde_json::from_str(p).ok())
                    .unwrap_or(Value::Null);
                let mut tokens = Vec::new();
                find_token(&parameters, &mut tokens);
                let entered = by_id.get(&event["previousEventId"].as_i64().unwrap_or_default());
                open.push(PendingCallback {
                    scheduled_event_id: event["id"].as_i64().unwrap_or_default(),
                    state_name: entered
                        .and_then(|e| e.pointer("/stateEnteredEventDetails/name"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    resource: resource.to_string(),
                    parameters,
                    token: tokens.into_iter().next(),
                    scheduled_at: event["timestamp"].as_str().unwrap_or_default().to_string(),
                });
            }
            "TaskSucceeded" | "TaskFailed" | "TaskTimedOut" => {
                let mut cursor = event["previousEventId"].as_i64();
                // Bounded walk back to the TaskScheduled this event closes.
                for _ in 0..8 {
                    let Some(id) = cursor else { break };
                    if let Some(i) = open.iter().position(|p| p.scheduled_event_id == id) {
                        open.remove(i);
                        break;
                    }
                    cursor = by_id.get(&id).and_then(|e| e["previousEventId"].as_i64());
                }
            }
            k if k.starts_with("Execution") && k != "ExecutionStarted" => open.clear(),
            _ => {}
        }
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scheduled(id: i64) -> Value {
        json!({"id": id, "previousEventId": id - 1, "type": "TaskScheduled", "timestamp": "2026-01-01T00:00:00Z", "taskScheduledEventDetails": {
            "resource": "invoke.waitForTaskToken", "resourceType": "lambda",
            "parameters": "{\"FunctionName\":\"f\",\"Payload\":{\"token\":\"tok\",\"x\":1}}"}})
    }

    // https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html
    #[test]
    fn an_open_wait_for_task_token_is_pending_until_it_closes() {
        let entered = json!({"id": 2, "type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "Approve"}});
        let mut events = vec![
            json!({"id": 1, "type": "ExecutionStarted"}),
            entered,
            scheduled(3),
            json!({"id": 4, "previousEventId": 3, "type": "TaskStarted"}),
            json!({"id": 5, "previousEventId": 4, "type": "TaskSubmitted"}),
        ];
        let pending = pending_callbacks(&events);
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].token.as_deref(), Some("tok"));
        assert_eq!(pending[0].state_name, "Approve");
        assert_eq!(pending[0].parameters["Payload"]["x"], 1);
        // Another branch's task closing does not close this one.
        events.push(json!({"id": 6, "previousEventId": 1, "type": "TaskSucceeded"}));
        assert_eq!(pending_callbacks(&events).len(), 1);
        events.push(json!({"id": 7, "previousEventId": 5, "type": "TaskSucceeded"}));
        assert!(pending_callbacks(&events).is_empty());
    }
}
