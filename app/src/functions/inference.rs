//! Invoking the pipeline's endpoints (server only): the one path of the compatible API
//! (`/v1/invokeSagemakerAPI`) and the playground — who may, which endpoints, how often, and
//! the audit record every call leaves (who, endpoint, variant, rows, outcome, latency; never
//! the rows themselves).
//!
//! Only endpoints the pipeline manages can be invoked: the one its definition deploys every
//! approved model to, and those named after a commit ID (what the seed article's definition
//! creates, one per commit). The rest of the account is not reachable through Gatehouse.

use std::time::{Duration, Instant};

use crate::control_plane::PipelineError;
use crate::functions::audit_trail::entry_from;
use crate::models::audit::AuditOutcome;
use crate::models::commit_tags::ResourceKind;
use crate::models::endpoints::check_resource_name;
use crate::models::identity::Identity;
use crate::models::inference::{check_rows, InvocableEndpoint, Invocation, InvokeError, RowsError};
use crate::models::lineage::pipeline_endpoint;
use crate::models::pipeline::Commit;
use crate::state::{RequestOrigin, ServerContext};

/// The audit action of an invocation.
pub const INVOKE: &str = "endpoint.invoke";
/// What a caller is told to wait when the model is not ready.
const NOT_READY_RETRY_SECS: u64 = 5;
/// What a caller is told to wait when SageMaker throttles.
const THROTTLED_RETRY_SECS: u64 = 2;

/// An answered invocation.
#[derive(Debug, Clone)]
pub struct Answered {
    pub invocation: Invocation,
    pub rows: usize,
    pub latency: Duration,
}

/// Whether the pipeline manages `endpoint`: see the module's notes.
async fn managed(context: &ServerContext, endpoint: &str) -> Result<bool, InvokeError> {
    if Commit::parse(endpoint).is_some() {
        return Ok(true);
    }
    let definition = context.pipeline.definition().await.map_err(unavailable)?;
    Ok(pipeline_endpoint(&definition).as_deref() == Some(endpoint))
}

fn unavailable(error: PipelineError) -> InvokeError {
    InvokeError::Unavailable(error.to_string())
}

fn not_managed(endpoint: &str) -> InvokeError {
    InvokeError::NotFound(format!(
        "There is no pipeline endpoint named {endpoint}. GET /v1/endpoints lists the ones you \
         can invoke."
    ))
}

/// The port's error, as the caller is told it.
fn invoke_error(error: PipelineError, endpoint: &str) -> InvokeError {
    match error {
        PipelineError::NotFound(_) => not_managed(endpoint),
        PipelineError::Invalid(m) | PipelineError::Conflict(m) | PipelineError::TooLarge(m) => {
            InvokeError::Invalid(m)
        }
        PipelineError::ModelError {
            message,
            original_status,
        } => InvokeError::Model {
            message,
            original_status,
        },
        PipelineError::ModelNotReady(reason) => InvokeError::NotReady {
            message: format!(
                "Endpoint {endpoint} cannot answer yet ({}); try again in \
                 {NOT_READY_RETRY_SECS} s.",
                reason.trim().trim_end_matches('.')
            ),
            retry_after: NOT_READY_RETRY_SECS,
        },
        PipelineError::Throttled(message) => InvokeError::Throttled {
            message,
            retry_after: THROTTLED_RETRY_SECS,
        },
        PipelineError::AccessDenied(m) | PipelineError::Unavailable(m) => {
            InvokeError::Unavailable(m)
        }
    }
}

