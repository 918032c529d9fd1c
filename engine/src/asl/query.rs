//! JSONata in states: the `QueryLanguage` a state uses, its `"{% expr %}"` strings parsed
//! once when the definition is read, and their evaluation against `$states` and the
//! workflow variables.
//!
//! <https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html>: a string
//! is an expression when it starts with `{%` and ends with `%}` (anywhere inside `Arguments`,
//! `Output` or `Assign`, walking objects and arrays); any other string is a literal. An
//! expression reads the state's data through the reserved `$states` (`input`, `result`,
//! `errorOutput`, `context`) and the workflow variables as `$name`.
//!
//! Failures are `States.QueryEvaluationError`, with the causes Step Functions executions
//! report: "The JSONata expression 'E' specified for the field 'F' returned nothing
//! (undefined).", "… threw an error during evaluation. T1006: …", "… returned an unexpected
//! result type. Expected 'array', but was 'string' for value: \"x\"" and "… returned an
//! unsupported result type." (a function). Fields are named as Step Functions names them:
//! `Output`, `Output/result`, `Arguments/FunctionName`, `Assign/x`; array elements as
//! `[i]` (Step Functions' spelling for those was not found).

use crate::asl::variables::{is_name_continue, Sources, Variables};
use crate::error::{names, StatesError};
use crate::jsonata::{self, Bindings, Evaluated, Expression, Limits};
use serde_json::{Map, Value};
use std::fmt;
use std::sync::{Arc, OnceLock};

/// The query language of a state (or the default of a machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueryLanguage {
    #[default]
    JsonPath,
    Jsonata,
}

impl QueryLanguage {
    /// Reads a `QueryLanguage` field.
    pub fn parse(value: &Value) -> Result<QueryLanguage, String> {
        match value.as_str() {
            Some("JSONPath") => Ok(QueryLanguage::JsonPath),
            Some("JSONata") => Ok(QueryLanguage::Jsonata),
            _ => Err(format!(
                "must be \"JSONPath\" or \"JSONata\", found {value}"
            )),
        }
    }
}

/// The limits every state expression is evaluated under (depth, time, sizes).
fn limits() -> &'static Limits {
    static LIMITS: OnceLock<Limits> = OnceLock::new();
    LIMITS.get_or_init(Limits::default)
}

struct Parsed {
    expression: Expression,
    /// The text between `{%` and `%}`, trimmed, as causes quote it.
    text: String,
    /// The names the expression may read as `$name` (a superset: every `$` followed by a
    /// name in its text). Only these are bound when it runs, so a state does not convert
    /// every variable of the execution for each expression.
    names: Vec<String>,
}

/// One `"{% expr %}"` of a state, parsed when the definition is read.
#[derive(Clone)]
pub struct Expr(Arc<Parsed>);

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{% {} %}}", self.0.text)
    }
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.0.text == other.0.text
    }
}

/// Every `$name` in an expression's text; `$` alone and `$$` are not names.
fn referenced_names(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        let after = &rest[at + 1..];
        let len: usize = after
            .chars()
            .take_while(|c| is_name_continue(*c))
            .map(char::len_utf8)
            .sum();
        let name = &after[..len];
        if !name.is_empty() && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
        rest = &after[len..];
    }
    out
}

impl Expr {
    /// Parses the expression inside `{% %}`; the problem comes back as a sentence.
    pub fn parse(inner: &str) -> Result<Expr, String> {
        let text = inner.trim().to_string();
        let expression = Expression::parse(inner)
            .map_err(|e| format!("the JSONata expression '{text}' is not valid: {e}"))?;
        let names = referenced_names(&text);
        Ok(Expr(Arc::new(Parsed {
            expression,
            text,
            names,
        })))
    }

    /// The expression of a `"{% expr %}"` string; `None` for any other value (a literal).
    pub fn from_value(value: &Value) -> Option<Result<Expr, String>> {
        value.as_str().and_then(jsonata::template).map(Expr::parse)
    }

    pub fn text(&self) -> &str {
        &self.0.text
    }

    pub fn names(&self) -> &[String] {
        &self.0.names
    }

