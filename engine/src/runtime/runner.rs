//! The interpreter. Each state visit is a *step* keyed `<scope>/<n>`; its outcome goes to
//! the journal once it is complete, and its events are keyed under the step. When an
//! execution is restarted, completed steps are replayed from the journal and the
//! interrupted one runs again with the same keys, so no event is written twice and no
//! task is started twice (task attempts have their own journal entries, see `task.rs`).
//!
//! Workflow variables live in the scope a machine runs in (the execution, a Parallel branch,
//! a Map iteration): a step reads them as they were when it was entered, and the variables
//! it assigned are stored when it is over. They are journaled with the step, so replaying
//! the journal rebuilds them.

use crate::asl::assign::Assign;
use crate::asl::definition::{State, StateKind, StateMachine};
use crate::asl::query::QueryLanguage;
use crate::asl::variables::{Sources, Variables};
use crate::clock::after;
use crate::error::StatesError;
use crate::runtime::basic;
use crate::runtime::branches::{map, parallel};
use crate::runtime::history::{self, state_entered, state_exited};
use crate::runtime::step::StepOutcome;
use crate::runtime::{io, query, task, ExecutionRun};
use serde_json::{Map, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// One visit of a state: what every part of its execution reads.
pub(crate) struct Visit<'a> {
    pub run: &'a Arc<ExecutionRun>,
    pub state: &'a Arc<State>,
    /// The state's input.
    pub raw: &'a Value,
    /// The step key its events and journal entries are keyed under.
    pub key: &'a str,
    /// The variables as they were when the state was entered.
    pub vars: &'a Variables,
}

impl Visit<'_> {
    /// What the state's paths read: `$` is `input`, `$$` is `context`, `$name` a variable.
    pub fn sources<'b>(&'b self, input: &'b Value, context: &'b Value) -> Sources<'b> {
        Sources::new(input, context, self.vars)
    }
}

/// What a state that did not fail produced.
pub(crate) struct Done {
    pub output: Value,
    pub next: Option<String>,
    pub assigned: Option<Map<String, Value>>,
}

/// Computes a state's assignments (with `$` the value its state type gives `Assign`) and
/// checks them against the limits; they are stored once the step is over.
pub(crate) fn assignments(
    assign: Option<&Assign>,
    sources: &Sources,
) -> Result<Option<Map<String, Value>>, StatesError> {
    let Some(assign) = assign.filter(|a| !a.is_empty()) else {
        return Ok(None);
    };
    let values = assign.evaluate(sources)?;
    sources.variables.check(&values)?;
    Ok(Some(values))
}

