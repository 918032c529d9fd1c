//! The SageMaker actions a Task state can call, in both forms Step Functions offers:
//! the optimized integration (`arn:aws:states:::sagemaker:createTrainingJob.sync`) and
//! the AWS SDK integration (`arn:aws:states:::aws-sdk:sagemaker:describeEndpoint`). Both
//! take the SageMaker API's parameters and return its response; they differ in the names
//! of their errors (see [`SageMakerError::to_sdk_states_error`]).

use super::{required, LocalSageMaker, SageMakerError, TRAINING_JOB, TRANSFORM_JOB};
use crate::error::{names, StatesError};
use serde_json::{json, Value};
use std::sync::Arc;

/// The actions the local SageMaker answers through the AWS SDK integration.
pub(crate) const SDK_ACTIONS: [&str; 16] = [
    "addTags",
    "createEndpoint",
    "createEndpointConfig",
    "createModel",
    "createTrainingJob",
    "createTransformJob",
    "deleteEndpoint",
    "deleteEndpointConfig",
    "deleteModel",
    "describeEndpoint",
    "describeEndpointConfig",
    "describeModel",
    "describeTrainingJob",
    "describeTransformJob",
    "listTags",
    "updateEndpoint",
];

impl LocalSageMaker {
    /// Runs one SageMaker action; `None` when the action is not one the local SageMaker
    /// knows.
    fn call(
        self: &Arc<Self>,
        action: &str,
        params: &Value,
        resuming: bool,
    ) -> Option<Result<Value, SageMakerError>> {
        let name_of = |field: &str| required(params, field).map(str::to_string);
        let done = |r: Result<(), SageMakerError>| r.map(|_| json!({}));
        Some(match action {
            "createTrainingJob" => self.create_training_job_inner(params, resuming),
            "createModel" => self.create_model_inner(params, resuming),
            "createTransformJob" => self.create_transform_job_inner(params, resuming),
            "createEndpointConfig" => self.create_endpoint_config_inner(params, resuming),
            "createEndpoint" => self.create_endpoint_inner(params, resuming),
            "updateEndpoint" => name_of("EndpointName").and_then(|n| {
                self.update_endpoint_inner(&n, required(params, "EndpointConfigName")?, resuming)
            }),
            "deleteEndpoint" => {
                done(name_of("EndpointName").and_then(|n| self.delete_endpoint_inner(&n, resuming)))
            }
            "deleteEndpointConfig" => {
                done(name_of("EndpointConfigName").and_then(|n| self.delete_endpoint_config(&n)))
            }
            "deleteModel" => done(name_of("ModelName").and_then(|n| self.delete_model(&n))),
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
            "addTags" | "listTags" => self.tags_request(action, params),
            _ => return None,
        })
    }

    /// An action of the optimized integration (`arn:aws:states:::sagemaker:<action>`).
    pub(crate) async fn handle(
        self: &Arc<Self>,
        action: &str,
        params: &Value,
        resuming: bool,
    ) -> Result<Value, StatesError> {
        match self.call(action, params, resuming) {
            Some(result) => result.map_err(|e| e.to_states_error()),
            None => Err(StatesError::runtime(format!(
                "The SageMaker action '{action}' is not available in local mode"
            ))),
        }
    }

    /// An action of the AWS SDK integration (`arn:aws:states:::aws-sdk:sagemaker:<action>`).
    pub(crate) async fn handle_sdk(
        self: &Arc<Self>,
        action: &str,
        params: &Value,
        resuming: bool,
    ) -> Result<Value, StatesError> {
        match self.call(action, params, resuming) {
            Some(result) => result.map_err(|e| e.to_sdk_states_error()),
            None => Err(StatesError::runtime(format!(
                "The resource provided arn:aws:states:::aws-sdk:sagemaker:{action} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region. (The local SageMaker answers: {}.)",
                SDK_ACTIONS.join(", ")
            ))),
        }
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
}
