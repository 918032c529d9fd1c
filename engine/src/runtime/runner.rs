//! The interpreter. Each state visit is a *step* keyed `<scope>/<n>`; its outcome goes to
//! the journal once it is complete, and its events are keyed under the step. When an
//! execution is restarted, completed steps are replayed from the journal and the
//! interrupted one runs again with the same keys, so no event is written twice and no
//! task is started twice (task attempts have their own journal entries, see `task.rs`).

use crate::asl::definition::{State, StateKind, StateMachine, TextSource, WaitFor};
use crate::clock::after;
use crate::error::{names, StatesError};
use crate::runtime::branches::{map, parallel};
use crate::runtime::history::{self, state_entered, state_exited};
use crate::runtime::{io, task, ExecutionRun};
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// How a step ended.
struct StepOutcome {
    next: Option<String>,
    result: Result<Value, StatesError>,
    last_event: i64,
    /// Events written in one transaction with the journal entry: the `…StateExited`
    /// event, and for states that do nothing observable in between (Pass, Choice,
    /// Succeed, Fail) also their `…StateEntered`. Chained by `previousEventId`.
    pending_events: Vec<(String, Value)>,
}

impl StepOutcome {
    fn to_journal(&self, state: &str) -> Value {
        match &self.result {
            Ok(output) => {
                json!({"state": state, "next": self.next, "output": output, "last_event": self.last_event})
            }
            Err(e) => json!({"state": state, "error": e, "last_event": self.last_event}),
        }
    }

    fn from_journal(record: &Value) -> Option<StepOutcome> {
        let last_event = record.get("last_event")?.as_i64()?;
        if let Some(error) = record.get("error") {
            let error: StatesError = serde_json::from_value(error.clone()).ok()?;
            return Some(StepOutcome {
                next: None,
                result: Err(error),
                last_event,
                pending_events: Vec::new(),
            });
        }
        Some(StepOutcome {
            next: record
                .get("next")
                .and_then(Value::as_str)
                .map(str::to_string),
            result: Ok(record.get("output")?.clone()),
            last_event,
            pending_events: Vec::new(),
        })
    }
}

/// Runs a machine (the execution, a branch or an iteration) to its end. Returns the
/// output and the id of the last event written in this scope.
pub(crate) fn run_machine(
    run: Arc<ExecutionRun>,
    machine: Arc<StateMachine>,
    input: Value,
    scope: String,
    previous: i64,
) -> BoxFuture<Result<(Value, i64), StatesError>> {
    Box::pin(async move {
        let mut current = machine.start_at.clone();
        let mut data = input;
        let mut previous = previous;
        for step in 1u64.. {
            let events = run.event_count.load(std::sync::atomic::Ordering::Relaxed);
            if events >= run.env.limits.max_history_events {
                return Err(StatesError::runtime(format!(
                    "The execution history reached the limit of {} events.",
                    run.env.limits.max_history_events
                )));
            }
            let key = format!("{scope}/{step}");
            let state = machine
                .state(&current)
                .cloned()
                .ok_or_else(|| StatesError::runtime(format!("no state named '{current}'")))?;
            let recorded = run.journal_get(&key)?.and_then(|r| {
                (r.get("state").and_then(Value::as_str) == Some(state.name.as_str()))
                    .then(|| StepOutcome::from_journal(&r))
                    .flatten()
            });
            let outcome = match recorded {
                Some(outcome) => outcome,
                None => {
                    let mut outcome = run_state(&run, &state, data, &key, previous).await;
                    let events = std::mem::take(&mut outcome.pending_events);
                    let name = state.name.clone();
                    let locate =
                        is_instant(&state) && !matches!(state.kind, StateKind::Fail { .. });
                    let last = run.complete_step(&key, &events, |last_id| {
                        if let Some(id) = last_id {
                            outcome.last_event = id;
                            if locate {
                                // The events of one step get consecutive ids, the
                                // `…StateEntered` event first.
                                let entered_id = id - events.len() as i64 + 1;
                                let name = &state.name;
                                outcome.result =
                                    std::mem::replace(&mut outcome.result, Ok(Value::Null))
                                        .map_err(|e| io::locate(e, name, entered_id));
                            }
                        }
                        outcome.to_journal(&name)
                    })?;
                    outcome.last_event = last.unwrap_or(outcome.last_event);
                    outcome
                }
            };
            previous = outcome.last_event;
            let output = outcome.result?;
            match outcome.next {
                Some(next) => {
                    current = next;
                    data = output;
                }
                None => return Ok((output, previous)),
            }
        }
        Err(StatesError::runtime("the step counter overflowed"))
    })
}

