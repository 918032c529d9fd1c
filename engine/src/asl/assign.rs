//! A JSONPath state's `Assign` field: variable names and the values to store, written like a
//! payload template (`"name": literal`, `"name.$": "$.path" | "$$.path" | "$var.path" |
//! "States.Fn(...)"`, objects with `.$` fields inside).
//!
//! <https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html>: every
//! value is computed first, from the variables as they were when the state was entered, and
//! only then are the variables stored, so the order of the fields does not matter.

use crate::asl::query::{AssignPayload, StatesEnv};
use crate::asl::template::Template;
use crate::asl::variables::{check_name, Sources};
use crate::error::StatesError;
use serde_json::{Map, Value};

/// An `Assign` of a JSONPath state (payload-template values) or of a JSONata state
/// (`"{% expr %}"` strings anywhere in the values). Both store into the same variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Assign {
    fields: Vec<(String, Template)>,
    jsonata: Option<AssignPayload>,
}

impl Assign {
    /// Reads an `Assign` object; every problem comes back as a sentence.
    pub fn parse(value: &Value) -> Result<Assign, Vec<String>> {
        let Some(object) = value.as_object() else {
            return Err(vec!["must be an object of variable names and values".into()]);
        };
        let mut problems = Vec::new();
        let mut fields: Vec<(String, Template)> = Vec::with_capacity(object.len());
        for (key, value) in object {
            let name = key.strip_suffix(".$").unwrap_or(key);
            if let Err(e) = check_name(name) {
                problems.push(e);
                continue;
            }
            if fields.iter().any(|(n, _)| n == name) {
                problems.push(format!(
                    "the variable '{name}' is assigned twice ('{name}' and '{name}.$')"
                ));
                continue;
            }
            match Template::compile_field(key, value) {
                Ok(field) => fields.push(field),
                Err(e) => problems.push(e),
            }
        }
        if problems.is_empty() {
            Ok(Assign {
                fields,
                jsonata: None,
            })
        } else {
            Err(problems)
        }
    }

