//! The functions local mode provides under fixed names: the approval request of the
//! seed pipeline and its "endpoint ready" notice. Both record a notification once per
//! execution step, so a step replayed after a restart does not notify twice.

use crate::clock::{epoch_millis, rfc3339, Clock};
use crate::integrations::lambda::{handler, FunctionError, LambdaRegistry};
use crate::store::Store;
use serde_json::{json, Value};
use std::sync::Arc;

/// The built-in function that records "approval requested" with a dashboard link.
pub const APPROVAL_NOTIFIER: &str = "gatehouse-approval-notifier";
/// The built-in function that records "endpoint ready".
pub const ENDPOINT_NOTIFIER: &str = "gatehouse-endpoint-notifier";

/// The built-in functions. The approval notifier never stores the task token in clear:
/// the dashboard reads it from the history server-side.
pub(crate) fn register_builtins(
    lambdas: &LambdaRegistry,
    store: &Arc<Store>,
    clock: &Arc<dyn Clock>,
    dashboard_url: &str,
) {
    let (approval_store, approval_clock, dashboard) = (
        store.clone(),
        clock.clone(),
        dashboard_url.trim_end_matches('/').to_string(),
    );
    lambdas.register(
        APPROVAL_NOTIFIER,
        handler(move |request| {
            let mut payload = request.payload.clone();
            let token_hash = payload
                .get("token")
                .and_then(Value::as_str)
                .map(|t| {
                    use sha2::Digest;
                    sha2::Sha256::digest(t.as_bytes()).iter().map(|b| format!("{b:02x}")).collect::<String>()
                });
            if let Some(map) = payload.as_object_mut() {
                map.remove("token");
            }
            let link = format!("{dashboard}/approvals?execution={}", request.execution_arn);
            let body = json!({"state": request.state_name, "link": link, "payload": payload, "tokenSha256": token_hash});
            approval_store
                .add_notification("approval_requested", Some(&request.execution_arn), &body, epoch_millis(approval_clock.now()))
                .map_err(|e| FunctionError { error: "Lambda.ServiceException".into(), cause: e.to_string() })?;
            Ok(json!({"notified": true, "link": link}))
        }),
    );
    let (endpoint_store, clock) = (store.clone(), clock.clone());
    lambdas.register(
        ENDPOINT_NOTIFIER,
        handler(move |request| {
            let body = json!({"state": request.state_name, "payload": request.payload, "at": rfc3339(clock.now())});
            endpoint_store
                .add_notification("endpoint_ready", Some(&request.execution_arn), &body, epoch_millis(clock.now()))
                .map_err(|e| FunctionError { error: "Lambda.ServiceException".into(), cause: e.to_string() })?;
            Ok(request.payload)
        }),
    );
}
