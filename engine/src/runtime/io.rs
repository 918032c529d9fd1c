//! Input and output processing: `InputPath`, `ResultPath`, `OutputPath` and the payload
//! size limit, with the error names Step Functions gives their failures.

use crate::asl::definition::PathField;
use crate::asl::jsonpath::PathError;
use crate::asl::variables::Sources;
use crate::error::{names, StatesError};
use serde_json::{Map, Value};

/// Step Functions' limit on a state's input, output or result: 256 KiB.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// Applies `InputPath` or `OutputPath` to `sources.input`; the path may also read the
/// context object or a variable.
fn select(field: &PathField, sources: &Sources, which: &str) -> Result<Value, StatesError> {
    match field {
        PathField::Default => Ok(sources.input.clone()),
        PathField::Discard => Ok(Value::Object(Map::new())),
        PathField::Path(path) => path.select(sources).map_err(|e| match e {
            PathError::UndefinedVariable { .. } | PathError::NoMatchInVariable { .. } => {
                StatesError::runtime(format!("Invalid {which} '{path}': {e}"))
            }
            _ => StatesError::runtime(format!(
                "Invalid {which} '{path}': the path could not be found in the input '{}'",
                sources.input
            )),
        }),
    }
}

/// The state's effective input: `InputPath` applied to its input (`sources.input`).
pub fn input_path(field: &PathField, sources: &Sources) -> Result<Value, StatesError> {
    select(field, sources, "InputPath")
}

/// The state's output: `OutputPath` applied to `sources.input`.
pub fn output_path(field: &PathField, sources: &Sources) -> Result<Value, StatesError> {
    select(field, sources, "OutputPath")
}

/// Combines the state's raw input with its result.
pub fn result_path(field: &PathField, raw: &Value, result: Value) -> Result<Value, StatesError> {
    match field {
        PathField::Default => Ok(result),
        PathField::Discard => Ok(raw.clone()),
        PathField::Path(path) => path
            .set(raw.clone(), result)
            .map_err(|e| StatesError::new(names::RESULT_PATH_MATCH_FAILURE, e.to_string())),
    }
}

/// How Step Functions starts the cause of a `States.Runtime` or
/// `States.QueryEvaluationError` error a state raised.
const RUNTIME_PREFIX: &str = "An error occurred while executing the state '";

/// Names the state and the id of its `…StateEntered` event at the start of a
/// `States.Runtime` or `States.QueryEvaluationError` cause, as Step Functions does: "An error occurred while executing the
/// state 'S' (entered at the event id #4). …". A cause that already names a state (one
/// raised inside a branch or an iteration) is kept.
pub fn locate(error: StatesError, state: &str, entered_event: i64) -> StatesError {
    let located = error.error == names::RUNTIME || error.error == names::QUERY_EVALUATION_ERROR;
    if !located || error.cause.starts_with(RUNTIME_PREFIX) {
        return error;
    }
    StatesError::new(
        error.error,
        format!(
            "{RUNTIME_PREFIX}{state}' (entered at the event id #{entered_event}). {}",
            error.cause
        ),
    )
}

pub fn check_size(value: &Value, limit: usize, what: &str) -> Result<(), StatesError> {
    let size = value.to_string().len();
    if size > limit {
        return Err(StatesError::new(
            names::DATA_LIMIT_EXCEEDED,
            format!(
                "The {what} has a size of {size} bytes, exceeding the maximum of {limit} bytes."
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asl::jsonpath::JsonPath;
    use crate::asl::variables::Variables;
    use serde_json::json;

    fn input_path(field: &PathField, raw: &Value, ctx: &Value) -> Result<Value, StatesError> {
        super::input_path(field, &Sources::new(raw, ctx, &Variables::new()))
    }

    fn output_path(field: &PathField, value: &Value, ctx: &Value) -> Result<Value, StatesError> {
        super::output_path(field, &Sources::new(value, ctx, &Variables::new()))
    }

    fn path(p: &str) -> PathField {
        PathField::Path(JsonPath::parse(p).unwrap())
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html
    // ("Use ResultPath to replace the input with the result", "discard the result and keep
    // the original input" with null, "include the result with the input")
    #[test]
    fn result_path_examples_from_the_docs() {
        let input = json!({"comment": "This is a test of the input and output of a Task state.", "details": "Default example", "who": "AWS Step Functions"});
        let result = json!("Hello, AWS Step Functions!");
        assert_eq!(
            result_path(&PathField::Default, &input, result.clone()).unwrap(),
            result
        );
        assert_eq!(
            result_path(&PathField::Discard, &input, result.clone()).unwrap(),
            input
        );
        let combined = result_path(&path("$.taskresult"), &input, result.clone()).unwrap();
        assert_eq!(combined["taskresult"], result);
        assert_eq!(combined["who"], json!("AWS Step Functions"));
        let err = result_path(&path("$.who.deeper"), &input, result).unwrap_err();
        assert_eq!(err.error, "States.ResultPathMatchFailure");
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html
    // (InputPath "$.dataset2" selects {"val1": "a", "val2": "b", "val3": "c"}) and
    // https://docs.aws.amazon.com/step-functions/latest/dg/input-output-example.html (OutputPath)
    #[test]
    fn input_and_output_paths() {
        let input = json!({"comment": "Example for InputPath.", "dataset1": {"val1": 1, "val2": 2, "val3": 3},
            "dataset2": {"val1": "a", "val2": "b", "val3": "c"}});
        assert_eq!(
            input_path(&path("$.dataset2"), &input, &json!({})).unwrap(),
            json!({"val1": "a", "val2": "b", "val3": "c"})
        );
        assert_eq!(
            input_path(&PathField::Discard, &input, &json!({})).unwrap(),
            json!({})
        );
        assert_eq!(
            output_path(&path("$.dataset1.val2"), &input, &json!({})).unwrap(),
            json!(2)
        );
        assert_eq!(
            input_path(&path("$.nope"), &input, &json!({}))
                .unwrap_err()
                .error,
            "States.Runtime"
        );
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
    // (maximum input or output size for a task, state, or execution: 256 KiB)
    #[test]
    fn payloads_over_256_kib_exceed_the_data_limit() {
        let big = Value::String("x".repeat(MAX_PAYLOAD_BYTES));
        assert_eq!(
            check_size(&big, MAX_PAYLOAD_BYTES, "output")
                .unwrap_err()
                .error,
            "States.DataLimitExceeded"
        );
        assert!(check_size(&json!({"a": 1}), MAX_PAYLOAD_BYTES, "output").is_ok());
    }
}
