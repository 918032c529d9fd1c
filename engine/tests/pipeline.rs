//! Acceptance: the seed pipeline (`infra/statemachine/mlops.asl.json`) end to end on iris,
//! and the article's own definition unchanged.

mod common;

use common::*;
use engine::{EngineConfig, ExecutionStatus};
use serde_json::{json, Value};
use std::time::Duration;

const INPUT: &str = r#"{"commitID": "d236eba5-09-03-2020-18-29-15", "imageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/iris:d236eba5"}"#;

fn start_mlops(engine: &engine::Engine, name: &str) -> String {
    let arn = engine
        .create_state_machine(
            "mlops",
            &read("infra/statemachine/mlops.asl.json"),
            &local_substitutions(),
        )
        .unwrap();
    engine
        .start_execution(&arn, Some(name), Some(INPUT))
        .unwrap()
        .execution_arn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_trains_predicts_and_serves_the_model() {
    let root = tempfile::tempdir().unwrap();
    let engine = open(root.path()).await;
    let arn = start_mlops(&engine, "approve");
    let token = wait_for_pending_token(&engine, &arn).await;

    // The batch transform wrote one label per test row.
    let predictions = root
        .path()
        .join("data/ml-models/transform_output/d236eba5-09-03-2020-18-29-15/test.csv.out");
    let text = std::fs::read_to_string(&predictions).unwrap();
    let labels: Vec<&str> = text.lines().collect();
    assert_eq!(labels.len(), 30);
    assert!(
        labels
            .iter()
            .all(|l| ["setosa", "versicolor", "virginica"].contains(l)),
        "{labels:?}"
    );
    let truth: Vec<String> = read("engine/data/iris/test.csv")
        .lines()
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    let correct = labels.iter().zip(&truth).filter(|(p, t)| *p == t).count();
    assert!(
        correct >= 26,
        "only {correct}/30 test rows predicted correctly"
    );

    // The approver was notified with a dashboard link and without the token in clear.
    let notes = engine.notifications().unwrap();
    let approval = notes
        .iter()
        .find(|n| n.kind == "approval_requested")
        .unwrap();
    assert!(approval.body["link"].as_str().unwrap().contains(&arn));
    assert!(!approval.body.to_string().contains(&token));

    let pending = engine.pending_callbacks().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].0.execution_arn, arn);
    assert_eq!(pending[0].1.state_name, "Send Approve/Reject Email Request");
    assert_eq!(pending[0].1.token.as_deref(), Some(token.as_str()));
    assert_eq!(
        pending[0].1.parameters["Payload"]["s3_batch_output"],
        "s3://ml-models/transform_output/d236eba5-09-03-2020-18-29-15"
    );
    let decision = json!({"decision": "approved", "by": "ana", "comment": "looks good", "at": "2026-01-01T00:00:00Z"});
    engine
        .send_task_success(&token, &decision.to_string())
        .unwrap();
    let done = engine.wait_for_execution(&arn).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    let output: Value = serde_json::from_str(done.output.as_deref().unwrap()).unwrap();
    assert_eq!(output["output"]["decision"], "approved");

    let sm = engine.sagemaker();
    let endpoint = sm
        .describe_endpoint("d236eba5-09-03-2020-18-29-15")
        .unwrap();
    assert_eq!(endpoint["EndpointStatus"], "InService");
    assert_eq!(
        sm.invoke_endpoint("d236eba5-09-03-2020-18-29-15", "4.5,1.3,0.3,0.3")
            .unwrap(),
        "setosa"
    );
    assert_eq!(
        sm.invoke_endpoint("d236eba5-09-03-2020-18-29-15", "5.9,3,5.1,1.8")
            .unwrap(),
        "virginica"
    );
    let job = sm
        .describe_training_job("d236eba5-09-03-2020-18-29-15")
        .unwrap();
    assert_eq!(job["TrainingJobStatus"], "Completed");
    assert!(job["ModelArtifacts"]["S3ModelArtifacts"]
        .as_str()
        .unwrap()
        .starts_with("s3://ml-models/output/"));

    // The history reads like Step Functions'.
    let types = event_types(&engine, &arn);
    for expected in [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "SucceedStateEntered",
        "ExecutionSucceeded",
        "LambdaFunctionScheduled",
        "LambdaFunctionSucceeded",
    ] {
        assert!(
            types.contains(&expected.to_string()),
            "{expected} missing from {types:?}"
        );
    }
    let events = history(&engine, &arn);
    let training = events
        .iter()
        .find(|e| e["type"] == "TaskScheduled")
        .unwrap();
    let params: Value = serde_json::from_str(
        training["taskScheduledEventDetails"]["parameters"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(params["TrainingJobName"], "d236eba5-09-03-2020-18-29-15");
    assert_eq!(
        training["taskScheduledEventDetails"]["resource"],
        "createTrainingJob.sync"
    );
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as i64).collect::<Vec<_>>());

    // A second decision is refused as Step Functions refuses it.
    assert!(engine.pending_callbacks().unwrap().is_empty());
    let again = engine.send_task_success(&token, "{}").unwrap_err();
    assert!(again.to_string().starts_with("TaskTimedOut"), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_fails_the_execution_through_the_rejected_catch() {
    let root = tempfile::tempdir().unwrap();
    let engine = open(root.path()).await;
    let arn = start_mlops(&engine, "reject");
    let token = wait_for_pending_token(&engine, &arn).await;
    let cause =
        json!({"decision": "rejected", "by": "bob", "comment": "accuracy too low"}).to_string();
    engine
        .send_task_failure(&token, "rejected", &cause)
        .unwrap();
    let done = engine.wait_for_execution(&arn).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Failed);
    assert_eq!(done.error.as_deref(), Some("rejected"));
    assert_eq!(done.cause.as_deref(), Some(cause.as_str()));
    let events = history(&engine, &arn);
    assert!(events
        .iter()
        .any(|e| e["type"] == "FailStateEntered"
            && e["stateEnteredEventDetails"]["name"] == "Rejected"));
    assert!(engine
        .sagemaker()
        .describe_endpoint("d236eba5-09-03-2020-18-29-15")
        .is_err());
    let second = engine.send_task_success(&token, "{}").unwrap_err();
    assert!(second.to_string().starts_with("TaskTimedOut"), "{second}");
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_approval_times_out_through_its_own_catch() {
    let root = tempfile::tempdir().unwrap();
    let engine = open(root.path()).await;
    let arn = start_mlops(&engine, "timeout");
    let token = wait_for_pending_token(&engine, &arn).await;
    // Paused time: the 24 h TimeoutSeconds elapses without sleeping.
    let done = engine.wait_for_execution(&arn).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Failed, "{done:?}");
    assert_eq!(done.error.as_deref(), Some("ApprovalTimedOut"));
    let types = event_types(&engine, &arn);
    assert!(types.contains(&"TaskTimedOut".to_string()), "{types:?}");
    let late = engine.send_task_success(&token, "{}").unwrap_err();
    assert!(late.to_string().starts_with("TaskTimedOut"), "{late}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_articles_definition_runs_unchanged() {
    let root = tempfile::tempdir().unwrap();
    let engine = open(root.path()).await;
    let arn = engine
        .create_state_machine(
            "article",
            &read("infra/statemachine/article.asl.json"),
            &local_substitutions(),
        )
        .unwrap();
    let execution = engine
        .start_execution(&arn, Some("article-run"), Some(INPUT))
        .unwrap()
        .execution_arn;
    let token = wait_for_pending_token(&engine, &execution).await;
    let out = root
        .path()
        .join("data/ml-models/transform_output/d236eba5-09-03-2020-18-29-15/iris.csv/iris.csv.out");
    assert_eq!(std::fs::read_to_string(out).unwrap().lines().count(), 150);
    engine.send_task_success(&token, "{}").unwrap();
    let done = engine.wait_for_execution(&execution).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    assert_eq!(
        engine
            .sagemaker()
            .invoke_endpoint("d236eba5-09-03-2020-18-29-15", "4.5,1.3,0.3,0.3")
            .unwrap(),
        "setosa"
    );
    assert!(engine
        .notifications()
        .unwrap()
        .iter()
        .any(|n| n.kind == "endpoint_ready"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_training_data_fails_the_job_with_a_clear_reason() {
    let root = tempfile::tempdir().unwrap();
    let data = data_dir_with_iris(root.path());
    std::fs::write(
        data.join("ml-models/iris/train.csv"),
        "setosa,5.1,3.5,1.4,0.2\nvirginica,abc,3.0,5.1,1.8\n",
    )
    .unwrap();
    let engine = engine::Engine::open(EngineConfig::new(None, data))
        .await
        .unwrap();
    let arn = start_mlops(&engine, "bad-data");
    let done = tokio::time::timeout(Duration::from_secs(60), engine.wait_for_execution(&arn))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, ExecutionStatus::Failed);
    assert_eq!(done.error.as_deref(), Some("States.TaskFailed"));
    let job = engine
        .sagemaker()
        .describe_training_job("d236eba5-09-03-2020-18-29-15")
        .unwrap();
    assert_eq!(job["TrainingJobStatus"], "Failed");
    assert_eq!(
        job["FailureReason"],
        "ClientError: train.csv line 2: the feature 'abc' is not a number"
    );
    assert!(done
        .cause
        .unwrap()
        .contains("the feature 'abc' is not a number"));
}

/// What a server does in local mode: one call deploys the pipeline with its sample data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_local_pipeline_is_enough_to_run_it() {
    let root = tempfile::tempdir().unwrap();
    let engine = engine::Engine::open(EngineConfig::new(None, root.path().join("fresh-data")))
        .await
        .unwrap();
    let arn = engine.deploy_local_pipeline("pipeline").unwrap();
    let execution = engine
        .start_execution(&arn, None, Some(INPUT))
        .unwrap()
        .execution_arn;
    let token = wait_for_pending_token(&engine, &execution).await;
    engine
        .send_task_success(&token, r#"{"decision": "approved"}"#)
        .unwrap();
    let done = engine.wait_for_execution(&execution).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    assert_eq!(
        engine
            .sagemaker()
            .invoke_endpoint("d236eba5-09-03-2020-18-29-15", "5.9,3,5.1,1.8")
            .unwrap(),
        "virginica"
    );
}
