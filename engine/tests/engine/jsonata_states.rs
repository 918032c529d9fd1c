//! JSONata states, against AWS's "Transforming data with JSONata" page
//! (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html, "the
//! JSONata page" below), the variables page
//! (https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html) and the
//! state pages: every state type with `QueryLanguage` JSONata, `$states.*`, `Assign`,
//! machines mixing both languages, and the errors. Where a cause is checked word for word,
//! it is the text Step Functions executions report for the same definition.

use crate::common::{history, wait_for_pending_token};
use crate::states::{engine, output, run, run_on};
use crate::variables::exited;
use engine::{handler, Engine, ExecutionStatus, FunctionError};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

fn register_echo(engine: &Engine) {
    engine.register_function("echo", handler(|req| Ok(req.payload.clone())));
}

fn jsonata(states: Value, start: &str) -> Value {
    json!({"QueryLanguage": "JSONata", "StartAt": start, "States": states})
}

// The JSONata page, the conversion example: with input {"title": "Doctor"} and the variable
// customerName "María", the Task's Arguments are {"static": "Hello", "title": "Doctor",
// "name": "María", "not-evaluated": "$customerName"} (a string without {% %} is a literal).
// Without Output a Task's output is its result ($states.result).
#[tokio::test]
async fn task_arguments_example_from_the_docs() {
    let (engine, _dir) = engine().await;
    register_echo(&engine);
    let d = run_on(
        &engine,
        jsonata(
            json!({
                "Init": {"Type": "Pass", "Assign": {"customerName": "María"}, "Next": "Call"},
                "Call": {"Type": "Task", "Resource": "arn:aws:lambda:local:000000000000:function:echo",
                    "Arguments": {"static": "Hello", "title": "{% $states.input.title %}",
                        "name": "{% $customerName %}", "not-evaluated": "$customerName"},
                    "End": true}
            }),
            "Init",
        ),
        json!({"title": "Doctor"}),
    )
    .await;
    assert_eq!(
        output(&d),
        json!({"static": "Hello", "title": "Doctor", "name": "María", "not-evaluated": "$customerName"})
    );
}

// The variables page, "Assigning variables in JSONata": "product": "{% $states.input.order.product %}",
// "currentPrice": "{% $states.result.Payload.current_price %}" on a lambda:invoke Task whose
// result is {"Payload": {...}}; Output shapes the state output from $states.result, and
// neither sees the variables assigned by the same state (they are stored when it ends).
#[tokio::test]
async fn task_assign_reads_input_and_result() {
    let (engine, _dir) = engine().await;
    engine.register_function(
        "price",
        handler(|req| Ok(json!({"current_price": req.payload["qty"].as_i64().unwrap() * 10}))),
    );
    let d = run_on(
        &engine,
        jsonata(
            json!({
                "Init": {"Type": "Pass", "Assign": {"product": "none"}, "Next": "Price"},
                "Price": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                    "Arguments": {"FunctionName": "price", "Payload": {"qty": "{% $states.input.order.qty %}"}},
                    "Assign": {"product": "{% $states.input.order.product %}",
                               "currentPrice": "{% $states.result.Payload.current_price %}"},
                    "Output": {"price": "{% $states.result.Payload.current_price %}", "before": "{% $product %}",
                               "status": "{% $states.result.StatusCode %}"},
                    "Next": "Show"},
                "Show": {"Type": "Pass", "Output": {"product": "{% $product %}", "price": "{% $currentPrice %}",
                    "input": "{% $states.input %}"}, "End": true}
            }),
            "Init",
        ),
        json!({"order": {"product": "book", "qty": 3}}),
    )
    .await;
    assert_eq!(
        output(&d),
        json!({"product": "book", "price": 30, "input": {"price": 30, "before": "none", "status": 200}})
    );
    let price = exited(&engine, &d.execution_arn, "Price");
    assert_eq!(
        price["assignedVariables"],
        json!({"product": "\"book\"", "currentPrice": "30"})
    );
}

