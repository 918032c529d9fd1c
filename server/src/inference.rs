//! The inference API under `/v1`, for scripts and CI (bearer tokens from `POST /auth/token`
//! or Cognito):
//!
//! - `POST /v1/invokeSagemakerAPI?sagemaker_endpoint=NAME` with `{"data": "<csv row>"}`
//!   answers `{"result": "<label>"}`, the sample's request and answer exactly (several rows,
//!   one per line, answer one label per line), with the variant that answered in
//!   `x-Amzn-Invoked-Production-Variant` as SageMaker's runtime names it.
//! - `GET /v1/endpoints` lists the endpoints the caller may invoke, with status and the
//!   commit each serves.
//!
//! Errors answer `{"code", "message"}` with SageMaker's meaning of the status (400
//! validation, 413 over 6 MB, 404 unknown or unmanaged endpoint, 424 model error, 429 not
//! ready or throttled with `Retry-After`, 401, 403, 503), never a bare 500. What is checked
//! and recorded is `app::functions::inference`, which the playground shares.

use app::functions::inference::{invocable, invoke};
use app::models::inference::{InvokeError, MAX_PAYLOAD_BYTES};
use app::state::{Caller, RequestOrigin, ServerContext};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

/// Room for the JSON around the rows: `{"data": "…"}` and the escapes of a few quotes.
const JSON_OVERHEAD: usize = 64 * 1024;
/// The most of a request body read before it is refused as too large.
const READ_AT_MOST: usize = 2 * MAX_PAYLOAD_BYTES;

pub fn routes<S: Clone + Send + Sync + 'static>(context: ServerContext) -> Router<S> {
    Router::new()
        .route("/invokeSagemakerAPI", post(invoke_sagemaker_api))
        .route("/endpoints", get(endpoints))
        .with_state(context)
}

/// An [`InvokeError`] as the API answers it.
struct ApiError(InvokeError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let body = Json(json!({"code": self.0.code(), "message": self.0.message()}));
        let mut response = (status, body).into_response();
        if let Some(seconds) = self.0.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[derive(Debug, Deserialize)]
struct InvokeQuery {
    sagemaker_endpoint: Option<String>,
}

#[derive(Debug, Deserialize)]
struct InvokeBody {
    data: serde_json::Value,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError(InvokeError::Invalid(message.into()))
}

async fn invoke_sagemaker_api(
    State(context): State<ServerContext>,
    Query(query): Query<InvokeQuery>,
    request: Request<Body>,
) -> Result<Response, ApiError> {
    let caller = request.extensions().get::<Caller>().cloned();
    let origin = request
        .extensions()
        .get::<RequestOrigin>()
        .cloned()
        .unwrap_or(RequestOrigin {
            request_id: "-".into(),
            source_ip: "-".into(),
        });
    let identity = caller.as_ref().and_then(Caller::identity);
    // Who is asking is settled before the body is read: an anonymous caller learns nothing
    // about endpoints or limits (and the refusal is recorded like any call).
    if identity.is_none() {
        let target = query.sagemaker_endpoint.as_deref().unwrap_or("-");
        let refusal = match invoke(&context, None, &origin, target, "").await {
            Err(error) => error,
            Ok(_) => InvokeError::NotSignedIn,
        };
        return Err(ApiError(refusal));
    }
    let endpoint = query
        .sagemaker_endpoint
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .ok_or_else(|| {
            invalid("Name the endpoint: POST /v1/invokeSagemakerAPI?sagemaker_endpoint=NAME.")
        })?;
    // Read a little past the limit, so a caller just over it hears why rather than having
    // the connection cut mid-request; far over it, reading stops at the bound.
    let too_large = || {
        ApiError(InvokeError::TooLarge(
            "The request is over 6 MB, SageMaker's limit for one call. Send fewer rows per \
             call."
                .into(),
        ))
    };
    let body = axum::body::to_bytes(request.into_body(), READ_AT_MOST)
        .await
        .map_err(|_| too_large())?;
    if body.len() > MAX_PAYLOAD_BYTES + JSON_OVERHEAD {
        return Err(too_large());
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(invalid(
            "The request has no body: send {\"data\": \"<comma-separated feature values>\"}.",
        ));
    }
    let parsed: InvokeBody = serde_json::from_slice(&body).map_err(|e| {
        invalid(format!(
            "The body is not the JSON this API takes ({e}): send {{\"data\": \
             \"<comma-separated feature values>\"}}."
        ))
    })?;
    let data = parsed.data.as_str().ok_or_else(|| {
        invalid("`data` must be a string of comma-separated values, one row per line.")
    })?;
    let answered = invoke(&context, identity, &origin, &endpoint, data)
        .await
        .map_err(ApiError)?;
    let result = answered.invocation.body.trim_end_matches(['\r', '\n']);
    let mut response = Json(json!({ "result": result })).into_response();
    if let Some(variant) = answered
        .invocation
        .variant
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        response
            .headers_mut()
            .insert("x-Amzn-Invoked-Production-Variant", variant);
    }
    Ok(response)
}

async fn endpoints(
    State(context): State<ServerContext>,
    request: Request<Body>,
) -> Result<Response, ApiError> {
    let identity = request
        .extensions()
        .get::<Caller>()
        .and_then(Caller::identity)
        .cloned()
        .ok_or(ApiError(InvokeError::NotSignedIn))?;
    if !identity.has(context.invoke_role) {
        return Err(ApiError(InvokeError::Forbidden(format!(
            "Invoking endpoints needs the {} role, which {} does not have.",
            context.invoke_role.as_str(),
            identity.username
        ))));
    }
    let listed = invocable(&context).await.map_err(ApiError)?;
    Ok(Json(json!({ "endpoints": listed })).into_response())
}
