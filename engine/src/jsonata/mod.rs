//! JSONata, the query language of Step Functions states with `"QueryLanguage": "JSONata"`:
//! parse an expression once, evaluate it against JSON as often as needed.
//!
//! ```
//! use engine::jsonata::{Bindings, Expression};
//! use serde_json::json;
//!
//! let expr = Expression::parse("$sum(items.price) * $rate").unwrap();
//! let mut bindings = Bindings::new();
//! bindings.insert("rate", &json!(2));
//! let out = expr.evaluate(&json!({"items": [{"price": 3}, {"price": 4}]}), &bindings);
//! assert_eq!(out.unwrap(), Some(json!(14)));
//! ```
//!
//! The language follows the JSONata 2.x reference implementation (including `??` and
//! `?:`), with the functions AWS adds (`$partition`, `$range`, `$hash`, `$random(seed)`,
//! `$uuid`, `$parse`); `$eval` is left out as Step Functions leaves it out. `None` is
//! JSONata's *undefined* (no result). Errors carry JSONata's codes.
//!
//! Evaluation is bounded: nesting depth, run time and sequence length have limits
//! ([`Limits`]), so no expression can exhaust the stack or run forever.

mod apply;
mod ast;
mod env;
mod error;
mod evaluator;
mod function;
mod functions;
mod group;
mod lexer;
mod operators;
mod parser;
mod path;
mod process;
mod signature;
mod value;

pub use error::{ErrorCode, JsonataError};

use ast::Node;
use env::Frame;
use evaluator::Evaluator;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use value::{Flags, Value};

/// Bounds on one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// How deeply evaluation may nest (non-tail recursion counts; tail calls do not).
    pub max_depth: usize,
    /// How long one evaluation may run.
    pub timeout: Option<Duration>,
    /// The most items a range, `$range`, `$append`, an array constructor or a path step
    /// may produce.
    pub max_sequence: usize,
    /// The longest string (in bytes) `&` or a function may produce.
    pub max_string: usize,
    /// The most bytes of stack an evaluation may use. The thread evaluating needs more
    /// than this (tokio's worker threads and std's spawned threads have 2 MiB).
    pub max_stack: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 500,
            timeout: Some(Duration::from_secs(5)),
            max_sequence: 1_000_000,
            max_string: 16 << 20,
            max_stack: 1 << 20,
        }
    }
}

/// Variables an expression can read as `$name` (Step Functions binds `$states` and the
/// workflow's variables). Converted once, so one set of bindings can serve many
/// evaluations.
#[derive(Debug, Clone, Default)]
pub struct Bindings {
    vars: Vec<(Arc<str>, Value)>,
}

impl Bindings {
    pub fn new() -> Self {
        Self::default()
    }

    /// Binds `$name` (without the `$`) to a JSON value, replacing an earlier binding.
    pub fn insert(&mut self, name: &str, value: &serde_json::Value) {
        let v = Value::from_json(value);
        match self.vars.iter_mut().find(|(n, _)| &**n == name) {
            Some(slot) => slot.1 = v,
            None => self.vars.push((Arc::from(name), v)),
        }
    }

    pub fn with(mut self, name: &str, value: &serde_json::Value) -> Self {
        self.insert(name, value);
        self
    }

    /// Binds `$name` to an object built from `fields` (each converted once, without first
    /// assembling a JSON object): Step Functions' `$states` is made this way.
    pub fn insert_object(&mut self, name: &str, fields: &[(&str, &serde_json::Value)]) {
        let members = fields
            .iter()
            .map(|(key, value)| (key.to_string(), Value::from_json(value)))
            .collect();
        let v = Value::object(members);
        match self.vars.iter_mut().find(|(n, _)| &**n == name) {
            Some(slot) => slot.1 = v,
            None => self.vars.push((Arc::from(name), v)),
        }
    }
}

/// What an evaluation produced, telling apart the two results a JSON field cannot hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Evaluated {
    /// JSONata's *undefined*: no value at all.
    Undefined,
    /// A function (a lambda or a built-in), which has no JSON form.
    Function,
    Json(serde_json::Value),
}

/// The expression inside a Step Functions JSONata string: `"{% expr %}"` gives `expr`.
/// The string must start with `{%` and end with `%}`, with no space outside them
/// (transforming-data.html, "Writing JSONata expressions in JSON strings"); any other
/// string is a literal (`None`).
pub fn template(text: &str) -> Option<&str> {
    text.strip_prefix("{%")?.strip_suffix("%}")
}

/// A parsed JSONata expression. Cheap to share between threads and to evaluate repeatedly.
#[derive(Debug)]
pub struct Expression {
    root: Node,
    labels: Arc<[Arc<str>]>,
    source: String,
}

impl Expression {
    /// Parses an expression; syntax errors carry an `S0…` code and the character position.
    pub fn parse(source: &str) -> Result<Expression, JsonataError> {
        let ast = parser::parse(source)?;
        let (root, labels) = process::process(ast)?;
        Ok(Expression {
            root,
            labels: labels.into(),
            source: source.to_string(),
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates against `input` (bound to `$`) with the default limits.
    pub fn evaluate(
        &self,
        input: &serde_json::Value,
        bindings: &Bindings,
    ) -> Result<Option<serde_json::Value>, JsonataError> {
        self.evaluate_with(Some(input), bindings, &Limits::default())
    }

    /// Evaluates with explicit limits; `input` `None` leaves `$` undefined (as Step
    /// Functions does: states read their input from `$states.input`).
    pub fn evaluate_with(
        &self,
        input: Option<&serde_json::Value>,
        bindings: &Bindings,
        limits: &Limits,
    ) -> Result<Option<serde_json::Value>, JsonataError> {
        Ok(match self.evaluate_checked(input, bindings, limits)? {
            Evaluated::Undefined => None,
            // A function prints as the empty string, as `$string` prints it.
            Evaluated::Function => Some(serde_json::Value::String(String::new())),
            Evaluated::Json(v) => Some(v),
        })
    }

    /// Like [`Expression::evaluate_with`], but says when the result is a function instead
    /// of turning it into a string (Step Functions refuses a function as a field's value).
    pub fn evaluate_checked(
        &self,
        input: Option<&serde_json::Value>,
        bindings: &Bindings,
        limits: &Limits,
    ) -> Result<Evaluated, JsonataError> {
        let input = input.map(Value::from_json).map(|v| match v {
            Value::Array(items, flags) if !flags.has(Flags::SEQUENCE) => Value::with_flags(
                vec![Value::Array(items, flags)],
                Flags::SEQUENCE.with(Flags::OUTER_WRAPPER),
            ),
            other => other,
        });
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as f64)
            .unwrap_or(0.0);
        let mut ev = Evaluator::new(limits.clone(), self.labels.clone(), now);
        let root = Frame::root();
        for (name, value) in &bindings.vars {
            ev.bind(&root, name, Some(value.clone()));
        }
        ev.bind(&root, &Arc::from("$"), input.clone());
        let result = ev.eval(&self.root, &input, &root)?;
        drop(ev);
        Ok(match result {
            None => Evaluated::Undefined,
            Some(Value::Function(_)) => Evaluated::Function,
            Some(v) => Evaluated::Json(v.to_json()?),
        })
    }
}

#[cfg(test)]
mod tests;
