//! The local SageMaker API on its own: the calls the dashboard makes (describe, list,
//! update and delete endpoints, invoke) and their errors, named as SageMaker names them.

mod common;

use common::data_dir_with_iris;
use engine::sagemaker::ErrorCode;
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

// https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateEndpoint.html and
// https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DeleteEndpoint.html
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_roll_back_and_delete() {
    let root = tempfile::tempdir().unwrap();
    let data = data_dir_with_iris(root.path());
    // A second, silly data set: everything of iris size is "setosa" to its model.
    std::fs::write(
        data.join("ml-models/constant.csv"),
        "setosa,5,3,5,2\nversicolor,100,100,100,100\n",
    )
    .unwrap();
    let engine = Engine::open(EngineConfig::new(None, data)).await.unwrap();
    model(&engine, "iris-v1", "s3://ml-models/iris/train.csv").await;
    model(&engine, "constant-v2", "s3://ml-models/constant.csv").await;
    let sm = engine.sagemaker();

    sm.create_endpoint(&json!({"EndpointName": "serving", "EndpointConfigName": "iris-v1"}))
        .unwrap();
    assert_eq!(
        sm.invoke_endpoint("serving", "4.5,1.3,0.3,0.3\n5.9,3,5.1,1.8")
            .unwrap(),
        "setosa\nvirginica"
    );
    sm.update_endpoint("serving", "constant-v2").unwrap();
    assert_eq!(
        sm.invoke_endpoint("serving", "5.9,3,5.1,1.8").unwrap(),
        "setosa"
    );
    let described = sm.describe_endpoint("serving").unwrap();
    assert_eq!(described["EndpointConfigName"], "constant-v2");
    assert_eq!(described["PreviousEndpointConfigNames"], json!(["iris-v1"]));
    assert_eq!(
        described["ProductionVariants"][0]["ModelName"],
        "constant-v2"
    );
    // Roll back.
    sm.update_endpoint("serving", "iris-v1").unwrap();
    assert_eq!(
        sm.invoke_endpoint("serving", "5.9,3,5.1,1.8").unwrap(),
        "virginica"
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

    sm.delete_endpoint("serving").unwrap();
    assert_eq!(
        sm.describe_endpoint("serving").unwrap_err().code,
        ErrorCode::ResourceNotFound
    );
    assert!(sm.invoke_endpoint("serving", "1,2,3,4").is_err());
    assert!(sm.update_endpoint("serving", "iris-v1").is_err());
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
    assert!(sm.invoke_endpoint("nope", "1,2,3,4").is_err());
    assert!(sm.local_path("s3://ml-models/../../etc/passwd").is_err());
}
