//! AWS errors in the port's terms. Every SDK error becomes one of the [`PipelineError`] kinds
//! with a message for the person looking at the page; the detail (code, AWS's message, the
//! connection error) goes to the log. Task tokens never appear in either: no request that
//! carries one is ever logged, and AWS does not echo them.

use app::control_plane::PipelineError;
use aws_sdk_sfn::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

/// Which AWS service answered, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    StepFunctions,
    SageMaker,
    SageMakerRuntime,
    S3,
    Tagging,
}

impl Service {
    pub fn label(self) -> &'static str {
        match self {
            Service::StepFunctions => "AWS Step Functions",
            Service::SageMaker => "Amazon SageMaker",
            Service::SageMakerRuntime => "the SageMaker runtime",
            Service::S3 => "Amazon S3",
            Service::Tagging => "the AWS Resource Groups Tagging API",
        }
    }
}

const THROTTLING: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
];

const ACCESS_DENIED: &[&str] = &[
    "AccessDeniedException",
    "AccessDenied",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredTokenException",
    "ExpiredToken",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "MissingAuthenticationToken",
    "NotAuthorized",
];

const NOT_FOUND: &[&str] = &[
    "ExecutionDoesNotExist",
    "StateMachineDoesNotExist",
    "ResourceNotFound",
    "ResourceNotFoundException",
    "NoSuchKey",
    "NoSuchBucket",
    "NotFound",
];

const CONFLICT: &[&str] = &[
    "ExecutionAlreadyExists",
    "InvalidToken",
    "TaskTimedOut",
    "TaskDoesNotExist",
    "ResourceInUse",
    "ConflictException",
];

const INVALID: &[&str] = &[
    "InvalidArn",
    "InvalidName",
    "InvalidExecutionInput",
    "InvalidOutput",
    "InvalidDefinition",
    "ValidationException",
    "ValidationError",
    "ModelError",
    "SerializationException",
    "InvalidParameterValue",
    "MissingRequiredParameter",
];

/// What went wrong with one call, as the port says it. `not_found` words the answer when the
/// thing asked about does not exist ("There is no execution X.").
pub fn sdk_error<E>(
    service: Service,
    operation: &str,
    not_found: impl FnOnce() -> String,
    error: SdkError<E, HttpResponse>,
) -> PipelineError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let label = service.label();
    if !matches!(error, SdkError::ServiceError(_)) {
        let detail = DisplayErrorContext(&error).to_string();
        tracing::warn!(service = label, operation, error = %detail, "AWS call failed before an answer");
        let lower = detail.to_ascii_lowercase();
        if lower.contains("credential") || lower.contains("identity") {
            return PipelineError::AccessDenied(format!(
                "Gatehouse has no usable AWS credentials for {label}; check the server's \
                 AWS settings (its role, profile or keys)."
            ));
        }
        return PipelineError::Unavailable(format!(
            "Gatehouse could not reach {label}; try again in a moment. If this persists, \
             check the server's network and AWS endpoint settings."
        ));
    }
    let code = error.code().unwrap_or_default().to_string();
    let message = error.message().unwrap_or_default().to_string();
    let status = match &error {
        SdkError::ServiceError(context) => Some(context.raw().status().as_u16()),
        _ => None,
    };
    tracing::warn!(
        service = label,
        operation,
        code,
        status,
        message,
        "AWS refused a call"
    );
    let lower = message.to_ascii_lowercase();
    let is = |codes: &[&str]| codes.contains(&code.as_str());
    if is(THROTTLING) {
        PipelineError::Throttled(format!(
            "{label} is throttling Gatehouse's requests and retrying did not get through; \
             try again in a moment."
        ))
    } else if is(ACCESS_DENIED) {
        PipelineError::AccessDenied(format!(
            "AWS refused Gatehouse's own credentials for {label} ({code} on {operation}): the \
             server's IAM role lacks a permission the pipeline needs. This is not about your \
             account; tell an administrator."
        ))
    } else if is(NOT_FOUND)
        || (is(INVALID) && (lower.contains("could not find") || lower.contains("not found")))
    {
        PipelineError::NotFound(not_found())
    } else if is(CONFLICT)
        || (is(INVALID) && (lower.contains("in-progress") || lower.contains("in progress")))
    {
        PipelineError::Conflict(format!("{label} refused: {}", readable(&message, &code)))
    } else if is(INVALID) {
        PipelineError::Invalid(format!(
            "{label} refused the request: {}",
            readable(&message, &code)
        ))
    } else {
        PipelineError::Unavailable(format!(
            "{label} failed to answer ({code}); try again in a moment."
        ))
    }
}

fn readable(message: &str, code: &str) -> String {
    if message.trim().is_empty() {
        code.to_string()
    } else {
        app::models::pipeline::shorten(message.trim(), 300)
    }
}
