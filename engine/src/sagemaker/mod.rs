//! A local "SageMaker": training jobs that really train a decision tree, models, batch
//! transform jobs, endpoint configs and endpoints served in-process. Resources are stored
//! as the JSON documents SageMaker's Describe calls return, in the engine's SQLite file.

pub mod classifier;
pub mod s3;

use crate::asl::jsonpath::JsonPath;
use crate::clock::{epoch_millis, Clock};
use crate::error::{names, StatesError};
use crate::store::{Store, StoreError};
use classifier::{parse_features, parse_labelled_csv, TrainedModel};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    ValidationException,
    ResourceNotFound,
    ResourceInUse,
    ModelError,
    InternalFailure,
}

/// An error of the SageMaker API, named as AWS names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct SageMakerError {
    pub code: ErrorCode,
    pub message: String,
}

impl SageMakerError {
    fn validation(message: impl Into<String>) -> Self {
        SageMakerError {
            code: ErrorCode::ValidationException,
            message: message.into(),
        }
    }
    fn not_found(message: impl Into<String>) -> Self {
        SageMakerError {
            code: ErrorCode::ResourceNotFound,
            message: message.into(),
        }
    }

    /// The error a Task state sees, as the Step Functions SageMaker integration names it.
    pub fn to_states_error(&self) -> StatesError {
        let (name, code) = match self.code {
            ErrorCode::ResourceNotFound => {
                ("SageMaker.ResourceNotFoundException", "ResourceNotFound")
            }
            ErrorCode::ResourceInUse => ("SageMaker.ResourceInUseException", "ResourceInUse"),
            ErrorCode::ValidationException => {
                ("SageMaker.AmazonSageMakerException", "ValidationException")
            }
            ErrorCode::ModelError => ("SageMaker.ModelErrorException", "ModelError"),
            ErrorCode::InternalFailure => ("SageMaker.AmazonSageMakerException", "InternalFailure"),
        };
        StatesError::new(
            name,
            format!(
                "{} (Service: AmazonSageMaker; Status Code: 400; Error Code: {code})",
                self.message
            ),
        )
    }
}

impl From<StoreError> for SageMakerError {
    fn from(e: StoreError) -> Self {
        SageMakerError {
            code: ErrorCode::InternalFailure,
            message: e.to_string(),
        }
    }
}

const TRAINING_JOB: &str = "training-job";
const MODEL: &str = "model";
const TRANSFORM_JOB: &str = "transform-job";
const ENDPOINT_CONFIG: &str = "endpoint-config";
const ENDPOINT: &str = "endpoint";

pub struct LocalSageMaker {
    store: Arc<Store>,
    data_dir: PathBuf,
    clock: Arc<dyn Clock>,
    account: String,
    changes: watch::Sender<u64>,
    loaded_models: Mutex<HashMap<PathBuf, Arc<TrainedModel>>>,
}

fn required<'a>(params: &'a Value, field: &str) -> Result<&'a str, SageMakerError> {
    params
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| SageMakerError::validation(format!("1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null")))
}

fn check_name(field: &str, name: &str) -> Result<(), SageMakerError> {
    let ok = name.len() <= 63
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(SageMakerError::validation(format!(
            "1 validation error detected: Value '{name}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){{0,62}}"
        )))
    }
}

/// The first column of a CSV record as JSON values, for `DataProcessing.InputFilter`.
fn csv_record(line: &str) -> Value {
    Value::Array(
        line.split(',')
            .map(|f| {
                let f = f.trim();
                f.parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .unwrap_or_else(|| Value::String(f.to_string()))
            })
            .collect(),
    )
}

fn feature_values(selected: &Value, source: &str, line: usize) -> Result<Vec<f64>, SageMakerError> {
    let fields: Vec<String> = match selected {
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect(),
        other => vec![other
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| other.to_string())],
    };
    parse_features(fields.iter().map(String::as_str), source, line)
        .map_err(|e| SageMakerError::validation(e.to_string()))
}

