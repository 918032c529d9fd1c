//! Acceptance: the seed pipeline (`infra/statemachine/mlops.asl.json`) end to end on iris,
//! and the article's own definition unchanged.

use crate::common::*;
use engine::sagemaker::{ErrorCode, Tag};
use engine::{EngineConfig, ExecutionStatus};
use serde_json::{json, Value};
use std::time::Duration;

const INPUT: &str = r#"{"commitID": "d236eba5-09-03-2020-18-29-15", "imageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/iris:d236eba5"}"#;
const COMMIT: &str = "d236eba5-09-03-2020-18-29-15";

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

    // The approved model serves on the stable endpoint, through the commit's config.
    let sm = engine.sagemaker();
    let endpoint = sm.describe_endpoint(SERVING).unwrap();
    assert_eq!(endpoint["EndpointStatus"], "InService");
    assert_eq!(endpoint["EndpointConfigName"], COMMIT);
    assert_eq!(
        sm.invoke_endpoint(SERVING, "4.5,1.3,0.3,0.3").unwrap(),
        "setosa"
    );
    assert_eq!(
        sm.invoke_endpoint(SERVING, "5.9,3,5.1,1.8").unwrap(),
        "virginica"
    );
    // Everything the execution created names its commit and execution in its tags.
    let expected = vec![
        Tag::new("gatehouse:commit", COMMIT),
        Tag::new("gatehouse:execution", arn.as_str()),
    ];
    for kind in ["training-job", "model", "transform-job", "endpoint-config"] {
        let resource = format!("arn:aws:sagemaker:local:000000000000:{kind}/{COMMIT}");
        assert_eq!(sm.list_tags(&resource).unwrap(), expected, "{kind}");
    }
    let endpoint_arn = endpoint["EndpointArn"].as_str().unwrap();
    assert_eq!(sm.list_tags(endpoint_arn).unwrap(), expected);
    assert!(endpoint.get("Tags").is_none());
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
    assert_eq!(
        engine
            .sagemaker()
            .describe_endpoint(SERVING)
            .unwrap_err()
            .code,
        ErrorCode::ValidationException
    );
    assert_eq!(
        engine
            .sagemaker()
            .describe_endpoint_config(COMMIT)
            .unwrap_err()
            .code,
        ErrorCode::ValidationException
    );
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
    // The article creates the endpoint and moves on; it serves once it is InService.
    let endpoint = engine.sagemaker().wait_for_endpoint(COMMIT).await.unwrap();
    assert_eq!(endpoint["EndpointStatus"], "InService");
    assert_eq!(
        engine
            .sagemaker()
            .invoke_endpoint(COMMIT, "4.5,1.3,0.3,0.3")
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
            .invoke_endpoint(SERVING, "5.9,3,5.1,1.8")
            .unwrap(),
        "virginica"
    );
}

