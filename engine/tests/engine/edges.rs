//! JSONPath-language edge cases where the engine follows what AWS documents or what AWS
//! executions report: runtime error names and causes, MaxConcurrencyPath, rounding in
//! MathAdd, escaped quotes in bracket notation. Each test names its AWS page.

use crate::states::{engine, output, run, run_on};
use engine::{ExecutionDescription, ExecutionStatus, HistoryRequest};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

fn failure(d: &ExecutionDescription) -> (&str, &str) {
    assert_eq!(d.status, ExecutionStatus::Failed, "{d:?}");
    (
        d.error.as_deref().unwrap_or_default(),
        d.cause.as_deref().unwrap_or_default(),
    )
}

// https://repost.aws/questions/QUYiQKP0XfThWEc_ahsMnLOA/aws-step-functions-sum-function-returns-error-about-not-finding-path
// (an execution failed with "An error occurred while executing the state 'Sum Jobs'
// (entered at the event id #249). The JSONPath '$.Jobs.sum()' specified for the field
// 'Jobs.$' could not be found in the input '{"Jobs":[...]}'") and
// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
// (States.Runtime "will always cause the execution to fail"; States.ALL does not catch it)
#[tokio::test]
async fn a_missing_parameters_path_fails_with_states_runtime_naming_state_and_event() {
    let (engine, _dir) = engine().await;
    // Events: 1 ExecutionStarted, 2-3 the first Pass state, 4 PassStateEntered of 'Fast'.
    let d = run_on(
        &engine,
        json!({"StartAt": "First", "States": {
            "First": {"Type": "Pass", "Next": "Fast"},
            "Fast": {"Type": "Pass", "Parameters": {"m.$": "$.nope"}, "End": true}}}),
        json!({"x": "a"}),
    )
    .await;
    assert_eq!(
        failure(&d),
        (
            "States.Runtime",
            r#"An error occurred while executing the state 'Fast' (entered at the event id #4). The JSONPath '$.nope' specified for the field 'm.$' could not be found in the input '{"x":"a"}'"#
        )
    );
    let events = engine
        .get_execution_history(&d.execution_arn, &HistoryRequest::default())
        .unwrap()
        .events;
    assert_eq!(events[3]["type"], json!("PassStateEntered"));
    assert_eq!(events[3]["id"], json!(4));

    // A Task state enters (event 2) before it resolves its Parameters; a catcher on
    // States.ALL does not catch the runtime error.
    let d = run_on(
        &engine,
        json!({"StartAt": "Call", "States": {
            "Call": {"Type": "Task", "Resource": "arn:aws:lambda:local:000000000000:function:absent",
                "Parameters": {"address.$": "$.application.address"},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": true},
            "Caught": {"Type": "Succeed"}}}),
        json!({"flagged": false}),
    )
    .await;
    assert_eq!(
        failure(&d),
        (
            "States.Runtime",
            r#"An error occurred while executing the state 'Call' (entered at the event id #2). The JSONPath '$.application.address' specified for the field 'address.$' could not be found in the input '{"flagged":false}'"#
        )
    );
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
// (States.Runtime: "such as attempting to apply InputPath or OutputPath on a null JSON
// payload"). AWS's text after the state prefix is not documented; the engine's own
// wording follows it.
#[tokio::test]
async fn input_and_output_path_failures_are_runtime_errors_naming_the_state() {
    let d = run(
        json!({"StartAt": "S", "States": {"S": {"Type": "Pass", "InputPath": "$.missing", "End": true}}}),
        json!({"a": 1}),
    )
    .await;
    let (error, cause) = failure(&d);
    assert_eq!(error, "States.Runtime");
    assert!(
        cause.starts_with(
            "An error occurred while executing the state 'S' (entered at the event id #2). "
        ) && cause.contains("InputPath '$.missing'"),
        "{cause}"
    );
    let d = run(
        json!({"StartAt": "S", "States": {"S": {"Type": "Succeed", "OutputPath": "$.gone"}}}),
        json!({"a": 1}),
    )
    .await;
    let (error, cause) = failure(&d);
    assert_eq!(error, "States.Runtime");
    assert!(
        cause.starts_with(
            "An error occurred while executing the state 'S' (entered at the event id #2). "
        ) && cause.contains("OutputPath '$.gone'"),
        "{cause}"
    );
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
// (States.ResultPathMatchFailure: "A state's ResultPath field cannot be applied to the
// input the state received"; it is not a terminal error, so a catcher can handle it)
#[tokio::test]
async fn a_result_path_that_cannot_be_applied_is_a_result_path_match_failure() {
    let d = run(
        json!({"StartAt": "S", "States": {"S": {"Type": "Pass", "Result": 1, "ResultPath": "$.who.deeper", "End": true}}}),
        json!({"who": "AWS Step Functions"}),
    )
    .await;
    assert_eq!(failure(&d).0, "States.ResultPathMatchFailure");
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html
// (MaxConcurrencyPath: a reference path to a non-negative integer in the state input;
// "A Map state cannot include both MaxConcurrency and MaxConcurrencyPath")
#[tokio::test]
async fn map_reads_its_concurrency_bound_from_max_concurrency_path() {
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
    let map = |bound: Value| {
        let mut state = json!({"Type": "Map", "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:local:000000000000:function:slow", "End": true}}},
            "End": true});
        for (k, v) in bound.as_object().unwrap() {
            state[k] = v.clone();
        }
        json!({"StartAt": "M", "States": {"M": state}})
    };
    let d = run_on(
        &engine,
        map(json!({"MaxConcurrencyPath": "$.limit"})),
        json!({"limit": 2, "items": [1, 2, 3, 4, 5]}),
    )
    .await;
    assert_eq!(output(&d), json!(["done", "done", "done", "done", "done"]));
    assert_eq!(active.lock().unwrap().1, 2);

    // 0 means no bound, as for MaxConcurrency.
    let d = run_on(
        &engine,
        map(json!({"MaxConcurrencyPath": "$.limit"})),
        json!({"limit": 0, "items": [1, 2]}),
    )
    .await;
    assert_eq!(output(&d), json!(["done", "done"]));

    for bad in [json!(-1), json!("2"), json!(1.5)] {
        let d = run_on(
            &engine,
            map(json!({"MaxConcurrencyPath": "$.limit"})),
            json!({"limit": bad, "items": [1]}),
        )
        .await;
        let (error, cause) = failure(&d);
        assert_eq!(error, "States.Runtime");
        assert!(cause.contains("not a non-negative integer"), "{cause}");
    }
    let d = run_on(
        &engine,
        map(json!({"MaxConcurrencyPath": "$.limit"})),
        json!({"items": [1]}),
    )
    .await;
    assert_eq!(failure(&d).0, "States.Runtime");

    for invalid in [
        json!({"MaxConcurrency": 2, "MaxConcurrencyPath": "$.limit"}),
        json!({"MaxConcurrencyPath": "$.limits[*]"}),
        json!({"MaxConcurrencyPath": 3}),
    ] {
        let err = engine
            .create_state_machine("edges", &map(invalid.clone()).to_string(), &BTreeMap::new())
            .unwrap_err();
        assert!(
            err.to_string().contains("MaxConcurrency"),
            "{invalid}: {err}"
        );
    }
}

// https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-math-operation
// (States.MathAdd: "If you specify a non-integer value for one or both the arguments, Step
// Functions will round it off to the nearest integer")
#[tokio::test]
async fn math_add_rounds_decimals_in_a_state() {
    let d = run(
        json!({"StartAt": "Add", "States": {"Add": {"Type": "Pass",
            "Parameters": {"value.$": "States.MathAdd($.value1, $.step)"}, "End": true}}}),
        json!({"value1": 110.8, "step": -1.2}),
    )
    .await;
    assert_eq!(output(&d), json!({"value": 110}));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html
// (paths follow the Jayway JsonPath syntax; bracket notation quotes a field name, and a
// quote inside it is escaped with a backslash, written `\\'` inside a JSON string)
#[tokio::test]
async fn bracket_notation_with_escaped_quotes_in_a_definition() {
    let d = run(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
            "InputPath": "$['it\\'s']",
            "Parameters": {"v.$": "$['say \"hi\"']", "w.$": "States.Format('{}!', $['say \"hi\"'])"},
            "ResultPath": "$['it\\'s']", "End": true}}}),
        json!({"it's": {"say \"hi\"": "hello"}}),
    )
    .await;
    assert_eq!(output(&d), json!({"it's": {"v": "hello", "w": "hello!"}}));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
