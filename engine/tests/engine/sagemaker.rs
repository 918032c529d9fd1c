//! The local SageMaker API on its own: the calls the dashboard makes (describe, list,
//! update and delete endpoints, invoke, tags) and their errors, named as SageMaker names
//! them, plus the AWS SDK integration of Task states.

use crate::common::data_dir_with_iris;
use engine::sagemaker::{ErrorCode, Tag};
use engine::{Engine, EngineConfig};
use serde_json::{json, Value};

fn training_request(name: &str, channel: &str) -> Value {
    json!({
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": "local/iris:1", "TrainingInputMode": "File"},
        "OutputDataConfig": {"S3OutputPath": "s3://ml-models/output"},
        "InputDataConfig": [{"ChannelName": "training", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": channel}}}]
    })
}

async fn model(engine: &Engine, name: &str, channel: &str) {
    let sm = engine.sagemaker();
    sm.create_training_job(&training_request(name, channel))
        .unwrap();
    let job = sm.wait_for_training_job(name).await.unwrap();
    assert_eq!(job["TrainingJobStatus"], "Completed", "{job}");
    sm.create_model(&json!({"ModelName": name, "PrimaryContainer": {"Image": "local/iris:1", "ModelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"]}}))
        .unwrap();
    sm.create_endpoint_config(&json!({"EndpointConfigName": name, "ProductionVariants": [{"ModelName": name, "VariantName": "AllTraffic", "InitialInstanceCount": 1}]}))
        .unwrap();
}

/// An engine whose data dir has iris and a second, silly data set: to the model trained
/// on it, everything of iris size is "setosa".
async fn engine_with_two_models(root: &std::path::Path) -> Engine {
    let data = data_dir_with_iris(root);
    std::fs::write(
        data.join("ml-models/constant.csv"),
        "setosa,5,3,5,2\nversicolor,100,100,100,100\n",
    )
    .unwrap();
    let engine = Engine::open(EngineConfig::new(None, data)).await.unwrap();
    model(&engine, "iris-v1", "s3://ml-models/iris/train.csv").await;
    model(&engine, "constant-v2", "s3://ml-models/constant.csv").await;
    engine
}

/// A virginica: the iris model says so, the constant model says setosa.
const VIRGINICA: &str = "5.9,3,5.1,1.8";

// https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpoint.html,
// https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateEndpoint.html and
// https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DeleteEndpoint.html
// (Creating/Updating then InService; the old config serves while Updating; an update is
// refused while one is in progress; DescribeEndpoint's PendingDeploymentSummary)
#[tokio::test(start_paused = true)]
async fn endpoints_create_update_roll_back_and_delete() {
    let root = tempfile::tempdir().unwrap();
    let engine = engine_with_two_models(root.path()).await;
    let sm = engine.sagemaker();

    sm.create_endpoint(&json!({"EndpointName": "serving", "EndpointConfigName": "iris-v1"}))
        .unwrap();
    assert_eq!(
        sm.describe_endpoint("serving").unwrap()["EndpointStatus"],
        "Creating"
    );
    // Still Creating: the runtime's ModelNotReadyException, not an answer.
    assert_eq!(
        sm.invoke_endpoint("serving", VIRGINICA).unwrap_err().code,
        ErrorCode::ModelNotReady
    );
    assert_eq!(
        sm.wait_for_endpoint("serving").await.unwrap()["EndpointStatus"],
        "InService"
    );
    assert_eq!(
        sm.invoke_endpoint("serving", "4.5,1.3,0.3,0.3\n5.9,3,5.1,1.8")
            .unwrap(),
        "setosa\nvirginica"
    );

    sm.update_endpoint("serving", "constant-v2").unwrap();
    let updating = sm.describe_endpoint("serving").unwrap();
    assert_eq!(updating["EndpointStatus"], "Updating");
    assert_eq!(
        updating["PendingDeploymentSummary"]["EndpointConfigName"],
        "constant-v2"
    );
    // The old config answers until the update settles.
    assert_eq!(
        sm.invoke_endpoint("serving", VIRGINICA).unwrap(),
        "virginica"
    );
    let refused = sm.update_endpoint("serving", "iris-v1").unwrap_err();
    assert_eq!(refused.code, ErrorCode::ValidationException);
    assert_eq!(
        refused.message,
        "Cannot update in-progress endpoint \"arn:aws:sagemaker:local:000000000000:endpoint/serving\"."
    );
    assert_eq!(
        sm.delete_endpoint("serving").unwrap_err().code,
        ErrorCode::ValidationException
    );
    let config_in_update = sm.delete_endpoint_config("constant-v2").unwrap_err();
    assert!(
        config_in_update.message.contains("is being updated to"),
        "{config_in_update:?}"
    );

    let described = sm.wait_for_endpoint("serving").await.unwrap();
    assert_eq!(described["EndpointStatus"], "InService");
    assert_eq!(described["EndpointConfigName"], "constant-v2");
    assert!(described.get("PendingDeploymentSummary").is_none());
    assert_eq!(sm.invoke_endpoint("serving", VIRGINICA).unwrap(), "setosa");

    // Roll back.
    sm.update_endpoint("serving", "iris-v1").unwrap();
    sm.wait_for_endpoint("serving").await.unwrap();
    assert_eq!(
        sm.invoke_endpoint("serving", VIRGINICA).unwrap(),
        "virginica"
    );
    let history: Vec<(String, bool, bool)> = sm
        .endpoint_deployments("serving")
        .unwrap()
        .iter()
        .map(|d| {
            (
                d.endpoint_config_name.clone(),
                d.served_from.is_some(),
                d.served_until.is_some(),
            )
        })
        .collect();
    assert_eq!(
        history,
        vec![
            ("iris-v1".to_string(), true, true),
            ("constant-v2".to_string(), true, true),
            ("iris-v1".to_string(), true, false),
        ]
    );

    assert_eq!(sm.list_endpoints().unwrap().len(), 1);
    assert_eq!(sm.list_models().unwrap().len(), 2);
    assert_eq!(sm.list_endpoint_configs().unwrap().len(), 2);
    let jobs = sm.list_training_jobs().unwrap();
    assert_eq!(
        jobs.iter()
            .map(|j| j["TrainingJobName"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec!["constant-v2", "iris-v1"]
    );
}

// https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DeleteEndpoint.html
// (InvokeEndpoint of a missing endpoint: "Endpoint X of account Y not found.")
#[tokio::test(start_paused = true)]
async fn a_config_in_use_is_kept_and_a_deleted_endpoint_stops_answering() {
    let root = tempfile::tempdir().unwrap();
    let engine = engine_with_two_models(root.path()).await;
    let sm = engine.sagemaker();
    sm.create_endpoint(&json!({"EndpointName": "serving", "EndpointConfigName": "iris-v1"}))
        .unwrap();
    sm.wait_for_endpoint("serving").await.unwrap();

    let in_use = sm.delete_endpoint_config("iris-v1").unwrap_err();
    assert_eq!(in_use.code, ErrorCode::ResourceInUse);
    assert!(
        in_use.message.contains("endpoint \"serving\" uses it"),
        "{in_use:?}"
    );
    assert_eq!(
        sm.invoke_endpoint("serving", VIRGINICA).unwrap(),
        "virginica"
    );
    // A config no endpoint uses can go.
    sm.delete_endpoint_config("constant-v2").unwrap();

    sm.delete_endpoint("serving").unwrap();
    let gone = sm.invoke_endpoint("serving", VIRGINICA).unwrap_err();
    assert_eq!(gone.code, ErrorCode::ValidationException);
    assert_eq!(
        gone.message,
        "Endpoint serving of account 000000000000 not found."
    );
    let described = sm.describe_endpoint("serving").unwrap_err();
    assert_eq!(
        described.message,
        "Could not find endpoint \"arn:aws:sagemaker:local:000000000000:endpoint/serving\"."
    );
    assert_eq!(
        sm.update_endpoint("serving", "iris-v1").unwrap_err().code,
        ErrorCode::ValidationException
    );
    assert_eq!(
        sm.delete_endpoint("serving").unwrap_err().code,
        ErrorCode::ValidationException
    );
    // Its history stays, closed.
    let history = sm.endpoint_deployments("serving").unwrap();
    assert_eq!(history.len(), 1);
    assert!(history[0].served_until.is_some());
    // Nothing uses the config any more.
    sm.delete_endpoint_config("iris-v1").unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_endpoint_whose_model_cannot_load_fails_and_a_failed_update_rolls_back() {
    let root = tempfile::tempdir().unwrap();
    let engine = engine_with_two_models(root.path()).await;
    let sm = engine.sagemaker();
    let artifact = root
        .path()
        .join("data/ml-models/output/constant-v2/output/model.json");
    std::fs::remove_file(&artifact).unwrap();

    sm.create_endpoint(&json!({"EndpointName": "broken", "EndpointConfigName": "constant-v2"}))
        .unwrap();
    let failed = sm.wait_for_endpoint("broken").await.unwrap();
    assert_eq!(failed["EndpointStatus"], "Failed");
    assert!(
        failed["FailureReason"].as_str().unwrap().contains(
            "cannot read the model artifact s3://ml-models/output/constant-v2/output/model.json"
        ),
        "{failed}"
    );
    assert_eq!(
        sm.invoke_endpoint("broken", VIRGINICA).unwrap_err().code,
        ErrorCode::ValidationException
    );
    assert_eq!(
        sm.update_endpoint("broken", "iris-v1").unwrap_err().code,
        ErrorCode::ValidationException
    );
    sm.delete_endpoint("broken").unwrap();

    sm.create_endpoint(&json!({"EndpointName": "serving", "EndpointConfigName": "iris-v1"}))
        .unwrap();
    sm.wait_for_endpoint("serving").await.unwrap();
    sm.update_endpoint("serving", "constant-v2").unwrap();
    let rolled_back = sm.wait_for_endpoint("serving").await.unwrap();
    assert_eq!(rolled_back["EndpointStatus"], "InService");
    assert_eq!(rolled_back["EndpointConfigName"], "iris-v1");
    assert!(rolled_back["FailureReason"]
        .as_str()
        .unwrap()
        .contains("rolled back to \"iris-v1\""));
    assert_eq!(
        sm.invoke_endpoint("serving", VIRGINICA).unwrap(),
        "virginica"
    );
    let last = sm.endpoint_deployments("serving").unwrap().pop().unwrap();
    assert_eq!(last.endpoint_config_name, "constant-v2");
    assert!(last.served_from.is_none() && last.failure_reason.is_some());
}

// https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AddTags.html and
// https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ListTags.html
#[tokio::test(start_paused = true)]
async fn tags_round_trip_and_stay_out_of_describe() {
    let root = tempfile::tempdir().unwrap();
    let engine = engine_with_two_models(root.path()).await;
    let sm = engine.sagemaker();
    sm.create_endpoint_config(&json!({
        "EndpointConfigName": "tagged",
        "ProductionVariants": [{"ModelName": "iris-v1", "VariantName": "AllTraffic"}],
        "Tags": [{"Key": "gatehouse:commit", "Value": "abc"}, {"Key": "team", "Value": "ml"}]
    }))
    .unwrap();
    let arn = "arn:aws:sagemaker:local:000000000000:endpoint-config/tagged";
    assert_eq!(
        sm.list_tags(arn).unwrap(),
        vec![Tag::new("gatehouse:commit", "abc"), Tag::new("team", "ml")]
    );
    assert!(sm
        .describe_endpoint_config("tagged")
        .unwrap()
        .get("Tags")
        .is_none());

    sm.add_tags(
        arn,
        &[
            Tag::new("gatehouse:commit", "def"),
            Tag::new("stage", "prod"),
        ],
    )
    .unwrap();
    assert_eq!(
        sm.list_tags(arn).unwrap(),
        vec![
            Tag::new("gatehouse:commit", "def"),
            Tag::new("team", "ml"),
            Tag::new("stage", "prod")
        ]
    );
    assert_eq!(
        sm.add_tags(arn, &[Tag::new("aws:reserved", "x")])
            .unwrap_err()
            .code,
        ErrorCode::ValidationException
    );
    assert_eq!(
        sm.list_tags("arn:aws:sagemaker:local:000000000000:endpoint-config/nope")
            .unwrap_err()
            .code,
        ErrorCode::ValidationException
    );
    // A bad tag refuses the whole Create call.
    assert_eq!(
        sm.create_endpoint_config(&json!({
            "EndpointConfigName": "bad-tags",
            "ProductionVariants": [{"ModelName": "iris-v1"}],
            "Tags": [{"Key": "", "Value": "x"}]
        }))
        .unwrap_err()
        .code,
        ErrorCode::ValidationException
    );
    assert_eq!(
        sm.describe_endpoint_config("bad-tags").unwrap_err().code,
        ErrorCode::ValidationException
    );
    // Found by tag, as GetResources finds them: by key, or by key and value.
    let model_arn = "arn:aws:sagemaker:local:000000000000:model/iris-v1";
    sm.add_tags(model_arn, &[Tag::new("gatehouse:commit", "def")])
        .unwrap();
    assert_eq!(
        sm.tagged_with("gatehouse:commit", None).unwrap(),
        vec![
            (arn.to_string(), "def".to_string()),
            (model_arn.to_string(), "def".to_string())
        ]
    );
    assert_eq!(
        sm.tagged_with("gatehouse:commit", Some("abc")).unwrap(),
        vec![]
    );
    assert_eq!(sm.tagged_with("stage", Some("prod")).unwrap().len(), 1);
    // Tags go with their resource.
    sm.delete_endpoint_config("tagged").unwrap();
    assert_eq!(
        sm.list_tags(arn).unwrap_err().code,
        ErrorCode::ValidationException
    );
    assert_eq!(
        sm.tagged_with("gatehouse:commit", None).unwrap(),
        vec![(model_arn.to_string(), "def".to_string())]
    );
}

// https://docs.aws.amazon.com/sagemaker/latest/dg/model-ab-testing.html (traffic is
// distributed in proportion to the variants' weights; TargetVariant overrides it)
#[tokio::test(start_paused = true)]
async fn weighted_variants_share_the_traffic() {
    let root = tempfile::tempdir().unwrap();
    let engine = engine_with_two_models(root.path()).await;
    let sm = engine.sagemaker();
    sm.create_endpoint_config(&json!({
        "EndpointConfigName": "ab",
        "ProductionVariants": [
            {"ModelName": "iris-v1", "VariantName": "iris", "InitialVariantWeight": 3},
            {"ModelName": "constant-v2", "VariantName": "constant", "InitialVariantWeight": 1}
        ]
    }))
    .unwrap();
    sm.create_endpoint(&json!({"EndpointName": "ab", "EndpointConfigName": "ab"}))
        .unwrap();
    sm.wait_for_endpoint("ab").await.unwrap();

    // Which model answered is told by its answer: iris says virginica, constant setosa.
    let draws = 4000;
    let mut iris = 0;
    for _ in 0..draws {
        let answer = sm.invoke("ab", VIRGINICA, None).unwrap();
        let expected = if answer.labels == ["virginica"] {
            "iris"
        } else {
            "constant"
        };
        assert_eq!(answer.variant_name, expected, "{answer:?}");
        if expected == "iris" {
            iris += 1;
        }
    }
    // 3:1 weights: 75 % of the traffic; 5 points is about seven standard deviations.
    let share = f64::from(iris) / f64::from(draws);
    assert!((0.70..=0.80).contains(&share), "iris answered {share}");

    for _ in 0..20 {
        let pinned = sm.invoke("ab", VIRGINICA, Some("constant")).unwrap();
        assert_eq!(pinned.labels, ["setosa"]);
    }
    assert_eq!(
        sm.invoke("ab", VIRGINICA, Some("nope")).unwrap_err().code,
        ErrorCode::ValidationException
    );
    assert_eq!(
        sm.create_endpoint_config(&json!({
            "EndpointConfigName": "nothing",
            "ProductionVariants": [{"ModelName": "iris-v1", "InitialVariantWeight": 0}]
        }))
        .unwrap_err()
        .code,
        ErrorCode::ValidationException
    );
}

/// The AWS SDK integration: a missing endpoint is caught as
/// `SageMaker.SageMakerException` (SageMaker answers ValidationException), AddTags and
/// ListTags answer as the API does, and an action the local SageMaker does not know ends
/// the execution.
#[tokio::test(start_paused = true)]
async fn the_aws_sdk_integration_names_errors_like_step_functions() {
    let root = tempfile::tempdir().unwrap();
    let engine = engine_with_two_models(root.path()).await;
    let definition = json!({
        "StartAt": "Describe",
        "States": {
            "Describe": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
                "Parameters": {"EndpointName": "nowhere"},
                "Catch": [{"ErrorEquals": ["SageMaker.SageMakerException"], "ResultPath": "$.error", "Next": "Tag"}],
                "End": true
            },
            "Tag": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:addTags",
                "Parameters": {"ResourceArn": "arn:aws:sagemaker:local:000000000000:model/iris-v1", "Tags": [{"Key": "k", "Value": "v"}]},
                "ResultPath": "$.added",
                "Next": "List"
            },
            "List": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:listTags",
                "Parameters": {"ResourceArn": "arn:aws:sagemaker:local:000000000000:model/iris-v1"},
                "ResultPath": "$.listed",
                "Next": "Unknown"
            },
            "Unknown": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:createPresignedDomainUrl",
                "Parameters": {},
                "End": true
            }
        }
    });
    let machine = engine
        .create_state_machine("sdk", &definition.to_string(), &Default::default())
        .unwrap();
    let arn = engine
        .start_execution(&machine, Some("sdk"), Some("{}"))
        .unwrap()
        .execution_arn;
    let done = engine.wait_for_execution(&arn).await.unwrap();
    assert_eq!(done.status, engine::ExecutionStatus::Failed);
    assert_eq!(done.error.as_deref(), Some("States.Runtime"));
    assert!(
        done.cause.as_deref().unwrap_or_default().contains(
            "The resource provided arn:aws:states:::aws-sdk:sagemaker:createPresignedDomainUrl is not recognized"
        ),
        "{done:?}"
    );
    let events = engine
        .get_execution_history(&arn, &Default::default())
        .unwrap()
        .events;
    let failed = events.iter().find(|e| e["type"] == "TaskFailed").unwrap();
    assert_eq!(
        failed["taskFailedEventDetails"]["error"],
        "SageMaker.SageMakerException"
    );
    assert_eq!(
        failed["taskFailedEventDetails"]["resourceType"],
        "aws-sdk:sagemaker"
    );
    assert!(failed["taskFailedEventDetails"]["cause"]
        .as_str()
        .unwrap()
        .starts_with(
            "Could not find endpoint \"arn:aws:sagemaker:local:000000000000:endpoint/nowhere\"."
        ));
    let listed = events
        .iter()
        .filter(|e| e["type"] == "TaskSucceeded")
        .map(|e| {
            serde_json::from_str::<Value>(
                e["taskSucceededEventDetails"]["output"].as_str().unwrap(),
            )
            .unwrap()
        })
        .collect::<Vec<_>>();
    assert_eq!(listed[1], json!({"Tags": [{"Key": "k", "Value": "v"}]}));
    assert_eq!(
        engine
            .sagemaker()
            .list_tags("arn:aws:sagemaker:local:000000000000:model/iris-v1")
            .unwrap(),
        vec![Tag::new("k", "v")]
    );
}

