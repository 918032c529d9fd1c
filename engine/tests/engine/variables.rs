//! Workflow variables in JSONPath states, against AWS's "Passing data between states with
//! variables" page (https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html,
//! "the variables page" below) and the state pages it refers to: what `Assign` stores, what
//! `$` means in it for each state type, the evaluation order, every field that reads a
//! variable, and the `assignedVariables` of `…StateExited` events.

use crate::common::history;
use crate::states::{engine, output, run, run_on};
use engine::{handler, Engine, ExecutionStatus, FunctionError};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// The `stateExitedEventDetails` of the first `…StateExited` event of state `name`.
pub(crate) fn exited(engine: &Engine, arn: &str, name: &str) -> Value {
    history(engine, arn)
        .into_iter()
        .find(|e| {
            e["type"].as_str().unwrap().ends_with("StateExited")
                && e["stateExitedEventDetails"]["name"] == name
        })
        .unwrap_or_else(|| panic!("no exited event for {name}"))["stateExitedEventDetails"]
        .clone()
}

// The variables page, "Evaluation order in an assign field": starting with $x=3 and $a=6,
// "Assign": {"x": $a, "nextX": $x} ends with $x=6 and $nextX=3, the new values being
// available from the next state. The StateExited event lists them as serialized JSON
// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StateExitedEventDetails.html).
#[tokio::test]
async fn evaluation_order_example_from_the_docs() {
    let (engine, _dir) = engine().await;
    let d = run_on(
        &engine,
        json!({"StartAt": "Start", "States": {
            "Start": {"Type": "Pass", "Assign": {"x": 3, "a": 6}, "Next": "Swap"},
            "Swap": {"Type": "Pass", "Assign": {"x.$": "$a", "nextX.$": "$x"}, "Next": "Show"},
            "Show": {"Type": "Pass", "Parameters": {"x.$": "$x", "nextX.$": "$nextX"}, "End": true}
        }}),
        json!({}),
    )
    .await;
    assert_eq!(output(&d), json!({"x": 6, "nextX": 3}));
    let swap = exited(&engine, &d.execution_arn, "Swap");
    assert_eq!(swap["assignedVariables"], json!({"x": "6", "nextX": "3"}));
    assert_eq!(
        swap["assignedVariablesDetails"],
        json!({"truncated": false})
    );
    let show = exited(&engine, &d.execution_arn, "Show");
    assert!(show.get("assignedVariables").is_none(), "{show}");

    // "If $x had not been previously assigned, the example would fail because $x would be
    // undefined." A failed read is a States.Runtime error of the state (concepts-error-handling).
    let d = run_on(
        &engine,
        json!({"StartAt": "Swap", "States": {
            "Swap": {"Type": "Pass", "Assign": {"x.$": "$a", "nextX.$": "$x"}, "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(d.status, ExecutionStatus::Failed);
    assert_eq!(d.error.as_deref(), Some("States.Runtime"));
    let cause = d.cause.unwrap();
    assert!(
        cause.starts_with(
            "An error occurred while executing the state 'Swap' (entered at the event id #2)."
        ),
        "{cause}"
    );
    assert!(cause.contains("'$a'"), "{cause}");
}

// The variables page: "All variable references in Step Functions states use the values as
// they were on state entry", and "assignment happens" with new values "available starting
// with the next state" — so the OutputPath of the state that assigns still reads the old
// value.
#[tokio::test]
async fn a_state_reads_the_values_it_was_entered_with() {
    let d = run(
        json!({"StartAt": "Ask", "States": {
            "Ask": {"Type": "Pass",
                "Result": {"theQuestion": "What is the answer to life the universe and everything?"},
                "Assign": {"question.$": "$.theQuestion", "answer": 42}, "Next": "Answer"},
            "Answer": {"Type": "Pass", "InputPath": "$answer", "ResultPath": "$.theAnswer",
                "OutputPath": "$answer", "Assign": {"answer": "<omitted>"}, "Next": "After"},
            "After": {"Type": "Pass",
                "Parameters": {"input.$": "$", "answer.$": "$answer", "question.$": "$question"}, "End": true}
        }}),
        json!({}),
    )
    .await;
    assert_eq!(
        output(&d),
        json!({"input": 42, "answer": "<omitted>",
               "question": "What is the answer to life the universe and everything?"})
    );
}

/// A local Lambda function named like the task page's `priceWatcher` example.
fn register_price_watcher(engine: &Engine) {
    engine.register_function(
        "priceWatcher",
        handler(|req| {
            if req.payload["product"] == "broken" {
                return Err(FunctionError {
                    error: "PriceUnavailable".into(),
                    cause: "no price for broken".into(),
                });
            }
            Ok(json!({"current_price": 42, "currency": "EUR", "product": req.payload["product"]}))
        }),
    );
}

// The variables page, "Assigning variables in JSONPath": "the value of $ in an Assign field
// depends on the state type. In Task, Map, Parallel states, the $ refers to the
// API/sub-workflow result. In Choice and Wait state, $ refers to the effective input, which
// is the value after InputPath has been applied to the state input. For Pass, $ refers to
// the result, whether generated by the Result field or the InputPath/Parameters fields."
// The Task follows the task page's "priceWatcher" example (Assign currentPrice from the
// result's Payload.current_price); its Assign runs alongside ResultSelector, on the raw
// result, so it sees fields ResultSelector drops.
#[tokio::test]
async fn dollar_in_assign_depends_on_the_state_type() {
    let (engine, _dir) = engine().await;
    register_price_watcher(&engine);
    let d = run_on(
        &engine,
        json!({"StartAt": "FromResult", "States": {
            "FromResult": {"Type": "Pass", "Result": {"answer": 42}, "Assign": {"theAnswer.$": "$.answer"},
                "ResultPath": "$.ignored", "Next": "FromParameters"},
            "FromParameters": {"Type": "Pass", "InputPath": "$.order", "Parameters": {"input.$": "$.product"},
                "Assign": {"fromParameters.$": "$.input"}, "ResultPath": null, "Next": "Get Current Price"},
            "Get Current Price": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "priceWatcher", "Payload": {"product.$": "$.order.product"}},
                "ResultSelector": {"price.$": "$.Payload.current_price"},
                "Assign": {"currentPrice.$": "$.Payload.current_price", "currency.$": "$.Payload.currency",
                           "status.$": "$.StatusCode"},
                "ResultPath": "$.priced", "Next": "Check"},
            "Check": {"Type": "Choice", "InputPath": "$.order", "Default": "Hold",
                "Choices": [{"Variable": "$.product", "StringEquals": "none", "Next": "Hold"}],
                "Assign": {"checked.$": "$.product"}},
            "Hold": {"Type": "Wait", "Seconds": 0, "InputPath": "$.product", "Assign": {"held.$": "$"}, "Next": "Each"},
            "Each": {"Type": "Map", "ItemsPath": "$$.Execution.Input.lines", "ResultPath": null,
                "ItemProcessor": {"StartAt": "Double", "States": {"Double": {"Type": "Pass",
                    "Parameters": {"twice.$": "States.MathAdd($, $)"}, "End": true}}},
                "Assign": {"mapped.$": "$[*].twice"}, "Next": "Both"},
            "Both": {"Type": "Parallel", "ResultPath": null, "Branches": [
                    {"StartAt": "L", "States": {"L": {"Type": "Pass", "Result": "left", "End": true}}},
                    {"StartAt": "R", "States": {"R": {"Type": "Pass", "Result": "right", "End": true}}}],
                "Assign": {"branches.$": "$"}, "Next": "Report"},
            "Report": {"Type": "Pass", "Parameters": {
                "theAnswer.$": "$theAnswer", "fromParameters.$": "$fromParameters",
                "currentPrice.$": "$currentPrice", "currency.$": "$currency", "status.$": "$status",
                "checked.$": "$checked", "held.$": "$held", "mapped.$": "$mapped", "branches.$": "$branches",
                "state.$": "$"}, "End": true}
        }}),
        json!({"order": {"product": "tea"}, "lines": [1, 2, 3]}),
    )
    .await;
    assert_eq!(
        output(&d),
        json!({
            "theAnswer": 42, "fromParameters": "tea",
            "currentPrice": 42, "currency": "EUR", "status": 200,
            "checked": "tea", "held": "tea", "mapped": [2, 4, 6], "branches": ["left", "right"],
            "state": "tea"
        })
    );
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html ("Using Assign with
// Choice states"): "If a Choice Rule matches, Step Functions evaluates only that rule's
// Assign field and does not evaluate the top-level Assign field. Step Functions evaluates
// the top-level Assign only when no Choice Rule matches and the workflow transitions to the
// Default state." The page's example, with its conditions written as JSONPath rules on the
// $score variable.
#[tokio::test]
async fn choice_assigns_from_the_rule_that_matched_or_from_default() {
    let (engine, _dir) = engine().await;
    let definition = json!({"StartAt": "Score", "States": {
        "Score": {"Type": "Pass", "Assign": {"score.$": "$.score"}, "Next": "Grade"},
        "Grade": {"Type": "Choice",
            "Assign": {"outputValue": "default path taken"},
            "Choices": [
                {"Variable": "$score", "NumericGreaterThan": 90, "Assign": {"outputValue": "high score"}, "Next": "HighScoreState"},
                {"Variable": "$score", "NumericGreaterThan": 50, "Next": "MediumScoreState"}
            ],
            "Default": "LowScoreState"},
        "HighScoreState": {"Type": "Pass", "Parameters": {"outputValue.$": "$outputValue"}, "End": true},
        "MediumScoreState": {"Type": "Pass", "Result": "medium", "End": true},
        "LowScoreState": {"Type": "Pass", "Parameters": {"outputValue.$": "$outputValue"}, "End": true}
    }});
    let high = run_on(&engine, definition.clone(), json!({"score": 95})).await;
    assert_eq!(output(&high), json!({"outputValue": "high score"}));
    assert_eq!(
        exited(&engine, &high.execution_arn, "Grade")["assignedVariables"],
        json!({"outputValue": "\"high score\""})
    );
    let low = run_on(&engine, definition.clone(), json!({"score": 30})).await;
    assert_eq!(output(&low), json!({"outputValue": "default path taken"}));
    let medium = run_on(&engine, definition, json!({"score": 60})).await;
    assert_eq!(output(&medium), json!("medium"));
    let grade = exited(&engine, &medium.execution_arn, "Grade");
    assert!(grade.get("assignedVariables").is_none(), "{grade}");
}

// The variables page: the Assign field is available "inside Catch fields", and "the Assign
// field in a Catch can assign values to variables in the outer scope, that is, the scope in
// which the Parallel/Map state exists". https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
// ("Error output"): "In the case of an error handled by a catcher, the result of the
// state's execution is the error output" — the `$` of the catcher's Assign.
#[tokio::test]
async fn a_catcher_assigns_from_the_error_output() {
    let (engine, _dir) = engine().await;
    register_price_watcher(&engine);
    let d = run_on(
        &engine,
        json!({"StartAt": "Price", "States": {
            "Price": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "priceWatcher", "Payload": {"product": "broken"}},
                "Assign": {"never": "assigned on failure"},
                "Catch": [{"ErrorEquals": ["PriceUnavailable"], "ResultPath": "$.error",
                           "Assign": {"failure.$": "$", "reason.$": "$.Cause"}, "Next": "Each"}],
                "End": true},
            "Each": {"Type": "Map", "ItemsPath": "$.items", "Next": "Report",
                "ItemProcessor": {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Item.Failed", "Cause": "bad item"}}},
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": null, "Assign": {"mapError.$": "$.Error"}, "Next": "Report"}]},
            "Report": {"Type": "Pass", "Parameters": {"failure.$": "$failure", "reason.$": "$reason",
                "mapError.$": "$mapError", "input.$": "$"}, "End": true}
        }}),
        json!({"items": [1]}),
    )
    .await;
    assert_eq!(
        output(&d),
        json!({
            "failure": {"Error": "PriceUnavailable", "Cause": "no price for broken"},
            "reason": "no price for broken",
            "mapError": "Item.Failed",
            "input": {"items": [1], "error": {"Error": "PriceUnavailable", "Cause": "no price for broken"}}
        })
    );
    let price = exited(&engine, &d.execution_arn, "Price");
    assert_eq!(
        price["assignedVariables"],
        json!({"failure": "{\"Error\":\"PriceUnavailable\",\"Cause\":\"no price for broken\"}",
               "reason": "\"no price for broken\""})
    );
}

// The variables page, "Using variables in JSONPath states": "You can reference a variable in
// any field that accepts a JSONpath expression ($. or $$. syntax), with the exception of
// ResultPath", and "in JSONPath fields that accept intrinsic functions, variables can be
// used in the arguments, for example States.Format('The order number is {}', $order.number)".
// Here: InputPath, Parameters, intrinsic arguments, ResultSelector, OutputPath.
#[tokio::test]
async fn variables_in_paths_parameters_intrinsics_and_result_selectors() {
    let (engine, _dir) = engine().await;
    engine.register_function("echo", handler(|req| Ok(req.payload)));
    let d = run_on(
        &engine,
        json!({"StartAt": "Init", "States": {
            "Init": {"Type": "Pass", "Assign": {"order": {"number": 12, "items": ["a", "b", "c"]},
                "customer": {"name": "Ana"}, "greeting": "Hello"}, "Next": "Shape"},
            "Shape": {"Type": "Pass", "InputPath": "$customer", "Parameters": {
                "name.$": "$.name",
                "message.$": "States.Format('The order number is {}', $order.number)",
                "hello.$": "States.Format('{}, {}!', $greeting, $customer.name)",
                "count.$": "States.ArrayLength($order.items)",
                "second.$": "$order.items[1]",
                "all.$": "$order.items[*]"}, "Next": "Call"},
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "echo", "Payload.$": "$order"},
                "ResultSelector": {"echoed.$": "$.Payload.number", "greeting.$": "$greeting"},
                "ResultPath": "$.call", "Next": "Out"},
            "Out": {"Type": "Pass", "OutputPath": "$order.items", "End": true}
        }}),
        json!({}),
    )
    .await;
    assert_eq!(output(&d), json!(["a", "b", "c"]));
    let shaped: Value = serde_json::from_str(
        exited(&engine, &d.execution_arn, "Shape")["output"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        shaped,
        json!({"name": "Ana", "message": "The order number is 12", "hello": "Hello, Ana!",
               "count": 3, "second": "b", "all": ["a", "b", "c"]})
    );
    let called: Value = serde_json::from_str(
        exited(&engine, &d.execution_arn, "Call")["output"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(called["call"], json!({"echoed": 12, "greeting": "Hello"}));
}

// The variables page (variables in any JSONPath field) with
// https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html (Variable and the
// …Path comparisons), https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html
// (SecondsPath, TimestampPath) and https://docs.aws.amazon.com/step-functions/latest/dg/state-fail.html
// (ErrorPath, CausePath, also as an intrinsic function).
#[tokio::test]
async fn variables_in_choice_rules_waits_and_fail_states() {
    let (engine, _dir) = engine().await;
    let definition = json!({"StartAt": "Setup", "States": {
        "Setup": {"Type": "Pass", "Assign": {"guess": "the_guess", "answer": "the_answer",
            "waitTime": 0, "startAt": "2016-03-14T01:59:00Z",
            "errorVar": "Exception", "causeVar": "An Exception was encountered"}, "Next": "CheckAnswer"},
        "CheckAnswer": {"Type": "Choice", "Default": "WrongAnswer",
            "Choices": [{"Variable": "$guess", "StringEqualsPath": "$answer", "Next": "WaitSeconds"}]},
        "WrongAnswer": {"Type": "Pass", "Assign": {"guess.$": "$answer"}, "Result": {"state": "WRONG"}, "Next": "CheckAnswer"},
        "WaitSeconds": {"Type": "Wait", "SecondsPath": "$waitTime", "Next": "WaitUntil"},
        "WaitUntil": {"Type": "Wait", "TimestampPath": "$startAt", "Next": "Fail"},
        "Fail": {"Type": "Fail", "ErrorPath": "$errorVar", "CausePath": "States.Format('{} ({})', $causeVar, $guess)"}
    }});
    let d = run_on(&engine, definition, json!({})).await;
    assert_eq!(d.status, ExecutionStatus::Failed, "{d:?}");
    assert_eq!(d.error.as_deref(), Some("Exception"));
    assert_eq!(
        d.cause.as_deref(),
        Some("An Exception was encountered (the_answer)")
    );
    // The first visit compared "the_guess" with "the_answer" and took Default.
    let visits: Vec<String> = history(&engine, &d.execution_arn)
        .iter()
        .filter(|e| e["type"] == "PassStateEntered" || e["type"] == "ChoiceStateEntered")
        .map(|e| {
            e["stateEnteredEventDetails"]["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        visits,
        vec!["Setup", "CheckAnswer", "WrongAnswer", "CheckAnswer"]
    );
}

// The variables page (variables in any JSONPath field, Map and Parallel states read outer
// variables) with https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html
// (ItemsPath, ItemSelector with $$.Map.Item.Value, MaxConcurrencyPath) and
// https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html (Parameters).
#[tokio::test]
async fn variables_in_map_and_parallel_fields() {
    let (engine, _dir) = engine().await;
    let d = run_on(
        &engine,
        json!({"StartAt": "Start", "States": {
            "Start": {"Type": "Pass", "Assign": {"Question": "Who's that Pokemon?",
                "PokemonList": ["Charizard", "Pikachu", "Squirtle"], "limit": 1},
                "Result": {"AnswerTemplate": "It's {}!"}, "Next": "MapIterateState"},
            "MapIterateState": {"Type": "Map", "ItemsPath": "$PokemonList", "MaxConcurrencyPath": "$limit",
                "ItemSelector": {"AnnouncePokemon.$": "States.Format($.AnswerTemplate, $$.Map.Item.Value)",
                                 "index.$": "$$.Map.Item.Index"},
                "ItemProcessor": {"StartAt": "Pass", "States": {"Pass": {"Type": "Pass",
                    "Parameters": {"Question.$": "$Question", "Answer.$": "$.AnnouncePokemon", "index.$": "$.index"}, "End": true}}},
                "Next": "Both"},
            "Both": {"Type": "Parallel", "Parameters": {"count.$": "States.ArrayLength($PokemonList)"},
                "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass",
                    "Parameters": {"count.$": "$.count", "first.$": "$PokemonList[0]"}, "End": true}}}],
                "ResultPath": "$[0].branch", "OutputPath": "$[0]", "End": true}
        }}),
        json!({}),
    )
    .await;
    assert_eq!(
        output(&d),
        json!({"Answer": "It's Charizard!", "Question": "Who's that Pokemon?", "index": 0,
               "branch": [{"count": 3, "first": "Charizard"}]})
    );
    let started: Vec<Value> = history(&engine, &d.execution_arn)
        .into_iter()
        .filter(|e| e["type"] == "MapStateStarted")
        .collect();
    assert_eq!(started[0]["mapStateStartedEventDetails"]["length"], 3);
}

// The variables page (variables in any JSONPath field) with https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html
// (TimeoutSecondsPath and HeartbeatSecondsPath "must select fields whose values are
// positive integers"); the TaskScheduled event shows the values the task runs with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variables_in_task_timeouts_and_heartbeats() {
    let (engine, _dir) = engine().await;
    engine.register_function("notify", handler(|_req| Ok(json!({}))));
    let arn = engine
        .create_state_machine(
            "timeouts",
            &json!({"StartAt": "Init", "States": {
                "Init": {"Type": "Pass", "Assign": {"timeout": 300, "heartbeat": 60}, "Next": "Approve"},
                "Approve": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "TimeoutSecondsPath": "$timeout", "HeartbeatSecondsPath": "$heartbeat",
                    "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}},
                    "End": true}}})
            .to_string(),
            &BTreeMap::new(),
        )
        .unwrap();
    let exec = engine
        .start_execution(&arn, None, None)
        .unwrap()
        .execution_arn;
    let token = crate::common::wait_for_pending_token(&engine, &exec).await;
    engine.send_task_success(&token, r#"{"ok": true}"#).unwrap();
    let d = tokio::time::timeout(Duration::from_secs(10), engine.wait_for_execution(&exec))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(output(&d), json!({"ok": true}));
    let scheduled = history(&engine, &exec)
        .into_iter()
        .find(|e| e["type"] == "TaskScheduled")
        .unwrap();
    let details = &scheduled["taskScheduledEventDetails"];
    assert_eq!(details["timeoutInSeconds"], 300);
    assert_eq!(details["heartbeatInSeconds"], 60);
}