impl LocalSageMaker {
    pub fn new(store: Arc<Store>, data_dir: PathBuf, clock: Arc<dyn Clock>) -> Self {
        LocalSageMaker {
            store,
            data_dir,
            clock,
            account: "000000000000".into(),
            changes: watch::channel(0).0,
            loaded_models: Mutex::new(HashMap::new()),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The local file behind an `s3://` URI.
    pub fn local_path(&self, uri: &str) -> Result<PathBuf, SageMakerError> {
        s3::path_of(&self.data_dir, uri).map_err(|e| SageMakerError::validation(e.to_string()))
    }

    fn arn(&self, kind: &str, name: &str) -> String {
        format!(
            "arn:aws:sagemaker:local:{}:{kind}/{}",
            self.account,
            name.to_lowercase()
        )
    }

    fn now_ms(&self) -> i64 {
        epoch_millis(self.clock.now())
    }

    fn notify(&self) {
        self.changes.send_modify(|v| *v += 1);
    }

    fn get(&self, kind: &str, name: &str, label: &str) -> Result<Value, SageMakerError> {
        self.store
            .resource(kind, name)?
            .ok_or_else(|| SageMakerError::not_found(format!("Could not find {label} \"{name}\".")))
    }

    /// Inserts a new resource; when `resuming` (the call was made before a restart) an
    /// existing one with that name is the answer instead of an error.
    fn insert(
        &self,
        kind: &str,
        name: &str,
        body: &Value,
        label: &str,
        resuming: bool,
    ) -> Result<bool, SageMakerError> {
        if self
            .store
            .insert_resource(kind, name, body, self.now_ms())?
        {
            self.notify();
            return Ok(true);
        }
        if resuming {
            return Ok(false);
        }
        Err(SageMakerError {
            code: ErrorCode::ResourceInUse,
            message: format!(
                "Cannot create already existing {label} \"{}\".",
                self.arn(kind, name)
            ),
        })
    }

    fn save(&self, kind: &str, name: &str, body: &Value) -> Result<(), SageMakerError> {
        self.store.update_resource(kind, name, body)?;
        self.notify();
        Ok(())
    }

    /// Dispatches a Step Functions SageMaker action.
    pub(crate) async fn handle(
        self: &Arc<Self>,
        action: &str,
        params: &Value,
        resuming: bool,
    ) -> Result<Value, StatesError> {
        let name_of = |field: &str| required(params, field).map(str::to_string);
        let result = match action {
            "createTrainingJob" => self.create_training_job_inner(params, resuming),
            "createModel" => self.create_model_inner(params, resuming),
            "createTransformJob" => self.create_transform_job_inner(params, resuming),
            "createEndpointConfig" => self.create_endpoint_config_inner(params, resuming),
            "createEndpoint" => self.create_endpoint_inner(params, resuming),
            "updateEndpoint" => name_of("EndpointName")
                .and_then(|n| self.update_endpoint(&n, required(params, "EndpointConfigName")?)),
            "deleteEndpoint" => name_of("EndpointName")
                .and_then(|n| self.delete_endpoint(&n))
                .map(|_| json!({})),
            "deleteEndpointConfig" => name_of("EndpointConfigName")
                .and_then(|n| self.delete_endpoint_config(&n))
                .map(|_| json!({})),
            "deleteModel" => name_of("ModelName")
                .and_then(|n| self.delete_model(&n))
                .map(|_| json!({})),
            "describeTrainingJob" => {
                name_of("TrainingJobName").and_then(|n| self.describe_training_job(&n))
            }
            "describeTransformJob" => {
                name_of("TransformJobName").and_then(|n| self.describe_transform_job(&n))
            }
            "describeModel" => name_of("ModelName").and_then(|n| self.describe_model(&n)),
            "describeEndpoint" => name_of("EndpointName").and_then(|n| self.describe_endpoint(&n)),
            "describeEndpointConfig" => {
                name_of("EndpointConfigName").and_then(|n| self.describe_endpoint_config(&n))
            }
            other => {
                return Err(StatesError::runtime(format!(
                    "The SageMaker action '{other}' is not available in local mode"
                )));
            }
        };
        result.map_err(|e| e.to_states_error())
    }

    /// `.sync`: waits for the job a create action started; fails the task if the job fails.
    pub(crate) async fn wait_for(
        &self,
        action: &str,
        params: &Value,
    ) -> Result<Value, StatesError> {
        let (kind, field, status_field) = match action {
            "createTrainingJob" => (TRAINING_JOB, "TrainingJobName", "TrainingJobStatus"),
            "createTransformJob" => (TRANSFORM_JOB, "TransformJobName", "TransformJobStatus"),
            other => {
                return Err(StatesError::runtime(format!(
                    "'{other}.sync' is not available in local mode"
                )))
            }
        };
        let name = required(params, field).map_err(|e| e.to_states_error())?;
        let mut changes = self.changes.subscribe();
        loop {
            let job = self
                .get(kind, name, kind)
                .map_err(|e| e.to_states_error())?;
            match job.get(status_field).and_then(Value::as_str) {
                Some("Completed") => return Ok(job),
                Some("Failed") | Some("Stopped") => {
                    return Err(StatesError::new(names::TASK_FAILED, job.to_string()))
                }
                _ => {}
            }
            if changes.changed().await.is_err() {
                return Err(StatesError::runtime("the local SageMaker shut down"));
            }
        }
    }

    /// Waits until a training job is Completed, Failed or Stopped; returns its description.
    pub async fn wait_for_training_job(&self, name: &str) -> Result<Value, SageMakerError> {
        self.wait_for_status(TRAINING_JOB, name, "TrainingJobStatus", "training job")
            .await
    }

    /// Waits until a transform job is Completed, Failed or Stopped; returns its description.
    pub async fn wait_for_transform_job(&self, name: &str) -> Result<Value, SageMakerError> {
        self.wait_for_status(TRANSFORM_JOB, name, "TransformJobStatus", "transform job")
            .await
    }

    async fn wait_for_status(
        &self,
        kind: &str,
        name: &str,
        field: &str,
        label: &str,
    ) -> Result<Value, SageMakerError> {
        let mut changes = self.changes.subscribe();
        loop {
            let job = self.get(kind, name, label)?;
            if job[field] != "InProgress" {
                return Ok(job);
            }
            if changes.changed().await.is_err() {
                return Ok(job);
            }
        }
    }

    /// Re-runs jobs left InProgress by a process that stopped while they ran.
    pub fn resume_unfinished_jobs(self: &Arc<Self>) -> Result<usize, SageMakerError> {
        let mut resumed = 0;
        for job in self.store.resources(TRAINING_JOB)? {
            if job["TrainingJobStatus"] == "InProgress" {
                if let Some(name) = job["TrainingJobName"].as_str() {
                    self.spawn_training(name.to_string());
                    resumed += 1;
                }
            }
        }
        for job in self.store.resources(TRANSFORM_JOB)? {
            if job["TransformJobStatus"] == "InProgress" {
                if let Some(name) = job["TransformJobName"].as_str() {
                    self.spawn_transform(name.to_string());
                    resumed += 1;
                }
            }
        }
        Ok(resumed)
    }

    // --- training -------------------------------------------------------------------

    /// CreateTrainingJob: records the job and trains in the background.
    pub fn create_training_job(self: &Arc<Self>, request: &Value) -> Result<Value, SageMakerError> {
        self.create_training_job_inner(request, false)
    }

    fn create_training_job_inner(
        self: &Arc<Self>,
        request: &Value,
        resuming: bool,
    ) -> Result<Value, SageMakerError> {
        let name = required(request, "TrainingJobName")?;
        check_name("trainingJobName", name)?;
        let output = request
            .pointer("/OutputDataConfig/S3OutputPath")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                SageMakerError::validation("OutputDataConfig.S3OutputPath is required")
            })?;
        self.local_path(output)?;
        let channel = training_channel(request)?;
        self.local_path(&channel)?;
        let arn = self.arn(TRAINING_JOB, name);
        let now = self.now_ms();
        let mut job = request.clone();
        job["TrainingJobArn"] = json!(arn);
        job["TrainingJobStatus"] = json!("InProgress");
        job["SecondaryStatus"] = json!("Starting");
        job["CreationTime"] = json!(now);
        job["LastModifiedTime"] = json!(now);
        if self.insert(TRAINING_JOB, name, &job, "training job", resuming)? {
            self.spawn_training(name.to_string());
        }
        Ok(json!({"TrainingJobArn": arn}))
    }