/// A process that stops while an endpoint is Creating or Updating leaves it so; the next
/// one settles it.
#[tokio::test(start_paused = true)]
async fn an_endpoint_left_creating_or_updating_settles_after_a_restart() {
    let root = tempfile::tempdir().unwrap();
    let data = data_dir_with_iris(root.path());
    let database = Some(root.path().join("engine.sqlite"));
    // The first process would take an hour to settle anything: it stops long before.
    let mut slow = EngineConfig::new(database.clone(), data.clone());
    slow.endpoint_delay = std::time::Duration::from_secs(3600);
    let first = Engine::open(slow).await.unwrap();
    model(&first, "iris-v1", "s3://ml-models/iris/train.csv").await;
    let sm = first.sagemaker();
    sm.create_endpoint(&json!({"EndpointName": "new", "EndpointConfigName": "iris-v1"}))
        .unwrap();
    first.shutdown();

    let second = Engine::open(EngineConfig::new(database.clone(), data.clone()))
        .await
        .unwrap();
    let settled = second.sagemaker().wait_for_endpoint("new").await.unwrap();
    assert_eq!(settled["EndpointStatus"], "InService");
    assert_eq!(
        second
            .sagemaker()
            .invoke_endpoint("new", VIRGINICA)
            .unwrap(),
        "virginica"
    );
    second
        .sagemaker()
        .update_endpoint("new", "iris-v1")
        .unwrap();
    second.shutdown();

    let third = Engine::open(EngineConfig::new(database, data))
        .await
        .unwrap();
    let settled = third.sagemaker().wait_for_endpoint("new").await.unwrap();
    assert_eq!(settled["EndpointStatus"], "InService");
    assert_eq!(
        third.sagemaker().endpoint_deployments("new").unwrap().len(),
        2
    );
}

