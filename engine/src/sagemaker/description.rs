//! Checked reads and writes of the JSON descriptions the local SageMaker keeps (training and
//! transform jobs, models, endpoint configs, endpoints, deployments). Indexing a
//! `serde_json::Value` to write panics when the value is not an object; a request whose
//! parameters are not an object (a JSONata `Arguments` can evaluate to anything) is refused
//! as SageMaker refuses it instead, and every description is built from an object.

use super::SageMakerError;
use serde_json::{Map, Value};

pub(crate) trait Description {
    /// The field `key`, or `Null` when the description has none.
    fn field(&self, key: &str) -> &Value;
    /// Sets `key`. A description is an object; a `Null` becomes one, as indexing would make
    /// it, and anything else is left as it is.
    fn set(&mut self, key: &str, value: Value);
}

impl Description for Value {
    fn field(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&Value::Null)
    }

    fn set(&mut self, key: &str, value: Value) {
        if self.is_null() {
            *self = Value::Object(Map::new());
        }
        if let Value::Object(fields) = self {
            fields.insert(key.to_string(), value);
        }
    }
}

/// The parameters of a SageMaker request, which the API takes as a JSON object only.
pub(crate) fn request_object(request: &Value) -> Result<Value, SageMakerError> {
    if request.is_object() {
        Ok(request.clone())
    } else {
        Err(SageMakerError::validation(format!(
            "The request's parameters must be a JSON object, not {}.",
            kind_of(request)
        )))
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_read_null_when_missing_and_writes_never_panic() {
        let mut job = json!({"TrainingJobName": "a"});
        assert_eq!(job.field("TrainingJobName"), "a");
        assert!(job.field("Missing").is_null());
        job.set("TrainingJobStatus", json!("InProgress"));
        assert_eq!(
            job,
            json!({"TrainingJobName": "a", "TrainingJobStatus": "InProgress"})
        );
        let mut nothing = Value::Null;
        nothing.set("A", json!(1));
        assert_eq!(nothing, json!({"A": 1}));
        let mut list = json!([1]);
        list.set("A", json!(1));
        assert_eq!(list, json!([1]));
        assert!(list.field("A").is_null());
    }

    #[test]
    fn a_request_that_is_not_an_object_is_refused_with_a_sentence() {
        let refused = request_object(&json!([1, 2])).expect_err("an array is refused");
        assert_eq!(
            refused.message,
            "The request's parameters must be a JSON object, not an array."
        );
        assert_eq!(request_object(&json!({"A": 1})).ok(), Some(json!({"A": 1})));
    }
}
