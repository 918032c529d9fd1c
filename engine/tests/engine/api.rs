//! The execution API, compared with the Step Functions API reference.

use engine::{
    Engine, EngineConfig, EngineError, ExecutionStatus, HistoryRequest, ListExecutionsRequest,
};
use serde_json::json;
use std::collections::BTreeMap;

async fn engine_with_machine(definition: serde_json::Value) -> (Engine, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::new(None, dir.path().join("data")))
        .await
        .unwrap();
    let arn = engine
        .create_state_machine("api", &definition.to_string(), &BTreeMap::new())
        .unwrap();
    (engine, arn, dir)
}

fn waiting() -> serde_json::Value {
    json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100000, "End": true}}})
}

// https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
// (idempotent for the same name and input while running; otherwise ExecutionAlreadyExists)
#[tokio::test]
async fn start_execution_names_behave_as_aws() {
    let (engine, arn, _dir) = engine_with_machine(waiting()).await;
    let first = engine
        .start_execution(&arn, Some("run-1"), Some(r#"{"a": 1}"#))
        .unwrap();
    let again = engine
        .start_execution(&arn, Some("run-1"), Some(r#"{"a":1}"#))
        .unwrap();
    assert_eq!(first, again);
    let err = engine
        .start_execution(&arn, Some("run-1"), Some(r#"{"a": 2}"#))
        .unwrap_err();
    assert!(
        err.to_string().starts_with("ExecutionAlreadyExists"),
        "{err}"
    );
    assert!(engine
        .start_execution(&arn, Some("bad name"), None)
        .unwrap_err()
        .to_string()
        .starts_with("InvalidName"));
    assert!(engine
        .start_execution(&arn, None, Some("{nope"))
        .unwrap_err()
        .to_string()
        .starts_with("InvalidExecutionInput"));
    // StartExecution's error for an unknown state machine
    // (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
    assert!(matches!(
        engine.start_execution(
            "arn:aws:states:local:000000000000:stateMachine:none",
            None,
            None
        ),
        Err(EngineError::StateMachineDoesNotExist(_))
    ));
    engine
        .stop_execution(&first.execution_arn, Some("Stopped"), Some("by test"))
        .await
        .unwrap();
    let closed = engine
        .start_execution(&arn, Some("run-1"), Some(r#"{"a": 1}"#))
        .unwrap_err();
    assert!(closed.to_string().starts_with("ExecutionAlreadyExists"));
}

// https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html
// (statusFilter, maxResults + nextToken, newest first)
#[tokio::test]
async fn list_executions_filters_and_paginates_newest_first() {
    let (engine, arn, _dir) = engine_with_machine(waiting()).await;
    for i in 0..5 {
        engine
            .start_execution(&arn, Some(&format!("e{i}")), None)
            .unwrap();
    }
    let stopped = format!("{}:e1", arn.replace(":stateMachine:", ":execution:"));
    engine.stop_execution(&stopped, None, None).await.unwrap();
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let page = engine
            .list_executions(&ListExecutionsRequest {
                state_machine_arn: Some(arn.clone()),
                max_results: Some(2),
                next_token: token,
                ..Default::default()
            })
            .unwrap();
        assert!(page.executions.len() <= 2);
        names.extend(page.executions.into_iter().map(|e| e.name));
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(names, vec!["e4", "e3", "e2", "e1", "e0"]);
    let aborted = engine
        .list_executions(&ListExecutionsRequest {
            status_filter: Some(ExecutionStatus::Aborted),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        aborted
            .executions
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>(),
        vec!["e1"]
    );
}

// https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html and
// https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html
#[tokio::test]
async fn stop_and_history() {
    let (engine, arn, _dir) = engine_with_machine(waiting()).await;
    let exec = engine
        .start_execution(&arn, Some("s"), Some(r#"{"x": 1}"#))
        .unwrap()
        .execution_arn;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    engine
        .stop_execution(&exec, Some("Operator"), Some("no longer needed"))
        .await
        .unwrap();
    let d = engine.describe_execution(&exec).unwrap();
    assert_eq!(d.status, ExecutionStatus::Aborted);
    assert!(d.stop_date.is_some());
    let events = engine
        .get_execution_history(&exec, &HistoryRequest::default())
        .unwrap()
        .events;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        vec!["ExecutionStarted", "WaitStateEntered", "ExecutionAborted"]
    );
    assert_eq!(
        events[0]["executionStartedEventDetails"]["input"],
        r#"{"x":1}"#
    );
    assert_eq!(events[1]["stateEnteredEventDetails"]["name"], "W");
    assert_eq!(
        events[2]["executionAbortedEventDetails"],
        json!({"error": "Operator", "cause": "no longer needed"})
    );
    assert_eq!(events[1]["previousEventId"], 1);
    let reversed = engine
        .get_execution_history(
            &exec,
            &HistoryRequest {
                reverse_order: true,
                max_results: Some(2),
                next_token: None,
            },
        )
        .unwrap();
    assert_eq!(reversed.events[0]["type"], "ExecutionAborted");
    let rest = engine
        .get_execution_history(
            &exec,
            &HistoryRequest {
                reverse_order: true,
                max_results: Some(2),
                next_token: reversed.next_token,
            },
        )
        .unwrap();
    assert_eq!(rest.events.len(), 1);
    assert_eq!(rest.events[0]["type"], "ExecutionStarted");
}

/// Two engines on one file would both resume, and run, the same executions.
#[tokio::test]
async fn one_engine_per_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = EngineConfig::new(Some(dir.path().join("db.sqlite")), dir.path().join("data"));
    let first = Engine::open(config.clone()).await.unwrap();
    let second = Engine::open(config.clone())
        .await
        .err()
        .expect("a second engine must be refused");
    assert!(
        second.to_string().contains("in use by another engine"),
        "{second}"
    );
    first.shutdown();
    Engine::open(config).await.unwrap();
}