// https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html
// (InputFilter "$[1:]" drops the first CSV column; output is <input>.out under S3OutputPath)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_transform_filters_columns_and_writes_one_label_per_line() {
    let root = tempfile::tempdir().unwrap();
    let data = data_dir_with_iris(root.path());
    std::fs::write(
        data.join("ml-models/unlabelled.csv"),
        "4.5,1.3,0.3,0.3\n5.9,3,5.1,1.8\n",
    )
    .unwrap();
    let engine = Engine::open(EngineConfig::new(None, data.clone()))
        .await
        .unwrap();
    model(&engine, "iris-v1", "s3://ml-models/iris/train.csv").await;
    let sm = engine.sagemaker();
    let transform = |name: &str, input: &str, filter: &str| {
        json!({"TransformJobName": name, "ModelName": "iris-v1",
            "TransformInput": {"ContentType": "text/csv", "SplitType": "Line", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input}}},
            "TransformOutput": {"S3OutputPath": format!("s3://ml-models/out/{name}"), "AssembleWith": "Line"},
            "DataProcessing": {"InputFilter": filter}})
    };
    sm.create_transform_job(&transform(
        "labelled",
        "s3://ml-models/iris/test.csv",
        "$[1:]",
    ))
    .unwrap();
    assert_eq!(
        sm.wait_for_transform_job("labelled").await.unwrap()["TransformJobStatus"],
        "Completed"
    );
    let out = std::fs::read_to_string(data.join("ml-models/out/labelled/test.csv.out")).unwrap();
    assert_eq!(out.lines().count(), 30);

    sm.create_transform_job(&transform("raw", "s3://ml-models/unlabelled.csv", "$"))
        .unwrap();
    sm.wait_for_transform_job("raw").await.unwrap();
    assert_eq!(
        std::fs::read_to_string(data.join("ml-models/out/raw/unlabelled.csv.out")).unwrap(),
        "setosa\nvirginica\n"
    );

    // Labels left in by a wrong filter fail the job with a reason naming the row.
    sm.create_transform_job(&transform(
        "unfiltered",
        "s3://ml-models/iris/test.csv",
        "$",
    ))
    .unwrap();
    let failed = sm.wait_for_transform_job("unfiltered").await.unwrap();
    assert_eq!(failed["TransformJobStatus"], "Failed");
    assert_eq!(
        failed["FailureReason"],
        "test.csv line 1: the feature 'setosa' is not a number"
    );
    assert_eq!(sm.list_transform_jobs().unwrap().len(), 3);
}

