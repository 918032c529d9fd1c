//! JSONata states at run time: what each state type's expressions read and how their
//! results become the state's output and assignments.
//!
//! <https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html>: every
//! expression reads `$states.input` (the state's input) and `$states.context`; `Output`
//! and `Assign` of a Task, Parallel or Map state also read `$states.result`, and those of a
//! catcher `$states.errorOutput`. Without `Output` a state's output is its result (Task,
//! Parallel, Map), the error output (a catcher) or its input (Pass, Choice, Wait, Succeed).
//! `Arguments` (Task, Parallel) is what the resource or the branches get, the input when
//! absent.
//!
//! Both `Output` and `Assign` read the variables as they were when the state was entered
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html>), so an
//! `Output` does not see what the same state assigns. `Assign` is computed first; its
//! values are stored once the state is over.

use crate::asl::assign::Assign;
use crate::asl::definition::{Catcher, Rule, Seconds, StateKind, WaitFor};
use crate::asl::query::{Expr, Payload, StatesEnv};
use crate::clock::after;
use crate::error::{names, StatesError};
use crate::runtime::runner::{Done, Visit};
use serde_json::{json, Map, Value};
use std::time::Duration;
use time::OffsetDateTime;

/// What a JSONata state's expressions read before it has a result.
pub(crate) fn env<'a>(visit: &'a Visit<'_>, context: &'a Value) -> StatesEnv<'a> {
    StatesEnv::new(visit.raw, context, visit.vars)
}

/// Computes a JSONata `Assign` and checks it against the variable limits.
pub(crate) fn assignments(
    assign: Option<&Assign>,
    location: &str,
    env: &StatesEnv,
) -> Result<Option<Map<String, Value>>, StatesError> {
    let Some(assign) = assign.filter(|a| !a.is_empty()) else {
        return Ok(None);
    };
    let values = assign.evaluate_jsonata(location, env)?;
    env.variables.check(&values)?;
    Ok(Some(values))
}

/// `Assign`, then `Output` (or `default` without one).
fn finish(
    env: &StatesEnv,
    assign: (Option<&Assign>, &str),
    output: (Option<&Payload>, &str),
    default: &Value,
    next: Option<String>,
) -> Result<Done, StatesError> {
    let assigned = assignments(assign.0, assign.1, env)?;
    let output = match output.0 {
        Some(payload) => payload.evaluate(output.1, env)?,
        None => default.clone(),
    };
    Ok(Done {
        output,
        next,
        assigned,
    })
}

pub(crate) fn pass(visit: &Visit<'_>, context: &Value) -> Result<Done, StatesError> {
    let state = visit.state;
    finish(
        &env(visit, context),
        (state.assign.as_ref(), "Assign"),
        (state.output.as_ref(), "Output"),
        visit.raw,
        state.next.clone(),
    )
}

pub(crate) fn succeed(visit: &Visit<'_>, context: &Value) -> Result<Done, StatesError> {
    let env = env(visit, context);
    let output = match &visit.state.output {
        Some(payload) => payload.evaluate("Output", &env)?,
        None => visit.raw.clone(),
    };
    Ok(Done {
        output,
        next: None,
        assigned: None,
    })
}