/// Pass, Choice, Succeed and Fail: nothing can be observed between entering and leaving.
fn is_instant(state: &State) -> bool {
    matches!(
        state.kind,
        StateKind::Pass { .. }
            | StateKind::Choice { .. }
            | StateKind::Succeed
            | StateKind::Fail { .. }
    )
}

/// Runs one state visit, emitting its events; errors a `Catch` handles become a
/// transition.
async fn run_state(
    run: &Arc<ExecutionRun>,
    state: &Arc<State>,
    raw: Value,
    key: &str,
    previous: i64,
) -> StepOutcome {
    let entered = run.env.clock.now();
    let entered_key = format!("{key}/entered");
    let event = history::event(
        &format!("{}StateEntered", state.kind.event_prefix()),
        entered,
        previous,
        Some(state_entered(&state.name, &raw)),
    );
    if is_instant(state) {
        // Nothing can be observed between entering and leaving: one transaction will do.
        // (Its error names the entered event once that has an id, in `run_machine`.)
        let mut outcome = state_body(run, state, raw, key, previous, entered).await;
        outcome.pending_events.insert(0, (entered_key, event));
        return outcome;
    }
    match run.append(&entered_key, &event) {
        Ok(entered_id) => {
            let mut outcome = state_body(run, state, raw, key, entered_id, entered).await;
            outcome.result = outcome
                .result
                .map_err(|e| io::locate(e, &state.name, entered_id));
            outcome
        }
        Err(e) => StepOutcome {
            next: None,
            result: Err(e),
            last_event: previous,
            pending_events: Vec::new(),
        },
    }
}

async fn state_body(
    run: &Arc<ExecutionRun>,
    state: &Arc<State>,
    raw: Value,
    key: &str,
    last: i64,
    entered: time::OffsetDateTime,
) -> StepOutcome {
    let mut last = last;
    let ctx = run.context(&state.name, entered, 0, None);
    let result = match io::check_size(
        &raw,
        run.env.limits.max_payload_bytes,
        &format!("input of state '{}'", state.name),
    ) {
        Err(e) => Err(e),
        Ok(()) => match &state.kind {
            StateKind::Pass { result } => pass(state, &raw, result.as_ref(), &ctx),
            StateKind::Choice { .. } => {
                return choice(run, state, &raw, &ctx, key, last);
            }
            StateKind::Wait(wait) => wait_state(run, state, &raw, wait, &ctx, key, entered).await,
            StateKind::Succeed => io::input_path(&state.input_path, &raw, &ctx)
                .and_then(|v| io::output_path(&state.output_path, &v, &ctx)),
            StateKind::Fail { error, cause } => {
                let text = |source: &Option<TextSource>| -> Result<String, StatesError> {
                    Ok(match source {
                        None => String::new(),
                        Some(TextSource::Literal(s)) => s.clone(),
                        Some(TextSource::Path(p)) => match p.select(&raw, &ctx) {
                            Ok(Value::String(s)) => s,
                            Ok(other) => {
                                return Err(StatesError::runtime(format!(
                                    "the path '{p}' of state '{}' selected {other}, not a string",
                                    state.name
                                )))
                            }
                            Err(e) => return Err(StatesError::runtime(e.to_string())),
                        },
                        Some(TextSource::Intrinsic(i)) => match i.evaluate(&raw, &ctx)? {
                            Value::String(s) => s,
                            other => other.to_string(),
                        },
                    })
                };
                let failure = match (text(error), text(cause)) {
                    (Ok(error), Ok(cause)) => StatesError::new(error, cause),
                    (Err(e), _) | (_, Err(e)) => e,
                };
                return StepOutcome {
                    next: None,
                    result: Err(failure),
                    last_event: last,
                    pending_events: Vec::new(),
                };
            }
            StateKind::Task(_) | StateKind::Parallel { .. } | StateKind::Map { .. } => {
                let outcome = with_retries(run, state, &raw, key, &mut last).await;
                match outcome {
                    Ok(output) => Ok(output),
                    Err(error) => {
                        let catcher = state
                            .catch
                            .iter()
                            .find(|c| c.error_equals.iter().any(|p| error.matches(p)));
                        match catcher {
                            Some(c) => {
                                match io::result_path(&c.result_path, &raw, error.to_catch_output())
                                {
                                    Ok(output) => {
                                        return exit(
                                            run,
                                            state,
                                            key,
                                            last,
                                            Some(c.next.clone()),
                                            output,
                                        );
                                    }
                                    Err(e) => Err(e),
                                }
                            }
                            None => Err(error),
                        }
                    }
                }
            }
        },
    };
    let result = result.and_then(|output| {
        io::check_size(
            &output,
            run.env.limits.max_payload_bytes,
            &format!("output of state '{}'", state.name),
        )?;
        Ok(output)
    });
    match result {
        Ok(output) => exit(run, state, key, last, state.next.clone(), output),
        Err(e) => StepOutcome {
            next: None,
            result: Err(e),
            last_event: last,
            pending_events: Vec::new(),
        },
    }
}

