//! The playground's form answer: `POST /playground` tries the request (the inference API's
//! one path: role, rate limit, managed endpoints, audit) and answers the playground page
//! itself with the result in it — so the form works without the browser running anything,
//! and the navigation island, which sends every form, shows the answer in place.

use app::functions::playground::server::{answer, Tried};
use app::models::inference::MAX_PAYLOAD_BYTES;
use app::routes::playground::TriedAnswer;
use app::state::{Caller, RequestOrigin, ServerContext};
use axum::body::Body;
use axum::http::{header, HeaderMap, Request};
use axum::response::Response;
use leptos::prelude::{provide_context, LeptosOptions};

/// The most of a form read: a thousand rows are far less; SageMaker's 6 MB is the bound
/// the answer explains.
const READ_AT_MOST: usize = 2 * MAX_PAYLOAD_BYTES;

/// This site's address as the browser reached it, for the curl command.
fn site(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

pub async fn try_request(
    context: ServerContext,
    options: LeptosOptions,
    request: Request<Body>,
) -> Response {
    let (parts, body) = request.into_parts();
    let caller = parts.extensions.get::<Caller>().cloned();
    let origin = parts
        .extensions
        .get::<RequestOrigin>()
        .cloned()
        .unwrap_or(RequestOrigin {
            request_id: "-".into(),
            source_ip: "-".into(),
        });
    let tried: Tried = match axum::body::to_bytes(body, READ_AT_MOST).await {
        Ok(bytes) => serde_urlencoded::from_bytes(&bytes).unwrap_or_default(),
        Err(_) => Tried::default(),
    };
    let answered = answer(
        &context,
        caller.as_ref().and_then(Caller::identity),
        &origin,
        &site(&parts.headers),
        &tried,
    )
    .await;
    let render = leptos_axum::render_app_async_with_context(
        move || {
            provide_context(context.clone());
            provide_context(TriedAnswer(answered.clone()));
        },
        move || app::shell(options.clone()),
    );
    render(Request::from_parts(parts, Body::empty())).await
}
