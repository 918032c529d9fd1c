//! Restart in the middle of Parallel branches, Map iterations and retry back-offs. The
//! engine is stopped with `shutdown` (its tasks are dropped at their next await, like a
//! killed process: everything acknowledged is already in SQLite) and a second engine
//! opens the same file.

use crate::common::{flaky_count, history};
use engine::{handler, Engine, EngineConfig, ExecutionStatus};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

async fn open(root: &Path, calls: Arc<AtomicUsize>, fail_first: usize) -> Engine {
    // Registered before open: the executions it resumes may call them straight away.
    let config = EngineConfig::new(Some(root.join("db.sqlite")), root.join("data"))
        .with_function("count", flaky_count(calls, fail_first))
        .with_function("notify", handler(|_req| Ok(json!({}))));
    Engine::open(config).await.unwrap()
}

fn assert_no_duplicate_keys(events: &[Value]) {
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as i64).collect::<Vec<_>>());
    let closing = events
        .iter()
        .filter(|e| e["type"].as_str().unwrap().starts_with("Execution"))
        .count();
    assert_eq!(closing, 2, "{events:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_and_map_resume_where_they_stopped() {
    let root = tempfile::tempdir().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let definition = json!({"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "Each", "States": {"Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "End": true,
            "ItemProcessor": {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "arn:aws:lambda:local:000000000000:function:count", "End": true}}}}}},
        {"StartAt": "Approve", "States": {"Approve": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}}, "End": true}}}
    ]}}});

    let first = open(root.path(), calls.clone(), 0).await;
    let arn = first
        .create_state_machine("replay", &definition.to_string(), &BTreeMap::new())
        .unwrap();
    let exec = first
        .start_execution(&arn, Some("p"), Some(r#"{"items": [1, 2, 3]}"#))
        .unwrap()
        .execution_arn;
    // Wait until the map branch is done and the approval waits.
    let token = loop {
        let pending = first.pending_callbacks().unwrap();
        let map_done = history(&first, &exec)
            .iter()
            .any(|e| e["type"] == "MapStateExited");
        if map_done && !pending.is_empty() {
            break pending[0].1.token.clone().unwrap();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let before = history(&first, &exec).len();
    first.shutdown();
    drop(first);

    let second = open(root.path(), calls.clone(), 0).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Replay wrote nothing new and called nothing again.
    assert_eq!(history(&second, &exec).len(), before);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    second.send_task_success(&token, r#"{"ok": true}"#).unwrap();
    let done = second.wait_for_execution(&exec).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    let output: Value = serde_json::from_str(done.output.as_deref().unwrap()).unwrap();
    assert_eq!(
        output,
        json!([[{"seen": 1}, {"seen": 2}, {"seen": 3}], {"ok": true}])
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_no_duplicate_keys(&history(&second, &exec));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_back_off_survives_a_restart_without_extra_attempts() {
    let root = tempfile::tempdir().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let definition = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:local:000000000000:function:count",
        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2, "MaxAttempts": 1}], "End": true}}});
    let first = open(root.path(), calls.clone(), 1).await;
    let arn = first
        .create_state_machine("retry", &definition.to_string(), &BTreeMap::new())
        .unwrap();
    let exec = first
        .start_execution(&arn, Some("r"), Some(r#"{"x": 1}"#))
        .unwrap()
        .execution_arn;
    while calls.load(Ordering::SeqCst) < 1 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    first.shutdown();
    drop(first);

    let started = std::time::Instant::now();
    let second = open(root.path(), calls.clone(), 1).await;
    let done = second.wait_for_execution(&exec).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    // The failed first attempt was not repeated; the back-off kept its original end.
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_millis(1950),
        "the back-off started again: {waited:?}"
    );
    let events = history(&second, &exec);
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        vec![
            "ExecutionStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionFailed",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_no_duplicate_keys(&events);
}

/// A branch that fails cancels its siblings; a sibling's pending callback then refuses
/// decisions as Step Functions does for a stopped task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_branches_refuse_decisions() {
    let root = tempfile::tempdir().unwrap();
    let engine = open(root.path(), Arc::new(AtomicUsize::new(0)), 0).await;
    // The Parallel's failure is caught, so the execution keeps running (in Hold).
    let definition = json!({"StartAt": "Both", "States": {
        "Both": {"Type": "Parallel", "Next": "Hold", "Catch": [{"ErrorEquals": ["Boom"], "Next": "Hold"}], "Branches": [
            {"StartAt": "Approve", "States": {"Approve": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}}, "End": true}}},
            {"StartAt": "Later", "States": {"Later": {"Type": "Wait", "Seconds": 1, "Next": "Boom"},
                "Boom": {"Type": "Fail", "Error": "Boom", "Cause": "sibling failed"}}}
        ]},
        "Hold": {"Type": "Wait", "Seconds": 3600, "End": true}}});
    let arn = engine
        .create_state_machine("cancel", &definition.to_string(), &BTreeMap::new())
        .unwrap();
    let exec = engine
        .start_execution(&arn, Some("c"), None)
        .unwrap()
        .execution_arn;
    let token = loop {
        if let Some((_, callback)) = engine.pending_callbacks().unwrap().into_iter().next() {
            break callback.token.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    while !history(&engine, &exec)
        .iter()
        .any(|e| e["type"] == "WaitStateEntered" && e["stateEnteredEventDetails"]["name"] == "Hold")
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        engine.describe_execution(&exec).unwrap().status,
        ExecutionStatus::Running
    );
    let refused = engine.send_task_success(&token, "{}").unwrap_err();
    assert!(refused.to_string().starts_with("TaskTimedOut"), "{refused}");
    engine.stop_execution(&exec, None, None).await.unwrap();
}