fn exit(
    run: &ExecutionRun,
    state: &State,
    key: &str,
    last: i64,
    next: Option<String>,
    output: Value,
) -> StepOutcome {
    let event_type = format!("{}StateExited", state.kind.event_prefix());
    let event = history::event(
        &event_type,
        run.env.clock.now(),
        last,
        Some(state_exited(&state.name, &output)),
    );
    StepOutcome {
        next,
        result: Ok(output),
        last_event: last,
        pending_events: vec![(format!("{key}/exited"), event)],
    }
}

fn pass(
    state: &State,
    raw: &Value,
    result: Option<&Value>,
    ctx: &Value,
) -> Result<Value, StatesError> {
    let effective = io::input_path(&state.input_path, raw, ctx)?;
    let produced = match (result, &state.parameters) {
        (Some(r), _) => r.clone(),
        (None, Some(params)) => params.evaluate(&effective, ctx)?,
        (None, None) => effective,
    };
    let combined = io::result_path(&state.result_path, raw, produced)?;
    io::output_path(&state.output_path, &combined, ctx)
}

fn choice(
    run: &ExecutionRun,
    state: &State,
    raw: &Value,
    ctx: &Value,
    key: &str,
    last: i64,
) -> StepOutcome {
    let StateKind::Choice { choices, default } = &state.kind else {
        return StepOutcome {
            next: None,
            result: Err(StatesError::runtime("not a Choice state")),
            last_event: last,
            pending_events: Vec::new(),
        };
    };
    let decided = (|| {
        let effective = io::input_path(&state.input_path, raw, ctx)?;
        let mut next = None;
        for branch in choices {
            if branch.condition.evaluate(&effective, ctx)? {
                next = Some(branch.next.clone());
                break;
            }
        }
        let next = match next.or_else(|| default.clone()) {
            Some(n) => n,
            None => {
                return Err(StatesError::new(
                    names::NO_CHOICE_MATCHED,
                    format!(
                        "No Choice Rules matched the input in state '{}'",
                        state.name
                    ),
                ))
            }
        };
        Ok((next, io::output_path(&state.output_path, &effective, ctx)?))
    })();
    match decided {
        Ok((next, output)) => exit(run, state, key, last, Some(next), output),
        Err(e) => StepOutcome {
            next: None,
            result: Err(e),
            last_event: last,
            pending_events: Vec::new(),
        },
    }
}

