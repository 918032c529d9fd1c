//! Payload templates: `Parameters`, `ResultSelector`, `ItemSelector` and the values of
//! `Assign`. Keys ending in `.$` take their value from a path (`$...` on the data, `$$...`
//! on the context object, `$name...` on a variable) or from an intrinsic function; every
//! other value is copied as written.

use crate::asl::intrinsics::{looks_like_intrinsic, Intrinsic};
use crate::asl::jsonpath::{JsonPath, PathError};
use crate::asl::variables::Sources;
use crate::error::{names, StatesError};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    Literal(Value),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
    Path { key: String, path: JsonPath },
    Intrinsic { key: String, call: Intrinsic },
}

impl Template {
    /// Compiles a template, naming the offending key on error.
    pub fn compile(value: &Value) -> Result<Template, String> {
        match value {
            Value::Object(map) => {
                let mut fields = Vec::with_capacity(map.len());
                for (key, v) in map {
                    fields.push(Self::compile_field(key, v)?);
                }
                Ok(Template::Object(fields))
            }
            Value::Array(items) => Ok(Template::Array(
                items
                    .iter()
                    .map(Template::compile)
                    .collect::<Result<_, _>>()?,
            )),
            other => Ok(Template::Literal(other.clone())),
        }
    }

    /// One field of an object template: its output name (without `.$`) and its template.
    pub fn compile_field(key: &str, value: &Value) -> Result<(String, Template), String> {
        let Some(name) = key.strip_suffix(".$") else {
            let inner = Template::compile(value).map_err(|e| format!("{key}.{e}"))?;
            return Ok((key.to_string(), inner));
        };
        let Value::String(text) = value else {
            return Err(format!(
                "the value of '{key}' must be a path or an intrinsic function string"
            ));
        };
        let compiled = if looks_like_intrinsic(text) {
            Template::Intrinsic {
                key: key.to_string(),
                call: Intrinsic::parse(text).map_err(|e| format!("'{key}': {e}"))?,
            }
        } else {
            Template::Path {
                key: key.to_string(),
                path: JsonPath::parse(text).map_err(|e| format!("'{key}': {e}"))?,
            }
        };
        Ok((name.to_string(), compiled))
    }

    pub fn evaluate(&self, sources: &Sources) -> Result<Value, StatesError> {
        match self {
            Template::Literal(v) => Ok(v.clone()),
            Template::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                for (name, template) in fields {
                    out.insert(name.clone(), template.evaluate(sources)?);
                }
                Ok(Value::Object(out))
            }
            Template::Array(items) => items
                .iter()
                .map(|t| t.evaluate(sources))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Template::Path { key, path } => path
                .select(sources)
                .map_err(|e| path_failure(path, key, sources, e)),
            Template::Intrinsic { call, .. } => call.evaluate(sources),
        }
    }
}

/// Step Functions fails the execution with States.Runtime when a `.$` path selects nothing
/// (the documented States.ParameterPathFailure is not what executions report). A variable
/// with no value gets a sentence of its own.
fn path_failure(path: &JsonPath, key: &str, sources: &Sources, e: PathError) -> StatesError {
    let cause = match e {
        PathError::UndefinedVariable { name, .. } => format!(
            "The JSONPath '{path}' specified for the field '{key}' reads the variable '${name}', which has no value: no state before this one in its scope assigned it"
        ),
        PathError::NoMatchInVariable { name, value, .. } => format!(
            "The JSONPath '{path}' specified for the field '{key}' could not be found in the value of the variable '${name}': '{value}'"
        ),
        _ => format!(
            "The JSONPath '{path}' specified for the field '{key}' could not be found in the input '{}'",
            sources.input
        ),
    };
    StatesError::new(names::RUNTIME, cause)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asl::variables::Variables;
    use serde_json::json;

    fn eval(template: &Template, input: &Value, context: &Value) -> Result<Value, StatesError> {
        template.evaluate(&Sources::new(input, context, &Variables::new()))
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html
    // ("Parameters": the "comment"/"MyDetails" example and its output)
    #[test]
    fn parameters_example_from_the_docs() {
        let template = Template::compile(&json!({
            "comment": "Selecting what I care about.",
            "MyDetails": {
                "size.$": "$.product.details.size",
                "exists.$": "$.product.availability",
                "StaticValue": "foo"
            }
        }))
        .unwrap();
        let input = json!({
            "comment": "Example for Parameters.",
            "product": {
                "details": {"color": "blue", "size": "small", "material": "cotton"},
                "availability": "in stock",
                "sku": "2317",
                "cost": "$23"
            }
        });
        assert_eq!(
            eval(&template, &input, &json!({})).unwrap(),
            json!({
                "comment": "Selecting what I care about.",
                "MyDetails": {"size": "small", "exists": "in stock", "StaticValue": "foo"}
            })
        );
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html
    // ("Accessing the Context object": "MyStateName.$": "$$.State.Name")
    #[test]
    fn context_paths_and_intrinsics() {
        let template = Template::compile(&json!({
            "Comment": "Now in a state",
            "MyStateName.$": "$$.State.Name",
            "greeting.$": "States.Format('hi {}', $.who)",
            "list": [{"x.$": "$.who"}]
        }))
        .unwrap();
        let out = eval(
            &template,
            &json!({"who": "ana"}),
            &json!({"State": {"Name": "NextState"}}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"Comment": "Now in a state", "MyStateName": "NextState", "greeting": "hi ana", "list": [{"x": "ana"}]})
        );
    }

    // https://repost.aws/questions/QUYiQKP0XfThWEc_ahsMnLOA/aws-step-functions-sum-function-returns-error-about-not-finding-path
    // (an execution's cause: "The JSONPath '$.Jobs.sum()' specified for the field 'Jobs.$'
    // could not be found in the input '{...}'", after the state prefix the runner adds) and
    // https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
    // (States.Runtime: errors at run time that are not retriable)
    #[test]
    fn missing_path_is_a_runtime_error_naming_path_field_and_input() {
        let template = Template::compile(&json!({"a.$": "$.nope"})).unwrap();
        let err = eval(&template, &json!({"x": "a"}), &json!({})).unwrap_err();
        assert_eq!(err.error, "States.Runtime");
        assert_eq!(
            err.cause,
            r#"The JSONPath '$.nope' specified for the field 'a.$' could not be found in the input '{"x":"a"}'"#
        );
    }

    #[test]
    fn compile_errors_name_the_key() {
        let err = Template::compile(&json!({"outer": {"bad.$": "States.Nope()"}})).unwrap_err();
        assert!(err.contains("outer.'bad.$'"), "{err}");
        assert_eq!(
            Template::compile(&json!({"n.$": 3})).unwrap_err(),
            "the value of 'n.$' must be a path or an intrinsic function string"
        );
        let err = Template::compile(&json!({"p.$": "no-dollar"})).unwrap_err();
        assert!(err.contains("'p.$'") && err.contains("no-dollar"), "{err}");
    }
}
