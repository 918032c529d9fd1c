//! The two adapters of the pipeline control plane ([`app::control_plane::ControlPlane`]) and
//! what they share: turning Step Functions-shaped history into the port's events with task
//! tokens removed, reading a state's timeout from the definition, and the sentence for an
//! object too large to read.

#[cfg(feature = "aws")]
pub mod aws;
pub mod demo;
pub mod local;

use app::control_plane::PipelineError;
use app::models::pipeline::{HistoryEvent, Timestamp, TransformJob};
use serde_json::Value;

/// What a task token is replaced with wherever an event would carry it.
pub const REDACTED: &str = "[task token hidden]";

/// Replaces every string under a key named like a task token (`token`, `taskToken`,
/// `TaskToken`, …) in `value`, and inside JSON held in strings (Step Functions serialises a
/// task's parameters as a string). Task tokens are bearer credentials for a decision: they
/// must never reach a page.
pub fn redact_task_tokens(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if key.to_ascii_lowercase().contains("token") && item.is_string() {
                    *item = Value::String(REDACTED.into());
                } else {
                    redact_task_tokens(item);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_task_tokens),
        Value::String(text) if text.starts_with('{') && text.contains("oken") => {
            if let Ok(mut inner) = serde_json::from_str::<Value>(text) {
                redact_task_tokens(&mut inner);
                *text = inner.to_string();
            }
        }
        _ => {}
    }
}

/// One event as GetExecutionHistory shapes it (`{"id", "previousEventId", "timestamp",
/// "type", "<type>EventDetails"}`), tokens redacted. `None` for an event without id or type.
pub fn event_from_json(mut event: Value) -> Option<HistoryEvent> {
    let id = event.get("id")?.as_i64()?;
    let kind = event.get("type")?.as_str()?.to_string();
    let at = match event.get("timestamp") {
        Some(Value::Number(n)) => n.as_f64().map(|f| f as i64),
        Some(Value::String(s)) => parse_rfc3339(s),
        _ => None,
    }
    .map(Timestamp)
    .unwrap_or(Timestamp(0));
    let previous_id = event
        .get("previousEventId")
        .and_then(Value::as_i64)
        .filter(|p| *p > 0);
    let details_key = event
        .as_object()
        .and_then(|map| map.keys().find(|k| k.ends_with("EventDetails")).cloned());
    let details = details_key.and_then(|k| event.get_mut(&k).map(Value::take));
    let state = details
        .as_ref()
        .filter(|_| kind.ends_with("StateEntered") || kind.ends_with("StateExited"))
        .and_then(|d| d["name"].as_str().map(str::to_string));
    let details = details.map(|mut d| {
        redact_task_tokens(&mut d);
        d.to_string()
    });
    Some(HistoryEvent {
        id,
        previous_id,
        kind,
        at,
        state,
        details,
    })
}

/// Where a finished transform job wrote its output: what both adapters read objects under.
/// A job still running is a conflict; one without an output path has nothing to read.
pub fn completed_output_path(name: &str, job: TransformJob) -> Result<String, PipelineError> {
    if job.status != "Completed" {
        return Err(PipelineError::Conflict(format!(
            "Transform job {name} has not completed (it is {}).",
            job.status
        )));
    }
    job.output_path
        .ok_or_else(|| PipelineError::NotFound(format!("Transform job {name} has no output path.")))
}

/// Why an object was not read: it is over the bound the caller reads. `size` is the listed
/// size, or `None` for an object that grew past the bound while it was being read.
pub fn too_large_sentence(uri: &str, size: Option<u64>, limit: u64) -> String {
    let limit = app::evidence::size_text(limit);
    match size {
        Some(size) => format!(
            "The object {uri} is {}, over the {limit} Gatehouse reads; it was not read.",
            app::evidence::size_text(size)
        ),
        None => format!(
            "The object {uri} grew past the {limit} Gatehouse reads while it was being read; \
             it was not read."
        ),
    }
}

/// Milliseconds since the epoch of an RFC 3339 time.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// The `TimeoutSeconds` of a state, read from the definition (top-level states only: the
/// pipeline's approval is one).
pub fn state_timeout_seconds(definition: &Value, state: &str) -> Option<u64> {
    definition
        .get("States")?
        .get(state)?
        .get("TimeoutSeconds")?
        .as_u64()
}

/// Hex SHA-256 of a task token: what may be shown or audited in its place.
pub fn token_sha256(token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn task_tokens_are_redacted_even_inside_serialised_parameters() {
        let parameters =
            json!({"FunctionName": "f", "Payload": {"token": "SECRET-TOKEN", "commitID": "abc"}});
        let event = json!({
            "id": 7, "previousEventId": 6, "timestamp": "2026-11-25T10:00:00Z", "type": "TaskScheduled",
            "taskScheduledEventDetails": {"resource": "invoke.waitForTaskToken", "parameters": parameters.to_string(), "TaskToken": "SECRET-TOKEN"}
        });
        let converted = event_from_json(event).unwrap();
        let details = converted.details.unwrap();
        assert!(!details.contains("SECRET-TOKEN"), "{details}");
        assert!(details.contains("commitID"), "{details}");
        assert_eq!(converted.at, Timestamp(1_795_600_800_000));
        assert_eq!(converted.previous_id, Some(6));
        assert_eq!(converted.state, None);
    }

    #[test]
    fn state_events_name_their_state() {
        let event = json!({"id": 2, "previousEventId": 0, "timestamp": 1_000.0, "type": "TaskStateEntered",
            "stateEnteredEventDetails": {"name": "Train", "input": "{}"}});
        let converted = event_from_json(event).unwrap();
        assert_eq!(converted.state.as_deref(), Some("Train"));
        assert_eq!(converted.previous_id, None);
        assert_eq!(converted.at, Timestamp(1_000));
    }

    #[test]
    fn token_digests_are_sha256_hex() {
        assert_eq!(
            token_sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