async fn wait_state(
    run: &ExecutionRun,
    state: &State,
    raw: &Value,
    wait: &WaitFor,
    ctx: &Value,
    key: &str,
    entered: time::OffsetDateTime,
) -> Result<Value, StatesError> {
    let effective = io::input_path(&state.input_path, raw, ctx)?;
    let target = match wait {
        WaitFor::Seconds(n) => after(entered, Duration::from_secs(*n)),
        WaitFor::Timestamp(t) => *t,
        WaitFor::SecondsPath(p) => {
            let v = p
                .select(&effective, ctx)
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
                .select(&effective, ctx)
                .map_err(|e| StatesError::runtime(e.to_string()))?;
            v.as_str().and_then(crate::asl::choice::parse_timestamp).ok_or_else(|| {
                StatesError::runtime(format!("TimestampPath '{p}' of state '{}' must select an RFC 3339 timestamp, found {v}", state.name))
            })?
        }
    };
    let deadline = run.journaled_deadline(&format!("{key}/until"), || target)?;
    run.env.clock.sleep_until(deadline).await;
    io::output_path(&state.output_path, &effective, ctx)
}

/// The delay before retry number `count` (0-based) of a retrier.
pub(crate) fn retry_delay(retrier: &crate::asl::definition::Retrier, count: u32) -> Duration {
    let mut seconds = retrier.interval_seconds * retrier.backoff_rate.powi(count as i32);
    if let Some(max) = retrier.max_delay_seconds {
        seconds = seconds.min(max);
    }
    if retrier.full_jitter {
        use rand::Rng;
        seconds = rand::rng().random_range(0.0..=seconds);
    }
    // A large BackoffRate overflows to infinity: a year is as long as anyone waits.
    Duration::from_secs_f64(seconds.clamp(0.0, 365.0 * 86400.0))
}

/// Runs a Task, Parallel or Map state's attempts until one succeeds or no retrier
/// applies. Returns the state's output (after ResultSelector, ResultPath, OutputPath).
async fn with_retries(
    run: &Arc<ExecutionRun>,
    state: &Arc<State>,
    raw: &Value,
    key: &str,
    last: &mut i64,
) -> Result<Value, StatesError> {
    let mut counts = vec![0u32; state.retry.len()];
    let mut attempt = 0u32;
    loop {
        let entered = run.env.clock.now();
        let result = match &state.kind {
            StateKind::Task(spec) => task::attempt(run, state, spec, raw, key, attempt, last).await,
            StateKind::Parallel { branches } => {
                parallel(run, state, branches, raw, key, attempt, last).await
            }
            StateKind::Map { .. } => map(run, state, raw, key, attempt, last).await,
            _ => Err(StatesError::runtime(
                "only Task, Parallel and Map states retry",
            )),
        }
        .and_then(|result| {
            let ctx = run.context(&state.name, entered, attempt, None);
            let selected = match &state.result_selector {
                Some(selector) => selector.evaluate(&result, &ctx)?,
                None => result,
            };
            let combined = io::result_path(&state.result_path, raw, selected)?;
            io::output_path(&state.output_path, &combined, &ctx)
        });
        let error = match result {
            Ok(output) => return Ok(output),
            Err(e) => e,
        };
        let Some(index) = state
            .retry
            .iter()
            .position(|r| r.error_equals.iter().any(|p| error.matches(p)))
        else {
            return Err(error);
        };
        let retrier = &state.retry[index];
        if counts[index] >= retrier.max_attempts {
            return Err(error);
        }
        let delay = retry_delay(retrier, counts[index]);
        counts[index] += 1;
        let now = run.env.clock.now();
        let deadline =
            run.journaled_deadline(&format!("{key}/retry{attempt}"), || after(now, delay))?;
        run.env.clock.sleep_until(deadline).await;
        attempt += 1;
    }
}

pub(crate) fn effective_parameters(
    run: &ExecutionRun,
    state: &State,
    raw: &Value,
    attempt: u32,
) -> Result<Value, StatesError> {
    let ctx = run.context(&state.name, run.env.clock.now(), attempt, None);
    let effective = io::input_path(&state.input_path, raw, &ctx)?;
    match &state.parameters {
        Some(p) => p.evaluate(&effective, &ctx),
        None => Ok(effective),
    }
}