    /// `States.QueryEvaluationError` naming this expression and `field`, `what` completing
    /// the sentence.
    pub fn failure(&self, field: &str, what: impl fmt::Display) -> StatesError {
        StatesError::new(
            names::QUERY_EVALUATION_ERROR,
            format!(
                "The JSONata expression '{}' specified for the field '{field}' {what}",
                self.0.text
            ),
        )
    }

    fn run(&self, field: &str, bindings: &Bindings) -> Result<Value, StatesError> {
        match self.0.expression.evaluate_checked(None, bindings, limits()) {
            Ok(Evaluated::Json(v)) => Ok(v),
            Ok(Evaluated::Undefined) => Err(self.failure(field, "returned nothing (undefined).")),
            Ok(Evaluated::Function) => {
                Err(self.failure(field, "returned an unsupported result type."))
            }
            Err(e) => Err(self.failure(
                field,
                format_args!(
                    "threw an error during evaluation. {}: {}",
                    e.code, e.message
                ),
            )),
        }
    }

    /// Evaluates the expression for `field`: a value, or `States.QueryEvaluationError`
    /// when it fails, returns nothing or returns a function.
    pub fn evaluate(&self, field: &str, env: &StatesEnv) -> Result<Value, StatesError> {
        self.run(field, &env.bindings(self.names()))
    }

    /// The error for a value of the wrong type, worded as Step Functions words it for
    /// `Items` ("Expected 'array', but was 'string' for value: \"x\"").
    pub fn wrong_type(&self, field: &str, expected: &str, found: &Value) -> StatesError {
        self.failure(
            field,
            format_args!(
                "returned an unexpected result type. Expected '{expected}', but was '{}' for value: {found}",
                json_type(found)
            ),
        )
    }
}

/// JSONata's name for the type of a JSON value.
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// What a JSONata state's expressions read: `$states.input`, `$states.context`,
/// `$states.result` (a Task, Parallel or Map state's result, in its `Output` and `Assign`),
/// `$states.errorOutput` (in a catcher's `Output` and `Assign`) and the variables as they
/// were when the state was entered.
#[derive(Debug, Clone, Copy)]
pub struct StatesEnv<'a> {
    pub input: &'a Value,
    pub context: &'a Value,
    pub result: Option<&'a Value>,
    pub error_output: Option<&'a Value>,
    pub variables: &'a Variables,
}

impl<'a> StatesEnv<'a> {
    pub fn new(input: &'a Value, context: &'a Value, variables: &'a Variables) -> Self {
        StatesEnv {
            input,
            context,
            result: None,
            error_output: None,
            variables,
        }
    }

    /// The same data a JSONPath field would read: the state's input, the context object and
    /// the variables.
    pub fn from_sources(sources: &Sources<'a>) -> Self {
        StatesEnv::new(sources.input, sources.context, sources.variables)
    }

    pub fn with_result(self, result: &'a Value) -> Self {
        StatesEnv {
            result: Some(result),
            ..self
        }
    }

    pub fn with_error_output(self, error_output: &'a Value) -> Self {
        StatesEnv {
            error_output: Some(error_output),
            ..self
        }
    }

    pub fn with_context(self, context: &'a Value) -> Self {
        StatesEnv { context, ..self }
    }