/// Runs a machine (the execution, a branch or an iteration) to its end, in the variable
/// scope `variables`. Returns the output and the id of the last event written in this
/// scope.
pub(crate) fn run_machine(
    run: Arc<ExecutionRun>,
    machine: Arc<StateMachine>,
    input: Value,
    scope: String,
    previous: i64,
    variables: Variables,
) -> BoxFuture<Result<(Value, i64), StatesError>> {
    Box::pin(async move {
        let mut current = machine.start_at.clone();
        let mut data = input;
        let mut previous = previous;
        let mut variables = variables;
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
                    let mut outcome =
                        run_state(&run, &state, data, &key, previous, &variables).await;
                    let events = std::mem::take(&mut outcome.pending_events);
                    let name = state.name.clone();
                    let locate = is_instant(&state) && !outcome.declared_failure;
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
            if let Some(assigned) = outcome.assigned {
                variables.apply(assigned);
            }
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
    vars: &Variables,
) -> StepOutcome {
    let entered = run.env.clock.now();
    let entered_key = format!("{key}/entered");
    let event = history::event(
        &format!("{}StateEntered", state.kind.event_prefix()),
        entered,
        previous,
        Some(state_entered(&state.name, &raw)),
    );
    let visit = Visit {
        run,
        state,
        raw: &raw,
        key,
        vars,
    };
    if is_instant(state) {
        // Nothing can be observed between entering and leaving: one transaction will do.
        // (Its error names the entered event once that has an id, in `run_machine`.)
        let mut outcome = state_body(&visit, previous, entered).await;
        outcome.pending_events.insert(0, (entered_key, event));
        return outcome;
    }
    match run.append(&entered_key, &event) {
        Ok(entered_id) => {
            let mut outcome = state_body(&visit, entered_id, entered).await;
            outcome.result = outcome
                .result
                .map_err(|e| io::locate(e, &state.name, entered_id));
            outcome
        }
        Err(e) => StepOutcome::failed(e, previous),
    }
}

async fn state_body(visit: &Visit<'_>, last: i64, entered: time::OffsetDateTime) -> StepOutcome {
    let (run, state, raw) = (visit.run, visit.state, visit.raw);
    let mut last = last;
    let ctx = run.context(&state.name, entered, 0, None);
    let sources = visit.sources(raw, &ctx);
    if let Err(e) = io::check_size(
        raw,
        run.env.limits.max_payload_bytes,
        &format!("input of state '{}'", state.name),
    ) {
        return StepOutcome::failed(e, last);
    }
    let jsonata = state.language == QueryLanguage::Jsonata;
    let done = match &state.kind {
        StateKind::Pass { .. } if jsonata => query::pass(visit, &ctx),
        StateKind::Pass { result } => basic::pass(visit, &sources, result.as_ref()),
        StateKind::Choice { .. } if jsonata => query::choice(visit, &ctx),
        StateKind::Choice { .. } => basic::choice(visit, &sources),
        StateKind::Wait(wait) if jsonata => query::wait(visit, wait, entered, &ctx).await,
        StateKind::Wait(wait) => basic::wait(visit, &sources, wait, entered).await,
        StateKind::Succeed if jsonata => query::succeed(visit, &ctx),
        StateKind::Succeed => basic::succeed(visit, &sources),
        StateKind::Fail { error, cause } => match basic::fail(visit, &sources, error, cause) {
            Ok(declared) => {
                let mut outcome = StepOutcome::failed(declared, last);
                outcome.declared_failure = true;
                return outcome;
            }
            Err(e) => Err(e),
        },
        StateKind::Task(_) | StateKind::Parallel { .. } | StateKind::Map { .. } => {
            match with_retries(visit, &mut last).await {
                Ok(done) => Ok(done),
                Err(error) => catch(visit, &sources, error),
            }
        }
    };
    let done = done.and_then(|done| {
        io::check_size(
            &done.output,
            run.env.limits.max_payload_bytes,
            &format!("output of state '{}'", state.name),
        )?;
        Ok(done)
    });
    match done {
        Ok(done) => exit(visit, last, done),
        Err(e) => StepOutcome::failed(e, last),
    }
}

/// The first catcher that matches `error` turns it into a transition: its `ResultPath`
/// places the error output in the state's input, and its `Assign` (with `$` the error
/// output) assigns in the scope of the state.
fn catch(visit: &Visit<'_>, sources: &Sources, error: StatesError) -> Result<Done, StatesError> {
    let Some((index, catcher)) = visit
        .state
        .catch
        .iter()
        .enumerate()
        .find(|(_, c)| c.error_equals.iter().any(|p| error.matches(p)))
    else {
        return Err(error);
    };
    let error_output = error.to_catch_output();
    if visit.state.language == QueryLanguage::Jsonata {
        return query::caught(visit, catcher, index, &error_output, sources.context);
    }
    let assigned = assignments(catcher.assign.as_ref(), &sources.with_input(&error_output))?;
    let output = io::result_path(&catcher.result_path, visit.raw, error_output)?;
    Ok(Done {
        output,
        next: Some(catcher.next.clone()),
        assigned,
    })
}

fn exit(visit: &Visit<'_>, last: i64, done: Done) -> StepOutcome {
    let (run, state) = (visit.run, visit.state);
    let event_type = format!("{}StateExited", state.kind.event_prefix());
    let event = history::event(
        &event_type,
        run.env.clock.now(),
        last,
        Some(state_exited(
            &state.name,
            &done.output,
            done.assigned.as_ref(),
        )),
    );
    StepOutcome {
        next: done.next,
        result: Ok(done.output),
        last_event: last,
        pending_events: vec![(format!("{}/exited", visit.key), event)],
        assigned: done.assigned,
        declared_failure: false,
    }
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
/// applies. Returns the state's output (after ResultSelector, ResultPath, OutputPath) and
/// its assignments, whose `$` is the task's or the branches' raw result (`Assign` is
/// evaluated alongside `ResultSelector`, from the same result).
async fn with_retries(visit: &Visit<'_>, last: &mut i64) -> Result<Done, StatesError> {
    let (run, state, raw, key) = (visit.run, visit.state, visit.raw, visit.key);
    let mut counts = vec![0u32; state.retry.len()];
    let mut attempt = 0u32;
    loop {
        let entered = run.env.clock.now();
        let result = match &state.kind {
            StateKind::Task(spec) => task::attempt(visit, spec, attempt, last).await,
            StateKind::Parallel { branches } => parallel(visit, branches, attempt, last).await,
            StateKind::Map { .. } => map(visit, attempt, last).await,
            _ => Err(StatesError::runtime(
                "only Task, Parallel and Map states retry",
            )),
        }
        .and_then(|result| {
            let ctx = run.context(&state.name, entered, attempt, None);
            if state.language == QueryLanguage::Jsonata {
                return query::with_result(visit, &result, &ctx);
            }
            // Kept for `Assign` only when there is one, so a state without variables copies
            // nothing.
            let kept = state.assign.is_some().then(|| result.clone());
            let selected = match &state.result_selector {
                Some(selector) => selector.evaluate(&visit.sources(&result, &ctx))?,
                None => result,
            };
            let combined = io::result_path(&state.result_path, raw, selected)?;
            let output = io::output_path(&state.output_path, &visit.sources(&combined, &ctx))?;
            let assigned = match &kept {
                Some(result) => assignments(state.assign.as_ref(), &visit.sources(result, &ctx))?,
                None => None,
            };
            Ok(Done {
                output,
                next: state.next.clone(),
                assigned,
            })
        });
        let error = match result {
            Ok(done) => return Ok(done),
            Err(e) => e,
        };
        // `counts` has one attempt counter per retrier.
        let Some((retrier, count)) = state
            .retry
            .iter()
            .zip(counts.iter_mut())
            .find(|(r, _)| r.error_equals.iter().any(|p| error.matches(p)))
        else {
            return Err(error);
        };
        if *count >= retrier.max_attempts {
            return Err(error);
        }
        let delay = retry_delay(retrier, *count);
        *count += 1;
        let now = run.env.clock.now();
        let deadline =
            run.journaled_deadline(&format!("{key}/retry{attempt}"), || after(now, delay))?;
        run.wait_until(key, deadline).await;
        attempt += 1;
    }
}

/// A Parallel state's branch input: `InputPath`, then `Parameters` (`Arguments` for a
/// JSONata state).
pub(crate) fn effective_parameters(visit: &Visit<'_>, attempt: u32) -> Result<Value, StatesError> {
    let (run, state) = (visit.run, visit.state);
    let ctx = run.context(&state.name, run.env.clock.now(), attempt, None);
    if state.language == QueryLanguage::Jsonata {
        return query::arguments(visit, &ctx);
    }
    let effective = io::input_path(&state.input_path, &visit.sources(visit.raw, &ctx))?;
    match &state.parameters {
        Some(p) => p.evaluate(&visit.sources(&effective, &ctx)),
        None => Ok(effective),
    }
}
