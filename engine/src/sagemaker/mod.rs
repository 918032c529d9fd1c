//! A local "SageMaker": training jobs that really train a decision tree, models, batch
//! transform jobs, endpoint configs and endpoints served in-process. Resources are stored
//! as the JSON documents SageMaker's Describe calls return, in the engine's SQLite file.
//!
//! Endpoints behave as SageMaker's do where a deployment depends on it: CreateEndpoint and
//! UpdateEndpoint return at once and the endpoint settles later (`Creating`/`Updating`,
//! then `InService` or `Failed`) after [`LocalSageMaker::endpoint_delay`]; an update whose
//! model cannot load is rolled back to the config that served before. See [`endpoints`].
//! Training is in `training.rs`.

pub mod classifier;
pub mod csv_text;
pub mod deployments;
mod description;
mod dispatch;
pub mod endpoints;
mod errors;
pub mod invocation;
mod model_cache;
pub mod s3;
pub mod tags;
mod training;

pub use deployments::EndpointDeployment;
pub use errors::{ErrorCode, SageMakerError};
pub use invocation::Invocation;
pub use tags::Tag;

use crate::asl::jsonpath::JsonPath;
use crate::clock::{epoch_millis, Clock};
use crate::store::Store;
use classifier::{parse_features, TrainedModel};
use description::{request_object, Description};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

const TRAINING_JOB: &str = "training-job";
const MODEL: &str = "model";
const TRANSFORM_JOB: &str = "transform-job";
const ENDPOINT_CONFIG: &str = "endpoint-config";
const ENDPOINT: &str = "endpoint";

/// How long a local endpoint stays `Creating`/`Updating` unless configured otherwise.
pub const DEFAULT_ENDPOINT_DELAY: Duration = Duration::from_secs(2);

