//! Workflow variables across scopes, at their limits and across a restart, against AWS's
//! "Passing data between states with variables" page
//! (https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html, "the
//! variables page" below): Map iterations and Parallel branches read outer variables, keep
//! their own to themselves and cannot assign outer ones; the size limits; and an execution
//! that waits for a callback keeps its variables when the engine restarts.

use crate::common::history;
use crate::states::{engine, output, run, run_on};
use crate::variables::exited;
use engine::{handler, Engine, EngineConfig, ExecutionStatus};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

// The variables page, "Variable scope": "Parallel branches and Map iterations can access
// variable values from outer scopes, but they do not have access to variable values from
// other concurrent branches or iterations", and "when a Parallel or Map state completes,
// all of their variables will go out of scope and stop being accessible".
#[tokio::test]
async fn map_iterations_read_outer_variables_and_keep_their_own() {
    let (engine, _dir) = engine().await;
    let definition = |after: Value| {
        json!({"StartAt": "State0", "States": {
            "State0": {"Type": "Pass", "Assign": {"x": 42, "items": [1, 2, 3]}, "Next": "State1"},
            "State1": {"Type": "Map", "ItemsPath": "$items", "MaxConcurrency": 0,
                "ItemProcessor": {"StartAt": "Inner", "States": {
                    "Inner": {"Type": "Pass", "Assign": {"innerX.$": "$x", "item.$": "$"}, "Next": "Later"},
                    "Later": {"Type": "Wait", "Seconds": 0, "Next": "Read"},
                    "Read": {"Type": "Pass", "Parameters": {"item.$": "$item", "innerX.$": "$innerX"}, "End": true}}},
                "Next": "State2"},
            "State2": after
        }})
    };
    let d = run_on(
        &engine,
        definition(
            json!({"Type": "Pass", "Assign": {"final.$": "$x"}, "Parameters": {"final.$": "$x", "mapped.$": "$"}, "End": true}),
        ),
        json!({}),
    )
    .await;
    assert_eq!(
        output(&d),
        json!({"final": 42, "mapped": [
            {"item": 1, "innerX": 42}, {"item": 2, "innerX": 42}, {"item": 3, "innerX": 42}]})
    );
    // Each iteration's exited event lists only what it assigned.
    let inner: Vec<Value> = history(&engine, &d.execution_arn)
        .into_iter()
        .filter(|e| {
            e["type"] == "PassStateExited" && e["stateExitedEventDetails"]["name"] == "Inner"
        })
        .map(|e| e["stateExitedEventDetails"]["assignedVariables"].clone())
        .collect();
    assert_eq!(inner.len(), 3);
    assert!(
        inner.contains(&json!({"innerX": "42", "item": "2"})),
        "{inner:?}"
    );

    let d = run_on(
        &engine,
        definition(json!({"Type": "Pass", "Parameters": {"leak.$": "$item"}, "End": true})),
        json!({}),
    )
    .await;
    assert_eq!(d.status, ExecutionStatus::Failed);
    assert_eq!(d.error.as_deref(), Some("States.Runtime"));
    assert!(d.cause.as_deref().unwrap().contains("'$item'"), "{d:?}");
}

// The variables page, "Variable scope" (as for Map iterations): each Parallel branch has a
// scope of its own, so sibling branches may use the same names.
#[tokio::test]
async fn parallel_branches_have_scopes_of_their_own() {
    let branch = |name: &str, value: &str| {
        json!({"StartAt": name, "States": {
            name: {"Type": "Pass", "Assign": {"innerX.$": "$x", "value": value}, "Next": format!("{name}Read")},
            format!("{name}Read"): {"Type": "Pass", "Parameters": {"innerX.$": "$innerX", "value.$": "$value"}, "End": true}}})
    };
    let (engine, _dir) = engine().await;
    let definition = |after: Value| {
        json!({"StartAt": "State0", "States": {
            "State0": {"Type": "Pass", "Assign": {"x": 42}, "Next": "State1"},
            "State1": {"Type": "Parallel", "Next": "State2",
                "Branches": [branch("Branch1", "one"), branch("Branch2", "two"), branch("Branch3", "three")]},
            "State2": after}})
    };
    let d = run_on(
        &engine,
        definition(json!({"Type": "Pass", "End": true})),
        json!({}),
    )
    .await;
    assert_eq!(
        output(&d),
        json!([{"innerX": 42, "value": "one"}, {"innerX": 42, "value": "two"}, {"innerX": 42, "value": "three"}])
    );
    let d = run_on(
        &engine,
        definition(json!({"Type": "Pass", "Parameters": {"leak.$": "$value"}, "End": true})),
        json!({}),
    )
    .await;
    assert_eq!(d.error.as_deref(), Some("States.Runtime"), "{d:?}");
}

