//! The seed pipeline written in JSONata (`infra/statemachine/mlops.jsonata.asl.json`) runs
//! the same pipeline as `mlops.asl.json`: on the iris data, each definition in its own
//! engine, both ask for the approval with the same payload and a task token, deploy the same
//! endpoint with the same config and tags, and the served models answer alike; a rejection
//! ends both through their `Rejected` state with the decision's error and cause.

use crate::common::*;
use engine::sagemaker::Tag;
use engine::{Engine, ExecutionStatus};
use serde_json::{json, Value};

const INPUT: &str = r#"{"commitID": "d236eba5-09-03-2020-18-29-15", "imageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/iris:d236eba5"}"#;
const COMMIT: &str = "d236eba5-09-03-2020-18-29-15";

fn start(engine: &Engine, definition: &str, name: &str) -> String {
    let arn = engine
        .create_state_machine("mlops", &read(definition), &local_substitutions())
        .unwrap();
    engine
        .start_execution(&arn, Some(name), Some(INPUT))
        .unwrap()
        .execution_arn
}

/// What one approved run leaves behind, to compare between the two definitions.
#[derive(Debug, PartialEq)]
struct Deployed {
    /// The approval request's payload without the token and execution ARN (which differ).
    approval_payload: Value,
    endpoint_config: Value,
    endpoint_status: Value,
    endpoint_tags: Vec<Tag>,
    config_variants: Value,
    predictions: Vec<String>,
    transform_output: String,
    decision: Value,
}

async fn approve(definition: &str) -> Deployed {
    let root = tempfile::tempdir().unwrap();
    let engine = open(root.path()).await;
    let arn = start(&engine, definition, "approve");
    let token = wait_for_pending_token(&engine, &arn).await;
    let pending = engine.pending_callbacks().unwrap();
    assert_eq!(pending.len(), 1, "{definition}");
    assert_eq!(pending[0].1.state_name, "Send Approve/Reject Email Request");
    let mut payload = pending[0].1.parameters["Payload"].clone();
    assert_eq!(payload["token"], json!(token), "{definition}");
    assert_eq!(payload["execution"], json!(arn), "{definition}");
    payload.as_object_mut().unwrap().remove("token");
    payload.as_object_mut().unwrap().remove("execution");
    let notes = engine.notifications().unwrap();
    assert!(notes.iter().any(|n| n.kind == "approval_requested"));

    let decision = json!({"decision": "approved", "by": "ana", "comment": "looks good"});
    engine
        .send_task_success(&token, &decision.to_string())
        .unwrap();
    let done = engine.wait_for_execution(&arn).await.unwrap();
    assert_eq!(
        done.status,
        ExecutionStatus::Succeeded,
        "{definition}: {done:?}"
    );
    let output: Value = serde_json::from_str(done.output.as_deref().unwrap()).unwrap();

    let sm = engine.sagemaker();
    let endpoint = sm.describe_endpoint(SERVING).unwrap();
    let config = sm
        .describe_endpoint_config(endpoint["EndpointConfigName"].as_str().unwrap())
        .unwrap();
    let predictions = read("engine/data/iris/test.csv")
        .lines()
        .map(|row| {
            let features = row.split_once(',').unwrap().1;
            sm.invoke_endpoint(SERVING, features).unwrap()
        })
        .collect();
    let transform_output = std::fs::read_to_string(root.path().join(format!(
        "data/ml-models/transform_output/{COMMIT}/test.csv.out"
    )))
    .unwrap();
    let mut tags = sm
        .list_tags(endpoint["EndpointArn"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        tags,
        vec![
            Tag::new("gatehouse:commit", COMMIT),
            Tag::new("gatehouse:execution", arn.as_str())
        ],
        "{definition}"
    );
    tags.retain(|t| t.key != "gatehouse:execution");
    assert!(engine
        .notifications()
        .unwrap()
        .iter()
        .any(|n| n.kind == "endpoint_ready"));
    Deployed {
        approval_payload: payload,
        endpoint_config: endpoint["EndpointConfigName"].clone(),
        endpoint_status: endpoint["EndpointStatus"].clone(),
        endpoint_tags: tags,
        config_variants: config["ProductionVariants"].clone(),
        predictions,
        transform_output,
        decision: output["output"].clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_definitions_deploy_the_same_endpoint() {
    let jsonpath = approve(DEFINITIONS[0]).await;
    let jsonata = approve(DEFINITIONS[1]).await;
    assert_eq!(jsonpath.endpoint_config, json!(COMMIT));
    assert_eq!(jsonpath.endpoint_status, json!("InService"));
    assert_eq!(
        jsonpath.approval_payload,
        json!({"commitID": COMMIT, "s3_batch_output": format!("s3://ml-models/transform_output/{COMMIT}")})
    );
    assert_eq!(
        jsonpath.decision,
        json!({"decision": "approved", "by": "ana", "comment": "looks good"})
    );
    assert_eq!(jsonpath.predictions.len(), 30);
    assert_eq!(jsonata, jsonpath);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_definitions_end_a_rejection_in_their_rejected_state() {
    for definition in DEFINITIONS {
        let root = tempfile::tempdir().unwrap();
        let engine = open(root.path()).await;
        let arn = start(&engine, definition, "reject");
        let token = wait_for_pending_token(&engine, &arn).await;
        let cause = json!({"decision": "rejected", "by": "bob"}).to_string();
        engine
            .send_task_failure(&token, "rejected", &cause)
            .unwrap();
        let done = engine.wait_for_execution(&arn).await.unwrap();
        assert_eq!(done.status, ExecutionStatus::Failed, "{definition}");
        assert_eq!(done.error.as_deref(), Some("rejected"), "{definition}");
        assert_eq!(done.cause.as_deref(), Some(cause.as_str()), "{definition}");
        assert!(history(&engine, &arn)
            .iter()
            .any(|e| e["type"] == "FailStateEntered"
                && e["stateEnteredEventDetails"]["name"] == "Rejected"));
        assert!(engine.sagemaker().describe_endpoint(SERVING).is_err());
    }
}