    /// Binds `$states` and the variables among `names`; a name no state assigned stays
    /// unbound, so reading it gives *undefined*.
    fn bindings(&self, names: &[String]) -> Bindings {
        let mut bindings = Bindings::new();
        for name in names {
            if name == "states" {
                let mut fields: Vec<(&str, &Value)> =
                    vec![("input", self.input), ("context", self.context)];
                if let Some(result) = self.result {
                    fields.push(("result", result));
                }
                if let Some(error_output) = self.error_output {
                    fields.push(("errorOutput", error_output));
                }
                bindings.insert_object("states", &fields);
            } else if let Some(value) = self.variables.get(name) {
                bindings.insert(name, value);
            }
        }
        bindings
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Literal(Value),
    Expr(Expr),
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
}

impl Node {
    fn compile(value: &Value, field: &str, names: &mut Vec<String>) -> Result<Node, String> {
        if let Some(parsed) = Expr::from_value(value) {
            let expr = parsed.map_err(|e| format!("{field}: {e}"))?;
            for name in expr.names() {
                if !names.contains(name) {
                    names.push(name.clone());
                }
            }
            return Ok(Node::Expr(expr));
        }
        match value {
            Value::Object(map) => {
                let mut fields = Vec::with_capacity(map.len());
                for (key, v) in map {
                    fields.push((
                        key.clone(),
                        Node::compile(v, &format!("{field}/{key}"), names)?,
                    ));
                }
                if fields.iter().all(|(_, n)| matches!(n, Node::Literal(_))) {
                    return Ok(Node::Literal(value.clone()));
                }
                Ok(Node::Object(fields))
            }
            Value::Array(items) => {
                let nodes = items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Node::compile(v, &format!("{field}[{i}]"), names))
                    .collect::<Result<Vec<_>, _>>()?;
                if nodes.iter().all(|n| matches!(n, Node::Literal(_))) {
                    return Ok(Node::Literal(value.clone()));
                }
                Ok(Node::Array(nodes))
            }
            other => Ok(Node::Literal(other.clone())),
        }
    }

    fn evaluate(&self, field: &str, bindings: &Bindings) -> Result<Value, StatesError> {
        match self {
            Node::Literal(v) => Ok(v.clone()),
            Node::Expr(e) => e.run(field, bindings),
            Node::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                for (key, node) in fields {
                    out.insert(
                        key.clone(),
                        node.evaluate(&format!("{field}/{key}"), bindings)?,
                    );
                }
                Ok(Value::Object(out))
            }
            Node::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, n)| n.evaluate(&format!("{field}[{i}]"), bindings))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
        }
    }
}

/// A JSONata state's `Arguments`, `Output`, `Items`, `ItemSelector` or an `Assign` value:
/// any JSON value, with `"{% expr %}"` strings anywhere inside.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload(Arc<PayloadParts>);

#[derive(Debug, PartialEq)]
struct PayloadParts {
    root: Node,
    /// Every name its expressions may read, bound once per evaluation.
    names: Vec<String>,
}

impl Payload {
    /// Compiles a field's value; `field` names the field in the sentence of a problem.
    pub fn compile(value: &Value, field: &str) -> Result<Payload, String> {
        let mut names = Vec::new();
        let root = Node::compile(value, field, &mut names)?;
        Ok(Payload(Arc::new(PayloadParts { root, names })))
    }

    /// The whole field is one expression (not an object or array holding some).
    pub fn as_expr(&self) -> Option<&Expr> {
        match &self.0.root {
            Node::Expr(e) => Some(e),
            _ => None,
        }
    }

    pub fn evaluate(&self, field: &str, env: &StatesEnv) -> Result<Value, StatesError> {
        if let Node::Literal(v) = &self.0.root {
            return Ok(v.clone());
        }
        self.0.root.evaluate(field, &env.bindings(&self.0.names))
    }
}

/// The `Assign` of a JSONata state, rule or catcher: variable names and their values.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignPayload {
    fields: Vec<(String, Node)>,
    names: Vec<String>,
}