// The variables page ("Variable scope": inner scopes reach every outer scope) with
// https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html
// (States.MathAdd rounds a non-integer argument to the nearest integer): a Map inside a Map
// adds the outermost $bias (4.3, counted as 4) to the three values its own iteration
// assigned: 9 + 44 + 6 + 4 = 63, 82 + 25 + 76 + 4 = 187, 18 + 42 + 2 + 4 = 66.
#[tokio::test]
async fn nested_iterations_read_every_outer_scope() {
    let d = run(
        json!({"StartAt": "Input", "States": {
            "Input": {"Type": "Pass", "Result": [[9, 44, 6], [82, 25, 76], [18, 42, 2]],
                "Assign": {"bias": 4.3}, "Next": "IterateLevels"},
            "IterateLevels": {"Type": "Map", "MaxConcurrency": 1, "End": true,
                "ItemProcessor": {"StartAt": "AssignCurrentVector", "States": {
                    "AssignCurrentVector": {"Type": "Pass",
                        "Assign": {"xCurrent.$": "$[0]", "yCurrent.$": "$[1]", "zCurrent.$": "$[2]"}, "Next": "Calculate"},
                    "Calculate": {"Type": "Map", "MaxConcurrency": 1, "End": true,
                        "ItemProcessor": {"StartAt": "Summate", "States": {
                            "Summate": {"Type": "Pass", "Assign": {"Sum.$":
                                "States.MathAdd(States.MathAdd(States.MathAdd($yCurrent, $xCurrent), $zCurrent), $bias)"},
                                "Next": "Report"},
                            "Report": {"Type": "Pass", "Parameters": {"sum.$": "$Sum"}, "OutputPath": "$.sum", "End": true}}}}}}}
        }}),
        json!({}),
    )
    .await;
    assert_eq!(
        output(&d),
        json!([[63, 63, 63], [187, 187, 187], [66, 66, 66]])
    );
}

// The variables page, "Variable scope": "a variable assigned in an inner scope cannot have
// the same name as one assigned in an outer scope. For example, if the top-level scope
// assigns a value to a variable called myVariable, then no other scope (inside a Map,
// Parallel) can assign to myVariable as well." CreateStateMachine refuses the definition.
#[tokio::test]
async fn an_inner_scope_assigning_an_outer_name_is_refused() {
    let (engine, _dir) = engine().await;
    let err = engine
        .create_state_machine(
            "scopes",
            &json!({"StartAt": "Top", "States": {
                "Top": {"Type": "Pass", "Assign": {"myVariable": 1}, "Next": "Each"},
                "Each": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "Inner", "States": {
                    "Inner": {"Type": "Pass", "Assign": {"myVariable": 2}, "End": true}}}}}})
            .to_string(),
            &BTreeMap::new(),
        )
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("States.Each.ItemProcessor.States.Inner.Assign: the variable 'myVariable' is assigned in an outer scope"),
        "{text}"
    );
}

/// A JSON string of `bytes` bytes once serialized (with its two quotes).
fn string_of(bytes: usize) -> String {
    "x".repeat(bytes - 2)
}

