//! SageMaker's errors, and the names a Task state sees for them — which differ between
//! the optimized integration (`arn:aws:states:::sagemaker:*`) and the AWS SDK
//! integration (`arn:aws:states:::aws-sdk:sagemaker:*`).

use crate::error::StatesError;
use crate::store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    ValidationException,
    ResourceNotFound,
    ResourceInUse,
    ModelError,
    /// The SageMaker runtime's `ModelNotReadyException`: the endpoint's model is still being
    /// deployed.
    ModelNotReady,
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
    pub(crate) fn validation(message: impl Into<String>) -> Self {
        SageMakerError {
            code: ErrorCode::ValidationException,
            message: message.into(),
        }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        SageMakerError {
            code: ErrorCode::ResourceNotFound,
            message: message.into(),
        }
    }

    /// Gatehouse's own refusals of a change to something another resource depends on.
    pub(crate) fn in_use(message: impl Into<String>) -> Self {
        SageMakerError {
            code: ErrorCode::ResourceInUse,
            message: message.into(),
        }
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        SageMakerError {
            code: ErrorCode::InternalFailure,
            message: message.into(),
        }
    }

    /// The error a Task state sees, as the optimized Step Functions SageMaker
    /// integration names it.
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
            ErrorCode::ModelNotReady => ("SageMaker.AmazonSageMakerException", "ModelNotReady"),
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

    /// The error a Task state sees through the AWS SDK integration.
    ///
    /// AWS documents the rule in "Learning to use AWS service SDK integrations in Step
    /// Functions" (docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html):
    /// the Error is `ServiceName.ErrorName`, both PascalCase, always with the `Exception`
    /// suffix (so SageMaker's modeled `ResourceNotFound` becomes
    /// `SageMaker.ResourceNotFoundException`). SageMaker's `ValidationException` is not a
    /// modeled error of its SDK, so it surfaces as the SDK's generic service exception,
    /// `SageMaker.SageMakerException` — which is what definitions catch around
    /// `describeEndpoint` to learn that an endpoint does not exist yet (SageMaker answers
    /// ValidationException "Could not find endpoint ...", not ResourceNotFound).
    pub fn to_sdk_states_error(&self) -> StatesError {
        let (name, status) = match self.code {
            ErrorCode::ResourceNotFound => ("SageMaker.ResourceNotFoundException", 400),
            ErrorCode::ResourceInUse => ("SageMaker.ResourceInUseException", 400),
            ErrorCode::ValidationException | ErrorCode::ModelError | ErrorCode::ModelNotReady => {
                ("SageMaker.SageMakerException", 400)
            }
            ErrorCode::InternalFailure => ("SageMaker.SageMakerException", 500),
        };
        StatesError::new(
            name,
            format!(
                "{} (Service: SageMaker, Status Code: {status}, Request ID: {})",
                self.message,
                uuid::Uuid::new_v4()
            ),
        )
    }
}

impl From<StoreError> for SageMakerError {
    fn from(e: StoreError) -> Self {
        SageMakerError::internal(e.to_string())
    }
}