impl AssignPayload {
    /// `fields` come checked (names valid, each once).
    pub fn compile(fields: &Map<String, Value>, location: &str) -> Result<Self, Vec<String>> {
        let mut names = Vec::new();
        let mut out = Vec::with_capacity(fields.len());
        let mut problems = Vec::new();
        for (name, value) in fields {
            match Node::compile(value, &format!("{location}/{name}"), &mut names) {
                Ok(node) => out.push((name.clone(), node)),
                Err(e) => problems.push(e),
            }
        }
        if problems.is_empty() {
            Ok(AssignPayload { fields: out, names })
        } else {
            Err(problems)
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(n, _)| n.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Computes every value (none is stored yet); `location` is `Assign` or the rule's or
    /// catcher's `…/Assign`.
    pub fn evaluate(
        &self,
        location: &str,
        env: &StatesEnv,
    ) -> Result<Map<String, Value>, StatesError> {
        let bindings = env.bindings(&self.names);
        let mut out = Map::with_capacity(self.fields.len());
        for (name, node) in &self.fields {
            out.insert(
                name.clone(),
                node.evaluate(&format!("{location}/{name}"), &bindings)?,
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env<'a>(input: &'a Value, context: &'a Value, vars: &'a Variables) -> StatesEnv<'a> {
        StatesEnv::new(input, context, vars)
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html (the
    // conversion example: with input {"title": "Doctor"} and $customerName "María",
    // Arguments give {"static": "Hello", "title": "Doctor", "name": "María",
    // "not-evaluated": "$customerName"})
    #[test]
    fn arguments_example_from_the_docs() {
        let arguments = Payload::compile(
            &json!({"static": "Hello", "title": "{% $states.input.title %}",
                    "name": "{% $customerName %}", "not-evaluated": "$customerName"}),
            "Arguments",
        )
        .unwrap();
        let mut vars = Variables::new();
        vars.apply(
            json!({"customerName": "María"})
                .as_object()
                .unwrap()
                .clone(),
        );
        let input = json!({"title": "Doctor"});
        let out = arguments
            .evaluate("Arguments", &env(&input, &json!({}), &vars))
            .unwrap();
        assert_eq!(
            out,
            json!({"static": "Hello", "title": "Doctor", "name": "María", "not-evaluated": "$customerName"})
        );
    }

    #[test]
    fn names_are_found_in_the_text() {
        assert_eq!(
            referenced_names("$states.input.x & $x & $sum([1]) & $$ & $ & $x"),
            vec!["states", "x", "sum"]
        );
        assert_eq!(referenced_names("$café.a"), vec!["café"]);
    }

    // Causes as Step Functions executions report them (the pattern "The JSONata expression
    // '$doesNotExist' specified for the field 'Output/result' returned nothing
    // (undefined)."); the field path follows the object keys.
    #[test]
    fn failures_name_the_expression_and_the_field() {
        let vars = Variables::new();
        let input = json!({"a": [1, 2]});
        let ctx = json!({});
        let e = env(&input, &ctx, &vars);
        let output = Payload::compile(&json!({"result": "{% $doesNotExist %}"}), "Output").unwrap();
        let err = output.evaluate("Output", &e).unwrap_err();
        assert_eq!(err.error, "States.QueryEvaluationError");
        assert_eq!(err.cause, "The JSONata expression '$doesNotExist' specified for the field 'Output/result' returned nothing (undefined).");
        let list = Payload::compile(&json!({"l": [1, "{%  $nope %}"]}), "Output").unwrap();
        assert!(list
            .evaluate("Output", &e)
            .unwrap_err()
            .cause
            .contains("'$nope' specified for the field 'Output/l[1]'"));
        let err = Payload::compile(&json!("{% $f := function($x){$x} %}"), "Items")
            .unwrap()
            .evaluate("Items", &e)
            .unwrap_err();
        assert!(
            err.cause.ends_with("returned an unsupported result type."),
            "{}",
            err.cause
        );
        let err = Payload::compile(&json!("{% $states.input.a() %}"), "Output")
            .unwrap()
            .evaluate("Output", &e)
            .unwrap_err();
        assert!(
            err.cause
                .contains("threw an error during evaluation. T1006: "),
            "{}",
            err.cause
        );
        let bad = Payload::compile(&json!({"x": "{% 1 + %}"}), "Output").unwrap_err();
        assert!(
            bad.starts_with("Output/x: the JSONata expression '1 +' is not valid"),
            "{bad}"
        );
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html ("Writing
    // JSONata expressions in JSON strings": only a string that starts with {% and ends
    // with %} is an expression)
    #[test]
    fn only_delimited_strings_are_expressions() {
        let p = Payload::compile(
            &json!([" {% 1 %}", "{% 1 %} ", "{%1%}", "%} {%", 3, null]),
            "Output",
        )
        .unwrap();
        let vars = Variables::new();
        let v = json!(null);
        assert_eq!(
            p.evaluate("Output", &env(&v, &v, &vars)).unwrap(),
            json!([" {% 1 %}", "{% 1 %} ", 1, "%} {%", 3, null])
        );
    }
}
