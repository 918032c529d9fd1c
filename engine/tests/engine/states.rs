//! The interpreter against the examples of AWS's Step Functions developer guide: each
//! test names the page its definition and expected values come from. Its helpers that run
//! a definition serve the other modules' tests too.

use engine::{
    handler, Engine, EngineConfig, ExecutionDescription, ExecutionStatus, FunctionError,
    HistoryRequest, Limits,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

pub(crate) async fn engine() -> (Engine, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::new(None, dir.path().join("data")))
        .await
        .unwrap();
    (engine, dir)
}

pub(crate) async fn run_on(
    engine: &Engine,
    definition: Value,
    input: Value,
) -> ExecutionDescription {
    let arn = engine
        .create_state_machine("test", &definition.to_string(), &BTreeMap::new())
        .unwrap();
    let started = engine
        .start_execution(&arn, None, Some(&input.to_string()))
        .unwrap();
    engine
        .wait_for_execution(&started.execution_arn)
        .await
        .unwrap()
}

pub(crate) async fn run(definition: Value, input: Value) -> ExecutionDescription {
    let (engine, _dir) = engine().await;
    run_on(&engine, definition, input).await
}

pub(crate) fn output(d: &ExecutionDescription) -> Value {
    assert_eq!(d.status, ExecutionStatus::Succeeded, "{d:?}");
    serde_json::from_str(d.output.as_deref().unwrap()).unwrap()
}

fn types(engine: &Engine, arn: &str) -> Vec<String> {
    engine
        .get_execution_history(arn, &HistoryRequest::default())
        .unwrap()
        .events
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-pass.html
// ("Pass state example": Result placed at ResultPath $.coords)
#[tokio::test]
async fn pass_state_example() {
    let (engine, _dir) = engine().await;
    let d = run_on(
        &engine,
        json!({"StartAt": "No-op", "States": {"No-op": {"Type": "Pass",
            "Result": {"x-datum": 0.381018, "y-datum": 622.2269926397355},
            "ResultPath": "$.coords", "End": true}}}),
        json!({"georefOf": "Home"}),
    )
    .await;
    assert_eq!(
        output(&d),
        json!({"georefOf": "Home", "coords": {"x-datum": 0.381018, "y-datum": 622.2269926397355}})
    );
    // https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html
    let events = engine
        .get_execution_history(&d.execution_arn, &HistoryRequest::default())
        .unwrap()
        .events;
    let chain: Vec<(String, i64, i64)> = events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["id"].as_i64().unwrap(),
                e["previousEventId"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        chain,
        vec![
            ("ExecutionStarted".to_string(), 1, 0),
            ("PassStateEntered".to_string(), 2, 1),
            ("PassStateExited".to_string(), 3, 2),
            ("ExecutionSucceeded".to_string(), 4, 3)
        ]
    );
}

// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html
// (Parameters with "$.product.details.size" → MyDetails) and
// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html ($$ fields)
#[tokio::test]
async fn parameters_and_context_object() {
    let d = run(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$.product",
            "Parameters": {"MyDetails": {"size.$": "$.details.size", "exists.$": "$.availability", "StaticValue": "foo"},
                           "MyStateName.$": "$$.State.Name", "ExecutionName.$": "$$.Execution.Name",
                           "Input.$": "$$.Execution.Input.comment", "Machine.$": "$$.StateMachine.Name"},
            "End": true}}}),
        json!({"comment": "Example for Parameters.", "product": {"details": {"color": "blue", "size": "small", "material": "cotton"}, "availability": "in stock", "sku": "2317", "cost": "$23"}}),
    )
    .await;
    let out = output(&d);
    assert_eq!(
        out["MyDetails"],
        json!({"size": "small", "exists": "in stock", "StaticValue": "foo"})
    );
    assert_eq!(out["MyStateName"], "P");
    assert_eq!(out["ExecutionName"], json!(d.name));
    assert_eq!(out["Input"], "Example for Parameters.");
    assert_eq!(out["Machine"], "test");
}

// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-example.html
// (InputPath, ResultPath and OutputPath combined)
#[tokio::test]
async fn input_result_and_output_paths_together() {
    let d = run(
        json!({"StartAt": "T", "States": {"T": {"Type": "Pass", "InputPath": "$.lambda", "Result": "Hello, AWS Step Functions!",
            "ResultPath": "$.data.lambdaresult", "OutputPath": "$.data", "End": true}}}),
        json!({"comment": "An input comment.", "data": {"val1": 23, "val2": 17}, "extra": "foo", "lambda": {"who": "AWS Step Functions"}}),
    )
    .await;
    assert_eq!(
        output(&d),
        json!({"val1": 23, "val2": 17, "lambdaresult": "Hello, AWS Step Functions!"})
    );
}

fn choice_machine() -> Value {
    // https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html ("Choice state example")
    json!({"StartAt": "ChoiceStateX", "States": {
        "ChoiceStateX": {"Type": "Choice", "Choices": [
            {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
            {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
            {"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20}, {"Variable": "$.value", "NumericLessThan": 30}], "Next": "ValueInTwenties"}
        ], "Default": "DefaultState"},
        "Public": {"Type": "Pass", "Result": "Public", "End": true},
        "ValueIsZero": {"Type": "Pass", "Result": "ValueIsZero", "End": true},
        "ValueInTwenties": {"Type": "Pass", "Result": "ValueInTwenties", "End": true},
        "DefaultState": {"Type": "Fail", "Error": "DefaultStateError", "Cause": "No Matches!"}
    }})
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html
#[tokio::test]
async fn choice_state_example_routes_each_input() {
    let (engine, _dir) = engine().await;
    for (input, expected) in [
        (json!({"type": "Public", "value": 0}), "Public"),
        (json!({"type": "Private", "value": 0}), "ValueIsZero"),
        (json!({"type": "Private", "value": 25}), "ValueInTwenties"),
    ] {
        let d = run_on(&engine, choice_machine(), input).await;
        assert_eq!(output(&d), json!(expected));
    }
    let d = run_on(
        &engine,
        choice_machine(),
        json!({"type": "Private", "value": 31}),
    )
    .await;
    assert_eq!(d.status, ExecutionStatus::Failed);
    assert_eq!(
        (d.error.as_deref(), d.cause.as_deref()),
        (Some("DefaultStateError"), Some("No Matches!"))
    );
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html
// (without a Default, no match is States.NoChoiceMatched)
#[tokio::test]
async fn choice_without_default_fails_with_no_choice_matched() {
    let d = run(
        json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [{"Variable": "$.v", "BooleanEquals": true, "Next": "Y"}]},
            "Y": {"Type": "Succeed"}}}),
        json!({"v": false}),
    )
    .await;
    assert_eq!(d.error.as_deref(), Some("States.NoChoiceMatched"));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html
// (Seconds 10, Timestamp "2016-03-14T01:59:00Z", SecondsPath "$.expiryseconds", TimestampPath "$.expirydate")
#[tokio::test(start_paused = true)]
async fn wait_state_forms() {
    let (engine, _dir) = engine().await;
    let start = tokio::time::Instant::now();
    let d = run_on(&engine, json!({"StartAt": "wait_ten_seconds", "States": {"wait_ten_seconds": {"Type": "Wait", "Seconds": 10, "End": true}}}), json!({"a": 1})).await;
    assert_eq!(output(&d), json!({"a": 1}));
    assert!(start.elapsed() >= std::time::Duration::from_secs(10));

    let before = tokio::time::Instant::now();
    let d = run_on(&engine, json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.expiryseconds", "End": true}}}), json!({"expiryseconds": 3600})).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    assert!(before.elapsed() >= std::time::Duration::from_secs(3600));

    // A timestamp in the past does not wait.
    let d = run_on(&engine, json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Timestamp": "2016-03-14T01:59:00Z", "End": true}}}), json!({})).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    let d = run_on(&engine, json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "TimestampPath": "$.expirydate", "End": true}}}), json!({"expirydate": "2016-03-14T01:59:00Z"})).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    let d = run_on(&engine, json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "TimestampPath": "$.expirydate", "End": true}}}), json!({"expirydate": "soon"})).await;
    assert_eq!(d.error.as_deref(), Some("States.Runtime"));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-fail.html
// (Error "ErrorA", Cause "Kaiju attack"; ErrorPath/CausePath)
#[tokio::test]
async fn fail_state_with_literals_and_paths() {
    let d = run(json!({"StartAt": "FailState", "States": {"FailState": {"Type": "Fail", "Error": "ErrorA", "Cause": "Kaiju attack"}}}), json!({})).await;
    assert_eq!(
        (d.status, d.error.as_deref(), d.cause.as_deref()),
        (
            ExecutionStatus::Failed,
            Some("ErrorA"),
            Some("Kaiju attack")
        )
    );
    let d = run(
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('code {}', $.c)"}}}),
        json!({"e": "Custom", "c": 7}),
    )
    .await;
    assert_eq!(
        (d.error.as_deref(), d.cause.as_deref()),
        (Some("Custom"), Some("code 7"))
    );
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-succeed.html
#[tokio::test]
async fn succeed_state_applies_input_and_output_path() {
    let d = run(json!({"StartAt": "S", "States": {"S": {"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}}}), json!({"a": {"b": 5}})).await;
    assert_eq!(output(&d), json!(5));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html
// (the output of a Parallel state is an array of its branches' outputs, in order)
#[tokio::test]
async fn parallel_outputs_an_array_and_fails_with_its_branch() {
    let (engine, _dir) = engine().await;
    let d = run_on(
        &engine,
        json!({"StartAt": "FunWithMath", "States": {"FunWithMath": {"Type": "Parallel", "Branches": [
            {"StartAt": "Add", "States": {"Add": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($[0], $[1])"}, "OutputPath": "$.sum", "End": true}}},
            {"StartAt": "Subtract", "States": {"Subtract": {"Type": "Pass", "Parameters": {"d.$": "States.MathAdd($[0], -3)"}, "OutputPath": "$.d", "End": true}}}
        ], "End": true}}}),
        json!([3, 2]),
    )
    .await;
    assert_eq!(output(&d), json!([5, 0]));
    let arn = d.execution_arn.clone();
    let t = types(&engine, &arn);
    for e in [
        "ParallelStateEntered",
        "ParallelStateStarted",
        "PassStateEntered",
        "ParallelStateSucceeded",
        "ParallelStateExited",
    ] {
        assert!(t.contains(&e.to_string()), "{e} not in {t:?}");
    }
    let d = run_on(
        &engine,
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [
            {"StartAt": "Ok", "States": {"Ok": {"Type": "Pass", "End": true}}},
            {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Branch.Boom", "Cause": "x"}}}
        ], "Catch": [{"ErrorEquals": ["Branch.Boom"], "ResultPath": "$.err", "Next": "Caught"}], "End": false, "Next": "X"},
        "X": {"Type": "Succeed"}, "Caught": {"Type": "Pass", "End": true}}}),
        json!({"in": 1}),
    )
    .await;
    assert_eq!(
        output(&d),
        json!({"in": 1, "err": {"Error": "Branch.Boom", "Cause": "x"}})
    );
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html
// (the shipping example: ItemsPath $.detail.shipped, ItemSelector with $$.Map.Item.Value,
// ResultPath $.detail.shipped)
#[tokio::test]
async fn inline_map_example() {
    let (engine, _dir) = engine().await;
    let d = run_on(
        &engine,
        json!({"StartAt": "Validate-All", "States": {"Validate-All": {"Type": "Map",
            "InputPath": "$.detail", "ItemsPath": "$.shipped", "MaxConcurrency": 0,
            "ItemSelector": {"parcel.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "courier.$": "$.delivery-partner"},
            "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Validate",
                "States": {"Validate": {"Type": "Pass", "Parameters": {"prod.$": "$.parcel.prod", "courier.$": "$.courier", "i.$": "$.index"}, "End": true}}},
            "ResultPath": "$.detail.shipped", "End": true}}}),
        json!({"ship-date": "2016-03-14T01:59:00Z", "detail": {"delivery-partner": "UQS", "shipped": [
            {"prod": "R31", "dest-code": 9511, "quantity": 1344},
            {"prod": "S39", "dest-code": 9511, "quantity": 40},
            {"prod": "R31", "dest-code": 9833, "quantity": 12}]}}),
    )
    .await;
    let out = output(&d);
    assert_eq!(
        out["detail"]["shipped"],
        json!([
            {"prod": "R31", "courier": "UQS", "i": 0}, {"prod": "S39", "courier": "UQS", "i": 1}, {"prod": "R31", "courier": "UQS", "i": 2}
        ])
    );
    let t = types(&engine, &d.execution_arn);
    assert_eq!(t.iter().filter(|e| *e == "MapIterationStarted").count(), 3);
    assert!(
        t.contains(&"MapStateStarted".to_string()) && t.contains(&"MapStateSucceeded".to_string())
    );
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html (MaxConcurrency)
#[tokio::test]
async fn map_respects_max_concurrency() {
    let (engine, _dir) = engine().await;
    let active = Arc::new(Mutex::new((0usize, 0usize)));
    let seen = active.clone();
    engine.register_function(
        "slow",
        Arc::new(move |_req| {
            let seen = seen.clone();
            Box::pin(async move {
                {
                    let mut g = seen.lock().unwrap();
                    g.0 += 1;
                    g.1 = g.1.max(g.0);
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                seen.lock().unwrap().0 -= 1;
                Ok(json!("done"))
            })
        }),
    );
    let d = run_on(
        &engine,
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 2,
            "Iterator": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:local:000000000000:function:slow", "End": true}}},
            "End": true}}}),
        json!([1, 2, 3, 4, 5]),
    )
    .await;
    assert_eq!(output(&d), json!(["done", "done", "done", "done", "done"]));
    assert_eq!(active.lock().unwrap().1, 2);
}

fn flaky(
    engine: &Engine,
    name: &str,
    failures: usize,
    error: &str,
) -> Arc<Mutex<Vec<tokio::time::Instant>>> {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    let error = error.to_string();
    engine.register_function(
        name,
        handler(move |req| {
            let mut calls = seen.lock().unwrap();
            calls.push(tokio::time::Instant::now());
            if calls.len() <= failures {
                return Err(FunctionError {
                    error: error.clone(),
                    cause: format!("attempt {}", calls.len()),
                });
            }
            Ok(json!({"ok": req.payload}))
        }),
    );
    calls
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
// ("Retry": IntervalSeconds 3, MaxAttempts 2, BackoffRate 1.5 → retries after 3 s and 4.5 s)
#[tokio::test(start_paused = true)]
async fn retry_waits_interval_times_backoff() {
    let (engine, _dir) = engine().await;
    let calls = flaky(&engine, "flaky", 2, "States.Timeout");
    let d = run_on(
        &engine,
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "flaky", "Payload": {"n": 1}},
            "Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 3, "MaxAttempts": 2, "BackoffRate": 1.5}],
            "ResultSelector": {"body.$": "$.Payload", "code.$": "$.StatusCode"},
            "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(output(&d), json!({"body": {"ok": {"n": 1}}, "code": 200}));
    let calls = calls.lock().unwrap();
    assert_eq!(calls.len(), 3);
    let gaps: Vec<f64> = calls
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    assert!(
        (gaps[0] - 3.0).abs() < 0.01 && (gaps[1] - 4.5).abs() < 0.01,
        "{gaps:?}"
    );
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
// (MaxDelaySeconds caps the backoff; JitterStrategy FULL never waits longer than the cap)
#[tokio::test(start_paused = true)]
async fn retry_max_delay_and_jitter() {
    let (engine, _dir) = engine().await;
    let calls = flaky(&engine, "capped", 3, "Boom");
    let d = run_on(
        &engine,
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:local:000000000000:function:capped",
            "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 10, "MaxAttempts": 3, "BackoffRate": 10, "MaxDelaySeconds": 15, "JitterStrategy": "FULL"}],
            "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    let calls = calls.lock().unwrap();
    for w in calls.windows(2) {
        assert!((w[1] - w[0]).as_secs_f64() <= 15.0 + 1e-6);
    }
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
// ("Catch": the error output {"Error", "Cause"} placed at the catcher's ResultPath;
// a retrier whose attempts are exhausted hands over to the catchers)
#[tokio::test]
async fn catch_after_retries_are_exhausted() {
    let (engine, _dir) = engine().await;
    let calls = flaky(&engine, "always", 100, "CustomError");
    let d = run_on(
        &engine,
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:lambda:local:000000000000:function:always",
                "Retry": [{"ErrorEquals": ["CustomError"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error-info", "Next": "Recover"}],
                "End": true},
            "Recover": {"Type": "Pass", "End": true}}}),
        json!({"foo": "bar"}),
    )
    .await;
    assert_eq!(
        output(&d),
        json!({"foo": "bar", "error-info": {"Error": "CustomError", "Cause": "attempt 2"}})
    );
    assert_eq!(calls.lock().unwrap().len(), 2);
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
// (States.ALL does not catch States.Runtime; an uncaught error fails the execution)
#[tokio::test]
async fn runtime_errors_are_not_caught_by_states_all() {
    let d = run(
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "InputPath": "$.missing",
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}], "End": true},
            "C": {"Type": "Succeed"}}}),
        json!({}),
    )
    .await;
    assert_eq!(d.error.as_deref(), Some("States.Runtime"));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
// (an unknown function: the task fails, States.ALL catches it)
#[tokio::test]
async fn a_missing_function_is_a_catchable_task_error() {
    let d = run(
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:lambda:local:000000000000:function:nope",
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}], "End": true},
            "C": {"Type": "Pass", "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(output(&d)["Error"], "Lambda.ResourceNotFoundException");
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html
// (TimeoutSeconds: a task running longer fails with States.Timeout)
#[tokio::test(start_paused = true)]
async fn task_timeout_seconds() {
    let (engine, _dir) = engine().await;
    engine.register_function(
        "sleepy",
        Arc::new(|_req| {
            Box::pin(async {
                tokio::time::sleep(std::time::Duration::from_secs(600)).await;
                Ok(json!("late"))
            })
        }),
    );
    let d = run_on(
        &engine,
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "sleepy"}, "TimeoutSeconds": 5, "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(d.error.as_deref(), Some("States.Timeout"));
    assert!(types(&engine, &d.execution_arn).contains(&"TaskTimedOut".to_string()));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token
// (HeartbeatSeconds with .waitForTaskToken: no heartbeat → States.HeartbeatTimeout;
// SendTaskHeartbeat keeps the task alive; SendTaskSuccess output is the task result)
#[tokio::test(start_paused = true)]
async fn heartbeats_and_callbacks() {
    let (engine, _dir) = engine().await;
    let tokens = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = tokens.clone();
    engine.register_function(
        "notify",
        handler(move |req| {
            seen.lock()
                .unwrap()
                .push(req.payload["token"].as_str().unwrap().to_string());
            Ok(json!({}))
        }),
    );
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}}, "HeartbeatSeconds": 60, "End": true}}});
    let d = run_on(&engine, def.clone(), json!({})).await;
    assert_eq!(d.error.as_deref(), Some("States.HeartbeatTimeout"));

    let arn = engine
        .create_state_machine("hb", &def.to_string(), &BTreeMap::new())
        .unwrap();
    let exec = engine
        .start_execution(&arn, Some("alive"), None)
        .unwrap()
        .execution_arn;
    let token = loop {
        if let Some(t) = tokens.lock().unwrap().get(1).cloned() {
            break t;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    };
    for _ in 0..5 {
        tokio::time::sleep(std::time::Duration::from_secs(50)).await;
        engine.send_task_heartbeat(&token).unwrap();
    }
    assert_eq!(
        engine.describe_execution(&exec).unwrap().status,
        ExecutionStatus::Running
    );
    engine
        .send_task_success(&token, r#"{"approved": true}"#)
        .unwrap();
    let d = engine.wait_for_execution(&exec).await.unwrap();
    assert_eq!(output(&d), json!({"approved": true}));
    assert!(engine
        .send_task_heartbeat(&token)
        .unwrap_err()
        .to_string()
        .starts_with("TaskTimedOut"));
}

// https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html
// (errors: InvalidToken, TaskDoesNotExist, InvalidOutput)
#[tokio::test]
async fn token_errors() {
    let (engine, _dir) = engine().await;
    assert!(engine
        .send_task_success("garbage", "{}")
        .unwrap_err()
        .to_string()
        .starts_with("InvalidToken"));
    let unknown = format!("ght1.{}", "A".repeat(64));
    assert!(engine
        .send_task_success(&unknown, "{}")
        .unwrap_err()
        .to_string()
        .starts_with("TaskDoesNotExist"));
    assert!(engine
        .send_task_failure(&unknown, "e", "c")
        .unwrap_err()
        .to_string()
        .starts_with("TaskDoesNotExist"));
    assert!(engine
        .send_task_success(&unknown, "{nope")
        .unwrap_err()
        .to_string()
        .starts_with("InvalidOutput"));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
// (256 KiB payload limit → States.DataLimitExceeded; 25,000 history events)
#[tokio::test]
async fn payload_and_history_limits() {
    let d = run(
        json!({"StartAt": "Big", "States": {"Big": {"Type": "Pass", "Parameters": {"s.$": "States.ArrayRange(1, 1000, 1)", "t.$": "States.ArrayRange(1, 1000, 1)"}, "Next": "Grow"},
            "Grow": {"Type": "Pass", "Parameters": {"a.$": "$", "b.$": "$", "c.$": "$", "d.$": "$"}, "Next": "Grow2"},
            "Grow2": {"Type": "Pass", "Parameters": {"a.$": "$", "b.$": "$", "c.$": "$", "d.$": "$"}, "Next": "Grow3"},
            "Grow3": {"Type": "Pass", "Parameters": {"a.$": "$", "b.$": "$", "c.$": "$", "d.$": "$"}, "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(
        d.error.as_deref(),
        Some("States.DataLimitExceeded"),
        "{d:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(None, dir.path().join("data"));
    config.limits = Limits {
        max_history_events: 50,
        ..Limits::default()
    };
    let engine = Engine::open(config).await.unwrap();
    let d = run_on(&engine, json!({"StartAt": "Loop", "States": {"Loop": {"Type": "Pass", "Next": "Loop2"}, "Loop2": {"Type": "Pass", "Next": "Loop"}}}), json!({})).await;
    assert_eq!(d.error.as_deref(), Some("States.Runtime"));
    assert!(d.cause.unwrap().contains("50 events"));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/sfn-stuck-execution.html
// (a definition-level TimeoutSeconds ends the execution TIMED_OUT)
#[tokio::test(start_paused = true)]
async fn execution_timeout() {
    let (engine, _dir) = engine().await;
    let d = run_on(&engine, json!({"TimeoutSeconds": 5, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}}), json!({})).await;
    assert_eq!(d.status, ExecutionStatus::TimedOut);
    assert!(types(&engine, &d.execution_arn).contains(&"ExecutionTimedOut".to_string()));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html
// ("ResultSelector": ClusterId and ResourceType picked from the task result, placed at
// ResultPath $.EMROutput)
#[tokio::test]
async fn result_selector_example() {
    let (engine, _dir) = engine().await;
    engine.register_function(
        "createCluster",
        handler(|_req| {
            Ok(json!({"resourceType": "elasticmapreduce", "resource": "createCluster.sync",
                "output": {"SdkHttpMetadata": {"HttpHeaders": {"Content-Length": "1112"}, "HttpStatusCode": 200},
                           "SdkResponseMetadata": {"RequestId": "1234-5678-9012"}, "ClusterId": "AKIAIOSFODNN7EXAMPLE"}}))
        }),
    );
    let d = run_on(
        &engine,
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:local:000000000000:function:createCluster",
            "ResultSelector": {"ClusterId.$": "$.output.ClusterId", "ResourceType.$": "$.resourceType"},
            "ResultPath": "$.EMROutput", "End": true}}}),
        json!({"in": true}),
    )
    .await;
    assert_eq!(
        output(&d),
        json!({"in": true, "EMROutput": {"ClusterId": "AKIAIOSFODNN7EXAMPLE", "ResourceType": "elasticmapreduce"}})
    );
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html
// (TimeoutSecondsPath: the timeout read from the state input)
#[tokio::test(start_paused = true)]
async fn timeout_seconds_path() {
    let (engine, _dir) = engine().await;
    engine.register_function(
        "sleepy",
        Arc::new(|_req| {
            Box::pin(async {
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                Ok(json!("late"))
            })
        }),
    );
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:local:000000000000:function:sleepy",
        "TimeoutSecondsPath": "$.limit", "End": true}}});
    let d = run_on(&engine, def.clone(), json!({"limit": 5})).await;
    assert_eq!(d.error.as_deref(), Some("States.Timeout"));
    assert!(types(&engine, &d.execution_arn).contains(&"LambdaFunctionTimedOut".to_string()));
    let d = run_on(&engine, def.clone(), json!({"limit": 60})).await;
    assert_eq!(output(&d), json!("late"));
    let d = run_on(&engine, def, json!({"limit": "soon"})).await;
    assert_eq!(d.error.as_deref(), Some("States.Runtime"));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html
// (a failing iteration fails the Map state, which its Catch can handle; ItemsPath must
// select an array)
#[tokio::test]
async fn map_failures() {
    let (engine, _dir) = engine().await;
    let d = run_on(
        &engine,
        json!({"StartAt": "M", "States": {
            "M": {"Type": "Map", "ItemProcessor": {"StartAt": "C", "States": {
                    "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericLessThan": 3, "Next": "Ok"}], "Default": "Bad"},
                    "Ok": {"Type": "Succeed"},
                    "Bad": {"Type": "Fail", "Error": "TooBig", "Cause": "an item was 3 or more"}}},
                  "Catch": [{"ErrorEquals": ["TooBig"], "ResultPath": "$.error", "Next": "Handled"}], "ResultPath": "$.results", "End": true},
            "Handled": {"Type": "Pass", "End": true}}}),
        json!([1, 2, 3]),
    )
    .await;
    // The catcher's ResultPath cannot add a field to an array input.
    assert_eq!(
        d.error.as_deref(),
        Some("States.ResultPathMatchFailure"),
        "{d:?}"
    );
    let t = types(&engine, &d.execution_arn);
    assert!(
        t.contains(&"MapIterationFailed".to_string()) && t.contains(&"MapStateFailed".to_string()),
        "{t:?}"
    );

    let d = run_on(
        &engine,
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}}),
        json!({"items": {"not": "an array"}}),
    )
    .await;
    assert_eq!(d.error.as_deref(), Some("States.Runtime"));
}

// https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
// (the input is limited to 256 KiB: InvalidExecutionInput)
#[tokio::test]
async fn execution_input_over_256_kib_is_refused() {
    let (engine, _dir) = engine().await;
    let arn = engine
        .create_state_machine(
            "big",
            &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}).to_string(),
            &BTreeMap::new(),
        )
        .unwrap();
    let input = json!({"blob": "x".repeat(256 * 1024)}).to_string();
    let err = engine
        .start_execution(&arn, None, Some(&input))
        .unwrap_err();
    assert!(
        err.to_string().starts_with("InvalidExecutionInput"),
        "{err}"
    );
}