// (States.Runtime ends the execution); the cause names the state inside the iteration
// that raised it and the event that entered that state, not the Map state around it.
#[tokio::test]
async fn a_runtime_error_inside_a_map_iteration_names_the_inner_state() {
    let (engine, _dir) = engine().await;
    let d = run_on(
        &engine,
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
            "ItemProcessor": {"StartAt": "Inner", "States": {
                "Inner": {"Type": "Pass", "Parameters": {"v.$": "$.absent"}, "End": true}}}}}}),
        json!([{"x": 1}]),
    )
    .await;
    let events = engine
        .get_execution_history(&d.execution_arn, &HistoryRequest::default())
        .unwrap()
        .events;
    let entered = events
        .iter()
        .find(|e| e["type"] == json!("PassStateEntered"))
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        failure(&d),
        (
            "States.Runtime",
            format!(
                r#"An error occurred while executing the state 'Inner' (entered at the event id #{entered}). The JSONPath '$.absent' specified for the field 'v.$' could not be found in the input '{{"x":1}}'"#
            )
            .as_str()
        )
    );
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
// (States.DataLimitExceeded: thrown "when the output of a connector is larger than payload
// size quota"; "a terminal error that can't be caught by the States.ALL error type") and
// https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html (256 KiB).
// AWS's cause text is not documented; the engine's names the state and the sizes.
#[tokio::test]
async fn a_task_result_over_256_kib_is_a_data_limit_error_that_states_all_does_not_catch() {
    let (engine, _dir) = engine().await;
    engine.register_function(
        "big",
        engine::handler(|_req| Ok(json!("x".repeat(256 * 1024)))),
    );
    let d = run_on(
        &engine,
        json!({"StartAt": "Call", "States": {
            "Call": {"Type": "Task", "Resource": "arn:aws:lambda:local:000000000000:function:big",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": true},
            "Caught": {"Type": "Succeed"}}}),
        json!({}),
    )
    .await;
    let (error, cause) = failure(&d);
    assert_eq!(error, "States.DataLimitExceeded");
    assert!(
        cause.contains("'Call'") && cause.contains("262146 bytes") && cause.contains("262144"),
        "{cause}"
    );
}