/// The first rule whose `Condition` gives `true` wins; its `Assign` and `Output` apply (the
/// state's `Output` when the rule has none). Without a match the `Default` transition takes
/// the state's `Assign` and `Output`.
/// <https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html>
pub(crate) fn choice(visit: &Visit<'_>, context: &Value) -> Result<Done, StatesError> {
    let state = visit.state;
    let StateKind::Choice { choices, default } = &state.kind else {
        return Err(StatesError::runtime("not a Choice state"));
    };
    let env = env(visit, context);
    for (i, branch) in choices.iter().enumerate() {
        let Rule::Jsonata(condition) = &branch.condition else {
            return Err(StatesError::runtime(
                "a JSONPath choice rule in a JSONata state",
            ));
        };
        let field = format!("Choices[{i}]/Condition");
        match condition.evaluate(&field, &env)? {
            Value::Bool(true) => {
                let (output, output_field) = match &branch.output {
                    Some(o) => (Some(o), format!("Choices[{i}]/Output")),
                    None => (state.output.as_ref(), "Output".to_string()),
                };
                return finish(
                    &env,
                    (branch.assign.as_ref(), &format!("Choices[{i}]/Assign")),
                    (output, &output_field),
                    visit.raw,
                    Some(branch.next.clone()),
                );
            }
            Value::Bool(false) => {}
            other => return Err(condition.wrong_type(&field, "boolean", &other)),
        }
    }
    match default {
        Some(default) => finish(
            &env,
            (state.assign.as_ref(), "Assign"),
            (state.output.as_ref(), "Output"),
            visit.raw,
            Some(default.clone()),
        ),
        None => Err(StatesError::new(
            names::NO_CHOICE_MATCHED,
            format!(
                "No Choice Rules matched the input in state '{}'",
                state.name
            ),
        )),
    }
}

/// A whole number at least `min`, from an expression's result.
fn whole(value: &Value, min: u64) -> Option<u64> {
    let n = value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 9.0e15)
            .map(|f| f as u64)
    })?;
    (n >= min).then_some(n)
}

/// A seconds field given as an expression (`Seconds` at least 0, `TimeoutSeconds` and
/// `HeartbeatSeconds` at least 1).
pub(crate) fn seconds(
    expr: &Expr,
    field: &str,
    min: u64,
    env: &StatesEnv,
) -> Result<u64, StatesError> {
    let value = expr.evaluate(field, env)?;
    whole(&value, min).ok_or_else(|| {
        let expected = if min == 0 {
            "non-negative integer"
        } else {
            "positive integer"
        };
        expr.wrong_type(field, expected, &value)
    })
}

/// `TimeoutSeconds` or `HeartbeatSeconds` of a JSONata Task.
pub(crate) fn task_seconds(
    seconds_field: &Option<Seconds>,
    field: &str,
    env: &StatesEnv,
) -> Result<Option<u64>, StatesError> {
    match seconds_field {
        None => Ok(None),
        Some(Seconds::Fixed(n)) => Ok(Some(*n)),
        Some(Seconds::Expr(e)) => seconds(e, field, 1, env).map(Some),
        Some(Seconds::Path(_)) => Err(StatesError::runtime(format!(
            "{field}: a JSONPath field in a JSONata state"
        ))),
    }
}

/// When a JSONata Wait state ends.
fn wait_until(
    wait: &WaitFor,
    entered: OffsetDateTime,
    env: &StatesEnv,
) -> Result<OffsetDateTime, StatesError> {
    match wait {
        WaitFor::Seconds(n) => Ok(after(entered, Duration::from_secs(*n))),
        WaitFor::Timestamp(t) => Ok(*t),
        WaitFor::SecondsExpr(e) => {
            let n = seconds(e, "Seconds", 0, env)?;
            Ok(after(entered, Duration::from_secs(n)))
        }
        WaitFor::TimestampExpr(e) => {
            let value = e.evaluate("Timestamp", env)?;
            match value.as_str().map(|s| (s, crate::asl::choice::parse_timestamp(s))) {
                Some((_, Some(t))) => Ok(t),
                Some((text, None)) => Err(e.failure(
                    "Timestamp",
                    format_args!("returned '{text}', which is not an RFC 3339 timestamp such as 2016-03-14T01:59:00Z."),
                )),
                None => Err(e.wrong_type("Timestamp", "string", &value)),
            }
        }
        WaitFor::SecondsPath(_) | WaitFor::TimestampPath(_) => {
            Err(StatesError::runtime("a JSONPath wait in a JSONata state"))
        }
    }
}