// The variables page, "Evaluation order in an assign field": starting with $x=3 and $a=6,
// assigning x = $a and nextX = $x ends with $x=6 and $nextX=3 — written in JSONata.
// Without Output a Pass state's output is its input.
#[tokio::test]
async fn assign_evaluation_order_in_jsonata() {
    let d = run(
        jsonata(
            json!({
                "Start": {"Type": "Pass", "Assign": {"x": 3, "a": 6}, "Next": "Swap"},
                "Swap": {"Type": "Pass", "Assign": {"x": "{% $a %}", "nextX": "{% $x %}"}, "Next": "Show"},
                "Show": {"Type": "Pass", "Output": {"x": "{% $x %}", "nextX": "{% $nextX %}",
                    "same": "{% $states.input %}"}, "End": true}
            }),
            "Start",
        ),
        json!({"kept": true}),
    )
    .await;
    assert_eq!(
        output(&d),
        json!({"x": 6, "nextX": 3, "same": {"kept": true}})
    );
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html ("Choice Rules
// (JSONata)": "Condition": "{% $foo = 1 %}", "{% $type = 'local' %}",
// "{% $foo > 'MyStringABC' %}"); a rule's Assign runs when it matches, the state's own
// Assign and Output when Default is taken.
#[tokio::test]
async fn choice_conditions_from_the_docs() {
    let (engine, _dir) = engine().await;
    let definition = jsonata(
        json!({
            "Vars": {"Type": "Pass", "Assign": {"foo": "{% $states.input.foo %}", "type": "{% $states.input.type %}"}, "Next": "C"},
            "C": {"Type": "Choice", "Default": "Other",
                  "Assign": {"route": "default"}, "Output": {"via": "default"},
                  "Choices": [
                    {"Condition": "{% $foo = 1 %}", "Next": "NumericMatchState",
                     "Assign": {"route": "numeric"}, "Output": {"via": "{% 'rule ' & $string($foo) %}"}},
                    {"Condition": "{% $type = 'local' %}", "Next": "StringMatchState", "Assign": {"route": "local"}},
                    {"Condition": "{% $foo > 'MyStringABC' %}", "Next": "StringGreaterMatchState"}]},
            "NumericMatchState": {"Type": "Pass", "Output": {"state": "numeric", "route": "{% $route %}", "in": "{% $states.input %}"}, "End": true},
            "StringMatchState": {"Type": "Pass", "Output": {"state": "local", "route": "{% $route %}", "in": "{% $states.input %}"}, "End": true},
            "StringGreaterMatchState": {"Type": "Pass", "Output": {"state": "greater", "in": "{% $states.input %}"}, "End": true},
            "Other": {"Type": "Pass", "Output": {"state": "other", "route": "{% $route %}", "in": "{% $states.input %}"}, "End": true}
        }),
        "Vars",
    );
    let case = |input: Value| {
        let (engine, definition) = (&engine, definition.clone());
        async move { output(&run_on(engine, definition, input).await) }
    };
    assert_eq!(
        case(json!({"foo": 1, "type": "x"})).await,
        json!({"state": "numeric", "route": "numeric", "in": {"via": "rule 1"}})
    );
    // The second rule matches and has no Output: the state's Output applies.
    assert_eq!(
        case(json!({"foo": 2, "type": "local"})).await,
        json!({"state": "local", "route": "local", "in": {"via": "default"}})
    );
    assert_eq!(
        case(json!({"foo": "Zebra", "type": "x"})).await,
        json!({"state": "greater", "in": {"via": "default"}})
    );
    assert_eq!(
        case(json!({"foo": "Apple", "type": "x"})).await,
        json!({"state": "other", "route": "default", "in": {"via": "default"}})
    );

    // A Condition that does not give a boolean fails the state with
    // States.QueryEvaluationError ("an incorrectly typed result", concepts-error-handling).
    let d = run(
        jsonata(
            json!({"C": {"Type": "Choice", "Default": "D",
                "Choices": [{"Condition": "{% $states.input.n %}", "Next": "D"}]},
                "D": {"Type": "Succeed"}}),
            "C",
        ),
        json!({"n": 5}),
    )
    .await;
    assert_eq!(d.error.as_deref(), Some("States.QueryEvaluationError"));
    assert_eq!(
        d.cause.as_deref(),
        Some("An error occurred while executing the state 'C' (entered at the event id #2). The JSONata expression '$states.input.n' specified for the field 'Choices[0]/Condition' returned an unexpected result type. Expected 'boolean', but was 'number' for value: 5")
    );
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-map.html (JSONata: "Items" an
// array or an expression, "ItemSelector" with $states.context.Map.Item.Index and .Value,
// MaxConcurrency); the iterations inherit the JSONata query language, and without Output
// the Map's output is the array of iteration results.
#[tokio::test]
async fn map_items_and_item_selector() {
    let d = run(
        jsonata(
            json!({"M": {"Type": "Map", "Items": "{% $states.input.orders[price > 5] %}",
                "MaxConcurrency": "{% $states.input.limit %}",
                "ItemSelector": {"index": "{% $states.context.Map.Item.Index %}",
                                 "name": "{% $states.context.Map.Item.Value.name %}",
                                 "currency": "{% $states.input.currency %}"},
                "ItemProcessor": {"StartAt": "Label", "States": {"Label": {"Type": "Pass",
                    "Output": "{% $states.input.name & '#' & $string($states.input.index) & ' ' & $states.input.currency %}",
                    "End": true}}},
                "Assign": {"count": "{% $count($states.result) %}"},
                "Output": {"labels": "{% $states.result %}"},
                "Next": "Show"},
              "Show": {"Type": "Pass", "Output": {"labels": "{% $states.input.labels %}", "count": "{% $count %}"}, "End": true}}),
            "M",
        ),
        json!({"currency": "EUR", "limit": 1, "orders": [{"name": "a", "price": 10}, {"name": "b", "price": 1}, {"name": "c", "price": 7}]}),
    )
    .await;
    assert_eq!(
        output(&d),
        json!({"labels": ["a#0 EUR", "c#1 EUR"], "count": 2})
    );
    // A literal Items array, and the input itself when Items is absent.
    let d = run(
        jsonata(
            json!({"M": {"Type": "Map", "Items": [1, 2, "{% $states.input.third %}"], "Next": "N",
                "ItemProcessor": {"StartAt": "D", "States": {"D": {"Type": "Pass", "Output": "{% $states.input * 2 %}", "End": true}}}},
              "N": {"Type": "Map", "End": true,
                "ItemProcessor": {"StartAt": "E", "States": {"E": {"Type": "Pass", "Output": "{% $states.input + 1 %}", "End": true}}}}}),
            "M",
        ),
        json!({"third": 3}),
    )
    .await;
    assert_eq!(output(&d), json!([3, 5, 7]));
}

// Items that are not an array: the cause Step Functions executions report for
// "Items": "{% $ItemsVar %}" with $ItemsVar a string ("… returned an unexpected result
// type. Expected 'array', but was 'string' for value: \"string\"").
#[tokio::test]
async fn map_items_must_be_an_array() {
    let d = run(
        jsonata(
            json!({"Init": {"Type": "Pass", "Assign": {"ItemsVar": "string"}, "Next": "MapIterateState"},
              "MapIterateState": {"Type": "Map", "Items": "{% $ItemsVar %}", "End": true,
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}),
            "Init",
        ),
        json!({}),
    )
    .await;
    assert_eq!(d.error.as_deref(), Some("States.QueryEvaluationError"));
    assert_eq!(
        d.cause.as_deref(),
        Some("An error occurred while executing the state 'MapIterateState' (entered at the event id #4). The JSONata expression '$ItemsVar' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'string' for value: \"string\"")
    );
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html (Arguments go
// to every branch; Output reads $states.result, the array of branch outputs); the branch
// states inherit the top-level query language.
#[tokio::test]
async fn parallel_arguments_and_result() {
    let d = run(
        jsonata(
            json!({"P": {"Type": "Parallel", "Arguments": {"n": "{% $states.input.n %}"},
                "Branches": [
                    {"StartAt": "Double", "States": {"Double": {"Type": "Pass", "Output": "{% $states.input.n * 2 %}", "End": true}}},
                    {"StartAt": "Square", "States": {"Square": {"Type": "Pass", "Output": "{% $states.input.n * $states.input.n %}", "End": true}}}],
                "Output": {"sum": "{% $sum($states.result) %}", "all": "{% $states.result %}"},
                "End": true}}),
            "P",
        ),
        json!({"n": 4, "ignored": true}),
    )
    .await;
    assert_eq!(output(&d), json!({"sum": 24, "all": [8, 16]}));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html ("Seconds" and
// "Timestamp" take a JSONata expression in a JSONata state) and state-fail.html ("Error"
// and "Cause" accept JSONata).
#[tokio::test(start_paused = true)]
async fn wait_and_fail_take_expressions() {
    let started = tokio::time::Instant::now();
    let d = run(
        jsonata(
            json!({"W": {"Type": "Wait", "Seconds": "{% $states.input.delay * 60 %}", "Next": "Then"},
              "Then": {"Type": "Wait", "Timestamp": "{% $states.input.at %}", "Next": "F"},
              "F": {"Type": "Fail", "Error": "{% 'Order.' & $states.input.reason %}",
                    "Cause": "{% 'waited for ' & $string($states.input.delay) & ' minutes' %}"}}),
            "W",
        ),
        json!({"delay": 2, "at": "2016-03-14T01:59:00Z", "reason": "Late"}),
    )
    .await;
    assert_eq!(d.error.as_deref(), Some("Order.Late"));
    assert_eq!(d.cause.as_deref(), Some("waited for 2 minutes"));
    assert!(started.elapsed() >= Duration::from_secs(120));
    assert!(started.elapsed() < Duration::from_secs(130));

    let d = run(
        jsonata(
            json!({"W": {"Type": "Wait", "Seconds": "{% $states.input.delay %}", "End": true}}),
            "W",
        ),
        json!({"delay": "soon"}),
    )
    .await;
    assert_eq!(d.error.as_deref(), Some("States.QueryEvaluationError"));
    assert!(d.cause.as_deref().unwrap().contains("specified for the field 'Seconds' returned an unexpected result type. Expected 'non-negative integer', but was 'string' for value: \"soon\""), "{d:?}");
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html (TimeoutSeconds and
// HeartbeatSeconds "can also be a JSONata expression" in a JSONata state); a task past its
// timeout fails with States.Timeout (concepts-error-handling).
#[tokio::test(start_paused = true)]
async fn task_timeout_as_an_expression() {
    let (engine, _dir) = engine().await;
    engine.register_function(
        "slow",
        std::sync::Arc::new(|_req| {
            Box::pin(async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(json!("late"))
            })
        }),
    );
    let d = run_on(
        &engine,
        jsonata(
            json!({"T": {"Type": "Task", "Resource": "arn:aws:lambda:local:000000000000:function:slow",
                "TimeoutSeconds": "{% $states.input.limit %}", "End": true}}),
            "T",
        ),
        json!({"limit": 30}),
    )
    .await;
    assert_eq!(d.error.as_deref(), Some("States.Timeout"));
    let scheduled = history(&engine, &d.execution_arn)
        .into_iter()
        .find(|e| e["type"] == "LambdaFunctionScheduled")
        .unwrap();
    assert_eq!(
        scheduled["lambdaFunctionScheduledEventDetails"]["timeoutInSeconds"],
        json!(30)
    );
}

// The JSONata page ("$states.context" is the context object, "$$.Task.Token" becomes
// "$states.context.Task.Token") with a .waitForTaskToken task
// (https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token):
// the token reaches the resource through Arguments and SendTaskSuccess's output is
// $states.result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_token_reaches_the_resource_through_arguments() {
    let (engine, _dir) = engine().await;
    register_echo(&engine);
    let arn = engine
        .create_state_machine(
            "approve",
            &jsonata(
                json!({"Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "Arguments": {"FunctionName": "echo", "Payload": {"token": "{% $states.context.Task.Token %}",
                        "model": "{% $states.input.model %}"}},
                    "Assign": {"decision": "{% $states.result.decision %}"},
                    "Output": {"model": "{% $states.input.model %}", "by": "{% $states.result.by %}"},
                    "Next": "Done"},
                  "Done": {"Type": "Succeed", "Output": {"decision": "{% $decision %}", "model": "{% $states.input.model %}"}}}),
                "Ask",
            )
            .to_string(),
            &BTreeMap::new(),
        )
        .unwrap();
    let exec = engine
        .start_execution(&arn, None, Some(r#"{"model": "m-1"}"#))
        .unwrap()
        .execution_arn;
    let token = wait_for_pending_token(&engine, &exec).await;
    let scheduled = history(&engine, &exec)
        .into_iter()
        .find(|e| e["type"] == "TaskScheduled")
        .unwrap();
    let parameters: Value = serde_json::from_str(
        scheduled["taskScheduledEventDetails"]["parameters"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(parameters["Payload"]["token"], json!(token));
    assert_eq!(parameters["Payload"]["model"], json!("m-1"));
    engine
        .send_task_success(&token, r#"{"decision": "approved", "by": "ana"}"#)
        .unwrap();
    let d = engine.wait_for_execution(&exec).await.unwrap();
    assert_eq!(output(&d), json!({"decision": "approved", "model": "m-1"}));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html (a
// JSONata catcher: "Output" shapes the state output from $states.errorOutput, {"Error",
// "Cause"}, which is the output without it; its "Assign" reads the same) and Retry.
#[tokio::test(start_paused = true)]
async fn catch_output_and_assign_read_the_error_output() {
    let (engine, _dir) = engine().await;
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = calls.clone();
    engine.register_function(
        "broken",
        handler(move |_req| {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Err(FunctionError {
                error: "Order.Broken".into(),
                cause: "no stock".into(),
            })
        }),
    );
    let d = run_on(
        &engine,
        jsonata(
            json!({"T": {"Type": "Task", "Resource": "arn:aws:lambda:local:000000000000:function:broken",
                "Retry": [{"ErrorEquals": ["Order.Broken"], "MaxAttempts": 1, "IntervalSeconds": 1}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handle",
                    "Assign": {"failure": "{% $states.errorOutput.Error %}"},
                    "Output": {"why": "{% $states.errorOutput.Cause %}", "order": "{% $states.input.order %}"}}],
                "Next": "Handle"},
              "Handle": {"Type": "Pass", "Output": {"failure": "{% $failure %}", "in": "{% $states.input %}"}, "Next": "Plain"},
              "Plain": {"Type": "Task", "Resource": "arn:aws:lambda:local:000000000000:function:broken", "End": true,
                "Catch": [{"ErrorEquals": ["Order.Broken"], "Next": "Last"}]},
              "Last": {"Type": "Succeed"}}),
            "T",
        ),
        json!({"order": 7}),
    )
    .await;
    assert_eq!(
        output(&d),
        json!({"Error": "Order.Broken", "Cause": "no stock"})
    );
    let handled = exited(&engine, &d.execution_arn, "Handle");
    assert_eq!(
        serde_json::from_str::<Value>(handled["output"].as_str().unwrap()).unwrap(),
        json!({"failure": "Order.Broken", "in": {"why": "no stock", "order": 7}})
    );
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
}

// Causes Step Functions executions report for an expression that returns nothing: "The
// JSONata expression '$doesNotExist' specified for the field 'Output/result' returned
// nothing (undefined).", for 'Output', 'Assign/result' and 'Arguments/FunctionName' alike,
// after "An error occurred while executing the state 'State0' (entered at the event id
// #2). ". The error is States.QueryEvaluationError, which a catcher can catch
// (concepts-error-handling lists it with "an undefined result").
#[tokio::test]
async fn undefined_results_fail_with_query_evaluation_error() {
    let (engine, _dir) = engine().await;
    register_echo(&engine);
    let state0 = |fields: Value| {
        let mut state = json!({"Type": "Pass", "End": true});
        for (k, v) in fields.as_object().unwrap() {
            state[k] = v.clone();
        }
        jsonata(json!({"State0": state}), "State0")
    };
    for (definition, field) in [
        (
            state0(json!({"Output": {"result": "{% $doesNotExist %}"}})),
            "Output/result",
        ),
        (state0(json!({"Output": "{% $doesNotExist %}"})), "Output"),
        (
            state0(json!({"Assign": {"result": "{% $doesNotExist %}"}})),
            "Assign/result",
        ),
        (
            jsonata(
                json!({"State0": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "{% $doesNotExist %}"}, "End": true}}),
                "State0",
            ),
            "Arguments/FunctionName",
        ),
    ] {
        let d = run_on(&engine, definition, json!({})).await;
        assert_eq!(d.status, ExecutionStatus::Failed);
        assert_eq!(d.error.as_deref(), Some("States.QueryEvaluationError"));
        assert_eq!(
            d.cause.as_deref().unwrap(),
            format!("An error occurred while executing the state 'State0' (entered at the event id #2). The JSONata expression '$doesNotExist' specified for the field '{field}' returned nothing (undefined).")
        );
    }
    // A JSONata error inside an expression: "… threw an error during evaluation. T1006: …"
    // as for '$randomSeeded(…)' (not a function) in Step Functions.
    let d = run_on(
        &engine,
        state0(json!({"Output": {"FunctionResult": "{% $randomSeeded($states.input.fst) %}"}})),
        json!({"fst": 1}),
    )
    .await;
    assert_eq!(d.error.as_deref(), Some("States.QueryEvaluationError"));
    assert!(d.cause.as_deref().unwrap().starts_with("An error occurred while executing the state 'State0' (entered at the event id #2). The JSONata expression '$randomSeeded($states.input.fst)' specified for the field 'Output/FunctionResult' threw an error during evaluation. T1006: "), "{d:?}");
    // Caught like any task error.
    let d = run_on(
        &engine,
        jsonata(
            json!({"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "{% $states.input.fn %}"}, "End": true,
                "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Caught"}]},
              "Caught": {"Type": "Pass", "Output": "{% $states.input.Error %}", "End": true}}),
            "T",
        ),
        json!({}),
    )
    .await;
    assert_eq!(output(&d), json!("States.QueryEvaluationError"));
}

// The JSONata page: a JSONata state can sit in a JSONPath machine (and the reverse is
// refused); the variables page: variables assigned by a JSONPath state are read by a
// JSONata state as $name and the other way round — one store.
#[tokio::test]
async fn mixing_query_languages() {
    let d = run(
        json!({"StartAt": "Path", "States": {
            "Path": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "Assign": {"fromPath.$": "$.n"}, "Next": "Ata"},
            "Ata": {"Type": "Pass", "QueryLanguage": "JSONata",
                "Assign": {"fromAta": "{% $fromPath * 10 %}"},
                "Output": {"seen": "{% $states.input %}", "fromPath": "{% $fromPath %}"}, "Next": "Back"},
            "Back": {"Type": "Pass", "Parameters": {"a.$": "$fromAta", "p.$": "$fromPath", "out.$": "$"}, "End": true}}}),
        json!({"n": 2, "other": 1}),
    )
    .await;
    assert_eq!(
        output(&d),
        json!({"a": 20, "p": 2, "out": {"seen": {"n": 2}, "fromPath": 2}})
    );
    let (engine, _dir) = engine().await;
    let refused = engine
        .create_state_machine(
            "mixed",
            &jsonata(
                json!({"A": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": true}}),
                "A",
            )
            .to_string(),
            &BTreeMap::new(),
        )
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains(
            "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine"
        ),
        "{refused}"
    );
}

// The variables page ("Variable scope", "Limits"): JSONata assignments share the scopes and
// limits of the JSONPath ones — an iteration reads outer variables, its own end with it, an
// inner scope cannot assign an outer name, and 256 KiB is the most one variable holds
// (States.DataLimitExceeded).
#[tokio::test]
async fn jsonata_assignments_share_scopes_and_limits() {
    let d = run(
        jsonata(
            json!({"Init": {"Type": "Pass", "Assign": {"base": 100}, "Next": "M"},
              "M": {"Type": "Map", "Items": [1, 2], "Next": "After",
                "ItemProcessor": {"StartAt": "Inner", "States": {
                    "Inner": {"Type": "Pass", "Assign": {"own": "{% $states.input + $base %}"}, "Next": "Read"},
                    "Read": {"Type": "Pass", "Output": "{% $own %}", "End": true}}}},
              "After": {"Type": "Pass", "Output": {"r": "{% $states.input %}", "own": "{% $own %}"}, "End": true}}),
            "Init",
        ),
        json!({}),
    )
    .await;
    // $own went out of scope with the iterations: reading it gives nothing.
    assert_eq!(d.error.as_deref(), Some("States.QueryEvaluationError"));
    assert!(d
        .cause
        .as_deref()
        .unwrap()
        .contains("'$own' specified for the field 'Output/own' returned nothing"));

    let (engine, _dir) = engine().await;
    let refused = engine
        .create_state_machine(
            "scopes",
            &jsonata(
                json!({"Init": {"Type": "Pass", "Assign": {"base": 1}, "Next": "M"},
                  "M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "I", "States": {
                      "I": {"Type": "Pass", "Assign": {"base": 2}, "End": true}}}}}),
                "Init",
            )
            .to_string(),
            &BTreeMap::new(),
        )
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("the variable 'base' is assigned in an outer scope"),
        "{refused}"
    );

    let d = run(
        jsonata(
            json!({"Big": {"Type": "Pass", "Assign": {"big": "{% $pad('', 262145, 'x') %}"}, "End": true}}),
            "Big",
        ),
        json!({}),
    )
    .await;
    assert_eq!(d.error.as_deref(), Some("States.DataLimitExceeded"));
}

// The JSONata page ("Output" of a Succeed state) and state-succeed.html: a Succeed state's
// Output is the execution's output.
#[tokio::test]
async fn succeed_output() {
    let d = run(
        jsonata(
            json!({"S": {"Type": "Succeed", "Output": {"total": "{% $sum($states.input.items) %}",
                "execution": "{% $states.context.Execution.Input.items[0] %}"}}}),
            "S",
        ),
        json!({"items": [1, 2, 3]}),
    )
    .await;
    assert_eq!(output(&d), json!({"total": 6, "execution": 1}));
}

// Durability (engine/README.md): variables a JSONata state assigned are journaled with its
// step, so after a restart in the middle of a .waitForTaskToken task the execution resumes
// with them — the task is not called again and the decision made after the restart reaches
// $states.result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonata_variables_survive_a_restart() {
    let root = tempfile::tempdir().unwrap();
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let open = |calls: std::sync::Arc<std::sync::atomic::AtomicUsize>| {
        let path = root.path().to_path_buf();
        async move {
            // Registered before open: the execution it resumes may call it straight away.
            let config = engine::EngineConfig::new(Some(path.join("db.sqlite")), path.join("data"))
                .with_function(
                    "notify",
                    handler(move |_req| {
                        calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        Ok(json!({}))
                    }),
                );
            Engine::open(config).await.unwrap()
        }
    };
    let first = open(calls.clone()).await;
    let arn = first
        .create_state_machine(
            "restart",
            &jsonata(
                json!({"Init": {"Type": "Pass", "Assign": {"order": "{% $states.input.order %}"}, "Next": "Ask"},
                  "Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "Arguments": {"FunctionName": "notify", "Payload": {"token": "{% $states.context.Task.Token %}"}},
                    "Output": {"order": "{% $order %}", "decision": "{% $states.result.decision %}"}, "End": true}}),
                "Init",
            )
            .to_string(),
            &BTreeMap::new(),
        )
        .unwrap();
    let exec = first
        .start_execution(&arn, None, Some(r#"{"order": 17}"#))
        .unwrap()
        .execution_arn;
    let token = wait_for_pending_token(&first, &exec).await;
    first.shutdown();
    drop(first);

    let second = open(calls.clone()).await;
    second
        .send_task_success(&token, r#"{"decision": "yes"}"#)
        .unwrap();
    let done = second.wait_for_execution(&exec).await.unwrap();
    assert_eq!(output(&done), json!({"order": 17, "decision": "yes"}));
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
}

// state-fail.html ("Error" and "Cause" accept JSONata; the error a Fail state declares is
// reported as written) and concepts-error-handling ("an incorrectly typed result" is
// States.QueryEvaluationError): an Error expression that gives a number fails the state,
// named like every other state failure.
#[tokio::test]
async fn a_fail_state_whose_error_is_not_a_string() {
    let d = run(
        jsonata(
            json!({"F": {"Type": "Fail", "Error": "{% $states.input.code %}", "Cause": "plain"}}),
            "F",
        ),
        json!({"code": 404}),
    )
    .await;
    assert_eq!(d.error.as_deref(), Some("States.QueryEvaluationError"));
    assert_eq!(
        d.cause.as_deref(),
        Some("An error occurred while executing the state 'F' (entered at the event id #2). The JSONata expression '$states.input.code' specified for the field 'Error' returned an unexpected result type. Expected 'string', but was 'number' for value: 404")
    );
    // A declared error is reported as written, even one named like a Step Functions error.
    let d = run(
        jsonata(
            json!({"F": {"Type": "Fail", "Error": "States.Runtime", "Cause": "{% 'as ' & 'written' %}"}}),
            "F",
        ),
        json!({}),
    )
    .await;
    assert_eq!(d.error.as_deref(), Some("States.Runtime"));
    assert_eq!(d.cause.as_deref(), Some("as written"));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html (HeartbeatSeconds as
// a JSONata expression) with .waitForTaskToken: no heartbeat within it is
// States.HeartbeatTimeout (connect-to-resource.html#connect-wait-token).
#[tokio::test(start_paused = true)]
async fn heartbeat_seconds_as_an_expression() {
    let (engine, _dir) = engine().await;
    register_echo(&engine);
    let d = run_on(
        &engine,
        jsonata(
            json!({"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Arguments": {"FunctionName": "echo", "Payload": {"token": "{% $states.context.Task.Token %}"}},
                "HeartbeatSeconds": "{% $states.input.beat %}", "TimeoutSeconds": 600, "End": true}}),
            "T",
        ),
        json!({"beat": 60}),
    )
    .await;
    assert_eq!(d.error.as_deref(), Some("States.HeartbeatTimeout"));
    let scheduled = history(&engine, &d.execution_arn)
        .into_iter()
        .find(|e| e["type"] == "TaskScheduled")
        .unwrap();
    assert_eq!(
        scheduled["taskScheduledEventDetails"]["heartbeatInSeconds"],
        json!(60)
    );
}
