//! Local implementations of the services a Task can call, chosen by the Resource ARN:
//! the optimized integrations (`arn:aws:states:::sagemaker:*`, `lambda:invoke`) and the
//! AWS SDK integration of SageMaker (`arn:aws:states:::aws-sdk:sagemaker:*`).

pub mod builtins;
pub mod lambda;

use crate::error::StatesError;
use crate::sagemaker::LocalSageMaker;
use lambda::LambdaRegistry;
use serde_json::{json, Value};
use std::sync::Arc;

/// One call of a service integration.
pub(crate) struct ServiceCall<'a> {
    pub service: &'a str,
    pub action: &'a str,
    pub params: &'a Value,
    /// The call was already made before a restart: answer from what exists.
    pub resuming: bool,
    pub execution_arn: &'a str,
    pub state_name: &'a str,
}

pub(crate) struct Services {
    pub sagemaker: Arc<LocalSageMaker>,
    pub lambdas: Arc<LambdaRegistry>,
}

fn unsupported(call: &ServiceCall<'_>) -> StatesError {
    StatesError::runtime(format!(
        "The service integration '{}:{}' used by state '{}' is not available in local mode",
        call.service, call.action, call.state_name
    ))
}

impl Services {
    /// The Request Response pattern (and the first half of `.waitForTaskToken`).
    pub async fn request(&self, call: &ServiceCall<'_>) -> Result<Value, StatesError> {
        match call.service {
            "sagemaker" => {
                self.sagemaker
                    .handle(call.action, call.params, call.resuming)
                    .await
            }
            "aws-sdk:sagemaker" => {
                self.sagemaker
                    .handle_sdk(call.action, call.params, call.resuming)
                    .await
            }
            "lambda" if call.action == "invoke" => {
                let name = call
                    .params
                    .get("FunctionName")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        StatesError::runtime(format!(
                            "state '{}': lambda:invoke needs FunctionName",
                            call.state_name
                        ))
                    })?;
                let payload = call.params.get("Payload").cloned().unwrap_or(json!({}));
                let output = self
                    .invoke_function(name, &payload, call.execution_arn, call.state_name)
                    .await?;
                Ok(json!({"ExecutedVersion": "$LATEST", "Payload": output, "StatusCode": 200}))
            }
            _ => Err(unsupported(call)),
        }
    }

    /// `.sync`, first half: start the job.
    pub async fn start_sync(&self, call: &ServiceCall<'_>) -> Result<Value, StatesError> {
        match call.service {
            "sagemaker" => {
                self.sagemaker
                    .handle(call.action, call.params, call.resuming)
                    .await
            }
            _ => Err(unsupported(call)),
        }
    }

    /// `.sync`, second half: wait for the job and return what its Describe call returns.
    pub async fn wait_sync(&self, call: &ServiceCall<'_>) -> Result<Value, StatesError> {
        match call.service {
            "sagemaker" => self.sagemaker.wait_for(call.action, call.params).await,
            _ => Err(unsupported(call)),
        }
    }

    pub async fn invoke_function(
        &self,
        name: &str,
        payload: &Value,
        execution_arn: &str,
        state_name: &str,
    ) -> Result<Value, StatesError> {
        self.lambdas
            .invoke(name, payload, execution_arn, state_name)
            .await
    }
}