pub(crate) async fn wait(
    visit: &Visit<'_>,
    wait: &WaitFor,
    entered: OffsetDateTime,
    context: &Value,
) -> Result<Done, StatesError> {
    let (run, state) = (visit.run, visit.state);
    let env = env(visit, context);
    let target = wait_until(wait, entered, &env)?;
    let deadline = run.journaled_deadline(&format!("{}/until", visit.key), || target)?;
    run.wait_until(visit.key, deadline).await;
    finish(
        &env,
        (state.assign.as_ref(), "Assign"),
        (state.output.as_ref(), "Output"),
        visit.raw,
        state.next.clone(),
    )
}

/// A Fail state's `Error` or `Cause` expression, which must give a string.
pub(crate) fn text(expr: &Expr, field: &str, env: &StatesEnv) -> Result<String, StatesError> {
    match expr.evaluate(field, env)? {
        Value::String(s) => Ok(s),
        other => Err(expr.wrong_type(field, "string", &other)),
    }
}

/// What a Task's resource or a Parallel state's branches get: `Arguments`, or the input.
pub(crate) fn arguments(visit: &Visit<'_>, context: &Value) -> Result<Value, StatesError> {
    match &visit.state.arguments {
        Some(arguments) => arguments.evaluate("Arguments", &env(visit, context)),
        None => Ok(visit.raw.clone()),
    }
}

/// A Task, Parallel or Map state that succeeded: `Assign` and `Output` read
/// `$states.result`; the output is the result without `Output`.
pub(crate) fn with_result(
    visit: &Visit<'_>,
    result: &Value,
    context: &Value,
) -> Result<Done, StatesError> {
    let state = visit.state;
    finish(
        &env(visit, context).with_result(result),
        (state.assign.as_ref(), "Assign"),
        (state.output.as_ref(), "Output"),
        result,
        state.next.clone(),
    )
}

/// A catcher took the error: its `Assign` and `Output` read `$states.errorOutput`; the
/// output is the error output without `Output`.
pub(crate) fn caught(
    visit: &Visit<'_>,
    catcher: &Catcher,
    index: usize,
    error_output: &Value,
    context: &Value,
) -> Result<Done, StatesError> {
    finish(
        &env(visit, context).with_error_output(error_output),
        (catcher.assign.as_ref(), &format!("Catch[{index}]/Assign")),
        (catcher.output.as_ref(), &format!("Catch[{index}]/Output")),
        error_output,
        Some(catcher.next.clone()),
    )
}

/// A JSONata Map state's items: `Items` (an array, or an expression giving one), or the
/// state's input.
pub(crate) fn map_items(
    visit: &Visit<'_>,
    items: Option<&Payload>,
    context: &Value,
) -> Result<Vec<Value>, StatesError> {
    let value = match items {
        Some(payload) => payload.evaluate("Items", &env(visit, context))?,
        None => visit.raw.clone(),
    };
    match value {
        Value::Array(items) => Ok(items),
        other => Err(match items.and_then(Payload::as_expr) {
            Some(expr) => expr.wrong_type("Items", "array", &other),
            None => StatesError::new(
                names::QUERY_EVALUATION_ERROR,
                format!(
                    "The Items of the Map state '{}' must be an array, but was '{}' for value: {other}",
                    visit.state.name,
                    crate::asl::query::json_type(&other)
                ),
            ),
        }),
    }
}

/// One iteration's input: `ItemSelector` with `$states.context.Map.Item.Index` and
/// `.Value`, or the item.
pub(crate) fn select_item(
    visit: &Visit<'_>,
    selector: Option<&Payload>,
    context: &Value,
    index: usize,
    item: Value,
) -> Result<Value, StatesError> {
    let Some(selector) = selector else {
        return Ok(item);
    };
    let mut item_context = context.clone();
    super::set_field(
        &mut item_context,
        "Map",
        json!({"Item": {"Index": index, "Value": item}}),
    );
    selector.evaluate("ItemSelector", &env(visit, &item_context))
}