    /// Reads the `Assign` of a JSONata state: plain variable names (no `.$`), values with
    /// `"{% expr %}"` strings anywhere inside. `location` names the field in problems
    /// (`Assign`, `Choices[0]/Assign`, …).
    pub fn parse_jsonata(value: &Value, location: &str) -> Result<Assign, Vec<String>> {
        let Some(object) = value.as_object() else {
            return Err(vec!["must be an object of variable names and values".into()]);
        };
        let mut problems = Vec::new();
        for key in object.keys() {
            if key.ends_with(".$") {
                problems.push(format!(
                    "'{key}': a JSONata state does not use '.$' names; write the variable name and a \"{{% expression %}}\" value"
                ));
            } else if let Err(e) = check_name(key) {
                problems.push(e);
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Assign {
            fields: Vec::new(),
            jsonata: Some(AssignPayload::compile(object, location)?),
        })
    }

    /// The names this `Assign` stores.
    pub fn names(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        match &self.jsonata {
            Some(j) => Box::new(j.names()),
            None => Box::new(self.fields.iter().map(|(name, _)| name.as_str())),
        }
    }

    pub fn is_empty(&self) -> bool {
        match &self.jsonata {
            Some(j) => j.is_empty(),
            None => self.fields.is_empty(),
        }
    }

    /// Whether this is a JSONata state's `Assign` (evaluated with [`Assign::evaluate_jsonata`]).
    pub fn is_jsonata(&self) -> bool {
        self.jsonata.is_some()
    }

    /// Computes every value of a JSONata `Assign` (none is stored yet), the expressions
    /// reading `$states` and the variables on state entry.
    pub fn evaluate_jsonata(
        &self,
        location: &str,
        env: &StatesEnv,
    ) -> Result<Map<String, Value>, StatesError> {
        match &self.jsonata {
            Some(j) => j.evaluate(location, env),
            None => Err(StatesError::runtime(
                "a JSONPath Assign was evaluated as a JSONata one",
            )),
        }
    }

    /// Computes every value (none is stored yet): `$` is what the state type gives its
    /// `Assign` (a task's result, a Choice's effective input, …), variables read their value
    /// on state entry.
    pub fn evaluate(&self, sources: &Sources) -> Result<Map<String, Value>, StatesError> {
        let mut out = Map::with_capacity(self.fields.len());
        for (name, template) in &self.fields {
            out.insert(name.clone(), template.evaluate(sources)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asl::variables::Variables;
    use serde_json::json;

    fn vars(v: Value) -> Variables {
        let mut vars = Variables::new();
        vars.apply(v.as_object().unwrap().clone());
        vars
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
    // ("States that support variables": literals "product1", 42, true)
    #[test]
    fn literals_are_stored_as_written() {
        let assign = Assign::parse(&json!({
            "productName": "product1", "count": 42, "available": true
        }))
        .unwrap();
        let none = Variables::new();
        let out = assign
            .evaluate(&Sources::new(&json!({}), &json!({}), &none))
            .unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"productName": "product1", "count": 42, "available": true})
        );
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
    // ("Assigning variables in JSONPath": "products.$": "$.order..product",
    // "orderTotal.$": "$.order.total", and the example with a nested object, a variable in
    // an intrinsic function and the context object)
    #[test]
    fn paths_intrinsics_and_the_context_object_from_the_docs() {
        let assign = Assign::parse(&json!({
            "products.$": "$.order..product",
            "orderTotal.$": "$.order.total"
        }))
        .unwrap();
        let result = json!({"order": {"total": 30, "lines": [{"product": "a"}, {"product": "b"}]}});
        let none = Variables::new();
        let out = assign
            .evaluate(&Sources::new(&result, &json!({}), &none))
            .unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"products": ["a", "b"], "orderTotal": 30})
        );

        let assign = Assign::parse(&json!({
            "details": {"status": "SUCCESS", "lineItems.$": "$.order.items"},
            "resultCode.$": "$.result.code",
            "message.$": "States.Format('Hello {}', $customer.name)",
            "startTime.$": "$$.Execution.StartTime"
        }))
        .unwrap();
        let result = json!({"order": {"items": [1, 2]}, "result": {"code": 200}});
        let context = json!({"Execution": {"StartTime": "2024-11-06T09:42:03Z"}});
        let variables = vars(json!({"customer": {"name": "Ana"}}));
        let out = assign
            .evaluate(&Sources::new(&result, &context, &variables))
            .unwrap();
        assert_eq!(
            Value::Object(out),
            json!({
                "details": {"status": "SUCCESS", "lineItems": [1, 2]},
                "resultCode": 200,
                "message": "Hello Ana",
                "startTime": "2024-11-06T09:42:03Z"
            })
        );
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
    // ("Evaluation order in an assign field": starting with $x=3 and $a=6, assigning
    // x = $a and nextX = $x ends with $x=6 and $nextX=3)
    #[test]
    fn every_value_is_computed_from_the_variables_on_entry() {
        let assign = Assign::parse(&json!({"x.$": "$a", "nextX.$": "$x"})).unwrap();
        let mut variables = vars(json!({"x": 3, "a": 6}));
        let computed = assign
            .evaluate(&Sources::new(&json!({}), &json!({}), &variables))
            .unwrap();
        variables.apply(computed);
        assert_eq!(variables.get("x"), Some(&json!(6)));
        assert_eq!(variables.get("nextX"), Some(&json!(3)));
        // "If $x had not been previously assigned, the example would fail because $x
        // would be undefined."
        let fresh = vars(json!({"a": 6}));
        let err = assign
            .evaluate(&Sources::new(&json!({}), &json!({}), &fresh))
            .unwrap_err();
        assert_eq!(err.error, "States.Runtime");
        assert!(err.cause.contains("'$x'"), "{}", err.cause);
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html ("you
    // cannot assign a value to a part of a variable": not "x.y" nor "x[2]"; names follow the
    // identifier rules)
    #[test]
    fn names_are_checked_when_the_definition_is_read() {
        let problems = Assign::parse(&json!({"x.y": 42, "x[2]": 42, "ok": 1})).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("'x.y'"), "{problems:?}");
        let problems = Assign::parse(&json!({"a": 1, "a.$": "$"})).unwrap_err();
        assert!(problems[0].contains("assigned twice"), "{problems:?}");
        assert!(Assign::parse(&json!(["a"])).is_err());
        assert!(Assign::parse(&json!({"p.$": "not a path"})).is_err());
        let empty = Assign::parse(&json!({})).unwrap();
        assert!(empty.is_empty());
        assert_eq!(
            Assign::parse(&json!({"b": 1, "a.$": "$"}))
                .unwrap()
                .names()
                .collect::<Vec<_>>(),
            vec!["b", "a"]
        );
    }
}
