//! The states that run inside the engine: Pass, Choice, Wait, Succeed and Fail.
//!
//! What `$` is in their `Assign`
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html>, "Assigning
//! variables in JSONPath"): for a Pass state its result (from `Result`, or from
//! `InputPath`/`Parameters`), for Choice and Wait states the effective input (after
//! `InputPath`). A Choice state runs the `Assign` of the rule that matched, or its own
//! `Assign` when it takes `Default`
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html>, "Using Assign
//! with Choice states").

use crate::asl::definition::{Rule, TextSource, WaitFor};
use crate::asl::query::StatesEnv;
use crate::asl::variables::Sources;
use crate::clock::after;
use crate::error::{names, StatesError};
use crate::runtime::io;
use crate::runtime::runner::{assignments, Done, Visit};
use serde_json::Value;
use std::time::Duration;

pub(crate) fn pass(
    visit: &Visit<'_>,
    sources: &Sources,
    result: Option<&Value>,
) -> Result<Done, StatesError> {
    let state = visit.state;
    let effective = io::input_path(&state.input_path, sources)?;
    let produced = match (result, &state.parameters) {
        (Some(r), _) => r.clone(),
        (None, Some(params)) => params.evaluate(&sources.with_input(&effective))?,
        (None, None) => effective,
    };
    let assigned = assignments(state.assign.as_ref(), &sources.with_input(&produced))?;
    let combined = io::result_path(&state.result_path, visit.raw, produced)?;
    let output = io::output_path(&state.output_path, &sources.with_input(&combined))?;
    Ok(Done {
        output,
        next: state.next.clone(),
        assigned,
    })
}

pub(crate) fn choice(visit: &Visit<'_>, sources: &Sources) -> Result<Done, StatesError> {
    let state = visit.state;
    let crate::asl::definition::StateKind::Choice { choices, default } = &state.kind else {
        return Err(StatesError::runtime("not a Choice state"));
    };
    let effective = io::input_path(&state.input_path, sources)?;
    let on_input = sources.with_input(&effective);
    let mut matched = None;
    for branch in choices {
        let Rule::Path(condition) = &branch.condition else {
            return Err(StatesError::runtime(
                "a JSONata choice rule in a JSONPath state",
            ));
        };
        if condition.evaluate(&on_input)? {
            matched = Some(branch);
            break;
        }
    }
    let (next, assign) = match (matched, default) {
        (Some(branch), _) => (branch.next.clone(), branch.assign.as_ref()),
        (None, Some(default)) => (default.clone(), state.assign.as_ref()),
        (None, None) => {
            return Err(StatesError::new(
                names::NO_CHOICE_MATCHED,
                format!(
                    "No Choice Rules matched the input in state '{}'",
                    state.name
                ),
            ))
        }
    };
    let output = io::output_path(&state.output_path, &on_input)?;
    let assigned = assignments(assign, &on_input)?;
    Ok(Done {
        output,
        next: Some(next),
        assigned,
    })
}

pub(crate) async fn wait(
    visit: &Visit<'_>,
    sources: &Sources<'_>,
    wait: &WaitFor,
    entered: time::OffsetDateTime,
) -> Result<Done, StatesError> {
    let (run, state) = (visit.run, visit.state);
    let effective = io::input_path(&state.input_path, sources)?;
    let on_input = sources.with_input(&effective);
    let target = match wait {
        WaitFor::Seconds(n) => after(entered, Duration::from_secs(*n)),
        WaitFor::Timestamp(t) => *t,
        WaitFor::SecondsPath(p) => {
            let v = p
                .select(&on_input)
                .map_err(|e| StatesError::runtime(e.to_string()))?;
            let secs = v.as_u64().ok_or_else(|| {
                StatesError::runtime(format!(
                    "SecondsPath '{p}' of state '{}' must select a non-negative integer, found {v}",
                    state.name
                ))
            })?;
            after(entered, Duration::from_secs(secs))
        }
        WaitFor::TimestampPath(p) => {
            let v = p
                .select(&on_input)
                .map_err(|e| StatesError::runtime(e.to_string()))?;
            v.as_str().and_then(crate::asl::choice::parse_timestamp).ok_or_else(|| {
                StatesError::runtime(format!("TimestampPath '{p}' of state '{}' must select an RFC 3339 timestamp, found {v}", state.name))
            })?
        }
        WaitFor::SecondsExpr(_) | WaitFor::TimestampExpr(_) => {
            return Err(StatesError::runtime("a JSONata wait in a JSONPath state"))
        }
    };
    let deadline = run.journaled_deadline(&format!("{}/until", visit.key), || target)?;
    run.wait_until(visit.key, deadline).await;
    let output = io::output_path(&state.output_path, &on_input)?;
    let assigned = assignments(state.assign.as_ref(), &on_input)?;
    Ok(Done {
        output,
        next: state.next.clone(),
        assigned,
    })
}

pub(crate) fn succeed(visit: &Visit<'_>, sources: &Sources) -> Result<Done, StatesError> {
    let state = visit.state;
    let effective = io::input_path(&state.input_path, sources)?;
    let output = io::output_path(&state.output_path, &sources.with_input(&effective))?;
    Ok(Done {
        output,
        next: None,
        assigned: None,
    })
}

/// The error a Fail state declares, its texts written out or read from a path (on the input
/// or a variable), an intrinsic function or a JSONata expression; `Err` when a text cannot
/// be computed (the state then fails with that error instead).
pub(crate) fn fail(
    visit: &Visit<'_>,
    sources: &Sources,
    error: &Option<TextSource>,
    cause: &Option<TextSource>,
) -> Result<StatesError, StatesError> {
    let text = |source: &Option<TextSource>, field: &str| -> Result<String, StatesError> {
        Ok(match source {
            None => String::new(),
            Some(TextSource::Literal(s)) => s.clone(),
            Some(TextSource::Path(p)) => match p.select(sources) {
                Ok(Value::String(s)) => s,
                Ok(other) => {
                    return Err(StatesError::runtime(format!(
                        "the path '{p}' of state '{}' selected {other}, not a string",
                        visit.state.name
                    )))
                }
                Err(e) => return Err(StatesError::runtime(e.to_string())),
            },
            Some(TextSource::Intrinsic(i)) => match i.evaluate(sources)? {
                Value::String(s) => s,
                other => other.to_string(),
            },
            Some(TextSource::Expr(e)) => {
                crate::runtime::query::text(e, field, &StatesEnv::from_sources(sources))?
            }
        })
    };
    Ok(StatesError::new(
        text(error, "Error")?,
        text(cause, "Cause")?,
    ))
}
