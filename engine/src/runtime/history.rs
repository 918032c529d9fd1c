//! History events shaped as GetExecutionHistory returns them:
//! `{"id", "previousEventId", "timestamp", "type", "<type>EventDetails": {...}}`.

use crate::clock::rfc3339;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

/// The details field name AWS uses for an event type.
pub fn details_field(event_type: &str) -> String {
    if event_type.ends_with("StateEntered") {
        return "stateEnteredEventDetails".into();
    }
    if event_type.ends_with("StateExited") {
        return "stateExitedEventDetails".into();
    }
    let mut chars = event_type.chars();
    match chars.next() {
        Some(first) => format!(
            "{}{}EventDetails",
            first.to_ascii_lowercase(),
            chars.as_str()
        ),
        None => "eventDetails".into(),
    }
}

pub fn event(
    event_type: &str,
    timestamp: OffsetDateTime,
    previous: i64,
    details: Option<Value>,
) -> Value {
    let mut map = Map::new();
    map.insert("timestamp".into(), Value::String(rfc3339(timestamp)));
    map.insert("type".into(), Value::String(event_type.to_string()));
    map.insert("previousEventId".into(), Value::from(previous));
    if let Some(details) = details {
        map.insert(details_field(event_type), details);
    }
    Value::Object(map)
}

pub fn state_entered(name: &str, input: &Value) -> Value {
    json!({"name": name, "input": input.to_string(), "inputDetails": {"truncated": false}})
}

/// A `…StateExited` event's details. A state that assigned variables lists them as
/// `assignedVariables` (each value as serialized JSON) with `assignedVariablesDetails`, as
/// the API reference's StateExitedEventDetails describes; the engine never truncates them.
pub fn state_exited(name: &str, output: &Value, assigned: Option<&Map<String, Value>>) -> Value {
    let mut details =
        json!({"name": name, "output": output.to_string(), "outputDetails": {"truncated": false}});
    if let Some(assigned) = assigned.filter(|a| !a.is_empty()) {
        let serialized: Map<String, Value> = assigned
            .iter()
            .map(|(name, value)| (name.clone(), Value::String(value.to_string())))
            .collect();
        super::set_field(&mut details, "assignedVariables", Value::Object(serialized));
        super::set_field(
            &mut details,
            "assignedVariablesDetails",
            json!({"truncated": false}),
        );
    }
    details
}

pub fn error_details(error: &str, cause: &str) -> Value {
    let mut map = Map::new();
    if !error.is_empty() {
        map.insert("error".into(), Value::String(error.to_string()));
    }
    if !cause.is_empty() {
        map.insert("cause".into(), Value::String(cause.to_string()));
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    // https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html
    #[test]
    fn details_fields_follow_the_api_reference() {
        assert_eq!(details_field("TaskScheduled"), "taskScheduledEventDetails");
        assert_eq!(
            details_field("TaskStateEntered"),
            "stateEnteredEventDetails"
        );
        assert_eq!(details_field("MapStateExited"), "stateExitedEventDetails");
        assert_eq!(
            details_field("ExecutionFailed"),
            "executionFailedEventDetails"
        );
        assert_eq!(
            details_field("MapIterationStarted"),
            "mapIterationStartedEventDetails"
        );
    }

    // https://docs.aws.amazon.com/step-functions/latest/apireference/API_StateExitedEventDetails.html
    // (assignedVariables: "Map of variable name and value as a serialized JSON
    // representation"; assignedVariablesDetails: {"truncated"})
    #[test]
    fn exited_events_list_assigned_variables_as_serialized_json() {
        let assigned =
            json!({"productName": "product1", "count": 42, "available": true, "o": {"a": [1]}});
        let details = state_exited("S", &json!({}), assigned.as_object());
        assert_eq!(
            details["assignedVariables"],
            json!({"productName": "\"product1\"", "count": "42", "available": "true", "o": "{\"a\":[1]}"})
        );
        assert_eq!(
            details["assignedVariablesDetails"],
            json!({"truncated": false})
        );
        let plain = state_exited("S", &json!(1), None);
        assert!(plain.get("assignedVariables").is_none());
        let empty = state_exited("S", &json!(1), json!({}).as_object());
        assert!(empty.get("assignedVariablesDetails").is_none());
    }
}