// The variables page, "Limits": "The maximum size of a single variable is 256Kib", "the
// maximum combined size for all variables in a single Assign field is also 256Kib. For
// example, you could assign X and Y to 128KiB, but you could not assign both X and Y to
// 256KiB in the same Assign field." Going past a limit fails the execution with
// States.DataLimitExceeded (the terminal error of the concepts-error-handling page for data
// over a quota), naming the state.
#[tokio::test]
async fn variable_size_limits_from_the_docs() {
    let (engine, _dir) = engine().await;
    let both_128 = run_on(
        &engine,
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "ResultPath": null,
            "Assign": {"X.$": "$.t", "Y.$": "$.t"}, "End": true}}}),
        json!({"t": string_of(128 * 1024)}),
    )
    .await;
    assert_eq!(both_128.status, ExecutionStatus::Succeeded, "{both_128:?}");
    // Half of a 256 KiB string, so that "{}{}" of it is 256 KiB serialized.
    let input = json!({"half": "x".repeat((256 * 1024 - 2) / 2)});

    let one_256 = run_on(
        &engine,
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "ResultPath": null,
            "Assign": {"X.$": "States.Format('{}{}', $.half, $.half)"}, "End": true}}}),
        input.clone(),
    )
    .await;
    assert_eq!(one_256.status, ExecutionStatus::Succeeded, "{one_256:?}");

    let both_256 = run_on(
        &engine,
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "ResultPath": null,
            "Assign": {"X.$": "States.Format('{}{}', $.half, $.half)",
                       "Y.$": "States.Format('{}{}', $.half, $.half)"}, "End": true}}}),
        input.clone(),
    )
    .await;
    assert_eq!(both_256.status, ExecutionStatus::Failed);
    assert_eq!(both_256.error.as_deref(), Some("States.DataLimitExceeded"));
    assert!(
        both_256
            .cause
            .as_deref()
            .unwrap()
            .contains("combined size of 524288 bytes"),
        "{both_256:?}"
    );

    let over = run_on(
        &engine,
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "ResultPath": null,
            "Assign": {"X.$": "States.Format('{}{}x', $.half, $.half)"}, "End": true}}}),
        input,
    )
    .await;
    assert_eq!(over.error.as_deref(), Some("States.DataLimitExceeded"));
    assert!(
        over.cause
            .as_deref()
            .unwrap()
            .contains("variable 'X' has a size of 262145 bytes"),
        "{over:?}"
    );
}

// The variables page, "Limits": "The total size of all stored variables cannot exceed 10MiB
// per execution." 40 variables of 262,138 bytes fit (10,485,520 bytes); the 41st goes over
// 10,485,760 bytes.
#[tokio::test]
async fn all_variables_of_an_execution_stay_under_10_mib() {
    let mut states = serde_json::Map::new();
    states.insert(
        "Start".into(),
        json!({"Type": "Pass", "Parameters": {}, "Next": "V0"}),
    );
    for i in 0..41 {
        let mut state = json!({"Type": "Pass",
            "Assign": {format!("v{i}.$"): "$$.Execution.Input.s"}});
        if i == 40 {
            state["End"] = json!(true);
        } else {
            state["Next"] = json!(format!("V{}", i + 1));
        }
        states.insert(format!("V{i}"), state);
    }
    // {"s":"…"} is 8 bytes more than the string's characters: 262,144 bytes in all.
    let input = json!({"s": "x".repeat(262_136)});
    let d = run(json!({"StartAt": "Start", "States": states}), input).await;
    assert_eq!(d.status, ExecutionStatus::Failed, "{:?}", d.error);
    assert_eq!(d.error.as_deref(), Some("States.DataLimitExceeded"));
    let cause = d.cause.unwrap();
    assert!(cause.contains("10747658 bytes"), "{cause}");
    assert!(cause.contains("10485760"), "{cause}");
}

async fn open(root: &Path) -> Engine {
    // Registered before open: the execution it resumes may start the next iteration, which
    // calls it, straight away.
    let config = EngineConfig::new(Some(root.join("db.sqlite")), root.join("data"))
        .with_function("notify", handler(|_req| Ok(json!({}))));
    Engine::open(config).await.unwrap()
}

