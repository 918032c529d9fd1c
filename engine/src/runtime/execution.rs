//! One execution from start (or resumption) to its closing event: the definition-level
//! `TimeoutSeconds`, then SUCCEEDED, FAILED or TIMED_OUT written with its event.

use crate::asl::definition::StateMachine;
use crate::asl::variables::Variables;
use crate::clock::epoch_millis;
use crate::error::{names, StatesError};
use crate::runtime::runner::run_machine;
use crate::runtime::{history, ExecutionRun};
use crate::store::Closing;
use serde_json::json;
use std::sync::Arc;

/// Runs the execution and closes it in the store. A storage failure while closing leaves
/// it RUNNING: the next engine on the file resumes and closes it.
pub(crate) async fn run_to_completion(run: &Arc<ExecutionRun>, machine: Arc<StateMachine>) {
    let env = run.env.clone();
    let deadline = machine
        .timeout_seconds
        .map(|t| crate::clock::after(run.start, std::time::Duration::from_secs(t)));
    let work = run_machine(
        run.clone(),
        machine,
        run.input.clone(),
        String::new(),
        1,
        Variables::new(),
    );
    let result = match deadline {
        Some(deadline) => tokio::select! {
            r = work => Some(r),
            _ = env.clock.sleep_until(deadline) => None,
        },
        None => Some(work.await),
    };
    let now = env.clock.now();
    let last = env.store.event_count(&run.arn).unwrap_or(0);
    let (status, output, error) = match &result {
        Some(Ok((output, _))) => ("SUCCEEDED", Some(output.to_string()), None),
        Some(Err(e)) => ("FAILED", None, Some(e.clone())),
        None => (
            "TIMED_OUT",
            None,
            Some(StatesError::new(
                names::TIMEOUT,
                "The execution ran longer than its TimeoutSeconds.",
            )),
        ),
    };
    let event = match (status, &output, &error) {
        ("SUCCEEDED", Some(out), _) => history::event(
            "ExecutionSucceeded",
            now,
            last,
            Some(json!({"output": out, "outputDetails": {"truncated": false}})),
        ),
        ("TIMED_OUT", _, Some(e)) => history::event(
            "ExecutionTimedOut",
            now,
            last,
            Some(history::error_details(&e.error, &e.cause)),
        ),
        (_, _, Some(e)) => history::event(
            "ExecutionFailed",
            now,
            last,
            Some(history::error_details(&e.error, &e.cause)),
        ),
        _ => history::event("ExecutionFailed", now, last, None),
    };
    let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let err_text = error.as_ref().and_then(|e| nonempty(&e.error));
    let cause_text = error.as_ref().and_then(|e| nonempty(&e.cause));
    let closing = Closing {
        status,
        output: output.as_deref(),
        error: err_text.as_deref(),
        cause: cause_text.as_deref(),
        stop_ms: epoch_millis(now),
        event_key: "end",
        event,
    };
    let _ = env.store.close_execution(&run.arn, &closing);
}