pub struct LocalSageMaker {
    store: Arc<Store>,
    data_dir: PathBuf,
    clock: Arc<dyn Clock>,
    account: String,
    changes: watch::Sender<u64>,
    loaded_models: model_cache::ModelCache,
    endpoint_delay: Duration,
    /// Serialises the read-modify-write of endpoint documents (requests and the
    /// background task that settles a deployment).
    endpoint_lock: Mutex<()>,
    /// Set when the engine shuts down: its background work must not write any more
    /// (another engine may own the store by then).
    stopped: std::sync::atomic::AtomicBool,
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

/// A CSV record's fields as JSON values (numbers where they read as one), for
/// `DataProcessing.InputFilter`.
fn csv_record(fields: &[String]) -> Value {
    Value::Array(
        fields
            .iter()
            .map(|f| {
                f.parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .unwrap_or_else(|| Value::String(f.clone()))
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
            loaded_models: model_cache::ModelCache::default(),
            endpoint_delay: DEFAULT_ENDPOINT_DELAY,
            endpoint_lock: Mutex::new(()),
            stopped: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Stops settling endpoints in the background (the engine is shutting down).
    pub(crate) fn stop(&self) {
        self.stopped
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn is_stopped(&self) -> bool {
        self.stopped.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How long CreateEndpoint and UpdateEndpoint take before the endpoint settles
    /// (`InService`, `Failed`, or rolled back), measured on the engine's clock. Set it
    /// with `EngineConfig::endpoint_delay` (or this builder when building one directly).
    pub fn with_endpoint_delay(mut self, delay: Duration) -> Self {
        self.endpoint_delay = delay;
        self
    }

    pub fn endpoint_delay(&self) -> Duration {
        self.endpoint_delay
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
    /// existing one with that name is the answer instead of an error. The request's
    /// `Tags` are stored beside the resource (ListTags), not in it: Describe calls do not
    /// return tags.
    fn insert(
        &self,
        kind: &str,
        name: &str,
        body: &Value,
        label: &str,
        resuming: bool,
    ) -> Result<bool, SageMakerError> {
        let mut body = body.clone();
        let tags = tags::take_tags(&mut body)?;
        if self
            .store
            .insert_resource(kind, name, &body, self.now_ms())?
        {
            if !tags.is_empty() {
                self.add_tags(&self.arn(kind, name), &tags)?;
            }
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
            if job.field(field) != "InProgress" {
                return Ok(job);
            }
            if changes.changed().await.is_err() {
                return Ok(job);
            }
        }
    }

    /// Re-runs jobs left InProgress by a process that stopped while they ran, and settles
    /// endpoints it left Creating or Updating.
    pub fn resume_unfinished_jobs(self: &Arc<Self>) -> Result<usize, SageMakerError> {
        let mut resumed = 0;
        for job in self.store.resources(TRAINING_JOB)? {
            if job.field("TrainingJobStatus") == "InProgress" {
                if let Some(name) = job.field("TrainingJobName").as_str() {
                    self.spawn_training(name.to_string());
                    resumed += 1;
                }
            }
        }
        for job in self.store.resources(TRANSFORM_JOB)? {
            if job.field("TransformJobStatus") == "InProgress" {
                if let Some(name) = job.field("TransformJobName").as_str() {
                    self.spawn_transform(name.to_string());
                    resumed += 1;
                }
            }
        }
        resumed += self.resume_unsettled_endpoints()?;
        Ok(resumed)
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
        let mut model = request_object(request)?;
        model.set("ModelArn", json!(arn));
        model.set("CreationTime", json!(self.now_ms()));
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
        self.drop_tags(MODEL, name)?;
        self.notify();
        Ok(())
    }

    /// The model behind `model_name`, from memory once it has been read.
    fn load_model(&self, model_name: &str) -> Result<Arc<TrainedModel>, SageMakerError> {
        self.read_model(model_name, false)
    }

    /// Reads the model artifact again, as SageMaker does when it deploys a model to new
    /// instances: an artifact removed or damaged since it was last read fails here.
    fn deploy_model(&self, model_name: &str) -> Result<Arc<TrainedModel>, SageMakerError> {
        self.read_model(model_name, true)
    }

    fn read_model(
        &self,
        model_name: &str,
        fresh: bool,
    ) -> Result<Arc<TrainedModel>, SageMakerError> {
        let model = self.describe_model(model_name)?;
        let url = model
            .pointer("/PrimaryContainer/ModelDataUrl")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                SageMakerError::validation(format!("model {model_name} has no ModelDataUrl"))
            })?;
        let path = self.local_path(url)?;
        if !fresh {
            if let Some(model) = self.loaded_models.get(&path) {
                return Ok(model);
            }
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            SageMakerError::validation(format!("cannot read the model artifact {url}: {e}"))
        })?;
        let loaded = Arc::new(
            TrainedModel::from_json(&text)
                .map_err(|e| SageMakerError::validation(format!("{url}: {e}")))?,
        );
        self.loaded_models.insert(path, loaded.clone());
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
        let mut job = request_object(request)?;
        job.set("TransformJobArn", json!(arn));
        job.set("TransformJobStatus", json!("InProgress"));
        job.set("CreationTime", json!(now));
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
        job.set("TransformStartTime", json!(self.now_ms()));
        match self.transform(&job) {
            Ok(()) => job.set("TransformJobStatus", json!("Completed")),
            Err(e) => {
                job.set("TransformJobStatus", json!("Failed"));
                job.set("FailureReason", json!(e.message));
            }
        }
        job.set("TransformEndTime", json!(self.now_ms()));
        let _ = self.save(TRANSFORM_JOB, name, &job);
    }

    fn transform(&self, job: &Value) -> Result<(), SageMakerError> {
        let model = self.load_model(job.field("ModelName").as_str().unwrap_or_default())?;
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
        // The filter reads the CSV record only: no context object and no variables.
        let no_variables = crate::asl::variables::Variables::new();
        for file in files {
            let source = file
                .file_name()
                .map(|f| f.to_string_lossy().to_string())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&file).map_err(|e| {
                SageMakerError::validation(format!("ClientError: cannot read {source}: {e}"))
            })?;
            let mut rows = Vec::new();
            for row in csv_text::records(&text) {
                let record = csv_record(&row.fields);
                let selected = filter
                    .select(&crate::asl::variables::Sources::new(
                        &record,
                        &Value::Null,
                        &no_variables,
                    ))
                    .map_err(|e| {
                        SageMakerError::validation(format!(
                            "ClientError: {source} line {}: InputFilter: {e}",
                            row.line
                        ))
                    })?;
                rows.push(feature_values(&selected, &source, row.line)?);
            }
            let labels = model
                .predict(&rows)
                .map_err(|e| SageMakerError::validation(format!("ClientError: {source}: {e}")))?;
            write_file(
                &out_dir.join(format!("{source}.out")),
                &csv_text::column(&labels),
            )?;
        }
        Ok(())
    }

    pub fn describe_transform_job(&self, name: &str) -> Result<Value, SageMakerError> {
        self.get(TRANSFORM_JOB, name, "transform job")
    }

    pub fn list_transform_jobs(&self) -> Result<Vec<Value>, SageMakerError> {
        Ok(self.store.resources(TRANSFORM_JOB)?)
    }
}

fn model_error(message: impl Into<String>) -> SageMakerError {
    SageMakerError {
        code: ErrorCode::ModelError,
        message: message.into(),
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), SageMakerError> {
    let fail = |e: std::io::Error| {
        SageMakerError::internal(format!("cannot write {}: {e}", path.display()))
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    // Write then rename, so a reader never sees half a file.
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, text).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}
