//! How one state visit ended, as the interpreter passes it on and as the journal keeps it.
//! The journal entry holds the variables the visit assigned, so a restarted execution
//! rebuilds its variables by replaying the completed steps.

use crate::error::StatesError;
use serde_json::{json, Map, Value};

pub(crate) struct StepOutcome {
    pub next: Option<String>,
    pub result: Result<Value, StatesError>,
    pub last_event: i64,
    /// Events written in one transaction with the journal entry: the `…StateExited`
    /// event, and for states that do nothing observable in between (Pass, Choice,
    /// Succeed, Fail) also their `…StateEntered`. Chained by `previousEventId`.
    pub pending_events: Vec<(String, Value)>,
    /// The variables the visit assigned; they are stored once the step is over.
    pub assigned: Option<Map<String, Value>>,
    /// The error is the one a Fail state declares (its `Error` and `Cause`), which is
    /// reported as written, not as a failure of the state.
    pub declared_failure: bool,
}

impl StepOutcome {
    pub fn failed(error: StatesError, last_event: i64) -> StepOutcome {
        StepOutcome {
            next: None,
            result: Err(error),
            last_event,
            pending_events: Vec::new(),
            assigned: None,
            declared_failure: false,
        }
    }

    pub fn to_journal(&self, state: &str) -> Value {
        match &self.result {
            Ok(output) => {
                let mut record = json!({"state": state, "next": self.next, "output": output, "last_event": self.last_event});
                if let Some(assigned) = &self.assigned {
                    record["assigned"] = Value::Object(assigned.clone());
                }
                record
            }
            Err(e) => json!({"state": state, "error": e, "last_event": self.last_event}),
        }
    }

    /// A journaled step; entries written before variables existed have no `assigned`.
    pub fn from_journal(record: &Value) -> Option<StepOutcome> {
        let last_event = record.get("last_event")?.as_i64()?;
        if let Some(error) = record.get("error") {
            let error: StatesError = serde_json::from_value(error.clone()).ok()?;
            return Some(StepOutcome::failed(error, last_event));
        }
        Some(StepOutcome {
            next: record
                .get("next")
                .and_then(Value::as_str)
                .map(str::to_string),
            result: Ok(record.get("output")?.clone()),
            last_event,
            pending_events: Vec::new(),
            assigned: record.get("assigned").and_then(Value::as_object).cloned(),
            declared_failure: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assigned_variables_survive_the_journal() {
        let outcome = StepOutcome {
            next: Some("B".into()),
            result: Ok(json!({"a": 1})),
            last_event: 7,
            pending_events: Vec::new(),
            assigned: json!({"x": 42, "s": "t"}).as_object().cloned(),
            declared_failure: false,
        };
        let back = StepOutcome::from_journal(&outcome.to_journal("A")).unwrap();
        assert_eq!(back.next.as_deref(), Some("B"));
        assert_eq!(back.result.unwrap(), json!({"a": 1}));
        assert_eq!(back.last_event, 7);
        assert_eq!(
            back.assigned,
            json!({"x": 42, "s": "t"}).as_object().cloned()
        );
        // An entry journaled before variables existed replays with no assignments.
        let old = json!({"state": "A", "next": null, "output": 1, "last_event": 3});
        assert_eq!(StepOutcome::from_journal(&old).unwrap().assigned, None);
        let failed = StepOutcome::failed(StatesError::runtime("x"), 4).to_journal("A");
        assert!(StepOutcome::from_journal(&failed).unwrap().result.is_err());
    }
}