// https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html
// (ResourceInUse for a duplicate name; validation errors for missing fields)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_errors_are_named_like_sagemakers() {
    let root = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::new(None, data_dir_with_iris(root.path())))
        .await
        .unwrap();
    let sm = engine.sagemaker();
    sm.create_training_job(&training_request("dup", "s3://ml-models/iris/train.csv"))
        .unwrap();
    assert_eq!(
        sm.create_training_job(&training_request("dup", "s3://ml-models/iris/train.csv"))
            .unwrap_err()
            .code,
        ErrorCode::ResourceInUse
    );
    assert_eq!(
        sm.create_training_job(&training_request("bad name!", "s3://ml-models/x"))
            .unwrap_err()
            .code,
        ErrorCode::ValidationException
    );
    let missing = sm
        .create_training_job(&json!({"TrainingJobName": "x"}))
        .unwrap_err();
    assert_eq!(missing.code, ErrorCode::ValidationException);
    assert_eq!(
        sm.describe_model("nope").unwrap_err().code,
        ErrorCode::ResourceNotFound
    );
    let no_data = sm
        .create_training_job(&training_request("empty", "s3://ml-models/nothing-here/"))
        .unwrap();
    assert!(no_data["TrainingJobArn"]
        .as_str()
        .unwrap()
        .ends_with("training-job/empty"));
    let failed = sm.wait_for_training_job("empty").await.unwrap();
    assert_eq!(failed["TrainingJobStatus"], "Failed");
    assert!(
        failed["FailureReason"]
            .as_str()
            .unwrap()
            .contains("no object matches the prefix 's3://ml-models/nothing-here/'"),
        "{failed}"
    );
    assert_eq!(
        sm.invoke_endpoint("nope", "1,2,3,4").unwrap_err().code,
        ErrorCode::ValidationException
    );
    assert_eq!(
        sm.local_path("s3://ml-models/../../etc/passwd")
            .unwrap_err()
            .code,
        ErrorCode::ValidationException
    );
}