// https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html
// (TaskTimedOut: the task is no longer running — here its notifier function failed)
#[tokio::test]
async fn a_failed_callback_task_refuses_decisions() {
    let (engine, _dir) = engine().await;
    let tokens = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = tokens.clone();
    engine.register_function(
        "broken-notifier",
        handler(move |req| {
            seen.lock()
                .unwrap()
                .push(req.payload["token"].as_str().unwrap().to_string());
            Err(FunctionError {
                error: "MailerDown".into(),
                cause: "smtp unreachable".into(),
            })
        }),
    );
    // While the execution still runs, a late decision on the failed task's token.
    let (late_tokens, late_engine) = (tokens.clone(), engine.clone());
    engine.register_function(
        "decide-late",
        handler(move |_req| {
            let token = late_tokens.lock().unwrap()[0].clone();
            let answer = match late_engine.send_task_success(&token, "{}") {
                Ok(()) => "accepted".to_string(),
                Err(e) => format!(
                    "refused: {}",
                    e.to_string().split(':').next().unwrap_or_default()
                ),
            };
            Ok(json!(answer))
        }),
    );
    // The failure is caught and the execution goes on, so only the task's own closing can
    // make the token refuse the decision.
    let d = run_on(
        &engine,
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "broken-notifier", "Payload": {"token.$": "$$.Task.Token"}},
                "Catch": [{"ErrorEquals": ["MailerDown"], "Next": "Check"}], "End": true},
            "Check": {"Type": "Task", "Resource": "arn:aws:lambda:local:000000000000:function:decide-late", "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(output(&d), json!("refused: TaskTimedOut"));
}