/// Checks and sends one invocation for `caller`, and records it. The record is durable
/// before the answer goes out; when the audit log cannot take it the caller gets 503 (the
/// model did answer, but an invocation must not go unrecorded).
pub async fn invoke(
    context: &ServerContext,
    caller: Option<&Identity>,
    origin: &RequestOrigin,
    endpoint: &str,
    data: &str,
) -> Result<Answered, InvokeError> {
    let started = Instant::now();
    let result = checked_invoke(context, caller, endpoint, data).await;
    let latency = started.elapsed();
    let (outcome, details) = match &result {
        Ok(answered) => (
            AuditOutcome::Success,
            serde_json::json!({
                "variant": answered.invocation.variant,
                "rows": answered.rows,
                "latency_ms": millis(answered.latency),
            }),
        ),
        Err(error) => (
            match error {
                InvokeError::Model { .. }
                | InvokeError::Unavailable(_)
                | InvokeError::NotReady { .. } => AuditOutcome::Failure,
                _ => AuditOutcome::Refused,
            },
            // The code and status only: a model's message may quote the rows it was sent.
            serde_json::json!({
                "error": error.code(),
                "status": error.status(),
                "latency_ms": millis(latency),
            }),
        ),
    };
    let target = crate::models::pipeline::shorten(endpoint, 80);
    let entry = entry_from(origin.clone(), caller, INVOKE, &target, outcome, details);
    if let Err(error) = context.audit.append(entry).await {
        tracing::error!(%error, "cannot record an invocation");
        return Err(InvokeError::Unavailable(
            "The audit log is unavailable, so Gatehouse answers no invocation now; try again \
             in a moment."
                .into(),
        ));
    }
    result
}

/// A duration in milliseconds, to two decimals (as the audit and the playground show it).
pub(crate) fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

async fn checked_invoke(
    context: &ServerContext,
    caller: Option<&Identity>,
    endpoint: &str,
    data: &str,
) -> Result<Answered, InvokeError> {
    let identity = caller.ok_or(InvokeError::NotSignedIn)?;
    let role = context.invoke_role;
    if !identity.has(role) {
        return Err(InvokeError::Forbidden(format!(
            "Invoking endpoints needs the {} role, which {} does not have.",
            role.as_str(),
            identity.username
        )));
    }
    if let Err(wait) = context.invoke_limiter.take(&identity.username) {
        let limit = context.invoke_limiter.limit();
        let retry_after = wait.as_secs_f64().ceil().max(1.0) as u64;
        return Err(InvokeError::Throttled {
            message: format!(
                "{} has used up the invocations allowed ({} a minute, {} at once); try again \
                 in {retry_after} s.",
                identity.username, limit.per_minute, limit.burst
            ),
            retry_after,
        });
    }
    check_resource_name("endpoint", endpoint).map_err(|e| InvokeError::Invalid(e.0))?;
    let rows = check_rows(data).map_err(|e| match e {
        RowsError::TooLarge(_) => InvokeError::TooLarge(e.message()),
        RowsError::Invalid(_) => InvokeError::Invalid(e.message()),
    })?;
    if !managed(context, endpoint).await? {
        return Err(not_managed(endpoint));
    }
    let started = Instant::now();
    let invocation = context
        .pipeline
        .invoke_endpoint(endpoint, data)
        .await
        .map_err(|e| invoke_error(e, endpoint))?;
    Ok(Answered {
        invocation,
        rows,
        latency: started.elapsed(),
    })
}

/// The endpoints a caller may invoke, with status and the commit each serves.
pub async fn invocable(context: &ServerContext) -> Result<Vec<InvocableEndpoint>, InvokeError> {
    let pipeline = context.pipeline.as_ref();
    let (endpoints, definition, tags) = tokio::join!(
        pipeline.endpoints(),
        pipeline.definition(),
        crate::functions::lineage::server::config_tags(pipeline),
    );
    let target = pipeline_endpoint(&definition.map_err(unavailable)?);
    let mut listed: Vec<InvocableEndpoint> = endpoints
        .map_err(unavailable)?
        .into_iter()
        .filter(|e| target.as_deref() == Some(e.name.as_str()) || Commit::parse(&e.name).is_some())
        .map(|e| InvocableEndpoint {
            pipeline_endpoint: target.as_deref() == Some(e.name.as_str()),
            commit: e
                .config_name
                .as_deref()
                .and_then(|c| tags.commit_of(ResourceKind::EndpointConfig, c)),
            config: e.config_name,
            status: e.status,
            name: e.name,
        })
        .collect();
    listed.sort_by(|a, b| {
        b.pipeline_endpoint
            .cmp(&a.pipeline_endpoint)
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(listed)
}
