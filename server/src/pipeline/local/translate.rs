//! Translating the engine's answers into the port's terms: statuses, times, SageMaker
//! descriptions, and errors (store and I/O faults logged, shown as "unavailable").

use app::control_plane::PipelineError;
use app::models::pipeline::{
    Commit, Endpoint, EndpointConfig, ExecutionStatus, ProductionVariant, Timestamp, VariantNow,
};
use engine::api::{EngineError, ExecutionStatus as EngineStatus};
use engine::sagemaker::ErrorCode;
use engine::SageMakerError;
use serde_json::Value;

use crate::pipeline::parse_rfc3339;

pub(super) fn name_taken(name: &str, started: time::OffsetDateTime) -> PipelineError {
    PipelineError::Conflict(format!(
        "An execution named {name} already exists (started {}). Choose another name.",
        Timestamp(millis(started)).utc()
    ))
}

pub(super) fn millis(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub(super) fn commit_from_input(input: &str) -> Option<Commit> {
    let value: Value = serde_json::from_str(input).ok()?;
    Commit::parse(value.get("commitID")?.as_str()?)
}

pub(super) fn status_of(status: &EngineStatus) -> ExecutionStatus {
    match status {
        EngineStatus::Running => ExecutionStatus::Running,
        EngineStatus::Succeeded => ExecutionStatus::Succeeded,
        EngineStatus::Failed => ExecutionStatus::Failed,
        EngineStatus::TimedOut => ExecutionStatus::TimedOut,
        EngineStatus::Aborted => ExecutionStatus::Aborted,
    }
}

pub(super) fn engine_status(status: ExecutionStatus) -> EngineStatus {
    match status {
        ExecutionStatus::Running => EngineStatus::Running,
        ExecutionStatus::Succeeded => EngineStatus::Succeeded,
        ExecutionStatus::Failed => EngineStatus::Failed,
        ExecutionStatus::TimedOut => EngineStatus::TimedOut,
        ExecutionStatus::Aborted => EngineStatus::Aborted,
    }
}

pub(super) fn text(value: &Value, key: &str) -> Option<String> {
    value[key].as_str().map(str::to_string)
}

/// The engine writes SageMaker times as epoch milliseconds, as the SDK shapes them.
pub(super) fn time_of(value: &Value, key: &str) -> Option<Timestamp> {
    match &value[key] {
        Value::Number(n) => n.as_f64().map(|f| Timestamp(f as i64)),
        Value::String(s) => parse_rfc3339(s).map(Timestamp),
        _ => None,
    }
}

pub(super) fn endpoint_config(config: &Value) -> EndpointConfig {
    EndpointConfig {
        name: text(config, "EndpointConfigName").unwrap_or_default(),
        variants: config["ProductionVariants"]
            .as_array()
            .map(|variants| {
                variants
                    .iter()
                    .map(|v| ProductionVariant {
                        variant: text(v, "VariantName").unwrap_or_default(),
                        model_name: text(v, "ModelName").unwrap_or_default(),
                        instance_type: text(v, "InstanceType"),
                        instance_count: v["InitialInstanceCount"].as_i64().map(|n| n as i32),
                        weight: v["InitialVariantWeight"].as_f64().map(|w| w.to_string()),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        created: time_of(config, "CreationTime"),
    }
}

pub(super) fn endpoint(value: &Value) -> Endpoint {
    Endpoint {
        name: text(value, "EndpointName").unwrap_or_default(),
        config_name: text(value, "EndpointConfigName"),
        status: text(value, "EndpointStatus").unwrap_or_default(),
        pending_config_name: value
            .pointer("/PendingDeploymentSummary/EndpointConfigName")
            .and_then(Value::as_str)
            .map(str::to_string),
        created: time_of(value, "CreationTime"),
        modified: time_of(value, "LastModifiedTime"),
        failure_reason: text(value, "FailureReason"),
        variants: value["ProductionVariants"]
            .as_array()
            .map(|variants| {
                variants
                    .iter()
                    .map(|v| VariantNow {
                        variant: text(v, "VariantName").unwrap_or_default(),
                        weight: v.get("CurrentWeight").map(|w| match w {
                            Value::String(text) => text.clone(),
                            number => number.to_string(),
                        }),
                        instances: v
                            .get("CurrentInstanceCount")
                            .and_then(Value::as_i64)
                            .and_then(|n| i32::try_from(n).ok()),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Engine errors in the port's terms. Store and I/O faults are logged and shown as
/// "unavailable" without their detail.
pub(super) fn engine_error(error: EngineError) -> PipelineError {
    match error {
        EngineError::ExecutionDoesNotExist(arn) => PipelineError::NotFound(format!(
            "There is no execution {}.",
            arn.rsplit(':').next().unwrap_or(&arn)
        )),
        EngineError::StateMachineDoesNotExist(_) => {
            PipelineError::Unavailable("The pipeline's state machine is missing.".into())
        }
        EngineError::ExecutionAlreadyExists(m) => PipelineError::Conflict(m),
        EngineError::InvalidName(m)
        | EngineError::InvalidArn(m)
        | EngineError::InvalidExecutionInput(m)
        | EngineError::InvalidOutput(m)
        | EngineError::InvalidToken(m) => PipelineError::Invalid(m),
        EngineError::TaskDoesNotExist(m) | EngineError::TaskTimedOut(m) => {
            PipelineError::Conflict(m)
        }
        other
        @ (EngineError::InvalidDefinition(_) | EngineError::Store(_) | EngineError::Io(_)) => {
            tracing::error!(error = %other, "engine failure");
            PipelineError::Unavailable(
                "The local pipeline engine failed; see the server log.".into(),
            )
        }
    }
}

pub(super) fn sagemaker_error(error: SageMakerError) -> PipelineError {
    match error.code {
        ErrorCode::ResourceNotFound => PipelineError::NotFound(error.message),
        // SageMaker (and the engine, mirroring it) answers ValidationException "Could not
        // find endpoint …" for a missing endpoint or endpoint config, and "Endpoint X of
        // account Y not found." to an invocation of one; the port says NotFound, as the AWS
        // adapter does.
        ErrorCode::ValidationException
            if error.message.contains("Could not find")
                || error.message.ends_with(" not found.") =>
        {
            PipelineError::NotFound(error.message)
        }
        // "Cannot update in-progress endpoint …": the same words the AWS adapter reads.
        ErrorCode::ValidationException if error.message.contains("in-progress") => {
            PipelineError::Conflict(error.message)
        }
        ErrorCode::ValidationException | ErrorCode::ModelError => {
            PipelineError::Invalid(error.message)
        }
        ErrorCode::ResourceInUse => PipelineError::Conflict(error.message),
        ErrorCode::ModelNotReady => PipelineError::ModelNotReady(error.message),
        ErrorCode::InternalFailure => {
            tracing::error!(error = %error.message, "local SageMaker failure");
            PipelineError::Unavailable("The local SageMaker failed; see the server log.".into())
        }
    }
}

/// An invocation's error. The local model server answers rows it cannot read with 400 and a
/// sentence, which SageMaker passes on as a `ModelError` with that original status.
pub(super) fn invocation_error(error: SageMakerError) -> PipelineError {
    match error.code {
        ErrorCode::ModelError => PipelineError::ModelError {
            message: error.message,
            original_status: Some(400),
        },
        _ => sagemaker_error(error),
    }
}