/// A new open callback of `exec` (its token and its scheduled `Payload`), once its task
/// has been submitted.
async fn next_callback(engine: &Engine, exec: &str, seen: &[String]) -> (String, Value) {
    for _ in 0..3000 {
        let pending = engine.pending_callbacks_of(exec).unwrap();
        if let Some((token, payload)) = pending
            .into_iter()
            .filter_map(|c| Some((c.token?, c.parameters["Payload"].clone())))
            .find(|(t, _)| !seen.contains(t))
        {
            let submitted = history(engine, exec)
                .iter()
                .filter(|e| e["type"] == "TaskSubmitted")
                .count();
            if submitted > seen.len() {
                return (token, payload);
            }
        }
        let d = engine.describe_execution(exec).unwrap();
        assert_eq!(d.status, ExecutionStatus::Running, "{d:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the execution never asked for a decision");
}

/// The decision for the item a callback asks about.
fn decision(payload: &Value) -> String {
    json!({"decision": format!("approved {}", payload["item"].as_str().unwrap())}).to_string()
}

// Durability: an execution that waits for a .waitForTaskToken callback across an engine
// restart keeps the variables of its top-level scope and of the Map iteration it waits in.
// The expected values are the ones the variables page's rules give without a restart:
// assignments visible to later states in their scope, the Task's Assign reading its result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variables_survive_a_restart_while_a_callback_waits() {
    let root = tempfile::tempdir().unwrap();
    let definition = json!({"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Assign": {"approver": "ana", "round": 1}, "Next": "Each"},
        "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "Next": "Done",
            "ItemProcessor": {"StartAt": "Keep", "States": {
                "Keep": {"Type": "Pass", "Assign": {"item.$": "$"}, "Next": "Approve"},
                "Approve": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "Parameters": {"FunctionName": "notify",
                        "Payload": {"token.$": "$$.Task.Token", "who.$": "$approver", "item.$": "$item"}},
                    "Assign": {"decision.$": "$.decision"}, "Next": "Use"},
                "Use": {"Type": "Pass", "Parameters": {"item.$": "$item", "decision.$": "$decision",
                    "approver.$": "$approver"}, "End": true}}}},
        "Done": {"Type": "Pass", "Parameters": {"approver.$": "$approver", "round.$": "$round", "results.$": "$"}, "End": true}
    }});

    let first = open(root.path()).await;
    let arn = first
        .create_state_machine("durable", &definition.to_string(), &BTreeMap::new())
        .unwrap();
    let exec = first
        .start_execution(&arn, Some("d"), Some(r#"{"items": ["a", "b"]}"#))
        .unwrap()
        .execution_arn;
    // Iterations run one at a time, in an order the test does not assume: each decision
    // names the item its callback asked about.
    let (first_token, first_payload) = next_callback(&first, &exec, &[]).await;
    assert_eq!(first_payload["who"], "ana", "{first_payload}");
    first.shutdown();
    drop(first);

    let second = open(root.path()).await;
    second
        .send_task_success(&first_token, &decision(&first_payload))
        .unwrap();
    let (second_token, second_payload) =
        next_callback(&second, &exec, std::slice::from_ref(&first_token)).await;
    assert_ne!(first_payload["item"], second_payload["item"]);
    assert_eq!(second_payload["who"], "ana", "{second_payload}");
    second.shutdown();
    drop(second);

    let third = open(root.path()).await;
    third
        .send_task_success(&second_token, &decision(&second_payload))
        .unwrap();
    let d = tokio::time::timeout(Duration::from_secs(20), third.wait_for_execution(&exec))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        output(&d),
        json!({"approver": "ana", "round": 1, "results": [
            {"item": "a", "decision": "approved a", "approver": "ana"},
            {"item": "b", "decision": "approved b", "approver": "ana"}]})
    );
    let approve = exited(&third, &exec, "Approve");
    let assigned = approve["assignedVariables"]["decision"].as_str().unwrap();
    assert!(
        assigned == "\"approved a\"" || assigned == "\"approved b\"",
        "{approve}"
    );
}
