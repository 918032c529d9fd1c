//! Long waits park the execution (its task is dropped and started again when the wait is
//! over): the execution goes on exactly as if it had slept — same attempts, same back-off,
//! same history — and a stop while parked ends it. Time is tokio's paused clock, so the
//! minutes these runs wait pass at once.

use crate::common::{flaky_count, history};
use engine::{Engine, EngineConfig, ExecutionStatus};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// An engine whose `count` function fails with `Flaky` on its first `fail_first` calls.
async fn open(root: &Path, calls: Arc<AtomicUsize>, fail_first: usize) -> Engine {
    let config = EngineConfig::new(Some(root.join("db.sqlite")), root.join("data"))
        .with_function("count", flaky_count(calls, fail_first));
    Engine::open(config).await.unwrap()
}

async fn start(engine: &Engine, definition: Value, input: &str) -> String {
    let arn = engine
        .create_state_machine("parking", &definition.to_string(), &BTreeMap::new())
        .unwrap();
    engine
        .start_execution(&arn, Some("run"), Some(input))
        .unwrap()
        .execution_arn
}

fn types(engine: &Engine, execution: &str) -> Vec<String> {
    let events = history(engine, execution);
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(
        ids,
        (1..=ids.len() as i64).collect::<Vec<_>>(),
        "history ids are 1, 2, 3, … with no event written twice"
    );
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

/// Advances the paused clock in small steps until `done` holds (or a virtual hour passes).
async fn until(mut done: impl FnMut() -> bool) {
    for _ in 0..360_000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never happened");
}

const RETRIED: &str = "arn:aws:lambda:local:000000000000:function:count";

#[tokio::test(start_paused = true)]
async fn a_long_back_off_parks_and_the_retries_go_on_as_the_definition_says() {
    let root = tempfile::tempdir().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let engine = open(root.path(), Arc::clone(&calls), 2).await;
    let definition = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": RETRIED,
        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 30, "MaxAttempts": 2, "BackoffRate": 2.0}],
        "End": true}}});
    let began = tokio::time::Instant::now();
    let execution = start(&engine, definition, r#"{"x": 1}"#).await;

    until(|| calls.load(Ordering::SeqCst) == 1).await;
    until(|| engine.parked_executions() == 1).await;
    // Parked for the first back-off (30 s), then the second (60 s).
    until(|| calls.load(Ordering::SeqCst) == 2).await;
    assert!(began.elapsed() >= Duration::from_secs(30));
    until(|| engine.parked_executions() == 1).await;
    let done = engine.wait_for_execution(&execution).await.unwrap();
    assert!(
        began.elapsed() >= Duration::from_secs(90),
        "{:?}",
        began.elapsed()
    );
    assert!(
        began.elapsed() < Duration::from_secs(95),
        "{:?}",
        began.elapsed()
    );

    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    let output: Value = serde_json::from_str(done.output.as_deref().unwrap()).unwrap();
    assert_eq!(output, json!({"seen": {"x": 1}}));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(engine.parked_executions(), 0);
    let attempt = ["LambdaFunctionScheduled", "LambdaFunctionStarted"];
    let mut expected = vec!["ExecutionStarted", "TaskStateEntered"];
    for _ in 0..2 {
        expected.extend(attempt);
        expected.push("LambdaFunctionFailed");
    }
    expected.extend(attempt);
    expected.extend([
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]);
    assert_eq!(types(&engine, &execution), expected);
}

#[tokio::test(start_paused = true)]
async fn a_parked_execution_still_stops_after_max_attempts() {
    let root = tempfile::tempdir().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let engine = open(root.path(), Arc::clone(&calls), usize::MAX).await;
    let definition = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": RETRIED,
        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 15, "MaxAttempts": 3}],
        "End": true}}});
    let execution = start(&engine, definition, "{}").await;
    let done = engine.wait_for_execution(&execution).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Failed, "{done:?}");
    assert_eq!(done.error.as_deref(), Some("Flaky"));
    // The first attempt and three retries: counting did not start over at each wake-up.
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[tokio::test(start_paused = true)]
async fn a_long_wait_parks_but_a_short_one_or_one_in_a_branch_sleeps() {
    let root = tempfile::tempdir().unwrap();
    let engine = open(root.path(), Arc::new(AtomicUsize::new(0)), 0).await;
    let definition = json!({"StartAt": "Short", "States": {
        "Short": {"Type": "Wait", "Seconds": 5, "Next": "Branch"},
        "Branch": {"Type": "Parallel", "ResultPath": null, "Next": "Long", "Branches": [
            {"StartAt": "Inside", "States": {"Inside": {"Type": "Wait", "Seconds": 60, "End": true}}}]},
        "Long": {"Type": "Wait", "Seconds": 600, "End": true}}});
    let began = tokio::time::Instant::now();
    let execution = start(&engine, definition, r#"{"kept": true}"#).await;
    let mut parked_at = Vec::new();
    until(|| {
        if engine.parked_executions() > 0 {
            parked_at.push(began.elapsed());
        }
        engine.describe_execution(&execution).unwrap().status != ExecutionStatus::Running
    })
    .await;
    let done = engine.describe_execution(&execution).unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    let output: Value = serde_json::from_str(done.output.as_deref().unwrap()).unwrap();
    assert_eq!(output, json!({"kept": true}));
    // Parked only in the ten-minute wait, which began after 5 + 60 seconds.
    let first = parked_at.first().copied().expect("the long wait parked");
    assert!(first >= Duration::from_secs(65), "parked at {first:?}");
    assert!(began.elapsed() >= Duration::from_secs(665));
    assert_eq!(
        types(&engine, &execution),
        [
            "ExecutionStarted",
            "WaitStateEntered",
            "WaitStateExited",
            "ParallelStateEntered",
            "ParallelStateStarted",
            "WaitStateEntered",
            "WaitStateExited",
            "ParallelStateSucceeded",
            "ParallelStateExited",
            "WaitStateEntered",
            "WaitStateExited",
            "ExecutionSucceeded",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn stopping_a_parked_execution_ends_it_and_it_never_wakes() {
    let root = tempfile::tempdir().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let engine = open(root.path(), Arc::clone(&calls), usize::MAX).await;
    let definition = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": RETRIED,
        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 60, "MaxAttempts": 5}],
        "End": true}}});
    let execution = start(&engine, definition, "{}").await;
    until(|| engine.parked_executions() == 1).await;
    engine
        .stop_execution(&execution, Some("Operator"), Some("stopped while parked"))
        .await
        .unwrap();
    let done = engine.wait_for_execution(&execution).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Aborted, "{done:?}");
    assert_eq!(engine.parked_executions(), 0);
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "a stopped execution called again"
    );
}