/// The stable endpoint across commits: the first approved commit creates it, the next
/// one updates it (the first keeps answering while it is Updating), an operator's
/// UpdateEndpoint back to the first config rolls it back, and a commit whose model cannot
/// load is rolled back by SageMaker — the endpoint keeps serving and the execution fails.
#[tokio::test(start_paused = true)]
async fn approved_commits_update_one_endpoint_and_a_broken_model_is_rolled_back() {
    let root = tempfile::tempdir().unwrap();
    let engine = open(root.path()).await;
    let sm = engine.sagemaker();
    let machine = engine
        .create_state_machine(
            "mlops",
            &read("infra/statemachine/mlops.asl.json"),
            &local_substitutions(),
        )
        .unwrap();
    let train = root.path().join("data/ml-models/iris/train.csv");
    let original = std::fs::read_to_string(&train).unwrap();
    // A flower with short, narrow petals: iris says setosa.
    let row = "4.5,1.3,0.3,0.3";

    // 1. The first commit creates the endpoint.
    let first = "aaaa1111-01-01-2026-10-00-00";
    let arn = approve_commit(&engine, &machine, first, || {}).await;
    let done = engine.wait_for_execution(&arn).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    assert_eq!(sm.invoke_endpoint(SERVING, row).unwrap(), "setosa");

    // 2. The second commit trains on data whose setosa and virginica labels are swapped,
    // so its model calls the same flower virginica.
    let swapped: String = original
        .lines()
        .map(|l| match l.split_once(',') {
            Some(("setosa", rest)) => format!("virginica,{rest}\n"),
            Some(("virginica", rest)) => format!("setosa,{rest}\n"),
            _ => format!("{l}\n"),
        })
        .collect();
    std::fs::write(&train, swapped).unwrap();
    let second = "bbbb2222-01-01-2026-11-00-00";
    let arn = approve_commit(&engine, &machine, second, || {}).await;
    while sm.describe_endpoint(SERVING).unwrap()["EndpointStatus"] != "Updating" {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // While Updating, the first commit's model still answers.
    assert_eq!(sm.invoke_endpoint(SERVING, row).unwrap(), "setosa");
    let done = engine.wait_for_execution(&arn).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    let endpoint = sm.describe_endpoint(SERVING).unwrap();
    assert_eq!(endpoint["EndpointStatus"], "InService");
    assert_eq!(endpoint["EndpointConfigName"], second);
    assert_eq!(sm.invoke_endpoint(SERVING, row).unwrap(), "virginica");
    let endpoint_arn = endpoint["EndpointArn"].as_str().unwrap().to_string();
    assert_eq!(
        sm.list_tags(&endpoint_arn).unwrap(),
        vec![
            Tag::new("gatehouse:commit", second),
            Tag::new("gatehouse:execution", arn.as_str()),
        ]
    );

    // 3. An operator rolls the endpoint back to the first commit's config.
    sm.update_endpoint(SERVING, first).unwrap();
    assert_eq!(
        sm.wait_for_endpoint(SERVING).await.unwrap()["EndpointConfigName"],
        first
    );
    assert_eq!(sm.invoke_endpoint(SERVING, row).unwrap(), "setosa");

    // 4. A commit whose model artifact is damaged before it is deployed: the update
    // fails, SageMaker rolls it back, the first commit keeps answering.
    std::fs::write(&train, &original).unwrap();
    let third = "cccc3333-01-01-2026-12-00-00";
    let artifact = root
        .path()
        .join(format!("data/ml-models/output/{third}/output/model.json"));
    let arn = approve_commit(&engine, &machine, third, || {
        std::fs::write(&artifact, "{\"format\": \"not a model\"}").unwrap();
    })
    .await;
    let done = engine.wait_for_execution(&arn).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Failed, "{done:?}");
    assert_eq!(done.error.as_deref(), Some("EndpointRolledBack"));
    let cause = done.cause.unwrap();
    assert!(
        cause.contains(&format!("asked to serve endpoint config {third}"))
            && cause.contains(&format!("it serves endpoint config {first}"))
            && cause.contains("could not be loaded"),
        "{cause}"
    );
    let endpoint = sm.describe_endpoint(SERVING).unwrap();
    assert_eq!(endpoint["EndpointStatus"], "InService");
    assert_eq!(endpoint["EndpointConfigName"], first);
    assert!(endpoint["FailureReason"].as_str().unwrap().contains(third));
    assert_eq!(sm.invoke_endpoint(SERVING, row).unwrap(), "setosa");

    // The deployment history tells the same story.
    let history: Vec<(String, bool, bool)> = sm
        .endpoint_deployments(SERVING)
        .unwrap()
        .iter()
        .map(|d| {
            (
                d.endpoint_config_name.clone(),
                d.served_from.is_some(),
                d.failure_reason.is_some(),
            )
        })
        .collect();
    assert_eq!(
        history,
        vec![
            (first.to_string(), true, false),
            (second.to_string(), true, false),
            (first.to_string(), true, false),
            (third.to_string(), false, true),
        ]
    );
}
