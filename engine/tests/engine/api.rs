//! The execution API, compared with the Step Functions API reference.

use engine::{Engine, EngineConfig, ExecutionStatus, HistoryRequest, ListExecutionsRequest};
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
    assert!(engine
        .start_execution(
            "arn:aws:states:local:000000000000:stateMachine:none",
            None,
            None
        )
        .is_err());
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

// The dashboard's "waiting for a decision" comes from the task tokens the engine keeps
// open. Checked against two independent sources: the tokens the waiting tasks handed to
// their function, and the callbacks a reader of each execution's history finds
// (https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token:
// a task waits until SendTaskSuccess/SendTaskFailure with its token, or the execution ends).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_callbacks_follow_tokens_opening_and_closing() {
    let root = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::new(
        Some(root.path().join("db.sqlite")),
        root.path().join("data"),
    ))
    .await
    .unwrap();
    let handed: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>> = Default::default();
    let seen = handed.clone();
    engine.register_function(
        "ask",
        engine::handler(move |req| {
            let token = req.payload["token"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let branch = req.payload["branch"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            seen.lock().unwrap().push((branch, token));
            Ok(json!({}))
        }),
    );
    let ask = |state: &str| {
        json!({"StartAt": state, "States": {state: {"Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "ask", "Payload": {"token.$": "$$.Task.Token", "branch": state}},
            "End": true}}})
    };
    let definition = json!({"StartAt": "Both", "States": {"Both": {"Type": "Parallel",
        "Branches": [ask("Left"), ask("Right")], "End": true}}});
    let arn = engine
        .create_state_machine("ask", &definition.to_string(), &BTreeMap::new())
        .unwrap();
    let mut runs = Vec::new();
    for i in 0..3 {
        runs.push(
            engine
                .start_execution(&arn, Some(&format!("run-{i}")), None)
                .unwrap()
                .execution_arn,
        );
    }
    for _ in 0..500 {
        if handed.lock().unwrap().len() == 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let handed_out: std::collections::BTreeSet<(String, String)> =
        handed.lock().unwrap().iter().cloned().collect();
    assert_eq!(
        handed_out.len(),
        6,
        "two waiting tasks in each of three runs"
    );
    // The TaskSubmitted event follows the function's answer; wait for the histories.
    for _ in 0..500 {
        let all_submitted = runs.iter().all(|run| {
            let events = engine
                .get_execution_history(run, &HistoryRequest::default())
                .unwrap()
                .events;
            events
                .iter()
                .filter(|e| e["type"] == "TaskSubmitted")
                .count()
                == 2
        });
        if all_submitted {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    let pending = |engine: &Engine| -> std::collections::BTreeSet<(String, String)> {
        engine
            .pending_callbacks()
            .unwrap()
            .into_iter()
            .map(|(_, c)| (c.state_name, c.token.unwrap()))
            .collect()
    };
    assert_eq!(pending(&engine), handed_out);
    for run in &runs {
        let events = engine
            .get_execution_history(run, &HistoryRequest::default())
            .unwrap()
            .events;
        let from_history: Vec<_> = engine::pending_callbacks(&events);
        let from_index = engine.pending_callbacks_of(run).unwrap();
        assert_eq!(from_index, from_history, "{run}");
    }

    // A decision closes its callback at once; the sibling branch still waits.
    let first_run = engine
        .get_execution_history(&runs[0], &HistoryRequest::default())
        .unwrap()
        .events;
    let decided = engine::pending_callbacks(&first_run)[0]
        .token
        .clone()
        .unwrap();
    engine.send_task_success(&decided, "{}").unwrap();
    let after = pending(&engine);
    assert_eq!(after.len(), 5);
    assert!(after.iter().all(|(_, token)| token != &decided));
    assert_eq!(engine.pending_callbacks_of(&runs[0]).unwrap().len(), 1);
    // A run that is stopped has nothing left to decide.
    engine.stop_execution(&runs[2], None, None).await.unwrap();
    assert!(engine.pending_callbacks_of(&runs[2]).unwrap().is_empty());
    let left = engine.pending_callbacks().unwrap();
    assert_eq!(left.len(), 3);
    assert!(left.iter().all(|(e, _)| e.execution_arn != runs[2]));
}
