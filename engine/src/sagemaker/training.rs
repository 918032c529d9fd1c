//! Training jobs: CreateTrainingJob records the job and trains a decision tree on the
//! `training` channel in the background; the artifact goes under the job's output path.

use super::classifier::{parse_labelled_csv, TrainedModel};
use super::description::{request_object, Description};
use super::{check_name, required, s3, write_file, LocalSageMaker, SageMakerError, TRAINING_JOB};
use serde_json::{json, Value};
use std::sync::Arc;

impl LocalSageMaker {
    /// CreateTrainingJob: records the job and trains in the background.
    pub fn create_training_job(self: &Arc<Self>, request: &Value) -> Result<Value, SageMakerError> {
        self.create_training_job_inner(request, false)
    }

    pub(super) fn create_training_job_inner(
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
        let mut job = request_object(request)?;
        job.set("TrainingJobArn", json!(arn));
        job.set("TrainingJobStatus", json!("InProgress"));
        job.set("SecondaryStatus", json!("Starting"));
        job.set("CreationTime", json!(now));
        job.set("LastModifiedTime", json!(now));
        if self.insert(TRAINING_JOB, name, &job, "training job", resuming)? {
            self.spawn_training(name.to_string());
        }
        Ok(json!({"TrainingJobArn": arn}))
    }

    pub(super) fn spawn_training(self: &Arc<Self>, name: String) {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.run_training(&name));
    }

    fn run_training(&self, name: &str) {
        let Ok(Some(mut job)) = self.store.resource(TRAINING_JOB, name) else {
            return;
        };
        let started = self.now_ms();
        job.set("TrainingStartTime", json!(started));
        match self.train(&job, name) {
            Ok((artifact_uri, model)) => {
                job.set("TrainingJobStatus", json!("Completed"));
                job.set("SecondaryStatus", json!("Completed"));
                job.set("ModelArtifacts", json!({"S3ModelArtifacts": artifact_uri}));
                job.set(
                    "FinalMetricDataList",
                    json!([
                        {"MetricName": "train:accuracy", "Value": model.training_accuracy, "Timestamp": self.now_ms()}
                    ]),
                );
            }
            Err(e) => {
                job.set("TrainingJobStatus", json!("Failed"));
                job.set("SecondaryStatus", json!("Failed"));
                job.set("FailureReason", json!(e.message));
            }
        }
        let end = self.now_ms();
        job.set("TrainingEndTime", json!(end));
        job.set("LastModifiedTime", json!(end));
        job.set("TrainingTimeInSeconds", json!((end - started) / 1000));
        job.set("BillableTimeInSeconds", json!((end - started) / 1000));
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
}

fn training_channel(request: &Value) -> Result<String, SageMakerError> {
    request
        .get("InputDataConfig")
        .and_then(Value::as_array)
        .and_then(|channels| {
            channels
                .iter()
                .find(|c| c.field("ChannelName") == "training")
        })
        .and_then(|c| c.pointer("/DataSource/S3DataSource/S3Uri"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            SageMakerError::validation(
                "InputDataConfig needs a 'training' channel with an S3DataSource.S3Uri",
            )
        })
}
