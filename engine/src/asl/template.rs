//! Payload templates: `Parameters`, `ResultSelector` and `ItemSelector`. Keys ending in
//! `.$` take their value from a path (`$...` on the data, `$$...` on the context object) or
//! from an intrinsic function; every other value is copied as written.

use crate::asl::intrinsics::{looks_like_intrinsic, Intrinsic};
use crate::asl::jsonpath::JsonPath;
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
                    if let Some(name) = key.strip_suffix(".$") {
                        let Value::String(text) = v else {
                            return Err(format!("the value of '{key}' must be a path or an intrinsic function string"));
                        };
                        let compiled = if looks_like_intrinsic(text) {
                            Template::Intrinsic {
                                key: key.clone(),
                                call: Intrinsic::parse(text)
                                    .map_err(|e| format!("'{key}': {e}"))?,
                            }
                        } else {
                            Template::Path {
                                key: key.clone(),
                                path: JsonPath::parse(text).map_err(|e| format!("'{key}': {e}"))?,
                            }
                        };
                        fields.push((name.to_string(), compiled));
                    } else {
                        let inner = Template::compile(v).map_err(|e| format!("{key}.{e}"))?;
                        fields.push((key.clone(), inner));
                    }
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

    pub fn evaluate(&self, input: &Value, context: &Value) -> Result<Value, StatesError> {
        match self {
            Template::Literal(v) => Ok(v.clone()),
            Template::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                for (name, template) in fields {
                    out.insert(name.clone(), template.evaluate(input, context)?);
                }
                Ok(Value::Object(out))
            }
            Template::Array(items) => items
                .iter()
                .map(|t| t.evaluate(input, context))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            // Step Functions fails the execution with States.Runtime here (the documented
            // States.ParameterPathFailure is not what executions report).
            Template::Path { key, path } => path.select(input, context).map_err(|_| {
                StatesError::new(
                    names::RUNTIME,
                    format!(
                        "The JSONPath '{path}' specified for the field '{key}' could not be found in the input '{input}'"
                    ),
                )
            }),
            Template::Intrinsic { call, .. } => call.evaluate(input, context),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
            template.evaluate(&input, &json!({})).unwrap(),
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
        let out = template
            .evaluate(
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
        let err = template
            .evaluate(&json!({"x": "a"}), &json!({}))
            .unwrap_err();
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
        assert!(Template::compile(&json!({"n.$": 3})).is_err());
        assert!(Template::compile(&json!({"p.$": "no-dollar"})).is_err());
    }
}