    fn spawn_training(self: &Arc<Self>, name: String) {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.run_training(&name));
    }

    fn run_training(&self, name: &str) {
        let Ok(Some(mut job)) = self.store.resource(TRAINING_JOB, name) else {
            return;
        };
        let started = self.now_ms();
        job["TrainingStartTime"] = json!(started);
        match self.train(&job, name) {
            Ok((artifact_uri, model)) => {
                job["TrainingJobStatus"] = json!("Completed");
                job["SecondaryStatus"] = json!("Completed");
                job["ModelArtifacts"] = json!({"S3ModelArtifacts": artifact_uri});
                job["FinalMetricDataList"] = json!([
                    {"MetricName": "train:accuracy", "Value": model.training_accuracy, "Timestamp": self.now_ms()}
                ]);
            }
            Err(e) => {
                job["TrainingJobStatus"] = json!("Failed");
                job["SecondaryStatus"] = json!("Failed");
                job["FailureReason"] = json!(e.message);
            }
        }
        let end = self.now_ms();
        job["TrainingEndTime"] = json!(end);
        job["LastModifiedTime"] = json!(end);
        job["TrainingTimeInSeconds"] = json!((end - started) / 1000);
        job["BillableTimeInSeconds"] = json!((end - started) / 1000);
        // If this write fails the job stays InProgress and is retrained after a restart.
        let _ = self.save(TRAINING_JOB, name, &job);
    }

    fn train(&self, job: &Value, name: &str) -> Result<(String, TrainedModel), SageMakerError> {
        let channel = training_channel(job)?;
        let files = s3::files_under_prefix(&self.data_dir, &channel).map_err(|e| {
            SageMakerError::validation(format!(
                "ClientError: no training data in channel 'training': {e}"
            ))
        })?;
        let mut examples = Vec::new();
        for file in &files {
            let text = std::fs::read_to_string(file).map_err(|e| {
                SageMakerError::validation(format!(
                    "ClientError: cannot read {}: {e}",
                    file.display()
                ))
            })?;
            let source = file
                .file_name()
                .map(|f| f.to_string_lossy().to_string())
                .unwrap_or_default();
            examples.extend(
                parse_labelled_csv(&text, &source)
                    .map_err(|e| SageMakerError::validation(format!("ClientError: {e}")))?,
            );
        }
        let model = TrainedModel::train(&examples)
            .map_err(|e| SageMakerError::validation(format!("ClientError: {e}")))?;
        let output = job
            .pointer("/OutputDataConfig/S3OutputPath")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim_end_matches('/');
        let artifact_uri = format!("{output}/{name}/output/model.json");
        let path = self.local_path(&artifact_uri)?;
        let text = model
            .to_json()
            .map_err(|e| SageMakerError::validation(e.to_string()))?;
        write_file(&path, &text)?;
        Ok((artifact_uri, model))
    }

    pub fn describe_training_job(&self, name: &str) -> Result<Value, SageMakerError> {
        self.get(TRAINING_JOB, name, "training job")
    }

    /// Newest first.
    pub fn list_training_jobs(&self) -> Result<Vec<Value>, SageMakerError> {
        Ok(self.store.resources(TRAINING_JOB)?)
    }

    // --- models ---------------------------------------------------------------------

    pub fn create_model(&self, request: &Value) -> Result<Value, SageMakerError> {
        self.create_model_inner(request, false)
    }

    fn create_model_inner(&self, request: &Value, resuming: bool) -> Result<Value, SageMakerError> {
        let name = required(request, "ModelName")?;
        check_name("modelName", name)?;
        let data_url = request
            .pointer("/PrimaryContainer/ModelDataUrl")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                SageMakerError::validation(
                    "PrimaryContainer.ModelDataUrl is required in local mode",
                )
            })?;
        let path = self.local_path(data_url)?;
        if !path.is_file() {
            return Err(SageMakerError::validation(format!(
                "Could not find model data at {data_url}."
            )));
        }
        let arn = self.arn(MODEL, name);
        let mut model = request.clone();
        model["ModelArn"] = json!(arn);
        model["CreationTime"] = json!(self.now_ms());
        self.insert(MODEL, name, &model, "model", resuming)?;
        Ok(json!({"ModelArn": arn}))
    }

    pub fn describe_model(&self, name: &str) -> Result<Value, SageMakerError> {
        self.get(MODEL, name, "model")
    }

    pub fn list_models(&self) -> Result<Vec<Value>, SageMakerError> {
        Ok(self.store.resources(MODEL)?)
    }

    pub fn delete_model(&self, name: &str) -> Result<(), SageMakerError> {
        if !self.store.delete_resource(MODEL, name)? {
            return Err(SageMakerError::validation(format!(
                "Could not find model \"{}\".",
                self.arn(MODEL, name)
            )));
        }
        self.notify();
        Ok(())
    }

    fn load_model(&self, model_name: &str) -> Result<Arc<TrainedModel>, SageMakerError> {
        let model = self.describe_model(model_name)?;
        let url = model
            .pointer("/PrimaryContainer/ModelDataUrl")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                SageMakerError::validation(format!("model {model_name} has no ModelDataUrl"))
            })?;
        let path = self.local_path(url)?;
        if let Some(m) = self
            .loaded_models
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&path)
        {
            return Ok(m.clone());
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            SageMakerError::validation(format!("cannot read the model artifact {url}: {e}"))
        })?;
        let loaded = Arc::new(
            TrainedModel::from_json(&text)
                .map_err(|e| SageMakerError::validation(format!("{url}: {e}")))?,
        );
        self.loaded_models
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path, loaded.clone());
        Ok(loaded)
    }

    // --- batch transform ------------------------------------------------------------

    pub fn create_transform_job(
        self: &Arc<Self>,
        request: &Value,
    ) -> Result<Value, SageMakerError> {
        self.create_transform_job_inner(request, false)
    }

    fn create_transform_job_inner(
        self: &Arc<Self>,
        request: &Value,
        resuming: bool,
    ) -> Result<Value, SageMakerError> {
        let name = required(request, "TransformJobName")?;
        check_name("transformJobName", name)?;
        let model_name = required(request, "ModelName")?;
        self.describe_model(model_name)?;
        let input = request
            .pointer("/TransformInput/DataSource/S3DataSource/S3Uri")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                SageMakerError::validation(
                    "TransformInput.DataSource.S3DataSource.S3Uri is required",
                )
            })?;
        self.local_path(input)?;
        let output = request
            .pointer("/TransformOutput/S3OutputPath")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                SageMakerError::validation("TransformOutput.S3OutputPath is required")
            })?;
        self.local_path(output)?;
        if let Some(ct) = request
            .pointer("/TransformInput/ContentType")
            .and_then(Value::as_str)
        {
            if ct != "text/csv" {
                return Err(SageMakerError::validation(format!(
                    "ContentType '{ct}' is not supported locally: use text/csv"
                )));
            }
        }
        if let Some(filter) = request
            .pointer("/DataProcessing/InputFilter")
            .and_then(Value::as_str)
        {
            JsonPath::parse(filter).map_err(|e| {
                SageMakerError::validation(format!("DataProcessing.InputFilter: {e}"))
            })?;
        }
        let arn = self.arn(TRANSFORM_JOB, name);
        let now = self.now_ms();
        let mut job = request.clone();
        job["TransformJobArn"] = json!(arn);
        job["TransformJobStatus"] = json!("InProgress");
        job["CreationTime"] = json!(now);
        if self.insert(TRANSFORM_JOB, name, &job, "transform job", resuming)? {
            self.spawn_transform(name.to_string());
        }
        Ok(json!({"TransformJobArn": arn}))
    }

    fn spawn_transform(self: &Arc<Self>, name: String) {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.run_transform(&name));
    }

    fn run_transform(&self, name: &str) {
        let Ok(Some(mut job)) = self.store.resource(TRANSFORM_JOB, name) else {
            return;
        };
        job["TransformStartTime"] = json!(self.now_ms());
        match self.transform(&job) {
            Ok(()) => job["TransformJobStatus"] = json!("Completed"),
            Err(e) => {
                job["TransformJobStatus"] = json!("Failed");
                job["FailureReason"] = json!(e.message);
            }
        }
        job["TransformEndTime"] = json!(self.now_ms());
        let _ = self.save(TRANSFORM_JOB, name, &job);
    }

    fn transform(&self, job: &Value) -> Result<(), SageMakerError> {
        let model = self.load_model(job["ModelName"].as_str().unwrap_or_default())?;
        let input = job
            .pointer("/TransformInput/DataSource/S3DataSource/S3Uri")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let output = job
            .pointer("/TransformOutput/S3OutputPath")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let filter = job
            .pointer("/DataProcessing/InputFilter")
            .and_then(Value::as_str)
            .unwrap_or("$");
        let filter =
            JsonPath::parse(filter).map_err(|e| SageMakerError::validation(e.to_string()))?;
        let files = s3::files_under_prefix(&self.data_dir, input)
            .map_err(|e| SageMakerError::validation(format!("ClientError: {e}")))?;
        let out_dir = self.local_path(output)?;
        for file in files {
            let source = file
                .file_name()
                .map(|f| f.to_string_lossy().to_string())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&file).map_err(|e| {
                SageMakerError::validation(format!("ClientError: cannot read {source}: {e}"))
            })?;
            let mut rows = Vec::new();
            for (i, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let selected = filter
                    .select(&csv_record(line), &Value::Null)
                    .map_err(|e| {
                        SageMakerError::validation(format!(
                            "ClientError: {source} line {}: InputFilter: {e}",
                            i + 1
                        ))
                    })?;
                rows.push(feature_values(&selected, &source, i + 1)?);
            }
            let labels = model
                .predict(&rows)
                .map_err(|e| SageMakerError::validation(format!("ClientError: {source}: {e}")))?;
            let mut body = labels.join("\n");
            body.push('\n');
            write_file(&out_dir.join(format!("{source}.out")), &body)?;
        }
        Ok(())
    }

    pub fn describe_transform_job(&self, name: &str) -> Result<Value, SageMakerError> {
        self.get(TRANSFORM_JOB, name, "transform job")
    }

    pub fn list_transform_jobs(&self) -> Result<Vec<Value>, SageMakerError> {
        Ok(self.store.resources(TRANSFORM_JOB)?)
    }

    // --- endpoint configs and endpoints ---------------------------------------------

    pub fn create_endpoint_config(&self, request: &Value) -> Result<Value, SageMakerError> {
        self.create_endpoint_config_inner(request, false)
    }

    fn create_endpoint_config_inner(
        &self,
        request: &Value,
        resuming: bool,
    ) -> Result<Value, SageMakerError> {
        let name = required(request, "EndpointConfigName")?;
        check_name("endpointConfigName", name)?;
        let variants = request
            .get("ProductionVariants")
            .and_then(Value::as_array)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                SageMakerError::validation("ProductionVariants must list at least one variant")
            })?;
        for v in variants {
            let model = required(v, "ModelName")?;
            self.describe_model(model).map_err(|_| {
                SageMakerError::validation(format!(
                    "Could not find model \"{}\".",
                    self.arn(MODEL, model)
                ))
            })?;
        }
        let arn = self.arn(ENDPOINT_CONFIG, name);
        let mut config = request.clone();
        config["EndpointConfigArn"] = json!(arn);
        config["CreationTime"] = json!(self.now_ms());
        self.insert(
            ENDPOINT_CONFIG,
            name,
            &config,
            "endpoint configuration",
            resuming,
        )?;
        Ok(json!({"EndpointConfigArn": arn}))
    }

    pub fn describe_endpoint_config(&self, name: &str) -> Result<Value, SageMakerError> {
        self.get(ENDPOINT_CONFIG, name, "endpoint configuration")
    }

    pub fn list_endpoint_configs(&self) -> Result<Vec<Value>, SageMakerError> {
        Ok(self.store.resources(ENDPOINT_CONFIG)?)
    }

    pub fn delete_endpoint_config(&self, name: &str) -> Result<(), SageMakerError> {
        if !self.store.delete_resource(ENDPOINT_CONFIG, name)? {
            return Err(SageMakerError::validation(format!(
                "Could not find endpoint configuration \"{name}\"."
            )));
        }
        self.notify();
        Ok(())
    }

    /// The model each production variant of a config serves, loaded (so a broken
    /// artifact fails the endpoint instead of its first request).
    fn variants_of(&self, config_name: &str) -> Result<Vec<Value>, SageMakerError> {
        let config = self.describe_endpoint_config(config_name)?;
        let mut out = Vec::new();
        for v in config["ProductionVariants"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let model = v["ModelName"].as_str().unwrap_or_default().to_string();
            self.load_model(&model)?;
            out.push(json!({
                "VariantName": v.get("VariantName").cloned().unwrap_or(json!("AllTraffic")),
                "ModelName": model,
                "CurrentWeight": v.get("InitialVariantWeight").cloned().unwrap_or(json!(1.0)),
                "DesiredWeight": v.get("InitialVariantWeight").cloned().unwrap_or(json!(1.0)),
                "CurrentInstanceCount": v.get("InitialInstanceCount").cloned().unwrap_or(json!(1)),
            }));
        }
        Ok(out)
    }

    pub fn create_endpoint(&self, request: &Value) -> Result<Value, SageMakerError> {
        self.create_endpoint_inner(request, false)
    }

    fn create_endpoint_inner(
        &self,
        request: &Value,
        resuming: bool,
    ) -> Result<Value, SageMakerError> {
        let name = required(request, "EndpointName")?;
        check_name("endpointName", name)?;
        let config_name = required(request, "EndpointConfigName")?;
        self.describe_endpoint_config(config_name).map_err(|_| {
            SageMakerError::validation(format!(
                "Could not find endpoint configuration \"{}\".",
                self.arn(ENDPOINT_CONFIG, config_name)
            ))
        })?;
        let arn = self.arn(ENDPOINT, name);
        let now = self.now_ms();
        let mut endpoint = json!({
            "EndpointName": name,
            "EndpointArn": arn,
            "EndpointConfigName": config_name,
            "CreationTime": now,
            "LastModifiedTime": now,
        });
        match self.variants_of(config_name) {
            Ok(variants) => {
                endpoint["EndpointStatus"] = json!("InService");
                endpoint["ProductionVariants"] = json!(variants);
            }
            Err(e) => {
                endpoint["EndpointStatus"] = json!("Failed");
                endpoint["FailureReason"] = json!(e.message);
            }
        }
        self.insert(ENDPOINT, name, &endpoint, "endpoint", resuming)?;
        Ok(json!({"EndpointArn": arn}))
    }

    pub fn describe_endpoint(&self, name: &str) -> Result<Value, SageMakerError> {
        self.get(ENDPOINT, name, "endpoint")
    }

    pub fn list_endpoints(&self) -> Result<Vec<Value>, SageMakerError> {
        Ok(self.store.resources(ENDPOINT)?)
    }

    /// UpdateEndpoint: serves another endpoint config (a roll back is an update to an
    /// earlier config). The previous config name is kept in `PreviousEndpointConfigNames`.
    pub fn update_endpoint(&self, name: &str, config_name: &str) -> Result<Value, SageMakerError> {
        let mut endpoint = self.describe_endpoint(name)?;
        let variants = self.variants_of(config_name)?;
        let previous = endpoint["EndpointConfigName"].clone();
        let mut history = endpoint["PreviousEndpointConfigNames"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        history.push(previous);
        endpoint["PreviousEndpointConfigNames"] = json!(history);
        endpoint["EndpointConfigName"] = json!(config_name);
        endpoint["ProductionVariants"] = json!(variants);
        endpoint["EndpointStatus"] = json!("InService");
        endpoint["LastModifiedTime"] = json!(self.now_ms());
        if let Some(map) = endpoint.as_object_mut() {
            map.remove("FailureReason");
        }
        self.save(ENDPOINT, name, &endpoint)?;
        Ok(json!({"EndpointArn": endpoint["EndpointArn"]}))
    }

    pub fn delete_endpoint(&self, name: &str) -> Result<(), SageMakerError> {
        if !self.store.delete_resource(ENDPOINT, name)? {
            return Err(SageMakerError::validation(format!(
                "Could not find endpoint \"{name}\"."
            )));
        }
        self.notify();
        Ok(())
    }

    /// InvokeEndpoint with `text/csv`: one row of features per line in, one label per line out.
    pub fn invoke_endpoint(&self, name: &str, body: &str) -> Result<String, SageMakerError> {
        let endpoint = self.describe_endpoint(name)?;
        if endpoint["EndpointStatus"] != "InService" {
            return Err(SageMakerError::validation(format!(
                "Endpoint {name} is not InService"
            )));
        }
        let model_name = endpoint
            .pointer("/ProductionVariants/0/ModelName")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                SageMakerError::validation(format!("Endpoint {name} has no production variant"))
            })?;
        let model = self.load_model(model_name)?;
        let mut rows = Vec::new();
        for (i, line) in body
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            rows.push(
                parse_features(line.split(',').map(str::trim), "request", i + 1).map_err(|e| {
                    SageMakerError {
                        code: ErrorCode::ModelError,
                        message: e.to_string(),
                    }
                })?,
            );
        }
        let labels = model.predict(&rows).map_err(|e| SageMakerError {
            code: ErrorCode::ModelError,
            message: e.to_string(),
        })?;
        Ok(labels.join("\n"))
    }
}

fn training_channel(request: &Value) -> Result<String, SageMakerError> {
    request
        .get("InputDataConfig")
        .and_then(Value::as_array)
        .and_then(|channels| channels.iter().find(|c| c["ChannelName"] == "training"))
        .and_then(|c| c.pointer("/DataSource/S3DataSource/S3Uri"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            SageMakerError::validation(
                "InputDataConfig needs a 'training' channel with an S3DataSource.S3Uri",
            )
        })
}

fn write_file(path: &Path, text: &str) -> Result<(), SageMakerError> {
    let fail = |e: std::io::Error| SageMakerError {
        code: ErrorCode::InternalFailure,
        message: format!("cannot write {}: {e}", path.display()),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    // Write then rename, so a reader never sees half a file.
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, text).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}
